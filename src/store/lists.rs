//! The list in bulk: adding a batch of imported subscribers in one transaction, and
//! reading the whole list back a page at a time for an export.
//!
//! A batch is a few statements whatever its size: the rows travel as one JSON document
//! (`json_each` on SQLite, `jsonb_to_recordset` on Postgres), so a 10,000-row import is a
//! few dozen short transactions, never one round trip per row.

use std::collections::{HashMap, HashSet};

use anyhow::Context as _;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::engagement::{bind_tiers, ranked_subscribers};
use super::outbox::MessageKind;
use super::subscribers::erased_hash;
use super::{Backend, BeginWrite as _, Store, Timestamp, with_pool};
use crate::domain::{SignupSource, SubscriberEmail, SubscriberName, SubscriberStatus, TierBounds};

/// One subscriber to add.
#[derive(Debug, Clone)]
pub struct ImportCandidate {
    pub email: SubscriberEmail,
    pub name: Option<SubscriberName>,
    pub attributes: serde_json::Value,
}

/// How a batch adds its subscribers.
#[derive(Debug, Clone)]
pub struct ImportTerms<'a> {
    /// `Some(text)`: added as confirmed on the owner's word, `text` kept as their stated
    /// consent; `None`: added pending, each sent a confirmation.
    pub stated_consent: Option<&'a str>,
    /// The consent history entry each new subscriber gets.
    pub detail: &'a str,
    pub now: Timestamp,
    /// The domain of our Message-IDs.
    pub message_domain: &'a str,
}

/// What happened to one candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    Added,
    /// Pending or confirmed already: left as they are.
    AlreadyOnList,
    /// Unsubscribed, bounced or complained: not added back, not changed.
    Left(SubscriberStatus),
    /// Erased at their request: only they can sign up again.
    Erased,
}

/// One subscriber as an export shows them.
#[derive(Debug, Clone)]
pub struct ExportedSubscriber {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub status: String,
    pub tier: String,
    pub score: f64,
    pub signed_up_at: OffsetDateTime,
    pub confirmed_at: Option<OffsetDateTime>,
    pub last_human_activity: Option<OffsetDateTime>,
    pub attributes: serde_json::Value,
}

/// The statements of a batch, per backend. Each takes a JSON array as `$1`.
struct BatchSql {
    existing: &'static str,
    erased: &'static str,
    insert: &'static str,
    consent: &'static str,
    queue: &'static str,
}

const SQLITE: BatchSql = BatchSql {
    existing: "SELECT email_key, status FROM subscribers WHERE email_key IN (SELECT value FROM json_each($1))",
    erased: "SELECT email_hash FROM erased_addresses WHERE email_hash IN (SELECT value FROM json_each($1))",
    insert: "INSERT INTO subscribers (id, email, email_key, name, status, attributes, created_at, \
             updated_at, signed_up_at, signup_source, stated_consent, confirmed_at, last_confirmation_sent_at) \
             SELECT unhex(value ->> 'id'), value ->> 'email', value ->> 'key', value ->> 'name', $2, \
             value ->> 'attributes', $3, $3, $3, $4, $5, $6, $7 FROM json_each($1) WHERE true \
             ON CONFLICT (email_key) DO NOTHING RETURNING id",
    consent: "INSERT INTO consent_events (subscriber_id, kind, at, source, detail) \
              SELECT unhex(value), $2, $3, $4, $5 FROM json_each($1)",
    queue: "INSERT INTO outbound_messages (id, kind, subscriber_id, recipient, state, attempts, \
            next_attempt_at, message_id, created_at) SELECT unhex(value ->> 'id'), $2, \
            unhex(value ->> 'subscriber'), value ->> 'recipient', 'queued', 0, $3, value ->> 'message_id', $3 \
            FROM json_each($1)",
};

const POSTGRES: BatchSql = BatchSql {
    existing: "SELECT email_key, status FROM subscribers WHERE email_key IN \
               (SELECT jsonb_array_elements_text($1::jsonb))",
    erased: "SELECT email_hash FROM erased_addresses WHERE email_hash IN \
             (SELECT jsonb_array_elements_text($1::jsonb))",
    insert: "INSERT INTO subscribers (id, email, email_key, name, status, attributes, created_at, \
             updated_at, signed_up_at, signup_source, stated_consent, confirmed_at, last_confirmation_sent_at) \
             SELECT r.id, r.email, r.key, r.name, $2, r.attributes::jsonb, $3, $3, $3, $4, $5, $6, $7 \
             FROM jsonb_to_recordset($1::jsonb) AS r (id uuid, email text, key text, name text, attributes text) \
             ON CONFLICT (email_key) DO NOTHING RETURNING id",
    consent: "INSERT INTO consent_events (subscriber_id, kind, at, source, detail) \
              SELECT value::uuid, $2, $3, $4, $5 FROM jsonb_array_elements_text($1::jsonb)",
    queue: "INSERT INTO outbound_messages (id, kind, subscriber_id, recipient, state, attempts, \
            next_attempt_at, message_id, created_at) SELECT r.id, $2, r.subscriber, r.recipient, 'queued', 0, \
            $3, r.message_id, $3 FROM jsonb_to_recordset($1::jsonb) \
            AS r (id uuid, subscriber uuid, recipient text, message_id text)",
};

fn json_strings(values: impl IntoIterator<Item = String>) -> String {
    serde_json::Value::Array(values.into_iter().map(serde_json::Value::String).collect())
        .to_string()
}

impl Store {
    /// Adds a batch of subscribers (distinct addresses) in one transaction: those already
    /// on the list, who left it, or were erased are left alone; each new one gets a consent
    /// history entry and, when pending, a queued confirmation. Returns an outcome per
    /// candidate, in order.
    pub async fn import_batch(
        &self,
        candidates: &[ImportCandidate],
        terms: &ImportTerms<'_>,
    ) -> anyhow::Result<Vec<ImportOutcome>> {
        if candidates.is_empty() {
            return Ok(Vec::new());
        }
        let sql = match self.backend {
            Backend::Sqlite(_) => &SQLITE,
            Backend::Postgres(_) => &POSTGRES,
        };
        let keys: Vec<String> = candidates.iter().map(|c| c.email.key()).collect();
        let hashes: Vec<String> = candidates.iter().map(|c| erased_hash(&c.email)).collect();
        let confirmed = terms.stated_consent.is_some();
        let status = if confirmed { "confirmed" } else { "pending" };
        let confirmed_at = confirmed.then_some(terms.now);
        let last_confirmation = (!confirmed).then_some(terms.now);
        let kind = if confirmed {
            "added_confirmed"
        } else {
            "added"
        };
        let source = SignupSource::Import.as_str();

        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting an import batch")?;
            let existing: HashMap<String, String> = sqlx::query_as::<_, (String, String)>(sql.existing)
                .bind(json_strings(keys.iter().cloned()))
                .fetch_all(&mut *tx)
                .await
                .context("finding addresses already on the list")?
                .into_iter()
                .collect();
            let erased: HashSet<String> = sqlx::query_scalar::<_, String>(sql.erased)
                .bind(json_strings(hashes.iter().cloned()))
                .fetch_all(&mut *tx)
                .await
                .context("finding erased addresses")?
                .into_iter()
                .collect();

            let mut outcomes = Vec::with_capacity(candidates.len());
            let mut new_rows = Vec::new();
            let mut ids = Vec::new();
            for ((candidate, key), hash) in candidates.iter().zip(&keys).zip(&hashes) {
                let outcome = match existing.get(key).map(|s| SubscriberStatus::parse(s)) {
                    Some(Some(status @ (SubscriberStatus::Unsubscribed
                        | SubscriberStatus::Bounced
                        | SubscriberStatus::Complained))) => ImportOutcome::Left(status),
                    Some(_) => ImportOutcome::AlreadyOnList,
                    None if erased.contains(hash) => ImportOutcome::Erased,
                    None => {
                        let id = Uuid::now_v7();
                        ids.push(Some(id));
                        new_rows.push(serde_json::json!({
                            "id": id.simple().to_string(),
                            "email": candidate.email.as_str(),
                            "key": key,
                            "name": candidate.name.as_ref().map(SubscriberName::as_str),
                            "attributes": candidate.attributes.to_string(),
                        }));
                        outcomes.push(ImportOutcome::Added);
                        continue;
                    }
                };
                ids.push(None);
                outcomes.push(outcome);
            }

            let inserted: HashSet<Uuid> = if new_rows.is_empty() {
                HashSet::new()
            } else {
                sqlx::query_scalar::<_, Uuid>(sql.insert)
                    .bind(serde_json::Value::Array(new_rows).to_string())
                    .bind(status)
                    .bind(terms.now)
                    .bind(source)
                    .bind(terms.stated_consent)
                    .bind(confirmed_at)
                    .bind(last_confirmation)
                    .fetch_all(&mut *tx)
                    .await
                    .context("adding the imported subscribers")?
                    .into_iter()
                    .collect()
            };
            // An address that signed up between our look and our insert (Postgres only:
            // SQLite holds the write lock throughout) is on the list already.
            for (outcome, id) in outcomes.iter_mut().zip(&ids) {
                if let Some(id) = id && !inserted.contains(id) {
                    *outcome = ImportOutcome::AlreadyOnList;
                }
            }

            let added: Vec<(Uuid, &ImportCandidate)> = ids
                .iter()
                .zip(candidates)
                .filter_map(|(id, candidate)| id.filter(|id| inserted.contains(id)).map(|id| (id, candidate)))
                .collect();
            if !added.is_empty() {
                sqlx::query(sql.consent)
                    .bind(json_strings(added.iter().map(|(id, _)| id.simple().to_string())))
                    .bind(kind)
                    .bind(terms.now)
                    .bind(source)
                    .bind(terms.detail)
                    .execute(&mut *tx)
                    .await
                    .context("recording the imported subscribers' consent")?;
            }
            if !added.is_empty() && !confirmed {
                let messages: Vec<serde_json::Value> = added
                    .iter()
                    .map(|(id, candidate)| {
                        let message = Uuid::now_v7();
                        serde_json::json!({
                            "id": message.simple().to_string(),
                            "subscriber": id.simple().to_string(),
                            "recipient": candidate.email.ascii(),
                            "message_id": format!("<{}@{}>", message.simple(), terms.message_domain),
                        })
                    })
                    .collect();
                sqlx::query(sql.queue)
                    .bind(serde_json::Value::Array(messages).to_string())
                    .bind(MessageKind::Confirmation.as_str())
                    .bind(terms.now)
                    .execute(&mut *tx)
                    .await
                    .context("queueing the confirmations")?;
            }
            tx.commit().await.context("committing the import batch")?;
            Ok(outcomes)
        })
    }

    /// Up to `limit` subscribers after `after` (by id, which follows signup order), with
    /// their tier and score at `now`, for an export.
    pub async fn export_page(
        &self,
        after: Option<Uuid>,
        limit: i64,
        now: OffsetDateTime,
    ) -> anyhow::Result<Vec<ExportedSubscriber>> {
        #[derive(sqlx::FromRow)]
        struct Row {
            id: Uuid,
            email: String,
            name: Option<String>,
            status: String,
            tier: String,
            rank: Option<f64>,
            signed_up_at: Timestamp,
            confirmed_at: Option<Timestamp>,
            last_signal_at: Option<Timestamp>,
            attributes: Json<serde_json::Value>,
        }
        let bounds = TierBounds::at(&self.engagement_model, now);
        let rows: Vec<Row> = with_pool!(self, pool => bind_tiers!(sqlx::query_as(concat!(
            "SELECT ranked.id, s.email, s.name, ranked.status, ranked.tier, ranked.rank, s.signed_up_at, ",
            "s.confirmed_at, ranked.last_signal_at, s.attributes FROM ",
            ranked_subscribers!(),
            "JOIN subscribers s ON s.id = ranked.id ",
            "WHERE ($7 IS NULL OR ranked.id > $7) ORDER BY ranked.id LIMIT $8"
        )), bounds)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("reading subscribers for an export")?);
        Ok(rows
            .into_iter()
            .map(|row| ExportedSubscriber {
                id: row.id,
                email: row.email,
                name: row.name,
                status: row.status,
                tier: row.tier,
                score: self.engagement_model.score(row.rank, now),
                signed_up_at: row.signed_up_at.0,
                confirmed_at: row.confirmed_at.map(|t| t.0),
                last_human_activity: row.last_signal_at.map(|t| t.0),
                attributes: row.attributes.0,
            })
            .collect())
    }
}
