//! Opens and clicks: written in batches by the tracking writer, read back as a campaign's
//! genuine numbers.

use std::collections::HashMap;

use anyhow::Context as _;
use uuid::Uuid;

use super::dialect::{Dialect, Rows};
use super::engagement::RefreshEngagement as _;
use super::{Store, Timestamp, with_pool};

/// What the tracking writer needs to know about a delivery to judge an event on it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryFacts {
    pub id: Uuid,
    pub campaign_id: Uuid,
    pub subscriber_id: Option<Uuid>,
    pub sent_at: Option<Timestamp>,
}

/// One judged open or click, ready to store.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub delivery_id: Uuid,
    pub campaign_id: Uuid,
    pub subscriber_id: Option<Uuid>,
    pub kind: &'static str,
    pub link_id: Option<i64>,
    pub verdict: &'static str,
    pub reason: String,
    pub at: Timestamp,
}

/// A click already stored, for spotting a scanner that clicks every link at once.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredClick {
    pub delivery_id: Uuid,
    pub link_id: Option<i64>,
    pub at: Timestamp,
}

/// Clicks on one delivery between `from` and `to` that turned out to be a scanner's: it
/// followed every link within seconds, which a person does not do.
#[derive(Debug, Clone)]
pub struct ScannerBurst {
    pub delivery_id: Uuid,
    pub from: Timestamp,
    pub to: Timestamp,
    pub reason: String,
}

/// A campaign's opens and clicks, counted per recipient (repeats count once).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct CampaignEngagement {
    /// Recipients who opened it, as far as we can tell a person did (a human click or a
    /// reply counts as an open: the images may have been blocked).
    pub human_opens: i64,
    /// Recipients whose copy was only ever opened by software (privacy proxies, bots).
    pub machine_opens: i64,
    pub human_clicks: i64,
    /// Recipients whose copy's links were followed by a scanner.
    pub scanner_clicks: i64,
    /// Every stored open and click, repeats included.
    pub raw_opens: i64,
    pub raw_clicks: i64,
    pub links: Vec<LinkClicks>,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct LinkClicks {
    pub url: String,
    pub human_clicks: i64,
    pub scanner_clicks: i64,
}

/// Sets a copy's first human open and click from the rows of `u` (id, opened, clicked)
/// where they are earlier than what it has; returns the subscribers whose copies changed.
fn first_signals_sql(rows: &str) -> String {
    format!(
        "UPDATE deliveries AS d SET \
         opened_at = CASE WHEN d.opened_at IS NULL OR d.opened_at > u.opened THEN u.opened ELSE d.opened_at END, \
         clicked_at = CASE WHEN u.clicked IS NOT NULL AND (d.clicked_at IS NULL OR d.clicked_at > u.clicked) \
         THEN u.clicked ELSE d.clicked_at END FROM {rows} \
         WHERE d.id = u.id AND (d.opened_at IS NULL OR d.opened_at > u.opened \
         OR (u.clicked IS NOT NULL AND (d.clicked_at IS NULL OR d.clicked_at > u.clicked))) \
         RETURNING subscriber_id"
    )
}

/// The distinct subscribers among these (erased ones are `None`).
fn subscribers_of(ids: Vec<Option<Uuid>>) -> Vec<Uuid> {
    let mut ids: Vec<Uuid> = ids.into_iter().flatten().collect();
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// The events as a batch of rows, in the columns of `events`.
fn event_rows(events: &[NewEvent]) -> Rows {
    Rows::new()
        .uuids("delivery_id", events.iter().map(|e| e.delivery_id))
        .uuids("campaign_id", events.iter().map(|e| e.campaign_id))
        .uuids("subscriber_id", events.iter().map(|e| e.subscriber_id))
        .texts("kind", events.iter().map(|e| e.kind.to_string()))
        .ints("link_id", events.iter().map(|e| e.link_id))
        .texts("verdict", events.iter().map(|e| e.verdict.to_string()))
        .texts("reason", events.iter().map(|e| e.reason.clone()))
        .times("at", events.iter().map(|e| e.at))
}

/// Each copy's first human open (a human click is one too) and first human click in this
/// batch, as rows (id, opened, clicked); the copy keeps the earliest it has seen.
fn first_signals(events: &[NewEvent]) -> Vec<(Uuid, Timestamp, Option<Timestamp>)> {
    let mut first: HashMap<Uuid, (Timestamp, Option<Timestamp>)> = HashMap::new();
    for event in events.iter().filter(|e| e.verdict == "human") {
        let click = (event.kind == "click").then_some(event.at);
        first
            .entry(event.delivery_id)
            .and_modify(|(opened, clicked)| {
                *opened = (*opened).min(event.at);
                *clicked = match (*clicked, click) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
            })
            .or_insert((event.at, click));
    }
    first
        .into_iter()
        .map(|(id, (opened, clicked))| (id, opened, clicked))
        .collect()
}

/// What a batch changed: the subscribers whose copies' first signals moved, and per
/// campaign how many more (or fewer) copies a person engaged with.
#[derive(Default)]
struct Engaged {
    subscribers: Vec<Option<Uuid>>,
    per_campaign: HashMap<Uuid, i64>,
}

/// Turns a burst's clicks into a scanner's and takes its copy's firsts again from what
/// stays human.
async fn rescan_burst<DB: Dialect>(
    conn: &mut DB::Connection,
    burst: &ScannerBurst,
    engaged: &mut Engaged,
) -> anyhow::Result<()>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    Uuid: for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    Timestamp: for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    String: for<'e> sqlx::Encode<'e, DB> + sqlx::Type<DB>,
    for<'r> (bool,): sqlx::FromRow<'r, DB::Row>,
    for<'r> (Option<Uuid>, Uuid, bool): sqlx::FromRow<'r, DB::Row>,
{
    sqlx::query(
        "UPDATE events SET verdict = 'scanner', reason = $4 WHERE delivery_id = $1 \
         AND kind = 'click' AND at >= $2 AND at <= $3 AND verdict = 'human'",
    )
    .bind(burst.delivery_id)
    .bind(burst.from)
    .bind(burst.to)
    .bind(burst.reason.clone())
    .execute(&mut *conn)
    .await
    .context("marking a scanner's clicks")?;
    let before: Option<bool> =
        sqlx::query_scalar("SELECT opened_at IS NOT NULL FROM deliveries WHERE id = $1")
            .bind(burst.delivery_id)
            .fetch_optional(&mut *conn)
            .await
            .context("reading a scanner's copy")?;
    let after: Vec<(Option<Uuid>, Uuid, bool)> = sqlx::query_as(
        "UPDATE deliveries SET \
         opened_at = (SELECT MIN(at) FROM events WHERE delivery_id = deliveries.id AND verdict = 'human'), \
         clicked_at = (SELECT MIN(at) FROM events WHERE delivery_id = deliveries.id \
                       AND verdict = 'human' AND kind = 'click') \
         WHERE id = $1 RETURNING subscriber_id, campaign_id, opened_at IS NOT NULL",
    )
    .bind(burst.delivery_id)
    .fetch_all(&mut *conn)
    .await
    .context("recounting a scanner's copy")?;
    for (subscriber, campaign, opened) in after {
        engaged.subscribers.push(subscriber);
        *engaged.per_campaign.entry(campaign).or_default() +=
            i64::from(opened) - i64::from(before.unwrap_or(false));
    }
    Ok(())
}

impl Store {
    pub async fn delivery_facts(&self, ids: &[Uuid]) -> anyhow::Result<Vec<DeliveryFacts>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        with_pool!(self, pool, Db => sqlx::query_as::<_, DeliveryFacts>(sqlx::AssertSqlSafe(format!(
            "SELECT id, campaign_id, subscriber_id, sent_at FROM deliveries WHERE id {}",
            Db::in_ids(1)
        )))
        .bind(Db::ids(ids))
        .fetch_all(pool)
        .await
        .context("reading deliveries for tracking"))
    }

    /// Clicks on these deliveries since `since`.
    pub async fn recent_clicks(
        &self,
        deliveries: &[Uuid],
        since: Timestamp,
    ) -> anyhow::Result<Vec<StoredClick>> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        with_pool!(self, pool, Db => sqlx::query_as::<_, StoredClick>(sqlx::AssertSqlSafe(format!(
            "SELECT delivery_id, link_id, at FROM events WHERE kind = 'click' AND at >= $2 \
             AND delivery_id {}",
            Db::in_ids(1)
        )))
        .bind(Db::ids(deliveries))
        .bind(since)
        .fetch_all(pool)
        .await
        .context("reading recent clicks"))
    }

    /// How many distinct links each campaign has (0 for one with none), in one read.
    pub async fn campaign_link_counts(
        &self,
        campaigns: &[Uuid],
    ) -> anyhow::Result<HashMap<Uuid, i64>> {
        let mut counts: HashMap<Uuid, i64> = campaigns.iter().map(|id| (*id, 0)).collect();
        if campaigns.is_empty() {
            return Ok(counts);
        }
        let found: Vec<(Uuid, i64)> = with_pool!(self, pool, Db => sqlx::query_as(
            sqlx::AssertSqlSafe(format!(
                "SELECT campaign_id, COUNT(*) FROM campaign_links WHERE campaign_id {} \
                 GROUP BY campaign_id",
                Db::in_ids(1)
            )),
        )
        .bind(Db::ids(campaigns))
        .fetch_all(pool)
        .await
        .context("counting the campaigns' links"))?;
        counts.extend(found);
        Ok(counts)
    }

    /// Stores judged events, and turns earlier clicks into a scanner's where a burst
    /// showed them to be one, in one transaction (a report never sees half of it). The
    /// events go in one statement whose SQL does not depend on how many there are.
    pub async fn insert_events(
        &self,
        events: &[NewEvent],
        bursts: &[ScannerBurst],
    ) -> anyhow::Result<()> {
        let firsts = first_signals(events);
        with_pool!(self, pool, Db => {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            if !events.is_empty() {
                let rows = event_rows(events);
                let sql = format!(
                    "INSERT INTO events (delivery_id, campaign_id, subscriber_id, kind, link_id, \
                     verdict, reason, at) SELECT * FROM {}",
                    Db::rows(&rows, 1, "e")
                );
                Db::bind_rows(sqlx::query(sqlx::AssertSqlSafe(sql)), rows)
                    .execute(&mut *tx)
                    .await
                    .context("storing events")?;
            }
            let mut engaged = Engaged::default();
            if !firsts.is_empty() {
                // Copies not opened by a person yet: this batch makes each engaged.
                let ids: Vec<Uuid> = firsts.iter().map(|(id, _, _)| *id).collect();
                let unopened: Vec<Uuid> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT campaign_id FROM deliveries WHERE opened_at IS NULL AND id {} \
                     ORDER BY id{}",
                    Db::in_ids(1),
                    Db::FOR_UPDATE
                )))
                .bind(Db::ids(&ids))
                .fetch_all(&mut *tx)
                .await
                .context("reading copies not yet opened")?;
                for campaign in unopened {
                    *engaged.per_campaign.entry(campaign).or_default() += 1;
                }
                let rows = Rows::new()
                    .uuids("id", ids)
                    .times("opened", firsts.iter().map(|(_, opened, _)| *opened))
                    .times("clicked", firsts.iter().map(|(_, _, clicked)| *clicked));
                let sql = first_signals_sql(&Db::rows(&rows, 1, "u"));
                engaged.subscribers.extend(
                    Db::bind_rows(sqlx::query_scalar::<_, Option<Uuid>>(sqlx::AssertSqlSafe(sql)), rows)
                        .fetch_all(&mut *tx)
                        .await
                        .context("recording first human opens and clicks")?,
                );
            }
            for burst in bursts {
                rescan_burst::<Db>(&mut tx, burst, &mut engaged).await?;
            }
            for (campaign, delta) in &engaged.per_campaign {
                if *delta != 0 {
                    sqlx::query("UPDATE campaigns SET engaged = engaged + $2 WHERE id = $1")
                        .bind(campaign)
                        .bind(delta)
                        .execute(&mut *tx)
                        .await
                        .context("counting a campaign's engaged recipients")?;
                }
            }
            let subscribers = subscribers_of(engaged.subscribers);
            tx.refresh_engagement(&self.engagement_model(), &subscribers).await?;
            tx.commit().await.context("committing events")?;
        });
        Ok(())
    }

    /// A campaign's opens and clicks, per recipient and per link. The four counts are read
    /// side by side, each over that one campaign's copies and events.
    pub async fn campaign_engagement(&self, campaign: Uuid) -> anyhow::Result<CampaignEngagement> {
        with_pool!(self, pool => {
            let totals = async {
                sqlx::query_as::<_, (i64, i64, i64)>(
                    "SELECT \
                       COUNT(DISTINCT CASE WHEN kind = 'click' AND verdict = 'scanner' THEN delivery_id END), \
                       COUNT(CASE WHEN kind = 'open' THEN 1 END), \
                       COUNT(CASE WHEN kind = 'click' THEN 1 END) \
                     FROM events WHERE campaign_id = $1",
                )
                .bind(campaign)
                .fetch_one(pool)
                .await
                .context("counting a campaign's opens and clicks")
            };
            // Per copy, as the engagement score counts them: a human click or a reply
            // says the copy was read, so it counts as an open.
            let human = async {
                sqlx::query_as::<_, (i64, i64)>(
                    "SELECT COUNT(opened_at), COUNT(clicked_at) FROM deliveries WHERE campaign_id = $1",
                )
                .bind(campaign)
                .fetch_one(pool)
                .await
                .context("counting a campaign's human opens and clicks")
            };
            // Machine opens: copies opened by software and never by a person.
            let machine_only = async {
                sqlx::query_scalar::<_, i64>(
                    "SELECT COUNT(*) FROM deliveries d WHERE d.campaign_id = $1 AND d.opened_at IS NULL \
                     AND EXISTS (SELECT 1 FROM events e WHERE e.delivery_id = d.id \
                     AND e.kind = 'open' AND e.verdict = 'machine')",
                )
                .bind(campaign)
                .fetch_one(pool)
                .await
                .context("counting machine-only opens")
            };
            let links = async {
                sqlx::query_as::<_, LinkClicks>(
                    "SELECT l.url, \
                       COUNT(DISTINCT CASE WHEN e.verdict = 'human' THEN e.delivery_id END) AS human_clicks, \
                       COUNT(DISTINCT CASE WHEN e.verdict = 'scanner' THEN e.delivery_id END) AS scanner_clicks \
                     FROM campaign_links l LEFT JOIN events e ON e.link_id = l.id AND e.kind = 'click' \
                     WHERE l.campaign_id = $1 GROUP BY l.id, l.url ORDER BY l.id",
                )
                .bind(campaign)
                .fetch_all(pool)
                .await
                .context("counting clicks per link")
            };
            let (
                (scanner_clicks, raw_opens, raw_clicks),
                (human_opens, human_clicks),
                machine_opens,
                links,
            ) = tokio::try_join!(totals, human, machine_only, links)?;
            Ok(CampaignEngagement {
                human_opens,
                machine_opens,
                human_clicks,
                scanner_clicks,
                raw_opens,
                raw_clicks,
                links,
            })
        })
    }
}

/// One line of a subscriber's story: consent, a copy delivered, an open or click (human or
/// not, and why), a reply with its text, the owner's answer with its text, a bounce or
/// complaint.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct TimelineEntry {
    pub at: Timestamp,
    /// delivered, open, click, reply, answer, auto_reply, hard_bounce, soft_bounce,
    /// complaint, or a consent event (signed_up, confirmed, unsubscribed, bounced…).
    pub kind: String,
    pub campaign_id: Option<Uuid>,
    /// The campaign's subject, or the inbound message's, or the answer's.
    pub subject: Option<String>,
    /// For opens and clicks: human, machine or scanner. For inbound mail tied to the
    /// subscriber by an address only: `unverified` (a reply that counts for nothing, a
    /// bounce that changed nothing), or the owner's review: `pending`, `applied`,
    /// `dismissed`.
    pub verdict: Option<String>,
    /// Why (the verdict's reason, an automatic reply's sign, a consent event's detail); for
    /// an answer, the state of its sending (queued, sent, failed, cancelled).
    pub reason: Option<String>,
    /// The link clicked.
    pub url: Option<String>,
    /// A reply's new text; an answer's text; a bounce's diagnostic.
    pub text: Option<String>,
    /// For a reply, its id (what an answer names); for an answer, the reply it answers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reply_id: Option<i64>,
}

impl Store {
    /// A subscriber's story, oldest first (at most the latest 1,000 lines).
    pub async fn subscriber_timeline(
        &self,
        subscriber: Uuid,
    ) -> anyhow::Result<Vec<TimelineEntry>> {
        const TIMELINE: &str = "SELECT * FROM ( \
             SELECT d.sent_at AS at, 'delivered' AS kind, d.campaign_id AS campaign_id, c.subject AS subject, \
               CAST(NULL AS TEXT) AS verdict, CAST(NULL AS TEXT) AS reason, CAST(NULL AS TEXT) AS url, \
               CAST(NULL AS TEXT) AS text, CAST(NULL AS BIGINT) AS reply_id \
             FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id \
             WHERE d.subscriber_id = $1 AND d.state = 'sent' AND d.sent_at IS NOT NULL \
           UNION ALL \
             SELECT e.at, e.kind, e.campaign_id, c.subject, e.verdict, e.reason, l.url, NULL, NULL \
             FROM events e JOIN campaigns c ON c.id = e.campaign_id LEFT JOIN campaign_links l ON l.id = e.link_id \
             WHERE e.subscriber_id = $1 \
           UNION ALL \
             SELECT m.received_at, m.kind, m.campaign_id, m.subject, \
               COALESCE(m.review, CASE WHEN m.proof IS NULL AND m.subscriber_id IS NOT NULL \
                 AND m.kind IN ('reply', 'hard_bounce', 'soft_bounce', 'complaint') THEN 'unverified' END), \
               m.detail, NULL, m.text, \
               CASE WHEN m.kind = 'reply' THEN m.id END \
             FROM inbound_messages m WHERE m.subscriber_id = $1 \
           UNION ALL \
             SELECT a.created_at, 'answer', NULL, a.subject, NULL, o.state, NULL, a.body, a.reply_id \
             FROM answers a LEFT JOIN outbound_messages o ON o.id = a.id WHERE a.subscriber_id = $1 \
           UNION ALL \
             SELECT ce.at, ce.kind, NULL, NULL, NULL, ce.detail, NULL, NULL, NULL \
             FROM consent_events ce WHERE ce.subscriber_id = $1 \
           ORDER BY at DESC LIMIT 1000) AS latest ORDER BY at";
        with_pool!(self, pool => sqlx::query_as::<_, TimelineEntry>(TIMELINE)
            .bind(subscriber)
            .fetch_all(pool)
            .await
            .context("reading a subscriber's timeline"))
    }
}
