//! What a reader changes on their own page (`/me/{token}`): their name and a pause, each
//! with its line in the consent history; and what the page and the web version read: the
//! copies sent to them lately, one copy by its delivery.

use anyhow::Context as _;
use uuid::Uuid;

use super::dialect::Dialect;
use super::{BeginWrite as _, Store, Timestamp, with_pool};

/// A copy sent to the reader, as their page lists it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct CopyToReader {
    pub subject: String,
    pub sent_at: Timestamp,
}

/// One delivered copy, as its web version needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CopyOf {
    pub campaign_id: Uuid,
    pub subscriber_id: Uuid,
}

/// A line of the consent history, in the caller's transaction (either database's).
macro_rules! record_in {
    ($tx:expr, $subscriber:expr, $kind:expr, $ip:expr, $detail:expr, $now:expr) => {
        sqlx::query(
            "INSERT INTO consent_events (subscriber_id, kind, at, ip, detail) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind($subscriber)
        .bind($kind)
        .bind($now)
        .bind($ip)
        .bind($detail)
        .execute(&mut *$tx)
        .await
        .context("recording it in the consent history")
    };
}

impl Store {
    /// The copy a delivery was: its campaign and subscriber, while it was sent and the
    /// subscriber is not erased (an erased person's copies are no longer theirs).
    pub async fn delivered_copy(&self, delivery: Uuid) -> anyhow::Result<Option<CopyOf>> {
        with_pool!(self, pool => sqlx::query_as::<_, CopyOf>(
            "SELECT campaign_id, subscriber_id FROM deliveries \
             WHERE id = $1 AND state = 'sent' AND subscriber_id IS NOT NULL",
        )
        .bind(delivery)
        .fetch_optional(pool)
        .await
        .context("reading a delivered copy"))
    }

    /// The campaigns sent to the subscriber, newest first, at most `limit`.
    pub async fn copies_sent_to(
        &self,
        subscriber: Uuid,
        limit: i64,
    ) -> anyhow::Result<Vec<CopyToReader>> {
        with_pool!(self, pool => sqlx::query_as::<_, CopyToReader>(
            "SELECT c.subject, d.sent_at FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id \
             WHERE d.subscriber_id = $1 AND d.state = 'sent' AND d.sent_at IS NOT NULL \
             ORDER BY d.sent_at DESC LIMIT $2",
        )
        .bind(subscriber)
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("reading the copies sent to a subscriber"))
    }

    /// Changes the name a subscriber gave (`None`: none), recorded in their consent
    /// history. `false`: no such subscriber.
    pub async fn rename_by_reader(
        &self,
        subscriber: Uuid,
        name: Option<&str>,
        ip: Option<&str>,
        now: Timestamp,
    ) -> anyhow::Result<bool> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let changed = sqlx::query("UPDATE subscribers SET name = $2, updated_at = $3 WHERE id = $1")
                .bind(subscriber)
                .bind(name)
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("changing the name")?
                .rows_affected()
                == 1;
            if changed {
                record_in!(tx, subscriber, "name_changed", ip, None::<&str>, now)?;
            }
            tx.commit().await.context("committing the name")?;
            Ok(changed)
        })
    }

    /// Pauses a confirmed subscriber's campaigns for `days` from `now`: none goes to them
    /// before then, and the days are credited to their tier (see `engagement::RANKED`).
    /// A pause that ends later than one already running replaces it; the days credited are
    /// the new ones only. `false`: not confirmed (or no such subscriber).
    pub async fn pause(
        &self,
        subscriber: Uuid,
        days: i64,
        ip: Option<&str>,
        now: Timestamp,
    ) -> anyhow::Result<bool> {
        let until = Timestamp(now.0 + time::Duration::days(days));
        let half_life = self.engagement_model().half_life_days;
        with_pool!(self, pool, Db => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let running: Option<Option<Timestamp>> = sqlx::query_scalar(
                "SELECT paused_until FROM subscribers WHERE id = $1 AND status = 'confirmed'",
            )
            .bind(subscriber)
            .fetch_optional(&mut *tx)
            .await
            .context("reading the subscriber's pause")?;
            let Some(running) = running else { return Ok(false) };
            // Only the days past a pause already running are new.
            let from = running.filter(|at| at.0 > now.0).unwrap_or(now);
            let credit = ((until.0 - from.0).as_seconds_f64() / 86_400.0).max(0.0);
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE subscribers SET paused_until = $2, pause_days = pause_days + $3, \
                 pause_credit = {}, pause_rank_credit = pause_rank_credit + $4, updated_at = $5 \
                 WHERE id = $1",
                Db::pause_credit_plus(3)
            )))
            .bind(subscriber)
            .bind(until)
            .bind(credit)
            .bind(credit / half_life)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("pausing the subscriber")?;
            let detail = format!("{days} days");
            record_in!(tx, subscriber, "paused", ip, Some(detail.as_str()), now)?;
            tx.commit().await.context("committing the pause")?;
            Ok(true)
        })
    }

    /// Records that the subscriber downloaded what the list holds about them.
    pub async fn record_export_by_reader(
        &self,
        subscriber: Uuid,
        ip: Option<&str>,
        now: Timestamp,
    ) -> anyhow::Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            record_in!(tx, subscriber, "exported", ip, None::<&str>, now)?;
            tx.commit().await.context("committing the export's record")
        })
    }

    /// Until when the subscriber's campaigns are paused, if a pause is running at `now`.
    pub async fn paused_until(
        &self,
        subscriber: Uuid,
        now: Timestamp,
    ) -> anyhow::Result<Option<Timestamp>> {
        let until: Option<Option<Timestamp>> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT paused_until FROM subscribers WHERE id = $1",
        )
        .bind(subscriber)
        .fetch_optional(pool)
        .await
        .context("reading the subscriber's pause"))?;
        Ok(until.flatten().filter(|at| at.0 > now.0))
    }

    /// The score's share of every pause, again for a new half-life.
    pub(crate) async fn recredit_pauses(&self) -> anyhow::Result<()> {
        let half_life = self.engagement_model().half_life_days;
        with_pool!(self, pool => sqlx::query(
            "UPDATE subscribers SET pause_rank_credit = pause_days / $1 WHERE pause_days > 0",
        )
        .bind(half_life)
        .execute(pool)
        .await
        .map(|_| ())
        .context("crediting pauses to the score"))
    }
}
