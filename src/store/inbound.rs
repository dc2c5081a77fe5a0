//! Mail that comes back: finding what it answers, storing it once, and what it does to the
//! subscriber (a hard bounce or a complaint stops all mail to them).

use anyhow::Context as _;
use sqlx::{Database, Encode, Executor, IntoArguments, Type};
use uuid::Uuid;

use super::dialect::Dialect;
use super::engagement::RefreshEngagement as _;
use super::{BeginWrite as _, Store, Timestamp, with_pool};

/// Soft bounces within `SOFT_BOUNCE_DAYS` that suppress an address like a hard bounce.
const SOFT_BOUNCES_TO_SUPPRESS: i64 = 3;
const SOFT_BOUNCE_DAYS: i64 = 30;

/// The copy (or the subscriber) an inbound message belongs to.
#[derive(Debug, Clone, Default)]
pub struct Match {
    pub subscriber_id: Option<Uuid>,
    pub delivery_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    pub matched_by: Option<&'static str>,
}

/// A reply as the dashboard lists it.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct RecentReply {
    pub received_at: Timestamp,
    pub subject: Option<String>,
    /// The reply's own words (quoted text trimmed).
    pub text: Option<String>,
    pub subscriber_id: Option<Uuid>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub from_address: Option<String>,
    /// Only the From address ties it to the subscriber: shown, not counted.
    pub unverified: bool,
}

/// One inbound message as stored.
#[derive(Debug, Clone)]
pub struct NewInbound {
    pub kind: &'static str,
    pub matched: Match,
    /// What ties it to its subscriber beyond an address: `token`, `message-id`,
    /// `authentication`; `None`: nothing, so it changes nothing by itself.
    pub proof: Option<&'static str>,
    pub message_id: Option<String>,
    /// The Message-IDs of its `References`, oldest first (an answer threads under them).
    pub references: Vec<String>,
    pub from_address: Option<String>,
    pub subject: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub text: Option<String>,
    pub status: Option<String>,
    pub detail: Option<String>,
    pub received_at: Timestamp,
}

/// What storing an inbound message did; each stored message has its number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundOutcome {
    Stored(i64),
    /// Its Message-ID was seen before: nothing new.
    Duplicate,
    /// Stored, and the subscriber will not be mailed again (`bounced` or `complained`).
    Suppressed(i64, &'static str),
    /// Stored: it would stop mail to its subscriber, but only an address ties it to them,
    /// so it waits for the owner.
    NeedsReview(i64),
}

impl InboundOutcome {
    /// The stored message's number; `None` for a duplicate.
    pub fn id(&self) -> Option<i64> {
        match self {
            Self::Stored(id) | Self::Suppressed(id, _) | Self::NeedsReview(id) => Some(*id),
            Self::Duplicate => None,
        }
    }
}

/// Stops mail to `subscriber` (`bounced` or `complained`) with a consent event saying why,
/// inside the caller's transaction; returns whether their status changed. A complaint
/// outranks a bounce; neither is undone by the other.
pub(crate) async fn suppress<DB: Database>(
    conn: &mut DB::Connection,
    subscriber: Uuid,
    status: &str,
    detail: &str,
    at: Timestamp,
) -> anyhow::Result<bool>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    Uuid: for<'e> Encode<'e, DB> + Type<DB>,
    Timestamp: for<'e> Encode<'e, DB> + Type<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    for<'r> (Uuid,): sqlx::FromRow<'r, DB::Row>,
{
    let changed: Option<Uuid> = sqlx::query_scalar(
        "UPDATE subscribers SET status = $2, updated_at = $3 WHERE id = $1 \
         AND status <> 'complained' AND status <> $2 RETURNING id",
    )
    .bind(subscriber)
    .bind(status)
    .bind(at)
    .fetch_optional(&mut *conn)
    .await
    .context("suppressing the subscriber")?;
    if changed.is_some() {
        sqlx::query(
            "INSERT INTO consent_events (subscriber_id, kind, at, detail) VALUES ($1, $2, $3, $4)",
        )
        .bind(subscriber)
        .bind(status)
        .bind(at)
        .bind(detail)
        .execute(&mut *conn)
        .await
        .context("recording the suppression")?;
    }
    Ok(changed.is_some())
}

/// A reply with proof says its copy was read, as a human click does; a copy read for the
/// first time adds one to its campaign's engaged recipients (the update that finds it
/// unread holds its row, so a concurrent open cannot count it too).
async fn record_read<DB: Database>(
    conn: &mut DB::Connection,
    delivery: Uuid,
    at: Timestamp,
) -> anyhow::Result<()>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    Uuid: for<'e> Encode<'e, DB> + Type<DB>,
    Timestamp: for<'e> Encode<'e, DB> + Type<DB>,
    for<'r> (Uuid,): sqlx::FromRow<'r, DB::Row>,
{
    let first_read: Option<Uuid> = sqlx::query_scalar(
        "UPDATE deliveries SET opened_at = $2, replied_at = COALESCE(replied_at, $2) \
         WHERE id = $1 AND opened_at IS NULL RETURNING campaign_id",
    )
    .bind(delivery)
    .bind(at)
    .fetch_optional(&mut *conn)
    .await
    .context("recording the reply on its copy")?;
    match first_read {
        Some(campaign) => {
            sqlx::query("UPDATE campaigns SET engaged = engaged + 1 WHERE id = $1")
                .bind(campaign)
                .execute(&mut *conn)
                .await
                .context("counting the campaign's engaged recipients")?;
        }
        None => {
            sqlx::query(
                "UPDATE deliveries SET replied_at = COALESCE(replied_at, $2) WHERE id = $1",
            )
            .bind(delivery)
            .bind(at)
            .execute(&mut *conn)
            .await
            .context("recording the reply on its copy")?;
        }
    }
    Ok(())
}

/// What a hard bounce or a complaint does to its subscriber: the status, and the words of
/// the consent event.
pub(crate) fn suppression(kind: &str, status: Option<&str>) -> Option<(&'static str, String)> {
    match kind {
        "hard_bounce" => Some((
            "bounced",
            format!(
                "hard bounce{}",
                status.map(|s| format!(" {s}")).unwrap_or_default()
            ),
        )),
        "complaint" => Some(("complained", "marked the newsletter as spam".to_string())),
        _ => None,
    }
}

impl Store {
    /// The delivery whose copy carried one of these Message-IDs (the first in their
    /// order that is ours), in one query.
    pub async fn match_message_ids(&self, message_ids: &[String]) -> anyhow::Result<Match> {
        if message_ids.is_empty() {
            return Ok(Match::default());
        }
        let found: Vec<(String, Uuid, Uuid, Option<Uuid>)> = with_pool!(self, pool, Db => sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT message_id, id, campaign_id, subscriber_id FROM deliveries \
                 WHERE message_id {}",
                Db::in_texts(1)
            )))
            .bind(Db::texts(message_ids))
            .fetch_all(pool)
            .await
            .context("matching Message-IDs")?);
        let first = message_ids
            .iter()
            .find_map(|wanted| found.iter().find(|(id, ..)| id == wanted));
        Ok(first
            .map(|(_, delivery, campaign, subscriber)| Match {
                subscriber_id: *subscriber,
                delivery_id: Some(*delivery),
                campaign_id: Some(*campaign),
                matched_by: None,
            })
            .unwrap_or_default())
    }

    /// The campaign copy, or else the confirmation or welcome message, with this id.
    pub async fn match_message(&self, id: Uuid) -> anyhow::Result<Match> {
        let delivery: Option<(Uuid, Option<Uuid>)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT campaign_id, subscriber_id FROM deliveries WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("matching a delivery")?);
        if let Some((campaign, subscriber)) = delivery {
            return Ok(Match {
                subscriber_id: subscriber,
                delivery_id: Some(id),
                campaign_id: Some(campaign),
                matched_by: None,
            });
        }
        let subscriber: Option<Option<Uuid>> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT subscriber_id FROM outbound_messages WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("matching a message")?);
        Ok(Match {
            subscriber_id: subscriber.flatten(),
            ..Match::default()
        })
    }

    /// The subscriber with this address (by its normalised key).
    pub async fn subscriber_id_by_email_key(&self, key: &str) -> anyhow::Result<Option<Uuid>> {
        with_pool!(self, pool => sqlx::query_scalar::<_, Uuid>(
            "SELECT id FROM subscribers WHERE email_key = $1",
        )
        .bind(key)
        .fetch_optional(pool)
        .await
        .context("finding a subscriber by address"))
    }

    /// Stores the message once (by Message-ID) and applies what it means for the
    /// subscriber, in one transaction.
    pub async fn record_inbound(&self, message: &NewInbound) -> anyhow::Result<InboundOutcome> {
        with_pool!(self, pool, Db => {
            // A write transaction from the start: it reads the subscriber's status before it
            // writes, and on SQLite a read that turns into a write fails when another writer
            // (the tracking writer, say) got in between.
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            // Tied only by an address, a bounce or complaint that would stop mail to a
            // subscriber still receiving it waits for the owner.
            let review = match (message.matched.subscriber_id, message.proof) {
                (Some(subscriber), None) if suppression(message.kind, None).is_some() => {
                    let status: Option<String> =
                        sqlx::query_scalar("SELECT status FROM subscribers WHERE id = $1")
                            .bind(subscriber)
                            .fetch_optional(&mut *tx)
                            .await
                            .context("reading the subscriber's status")?;
                    status
                        .is_some_and(|s| s == "pending" || s == "confirmed")
                        .then_some("pending")
                }
                _ => None,
            };
            let inserted: Option<i64> = sqlx::query_scalar(
                "INSERT INTO inbound_messages (received_at, kind, subscriber_id, delivery_id, campaign_id, \
                 matched_by, message_id, from_address, subject, sent_at, text, status, detail, \
                 reference_ids, proof, review) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (message_id) DO NOTHING RETURNING id",
            )
            .bind(message.received_at)
            .bind(message.kind)
            .bind(message.matched.subscriber_id)
            .bind(message.matched.delivery_id)
            .bind(message.matched.campaign_id)
            .bind(message.matched.matched_by)
            .bind(&message.message_id)
            .bind(&message.from_address)
            .bind(&message.subject)
            .bind(message.sent_at)
            .bind(&message.text)
            .bind(&message.status)
            .bind(&message.detail)
            .bind((!message.references.is_empty()).then(|| message.references.join(" ")))
            .bind(message.proof)
            .bind(review)
            .fetch_optional(&mut *tx)
            .await
            .context("storing an inbound message")?;
            let Some(id) = inserted else {
                return Ok(InboundOutcome::Duplicate);
            };
            let mut outcome = if review.is_some() {
                InboundOutcome::NeedsReview(id)
            } else {
                InboundOutcome::Stored(id)
            };
            if let Some(subscriber) = message.matched.subscriber_id
                && message.proof.is_some()
            {
                let due = match message.kind {
                    "soft_bounce" => {
                        let since = Timestamp::from(
                            message.received_at.0 - time::Duration::days(SOFT_BOUNCE_DAYS),
                        );
                        let soft: i64 = sqlx::query_scalar(
                            "SELECT COUNT(*) FROM inbound_messages WHERE subscriber_id = $1 \
                             AND kind = 'soft_bounce' AND proof IS NOT NULL AND received_at >= $2",
                        )
                        .bind(subscriber)
                        .bind(since)
                        .fetch_one(&mut *tx)
                        .await
                        .context("counting soft bounces")?;
                        (soft >= SOFT_BOUNCES_TO_SUPPRESS).then(|| ("bounced", format!(
                            "{soft} soft bounces in {SOFT_BOUNCE_DAYS} days"
                        )))
                    }
                    kind => suppression(kind, message.status.as_deref()),
                };
                if let Some((status, detail)) = due
                    && suppress::<Db>(&mut tx, subscriber, status, &detail, message.received_at).await?
                {
                    outcome = InboundOutcome::Suppressed(id, status);
                }
            }
            if message.kind == "reply"
                && message.proof.is_some()
                && let Some(subscriber) = message.matched.subscriber_id
            {
                if let Some(delivery) = message.matched.delivery_id {
                    record_read::<Db>(&mut tx, delivery, message.received_at).await?;
                }
                tx.refresh_engagement(&self.engagement_model(), &[subscriber]).await?;
            }
            tx.commit().await.context("committing an inbound message")?;
            Ok(outcome)
        })
    }

    /// The newest replies from people (automatic replies left out), newest first.
    pub async fn latest_replies(&self, limit: i64) -> anyhow::Result<Vec<RecentReply>> {
        with_pool!(self, pool => sqlx::query_as::<_, RecentReply>(
            "SELECT i.received_at, i.subject, i.text, i.subscriber_id, s.email, s.name, i.from_address, \
             (i.proof IS NULL AND i.subscriber_id IS NOT NULL) AS unverified \
             FROM inbound_messages i LEFT JOIN subscribers s ON s.id = i.subscriber_id \
             WHERE i.kind = 'reply' ORDER BY i.received_at DESC, i.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("reading the latest replies"))
    }
}
