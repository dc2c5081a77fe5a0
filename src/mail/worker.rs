//! The sender worker: drains the durable queue of single messages (confirmations,
//! welcomes, re-permission requests, the owner's answers).
//!
//! It claims due rows under a lease, sends them with bounded concurrency and rate, and
//! records each outcome only while it still holds the lease. It wakes when a request
//! queues a message in this process, and polls for rows queued by other instances.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use time::OffsetDateTime;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::compose::Recipient;
use super::{
    Composer, SendError, SendPace, Transport, claimed_or_nothing, note_lost_lease, retry_delay,
    worker_id,
};
use crate::config::{Config, RetryPolicy};
use crate::domain::{SubscriberEmail, SubscriberStatus};
use crate::store::{ClaimedMessage, MessageKind, Store, Timestamp};

/// Longer than any single send can take (the SMTP timeout is 30 s).
const LEASE: Duration = Duration::from_secs(300);
/// How often to look for messages queued by other instances or falling due for a retry.
const POLL: Duration = Duration::from_secs(1);

pub struct QueueWorker {
    store: Store,
    transport: Transport,
    composer: Composer,
    retry: RetryPolicy,
    pace: SendPace,
    worker_id: String,
    wake: Arc<Notify>,
}

enum Outcome {
    Sent,
    Retry(String),
    Failed(String),
    Cancelled(&'static str),
}

impl QueueWorker {
    pub fn new(
        store: Store,
        transport: Transport,
        composer: Composer,
        config: &Config,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            store,
            transport,
            retry: config.retry.clone(),
            pace: SendPace::new(composer.live()),
            worker_id: worker_id(config, "messages"),
            composer,
            wake,
        }
    }

    /// Runs until `shutdown` is cancelled; messages being sent then are finished, the rest
    /// of the claimed batch is handed back.
    #[tracing::instrument(name = "queue_worker", skip_all, fields(worker = %self.worker_id))]
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!("sender worker started");
        while !shutdown.is_cancelled() {
            let now = Timestamp::now();
            let lease_until = Timestamp::from(now.0 + LEASE);
            // The owner's connection count, read per batch: a change applies to the next.
            let concurrency = self.composer.owner().send_concurrency.max(1);
            self.transport.follow_connections(concurrency);
            let batch_size = (concurrency * 4) as i64;
            let claimed = claimed_or_nothing(
                self.store
                    .claim_messages(&self.worker_id, now, lease_until, batch_size)
                    .await,
                "messages",
            );
            if claimed.is_empty() {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = self.wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
                continue;
            }
            futures::stream::iter(claimed)
                .take_while(|_| std::future::ready(!shutdown.is_cancelled()))
                .for_each_concurrent(concurrency, |message| self.deliver(message))
                .await;
        }
        if let Err(err) = self.store.release_leases(&self.worker_id).await {
            tracing::warn!(error = %format!("{err:#}"), "could not release leases; they expire by themselves");
        }
        tracing::info!("sender worker stopped");
    }

    #[tracing::instrument(skip_all, fields(message = %message.id, kind = %message.kind))]
    async fn deliver(&self, message: ClaimedMessage) {
        let outcome = self.attempt(&message).await;
        let now = Timestamp::now();
        let recorded = match &outcome {
            Outcome::Sent => self
                .store
                .mark_message_sent(message.id, &self.worker_id, now)
                .await
                .map(note_lost_lease),
            Outcome::Retry(error) => {
                let attempts = u32::try_from(message.attempts).unwrap_or(0) + 1;
                let retry_at = (attempts < self.retry.max_attempts)
                    .then(|| Timestamp::from(now.0 + retry_delay(&self.retry, attempts)));
                tracing::warn!(attempts, error = %error, retry = retry_at.is_some(), "send failed");
                self.store
                    .mark_message_attempt_failed(message.id, &self.worker_id, error, retry_at)
                    .await
            }
            Outcome::Failed(error) => {
                tracing::warn!(error = %error, "send refused for good");
                self.store
                    .mark_message_attempt_failed(message.id, &self.worker_id, error, None)
                    .await
            }
            Outcome::Cancelled(reason) => self.store.cancel_message(message.id, reason).await,
        };
        if let Err(err) = recorded {
            // The lease expires and another attempt is made; the window for a duplicate is
            // this failed write.
            tracing::error!(error = %format!("{err:#}"), "could not record the outcome of a send");
        }
    }

    async fn attempt(&self, message: &ClaimedMessage) -> Outcome {
        let Some(kind) = MessageKind::parse(&message.kind) else {
            return Outcome::Failed(format!("unknown message kind '{}'", message.kind));
        };
        let Some(subscriber_id) = message.subscriber_id else {
            return Outcome::Cancelled("subscriber erased");
        };
        let subscriber = match self.store.subscriber(subscriber_id).await {
            Ok(Some(subscriber)) => subscriber,
            Ok(None) => return Outcome::Cancelled("subscriber erased"),
            Err(err) => return Outcome::Retry(format!("reading the subscriber: {err:#}")),
        };
        let still_wanted = match kind {
            MessageKind::Confirmation => subscriber.status == SubscriberStatus::Pending,
            MessageKind::Welcome | MessageKind::Repermission => {
                subscriber.status == SubscriberStatus::Confirmed
            }
            // A personal answer to someone who wrote to us, even after they left the list;
            // never to an address that bounced or complained.
            MessageKind::Answer => !subscriber.status.is_suppressed(),
        };
        if !still_wanted {
            return Outcome::Cancelled("subscriber status changed");
        }
        let address = SubscriberEmail::parse(&subscriber.email)
            .map(|e| e.ascii().to_string())
            .unwrap_or_else(|_| message.recipient.clone());
        let recipient = Recipient {
            id: subscriber.id,
            message: message.id,
            address,
            name: subscriber.name,
        };
        let composed = match kind {
            MessageKind::Confirmation => self.composer.confirmation(
                &recipient,
                &message.message_id,
                OffsetDateTime::now_utc(),
            ),
            MessageKind::Welcome => self.composer.welcome(&recipient, &message.message_id),
            MessageKind::Repermission => {
                match self.store.open_permission_request(subscriber_id).await {
                    Ok(Some(answer_by)) => {
                        self.composer
                            .repermission(&recipient, &message.message_id, answer_by.0)
                    }
                    Ok(None) => return Outcome::Cancelled("already answered"),
                    Err(err) => {
                        return Outcome::Retry(format!("reading the request: {err:#}"));
                    }
                }
            }
            MessageKind::Answer => match self.store.answer_mail(message.id).await {
                Ok(Some(answer)) => self
                    .composer
                    .answer(&recipient, &message.message_id, &answer),
                Ok(None) => return Outcome::Cancelled("answer deleted"),
                Err(err) => return Outcome::Retry(format!("reading the answer: {err:#}")),
            },
        };
        let composed = match composed {
            Ok(composed) => composed,
            Err(err) => return Outcome::Failed(format!("composing: {err:#}")),
        };
        self.pace.until_ready().await;
        let stem = format!("{}-{}", message.kind, message.id.simple());
        match self
            .transport
            .send(&composed.envelope, &composed.bytes, &stem)
            .await
        {
            Ok(_reply) => Outcome::Sent,
            Err(SendError::Transient(error)) => Outcome::Retry(error),
            Err(SendError::Permanent(error)) => Outcome::Failed(error),
        }
    }
}
