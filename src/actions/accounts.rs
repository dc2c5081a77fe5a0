//! The owner's accounts: password rules, argon2 hashing (always off the async executor,
//! since one hash takes tens of milliseconds of CPU), creating an account (`hundred user
//! create`), and the one-time setup link printed at the first start.

use anyhow::Context as _;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Argon2, password_hash::rand_core::OsRng};

use super::Services;
use crate::domain::SubscriberEmail;
pub use crate::signing::random_secret;
use crate::store::{OwnerAccount, OwnerError, Store};

pub const MIN_PASSWORD_CHARS: usize = 10;
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Why an email address or password cannot be used for an account.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AccountError {
    #[error("{0}")]
    Email(String),
    #[error("the password must be at least {MIN_PASSWORD_CHARS} characters long")]
    PasswordTooShort,
    #[error("the password must be at most {MAX_PASSWORD_BYTES} bytes long")]
    PasswordTooLong,
}

/// The address an owner logs in with: checked like a subscriber's, kept in lower case so
/// logging in does not depend on how it was typed.
pub fn parse_owner_email(raw: &str) -> Result<String, AccountError> {
    SubscriberEmail::parse(raw)
        .map(|email| email.as_ref().to_lowercase())
        .map_err(|err| AccountError::Email(err.to_string()))
}

pub fn check_password(password: &str) -> Result<(), AccountError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AccountError::PasswordTooLong);
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AccountError::PasswordTooShort);
    }
    Ok(())
}

/// Hashes a password with argon2id (a random salt per hash), on a blocking thread.
pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|hash| hash.to_string())
            .map_err(|err| anyhow::anyhow!("hashing the password: {err}"))
    })
    .await
    .context("the password hashing task did not finish")?
}

/// Whether `password` matches `stored` (a PHC string), on a blocking thread.
pub async fn verify_password(password: String, stored: String) -> anyhow::Result<bool> {
    tokio::task::spawn_blocking(move || {
        let parsed = PasswordHash::new(&stored)
            .map_err(|err| anyhow::anyhow!("a stored password hash does not parse: {err}"))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await
    .context("the password checking task did not finish")?
}

/// A hash of a random password, verified against when a login names an unknown address,
/// so that answer takes as long as a wrong password for a known one: made once, so such a
/// login costs one verification, like any other.
pub async fn decoy_hash() -> anyhow::Result<String> {
    static DECOY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    DECOY
        .get_or_try_init(|| hash_password(random_secret()))
        .await
        .cloned()
}

#[derive(Debug, thiserror::Error)]
pub enum CreateOwnerError {
    #[error(transparent)]
    Invalid(#[from] AccountError),
    #[error("an account with that email address already exists")]
    EmailTaken,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<OwnerError> for CreateOwnerError {
    fn from(err: OwnerError) -> Self {
        match err {
            OwnerError::EmailTaken => Self::EmailTaken,
            OwnerError::Unexpected(err) => Self::Unexpected(err),
        }
    }
}

/// Creates an owner account (`hundred user create`).
pub async fn create_owner(
    services: &Services,
    email: &str,
    password: &str,
) -> Result<OwnerAccount, CreateOwnerError> {
    let email = parse_owner_email(email)?;
    check_password(password)?;
    let hash = hash_password(password.to_string()).await?;
    Ok(services.store.create_owner(&email, &hash).await?)
}

/// Why an API token was not made.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("Give the token a name of one line and at most 100 characters, such as “website”.")]
    Name,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// Makes an API token named `name` (one line, 1 to 100 characters, so the token list stays
/// readable); the token itself, shown once (`hundred token create`, the tokens page).
pub async fn create_api_token(
    services: &Services,
    name: &str,
) -> Result<(String, String), TokenError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(TokenError::Name);
    }
    let token = services.store.create_api_token(name).await?;
    Ok((name.to_string(), token))
}

/// At start-up with no owner account yet: a fresh one-time setup link (the previous one,
/// if any, stops working). `None` once an owner exists.
pub async fn issue_setup_link(store: &Store, public_base: &str) -> anyhow::Result<Option<String>> {
    if store.owner_count().await? > 0 {
        return Ok(None);
    }
    let token = random_secret();
    store.set_setup_token(&token).await?;
    Ok(Some(format!("{public_base}/admin/setup/{token}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_have_a_minimum_and_a_maximum_length() {
        assert_eq!(check_password("short"), Err(AccountError::PasswordTooShort));
        assert_eq!(check_password("ten chars!"), Ok(()));
        assert_eq!(
            check_password("ñññññññññ"),
            Err(AccountError::PasswordTooShort)
        );
        assert_eq!(
            check_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(AccountError::PasswordTooLong)
        );
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery".into(), hash.clone())
                .await
                .unwrap()
        );
        assert!(
            !verify_password("correct horse battery!".into(), hash)
                .await
                .unwrap()
        );
    }

    #[test]
    fn secrets_are_long_and_different() {
        let (a, b) = (random_secret(), random_secret());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
    }
}
