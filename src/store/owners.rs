//! The owner's accounts, their login sessions, and the one-time setup link.
//!
//! Session ids and the setup token are 256 random bits; only their SHA-256 is stored, so a
//! copy of the database does not let anyone in.

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{BeginWrite as _, Store, Timestamp, with_pool};

const SETUP_TOKEN_HASH: &str = "owner_setup_token_hash";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnerAccount {
    pub id: Uuid,
    pub email: String,
    pub password_hash: String,
}

/// A live session: who is logged in, and the CSRF token their forms must carry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnerSession {
    pub user_id: Uuid,
    pub email: String,
    pub csrf_token: String,
    pub expires_at: Timestamp,
}

pub fn secret_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[derive(Debug, thiserror::Error)]
pub enum OwnerError {
    #[error("an account with that email address already exists")]
    EmailTaken,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl Store {
    pub async fn owner_count(&self) -> anyhow::Result<i64> {
        with_pool!(self, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
            .fetch_one(pool)
            .await
            .context("counting owner accounts"))
    }

    /// Stores an account whose password is already hashed.
    pub async fn create_owner(
        &self,
        email: &str,
        password_hash: &str,
    ) -> Result<OwnerAccount, OwnerError> {
        let account = OwnerAccount {
            id: Uuid::now_v7(),
            email: email.to_string(),
            password_hash: password_hash.to_string(),
        };
        let inserted = with_pool!(self, pool => sqlx::query(
            "INSERT INTO users (id, email, password_hash, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (email) DO NOTHING",
        )
        .bind(account.id)
        .bind(&account.email)
        .bind(&account.password_hash)
        .bind(Timestamp::now())
        .execute(pool)
        .await
        .context("storing an owner account")?
        .rows_affected());
        if inserted == 0 {
            return Err(OwnerError::EmailTaken);
        }
        Ok(account)
    }

    pub async fn owner_by_email(&self, email: &str) -> anyhow::Result<Option<OwnerAccount>> {
        with_pool!(self, pool => sqlx::query_as::<_, OwnerAccount>(
            "SELECT id, email, password_hash FROM users WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(pool)
        .await
        .context("looking up an owner account"))
    }

    /// Starts a session for `user_id`: `session_id` is the cookie's value (stored hashed),
    /// `csrf_token` what its forms carry.
    pub async fn create_session(
        &self,
        user_id: Uuid,
        session_id: &str,
        csrf_token: &str,
        expires_at: Timestamp,
    ) -> anyhow::Result<()> {
        let now = Timestamp::now();
        with_pool!(self, pool => {
            // Sessions that ran out are forgotten whenever someone logs in.
            sqlx::query("DELETE FROM sessions WHERE expires_at < $1")
                .bind(now)
                .execute(pool)
                .await
                .context("forgetting expired sessions")?;
            sqlx::query(
                "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(secret_hash(session_id))
            .bind(user_id)
            .bind(csrf_token)
            .bind(now)
            .bind(expires_at)
            .execute(pool)
            .await
            .context("storing a session")?;
        });
        Ok(())
    }

    /// The session behind a cookie value, if it exists and has not expired.
    pub async fn session(&self, session_id: &str) -> anyhow::Result<Option<OwnerSession>> {
        with_pool!(self, pool => sqlx::query_as::<_, OwnerSession>(
            "SELECT s.user_id, u.email, s.csrf_token, s.expires_at FROM sessions s \
             JOIN users u ON u.id = s.user_id WHERE s.id_hash = $1 AND s.expires_at > $2",
        )
        .bind(secret_hash(session_id))
        .bind(Timestamp::now())
        .fetch_optional(pool)
        .await
        .context("looking up a session"))
    }

    pub async fn end_session(&self, session_id: &str) -> anyhow::Result<()> {
        with_pool!(self, pool => sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(secret_hash(session_id))
            .execute(pool)
            .await
            .context("ending a session")
            .map(|_| ()))
    }

    /// Remembers the one-time setup link's token (replacing an earlier one).
    pub async fn set_setup_token(&self, token: &str) -> anyhow::Result<()> {
        with_pool!(self, pool => sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(SETUP_TOKEN_HASH)
        .bind(secret_hash(token))
        .execute(pool)
        .await
        .context("storing the setup link")
        .map(|_| ()))
    }

    /// Whether `token` is the current setup link's, while no owner exists yet.
    pub async fn setup_token_valid(&self, token: &str) -> anyhow::Result<bool> {
        let stored = with_pool!(self, pool => sqlx::query_scalar::<_, String>(
            "SELECT value FROM settings WHERE key = $1 AND NOT EXISTS (SELECT 1 FROM users)",
        )
        .bind(SETUP_TOKEN_HASH)
        .fetch_optional(pool)
        .await
        .context("reading the setup link"))?;
        Ok(stored
            .is_some_and(|hash| constant_time_eq(hash.as_bytes(), secret_hash(token).as_bytes())))
    }

    /// Creates the first owner through the setup link: only if the token is still the
    /// current one and no owner exists; the link is used up either way it succeeds.
    pub async fn create_first_owner(
        &self,
        token: &str,
        email: &str,
        password_hash: &str,
    ) -> Result<Option<OwnerAccount>, OwnerError> {
        let id = Uuid::now_v7();
        let now = Timestamp::now();
        let hash = secret_hash(token);
        let created = with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting the setup")?;
            let used = sqlx::query("DELETE FROM settings WHERE key = $1 AND value = $2")
                .bind(SETUP_TOKEN_HASH)
                .bind(&hash)
                .execute(&mut *tx)
                .await
                .context("using up the setup link")?
                .rows_affected();
            let inserted = if used == 1 {
                sqlx::query(
                    "INSERT INTO users (id, email, password_hash, created_at) \
                     SELECT $1, $2, $3, $4 WHERE NOT EXISTS (SELECT 1 FROM users)",
                )
                .bind(id)
                .bind(email)
                .bind(password_hash)
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("storing the first owner")?
                .rows_affected()
            } else {
                0
            };
            tx.commit().await.context("finishing the setup")?;
            inserted == 1
        });
        Ok(created.then(|| OwnerAccount {
            id,
            email: email.to_string(),
            password_hash: password_hash.to_string(),
        }))
    }
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
