//! DKIM signing (RSA or Ed25519) with a key from `HUNDRED_DKIM_KEY_FILE`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lettre::Message;
use lettre::message::dkim::{
    DkimCanonicalization, DkimCanonicalizationType, DkimConfig, DkimSigningAlgorithm,
    DkimSigningKey,
};
use lettre::message::header::HeaderName;

use crate::config::{ConfigError, DkimSettings};

/// The headers the signature covers: what identifies the message and what a receiver acts
/// on (one-click unsubscribe among them).
const SIGNED_HEADERS: [&str; 10] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "List-Unsubscribe",
    "List-Unsubscribe-Post",
    "List-Id",
    "MIME-Version",
];

/// The DER prefix of a PKCS#8 Ed25519 private key; the 32-byte seed follows it.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

pub struct DkimSigner {
    config: DkimConfig,
    pub domain: String,
    pub selector: String,
}

impl std::fmt::Debug for DkimSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "DkimSigner({}._domainkey.{}, key redacted)",
            self.selector, self.domain
        )
    }
}

impl DkimSigner {
    /// Reads the key: an RSA key in PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), an Ed25519 key in
    /// PKCS#8 PEM (`BEGIN PRIVATE KEY`, as `openssl genpkey -algorithm ed25519` writes), or
    /// an Ed25519 seed in base64.
    pub fn load(domain: &str, selector: &str, path: &std::path::Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|err| format!("could not read {}: {err}", path.display()))?;
        let key = parse_key(&text)?;
        let headers = SIGNED_HEADERS
            .iter()
            .map(|name| HeaderName::new_from_ascii_str(name))
            .collect();
        let canonicalization = DkimCanonicalization {
            header: DkimCanonicalizationType::Relaxed,
            body: DkimCanonicalizationType::Relaxed,
        };
        Ok(Self {
            config: DkimConfig::new(
                selector.to_string(),
                domain.to_string(),
                key,
                headers,
                canonicalization,
            ),
            domain: domain.to_string(),
            selector: selector.to_string(),
        })
    }

    /// Builds the signer from the configured settings at start-up; a key that cannot be
    /// used is a configuration error naming `HUNDRED_DKIM_KEY_FILE`.
    pub fn from_settings(settings: &DkimSettings) -> Result<Self, ConfigError> {
        Self::load(&settings.domain, &settings.selector, &settings.key_file)
            .map_err(|problem| ConfigError::new("HUNDRED_DKIM_KEY_FILE", problem))
    }

    pub fn sign(&self, message: &mut Message) {
        lettre::message::dkim::dkim_sign(message, &self.config);
    }
}

fn parse_key(text: &str) -> Result<DkimSigningKey, String> {
    let text = text.trim();
    if text.contains("BEGIN RSA PRIVATE KEY") {
        return DkimSigningKey::new(text, DkimSigningAlgorithm::Rsa)
            .map_err(|err| format!("not a usable RSA key: {err}"));
    }
    if text.contains("BEGIN PRIVATE KEY") {
        let body: String = text
            .lines()
            .filter(|line| !line.starts_with("-----"))
            .collect();
        let der = STANDARD
            .decode(body.trim())
            .map_err(|_| "the PEM body is not base64".to_string())?;
        if der.len() == 48 && der[..16] == ED25519_PKCS8_PREFIX {
            let seed = STANDARD.encode(&der[16..]);
            return DkimSigningKey::new(&seed, DkimSigningAlgorithm::Ed25519)
                .map_err(|err| format!("not a usable Ed25519 key: {err}"));
        }
        return Err("a PKCS#8 RSA key: convert it to PKCS#1 with \
            `openssl pkey -in key.pem -traditional -out key.rsa.pem`"
            .into());
    }
    DkimSigningKey::new(text, DkimSigningAlgorithm::Ed25519).map_err(|_| {
        "expected an RSA key in PEM, an Ed25519 key in PKCS#8 PEM, or a base64 Ed25519 seed".into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_that_cannot_be_read_names_its_variable() {
        let settings = |key_file: &str| DkimSettings {
            domain: "bakery.example".into(),
            selector: "s1".into(),
            key_file: key_file.into(),
        };
        let err = DkimSigner::from_settings(&settings("/nonexistent/key.pem")).unwrap_err();
        assert_eq!(err.variable, "HUNDRED_DKIM_KEY_FILE");
        assert!(err.problem.contains("/nonexistent/key.pem"));
        let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dkim-rsa.pem");
        let signer = DkimSigner::from_settings(&settings(key)).unwrap();
        assert!(
            !format!("{signer:?}").contains("PRIVATE"),
            "the key is never printed"
        );
    }
}
