//! The campaign sender: starts scheduled campaigns when their time comes, then drains the
//! delivery queue of every sending campaign.
//!
//! Any number of senders (in one or many instances) work side by side: each claims a batch
//! of deliveries under a lease, renders and sends them over pooled SMTP connections, and
//! records each outcome right after the server's answer.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::compose::Recipient;
use super::draft::content_of;
use super::render::{CompiledCampaign, CopySettings, RecipientData, RenderedCopy, Tracking};
use super::{
    Mailer, SendError, SendPace, claimed_or_nothing, note_lost_lease, resize, retry_delay,
    worker_id,
};
use crate::config::Config;
use crate::domain::{DeliveryState, SubscriberEmail};
use crate::signing::{Signer, TokenPurpose};
use crate::store::{ClaimedDelivery, SentCopy, Start, Timestamp};
use outcome::{Outcome, failed, is_mailbox_failure};
use recorder::Recorder;

mod outcome;
mod recorder;

/// Longer than any single send takes; a dead sender's deliveries are taken over after it.
const LEASE: Duration = Duration::from_secs(120);
const POLL: Duration = Duration::from_millis(500);
/// How stale a campaign's status may be when a sender decides to send one more copy.
const STATUS_TTL: Duration = Duration::from_millis(200);

/// A campaign ready to render: its templates compiled once, its links known.
struct Prepared {
    compiled: CompiledCampaign,
    links: Mutex<HashMap<String, i64>>,
}

pub struct CampaignSender {
    mail: Mailer,
    config: Arc<Config>,
    signer: Signer,
    pace: SendPace,
    worker_id: String,
    prepared: Mutex<HashMap<Uuid, Arc<Prepared>>>,
    /// Each campaign's status as last read, so a pause or cancel is seen within
    /// `STATUS_TTL` without a query per message.
    statuses: Mutex<HashMap<Uuid, (Instant, String)>>,
}

impl CampaignSender {
    pub fn new(mail: Mailer, config: Arc<Config>, signer: Signer) -> Self {
        Self {
            pace: SendPace::new(mail.composer.live()),
            mail,
            worker_id: worker_id(&config, "campaigns"),
            config,
            signer,
            prepared: Mutex::new(HashMap::new()),
            statuses: Mutex::new(HashMap::new()),
        }
    }

    async fn campaign_status(&self, campaign: Uuid) -> Option<String> {
        if let Some((at, status)) = self
            .statuses
            .lock()
            .ok()
            .and_then(|map| map.get(&campaign).cloned())
            && at.elapsed() < STATUS_TTL
        {
            return Some(status);
        }
        let status = self
            .mail
            .store
            .campaign_status(campaign)
            .await
            .ok()
            .flatten()?;
        if let Ok(mut map) = self.statuses.lock() {
            map.insert(campaign, (Instant::now(), status.clone()));
        }
        Some(status)
    }

    #[tracing::instrument(name = "campaign_sender", skip_all, fields(worker = %self.worker_id))]
    pub async fn run(self, shutdown: CancellationToken) {
        tracing::info!("campaign sender started");
        let this = Arc::new(self);
        let (recorder, recording) =
            Recorder::start(this.mail.store.clone(), this.worker_id.clone());
        let mut concurrency = this.mail.composer.owner().send_concurrency.max(1);
        // Two copies in flight per SMTP connection: while one waits for the commit that
        // records it, the connection carries the next (one copy per connection measured
        // 20-25 % fewer messages a second). A copy keeps its slot until it is recorded, so
        // a crash can leave at most two accepted, unrecorded copies per connection.
        let slots = Arc::new(Semaphore::new(concurrency * 2));
        let mut in_flight = JoinSet::new();
        // Small enough that instances sharing a campaign share it evenly; claiming ahead
        // hides the cost of the extra claims.
        let mut batch = (concurrency * 4).max(16) as i64;
        // The next batch, claimed while this one goes out.
        let mut next_batch: Option<tokio::task::JoinHandle<Vec<ClaimedDelivery>>> = None;
        while !shutdown.is_cancelled() {
            // The owner's connection count, read per batch: a change applies to the next.
            let wanted = this.mail.composer.owner().send_concurrency.max(1);
            if wanted != concurrency {
                this.mail.transport.follow_connections(wanted);
                resize(&slots, concurrency * 2, wanted * 2);
                (concurrency, batch) = (wanted, (wanted * 4).max(16) as i64);
            }
            let claimed = match next_batch.take() {
                Some(claiming) => claiming.await.unwrap_or_default(),
                None => this.claim(batch).await,
            };
            let full_batch = claimed.len() as i64 == batch;
            if full_batch {
                let sender = this.clone();
                next_batch = Some(tokio::spawn(async move { sender.claim(batch).await }));
            }
            // Each copy is its own task, so rendering uses every core; the next batch is
            // claimed while the last copies of this one are still going out.
            for delivery in claimed {
                let slot = tokio::select! {
                    _ = shutdown.cancelled() => break,
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break,
                    },
                };
                let sender = this.clone();
                let recorder = recorder.clone();
                in_flight.spawn(async move {
                    sender.deliver(delivery, &recorder).await;
                    drop(slot);
                });
                while in_flight.try_join_next().is_some() {}
            }
            if !full_batch {
                // The queue looks empty: let every copy in flight be recorded before
                // deciding whether a campaign is finished.
                while in_flight.join_next().await.is_some() {}
                if let Err(err) = this.mail.store.finish_campaigns(Timestamp::now()).await {
                    tracing::warn!(error = %format!("{err:#}"), "could not finish campaigns");
                }
                if let Err(err) = this.mail.store.give_slugs().await {
                    tracing::warn!(error = %format!("{err:#}"), "could not give campaigns their archive address");
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = this.mail.wake.notified() => {}
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        }
        if let Some(claiming) = next_batch.take() {
            // Claimed but never started: released below with the rest.
            let _ = claiming.await;
        }
        while in_flight.join_next().await.is_some() {}
        drop(recorder);
        if recording.await.is_err() {
            tracing::error!("the recorder of sent copies stopped unexpectedly");
        }
        // Whatever is still leased was claimed but not sent.
        if let Err(err) = this
            .mail
            .store
            .release_delivery_leases(&this.worker_id)
            .await
        {
            tracing::warn!(error = %format!("{err:#}"), "could not release delivery leases; they expire by themselves");
        }
        tracing::info!("campaign sender stopped");
    }

    /// Starts what is due, then claims up to `batch` deliveries.
    async fn claim(&self, batch: i64) -> Vec<ClaimedDelivery> {
        self.start_due_campaigns(Timestamp::now()).await;
        let now = Timestamp::now();
        let lease_until = Timestamp::from(now.0 + LEASE);
        claimed_or_nothing(
            self.mail
                .store
                .claim_deliveries(&self.worker_id, now, lease_until, batch)
                .await,
            "deliveries",
        )
    }

    /// Starts scheduled campaigns whose time has come, including those whose time passed
    /// while no instance was running (their report says how late they went).
    async fn start_due_campaigns(&self, now: Timestamp) {
        let due = match self.mail.store.due_campaigns(now).await {
            Ok(due) => due,
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "could not look for scheduled campaigns");
                return;
            }
        };
        for id in due {
            match self
                .mail
                .store
                .start_campaign(
                    id,
                    now,
                    self.mail.composer.owner().sending_domain(),
                    Start::WhenDue,
                )
                .await
            {
                Ok(recipients) => {
                    tracing::info!(campaign = %id, recipients, "scheduled campaign started")
                }
                // Another instance started it first.
                Err(crate::store::CampaignError::WrongStatus(..)) => {}
                Err(err) => {
                    tracing::warn!(campaign = %id, error = %err, "could not start a scheduled campaign")
                }
            }
        }
    }

    /// Sends one copy and records the outcome at once: a copy the server accepted is
    /// committed as sent before this task ends (and before its slot is free for another
    /// copy), so the window in which a crash could cause a second copy is at most two
    /// commits: the one in flight when the server answered, and the one that records it.
    #[tracing::instrument(skip_all, fields(delivery = %delivery.id, campaign = %delivery.campaign_id))]
    async fn deliver(&self, delivery: ClaimedDelivery, recorder: &Recorder) {
        let outcome = self.attempt(&delivery).await;
        let now = Timestamp::now();
        let worker = self.worker_id.as_str();
        let recorded = match outcome {
            Outcome::Released => self.mail.store.release_delivery(delivery.id, worker).await,
            Outcome::Sent(reply) => recorder
                .record(SentCopy {
                    id: delivery.id,
                    at: now,
                    reply,
                })
                .await
                .map(note_lost_lease),
            Outcome::Retry(reply) => {
                let attempts = u32::try_from(delivery.attempts).unwrap_or(0) + 1;
                if attempts < self.config.retry.max_attempts {
                    let at = Timestamp::from(now.0 + retry_delay(&self.config.retry, attempts));
                    tracing::info!(attempts, reply = %reply, "temporary failure; will retry");
                    self.mail
                        .store
                        .mark_delivery_retry(delivery.id, worker, &reply, at)
                        .await
                } else {
                    self.mark_failed(&delivery, worker, &reply, now, false)
                        .await
                }
            }
            Outcome::Failed { reply, bounced } => {
                tracing::info!(reply = %reply, bounced, "refused for good");
                self.mark_failed(&delivery, worker, &reply, now, bounced)
                    .await
            }
            Outcome::Skipped(reason) => {
                self.mail
                    .store
                    .mark_delivery_final(
                        delivery.id,
                        worker,
                        DeliveryState::Skipped,
                        reason,
                        now,
                        None,
                    )
                    .await
            }
        };
        if let Err(err) = recorded {
            tracing::error!(error = %format!("{err:#}"), "could not record the outcome of a delivery");
        }
    }

    /// Records a copy as failed for good; a bounce also marks its subscriber bounced.
    async fn mark_failed(
        &self,
        delivery: &ClaimedDelivery,
        worker: &str,
        reply: &str,
        now: Timestamp,
        bounced: bool,
    ) -> anyhow::Result<()> {
        let bounce = bounced.then_some(delivery.subscriber_id).flatten();
        self.mail
            .store
            .mark_delivery_final(
                delivery.id,
                worker,
                DeliveryState::Failed,
                reply,
                now,
                bounce,
            )
            .await
    }

    async fn attempt(&self, delivery: &ClaimedDelivery) -> Outcome {
        let (Some(subscriber_id), Some(email)) =
            (delivery.subscriber_id, delivery.email.as_deref())
        else {
            return Outcome::Skipped("subscriber erased");
        };
        if delivery.status.as_deref() != Some("confirmed") {
            return Outcome::Skipped("no longer subscribed");
        }
        match self.campaign_status(delivery.campaign_id).await.as_deref() {
            Some("sending") => {}
            Some("cancelled") => return Outcome::Skipped("campaign cancelled"),
            _ => return Outcome::Released,
        }
        let prepared = match self.prepared(delivery.campaign_id).await {
            Ok(prepared) => prepared,
            Err(err) => return Outcome::Retry(format!("preparing the campaign: {err:#}")),
        };
        let rendered = match self.render(delivery, &prepared, subscriber_id, email).await {
            Ok(rendered) => rendered,
            Err(outcome) => return outcome,
        };
        let address = SubscriberEmail::parse(email)
            .map(|e| e.ascii().to_string())
            .unwrap_or_else(|_| email.to_string());
        let recipient = Recipient {
            id: subscriber_id,
            message: delivery.id,
            address,
            name: delivery.name.clone(),
        };
        let composed =
            match self
                .mail
                .composer
                .campaign(&recipient, &delivery.message_id, &rendered)
            {
                Ok(composed) => composed,
                Err(err) => return failed(format!("composing: {err:#}")),
            };
        self.pace.until_ready().await;
        let stem = format!("campaign-{}", delivery.id.simple());
        match self
            .mail
            .transport
            .send(&composed.envelope, &composed.bytes, &stem)
            .await
        {
            Ok(reply) => Outcome::Sent(reply),
            Err(SendError::Transient(reply)) => Outcome::Retry(reply),
            Err(SendError::Permanent(reply)) => {
                let bounced = is_mailbox_failure(&reply);
                Outcome::Failed { reply, bounced }
            }
        }
    }

    /// The copy for one subscriber: personalised, its links registered and signed when
    /// tracked. What goes wrong is the delivery's outcome.
    async fn render(
        &self,
        delivery: &ClaimedDelivery,
        prepared: &Prepared,
        subscriber_id: Uuid,
        email: &str,
    ) -> Result<RenderedCopy, Outcome> {
        let data = RecipientData {
            name: delivery.name.clone(),
            email: email.to_string(),
            attributes: delivery
                .attributes
                .as_ref()
                .map(|a| a.0.clone())
                .unwrap_or_else(|| serde_json::json!({})),
        };
        let personal = prepared
            .compiled
            .personalise(&data)
            .map_err(|err| failed(format!("template: {err}")))?;
        let tracked = self.mail.composer.owner().tracking && delivery.tracking.unwrap_or(true);
        let links = if tracked {
            match self
                .links(delivery.campaign_id, prepared, personal.links())
                .await
            {
                Ok(links) => links,
                Err(err) => return Err(Outcome::Retry(format!("registering links: {err:#}"))),
            }
        } else {
            HashMap::new()
        };
        let unsubscribe_url = self.mail.composer.unsubscribe_url(subscriber_id);
        let click = |link: i64| {
            self.signer
                .sign_value(TokenPurpose::Click, delivery.id, link)
        };
        let copy = CopySettings {
            unsubscribe_url: &unsubscribe_url,
            tracking: tracked.then(|| Tracking {
                public_base: self.config.public_base(),
                open_token: Some(self.signer.sign_value(TokenPurpose::Open, delivery.id, 0)),
                click_token: &click,
                links: &links,
            }),
            reader: Some(self.mail.composer.reader_links(subscriber_id, delivery.id)),
        };
        prepared
            .compiled
            .finish(personal, email, &copy)
            .map_err(|err| failed(format!("template: {err}")))
    }

    async fn prepared(&self, campaign: Uuid) -> anyhow::Result<Arc<Prepared>> {
        if let Some(prepared) = self
            .prepared
            .lock()
            .ok()
            .and_then(|map| map.get(&campaign).cloned())
        {
            return Ok(prepared);
        }
        let record = self
            .mail
            .store
            .campaign(campaign)
            .await?
            .ok_or_else(|| anyhow::anyhow!("the campaign disappeared"))?;
        let layout = super::draft::layout_as_sent(&self.mail.store, &self.mail.composer, &record)
            .await?
            .ok_or_else(|| anyhow::anyhow!("there is no layout called '{}'", record.layout))?;
        let compiled =
            CompiledCampaign::compile(&content_of(&record), &layout, &self.mail.composer.look())
                .map_err(|err| anyhow::anyhow!("{err}"))?;
        let prepared = Arc::new(Prepared {
            compiled,
            links: Mutex::new(HashMap::new()),
        });
        if let Ok(mut map) = self.prepared.lock() {
            map.insert(campaign, prepared.clone());
        }
        Ok(prepared)
    }

    /// The link ids for this recipient's copy; new links (personalised ones) are stored.
    async fn links(
        &self,
        campaign: Uuid,
        prepared: &Prepared,
        urls: Vec<String>,
    ) -> anyhow::Result<HashMap<String, i64>> {
        let missing: Vec<String> = {
            let known = prepared
                .links
                .lock()
                .map_err(|_| anyhow::anyhow!("link cache poisoned"))?;
            urls.iter()
                .filter(|u| !known.contains_key(*u))
                .cloned()
                .collect()
        };
        if !missing.is_empty() {
            let added = self.mail.store.campaign_links(campaign, &missing).await?;
            if let Ok(mut known) = prepared.links.lock() {
                known.extend(added);
            }
        }
        let known = prepared
            .links
            .lock()
            .map_err(|_| anyhow::anyhow!("link cache poisoned"))?;
        Ok(urls
            .into_iter()
            .filter_map(|u| known.get(&u).map(|id| (u, *id)))
            .collect())
    }
}
