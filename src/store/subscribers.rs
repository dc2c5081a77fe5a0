//! Subscribers and their consent: signup, confirmation, unsubscription (erasure is in
//! `erasure.rs`).
//!
//! Every state change and the message it triggers are written in one transaction, so a
//! confirmation or welcome is queued exactly when the change it belongs to is committed.

use anyhow::Context as _;
use sha2::{Digest, Sha256};
use sqlx::query::Query;
use sqlx::types::Json;
use sqlx::{Database, Encode, Type};
use uuid::Uuid;

use super::outbox::{MessageKind, queue_message};
use super::{BeginWrite as _, Store, Timestamp, with_pool};
use crate::domain::{
    ConsentRecord, SignupSource, SubscriberEmail, SubscriberName, SubscriberStatus,
    UnsubscribeMethod,
};

mod record;

/// Failures a caller can act on, apart from the database being unreachable.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("this address is already on the list")]
    AlreadyExists,
    #[error("this address was erased at its owner's request; only they can sign up again")]
    Erased,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// A signup from a form, a website's script, or the hosted page.
#[derive(Debug, Clone)]
pub struct SignupRequest {
    pub email: SubscriberEmail,
    pub name: Option<SubscriberName>,
    pub source: SignupSource,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub consent_text_version: String,
    pub now: Timestamp,
    /// No second confirmation to the same address within this interval.
    pub resend_after: time::Duration,
    /// The domain of our Message-IDs.
    pub message_domain: String,
}

/// What a signup did. The visitor is told the same thing whatever it was, so nobody can
/// learn who is on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignupOutcome {
    /// A new pending subscriber, confirmation queued.
    Created,
    /// Pending or previously unsubscribed: a (new) confirmation was queued.
    ConfirmationQueued,
    /// A confirmation went out recently; nothing sent (subscription bombing guard).
    Throttled,
    /// Already confirmed, or suppressed after a bounce or complaint: nothing sent.
    NothingToDo,
}

/// A subscriber added by the owner through the API or an import.
#[derive(Debug, Clone)]
pub struct NewSubscriber {
    pub email: SubscriberEmail,
    pub name: Option<SubscriberName>,
    pub attributes: serde_json::Value,
    pub source: SignupSource,
    /// `Some(text)` adds the subscriber as confirmed on the owner's word of how consent was
    /// given; `None` adds them as pending and sends a confirmation.
    pub stated_consent: Option<String>,
    pub now: Timestamp,
    pub message_domain: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfirmOutcome {
    Confirmed,
    AlreadyConfirmed,
    /// Unsubscribed, bounced or complained since the link was sent: the link no longer works.
    NotPending,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsubscribeOutcome {
    /// Unsubscribed now, or already; carries the address, for the page's resubscribe offer.
    Unsubscribed {
        email: String,
    },
    Unknown,
}

/// Unsubscribes a pending or confirmed subscriber inside transaction `$tx`: the status,
/// an entry in the consent history (`$detail`), and their queued mail cancelled. Nothing
/// happens to someone already off the list.
macro_rules! unsubscribe_in {
    ($tx:ident, $id:expr, $method:expr, $ip:expr, $detail:expr, $now:expr) => {{
        let updated = sqlx::query(
            "UPDATE subscribers SET status = 'unsubscribed', unsubscribed_at = $2, \
             unsubscribe_method = $3, updated_at = $2, last_confirmation_sent_at = NULL \
             WHERE id = $1 AND status IN ('pending', 'confirmed')",
        )
        .bind($id)
        .bind($now)
        .bind($method.as_str())
        .execute(&mut *$tx)
        .await
        .context("unsubscribing")?
        .rows_affected();
        if updated == 1 {
            sqlx::query(
                "INSERT INTO consent_events (subscriber_id, kind, at, ip, detail) VALUES ($1, 'unsubscribe', $2, $3, $4)",
            )
            .bind($id)
            .bind($now)
            .bind($ip)
            .bind($detail)
            .execute(&mut *$tx)
            .await
            .context("recording the unsubscription")?;
            sqlx::query(
                "UPDATE outbound_messages SET state = 'cancelled', last_error = 'unsubscribed' \
                 WHERE subscriber_id = $1 AND state = 'queued'",
            )
            .bind($id)
            .execute(&mut *$tx)
            .await
            .context("cancelling queued mail")?;
        }
    }};
}
pub(crate) use unsubscribe_in;

/// Appends one entry to a subscriber's consent history, from a signup request.
macro_rules! record_consent_event {
    ($executor:expr, $id:expr, $kind:literal, $req:expr) => {
        sqlx::query(
            "INSERT INTO consent_events (subscriber_id, kind, at, ip, user_agent, source, consent_text_version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind($id)
        .bind($kind)
        .bind($req.now)
        .bind(&$req.ip)
        .bind(&$req.user_agent)
        .bind($req.source.as_str())
        .bind(&$req.consent_text_version)
        .execute($executor)
        .await
        .context("recording the consent event")?
    };
}

#[derive(sqlx::FromRow)]
struct ExistingSignup {
    id: Uuid,
    status: String,
    last_confirmation_sent_at: Option<Timestamp>,
}

/// Binds what a signup writes to its subscriber, as `$1`..`$7`: the subscriber's id, the
/// name given, when, the IP address, the user agent, the source and the consent text's
/// version. A new signup and a renewed one write the same.
fn bind_signup<'q, DB: Database>(
    query: Query<'q, DB, DB::Arguments>,
    id: Uuid,
    name: &Option<String>,
    req: &SignupRequest,
) -> Query<'q, DB, DB::Arguments>
where
    Uuid: for<'e> Encode<'e, DB> + Type<DB>,
    Timestamp: for<'e> Encode<'e, DB> + Type<DB>,
    Option<String>: for<'e> Encode<'e, DB> + Type<DB>,
    String: for<'e> Encode<'e, DB> + Type<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
{
    query
        .bind(id)
        .bind(name)
        .bind(req.now)
        .bind(&req.ip)
        .bind(&req.user_agent)
        .bind(req.source.as_str())
        .bind(&req.consent_text_version)
}

/// The one-way hash kept for an erased address.
pub fn erased_hash(email: &SubscriberEmail) -> String {
    let digest = Sha256::digest(format!("hundred-erased:{}", email.key()).as_bytes());
    hex::encode(digest)
}

impl Store {
    /// Records a self-signup and queues its confirmation, in one transaction.
    pub async fn signup(&self, req: &SignupRequest) -> anyhow::Result<SignupOutcome> {
        let key = req.email.key();
        let id = Uuid::now_v7();
        let name = req.name.as_ref().map(|n| n.as_str().to_string());
        let recent = Timestamp::from(req.now.0 - req.resend_after);
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let inserted = bind_signup(sqlx::query(
                "INSERT INTO subscribers (id, name, updated_at, signup_ip, signup_user_agent, \
                 signup_source, consent_text_version, email, email_key, status, attributes, \
                 created_at, signed_up_at, last_confirmation_sent_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'pending', '{}', $3, $3, $3) \
                 ON CONFLICT (email_key) DO NOTHING",
            ), id, &name, req)
            .bind(req.email.as_str())
            .bind(&key)
            .execute(&mut *tx)
            .await
            .context("inserting the new subscriber")?
            .rows_affected();

            // Who gets a confirmation: the new subscriber, or the one this signup renewed.
            let (outcome, to_confirm) = if inserted == 1 {
                (SignupOutcome::Created, Some(id))
            } else {
                let existing = sqlx::query_as::<_, ExistingSignup>(
                    "SELECT id, status, last_confirmation_sent_at FROM subscribers WHERE email_key = $1",
                )
                .bind(&key)
                .fetch_one(&mut *tx)
                .await
                .context("reading the existing subscriber")?;
                let status = SubscriberStatus::parse(&existing.status);
                let may_send = existing.last_confirmation_sent_at.is_none_or(|at| at < recent);
                match status {
                    Some(
                        SubscriberStatus::Pending
                        | SubscriberStatus::Unsubscribed
                        | SubscriberStatus::Bounced
                        | SubscriberStatus::Complained,
                    ) if may_send => {
                        // A fresh signup: the consent record describes this request, and a
                        // previously unsubscribed address goes through double opt-in again.
                        // So does one that bounced or complained: only the person, pressing
                        // the button in the confirmation, ends that (the owner cannot).
                        // The guard repeats in the WHERE clause: of two concurrent signups
                        // for one address, the second re-checks it after the first commits.
                        let renewed = bind_signup(sqlx::query(
                            "UPDATE subscribers SET status = 'pending', name = COALESCE($2, name), \
                             updated_at = $3, signed_up_at = $3, signup_ip = $4, signup_user_agent = $5, \
                             signup_source = $6, consent_text_version = $7, stated_consent = NULL, \
                             confirmed_at = NULL, confirmed_ip = NULL, unsubscribed_at = NULL, \
                             unsubscribe_method = NULL, last_confirmation_sent_at = $3 \
                             WHERE id = $1 AND status IN ('pending', 'unsubscribed', 'bounced', 'complained') \
                             AND (last_confirmation_sent_at IS NULL OR last_confirmation_sent_at < $8)",
                        ), existing.id, &name, req)
                        .bind(recent)
                        .execute(&mut *tx)
                        .await
                        .context("renewing the pending signup")?
                        .rows_affected();
                        if renewed == 1 {
                            (SignupOutcome::ConfirmationQueued, Some(existing.id))
                        } else {
                            (SignupOutcome::Throttled, None)
                        }
                    }
                    Some(
                        SubscriberStatus::Pending
                        | SubscriberStatus::Unsubscribed
                        | SubscriberStatus::Bounced
                        | SubscriberStatus::Complained,
                    ) => (SignupOutcome::Throttled, None),
                    _ => (SignupOutcome::NothingToDo, None),
                }
            };
            if let Some(id) = to_confirm {
                record_consent_event!(&mut *tx, id, "signup", req);
                queue_message!(&mut *tx, MessageKind::Confirmation, id, req.email.ascii(), &req.message_domain, req.now);
            }
            tx.commit().await.context("committing the signup")?;
            Ok(outcome)
        })
    }

    /// Adds a subscriber on the owner's behalf (API, import). Refuses addresses already on
    /// the list and erased ones.
    pub async fn add_subscriber(&self, new: &NewSubscriber) -> Result<Uuid, StoreError> {
        let key = new.email.key();
        let id = Uuid::now_v7();
        let hash = erased_hash(&new.email);
        let name = new.name.as_ref().map(|n| n.as_str().to_string());
        let confirmed = new.stated_consent.is_some();
        let status = if confirmed { "confirmed" } else { "pending" };
        let confirmed_at = confirmed.then_some(new.now);
        let last_confirmation = (!confirmed).then_some(new.now);
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let erased: Option<String> =
                sqlx::query_scalar("SELECT email_hash FROM erased_addresses WHERE email_hash = $1")
                    .bind(&hash)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("checking erased addresses")?;
            if erased.is_some() {
                return Err(StoreError::Erased);
            }
            let inserted = sqlx::query(
                "INSERT INTO subscribers (id, email, email_key, name, status, attributes, created_at, \
                 updated_at, signed_up_at, signup_source, stated_consent, confirmed_at, \
                 last_confirmation_sent_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, $8, $9, $10, $11) \
                 ON CONFLICT (email_key) DO NOTHING",
            )
            .bind(id)
            .bind(new.email.as_str())
            .bind(&key)
            .bind(&name)
            .bind(status)
            .bind(Json(&new.attributes))
            .bind(new.now)
            .bind(new.source.as_str())
            .bind(&new.stated_consent)
            .bind(confirmed_at)
            .bind(last_confirmation)
            .execute(&mut *tx)
            .await
            .context("inserting the subscriber")?
            .rows_affected();
            if inserted == 0 {
                return Err(StoreError::AlreadyExists);
            }
            sqlx::query(
                "INSERT INTO consent_events (subscriber_id, kind, at, source, detail) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(if confirmed { "added_confirmed" } else { "added" })
            .bind(new.now)
            .bind(new.source.as_str())
            .bind(&new.stated_consent)
            .execute(&mut *tx)
            .await
            .context("recording the consent event")?;
            if !confirmed {
                queue_message!(&mut *tx, MessageKind::Confirmation, id, new.email.ascii(), &new.message_domain, new.now);
            }
            tx.commit().await.context("committing the new subscriber")?;
            Ok(id)
        })
    }

    /// Confirms a pending subscriber and queues the welcome message.
    pub async fn confirm(
        &self,
        id: Uuid,
        ip: Option<&str>,
        now: Timestamp,
        message_domain: &str,
    ) -> anyhow::Result<ConfirmOutcome> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let updated = sqlx::query(
                "UPDATE subscribers SET status = 'confirmed', confirmed_at = $2, confirmed_ip = $3, \
                 updated_at = $2 WHERE id = $1 AND status = 'pending'",
            )
            .bind(id)
            .bind(now)
            .bind(ip)
            .execute(&mut *tx)
            .await
            .context("confirming the subscriber")?
            .rows_affected();
            let outcome = if updated == 1 {
                let email: String = sqlx::query_scalar("SELECT email FROM subscribers WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .context("reading the confirmed address")?;
                let ascii = SubscriberEmail::parse(&email)
                    .map(|e| e.ascii().to_string())
                    .unwrap_or(email);
                sqlx::query("INSERT INTO consent_events (subscriber_id, kind, at, ip) VALUES ($1, 'confirm', $2, $3)")
                    .bind(id)
                    .bind(now)
                    .bind(ip)
                    .execute(&mut *tx)
                    .await
                    .context("recording the confirmation")?;
                queue_message!(&mut *tx, MessageKind::Welcome, id, &ascii, message_domain, now);
                ConfirmOutcome::Confirmed
            } else {
                let status: Option<String> = sqlx::query_scalar("SELECT status FROM subscribers WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("reading the subscriber's status")?;
                match status.as_deref() {
                    None => ConfirmOutcome::Unknown,
                    Some("confirmed") => ConfirmOutcome::AlreadyConfirmed,
                    Some(_) => ConfirmOutcome::NotPending,
                }
            };
            tx.commit().await.context("committing the confirmation")?;
            Ok(outcome)
        })
    }

    /// Unsubscribes at once and cancels anything still queued for the subscriber.
    /// Idempotent: unsubscribing twice is the same as once. It also lifts the
    /// one-confirmation-per-interval guard: only the subscriber holds the unsubscribe link,
    /// and someone who left by mistake should get a confirmation the moment they come back.
    pub async fn unsubscribe(
        &self,
        id: Uuid,
        method: UnsubscribeMethod,
        ip: Option<&str>,
        now: Timestamp,
    ) -> anyhow::Result<UnsubscribeOutcome> {
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            unsubscribe_in!(tx, id, method, ip, method.as_str(), now);
            let email: Option<String> = sqlx::query_scalar("SELECT email FROM subscribers WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .context("reading the subscriber")?;
            tx.commit().await.context("committing the unsubscription")?;
            Ok(match email {
                Some(email) => UnsubscribeOutcome::Unsubscribed { email },
                None => UnsubscribeOutcome::Unknown,
            })
        })
    }

    /// Changes what the owner may change about a subscriber: name, attributes, tracking.
    /// Returns false when there is no such subscriber.
    pub async fn update_subscriber(
        &self,
        id: Uuid,
        name: Option<Option<String>>,
        attributes: Option<serde_json::Value>,
        tracking: Option<bool>,
        now: Timestamp,
    ) -> anyhow::Result<bool> {
        let (set_name, name) = match name {
            Some(name) => (true, name),
            None => (false, None),
        };
        let updated = with_pool!(self, pool => sqlx::query(
            "UPDATE subscribers SET name = CASE WHEN $2 THEN $3 ELSE name END, \
             attributes = COALESCE($4, attributes), tracking = COALESCE($5, tracking), updated_at = $6 \
             WHERE id = $1",
        )
        .bind(id)
        .bind(set_name)
        .bind(name)
        .bind(attributes.map(Json))
        .bind(tracking)
        .bind(now)
        .execute(pool)
        .await
        .context("updating the subscriber")?
        .rows_affected());
        Ok(updated == 1)
    }

    /// The owner's private note on a subscriber; `None` when there is none (or no such
    /// subscriber).
    pub async fn subscriber_note(&self, id: Uuid) -> anyhow::Result<Option<String>> {
        let note: Option<Option<String>> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT note FROM subscribers WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("reading the note on a subscriber")?);
        Ok(note.flatten())
    }

    /// Replaces the owner's private note on a subscriber (`None` removes it). Returns false
    /// when there is no such subscriber.
    pub async fn set_subscriber_note(
        &self,
        id: Uuid,
        note: Option<&str>,
        now: Timestamp,
    ) -> anyhow::Result<bool> {
        let updated = with_pool!(self, pool => sqlx::query(
            "UPDATE subscribers SET note = $2, updated_at = $3 WHERE id = $1",
        )
        .bind(id)
        .bind(note)
        .bind(now)
        .execute(pool)
        .await
        .context("saving the note on a subscriber")?
        .rows_affected());
        Ok(updated == 1)
    }
}
