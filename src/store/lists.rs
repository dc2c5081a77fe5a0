//! The list in bulk: adding a batch of imported subscribers in one transaction, and
//! reading the whole list back a page at a time for an export.
//!
//! A batch is a few statements whatever its size: the rows travel as one table (see
//! `dialect::Rows`), so a 10,000-row import is a few dozen short transactions, never one
//! round trip per row.

use std::collections::{HashMap, HashSet};

use anyhow::Context as _;
use sqlx::types::Json;
use time::OffsetDateTime;
use uuid::Uuid;

use super::dialect::{Dialect, Rows};
use super::engagement::{RANKED, bind_tiers};
use super::outbox::MessageKind;
use super::subscribers::erased_hash;
use super::{BeginWrite as _, Store, Timestamp, with_pool};
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

/// Where each candidate stands before the batch writes anything: their outcome, and the
/// id a new subscriber will get (`None` for the others).
fn sort_candidates(
    candidates: &[ImportCandidate],
    keys: &[String],
    hashes: &[String],
    existing: &HashMap<String, String>,
    erased: &HashSet<String>,
) -> (Vec<ImportOutcome>, Vec<Option<Uuid>>) {
    let mut outcomes = Vec::with_capacity(candidates.len());
    let mut ids = Vec::with_capacity(candidates.len());
    for (key, hash) in keys.iter().zip(hashes) {
        let (outcome, id) = match existing.get(key).map(|s| SubscriberStatus::parse(s)) {
            Some(Some(
                status @ (SubscriberStatus::Unsubscribed
                | SubscriberStatus::Bounced
                | SubscriberStatus::Complained),
            )) => (ImportOutcome::Left(status), None),
            Some(_) => (ImportOutcome::AlreadyOnList, None),
            None if erased.contains(hash) => (ImportOutcome::Erased, None),
            None => (ImportOutcome::Added, Some(Uuid::now_v7())),
        };
        outcomes.push(outcome);
        ids.push(id);
    }
    (outcomes, ids)
}

/// The new subscribers among the candidates, as rows.
fn subscriber_rows(candidates: &[ImportCandidate], keys: &[String], ids: &[Option<Uuid>]) -> Rows {
    let new: Vec<(Uuid, &ImportCandidate, &String)> = ids
        .iter()
        .zip(candidates.iter().zip(keys))
        .filter_map(|(id, (candidate, key))| id.map(|id| (id, candidate, key)))
        .collect();
    Rows::new()
        .uuids("id", new.iter().map(|(id, _, _)| *id))
        .texts(
            "email",
            new.iter().map(|(_, c, _)| c.email.as_str().to_string()),
        )
        .texts("email_key", new.iter().map(|(_, _, key)| key.to_string()))
        .texts(
            "name",
            new.iter()
                .map(|(_, c, _)| c.name.as_ref().map(|n| n.as_str().to_string())),
        )
        .texts(
            "attributes",
            new.iter().map(|(_, c, _)| c.attributes.to_string()),
        )
}

/// A queued confirmation for each of these new subscribers, as rows.
fn confirmation_rows(added: &[(Uuid, &ImportCandidate)], message_domain: &str) -> Rows {
    let messages: Vec<Uuid> = added.iter().map(|_| Uuid::now_v7()).collect();
    Rows::new()
        .uuids("id", messages.iter().copied())
        .uuids("subscriber", added.iter().map(|(id, _)| *id))
        .texts(
            "recipient",
            added.iter().map(|(_, c)| c.email.ascii().to_string()),
        )
        .texts(
            "message_id",
            messages
                .iter()
                .map(|m| format!("<{}@{}>", m.simple(), message_domain)),
        )
}

/// Adds the new subscribers of `rows` (`subscriber_rows`), giving back the ids it added.
/// Binds $1 the status, $2 now, $3 the source, $4 the stated consent, $5 when confirmed,
/// $6 when a confirmation was last sent.
fn insert_sql<Db: Dialect>(rows: &Rows) -> String {
    format!(
        "INSERT INTO subscribers (id, email, email_key, name, status, attributes, created_at, \
         updated_at, signed_up_at, signup_source, stated_consent, confirmed_at, \
         last_confirmation_sent_at) SELECT r.id, r.email, r.email_key, r.name, $1, \
         r.attributes{}, $2, $2, $2, $3, $4, $5, $6 FROM {} WHERE true \
         ON CONFLICT (email_key) DO NOTHING RETURNING id",
        Db::AS_JSON,
        Db::rows(rows, 7, "r")
    )
}

/// Records the consent of the new subscribers of `rows` (one column, `id`). Binds $1 the
/// kind, $2 now, $3 the source, $4 the detail.
fn consent_sql<Db: Dialect>(rows: &Rows) -> String {
    format!(
        "INSERT INTO consent_events (subscriber_id, kind, at, source, detail) \
         SELECT r.id, $1, $2, $3, $4 FROM {}",
        Db::rows(rows, 5, "r")
    )
}

/// Queues the confirmations of `rows` (`confirmation_rows`). Binds $1 the kind, $2 now.
fn queue_sql<Db: Dialect>(rows: &Rows) -> String {
    format!(
        "INSERT INTO outbound_messages (id, kind, subscriber_id, recipient, state, attempts, \
         next_attempt_at, message_id, created_at) SELECT r.id, $1, r.subscriber, r.recipient, \
         'queued', 0, $2, r.message_id, $2 FROM {}",
        Db::rows(rows, 3, "r")
    )
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
        let keys: Vec<String> = candidates.iter().map(|c| c.email.key()).collect();
        let hashes: Vec<String> = candidates.iter().map(|c| erased_hash(&c.email)).collect();
        let confirmed = terms.stated_consent.is_some();
        let status = if confirmed { "confirmed" } else { "pending" };
        let kind = if confirmed {
            "added_confirmed"
        } else {
            "added"
        };
        let source = SignupSource::Import.as_str();

        with_pool!(self, pool, Db => {
            let mut tx = pool.begin_write().await.context("starting an import batch")?;
            let existing: HashMap<String, String> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT email_key, status FROM subscribers WHERE email_key {}",
                Db::in_texts(1)
            )))
            .bind(Db::texts(&keys))
            .fetch_all(&mut *tx)
            .await
            .context("finding addresses already on the list")?
            .into_iter()
            .collect();
            let erased: HashSet<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT email_hash FROM erased_addresses WHERE email_hash {}",
                Db::in_texts(1)
            )))
            .bind(Db::texts(&hashes))
            .fetch_all(&mut *tx)
            .await
            .context("finding erased addresses")?
            .into_iter()
            .collect();
            let (mut outcomes, ids) = sort_candidates(candidates, &keys, &hashes, &existing, &erased);

            let rows = subscriber_rows(candidates, &keys, &ids);
            let sql = insert_sql::<Db>(&rows);
            let inserted: HashSet<Uuid> = if ids.iter().all(Option::is_none) {
                HashSet::new()
            } else {
                let query = sqlx::query_scalar::<_, Uuid>(sqlx::AssertSqlSafe(sql))
                    .bind(status)
                    .bind(terms.now)
                    .bind(source)
                    .bind(terms.stated_consent)
                    .bind(confirmed.then_some(terms.now))
                    .bind((!confirmed).then_some(terms.now));
                Db::bind_rows(query, rows)
                    .fetch_all(&mut *tx)
                    .await
                    .context("adding the imported subscribers")?
                    .into_iter()
                    .collect()
            };
            // An address that signed up between our look and our insert (Postgres only:
            // SQLite holds the write lock throughout) is on the list already.
            let mut added = Vec::new();
            for ((outcome, id), candidate) in outcomes.iter_mut().zip(&ids).zip(candidates) {
                match id {
                    Some(id) if inserted.contains(id) => added.push((*id, candidate)),
                    Some(_) => *outcome = ImportOutcome::AlreadyOnList,
                    None => {}
                }
            }
            if !added.is_empty() {
                let rows = Rows::new().uuids("id", added.iter().map(|(id, _)| *id));
                let sql = consent_sql::<Db>(&rows);
                let query = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(kind)
                    .bind(terms.now)
                    .bind(source)
                    .bind(terms.detail);
                Db::bind_rows(query, rows)
                    .execute(&mut *tx)
                    .await
                    .context("recording the imported subscribers' consent")?;
            }
            if !added.is_empty() && !confirmed {
                let rows = confirmation_rows(&added, terms.message_domain);
                let sql = queue_sql::<Db>(&rows);
                let query = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .bind(MessageKind::Confirmation.as_str())
                    .bind(terms.now);
                Db::bind_rows(query, rows)
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
        let bounds = TierBounds::at(&self.engagement_model(), now);
        let sql = format!(
            "SELECT ranked.id, s.email, s.name, ranked.status, ranked.tier, ranked.rank, \
             s.signed_up_at, s.confirmed_at, ranked.last_signal_at, s.attributes FROM {RANKED}\
             JOIN subscribers s ON s.id = ranked.id \
             WHERE ($7 IS NULL OR ranked.id > $7) ORDER BY ranked.id LIMIT $8"
        );
        let rows: Vec<Row> = with_pool!(self, pool, Db => bind_tiers::<Db, _>(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)),
            &bounds,
        )
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
                score: self.engagement_model().score(row.rank, now),
                signed_up_at: row.signed_up_at.0,
                confirmed_at: row.confirmed_at.map(|t| t.0),
                last_human_activity: row.last_signal_at.map(|t| t.0),
                attributes: row.attributes.0,
            })
            .collect())
    }
}
