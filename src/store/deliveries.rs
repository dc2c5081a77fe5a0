//! The campaign delivery queue: claiming rows under a lease, recording each outcome, and
//! the campaign's link table.
//!
//! A delivery is marked sent right after the SMTP server accepts it: the copies accepted
//! while one commit is in flight are recorded together in the next (see
//! `mark_deliveries_sent`, and the recorder in `mail::campaign_sender`).
//! A worker that dies leaves its lease to expire; the row is then taken over and counted
//! in `resumed`, so the report can say how many copies may have gone out twice.

use std::collections::HashMap;

use anyhow::Context as _;
use sqlx::types::Json;
use uuid::Uuid;

use super::dialect::{Dialect, Rows};
use super::{Store, Timestamp, with_pool};

/// A delivery a worker holds the lease on, with what it needs to render the message.
/// A copy the SMTP server accepted, to be recorded as sent.
#[derive(Debug, Clone)]
pub struct SentCopy {
    pub id: Uuid,
    /// When the server accepted it.
    pub at: Timestamp,
    /// The server's reply.
    pub reply: String,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClaimedDelivery {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub subscriber_id: Option<Uuid>,
    pub attempts: i32,
    pub message_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub attributes: Option<Json<serde_json::Value>>,
    pub tracking: Option<bool>,
}

impl Store {
    /// Claims up to `limit` due deliveries of sending campaigns for `worker` until
    /// `lease_until`, and returns them with their subscribers.
    pub async fn claim_deliveries(
        &self,
        worker: &str,
        now: Timestamp,
        lease_until: Timestamp,
        limit: i64,
    ) -> anyhow::Result<Vec<ClaimedDelivery>> {
        // Any due rows will do: ordering them would sort the whole queue on every claim.
        with_pool!(self, pool, Db => {
            let claim = format!(
                "UPDATE deliveries SET lease_owner = $1, lease_until = $2, \
                 resumed = resumed + CASE WHEN lease_owner IS NULL THEN 0 ELSE 1 END \
                 WHERE id IN (SELECT d.id FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id \
                 WHERE d.state = 'queued' AND c.status = 'sending' AND d.next_attempt_at <= $3 \
                 AND (d.lease_until IS NULL OR d.lease_until < $3) LIMIT $4 {})",
                Db::skip_locked(Some("d"))
            );
            let claimed = sqlx::query(sqlx::AssertSqlSafe(claim))
                .bind(worker)
                .bind(lease_until)
                .bind(now)
                .bind(limit)
                .execute(pool)
                .await
                .context("claiming deliveries")?
                .rows_affected();
            if claimed == 0 {
                return Ok(Vec::new());
            }
            // The batch is identified by owner and lease time, which only this claim used.
            sqlx::query_as::<_, ClaimedDelivery>(
                "SELECT d.id, d.campaign_id, d.subscriber_id, d.attempts, d.message_id, s.email, s.name, \
                 s.status, s.attributes, s.tracking FROM deliveries d \
                 LEFT JOIN subscribers s ON s.id = d.subscriber_id \
                 WHERE d.lease_owner = $1 AND d.lease_until = $2 AND d.state = 'queued'",
            )
            .bind(worker)
            .bind(lease_until)
            .fetch_all(pool)
            .await
            .context("reading claimed deliveries")
        })
    }

    /// Records accepted messages, all in one statement and one commit. Returns the ids that
    /// were still leased to `worker`; a missing id lost its lease meanwhile (another sender
    /// took the row over).
    pub async fn mark_deliveries_sent(
        &self,
        worker: &str,
        sent: &[SentCopy],
    ) -> anyhow::Result<Vec<Uuid>> {
        if sent.is_empty() {
            return Ok(Vec::new());
        }
        // The rows are bound as one table, so the statement is the same for any number of
        // copies (prepared once per connection). On Postgres its commit does not wait for
        // the WAL to reach the disk (set for this transaction only, in the same round
        // trip): a crash of hundred loses nothing, since Postgres has the commit; only a
        // crash of the database server itself could lose its last fraction of a second,
        // which would mean a second copy, never a skipped one. Waiting for the disk would
        // keep accepted copies unrecorded for longer, which is the window that matters.
        let rows = Rows::new()
            .uuids("id", sent.iter().map(|c| c.id))
            .times("at", sent.iter().map(|c| c.at))
            .texts("reply", sent.iter().map(|c| c.reply.clone()));
        let recorded = with_pool!(self, pool, Db => {
            let sql = format!(
                "UPDATE deliveries SET state = 'sent', sent_at = v.at, attempts = deliveries.attempts + 1, \
                 smtp_reply = v.reply, lease_owner = NULL, lease_until = NULL FROM {}{} \
                 WHERE deliveries.id = v.id AND deliveries.lease_owner = $1 \
                 AND deliveries.state = 'queued' RETURNING deliveries.id",
                Db::rows(&rows, 2, "v"),
                Db::RELAXED_COMMIT
            );
            Db::bind_rows(sqlx::query_scalar::<_, Uuid>(sqlx::AssertSqlSafe(sql)).bind(worker), rows)
                .fetch_all(pool)
                .await
        });
        recorded.context("recording sent deliveries")
    }

    /// Records a temporary failure, to be retried at `retry_at`.
    pub async fn mark_delivery_retry(
        &self,
        id: Uuid,
        worker: &str,
        reply: &str,
        retry_at: Timestamp,
    ) -> anyhow::Result<()> {
        with_pool!(self, pool => sqlx::query(
            // A copy whose subscriber was erased while it was on its way keeps no reply
            // (a server's words may quote the address).
            "UPDATE deliveries SET attempts = attempts + 1, \
             smtp_reply = CASE WHEN subscriber_id IS NULL THEN NULL ELSE $3 END, next_attempt_at = $4, \
             lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND state = 'queued'",
        )
        .bind(id)
        .bind(worker)
        .bind(reply)
        .bind(retry_at)
        .execute(pool)
        .await
        .context("recording a temporary failure")
        .map(|_| ())?);
        Ok(())
    }

    /// Records a delivery that will not be retried: `failed` (with the server's reply) or
    /// `skipped` (the subscriber left or was erased before their turn). A failure that says
    /// the mailbox does not exist also marks the subscriber bounced.
    pub async fn mark_delivery_final(
        &self,
        id: Uuid,
        worker: &str,
        state: crate::domain::DeliveryState,
        reply: &str,
        now: Timestamp,
        bounce_subscriber: Option<Uuid>,
    ) -> anyhow::Result<()> {
        let reply: String = reply.chars().take(1000).collect();
        with_pool!(self, pool => {
            let mut tx = super::BeginWrite::begin_write(pool).await.context("starting a transaction")?;
            sqlx::query(
                "UPDATE deliveries SET state = $3, attempts = attempts + CASE WHEN $3 = 'failed' THEN 1 ELSE 0 END, \
                 smtp_reply = CASE WHEN subscriber_id IS NULL THEN NULL ELSE $4 END, sent_at = $5, \
                 lease_owner = NULL, lease_until = NULL \
                 WHERE id = $1 AND lease_owner = $2 AND state = 'queued'",
            )
            .bind(id)
            .bind(worker)
            .bind(state.as_str())
            .bind(&reply)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("recording the delivery's outcome")?;
            if let Some(subscriber) = bounce_subscriber {
                sqlx::query(
                    "UPDATE subscribers SET status = 'bounced', updated_at = $2 WHERE id = $1 AND status = 'confirmed'",
                )
                .bind(subscriber)
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("marking the subscriber bounced")?;
                sqlx::query(
                    "INSERT INTO consent_events (subscriber_id, kind, at, detail) VALUES ($1, 'bounced', $2, $3)",
                )
                .bind(subscriber)
                .bind(now)
                .bind(&reply)
                .execute(&mut *tx)
                .await
                .context("recording the bounce")?;
            }
            tx.commit().await.context("committing the delivery's outcome")?;
        });
        Ok(())
    }

    /// Expires the leases held by an earlier run of this instance (after a crash), so its
    /// deliveries are taken over at once instead of when their leases run out.
    pub async fn expire_leases_of(
        &self,
        instance_prefix: &str,
        now: Timestamp,
    ) -> anyhow::Result<u64> {
        let pattern = instance_prefix.to_string();
        let expired = with_pool!(self, pool => {
            let deliveries = sqlx::query(
                "UPDATE deliveries SET lease_until = $2 WHERE substr(lease_owner, 1, length($1)) = $1 AND state = 'queued' AND lease_until > $2",
            )
            .bind(&pattern)
            .bind(now)
            .execute(pool)
            .await
            .context("expiring old delivery leases")?
            .rows_affected();
            sqlx::query(
                "UPDATE outbound_messages SET lease_until = $2 WHERE substr(lease_owner, 1, length($1)) = $1 AND state = 'queued' AND lease_until > $2",
            )
            .bind(&pattern)
            .bind(now)
            .execute(pool)
            .await
            .context("expiring old message leases")?;
            deliveries
        });
        Ok(expired)
    }

    /// Gives back one delivery's lease (its campaign was paused before its turn).
    pub async fn release_delivery(&self, id: Uuid, worker: &str) -> anyhow::Result<()> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2 AND state = 'queued'",
        )
        .bind(id)
        .bind(worker)
        .execute(pool)
        .await
        .context("releasing a delivery")
        .map(|_| ())?);
        Ok(())
    }

    /// Gives back delivery leases a stopping worker holds, so the rows are due again at once.
    pub async fn release_delivery_leases(&self, worker: &str) -> anyhow::Result<()> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE deliveries SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1 AND state = 'queued'",
        )
        .bind(worker)
        .execute(pool)
        .await
        .context("releasing delivery leases")
        .map(|_| ())?);
        Ok(())
    }

    /// The ids of a campaign's links, adding the ones not seen yet.
    pub async fn campaign_links(
        &self,
        campaign: Uuid,
        urls: &[String],
    ) -> anyhow::Result<HashMap<String, i64>> {
        let mut ids = HashMap::with_capacity(urls.len());
        with_pool!(self, pool => {
            for url in urls {
                sqlx::query(
                    "INSERT INTO campaign_links (campaign_id, url) VALUES ($1, $2) ON CONFLICT (campaign_id, url) DO NOTHING",
                )
                .bind(campaign)
                .bind(url)
                .execute(pool)
                .await
                .context("storing a campaign link")?;
                let id: i64 = sqlx::query_scalar("SELECT id FROM campaign_links WHERE campaign_id = $1 AND url = $2")
                    .bind(campaign)
                    .bind(url)
                    .fetch_one(pool)
                    .await
                    .context("reading a campaign link")?;
                ids.insert(url.clone(), id);
            }
        });
        Ok(ids)
    }

    /// The stored URL of a link, for the click redirect. Link ids are unique across
    /// campaigns, and the click token that names one is signed with its delivery.
    pub async fn link_url(&self, link: i64) -> anyhow::Result<Option<String>> {
        with_pool!(self, pool => sqlx::query_scalar::<_, String>(
            "SELECT url FROM campaign_links WHERE id = $1",
        )
        .bind(link)
        .fetch_optional(pool)
        .await
        .context("reading a link"))
    }
}
