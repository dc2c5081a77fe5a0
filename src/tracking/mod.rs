//! Opens and clicks: the tracking endpoints hand each event to a bounded channel and
//! answer at once; one writer task judges the events (human or machine, with the reason)
//! and stores them in batches. Raw addresses and user agents live only in that channel.
//!
//! Every tracked copy also carries a hidden link (next to the open pixel) that no person
//! can see: whoever follows it is a link scanner, and so are the copy's other clicks
//! around it.
//!
//! Layer: the engine's work (with mail, inbound, lists and accounts), below the use cases.
//! It may import store, domain and config; it must not import actions, web, app or cli
//! (the web side's pixel and click routes call it), and store and domain must not import it.

pub mod classify;

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::config::{Config, LiveSettings};
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

/// The link id the hidden link's click token carries. Stored links are numbered from 1
/// (`BIGSERIAL`, `AUTOINCREMENT`), so 0 is never a campaign's link and the hidden link
/// needs no row of its own (no schema change). Its token is an ordinary click token under
/// `/t/c/`, which a scanner cannot tell from the visible links'.
pub const HIDDEN_LINK: i64 = 0;

/// What a click followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClickedLink {
    /// One of the campaign's links, by its id in `campaign_links`.
    Campaign(i64),
    /// The hidden link of a tracked copy.
    Hidden,
}

impl ClickedLink {
    /// The link a (verified) click token's value names.
    pub fn from_token(value: i64) -> Self {
        if value == HIDDEN_LINK {
            Self::Hidden
        } else {
            Self::Campaign(value)
        }
    }

    /// The campaign link to store with the click. The hidden link is not one of the
    /// campaign's links (an event's `link_id` must name a row of `campaign_links`), so its
    /// click is stored with none: it stays out of the per-link numbers and out of "every
    /// link was clicked", and a stored click without a link is the hidden link's.
    fn stored_id(self) -> Option<i64> {
        match self {
            Self::Campaign(id) => Some(id),
            Self::Hidden => None,
        }
    }
}

/// Whether a click (stored, or judged and about to be) followed the hidden link; see
/// `ClickedLink::stored_id`.
fn followed_hidden_link(link_id: Option<i64>) -> bool {
    link_id.is_none()
}

/// An open or click as it arrived, before judgement.
#[derive(Debug, Clone)]
pub struct RawEvent {
    pub kind: EventKind,
    pub delivery: Uuid,
    /// What a click followed; `None` for an open.
    pub link: Option<ClickedLink>,
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
    pub fn new(store: Store, config: &Config, live: LiveSettings) -> (Self, EventWriter) {
        let (queue, events) = mpsc::channel(QUEUE);
        let writer = EventWriter {
            events,
            store: store.clone(),
            apple_proxy_ranges: config.apple_proxy_ranges.clone(),
            live,
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

impl Tracker {
    /// Forgets every link URL read so far: after an erasure, a personalised link is read
    /// again from the database, where it no longer names anyone. (Other instances forget
    /// theirs when they restart or their cache fills.)
    pub fn forget_links(&self) {
        if let Ok(mut links) = self.links.lock() {
            links.clear();
        }
    }
}

/// Judges and stores events in batches.
pub struct EventWriter {
    events: mpsc::Receiver<RawEvent>,
    store: Store,
    apple_proxy_ranges: Vec<ipnet::IpNet>,
    /// The owner's machine window, read per batch.
    live: LiveSettings,
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
        let rules = Rules {
            machine_window: self.live.get().machine_window,
            apple_proxy_ranges: self.apple_proxy_ranges.clone(),
        };
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
                    hidden_link: event.link == Some(ClickedLink::Hidden),
                },
                &rules,
            );
            judged.push(NewEvent {
                delivery_id: event.delivery,
                campaign_id: delivery.campaign_id,
                subscriber_id: delivery.subscriber_id,
                kind: event.kind.as_str(),
                link_id: event.link.and_then(ClickedLink::stored_id),
                verdict: verdict.verdict.as_str(),
                reason: verdict.reason,
                at: event.at,
            });
        }
        let bursts = self.find_bursts(&mut judged).await?;
        self.store.insert_events(&judged, &bursts).await
    }

    /// A scanner follows every link of a message within seconds; a person clicks one or
    /// two. Clicks in such a burst become a scanner's, the stored ones included. So do the
    /// clicks within `BURST` of a click on the hidden link: what follows a link nobody can
    /// see follows the visible ones too.
    async fn find_bursts(&self, judged: &mut [NewEvent]) -> anyhow::Result<Vec<ScannerBurst>> {
        let mut bursts = hidden_link_bursts(judged);
        let clicked: Vec<Uuid> = judged
            .iter()
            .filter(|e| e.kind == "click" && e.verdict == Verdict::Human.as_str())
            .map(|e| e.delivery_id)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if clicked.is_empty() {
            return Ok(bursts);
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
            // The hidden link's click, stored earlier, already turned the clicks stored
            // around it into a scanner's; this one joins them.
            if near.iter().any(|c| followed_hidden_link(c.link_id)) {
                event.verdict = Verdict::Scanner.as_str();
                event.reason = near_hidden_link_reason();
                continue;
            }
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

/// Why a click near a click on the hidden link is a scanner's.
fn near_hidden_link_reason() -> String {
    format!(
        "clicked within {} s of a hidden link no person can see: a link scanner",
        BURST.as_secs()
    )
}

/// For each click on the hidden link in the batch: the copy's other clicks within `BURST`
/// of it, in the batch (changed here) and stored (a `ScannerBurst`, which the store also
/// uses to recount the copy's first human open and click), are a scanner's.
fn hidden_link_bursts(judged: &mut [NewEvent]) -> Vec<ScannerBurst> {
    let hidden: Vec<(Uuid, Timestamp)> = judged
        .iter()
        .filter(|e| e.kind == EventKind::Click.as_str() && followed_hidden_link(e.link_id))
        .map(|e| (e.delivery_id, e.at))
        .collect();
    if hidden.is_empty() {
        return Vec::new();
    }
    let reason = near_hidden_link_reason();
    for event in judged.iter_mut() {
        if event.kind == EventKind::Click.as_str()
            && event.verdict == Verdict::Human.as_str()
            && hidden.iter().any(|(delivery, at)| {
                *delivery == event.delivery_id && (at.0 - event.at.0).abs() <= BURST
            })
        {
            event.verdict = Verdict::Scanner.as_str();
            event.reason = reason.clone();
        }
    }
    hidden
        .into_iter()
        .map(|(delivery_id, at)| ScannerBurst {
            delivery_id,
            from: Timestamp::from(at.0 - BURST),
            to: Timestamp::from(at.0 + BURST),
            reason: reason.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn click(delivery: Uuid, link: Option<i64>, at: Timestamp, verdict: Verdict) -> NewEvent {
        NewEvent {
            delivery_id: delivery,
            campaign_id: Uuid::nil(),
            subscriber_id: None,
            kind: EventKind::Click.as_str(),
            link_id: link,
            verdict: verdict.as_str(),
            reason: "clicked".into(),
            at,
        }
    }

    #[test]
    fn clicks_around_the_hidden_link_are_a_scanners() {
        assert_eq!(ClickedLink::from_token(HIDDEN_LINK), ClickedLink::Hidden);
        assert_eq!(ClickedLink::from_token(7), ClickedLink::Campaign(7));
        assert_eq!(ClickedLink::Hidden.stored_id(), None);
        let (scanned, other) = (Uuid::new_v4(), Uuid::new_v4());
        let now = Timestamp::now();
        let later = |seconds: u64| Timestamp::from(now.0 + Duration::from_secs(seconds));
        let mut judged = vec![
            click(scanned, Some(1), now, Verdict::Human),
            click(scanned, None, later(2), Verdict::Scanner),
            click(scanned, Some(2), later(9), Verdict::Human),
            click(other, Some(1), later(2), Verdict::Human),
        ];
        let bursts = hidden_link_bursts(&mut judged);
        let verdicts: Vec<&str> = judged.iter().map(|e| e.verdict).collect();
        assert_eq!(
            verdicts,
            ["scanner", "scanner", "human", "human"],
            "within 5 s of it, on the same copy only"
        );
        assert!(
            judged[0].reason.contains("hidden link"),
            "{}",
            judged[0].reason
        );
        assert_eq!(bursts.len(), 1);
        assert_eq!(bursts[0].delivery_id, scanned);
        assert_eq!(
            (bursts[0].from, bursts[0].to),
            (
                Timestamp::from(later(2).0 - BURST),
                Timestamp::from(later(2).0 + BURST)
            )
        );
        assert!(hidden_link_bursts(&mut judged[2..]).is_empty());
    }
}
