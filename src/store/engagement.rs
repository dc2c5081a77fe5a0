//! Each subscriber's genuine interest, kept in `engagement` and read back ranked, by tier.
//!
//! Whatever records a human signal (the tracking writer, an inbound reply) refreshes the
//! subscriber's row in the same transaction, from the per-copy first open/click/reply
//! times in `deliveries` and the replies in `inbound_messages`: bounded by the campaigns a
//! person was sent, however many times they reopen one. The weighing is in
//! `domain::engagement`; the tiers are decided here in SQL, so a list can be filtered and
//! counted by tier without reading every subscriber.

use std::collections::HashMap;

use anyhow::Context as _;
use time::OffsetDateTime;
use uuid::Uuid;

use super::events::sqlite_ids;
use super::{Store, Timestamp, with_pool};
use crate::domain::{
    CopySignals, Engagement, EngagementModel, Figures, Standing, Subscriber, SubscriberStatus,
    Tier, TierBounds,
};

const HALF_LIFE_KEY: &str = "engagement_half_life_days";

/// The tier of the subscriber `s` with engagement row `e` (possibly absent). Binds, in this
/// order: $1 the rank of the core score now, $2 engaged since, $3 new since, $4 dormant
/// before, $5 campaigns a newcomer gets, $6 campaigns of silence before dormant. Defined
/// in README ("Engagement").
macro_rules! tier_case {
    () => {
        "CASE \
           WHEN s.status IN ('unsubscribed', 'bounced', 'complained') THEN 'gone' \
           WHEN e.rank >= $1 THEN 'core' \
           WHEN e.last_signal_at >= $2 THEN 'engaged' \
           WHEN s.status = 'pending' OR COALESCE(s.confirmed_at, s.created_at) >= $3 \
                OR COALESCE(e.campaigns, 0) < $5 THEN 'new' \
           WHEN COALESCE(e.campaigns_since_signal, 0) >= $6 \
                AND (e.last_signal_at IS NULL OR e.last_signal_at < $4) THEN 'dormant' \
           ELSE 'quiet' \
         END"
    };
}
pub(crate) use tier_case;

/// Every subscriber with their engagement figures and tier, as a table `ranked` to select
/// from. Binds $1-$6 as `tier_case!`.
macro_rules! ranked_subscribers {
    () => {
        concat!(
            "(SELECT s.id, s.email, s.name, s.status, s.created_at, s.confirmed_at, e.rank, ",
            "COALESCE(e.opens, 0) AS opens, COALESCE(e.clicks, 0) AS clicks, ",
            "COALESCE(e.replies, 0) AS replies, e.last_open_at, e.last_click_at, e.last_reply_at, ",
            "e.last_signal_at, e.last_kept_at, COALESCE(e.campaigns, 0) AS campaigns, ",
            "COALESCE(e.campaigns_since_signal, 0) AS campaigns_since_signal, ",
            $crate::store::engagement::tier_case!(),
            " AS tier FROM subscribers s LEFT JOIN engagement e ON e.subscriber_id = s.id) ranked "
        )
    };
}
pub(crate) use ranked_subscribers;

/// Binds the six tier bounds of `tier_case!`.
macro_rules! bind_tiers {
    ($query:expr, $bounds:expr) => {
        $query
            .bind($bounds.core_rank)
            .bind($crate::store::Timestamp::from($bounds.engaged_since))
            .bind($crate::store::Timestamp::from($bounds.new_since))
            .bind($crate::store::Timestamp::from($bounds.dormant_before))
            .bind($crate::domain::engagement::NEW_CAMPAIGNS)
            .bind($crate::domain::engagement::DORMANT_CAMPAIGNS)
    };
}
pub(crate) use bind_tiers;

/// Recomputes the engagement rows of these subscribers on connection `$conn` (inside the
/// caller's transaction). `$in_ids` is the SQL that follows `subscriber_id` to select them
/// by the bound parameter `$bind(ids)`; `$upsert` stores the computed rows.
macro_rules! refresh {
    ($conn:expr, $model:expr, $ids:expr, $in_ids:literal, $bind:expr, $upsert:path) => {{
        let ids: &[Uuid] = $ids;
        if !ids.is_empty() {
            let copies: Vec<(Uuid, Timestamp, Option<Timestamp>, Option<Timestamp>)> =
                sqlx::query_as(concat!(
                    "SELECT subscriber_id, created_at, opened_at, clicked_at FROM deliveries ",
                    "WHERE subscriber_id ",
                    $in_ids
                ))
                .bind($bind(ids))
                .fetch_all(&mut *$conn)
                .await
                .context("reading the copies of engaged subscribers")?;
            let replies: Vec<(Uuid, Timestamp)> = sqlx::query_as(concat!(
                "SELECT subscriber_id, received_at FROM inbound_messages ",
                "WHERE kind = 'reply' AND proof IS NOT NULL AND subscriber_id ",
                $in_ids
            ))
            .bind($bind(ids))
            .fetch_all(&mut *$conn)
            .await
            .context("reading the replies of engaged subscribers")?;
            let kept: Vec<(Uuid, Timestamp)> = sqlx::query_as(concat!(
                "SELECT subscriber_id, kept_at FROM permission_requests ",
                "WHERE kept_at IS NOT NULL AND subscriber_id ",
                $in_ids
            ))
            .bind($bind(ids))
            .fetch_all(&mut *$conn)
            .await
            .context("reading the keep-me answers of engaged subscribers")?;
            let figures = figures_of($model, ids, copies, replies, kept);
            $upsert(&mut *$conn, &figures).await?;
        }
        Ok(())
    }};
}

/// Recomputing subscribers' engagement inside a transaction, on either database.
pub(crate) trait RefreshEngagement {
    async fn refresh_engagement(
        &mut self,
        model: &EngagementModel,
        ids: &[Uuid],
    ) -> anyhow::Result<()>;
}

impl RefreshEngagement for sqlx::PgConnection {
    async fn refresh_engagement(
        &mut self,
        model: &EngagementModel,
        ids: &[Uuid],
    ) -> anyhow::Result<()> {
        // Two transactions refreshing one subscriber at once (a reply arriving while the
        // tracking writer stores an open, or two instances) would each see only its own
        // uncommitted signal, and the later write would drop the other's. Each takes the
        // subscribers' rows in one order first; the second then reads what the first
        // committed (each statement reads afresh under READ COMMITTED).
        if ids.is_empty() {
            return Ok(());
        }
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        sqlx::query(
            "INSERT INTO engagement (subscriber_id) SELECT id FROM unnest($1::uuid[]) AS u (id) \
             WHERE EXISTS (SELECT 1 FROM subscribers s WHERE s.id = u.id) \
             ORDER BY id ON CONFLICT (subscriber_id) DO NOTHING",
        )
        .bind(&sorted)
        .execute(&mut *self)
        .await
        .context("making room for engagement")?;
        sqlx::query(
            "SELECT subscriber_id FROM engagement WHERE subscriber_id = ANY($1) \
             ORDER BY subscriber_id FOR UPDATE",
        )
        .bind(&sorted)
        .fetch_all(&mut *self)
        .await
        .context("locking engagement")?;
        refresh!(
            self,
            model,
            &sorted,
            "= ANY($1)",
            <[Uuid]>::to_vec,
            upsert_postgres
        )
    }
}

impl RefreshEngagement for sqlx::SqliteConnection {
    async fn refresh_engagement(
        &mut self,
        model: &EngagementModel,
        ids: &[Uuid],
    ) -> anyhow::Result<()> {
        refresh!(
            self,
            model,
            ids,
            "IN (SELECT unhex(value) FROM json_each($1))",
            sqlite_ids,
            upsert_sqlite
        )
    }
}

/// Weighs each subscriber's copies and replies.
fn figures_of(
    model: &EngagementModel,
    ids: &[Uuid],
    copies: Vec<(Uuid, Timestamp, Option<Timestamp>, Option<Timestamp>)>,
    replies: Vec<(Uuid, Timestamp)>,
    kept: Vec<(Uuid, Timestamp)>,
) -> Vec<(Uuid, Figures)> {
    let mut sent: HashMap<Uuid, Vec<CopySignals>> = HashMap::new();
    for (subscriber, sent_at, opened_at, clicked_at) in copies {
        sent.entry(subscriber).or_default().push(CopySignals {
            sent_at: sent_at.0,
            opened_at: opened_at.map(|t| t.0),
            clicked_at: clicked_at.map(|t| t.0),
        });
    }
    let by_subscriber = |rows: Vec<(Uuid, Timestamp)>| {
        let mut map: HashMap<Uuid, Vec<OffsetDateTime>> = HashMap::new();
        for (subscriber, at) in rows {
            map.entry(subscriber).or_default().push(at.0);
        }
        map
    };
    let written = by_subscriber(replies);
    let answered = by_subscriber(kept);
    let mut unique = ids.to_vec();
    unique.sort_unstable();
    unique.dedup();
    unique
        .into_iter()
        .map(|id| {
            let copies = sent.get(&id).map(Vec::as_slice).unwrap_or_default();
            let replies = written.get(&id).map(Vec::as_slice).unwrap_or_default();
            let kept = answered.get(&id).map(Vec::as_slice).unwrap_or_default();
            (id, model.figures(copies, replies, kept))
        })
        .collect()
}

macro_rules! upsert_columns {
    () => {
        "INSERT INTO engagement (subscriber_id, rank, opens, clicks, replies, last_open_at, \
         last_click_at, last_reply_at, last_signal_at, campaigns, campaigns_since_signal, last_kept_at) "
    };
}

macro_rules! upsert_conflict {
    () => {
        " ON CONFLICT (subscriber_id) DO UPDATE SET rank = excluded.rank, opens = excluded.opens, \
         clicks = excluded.clicks, replies = excluded.replies, last_open_at = excluded.last_open_at, \
         last_click_at = excluded.last_click_at, last_reply_at = excluded.last_reply_at, \
         last_signal_at = excluded.last_signal_at, campaigns = excluded.campaigns, \
         campaigns_since_signal = excluded.campaigns_since_signal, last_kept_at = excluded.last_kept_at"
    };
}

async fn upsert_postgres(
    conn: &mut sqlx::PgConnection,
    rows: &[(Uuid, Figures)],
) -> anyhow::Result<()> {
    let column = |f: fn(&Figures) -> Option<OffsetDateTime>| -> Vec<Option<OffsetDateTime>> {
        rows.iter().map(|(_, figures)| f(figures)).collect()
    };
    let count = |f: fn(&Figures) -> i64| -> Vec<i64> { rows.iter().map(|(_, x)| f(x)).collect() };
    sqlx::query(concat!(
        upsert_columns!(),
        "SELECT * FROM unnest($1::uuid[], $2::float8[], $3::bigint[], $4::bigint[], $5::bigint[], \
         $6::timestamptz[], $7::timestamptz[], $8::timestamptz[], $9::timestamptz[], $10::bigint[], \
         $11::bigint[], $12::timestamptz[])",
        upsert_conflict!()
    ))
    .bind(rows.iter().map(|(id, _)| *id).collect::<Vec<_>>())
    .bind(rows.iter().map(|(_, f)| f.rank).collect::<Vec<_>>())
    .bind(count(|f| f.opens))
    .bind(count(|f| f.clicks))
    .bind(count(|f| f.replies))
    .bind(column(|f| f.last_open_at))
    .bind(column(|f| f.last_click_at))
    .bind(column(|f| f.last_reply_at))
    .bind(column(|f| f.last_signal_at))
    .bind(count(|f| f.campaigns))
    .bind(count(|f| f.campaigns_since_signal))
    .bind(column(|f| f.last_kept_at))
    .execute(conn)
    .await
    .context("storing engagement")?;
    Ok(())
}

async fn upsert_sqlite(
    conn: &mut sqlx::SqliteConnection,
    rows: &[(Uuid, Figures)],
) -> anyhow::Result<()> {
    let millis = |at: Option<OffsetDateTime>| at.map(|t| Timestamp(t).unix_millis());
    let json: Vec<serde_json::Value> = rows
        .iter()
        .map(|(id, f)| {
            serde_json::json!([
                id.simple().to_string(),
                f.rank,
                f.opens,
                f.clicks,
                f.replies,
                millis(f.last_open_at),
                millis(f.last_click_at),
                millis(f.last_reply_at),
                millis(f.last_signal_at),
                f.campaigns,
                f.campaigns_since_signal,
                millis(f.last_kept_at),
            ])
        })
        .collect();
    sqlx::query(concat!(
        upsert_columns!(),
        "SELECT unhex(value ->> 0), value ->> 1, value ->> 2, value ->> 3, value ->> 4, \
         value ->> 5, value ->> 6, value ->> 7, value ->> 8, value ->> 9, value ->> 10, value ->> 11 \
         FROM json_each($1) WHERE true",
        upsert_conflict!()
    ))
    .bind(serde_json::Value::Array(json).to_string())
    .execute(conn)
    .await
    .context("storing engagement")?;
    Ok(())
}

/// How subscribers are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubscriberOrder {
    /// Newest signup first.
    Newest,
    /// Oldest signup first.
    Oldest,
    /// Highest score now first; then the most recent human activity.
    Engagement,
    /// Lowest score now first (no human signal at all first).
    LeastEngaged,
    /// By name, A to Z, then by address; those without a name last.
    Name,
    /// By name, Z to A; those without a name last.
    NameDescending,
    /// Most recent human activity first; never active last.
    RecentActivity,
    /// Longest without human activity first; never active first.
    LeastRecentActivity,
}

impl SubscriberOrder {
    fn sql(self) -> &'static str {
        match self {
            Self::Newest => " ORDER BY created_at DESC, id DESC",
            Self::Oldest => " ORDER BY created_at, id",
            Self::Engagement => {
                " ORDER BY rank DESC NULLS LAST, last_signal_at DESC NULLS LAST, \
                 created_at DESC, id DESC"
            }
            Self::LeastEngaged => {
                " ORDER BY rank NULLS FIRST, last_signal_at NULLS FIRST, created_at, id"
            }
            Self::Name => " ORDER BY LOWER(name) NULLS LAST, LOWER(email), id",
            Self::NameDescending => {
                " ORDER BY LOWER(name) DESC NULLS LAST, LOWER(email) DESC, id DESC"
            }
            Self::RecentActivity => {
                " ORDER BY last_signal_at DESC NULLS LAST, created_at DESC, id DESC"
            }
            Self::LeastRecentActivity => " ORDER BY last_signal_at NULLS FIRST, created_at, id",
        }
    }
}

/// Which subscribers to list.
#[derive(Debug, Clone, Copy)]
pub struct SubscriberFilter {
    pub status: Option<SubscriberStatus>,
    pub tier: Option<Tier>,
    pub order: SubscriberOrder,
}

/// A subscriber with their engagement.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RankedSubscriber {
    #[serde(flatten)]
    pub subscriber: Subscriber,
    #[serde(flatten)]
    pub engagement: Engagement,
}

#[derive(Debug, Clone)]
pub struct SubscriberPage {
    pub total: i64,
    pub subscribers: Vec<RankedSubscriber>,
}

#[derive(sqlx::FromRow)]
struct RankedRow {
    id: Uuid,
    status: String,
    created_at: Timestamp,
    confirmed_at: Option<Timestamp>,
    rank: Option<f64>,
    opens: i64,
    clicks: i64,
    replies: i64,
    last_open_at: Option<Timestamp>,
    last_click_at: Option<Timestamp>,
    last_reply_at: Option<Timestamp>,
    last_kept_at: Option<Timestamp>,
    last_signal_at: Option<Timestamp>,
    campaigns: i64,
    campaigns_since_signal: i64,
    tier: String,
}

impl RankedRow {
    fn engagement(&self, model: &EngagementModel, now: OffsetDateTime) -> Engagement {
        let figures = Figures {
            rank: self.rank,
            opens: self.opens,
            clicks: self.clicks,
            replies: self.replies,
            last_open_at: self.last_open_at.map(|t| t.0),
            last_click_at: self.last_click_at.map(|t| t.0),
            last_reply_at: self.last_reply_at.map(|t| t.0),
            last_kept_at: self.last_kept_at.map(|t| t.0),
            last_signal_at: self.last_signal_at.map(|t| t.0),
            campaigns: self.campaigns,
            campaigns_since_signal: self.campaigns_since_signal,
        };
        let standing = Standing {
            status: &self.status,
            joined_at: self.confirmed_at.unwrap_or(self.created_at).0,
        };
        // The tier comes from SQL; an unknown name cannot happen, `quiet` is the neutral one.
        let tier = Tier::parse(&self.tier).unwrap_or(Tier::Quiet);
        Engagement::describe(model, &figures, tier, &standing, now)
    }
}

/// The list's headline figures: how many genuinely care.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EngagementSummary {
    pub confirmed: i64,
    /// Confirmed subscribers in the core and engaged tiers.
    pub engaged: i64,
    pub pending: i64,
    /// Subscribers per tier (pending ones, who have not confirmed, in none).
    pub tiers: Vec<TierCount>,
    /// Per campaign sent: how many recipients showed genuine interest in it.
    pub campaigns: Vec<CampaignInterest>,
    pub half_life_days: f64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TierCount {
    pub tier: Tier,
    pub count: i64,
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct CampaignInterest {
    pub id: Uuid,
    pub subject: String,
    pub started_at: Timestamp,
    /// Copies the mail server accepted.
    pub delivered: i64,
    /// Recipients who opened, clicked or replied, as a person.
    pub engaged: i64,
}

/// Each campaign that started, with its delivered copies and engaged recipients.
macro_rules! campaign_interest {
    () => {
        "SELECT c.id, c.subject, c.started_at, COALESCE(c.delivered, \
         (SELECT COUNT(*) FROM deliveries d WHERE d.campaign_id = c.id AND d.state = 'sent')) AS delivered, \
         c.engaged FROM campaigns c WHERE c.started_at IS NOT NULL"
    };
}

/// A `LIKE` pattern matching any text that contains `search` (lower-cased), with `%`, `_`
/// and `\` in it taken literally. SQLite's `LOWER` folds ASCII letters only, so there
/// (`unicode_case` false) only those are folded here too: "Émile" still finds "Émile".
fn like_pattern(search: &str, unicode_case: bool) -> String {
    let lower = if unicode_case {
        search.to_lowercase()
    } else {
        search.to_ascii_lowercase()
    };
    let mut pattern = String::with_capacity(search.len() + 2);
    pattern.push('%');
    for c in lower.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

impl Store {
    pub fn with_engagement_model(mut self, model: EngagementModel) -> Self {
        self.engagement_model = model;
        self
    }

    pub fn engagement_model(&self) -> EngagementModel {
        self.engagement_model
    }

    /// Recomputes every subscriber's engagement when the half-life it was computed with is
    /// not the configured one (or it never was computed). Returns whether it did.
    pub async fn ensure_engagement_model(&self) -> anyhow::Result<bool> {
        let wanted = self.engagement_model.half_life_days.to_string();
        let stored: Option<String> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT value FROM settings WHERE key = $1",
        )
        .bind(HALF_LIFE_KEY)
        .fetch_optional(pool)
        .await
        .context("reading the engagement half-life")?);
        if stored.as_deref() == Some(wanted.as_str()) {
            return Ok(false);
        }
        self.rebuild_engagement().await?;
        with_pool!(self, pool => sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(HALF_LIFE_KEY)
        .bind(&wanted)
        .execute(pool)
        .await
        .map(|_| ())
        .context("storing the engagement half-life")?);
        Ok(true)
    }

    /// Recomputes every subscriber's engagement from their copies and replies.
    pub async fn rebuild_engagement(&self) -> anyhow::Result<()> {
        const CHUNK: usize = 2000;
        let ids: Vec<Uuid> = with_pool!(self, pool => sqlx::query_scalar("SELECT id FROM subscribers")
            .fetch_all(pool)
            .await
            .context("listing subscribers")?);
        for chunk in ids.chunks(CHUNK) {
            self.refresh_engagement(chunk).await?;
        }
        Ok(())
    }

    /// Recomputes these subscribers' engagement, in a transaction of its own.
    pub async fn refresh_engagement(&self, ids: &[Uuid]) -> anyhow::Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            tx.refresh_engagement(&self.engagement_model, ids).await?;
            tx.commit().await.context("committing engagement")
        })
    }

    /// A page of subscribers with their engagement, filtered and ordered.
    pub async fn subscribers(
        &self,
        filter: SubscriberFilter,
        limit: i64,
        offset: i64,
        now: OffsetDateTime,
    ) -> anyhow::Result<SubscriberPage> {
        self.search_subscribers(filter, None, limit, offset, now)
            .await
    }

    /// A page of subscribers with their engagement, filtered, ordered, and (with `search`)
    /// only those whose address or name contains it, ignoring case. Two queries and a
    /// read of the page's subscribers, however long the list: the tier is computed in SQL
    /// and no event is read.
    pub async fn search_subscribers(
        &self,
        filter: SubscriberFilter,
        search: Option<&str>,
        limit: i64,
        offset: i64,
        now: OffsetDateTime,
    ) -> anyhow::Result<SubscriberPage> {
        let bounds = TierBounds::at(&self.engagement_model, now);
        let status = filter.status.map(SubscriberStatus::as_str);
        let tier = filter.tier.map(Tier::as_str);
        let pattern = search
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|search| {
                like_pattern(search, matches!(self.backend, super::Backend::Postgres(_)))
            });
        const FILTER: &str = "WHERE ($7 IS NULL OR status = $7) AND ($8 IS NULL OR tier = $8) \
             AND ($9 IS NULL OR LOWER(email) LIKE $9 ESCAPE '\\' OR LOWER(name) LIKE $9 ESCAPE '\\')";
        let order = filter.order.sql();
        let page_sql = format!(
            "SELECT * FROM {}{FILTER}{order} LIMIT $10 OFFSET $11",
            ranked_subscribers!()
        );
        let count_sql = format!("SELECT COUNT(*) FROM {}{FILTER}", ranked_subscribers!());
        let (total, rows) = with_pool!(self, pool => {
            let total: i64 = bind_tiers!(sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)), bounds)
                .bind(status)
                .bind(tier)
                .bind(&pattern)
                .fetch_one(pool)
                .await
                .context("counting subscribers")?;
            let rows: Vec<RankedRow> =
                bind_tiers!(sqlx::query_as(sqlx::AssertSqlSafe(page_sql)), bounds)
                    .bind(status)
                    .bind(tier)
                    .bind(&pattern)
                    .bind(limit)
                    .bind(offset)
                    .fetch_all(pool)
                    .await
                    .context("listing subscribers")?;
            (total, rows)
        });
        let ids: Vec<Uuid> = rows.iter().map(|row| row.id).collect();
        let mut people: HashMap<Uuid, Subscriber> = self
            .subscribers_by_id(&ids)
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        let subscribers = rows
            .iter()
            .filter_map(|row| {
                // Erased between the two reads: left out.
                let subscriber = people.remove(&row.id)?;
                Some(RankedSubscriber {
                    subscriber,
                    engagement: row.engagement(&self.engagement_model, now),
                })
            })
            .collect();
        Ok(SubscriberPage { total, subscribers })
    }

    /// One subscriber's engagement now; `None` when there is no such subscriber.
    pub async fn subscriber_engagement(
        &self,
        id: Uuid,
        now: OffsetDateTime,
    ) -> anyhow::Result<Option<Engagement>> {
        let bounds = TierBounds::at(&self.engagement_model, now);
        let row: Option<RankedRow> = with_pool!(self, pool => bind_tiers!(sqlx::query_as(concat!(
            "SELECT * FROM ",
            ranked_subscribers!(),
            "WHERE id = $7"
        )), bounds)
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("reading a subscriber's engagement")?);
        Ok(row.map(|row| row.engagement(&self.engagement_model, now)))
    }

    /// The campaign that started last, if any.
    pub async fn last_campaign_interest(&self) -> anyhow::Result<Option<CampaignInterest>> {
        with_pool!(self, pool => sqlx::query_as::<_, CampaignInterest>(concat!(
            campaign_interest!(),
            " ORDER BY c.started_at DESC LIMIT 1"
        ))
        .fetch_optional(pool)
        .await
        .context("reading the last campaign"))
    }

    /// How many genuinely care, per tier, and after each campaign.
    pub async fn engagement_summary(
        &self,
        now: OffsetDateTime,
    ) -> anyhow::Result<EngagementSummary> {
        let bounds = TierBounds::at(&self.engagement_model, now);
        let (counts, campaigns) = with_pool!(self, pool => {
            let counts: Vec<(String, String, i64)> = bind_tiers!(sqlx::query_as(concat!(
                "SELECT status, tier, COUNT(*) FROM ",
                ranked_subscribers!(),
                "GROUP BY status, tier"
            )), bounds)
            .fetch_all(pool)
            .await
            .context("counting subscribers per tier")?;
            let campaigns: Vec<CampaignInterest> = sqlx::query_as(concat!(
                campaign_interest!(),
                " ORDER BY c.started_at"
            ))
            .fetch_all(pool)
            .await
            .context("counting the engaged per campaign")?;
            (counts, campaigns)
        });
        let mut tiers: Vec<TierCount> = Tier::ALL
            .into_iter()
            .map(|tier| TierCount { tier, count: 0 })
            .collect();
        let (mut confirmed, mut engaged, mut pending) = (0, 0, 0);
        for (status, tier, count) in counts {
            if status == "pending" {
                pending += count;
                continue;
            }
            let Some(tier) = Tier::parse(&tier) else {
                continue;
            };
            if status == "confirmed" {
                confirmed += count;
                if tier.is_engaged() {
                    engaged += count;
                }
            }
            if let Some(entry) = tiers.iter_mut().find(|t| t.tier == tier) {
                entry.count += count;
            }
        }
        Ok(EngagementSummary {
            confirmed,
            engaged,
            pending,
            tiers,
            campaigns,
            half_life_days: self.engagement_model.half_life_days,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::like_pattern;

    #[test]
    fn a_search_is_taken_literally_and_without_case() {
        assert_eq!(like_pattern("Ann", true), "%ann%");
        assert_eq!(like_pattern("50%_off\\", false), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern("Émile", true), "%émile%");
        assert_eq!(like_pattern("Émile", false), "%Émile%");
    }
}
