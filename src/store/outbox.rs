//! The durable queue of single messages (confirmations, welcomes, the owner's answers).
//!
//! Rows are inserted in the same transaction as the change they announce. Sender workers
//! claim due rows under a lease (Postgres: `FOR UPDATE SKIP LOCKED`; SQLite: one claiming
//! `UPDATE`, which SQLite serialises), send, then record the outcome only if they still hold
//! the lease. A worker that dies leaves its lease to expire, and another takes the row over.

use anyhow::Context as _;
use uuid::Uuid;

use super::dialect::Dialect;
use super::{Store, Timestamp, with_pool};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    Confirmation,
    Welcome,
    /// "Still want this?", to a dormant subscriber.
    Repermission,
    /// The owner's answer to a subscriber's reply (its text in `answers`).
    Answer,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Confirmation => "confirmation",
            Self::Welcome => "welcome",
            Self::Repermission => "repermission",
            Self::Answer => "answer",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "confirmation" => Some(Self::Confirmation),
            "welcome" => Some(Self::Welcome),
            "repermission" => Some(Self::Repermission),
            "answer" => Some(Self::Answer),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutboundState {
    Queued,
    Sent,
    Failed,
    Cancelled,
}

/// A message a worker holds the lease on.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedMessage {
    pub id: Uuid,
    pub kind: String,
    pub subscriber_id: Option<Uuid>,
    pub recipient: String,
    pub attempts: i32,
    pub message_id: String,
}

/// Inserts a queued message inside the caller's transaction and gives its id. A macro
/// rather than a function so one body serves both backends' executors.
macro_rules! queue_message {
    ($executor:expr, $kind:expr, $subscriber:expr, $recipient:expr, $domain:expr, $now:expr) => {{
        let message_uuid = ::uuid::Uuid::now_v7();
        sqlx::query(
            "INSERT INTO outbound_messages (id, kind, subscriber_id, recipient, state, attempts, \
             next_attempt_at, message_id, created_at) VALUES ($1, $2, $3, $4, 'queued', 0, $5, $6, $5)",
        )
        .bind(message_uuid)
        .bind($kind.as_str())
        .bind($subscriber)
        .bind($recipient)
        .bind($now)
        .bind(format!("<{}@{}>", message_uuid.simple(), $domain))
        .execute($executor)
        .await
        .context("queueing the message")?;
        message_uuid
    }};
}
pub(crate) use queue_message;

impl Store {
    /// Claims up to `limit` due messages for `worker` until `lease_until`.
    pub async fn claim_messages(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> anyhow::Result<Vec<ClaimedMessage>> {
        let claimed = with_pool!(self, pool, Db => {
            let sql = format!(
                "UPDATE outbound_messages SET lease_owner = $1, lease_until = $2 \
                 WHERE id IN (SELECT id FROM outbound_messages \
                 WHERE state = 'queued' AND next_attempt_at <= $3 \
                 AND (lease_until IS NULL OR lease_until < $3) \
                 ORDER BY next_attempt_at LIMIT $4 {}) \
                 RETURNING id, kind, subscriber_id, recipient, attempts, message_id",
                Db::skip_locked(None)
            );
            sqlx::query_as::<_, ClaimedMessage>(sqlx::AssertSqlSafe(sql))
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .fetch_all(pool)
                .await
        });
        claimed.context("claiming queued messages")
    }

    /// Records a delivered message. Returns false if the lease was lost meanwhile.
    pub async fn mark_message_sent(
        &self,
        id: Uuid,
        worker: &str,
        now: Timestamp,
    ) -> anyhow::Result<bool> {
        let updated = with_pool!(self, pool => sqlx::query(
            "UPDATE outbound_messages SET state = 'sent', sent_at = $3, attempts = attempts + 1, \
             lease_owner = NULL, lease_until = NULL, last_error = NULL \
             WHERE id = $1 AND lease_owner = $2 AND state = 'queued'",
        )
        .bind(id)
        .bind(worker)
        .bind(now)
        .execute(pool)
        .await
        .context("recording a sent message")?
        .rows_affected());
        Ok(updated == 1)
    }

    /// Records a failed attempt: retried at `retry_at`, or failed for good when `None`.
    pub async fn mark_message_attempt_failed(
        &self,
        id: Uuid,
        worker: &str,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> anyhow::Result<()> {
        let error: String = error.chars().take(1000).collect();
        let (state, next) = match retry_at {
            Some(at) => ("queued", Some(at)),
            None => ("failed", None),
        };
        with_pool!(self, pool => sqlx::query(
            "UPDATE outbound_messages SET state = $3, attempts = attempts + 1, last_error = $4, \
             next_attempt_at = COALESCE($5, next_attempt_at), lease_owner = NULL, lease_until = NULL \
             WHERE id = $1 AND lease_owner = $2 AND state = 'queued'",
        )
        .bind(id)
        .bind(worker)
        .bind(state)
        .bind(&error)
        .bind(next)
        .execute(pool)
        .await
        .context("recording a failed attempt").map(|_| ())?);
        Ok(())
    }

    /// Drops a message that can no longer be sent (its subscriber left or was erased).
    pub async fn cancel_message(&self, id: Uuid, reason: &str) -> anyhow::Result<()> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE outbound_messages SET state = 'cancelled', last_error = $2, lease_owner = NULL, \
             lease_until = NULL WHERE id = $1 AND state = 'queued'",
        )
        .bind(id)
        .bind(reason)
        .execute(pool)
        .await
        .context("cancelling a message").map(|_| ())?);
        Ok(())
    }

    /// Gives back leases a stopping worker holds, so the rows are due again at once.
    pub async fn release_leases(&self, worker: &str) -> anyhow::Result<()> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE outbound_messages SET lease_owner = NULL, lease_until = NULL \
             WHERE lease_owner = $1 AND state = 'queued'",
        )
        .bind(worker)
        .execute(pool)
        .await
        .context("releasing leases").map(|_| ())?);
        Ok(())
    }

    /// How many messages are in each state, for health and tests.
    pub async fn message_counts(&self) -> anyhow::Result<Vec<(String, i64)>> {
        with_pool!(self, pool => sqlx::query_as::<_, (String, i64)>(
            "SELECT state, COUNT(*) FROM outbound_messages GROUP BY state ORDER BY state",
        )
        .fetch_all(pool)
        .await
        .context("counting messages"))
    }

    /// When the next queued message falls due, if any.
    pub async fn next_message_due(&self) -> anyhow::Result<Option<Timestamp>> {
        with_pool!(self, pool => sqlx::query_scalar::<_, Option<Timestamp>>(
            "SELECT MIN(next_attempt_at) FROM outbound_messages WHERE state = 'queued'",
        )
        .fetch_one(pool)
        .await
        .context("finding the next due message"))
    }
}
