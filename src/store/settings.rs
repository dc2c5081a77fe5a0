//! Instance-wide settings kept in the database, shared by every instance on it.

use anyhow::Context as _;
use sha2::{Digest, Sha256};

use super::{BeginWrite, Store, Timestamp, with_pool};

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

/// Where the owner's settings are kept: `owner.<key>`, and the version every save bumps.
const OWNER_PREFIX: &str = "owner.";
pub(super) const OWNER_VERSION: &str = "owner_version";

/// Counts a save of the owner's settings or templates (bind [`OWNER_VERSION`]), so every
/// instance sees it changed; returns the new version.
pub(super) const BUMP_OWNER_VERSION: &str = "INSERT INTO settings (key, value) VALUES ($1, '1') \
     ON CONFLICT (key) DO UPDATE SET value = CAST(CAST(settings.value AS INTEGER) + 1 AS TEXT) \
     RETURNING value";

impl Store {
    /// The owner's saved settings (key, text) and their version (0: never saved).
    pub async fn owner_settings(&self) -> anyhow::Result<(i64, Vec<(String, String)>)> {
        let rows: Vec<(String, String)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT key, value FROM settings WHERE key = $1 OR key LIKE 'owner.%'",
        )
        .bind(OWNER_VERSION)
        .fetch_all(pool)
        .await
        .context("reading the owner's settings")?);
        let mut version = 0;
        let mut saved = Vec::new();
        for (key, value) in rows {
            match key.strip_prefix(OWNER_PREFIX) {
                Some(key) => saved.push((key.to_string(), value)),
                None => version = value.parse().unwrap_or(0),
            }
        }
        Ok((version, saved))
    }

    /// The version of the owner's settings, for a cheap check whether another instance
    /// saved them.
    pub async fn owner_settings_version(&self) -> anyhow::Result<i64> {
        Ok(self
            .setting(OWNER_VERSION)
            .await?
            .and_then(|value| value.parse().ok())
            .unwrap_or(0))
    }

    /// Saves the owner's changes at once (`None`: back to the default) and returns the new
    /// version.
    pub async fn save_owner_settings(
        &self,
        changes: &[(&str, Option<String>)],
    ) -> anyhow::Result<i64> {
        with_pool!(self, pool => {
            let mut tx = BeginWrite::begin_write(pool).await.context("starting a transaction")?;
            for (key, value) in changes {
                let key = format!("{OWNER_PREFIX}{key}");
                match value {
                    Some(value) => sqlx::query(
                        "INSERT INTO settings (key, value) VALUES ($1, $2) \
                         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    )
                    .bind(&key)
                    .bind(value)
                    .execute(&mut *tx)
                    .await,
                    None => sqlx::query("DELETE FROM settings WHERE key = $1")
                        .bind(&key)
                        .execute(&mut *tx)
                        .await,
                }
                .context("saving a setting")?;
            }
            let version: String = sqlx::query_scalar(BUMP_OWNER_VERSION)
            .bind(OWNER_VERSION)
            .fetch_one(&mut *tx)
            .await
            .context("counting the save")?;
            tx.commit().await.context("committing the settings")?;
            Ok(version.parse().unwrap_or(0))
        })
    }
}
