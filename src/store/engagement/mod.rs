//! Each subscriber's genuine interest, kept in `engagement` and read back ranked, by tier.
//!
//! `refresh` writes: whatever records a human signal recomputes the subscriber's row in
//! the same transaction. `ranking` reads: pages of subscribers by tier, order and search.
//! Here: how a tier is decided in SQL (shared by every read that filters or counts by
//! tier: campaign audiences, permission requests, exports) and the list's headline
//! figures. The weighing itself is in `domain::engagement`.

mod ranking;
mod refresh;

use anyhow::Context as _;
use sqlx::{Database, Encode, Type};
use time::OffsetDateTime;
use uuid::Uuid;

use super::dialect::Bind;
use super::{Store, Timestamp, with_pool};
use crate::domain::engagement::{DORMANT_CAMPAIGNS, NEW_CAMPAIGNS};
use crate::domain::{Tier, TierBounds};

pub use ranking::{RankedSubscriber, SubscriberFilter, SubscriberOrder, SubscriberPage};
pub(crate) use refresh::RefreshEngagement;

/// Every subscriber with their engagement figures and tier, as a table `ranked` to select
/// from. The tier of subscriber `s` with engagement row `e` (possibly absent) binds, in
/// this order (see `bind_tiers`): $1 the rank of the core score now, $2 engaged since, $3
/// new since, $4 dormant before, $5 campaigns a newcomer gets, $6 campaigns of silence
/// before dormant. Defined in README ("Engagement"). The days a person paused their mail
/// (`/me`) are not counted against them: their last signal, their joining and their score
/// are moved on by them (`pause_credit`, `pause_rank_credit`).
pub(crate) const RANKED: &str = "(SELECT s.id, s.email, s.name, s.status, s.created_at, \
     s.confirmed_at, e.rank, COALESCE(e.opens, 0) AS opens, COALESCE(e.clicks, 0) AS clicks, \
     COALESCE(e.replies, 0) AS replies, e.last_open_at, e.last_click_at, e.last_reply_at, \
     e.last_signal_at, e.last_kept_at, COALESCE(e.campaigns, 0) AS campaigns, \
     COALESCE(e.campaigns_since_signal, 0) AS campaigns_since_signal, \
     CASE \
       WHEN s.status IN ('unsubscribed', 'bounced', 'complained') THEN 'gone' \
       WHEN e.rank + s.pause_rank_credit >= $1 THEN 'core' \
       WHEN e.last_signal_at + s.pause_credit >= $2 THEN 'engaged' \
       WHEN s.status = 'pending' OR COALESCE(s.confirmed_at, s.created_at) + s.pause_credit >= $3 \
            OR COALESCE(e.campaigns, 0) < $5 THEN 'new' \
       WHEN COALESCE(e.campaigns_since_signal, 0) >= $6 \
            AND (e.last_signal_at IS NULL OR e.last_signal_at + s.pause_credit < $4) THEN 'dormant' \
       ELSE 'quiet' \
     END AS tier, s.paused_until FROM subscribers s LEFT JOIN engagement e ON e.subscriber_id = s.id) ranked ";

/// Binds the six tier bounds `RANKED` reads as $1-$6.
pub(crate) fn bind_tiers<DB: Database, Q: Bind<DB>>(query: Q, bounds: &TierBounds) -> Q
where
    f64: for<'e> Encode<'e, DB> + Type<DB>,
    i64: for<'e> Encode<'e, DB> + Type<DB>,
    Timestamp: for<'e> Encode<'e, DB> + Type<DB>,
{
    query
        .bind_value(bounds.core_rank)
        .bind_value(Timestamp::from(bounds.engaged_since))
        .bind_value(Timestamp::from(bounds.new_since))
        .bind_value(Timestamp::from(bounds.dormant_before))
        .bind_value(NEW_CAMPAIGNS)
        .bind_value(DORMANT_CAMPAIGNS)
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
const CAMPAIGN_INTEREST: &str = "SELECT c.id, c.subject, c.started_at, COALESCE(c.delivered, \
     (SELECT COUNT(*) FROM deliveries d WHERE d.campaign_id = c.id AND d.state = 'sent')) AS delivered, \
     c.engaged FROM campaigns c WHERE c.started_at IS NOT NULL";

impl Store {
    /// The campaign that started last, if any.
    pub async fn last_campaign_interest(&self) -> anyhow::Result<Option<CampaignInterest>> {
        with_pool!(self, pool => sqlx::query_as::<_, CampaignInterest>(sqlx::AssertSqlSafe(format!(
            "{CAMPAIGN_INTEREST} ORDER BY c.started_at DESC LIMIT 1"
        )))
        .fetch_optional(pool)
        .await
        .context("reading the last campaign"))
    }

    /// How many genuinely care, per tier, and after each campaign.
    pub async fn engagement_summary(
        &self,
        now: OffsetDateTime,
    ) -> anyhow::Result<EngagementSummary> {
        let bounds = TierBounds::at(&self.engagement_model(), now);
        let counts_sql =
            format!("SELECT status, tier, COUNT(*) FROM {RANKED}GROUP BY status, tier");
        let campaigns_sql = format!("{CAMPAIGN_INTEREST} ORDER BY c.started_at");
        let (counts, campaigns) = with_pool!(self, pool, Db => {
            let counts: Vec<(String, String, i64)> = bind_tiers::<Db, _>(
                sqlx::query_as(sqlx::AssertSqlSafe(counts_sql)),
                &bounds,
            )
            .fetch_all(pool)
            .await
            .context("counting subscribers per tier")?;
            let campaigns: Vec<CampaignInterest> = sqlx::query_as(sqlx::AssertSqlSafe(campaigns_sql))
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
            half_life_days: self.engagement_model().half_life_days,
        })
    }
}
