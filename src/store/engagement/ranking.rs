//! The reads: subscribers listed with their engagement, filtered by tier, ordered,
//! searched. The tier is computed in SQL (`RANKED`), so a page never reads every
//! subscriber or any event.

use std::collections::HashMap;

use anyhow::Context as _;
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::dialect::Dialect;
use super::super::{Store, Timestamp, with_pool};
use super::{RANKED, bind_tiers};
use crate::domain::{
    Engagement, EngagementModel, Figures, Standing, Subscriber, SubscriberStatus, Tier, TierBounds,
};

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
        let bounds = TierBounds::at(&self.engagement_model(), now);
        let status = filter.status.map(SubscriberStatus::as_str);
        let tier = filter.tier.map(Tier::as_str);
        let search = search.map(str::trim).filter(|s| !s.is_empty());
        const FILTER: &str = "WHERE ($7 IS NULL OR status = $7) AND ($8 IS NULL OR tier = $8) \
             AND ($9 IS NULL OR LOWER(email) LIKE $9 ESCAPE '\\' OR LOWER(name) LIKE $9 ESCAPE '\\')";
        let order = filter.order.sql();
        let page_sql = format!("SELECT * FROM {RANKED}{FILTER}{order} LIMIT $10 OFFSET $11");
        let count_sql = format!("SELECT COUNT(*) FROM {RANKED}{FILTER}");
        let (total, rows) = with_pool!(self, pool, Db => {
            let pattern = search.map(|search| like_pattern(search, Db::LOWER_FOLDS_UNICODE));
            let total: i64 =
                bind_tiers::<Db, _>(sqlx::query_scalar(sqlx::AssertSqlSafe(count_sql)), &bounds)
                .bind(status)
                .bind(tier)
                .bind(&pattern)
                .fetch_one(pool)
                .await
                .context("counting subscribers")?;
            let rows: Vec<RankedRow> =
                bind_tiers::<Db, _>(sqlx::query_as(sqlx::AssertSqlSafe(page_sql)), &bounds)
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
                    engagement: row.engagement(&self.engagement_model(), now),
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
        let bounds = TierBounds::at(&self.engagement_model(), now);
        let sql = format!("SELECT * FROM {RANKED}WHERE id = $7");
        let row: Option<RankedRow> = with_pool!(self, pool, Db => bind_tiers::<Db, _>(
            sqlx::query_as(sqlx::AssertSqlSafe(sql)),
            &bounds,
        )
        .bind(id)
        .fetch_optional(pool)
        .await
        .context("reading a subscriber's engagement")?);
        Ok(row.map(|row| row.engagement(&self.engagement_model(), now)))
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
