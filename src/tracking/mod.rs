//! Opens and clicks: the tracking endpoints hand each event to a bounded channel and
//! answer at once; one writer task judges the events (human or machine, with the reason)
//! and stores them in batches. Raw addresses and user agents live only in that channel.

pub mod classify;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::Config;
use crate::store::{NewEvent, ScannerBurst, Store, StoredClick, Timestamp, retrying};
use classify::{EventKind, Rules, Signals, Verdict, judge};

/// Events waiting for the writer. A full channel makes requests wait rather than lose
/// events.
const QUEUE: usize = 65_536;
/// Most events stored in one transaction.
const BATCH: usize = 2_048;
/// Clicks on this many different links of one message within `BURST` are a scanner's.
const BURST_LINKS: usize = 3;
const BURST: Duration = Duration::from_secs(5);
/// Link URLs remembered for redirects (links never change once stored).
const LINK_CACHE: usize = 10_000;
/// What is kept of a user agent while an event waits to be judged.
const MAX_AGENT: usize = 512;

/// An open or click as it arrived, before judgement.
#[derive(Debug, Clone)]
pub struct RawEvent {
    pub kind: EventKind,
    pub delivery: Uuid,
    pub link: Option<i64>,
    pub at: Timestamp,
    pub user_agent: Option<String>,
    pub ip: Option<IpAddr>,
}

/// The handlers' side: records events and finds link URLs.
#[derive(Clone)]
pub struct Tracker {
    queue: mpsc::Sender<RawEvent>,
    store: Store,
    links: Arc<Mutex<HashMap<i64, Arc<str>>>>,
    /// When the last "writer is behind" warning was logged (Unix seconds).
    warned_at: Arc<AtomicI64>,
}

impl Tracker {
    /// The tracker and the writer that must run (`EventWriter::run`) for events to be
    /// stored.
    pub fn new(store: Store, config: &Config) -> (Self, EventWriter) {
        let (queue, events) = mpsc::channel(QUEUE);
        let writer = EventWriter {
            events,
            store: store.clone(),
            rules: Rules {
                machine_window: config.machine_window,
                apple_proxy_ranges: config.apple_proxy_ranges.clone(),
            },
        };
        let tracker = Self {
            queue,
            store,
            links: Arc::new(Mutex::new(HashMap::new())),
            warned_at: Arc::new(AtomicI64::new(0)),
        };
        (tracker, writer)
    }

    /// Hands the event to the writer; waits only if the writer is far behind.
    pub async fn record(&self, mut event: RawEvent) {
        if let Some(agent) = &mut event.user_agent
            && agent.len() > MAX_AGENT
        {
            let mut end = MAX_AGENT;
            while !agent.is_char_boundary(end) {
                end -= 1;
            }
            agent.truncate(end);
        }
        if let Err(mpsc::error::TrySendError::Full(event)) = self.queue.try_send(event) {
            // Said at most once a minute: under load every request would say it.
            let now = Timestamp::now().0.unix_timestamp();
            let last = self.warned_at.load(Ordering::Relaxed);
            if now - last >= 60
                && self
                    .warned_at
                    .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                    .is_ok()
            {
                tracing::warn!("the event writer is behind; requests wait for room in its queue");
            }
            if self.queue.send(event).await.is_err() {
                tracing::error!("the event writer has stopped; an event was not recorded");
            }
        }
    }

    /// The URL a click on `link` goes to; only the first click on a link reads the
    /// database.
    pub async fn link_url(&self, link: i64) -> anyhow::Result<Option<Arc<str>>> {
        if let Some(url) = self.links.lock().ok().and_then(|l| l.get(&link).cloned()) {
            return Ok(Some(url));
        }
        let Some(url) = self.store.link_url(link).await? else {
            return Ok(None);
        };
        let url: Arc<str> = url.into();
        if let Ok(mut links) = self.links.lock() {
            if links.len() >= LINK_CACHE {
                links.clear();
            }
            links.insert(link, url.clone());
        }
        Ok(Some(url))
    }
}

/// Judges and stores events in batches.
pub struct EventWriter {
    events: mpsc::Receiver<RawEvent>,
    store: Store,
    rules: Rules,
}

impl EventWriter {
    /// Runs until `stop`; then stores whatever is still queued before returning.
    pub async fn run(mut self, stop: CancellationToken) {
        let mut batch = Vec::with_capacity(BATCH);
        loop {
            tokio::select! {
                // Once told to stop, everything left goes through the drain below.
                biased;
                _ = stop.cancelled() => break,
                received = self.events.recv_many(&mut batch, BATCH) => {
                    if received == 0 {
                        break;
                    }
                    self.write(&mut batch).await;
                }
            }
        }
        // Take no more, store what came.
        self.events.close();
        while self.events.recv_many(&mut batch, BATCH).await > 0 {
            self.write(&mut batch).await;
        }
    }

    async fn write(&self, batch: &mut Vec<RawEvent>) {
        let what = format!("could not store {} events", batch.len());
        retrying(5, &what, "they are lost", || self.judge_and_store(batch)).await;
        batch.clear();
    }

    async fn judge_and_store(&self, batch: &[RawEvent]) -> anyhow::Result<()> {
        let ids: Vec<Uuid> = batch
            .iter()
            .map(|e| e.delivery)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let facts: HashMap<Uuid, _> = self
            .store
            .delivery_facts(&ids)
            .await?
            .into_iter()
            .map(|f| (f.id, f))
            .collect();
        let mut judged = Vec::with_capacity(batch.len());
        for event in batch {
            // A delivery deleted meanwhile (its campaign removed): nothing to attach to.
            let Some(delivery) = facts.get(&event.delivery) else {
                continue;
            };
            let since_delivery = delivery
                .sent_at
                .and_then(|sent| (event.at.0 - sent.0).try_into().ok());
            let verdict = judge(
                &Signals {
                    kind: event.kind,
                    user_agent: event.user_agent.as_deref(),
                    ip: event.ip,
                    since_delivery,
                },
                &self.rules,
            );
            judged.push(NewEvent {
                delivery_id: event.delivery,
                campaign_id: delivery.campaign_id,
                subscriber_id: delivery.subscriber_id,
                kind: event.kind.as_str(),
                link_id: event.link,
                verdict: verdict.verdict.as_str(),
                reason: verdict.reason,
                at: event.at,
            });
        }
        let bursts = self.find_bursts(&mut judged).await?;
        self.store.insert_events(&judged, &bursts).await
    }

    /// A scanner follows every link of a message within seconds; a person clicks one or
    /// two. Clicks in such a burst become a scanner's, the stored ones included.
    async fn find_bursts(&self, judged: &mut [NewEvent]) -> anyhow::Result<Vec<ScannerBurst>> {
        let clicked: Vec<Uuid> = judged
            .iter()
            .filter(|e| e.kind == "click" && e.verdict == Verdict::Human.as_str())
            .map(|e| e.delivery_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if clicked.is_empty() {
            return Ok(Vec::new());
        }
        let earliest = judged
            .iter()
            .map(|e| e.at)
            .min()
            .unwrap_or_else(Timestamp::now);
        let since = Timestamp::from(earliest.0 - BURST);
        let mut clicks: HashMap<Uuid, Vec<StoredClick>> = HashMap::new();
        for click in self.store.recent_clicks(&clicked, since).await? {
            clicks.entry(click.delivery_id).or_default().push(click);
        }
        for event in judged.iter().filter(|e| e.kind == "click") {
            clicks
                .entry(event.delivery_id)
                .or_default()
                .push(StoredClick {
                    delivery_id: event.delivery_id,
                    link_id: event.link_id,
                    at: event.at,
                });
        }
        let campaigns: Vec<Uuid> = judged
            .iter()
            .filter(|e| clicked.contains(&e.delivery_id))
            .map(|e| e.campaign_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let link_counts = self.store.campaign_link_counts(&campaigns).await?;
        let mut bursts = Vec::new();
        for event in judged.iter_mut() {
            if event.kind != "click" || event.verdict != Verdict::Human.as_str() {
                continue;
            }
            let Some(all) = clicks.get(&event.delivery_id) else {
                continue;
            };
            let near: Vec<&StoredClick> = all
                .iter()
                .filter(|c| (c.at.0 - event.at.0).abs() <= BURST)
                .collect();
            let links: HashSet<i64> = near.iter().filter_map(|c| c.link_id).collect();
            let in_message = link_counts.get(&event.campaign_id).copied().unwrap_or(0);
            let every_link = in_message >= 2 && links.len() as i64 >= in_message;
            if links.len() >= BURST_LINKS || every_link {
                let reason = format!(
                    "{} links clicked within {} s: a link scanner",
                    links.len(),
                    BURST.as_secs()
                );
                event.verdict = Verdict::Scanner.as_str();
                event.reason = reason.clone();
                let from = near.iter().map(|c| c.at).min().unwrap_or(event.at);
                let to = near.iter().map(|c| c.at).max().unwrap_or(event.at);
                bursts.push(ScannerBurst {
                    delivery_id: event.delivery_id,
                    from,
                    to,
                    reason,
                });
            }
        }
        Ok(bursts)
    }
}
