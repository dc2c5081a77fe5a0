//! Bearer tokens for the JSON API, stored as SHA-256 hashes (a token is 256 random bits,
//! so a fast hash is enough: there is nothing to brute-force).

use anyhow::Context as _;
use uuid::Uuid;

use super::owners::secret_hash;
use super::{Store, Timestamp, with_pool};

/// The prefix makes a leaked token easy to recognise (and to scan for).
const TOKEN_PREFIX: &str = "hundred_";

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct ApiTokenRecord {
    pub id: Uuid,
    pub name: String,
    pub created_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

impl Store {
    /// Creates a token and returns it in clear, the only time it is ever shown.
    pub async fn create_api_token(&self, name: &str) -> anyhow::Result<String> {
        let token = format!("{TOKEN_PREFIX}{}", crate::signing::random_secret());
        with_pool!(self, pool => sqlx::query(
            "INSERT INTO api_tokens (id, name, token_hash, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(Uuid::now_v7())
        .bind(name)
        .bind(secret_hash(&token))
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .context("storing the API token").map(|_| ())?);
        Ok(token)
    }

    /// The token's record if it is valid and not revoked.
    pub async fn verify_api_token(&self, token: &str) -> anyhow::Result<Option<ApiTokenRecord>> {
        if !token.starts_with(TOKEN_PREFIX) || token.len() > 100 {
            return Ok(None);
        }
        with_pool!(self, pool => sqlx::query_as::<_, ApiTokenRecord>(
            "SELECT id, name, created_at, last_used_at FROM api_tokens \
             WHERE token_hash = $1 AND revoked_at IS NULL",
        )
        .bind(secret_hash(token))
        .fetch_optional(pool)
        .await
        .context("checking an API token"))
    }

    /// Tokens still in force, newest first.
    pub async fn api_tokens(&self) -> anyhow::Result<Vec<ApiTokenRecord>> {
        with_pool!(self, pool => sqlx::query_as::<_, ApiTokenRecord>(
            "SELECT id, name, created_at, last_used_at FROM api_tokens \
             WHERE revoked_at IS NULL ORDER BY created_at DESC",
        )
        .fetch_all(pool)
        .await
        .context("listing API tokens"))
    }

    pub async fn revoke_api_token(&self, id: Uuid) -> anyhow::Result<bool> {
        let updated = with_pool!(self, pool => sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
        )
        .bind(id)
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .context("revoking an API token")?
        .rows_affected());
        Ok(updated == 1)
    }
}
