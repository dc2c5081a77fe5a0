//! Reading a subscriber's record back: one, several, or everything held about them (their
//! right of access).

use anyhow::Context as _;
use uuid::Uuid;

use super::super::dialect::Dialect;
use super::super::{Store, Timestamp, with_pool};
use super::*;
use crate::domain::Subscriber;

/// A `SELECT` of every subscriber column with its consent text, to be followed by a
/// `WHERE`.
const SELECT_SUBSCRIBERS: &str = "SELECT s.id, s.email, s.name, s.status, s.attributes, \
     s.tracking, s.created_at, s.signed_up_at, s.signup_ip, s.signup_user_agent, \
     s.signup_source, s.consent_text_version, c.text AS consent_text, s.stated_consent, \
     s.confirmed_at, s.confirmed_ip, s.unsubscribed_at, s.unsubscribe_method FROM subscribers s \
     LEFT JOIN consent_texts c ON c.version = s.consent_text_version ";
#[derive(sqlx::FromRow)]
struct SubscriberRow {
    id: Uuid,
    email: String,
    name: Option<String>,
    status: String,
    attributes: Json<serde_json::Value>,
    tracking: bool,
    created_at: Timestamp,
    signed_up_at: Timestamp,
    signup_ip: Option<String>,
    signup_user_agent: Option<String>,
    signup_source: String,
    consent_text_version: Option<String>,
    consent_text: Option<String>,
    stated_consent: Option<String>,
    confirmed_at: Option<Timestamp>,
    confirmed_ip: Option<String>,
    unsubscribed_at: Option<Timestamp>,
    unsubscribe_method: Option<String>,
}

impl SubscriberRow {
    fn into_subscriber(self) -> anyhow::Result<Subscriber> {
        let status = SubscriberStatus::parse(&self.status).with_context(|| {
            format!(
                "unknown subscriber status '{}' in the database",
                self.status
            )
        })?;
        Ok(Subscriber {
            id: self.id,
            email: self.email,
            name: self.name,
            status,
            attributes: self.attributes.0,
            tracking: self.tracking,
            created_at: self.created_at.into(),
            consent: ConsentRecord {
                signed_up_at: self.signed_up_at.into(),
                signup_ip: self.signup_ip,
                signup_user_agent: self.signup_user_agent,
                source: self.signup_source,
                consent_text_version: self.consent_text_version,
                consent_text: self.consent_text,
                stated_consent: self.stated_consent,
                confirmed_at: self.confirmed_at.map(Into::into),
                confirmed_ip: self.confirmed_ip,
                unsubscribed_at: self.unsubscribed_at.map(Into::into),
                unsubscribe_method: self.unsubscribe_method,
            },
        })
    }
}

impl Store {
    pub async fn subscriber(&self, id: Uuid) -> anyhow::Result<Option<Subscriber>> {
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, SubscriberRow>(sqlx::AssertSqlSafe(format!(
                "{SELECT_SUBSCRIBERS}WHERE s.id = $1"
            )))
                .bind(id)
                .fetch_optional(pool)
                .await
                .context("reading a subscriber")?
        });
        row.map(SubscriberRow::into_subscriber).transpose()
    }

    /// These subscribers, in no particular order (those not found left out).
    pub async fn subscribers_by_id(&self, ids: &[Uuid]) -> anyhow::Result<Vec<Subscriber>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let rows = with_pool!(self, pool, Db => sqlx::query_as::<_, SubscriberRow>(
            sqlx::AssertSqlSafe(format!("{SELECT_SUBSCRIBERS}WHERE s.id {}", Db::in_ids(1))),
        )
        .bind(Db::ids(ids))
        .fetch_all(pool)
        .await
        .context("reading subscribers")?);
        rows.into_iter()
            .map(SubscriberRow::into_subscriber)
            .collect()
    }

    /// Everything held about one person, as JSON (for their right of access).
    pub async fn export_subscriber(&self, id: Uuid) -> anyhow::Result<Option<serde_json::Value>> {
        let Some(subscriber) = self.subscriber(id).await? else {
            return Ok(None);
        };
        #[derive(sqlx::FromRow)]
        struct ConsentEventRow {
            kind: String,
            at: Timestamp,
            ip: Option<String>,
            user_agent: Option<String>,
            source: Option<String>,
            consent_text_version: Option<String>,
            detail: Option<String>,
        }
        #[derive(sqlx::FromRow)]
        struct MessageRow {
            kind: String,
            state: String,
            message_id: String,
            created_at: Timestamp,
            sent_at: Option<Timestamp>,
        }
        let note = self.subscriber_note(id).await?;
        let (events, messages) = with_pool!(self, pool => {
            let events = sqlx::query_as::<_, ConsentEventRow>(
                "SELECT kind, at, ip, user_agent, source, consent_text_version, detail \
                 FROM consent_events WHERE subscriber_id = $1 ORDER BY at, id",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .context("reading consent history")?;
            let messages = sqlx::query_as::<_, MessageRow>(
                "SELECT kind, state, message_id, created_at, sent_at FROM outbound_messages \
                 WHERE subscriber_id = $1 ORDER BY created_at",
            )
            .bind(id)
            .fetch_all(pool)
            .await
            .context("reading messages sent")?;
            (events, messages)
        });
        let rfc3339 = |t: Timestamp| {
            t.0.format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default()
        };
        let consent_history: Vec<_> = events
            .into_iter()
            .map(|e| {
                serde_json::json!({
                    "kind": e.kind, "at": rfc3339(e.at), "ip": e.ip, "user_agent": e.user_agent,
                    "source": e.source, "consent_text_version": e.consent_text_version, "detail": e.detail,
                })
            })
            .collect();
        let messages: Vec<_> = messages
            .into_iter()
            .map(|m| {
                serde_json::json!({
                    "kind": m.kind, "state": m.state, "message_id": m.message_id,
                    "queued_at": rfc3339(m.created_at), "sent_at": m.sent_at.map(rfc3339),
                })
            })
            .collect();
        Ok(Some(serde_json::json!({
            "subscriber": subscriber,
            "note": note,
            "consent_history": consent_history,
            "messages": messages,
        })))
    }
}
