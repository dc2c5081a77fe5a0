//! Re-permission, not silent pruning: dormant subscribers are asked "still want this?";
//! a "keep me" answer keeps them (and counts as interest); those who did not answer in
//! time can be unsubscribed by the owner in one action. Nothing here runs by itself.

use anyhow::Context as _;
use uuid::Uuid;

use super::engagement::{RANKED, RefreshEngagement as _, bind_tiers};
use super::outbox::{MessageKind, queue_message};
use super::subscribers::unsubscribe_in;
use super::{BeginWrite as _, Store, Timestamp, with_pool};
use crate::domain::{TierBounds, UnsubscribeMethod};

/// What a "keep me" answer did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeepOutcome {
    /// On the list, and now known to want it (also when answered before).
    Kept {
        email: String,
    },
    /// No longer on the list: nothing to keep.
    NotSubscribed {
        email: String,
    },
    Unknown,
}

/// Where the re-permission requests stand.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct PermissionSummary {
    /// Asked, and still within the time to answer.
    pub waiting: i64,
    /// Asked, the time to answer passed, no answer and nothing human since: the ones the
    /// owner may unsubscribe.
    pub unanswered: i64,
    /// Answered "keep me" (or showed interest again after being asked).
    pub kept: i64,
    /// Unsubscribed by the owner for not answering.
    pub unsubscribed: i64,
}

/// Days a dormant subscriber gets to answer, unless the owner says otherwise.
pub const DEFAULT_ANSWER_DAYS: i64 = 14;
/// The shortest and the longest time to answer the owner may give, in days.
pub const ANSWER_DAYS: std::ops::RangeInclusive<i64> = 1..=90;

/// When a request asked at `now` must be answered by, `days` later; `None` when `days`
/// is outside `ANSWER_DAYS`.
pub fn answer_by(now: Timestamp, days: i64) -> Option<Timestamp> {
    ANSWER_DAYS
        .contains(&days)
        .then(|| Timestamp::from(now.0 + time::Duration::days(days)))
}

/// The confirmed dormant subscribers with no open request (`id`, `email`): the ones asking
/// would ask, leaving out those who paused their mail until after now. Binds $1-$6 as
/// `RANKED`, $7 now.
fn dormant_unasked() -> String {
    format!(
        "SELECT id, email FROM (SELECT ranked.id, ranked.status, ranked.tier, ranked.paused_until, s.email FROM {RANKED}\
         JOIN subscribers s ON s.id = ranked.id) x WHERE status = 'confirmed' AND tier = 'dormant' \
         AND (paused_until IS NULL OR paused_until <= $7) \
         AND NOT EXISTS (SELECT 1 FROM permission_requests p WHERE p.subscriber_id = x.id \
         AND p.closed_at IS NULL)"
    )
}

/// The open requests whose time passed without an answer or a human signal since asking.
const UNANSWERED: &str = "SELECT p.id, p.subscriber_id, p.asked_at FROM permission_requests p \
     JOIN subscribers s ON s.id = p.subscriber_id LEFT JOIN engagement e ON e.subscriber_id = s.id \
     WHERE p.closed_at IS NULL AND p.answer_by < $1 AND s.status = 'confirmed' \
     AND (e.last_signal_at IS NULL OR e.last_signal_at < p.asked_at)";

impl Store {
    /// Asks every confirmed dormant subscriber not already asked: a request answerable
    /// until `answer_by`, and the message queued, in one transaction. Returns how many.
    pub async fn ask_dormant(
        &self,
        now: Timestamp,
        answer_by: Timestamp,
        message_domain: &str,
    ) -> anyhow::Result<i64> {
        let bounds = TierBounds::at(&self.engagement_model(), now.0);
        with_pool!(self, pool, Db => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let dormant: Vec<(Uuid, String)> =
                bind_tiers::<Db, _>(sqlx::query_as(sqlx::AssertSqlSafe(dormant_unasked())), &bounds)
            .bind(now)
            .fetch_all(&mut *tx)
            .await
            .context("finding dormant subscribers")?;
            for (subscriber, email) in &dormant {
                sqlx::query(
                    "INSERT INTO permission_requests (id, subscriber_id, asked_at, answer_by) VALUES ($1, $2, $3, $4)",
                )
                .bind(Uuid::now_v7())
                .bind(subscriber)
                .bind(now)
                .bind(answer_by)
                .execute(&mut *tx)
                .await
                .context("recording a re-permission request")?;
                queue_message!(&mut *tx, MessageKind::Repermission, subscriber, email, message_domain, now);
            }
            tx.commit().await.context("committing the re-permission requests")?;
            Ok(dormant.len() as i64)
        })
    }

    /// How many subscribers `ask_dormant` would ask now.
    pub async fn dormant_to_ask(&self, now: Timestamp) -> anyhow::Result<i64> {
        let bounds = TierBounds::at(&self.engagement_model(), now.0);
        let sql = format!("SELECT COUNT(*) FROM ({}) d", dormant_unasked());
        with_pool!(self, pool, Db => bind_tiers::<Db, _>(
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql)),
            &bounds,
        )
        .bind(now)
        .fetch_one(pool)
        .await
        .context("counting dormant subscribers not yet asked"))
    }

    /// When the subscriber's open request must be answered by; `None` when there is none.
    pub async fn open_permission_request(
        &self,
        subscriber: Uuid,
    ) -> anyhow::Result<Option<Timestamp>> {
        with_pool!(self, pool => sqlx::query_scalar(
            "SELECT answer_by FROM permission_requests WHERE subscriber_id = $1 AND closed_at IS NULL",
        )
        .bind(subscriber)
        .fetch_optional(pool)
        .await
        .context("reading the open re-permission request"))
    }

    /// The subscriber said "keep me": their open request is answered, the consent history
    /// says so, and it counts as interest.
    pub async fn keep_subscriber(
        &self,
        subscriber: Uuid,
        ip: Option<&str>,
        now: Timestamp,
    ) -> anyhow::Result<KeepOutcome> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let found: Option<(String, String)> =
                sqlx::query_as("SELECT email, status FROM subscribers WHERE id = $1")
                    .bind(subscriber)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("reading the subscriber")?;
            let Some((email, status)) = found else {
                return Ok(KeepOutcome::Unknown);
            };
            if status != "confirmed" {
                return Ok(KeepOutcome::NotSubscribed { email });
            }
            let answered = sqlx::query(
                "UPDATE permission_requests SET kept_at = $2, outcome = 'kept', closed_at = $2 \
                 WHERE subscriber_id = $1 AND closed_at IS NULL",
            )
            .bind(subscriber)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("answering the re-permission request")?
            .rows_affected();
            if answered > 0 {
                sqlx::query(
                    "INSERT INTO consent_events (subscriber_id, kind, at, ip, detail) \
                     VALUES ($1, 'kept', $2, $3, 'answered the re-permission request: keep sending')",
                )
                .bind(subscriber)
                .bind(now)
                .bind(ip)
                .execute(&mut *tx)
                .await
                .context("recording the answer")?;
                tx.refresh_engagement(&self.engagement_model(), &[subscriber]).await?;
            }
            tx.commit().await.context("committing the answer")?;
            Ok(KeepOutcome::Kept { email })
        })
    }

    pub async fn permission_summary(&self, now: Timestamp) -> anyhow::Result<PermissionSummary> {
        with_pool!(self, pool => {
            let unanswered: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM ({UNANSWERED}) u"
            )))
            .bind(now)
            .fetch_one(pool)
            .await
            .context("counting unanswered requests")?;
            let (waiting, kept, unsubscribed): (i64, i64, i64) = sqlx::query_as(
                "SELECT COUNT(CASE WHEN p.closed_at IS NULL AND p.answer_by >= $1 AND s.status = 'confirmed' THEN 1 END), \
                 COUNT(CASE WHEN p.outcome = 'kept' THEN 1 END), \
                 COUNT(CASE WHEN p.outcome = 'unsubscribed' THEN 1 END) \
                 FROM permission_requests p JOIN subscribers s ON s.id = p.subscriber_id",
            )
            .bind(now)
            .fetch_one(pool)
            .await
            .context("counting re-permission requests")?;
            Ok(PermissionSummary { waiting, unanswered, kept, unsubscribed })
        })
    }

    /// The owner's one action after the time to answer: unsubscribes everyone asked who did
    /// not answer and showed no interest since, and closes the requests of those who did
    /// (or who left by themselves). Returns how many were unsubscribed.
    pub async fn unsubscribe_unanswered(&self, now: Timestamp) -> anyhow::Result<i64> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let unanswered: Vec<(Uuid, Uuid, Timestamp)> =
                sqlx::query_as(sqlx::AssertSqlSafe(UNANSWERED))
                    .bind(now)
                    .fetch_all(&mut *tx)
                    .await
                    .context("finding unanswered requests")?;
            for (request, subscriber, asked_at) in &unanswered {
                let detail = format!(
                    "owner: no answer to the re-permission request of {}",
                    asked_at.0.date()
                );
                unsubscribe_in!(tx, subscriber, UnsubscribeMethod::Owner, None::<&str>, detail, now);
                sqlx::query(
                    "UPDATE permission_requests SET outcome = 'unsubscribed', closed_at = $2 WHERE id = $1",
                )
                .bind(request)
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("closing the request")?;
            }
            // Past their time: those who showed interest after being asked are kept; those
            // who left by themselves need nothing more.
            sqlx::query(
                "UPDATE permission_requests SET outcome = CASE WHEN EXISTS (SELECT 1 FROM subscribers s \
                 WHERE s.id = permission_requests.subscriber_id AND s.status = 'confirmed') THEN 'kept' END, \
                 closed_at = $1 WHERE closed_at IS NULL AND answer_by < $1",
            )
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("closing answered requests")?;
            tx.commit().await.context("committing the unsubscriptions")?;
            Ok(unanswered.len() as i64)
        })
    }
}
