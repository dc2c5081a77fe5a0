//! Instance-wide settings kept in the database, shared by every instance on it.

use anyhow::Context as _;
use sha2::{Digest, Sha256};

use super::{Store, Timestamp, with_pool};

const SECRET_KEY: &str = "secret_key";

impl Store {
    /// The signing key every instance on this database shares: `proposed` is stored if no
    /// key is stored yet, otherwise the stored one wins (so two instances starting at once
    /// still agree).
    pub async fn secret_key_or_store(&self, proposed: &str) -> anyhow::Result<String> {
        with_pool!(self, pool => {
            sqlx::query("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING")
                .bind(SECRET_KEY)
                .bind(proposed)
                .execute(pool)
                .await
                .context("storing the generated secret key")?;
            sqlx::query_scalar::<_, String>("SELECT value FROM settings WHERE key = $1")
                .bind(SECRET_KEY)
                .fetch_one(pool)
                .await
                .context("reading the stored secret key")
        })
    }

    /// What is kept under `key`, if anything.
    pub async fn setting(&self, key: &str) -> anyhow::Result<Option<String>> {
        with_pool!(self, pool => sqlx::query_scalar::<_, String>(
            "SELECT value FROM settings WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(pool)
        .await
        .context("reading a setting"))
    }

    /// Keeps `value` under `key`, replacing what was there.
    pub async fn put_setting(&self, key: &str, value: &str) -> anyhow::Result<()> {
        with_pool!(self, pool => sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(pool)
        .await
        .map(|_| ())
        .context("keeping a setting"))
    }

    /// Records a consent text and returns its version: the first 12 hex digits of its
    /// SHA-256, so the same words always have the same version on every instance.
    pub async fn register_consent_text(&self, text: &str) -> anyhow::Result<String> {
        let version = consent_text_version(text);
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO consent_texts (version, text, first_shown_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (version) DO NOTHING",
            )
            .bind(&version)
            .bind(text)
            .bind(Timestamp::now())
            .execute(pool)
            .await
            .context("recording the consent text")?;
        });
        Ok(version)
    }
}

pub fn consent_text_version(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(&digest[..6])
}
