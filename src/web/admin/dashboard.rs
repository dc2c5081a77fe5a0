//! `/admin`: how many people genuinely care, at a glance. The headline ("N engaged of M
//! confirmed"), the tiers, the engaged recipients of each campaign as a chart drawn on the
//! server (SVG, with the same figures as a table), the latest replies, and the last
//! campaign's genuine numbers beside the machine ones.

use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use serde::Serialize;
use tera::Context;
use time::OffsetDateTime;

use super::review::dashboard_notice;
use super::{AdminError, Owner, page};
use crate::domain::Tier;
use crate::store::{CampaignEngagement, CampaignInterest};
use crate::web::AppState;
use crate::web::routes::Routes;

/// How many campaigns the chart shows (the most recent).
const CHART_CAMPAIGNS: usize = 12;
const LATEST_REPLIES: i64 = 5;
/// How many bounces and complaints waiting for review the dashboard lists (the newest).
const REVIEW_SHOWN: i64 = 20;

pub fn routes() -> Routes {
    Routes::new().route("/admin", get(dashboard))
}

/// The last campaign's figures, genuine beside discounted.
#[derive(Serialize)]
struct LastCampaign {
    campaign: CampaignInterest,
    engagement: CampaignEngagement,
    replies: i64,
}

async fn dashboard(
    State(state): State<AppState>,
    owner: Owner,
    RawQuery(query): RawQuery,
) -> Result<Response, AdminError> {
    let store = &state.store;
    let notice = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(key, _)| key == "notice")
        .and_then(|(_, value)| dashboard_notice(&value));
    // Everything side by side: the last campaign's figures need only its id.
    let last_figures = async {
        let Some(campaign) = store.last_campaign_interest().await? else {
            return Ok(None);
        };
        let (engagement, inbound) = tokio::try_join!(
            store.campaign_engagement(campaign.id),
            store.campaign_inbound_counts(campaign.id),
        )?;
        anyhow::Ok(Some(LastCampaign {
            campaign,
            engagement,
            replies: inbound.replies,
        }))
    };
    let (summary, replies, last, review, review_count) = tokio::try_join!(
        store.engagement_summary(OffsetDateTime::now_utc()),
        store.latest_replies(LATEST_REPLIES),
        last_figures,
        store.inbound_messages(true, REVIEW_SHOWN, 0),
        store.review_count(),
    )?;
    let tiers: Vec<TierRow> = summary
        .tiers
        .iter()
        .map(|t| TierRow {
            tier: t.tier.as_str(),
            count: t.count,
            meaning: tier_meaning(t.tier),
        })
        .collect();
    let mut context = Context::new();
    context.insert("tiers", &tiers);
    context.insert("chart", &Chart::of(&summary.campaigns));
    context.insert("summary", &summary);
    context.insert("replies", &replies);
    context.insert("last", &last);
    context.insert("review", &review);
    context.insert("review_count", &review_count);
    context.insert("postal_address", &state.settings().postal_address);
    if let Some(notice) = notice {
        context.insert("notice", notice);
    }
    Ok(page(
        &state,
        &owner,
        "dashboard",
        "web/admin/dashboard.html",
        &mut context,
    ))
}

#[derive(Serialize)]
struct TierRow {
    tier: &'static str,
    count: i64,
    meaning: &'static str,
}

/// What each tier means, in a line (README, "Engagement", has the exact rules).
fn tier_meaning(tier: Tier) -> &'static str {
    match tier {
        Tier::Core => "reply, click and read again and again",
        Tier::Engaged => "showed real interest in the last 90 days",
        Tier::New => "joined recently; too soon to tell",
        Tier::Quiet => "on the list, no recent sign of interest",
        Tier::Dormant => "nothing for six months over five campaigns or more",
        Tier::Gone => "unsubscribed, bounced or complained",
    }
}

/// A bar chart of the recent campaigns: delivered copies as a pale bar, engaged recipients
/// as a solid one inside it. Coordinates are computed here; the template only draws them.
#[derive(Serialize, Debug)]
struct Chart {
    width: u32,
    height: u32,
    /// The baseline's y.
    base: u32,
    ticks: Vec<Tick>,
    bars: Vec<Bar>,
}

/// A gridline: where it is drawn and the value it marks.
#[derive(Serialize, Debug)]
struct Tick {
    y: u32,
    value: i64,
}

#[derive(Serialize, Debug)]
struct Bar {
    x: u32,
    width: u32,
    delivered_y: u32,
    delivered_height: u32,
    engaged_y: u32,
    engaged_height: u32,
    /// Where the engaged count is written, above its bar.
    label_y: u32,
    subject: String,
    started_at: String,
    delivered: i64,
    engaged: i64,
}

impl Chart {
    const WIDTH: u32 = 640;
    const HEIGHT: u32 = 220;
    const TOP: u32 = 24;
    const BOTTOM: u32 = 200;
    const LEFT: u32 = 44;

    fn of(campaigns: &[CampaignInterest]) -> Self {
        let shown = &campaigns[campaigns.len().saturating_sub(CHART_CAMPAIGNS)..];
        let largest = shown
            .iter()
            .map(|c| c.delivered.max(c.engaged))
            .max()
            .unwrap_or(0)
            .max(1);
        let scale_top = nice_ceiling(largest);
        let plot = f64::from(Self::BOTTOM - Self::TOP);
        let y_of = |value: i64| {
            let share = value.clamp(0, scale_top) as f64 / scale_top as f64;
            Self::BOTTOM - (share * plot).round() as u32
        };
        let slot = if shown.is_empty() {
            0
        } else {
            (Self::WIDTH - Self::LEFT) / shown.len() as u32
        };
        let width = (slot * 3 / 5).clamp(4, 48);
        let bars = shown
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let x = Self::LEFT + slot * i as u32 + (slot - width) / 2;
                let delivered_y = y_of(c.delivered);
                let engaged_y = y_of(c.engaged);
                Bar {
                    x,
                    width,
                    delivered_y,
                    delivered_height: Self::BOTTOM - delivered_y,
                    engaged_y,
                    engaged_height: Self::BOTTOM - engaged_y,
                    label_y: engaged_y.saturating_sub(4).max(12),
                    subject: c.subject.clone(),
                    started_at: c.started_at.0.date().to_string(),
                    delivered: c.delivered,
                    engaged: c.engaged,
                }
            })
            .collect();
        let ticks = [0, scale_top / 2, scale_top]
            .into_iter()
            .map(|value| Tick {
                y: y_of(value),
                value,
            })
            .collect();
        Self {
            width: Self::WIDTH,
            height: Self::HEIGHT,
            base: Self::BOTTOM,
            ticks,
            bars,
        }
    }
}

/// The smallest of 1, 2, 5 × 10ⁿ at or above `value`, so gridlines fall on round numbers.
fn nice_ceiling(value: i64) -> i64 {
    let mut magnitude = 1i64;
    loop {
        for step in [1, 2, 5] {
            let candidate = step * magnitude;
            if candidate >= value {
                return candidate;
            }
        }
        magnitude = magnitude.saturating_mul(10);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Timestamp;
    use uuid::Uuid;

    fn campaign(delivered: i64, engaged: i64) -> CampaignInterest {
        CampaignInterest {
            id: Uuid::now_v7(),
            subject: "Spring".into(),
            started_at: Timestamp::now(),
            delivered,
            engaged,
        }
    }

    #[test]
    fn gridlines_fall_on_round_numbers() {
        assert_eq!(nice_ceiling(1), 1);
        assert_eq!(nice_ceiling(3), 5);
        assert_eq!(nice_ceiling(7), 10);
        assert_eq!(nice_ceiling(101), 200);
        assert_eq!(nice_ceiling(480), 500);
    }

    #[test]
    fn bars_are_as_tall_as_their_share_of_the_scale() {
        let chart = Chart::of(&[campaign(100, 50), campaign(40, 40), campaign(0, 0)]);
        assert_eq!(chart.bars.len(), 3);
        let plot = Chart::BOTTOM - Chart::TOP;
        assert_eq!(chart.bars[0].delivered_height, plot);
        assert_eq!(chart.bars[0].engaged_height, plot / 2);
        assert_eq!(chart.bars[1].engaged_height, chart.bars[1].delivered_height);
        assert_eq!(chart.bars[2].delivered_height, 0);
        assert!(chart.bars[0].x < chart.bars[1].x && chart.bars[1].x < chart.bars[2].x);
        assert!(chart.bars.iter().all(|b| b.x + b.width <= Chart::WIDTH));
    }

    #[test]
    fn only_the_recent_campaigns_are_drawn() {
        let many: Vec<_> = (0..30).map(|i| campaign(10 + i, i)).collect();
        let chart = Chart::of(&many);
        assert_eq!(chart.bars.len(), CHART_CAMPAIGNS);
        assert_eq!(chart.bars.last().map(|b| b.delivered), Some(39));
        assert!(Chart::of(&[]).bars.is_empty());
    }
}
