//! A campaign's way through sending: scheduled, started (the audience snapshot), paused,
//! resumed, cancelled, finished. Each change is one statement or one transaction that
//! only the instance that wins it applies.

use anyhow::Context as _;
use uuid::Uuid;

use super::super::dialect::Dialect;
use super::super::engagement::{RANKED, bind_tiers};
use super::super::{Backend, BeginWrite as _, Store, Timestamp, with_pool};
use super::*;
use crate::domain::TierBounds;

/// Inserts one delivery per confirmed subscriber of the campaign's tiers (all of them when
/// it names none) who has not paused their mail until after now, with a fresh id and a Message-ID made from it. Binds $1-$6 as `RANKED`,
/// then $7 the campaign, $8 now, $9 the Message-ID domain, $10 the tiers (a JSON array).
fn snapshot_sql<Db: Dialect>() -> String {
    format!(
        "INSERT INTO deliveries (id, campaign_id, subscriber_id, state, attempts, \
         next_attempt_at, message_id, created_at) \
         SELECT x.id, $7, x.subscriber_id, 'queued', 0, $8, '<' || {} || '@' || $9 || '>', $8 \
         FROM (SELECT {} AS id, id AS subscriber_id FROM {RANKED}\
         WHERE status = 'confirmed' AND (paused_until IS NULL OR paused_until <= $8) \
         AND ({} IS NULL OR tier {})) x \
         WHERE true ON CONFLICT (campaign_id, subscriber_id) DO NOTHING",
        Db::uuid_hex("x.id"),
        Db::NEW_UUID,
        Db::text_param(10),
        Db::in_json_texts(10)
    )
}
impl Store {
    /// Schedules a draft for `at`.
    pub async fn schedule_campaign(
        &self,
        id: Uuid,
        at: Timestamp,
        now: Timestamp,
    ) -> Result<(), CampaignError> {
        let updated = with_pool!(self, pool => sqlx::query(
            "UPDATE campaigns SET status = 'scheduled', scheduled_at = $2, updated_at = $3 \
             WHERE id = $1 AND status = 'draft'",
        )
        .bind(id)
        .bind(at)
        .bind(now)
        .execute(pool)
        .await
        .context("scheduling the campaign")?
        .rows_affected());
        self.changed_or_refused(updated, id, "draft").await
    }

    /// Starts sending a draft or scheduled campaign: in one transaction the status becomes
    /// `sending` and every confirmed subscriber gets one queued delivery row. Only one
    /// instance can win this; the others see the status already changed.
    pub async fn start_campaign(
        &self,
        id: Uuid,
        now: Timestamp,
        message_domain: &str,
        start: Start,
    ) -> Result<i64, CampaignError> {
        let bounds = TierBounds::at(&self.engagement_model(), now.0);
        with_pool!(self, pool, Db => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let campaign: Option<(String, Option<Timestamp>, Option<String>, Timestamp)> = sqlx::query_as(
                "SELECT status, scheduled_at, audience_tiers, updated_at FROM campaigns WHERE id = $1 \
                 AND status IN ('draft', 'scheduled')",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .context("reading the campaign")?;
            let Some((status, scheduled, audience, version)) = campaign else {
                drop(tx);
                return Err(self.explain_refusal(id, start.needs()).await);
            };
            // The scheduler read the campaign as due a moment ago; since then the owner may
            // have taken it back to a draft or moved its time.
            if start == Start::WhenDue
                && (status != "scheduled" || scheduled.is_none_or(|at| at.0 > now.0))
            {
                drop(tx);
                return Err(CampaignError::WrongStatus(status, start.needs()));
            }
            let late_by = scheduled
                .map(|at| (now.0 - at.0).whole_seconds())
                .filter(|late| *late > LATE_AFTER_SECONDS);
            let started = sqlx::query(
                "UPDATE campaigns SET status = 'sending', started_at = $2, late_by_seconds = $3, updated_at = $2 \
                 WHERE id = $1 AND status IN ('draft', 'scheduled') AND updated_at = $4",
            )
            .bind(id)
            .bind(now)
            .bind(late_by)
            .bind(version)
            .execute(&mut *tx)
            .await
            .context("marking the campaign as sending")?
            .rows_affected();
            if started == 0 {
                drop(tx);
                return Err(self.explain_refusal(id, start.needs()).await);
            }
            let recipients = bind_tiers::<Db, _>(sqlx::query(sqlx::AssertSqlSafe(snapshot_sql::<Db>())), &bounds)
                .bind(id)
                .bind(now)
                .bind(message_domain)
                .bind(audience)
                .execute(&mut *tx)
                .await
                .context("snapshotting the audience")?
                .rows_affected();
            // One more campaign for each recipient: what tells a quiet subscriber from a
            // dormant one. In subscriber order, the order engagement rows are locked in.
            sqlx::query(
                "INSERT INTO engagement (subscriber_id, campaigns, campaigns_since_signal) \
                 SELECT subscriber_id, 1, 1 FROM deliveries WHERE campaign_id = $1 AND subscriber_id IS NOT NULL \
                 ORDER BY subscriber_id \
                 ON CONFLICT (subscriber_id) DO UPDATE SET campaigns = engagement.campaigns + 1, \
                 campaigns_since_signal = engagement.campaigns_since_signal + 1",
            )
            .bind(id)
            .execute(&mut *tx)
            .await
            .context("counting the campaign for its recipients")?;
            tx.commit().await.context("committing the start of the send")?;
            Ok(recipients as i64)
        })
        .inspect(|_| self.refresh_delivery_statistics())
    }

    /// After a snapshot added many queued rows at once, Postgres's planner still believes
    /// the old row counts until autovacuum notices (up to a minute later): it estimated 76
    /// queued rows where there were 11,585, which can turn the claim's and the
    /// recording's index lookups into scans of the whole queue. Refreshing the table's
    /// statistics takes a few milliseconds; it runs beside the send.
    fn refresh_delivery_statistics(&self) {
        if let Backend::Postgres(pool) = &self.backend {
            let pool = pool.clone();
            tokio::spawn(async move {
                if let Err(err) = sqlx::query("ANALYZE deliveries").execute(&pool).await {
                    tracing::warn!(error = %err, "could not refresh the deliveries table's statistics");
                }
            });
        }
    }

    /// Pauses, resumes, cancels or unschedules; refused (with the status it has) when the
    /// campaign's status does not allow it.
    pub async fn change_campaign(
        &self,
        id: Uuid,
        change: CampaignChange,
        now: Timestamp,
    ) -> Result<(), CampaignError> {
        match change {
            CampaignChange::Pause => self.pause_campaign(id, now).await,
            CampaignChange::Resume => self.resume_campaign(id, now).await,
            CampaignChange::Cancel => self.cancel_campaign(id, now).await,
            CampaignChange::Unschedule => self.unschedule_campaign(id, now).await,
        }
    }

    /// Takes a scheduled campaign back to a draft, to be edited and sent or scheduled again.
    pub async fn unschedule_campaign(&self, id: Uuid, now: Timestamp) -> Result<(), CampaignError> {
        let updated = with_pool!(self, pool => sqlx::query(
            "UPDATE campaigns SET status = 'draft', scheduled_at = NULL, updated_at = $2 \
             WHERE id = $1 AND status = 'scheduled'",
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await
        .context("taking the campaign back to a draft")?
        .rows_affected());
        self.changed_or_refused(updated, id, "scheduled").await
    }

    /// Scheduled campaigns whose time has come (or passed while the service was down).
    pub async fn due_campaigns(&self, now: Timestamp) -> anyhow::Result<Vec<Uuid>> {
        with_pool!(self, pool => sqlx::query_scalar::<_, Uuid>(
            "SELECT id FROM campaigns WHERE status = 'scheduled' AND scheduled_at <= $1 ORDER BY scheduled_at",
        )
        .bind(now)
        .fetch_all(pool)
        .await
        .context("finding due campaigns"))
    }

    /// Moves a campaign from one of `from` to `to`; `needed` names the allowed states for
    /// the refusal message.
    async fn change_status(
        &self,
        id: Uuid,
        from: &'static str,
        to: &'static str,
        needed: &'static str,
        now: Timestamp,
    ) -> Result<(), CampaignError> {
        let sql = sqlx::AssertSqlSafe(format!(
            "UPDATE campaigns SET status = $2, updated_at = $3 WHERE id = $1 AND status IN ({from})"
        ));
        let updated = with_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(to)
            .bind(now)
            .execute(pool)
            .await
            .context("changing the campaign's status")?
            .rows_affected());
        self.changed_or_refused(updated, id, needed).await
    }

    /// Done when the update changed the campaign (one row); else refused with the status
    /// it has, when `needed` was what the change wanted.
    async fn changed_or_refused(
        &self,
        updated: u64,
        id: Uuid,
        needed: &'static str,
    ) -> Result<(), CampaignError> {
        if updated == 1 {
            Ok(())
        } else {
            Err(self.explain_refusal(id, needed).await)
        }
    }

    pub async fn pause_campaign(&self, id: Uuid, now: Timestamp) -> Result<(), CampaignError> {
        self.change_status(id, "'sending'", "paused", "sending", now)
            .await
    }

    pub async fn resume_campaign(&self, id: Uuid, now: Timestamp) -> Result<(), CampaignError> {
        self.change_status(id, "'paused'", "sending", "paused", now)
            .await
    }

    /// Cancels a scheduled, sending or paused campaign; what was not sent yet is skipped.
    /// Deliveries a sender holds right now are left to it: it sees the cancellation and
    /// skips them itself, so a copy is never counted skipped while it is being sent.
    pub async fn cancel_campaign(&self, id: Uuid, now: Timestamp) -> Result<(), CampaignError> {
        self.change_status(
            id,
            "'draft', 'scheduled', 'sending', 'paused'",
            "cancelled",
            "draft, scheduled, sending or paused",
            now,
        )
        .await?;
        with_pool!(self, pool => sqlx::query(
            "UPDATE deliveries SET state = 'skipped', smtp_reply = 'campaign cancelled' \
             WHERE campaign_id = $1 AND state = 'queued' AND (lease_until IS NULL OR lease_until < $2)",
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await
        .context("skipping the cancelled campaign's deliveries")
        .map(|_| ())?);
        Ok(())
    }

    /// Marks sending campaigns with nothing left queued as sent, and skips what a dead
    /// sender left leased in a cancelled campaign. Returns how many campaigns finished.
    pub async fn finish_campaigns(&self, now: Timestamp) -> anyhow::Result<u64> {
        with_pool!(self, pool => sqlx::query(
            "UPDATE deliveries SET state = 'skipped', smtp_reply = 'campaign cancelled' \
             WHERE state = 'queued' AND lease_until < $1 AND campaign_id IN \
             (SELECT id FROM campaigns WHERE status = 'cancelled')",
        )
        .bind(now)
        .execute(pool)
        .await
        .context("skipping deliveries of cancelled campaigns")
        .map(|_| ())?);
        with_pool!(self, pool => sqlx::query(
            "UPDATE campaigns SET status = 'sent', finished_at = $1, updated_at = $1, \
             delivered = (SELECT COUNT(*) FROM deliveries d WHERE d.campaign_id = campaigns.id AND d.state = 'sent') \
             WHERE status = 'sending' AND NOT EXISTS \
             (SELECT 1 FROM deliveries d WHERE d.campaign_id = campaigns.id AND d.state = 'queued')",
        )
        .bind(now)
        .execute(pool)
        .await
        .context("finishing campaigns")
        .map(|r| r.rows_affected()))
    }
}
