//! What the owner decides about inbound mail that only an address ties to a subscriber:
//! the "Needs review" list of bounces and complaints (apply or dismiss each), marking an
//! unverified reply genuine, and lifting a bounce that was wrong.

use anyhow::Context as _;
use uuid::Uuid;

use super::engagement::RefreshEngagement as _;
use super::inbound::{suppress, suppression};
use super::{BeginWrite as _, Store, Timestamp, with_pool};

/// One inbound message as the owner's lists show it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct InboundEntry {
    pub id: i64,
    pub received_at: Timestamp,
    /// reply, auto_reply, hard_bounce, soft_bounce or complaint.
    pub kind: String,
    pub subscriber_id: Option<Uuid>,
    /// The subscriber's address, when it is matched to one.
    pub email: Option<String>,
    pub campaign_id: Option<Uuid>,
    pub matched_by: Option<String>,
    /// `token`, `message-id`, `authentication` or `owner`; `null`: only an address ties it.
    pub proof: Option<String>,
    /// `pending`, `applied` or `dismissed` for a bounce or complaint tied by an address only.
    pub review: Option<String>,
    pub reviewed_at: Option<Timestamp>,
    pub from_address: Option<String>,
    pub subject: Option<String>,
    /// A reply's text; a bounce's diagnostic.
    pub text: Option<String>,
    /// A bounce's status code.
    pub status: Option<String>,
    /// Why an automatic reply is one; a complaint's feedback type.
    pub detail: Option<String>,
}

/// The owner's decision on a bounce or complaint waiting for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewDecision {
    /// It is right: stop mail to the subscriber, as if it had been proven.
    Apply,
    /// It is not: keep it, change nothing.
    Dismiss,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReviewOutcome {
    /// Applied; `Some(status)` when it stopped mail to the subscriber (`bounced`,
    /// `complained`), `None` when they had left or been suppressed meanwhile.
    Applied(Option<&'static str>),
    Dismissed,
    /// The message is not waiting for review (decided already, or nothing to review).
    NotWaiting,
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GenuineOutcome {
    /// Counted now, for this subscriber.
    Marked(Uuid),
    /// Already counted (proven by a token, a Message-ID, a trusted server or the owner).
    AlreadyVerified,
    /// No reply of a subscriber with that id.
    NotFound,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiftOutcome {
    Lifted,
    /// Their status is not `bounced` (it is this one): nothing changed.
    NotBounced(String),
    NotFound,
}

const ENTRY_COLUMNS: &str = "SELECT m.id, m.received_at, m.kind, m.subscriber_id, s.email, \
     m.campaign_id, m.matched_by, m.proof, m.review, m.reviewed_at, m.from_address, m.subject, \
     m.text, m.status, m.detail \
     FROM inbound_messages m LEFT JOIN subscribers s ON s.id = m.subscriber_id ";

impl Store {
    /// Inbound messages, newest first: those waiting for the owner's review when
    /// `review_only`, else all of them.
    pub async fn inbound_messages(
        &self,
        review_only: bool,
        limit: i64,
        offset: i64,
    ) -> anyhow::Result<Vec<InboundEntry>> {
        let filter = if review_only {
            "WHERE m.review = 'pending' "
        } else {
            ""
        };
        let sql = format!(
            "{ENTRY_COLUMNS}{filter}ORDER BY m.received_at DESC, m.id DESC LIMIT $1 OFFSET $2"
        );
        with_pool!(self, pool => sqlx::query_as::<_, InboundEntry>(sqlx::AssertSqlSafe(sql.clone()))
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await
            .context("listing inbound messages"))
    }

    /// How many bounces and complaints wait for the owner's review.
    pub async fn review_count(&self) -> anyhow::Result<i64> {
        with_pool!(self, pool => sqlx::query_scalar(
            "SELECT COUNT(*) FROM inbound_messages WHERE review = 'pending'",
        )
        .fetch_one(pool)
        .await
        .context("counting inbound messages waiting for review"))
    }

    /// Applies or dismisses a bounce or complaint waiting for review, once.
    pub async fn decide_review(
        &self,
        id: i64,
        decision: ReviewDecision,
        now: Timestamp,
    ) -> anyhow::Result<ReviewOutcome> {
        let (review, proof) = match decision {
            ReviewDecision::Apply => ("applied", Some("owner")),
            ReviewDecision::Dismiss => ("dismissed", None),
        };
        with_pool!(self, pool, Db => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let decided: Option<(String, Option<Uuid>, Option<String>)> = sqlx::query_as(
                "UPDATE inbound_messages SET review = $2, reviewed_at = $3, \
                 proof = COALESCE($4, proof) WHERE id = $1 AND review = 'pending' \
                 RETURNING kind, subscriber_id, status",
            )
            .bind(id)
            .bind(review)
            .bind(now)
            .bind(proof)
            .fetch_optional(&mut *tx)
            .await
            .context("recording the owner's review")?;
            let Some((kind, subscriber, status)) = decided else {
                let exists: Option<i64> =
                    sqlx::query_scalar("SELECT id FROM inbound_messages WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .context("finding the inbound message")?;
                return Ok(if exists.is_some() {
                    ReviewOutcome::NotWaiting
                } else {
                    ReviewOutcome::NotFound
                });
            };
            let outcome = match (decision, subscriber, suppression(&kind, status.as_deref())) {
                (ReviewDecision::Apply, Some(subscriber), Some((status, detail))) => {
                    let detail = format!("{detail}; applied by the owner after review");
                    let changed = suppress::<Db>(&mut tx, subscriber, status, &detail, now).await?;
                    ReviewOutcome::Applied(changed.then_some(status))
                }
                (ReviewDecision::Apply, ..) => ReviewOutcome::Applied(None),
                (ReviewDecision::Dismiss, ..) => ReviewOutcome::Dismissed,
            };
            tx.commit().await.context("committing the owner's review")?;
            Ok(outcome)
        })
    }

    /// The owner vouches for a reply matched by its From address alone: from now on it
    /// counts as the subscriber's reply.
    pub async fn mark_reply_genuine(
        &self,
        id: i64,
        now: Timestamp,
    ) -> anyhow::Result<GenuineOutcome> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let found: Option<(Option<Uuid>, Option<String>)> = sqlx::query_as(
                "SELECT subscriber_id, proof FROM inbound_messages WHERE id = $1 AND kind = 'reply'",
            )
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .context("reading the reply")?;
            let subscriber = match found {
                Some((Some(subscriber), None)) => subscriber,
                Some((Some(_), Some(_))) => return Ok(GenuineOutcome::AlreadyVerified),
                _ => return Ok(GenuineOutcome::NotFound),
            };
            sqlx::query(
                "UPDATE inbound_messages SET proof = 'owner', reviewed_at = $2 \
                 WHERE id = $1 AND proof IS NULL",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("marking the reply genuine")?;
            tx.refresh_engagement(&self.engagement_model(), &[subscriber]).await?;
            tx.commit().await.context("committing the genuine reply")?;
            Ok(GenuineOutcome::Marked(subscriber))
        })
    }

    /// Takes back a bounce that was wrong: the subscriber is confirmed again, with a consent
    /// event saying who did it and why. A complaint is never lifted this way: only the
    /// person can confirm again.
    pub async fn lift_bounce(
        &self,
        subscriber: Uuid,
        by: &str,
        reason: &str,
        now: Timestamp,
    ) -> anyhow::Result<LiftOutcome> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let status: Option<String> =
                sqlx::query_scalar("SELECT status FROM subscribers WHERE id = $1")
                    .bind(subscriber)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("reading the subscriber's status")?;
            match status.as_deref() {
                None => return Ok(LiftOutcome::NotFound),
                Some("bounced") => {}
                Some(other) => return Ok(LiftOutcome::NotBounced(other.to_string())),
            }
            sqlx::query(
                "UPDATE subscribers SET status = 'confirmed', updated_at = $2 \
                 WHERE id = $1 AND status = 'bounced'",
            )
            .bind(subscriber)
            .bind(now)
            .execute(&mut *tx)
            .await
            .context("lifting the bounce")?;
            sqlx::query(
                "INSERT INTO consent_events (subscriber_id, kind, at, source, detail) \
                 VALUES ($1, 'bounce_lifted', $2, $3, $4)",
            )
            .bind(subscriber)
            .bind(now)
            .bind(by)
            .bind(format!("lifted by {by}: {reason}"))
            .execute(&mut *tx)
            .await
            .context("recording the lifted bounce")?;
            tx.commit().await.context("committing the lifted bounce")?;
            Ok(LiftOutcome::Lifted)
        })
    }
}
