//! Conversations with one subscriber: the owner answers a reply, the answer goes out
//! through the durable queue (kind `answer`) and stays in `answers`, where the subscriber's
//! timeline reads it back next to the reply it answers.

use anyhow::Context as _;
use uuid::Uuid;

use super::outbox::{MessageKind, queue_message};
use super::{BeginWrite as _, Store, Timestamp, with_pool};
use crate::domain::{SubscriberEmail, SubscriberStatus};

/// A subscriber's reply, as an answer needs it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReplyToAnswer {
    pub id: i64,
    /// With brackets: `<abc@example.com>`.
    pub message_id: Option<String>,
    pub subject: Option<String>,
    /// Its `References`, space-separated, oldest first.
    pub reference_ids: Option<String>,
    /// The subject of the campaign it answers, if it was matched to one.
    pub campaign_subject: Option<String>,
}

/// An answer ready to queue: threading headers already validated.
#[derive(Debug, Clone)]
pub struct NewAnswer {
    pub subscriber_id: Uuid,
    pub reply_id: i64,
    pub subject: String,
    pub body: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub now: Timestamp,
    /// The domain of our Message-IDs.
    pub message_domain: String,
}

/// What queueing an answer did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AnswerOutcome {
    /// Queued as this outgoing message.
    Queued(Uuid),
    /// The subscriber is gone (erased meanwhile).
    Unknown,
    /// Their address bounced or they complained: nothing more is sent to it.
    Suppressed,
}

/// What the sender needs to compose an answer.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AnswerMail {
    pub subject: String,
    pub body: String,
    pub in_reply_to: Option<String>,
    /// Space-separated, oldest first.
    pub reference_ids: Option<String>,
}

impl Store {
    /// The reply `reply` of this subscriber (a person's reply, not an automatic one), if
    /// there is one.
    pub async fn reply_to_answer(
        &self,
        subscriber: Uuid,
        reply: i64,
    ) -> anyhow::Result<Option<ReplyToAnswer>> {
        with_pool!(self, pool => sqlx::query_as::<_, ReplyToAnswer>(
            "SELECT m.id, m.message_id, m.subject, m.reference_ids, c.subject AS campaign_subject \
             FROM inbound_messages m LEFT JOIN campaigns c ON c.id = m.campaign_id \
             WHERE m.id = $1 AND m.subscriber_id = $2 AND m.kind = 'reply'",
        )
        .bind(reply)
        .bind(subscriber)
        .fetch_optional(pool)
        .await
        .context("reading the reply to answer"))
    }

    /// Queues the owner's answer to a reply and keeps its text, in one transaction.
    pub async fn queue_answer(&self, answer: &NewAnswer) -> anyhow::Result<AnswerOutcome> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let found: Option<(String, String)> =
                sqlx::query_as("SELECT email, status FROM subscribers WHERE id = $1")
                    .bind(answer.subscriber_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("reading the subscriber to answer")?;
            let Some((email, status)) = found else {
                return Ok(AnswerOutcome::Unknown);
            };
            if SubscriberStatus::parse(&status).is_some_and(SubscriberStatus::is_suppressed) {
                return Ok(AnswerOutcome::Suppressed);
            }
            let ascii = SubscriberEmail::parse(&email)
                .map(|e| e.ascii().to_string())
                .unwrap_or(email);
            let id = queue_message!(
                &mut *tx,
                MessageKind::Answer,
                answer.subscriber_id,
                &ascii,
                &answer.message_domain,
                answer.now
            );
            sqlx::query(
                "INSERT INTO answers (id, subscriber_id, reply_id, subject, body, in_reply_to, \
                 reference_ids, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(id)
            .bind(answer.subscriber_id)
            .bind(answer.reply_id)
            .bind(&answer.subject)
            .bind(&answer.body)
            .bind(&answer.in_reply_to)
            .bind((!answer.references.is_empty()).then(|| answer.references.join(" ")))
            .bind(answer.now)
            .execute(&mut *tx)
            .await
            .context("keeping the answer")?;
            tx.commit().await.context("committing the answer")?;
            Ok(AnswerOutcome::Queued(id))
        })
    }

    /// The answer carried by queued message `message`.
    pub async fn answer_mail(&self, message: Uuid) -> anyhow::Result<Option<AnswerMail>> {
        with_pool!(self, pool => sqlx::query_as::<_, AnswerMail>(
            "SELECT subject, body, in_reply_to, reference_ids FROM answers WHERE id = $1",
        )
        .bind(message)
        .fetch_optional(pool)
        .await
        .context("reading an answer"))
    }
}
