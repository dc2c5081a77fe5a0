//! A campaign's report: what the JSON API and the owner's report page show, read in one
//! place so that both tell the same story. Every read is an index range over one
//! campaign's rows, and the independent ones run side by side.

use anyhow::Context as _;
use uuid::Uuid;

use super::inbound::{ENTRY_COLUMNS, ENTRY_FROM, InboundEntry, NEWEST_FIRST};
use super::{
    CampaignEngagement, CampaignRecord, DeliveryCounts, FailedDelivery, Store, Timestamp, with_pool,
};
use crate::domain::CampaignStatus;

/// How many failures a report lists with their SMTP replies.
pub const REPORT_FAILURES: i64 = 100;

/// Mail that came back about a campaign, per kind.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct InboundCounts {
    pub replies: i64,
    pub auto_replies: i64,
    pub hard_bounces: i64,
    pub soft_bounces: i64,
    pub complaints: i64,
}

/// Everything a campaign's report counts.
#[derive(Debug, Clone)]
pub struct CampaignReport {
    /// Before the send, how many it would reach now; after, how many it was addressed to.
    pub audience_size: i64,
    pub deliveries: DeliveryCounts,
    /// The first failed deliveries, with what the mail server said.
    pub failures: Vec<FailedDelivery>,
    pub engagement: CampaignEngagement,
    pub inbound: InboundCounts,
    /// Recipients it lost: they unsubscribed after it reached them, before the next one did.
    pub unsubscribes: i64,
}

/// Which mail that came back to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignMailKind {
    Replies,
    /// Bounces and complaints.
    Returned,
}

/// A recipient a campaign lost.
#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct Unsubscriber {
    pub subscriber_id: Uuid,
    pub email: String,
    pub at: Timestamp,
}

/// Recipients of campaign `$1` who unsubscribed after it reached them and before any later
/// campaign did: the ones it lost. One definition for the count and the list.
const LOST_RECIPIENTS: &str = "FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id \
     WHERE d.campaign_id = $1 AND s.status = 'unsubscribed' AND s.unsubscribed_at >= d.created_at \
     AND NOT EXISTS (SELECT 1 FROM deliveries later WHERE later.subscriber_id = d.subscriber_id \
     AND later.created_at > d.created_at AND later.created_at <= s.unsubscribed_at)";

impl Store {
    /// The report of one campaign: deliveries, failures, opens and clicks, mail that came
    /// back and unsubscribes.
    pub async fn campaign_report(&self, record: &CampaignRecord) -> anyhow::Result<CampaignReport> {
        let id = record.id;
        let tiers = record.audience();
        let would_reach = async {
            match record.status() {
                CampaignStatus::Draft | CampaignStatus::Scheduled => {
                    self.audience_size(tiers.as_deref()).await.map(Some)
                }
                _ => Ok(None),
            }
        };
        let (deliveries, failures, engagement, inbound, unsubscribes, would_reach) = tokio::try_join!(
            self.delivery_counts(id),
            self.failed_deliveries(id, REPORT_FAILURES),
            self.campaign_engagement(id),
            self.campaign_inbound_counts(id),
            self.campaign_unsubscribes(id),
            would_reach,
        )?;
        Ok(CampaignReport {
            audience_size: would_reach.unwrap_or_else(|| deliveries.total()),
            deliveries,
            failures,
            engagement,
            inbound,
            unsubscribes,
        })
    }

    /// How many replies, automatic replies, bounces and complaints a campaign has.
    pub async fn campaign_inbound_counts(&self, campaign: Uuid) -> anyhow::Result<InboundCounts> {
        let rows: Vec<(String, i64)> = with_pool!(self, pool => sqlx::query_as(
            "SELECT kind, COUNT(*) FROM inbound_messages WHERE campaign_id = $1 GROUP BY kind",
        )
        .bind(campaign)
        .fetch_all(pool)
        .await
        .context("counting a campaign's inbound messages")?);
        let mut counts = InboundCounts::default();
        for (kind, count) in rows {
            match kind.as_str() {
                "reply" => counts.replies = count,
                "auto_reply" => counts.auto_replies = count,
                "hard_bounce" => counts.hard_bounces = count,
                "soft_bounce" => counts.soft_bounces = count,
                "complaint" => counts.complaints = count,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// How many recipients a campaign lost (see `LOST_RECIPIENTS`).
    pub async fn campaign_unsubscribes(&self, campaign: Uuid) -> anyhow::Result<i64> {
        let sql = format!("SELECT COUNT(*) {LOST_RECIPIENTS}");
        with_pool!(self, pool => sqlx::query_scalar(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(campaign)
            .fetch_one(pool)
            .await
            .context("counting a campaign's unsubscribes"))
    }

    /// The recipients a campaign lost, latest first.
    pub async fn campaign_unsubscribers(
        &self,
        campaign: Uuid,
        limit: i64,
    ) -> anyhow::Result<Vec<Unsubscriber>> {
        let sql = format!(
            "SELECT s.id AS subscriber_id, s.email, s.unsubscribed_at AS at {LOST_RECIPIENTS} \
             ORDER BY s.unsubscribed_at DESC, s.id LIMIT $2"
        );
        with_pool!(self, pool => sqlx::query_as::<_, Unsubscriber>(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(campaign)
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("listing a campaign's unsubscribes"))
    }

    /// Replies to a campaign, or its bounces and complaints, latest first.
    pub async fn campaign_mail(
        &self,
        campaign: Uuid,
        kind: CampaignMailKind,
        limit: i64,
    ) -> anyhow::Result<Vec<InboundEntry>> {
        let kinds = match kind {
            CampaignMailKind::Replies => "('reply')",
            CampaignMailKind::Returned => "('hard_bounce', 'soft_bounce', 'complaint')",
        };
        let sql = format!(
            "{ENTRY_COLUMNS}{ENTRY_FROM}WHERE m.campaign_id = $1 AND m.kind IN {kinds} \
             {NEWEST_FIRST} LIMIT $2"
        );
        with_pool!(self, pool => sqlx::query_as::<_, InboundEntry>(sqlx::AssertSqlSafe(sql.as_str()))
            .bind(campaign)
            .bind(limit)
            .fetch_all(pool)
            .await
            .context("listing mail that came back about a campaign"))
    }
}
