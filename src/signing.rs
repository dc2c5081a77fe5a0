//! Signed, unguessable tokens for links in mail and for the hosted form.
//!
//! A token is `base64url(payload ‖ tag)`: the payload names what the token is for, the
//! subscriber, and when it expires; the tag is a truncated HMAC-SHA256 over the payload
//! under the instance's secret key. Nothing is stored per token, so any instance sharing
//! the database (and so the key) can check any token.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// 128 bits of tag: forging one takes 2^128 guesses.
const TAG_LEN: usize = 16;
const PAYLOAD_LEN: usize = 1 + 16 + 8;
/// 80 bits in reply and bounce addresses, where length matters more.
const ADDRESS_TAG_LEN: usize = 10;

/// What a token lets its holder do. Part of the signed payload, so a token for one
/// purpose never works for another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum TokenPurpose {
    Confirm = 1,
    Unsubscribe = 2,
    /// Proves when the hosted form was shown, for the minimum fill time.
    FormShown = 3,
    /// The open pixel of one delivery.
    Open = 4,
    /// One link of one delivery; the value is the link's id.
    Click = 5,
    /// The reply address of one delivery.
    Reply = 6,
    /// The per-recipient envelope sender (VERP) of one delivery.
    Bounce = 7,
    /// The "keep me" answer to a re-permission request.
    Keep = 8,
    /// A browser the owner has logged in with (its own login limit); the subject is the
    /// owner's account.
    Device = 9,
    /// The web version of one delivery (`/v/…`).
    WebVersion = 10,
    /// A subscriber's own page (`/me/…`); it lasts as long as they are on the list.
    Reader = 11,
}

impl TokenPurpose {
    fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(Self::Confirm),
            2 => Some(Self::Unsubscribe),
            3 => Some(Self::FormShown),
            4 => Some(Self::Open),
            5 => Some(Self::Click),
            6 => Some(Self::Reply),
            7 => Some(Self::Bounce),
            8 => Some(Self::Keep),
            9 => Some(Self::Device),
            10 => Some(Self::WebVersion),
            11 => Some(Self::Reader),
            _ => None,
        }
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the link is not valid")]
    Invalid,
    #[error("the link has expired")]
    Expired,
}

/// A verified token's contents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claims {
    pub subject: Uuid,
    /// For tokens that expire, when; for the form token, when it was issued.
    pub time: Option<OffsetDateTime>,
}

#[derive(Clone)]
pub struct Signer {
    key: HmacSha256,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Signer([redacted])")
    }
}

impl Signer {
    pub fn new(secret: &[u8]) -> Self {
        // HMAC accepts keys of any length.
        let key = HmacSha256::new_from_slice(secret).unwrap_or_else(|_| unreachable_hmac());
        Self { key }
    }

    /// A token for `purpose` about `subject`. `time` is an expiry (or issue time for the
    /// form token); `None` for tokens that never expire, like unsubscribe links.
    pub fn sign(
        &self,
        purpose: TokenPurpose,
        subject: Uuid,
        time: Option<OffsetDateTime>,
    ) -> String {
        self.sign_value(
            purpose,
            subject,
            time.map(|t| t.unix_timestamp()).unwrap_or(0),
        )
    }

    /// A token carrying a number besides its subject (a link id for clicks).
    pub fn sign_value(&self, purpose: TokenPurpose, subject: Uuid, value: i64) -> String {
        let mut bytes = Vec::with_capacity(PAYLOAD_LEN + TAG_LEN);
        bytes.push(purpose as u8);
        bytes.extend_from_slice(subject.as_bytes());
        bytes.extend_from_slice(&value.to_be_bytes());
        let tag = self.tag(&bytes);
        bytes.extend_from_slice(&tag[..TAG_LEN]);
        URL_SAFE_NO_PAD.encode(bytes)
    }

    /// A confirmation token valid for `valid_for` from `now`.
    pub fn confirm_token(
        &self,
        subscriber: Uuid,
        now: OffsetDateTime,
        valid_for: Duration,
    ) -> String {
        self.sign(TokenPurpose::Confirm, subscriber, Some(now + valid_for))
    }

    pub fn unsubscribe_token(&self, subscriber: Uuid) -> String {
        self.sign(TokenPurpose::Unsubscribe, subscriber, None)
    }

    /// A subscriber's own page (`/me/…`). It does not expire; it stops working when they
    /// are erased (their id is never given again).
    pub fn reader_token(&self, subscriber: Uuid) -> String {
        self.sign(TokenPurpose::Reader, subscriber, None)
    }

    /// The web version of one delivered copy (`/v/…`).
    pub fn web_version_token(&self, delivery: Uuid) -> String {
        self.sign(TokenPurpose::WebVersion, delivery, None)
    }

    /// A re-permission request's "keep me" link. It does not expire: a late answer still
    /// counts while the person is on the list.
    pub fn keep_token(&self, subscriber: Uuid) -> String {
        self.sign(TokenPurpose::Keep, subscriber, None)
    }

    /// Checks a token made by `sign_value` and returns its subject and number.
    pub fn verify_value(
        &self,
        purpose: TokenPurpose,
        token: &str,
    ) -> Result<(Uuid, i64), TokenError> {
        let (subject, value) = self.open(purpose, token)?;
        Ok((subject, value))
    }

    /// Checks the tag (in constant time) and the purpose; does not check expiry.
    pub fn verify(&self, purpose: TokenPurpose, token: &str) -> Result<Claims, TokenError> {
        let (subject, seconds) = self.open(purpose, token)?;
        let time = if seconds == 0 {
            None
        } else {
            Some(OffsetDateTime::from_unix_timestamp(seconds).map_err(|_| TokenError::Invalid)?)
        };
        Ok(Claims { subject, time })
    }

    fn open(&self, purpose: TokenPurpose, token: &str) -> Result<(Uuid, i64), TokenError> {
        if token.len() > 128 {
            return Err(TokenError::Invalid);
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(token.as_bytes())
            .map_err(|_| TokenError::Invalid)?;
        if bytes.len() != PAYLOAD_LEN + TAG_LEN {
            return Err(TokenError::Invalid);
        }
        let (payload, tag) = bytes.split_at(PAYLOAD_LEN);
        let mut mac = self.key.clone();
        mac.update(payload);
        mac.verify_truncated_left(tag)
            .map_err(|_| TokenError::Invalid)?;
        if TokenPurpose::from_byte(payload[0]) != Some(purpose) {
            return Err(TokenError::Invalid);
        }
        let subject = Uuid::from_slice(&payload[1..17]).map_err(|_| TokenError::Invalid)?;
        let mut value = [0u8; 8];
        value.copy_from_slice(&payload[17..25]);
        Ok((subject, i64::from_be_bytes(value)))
    }

    /// A token for an email address's local part (`reply+TOKEN@…`): lower-case base32,
    /// because mail systems may change the case of local parts. 16 bytes of delivery id and
    /// a 10-byte tag make 42 characters.
    pub fn address_token(&self, purpose: TokenPurpose, subject: Uuid) -> String {
        let mut bytes = Vec::with_capacity(26);
        bytes.extend_from_slice(subject.as_bytes());
        let tag = self.tag(&[&[purpose as u8][..], subject.as_bytes()].concat());
        bytes.extend_from_slice(&tag[..ADDRESS_TAG_LEN]);
        data_encoding::BASE32_NOPAD
            .encode(&bytes)
            .to_ascii_lowercase()
    }

    pub fn verify_address_token(
        &self,
        purpose: TokenPurpose,
        token: &str,
    ) -> Result<Uuid, TokenError> {
        if token.len() > 64 {
            return Err(TokenError::Invalid);
        }
        let bytes = data_encoding::BASE32_NOPAD
            .decode(token.to_ascii_uppercase().as_bytes())
            .map_err(|_| TokenError::Invalid)?;
        if bytes.len() != 16 + ADDRESS_TAG_LEN {
            return Err(TokenError::Invalid);
        }
        let (id, tag) = bytes.split_at(16);
        let mut mac = self.key.clone();
        mac.update(&[purpose as u8]);
        mac.update(id);
        mac.verify_truncated_left(tag)
            .map_err(|_| TokenError::Invalid)?;
        Uuid::from_slice(id).map_err(|_| TokenError::Invalid)
    }

    /// Verifies a token whose time is an expiry, refusing it after that moment.
    pub fn verify_unexpired(
        &self,
        purpose: TokenPurpose,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<Claims, TokenError> {
        let claims = self.verify(purpose, token)?;
        match claims.time {
            Some(expiry) if expiry < now => Err(TokenError::Expired),
            _ => Ok(claims),
        }
    }

    fn tag(&self, payload: &[u8]) -> [u8; 32] {
        let mut mac = self.key.clone();
        mac.update(payload);
        mac.finalize().into_bytes().into()
    }
}

fn unreachable_hmac() -> HmacSha256 {
    // `new_from_slice` only fails for fixed-size-key MACs; HMAC takes any length.
    panic!("HMAC-SHA256 rejected a key, which it never does")
}

/// 256 random bits, URL-safe: session ids, CSRF tokens, the setup link's token, API tokens.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn signer() -> Signer {
        Signer::new(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn a_token_verifies_for_its_purpose_only() {
        let id = Uuid::new_v4();
        let token = signer().unsubscribe_token(id);
        assert_eq!(
            signer()
                .verify(TokenPurpose::Unsubscribe, &token)
                .unwrap()
                .subject,
            id
        );
        assert_eq!(
            signer().verify(TokenPurpose::Confirm, &token),
            Err(TokenError::Invalid)
        );
    }

    #[test]
    fn another_key_or_a_changed_byte_is_refused() {
        let id = Uuid::new_v4();
        let token = signer().unsubscribe_token(id);
        let other = Signer::new(b"another key entirely, 32 bytes!!");
        assert_eq!(
            other.verify(TokenPurpose::Unsubscribe, &token),
            Err(TokenError::Invalid)
        );
        let mut bytes = URL_SAFE_NO_PAD.decode(&token).unwrap();
        bytes[5] ^= 1;
        let tampered = URL_SAFE_NO_PAD.encode(bytes);
        assert_eq!(
            signer().verify(TokenPurpose::Unsubscribe, &tampered),
            Err(TokenError::Invalid)
        );
        for junk in ["", "abc", "!!!!", &"A".repeat(500)] {
            assert_eq!(
                signer().verify(TokenPurpose::Unsubscribe, junk),
                Err(TokenError::Invalid)
            );
        }
    }

    #[test]
    fn address_tokens_survive_case_changes_and_refuse_forgeries() {
        let id = Uuid::new_v4();
        let token = signer().address_token(TokenPurpose::Reply, id);
        assert_eq!(token.len(), 42);
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        );
        assert_eq!(
            signer().verify_address_token(TokenPurpose::Reply, &token),
            Ok(id)
        );
        assert_eq!(
            signer().verify_address_token(TokenPurpose::Reply, &token.to_uppercase()),
            Ok(id)
        );
        assert_eq!(
            signer().verify_address_token(TokenPurpose::Bounce, &token),
            Err(TokenError::Invalid)
        );
        let mut forged = token.clone().into_bytes();
        forged[3] = if forged[3] == b'a' { b'b' } else { b'a' };
        assert!(
            signer()
                .verify_address_token(TokenPurpose::Reply, std::str::from_utf8(&forged).unwrap())
                .is_err()
        );
    }

    #[test]
    fn click_tokens_carry_their_link() {
        let id = Uuid::new_v4();
        let token = signer().sign_value(TokenPurpose::Click, id, 42);
        assert_eq!(
            signer().verify_value(TokenPurpose::Click, &token),
            Ok((id, 42))
        );
        assert!(signer().verify_value(TokenPurpose::Open, &token).is_err());
    }

    #[test]
    fn confirmation_tokens_expire() {
        let now = OffsetDateTime::now_utc();
        let id = Uuid::new_v4();
        let token = signer().confirm_token(id, now, Duration::days(7));
        assert!(
            signer()
                .verify_unexpired(TokenPurpose::Confirm, &token, now + Duration::days(6))
                .is_ok()
        );
        assert_eq!(
            signer().verify_unexpired(TokenPurpose::Confirm, &token, now + Duration::days(8)),
            Err(TokenError::Expired)
        );
    }
}
