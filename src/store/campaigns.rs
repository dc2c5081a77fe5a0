//! Campaigns: drafts, scheduling, the audience snapshot that starts a send, pausing,
//! cancelling, and the report counts.

use anyhow::Context as _;
use uuid::Uuid;

use super::dialect::Dialect;
use super::engagement::{RANKED, bind_tiers};
use super::{Store, Timestamp, with_pool};
use crate::domain::{BodyFormat, CampaignStatus, Tier, TierBounds};

mod sending;

/// A scheduled send that starts more than this late says so in its report.
const LATE_AFTER_SECONDS: i64 = 60;

#[derive(Debug, Clone)]
pub struct CampaignDraft {
    pub subject: String,
    pub body: String,
    pub format: BodyFormat,
    pub preheader: Option<String>,
    pub layout: String,
    /// The tiers it is for; `None`: every confirmed subscriber.
    pub audience: Option<Vec<Tier>>,
    /// Shown in the public archive once it went out.
    pub public: bool,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignRecord {
    pub id: Uuid,
    pub subject: String,
    pub body: String,
    pub format: String,
    pub preheader: Option<String>,
    pub layout: String,
    pub status: String,
    pub scheduled_at: Option<Timestamp>,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    pub late_by_seconds: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// A JSON array of tier names; `None`: every confirmed subscriber.
    pub audience_tiers: Option<String>,
    /// Recipients who showed genuine interest: a first human open, click or reply.
    pub engaged: i64,
    /// Copies the mail server accepted, counted once when the send finished.
    pub delivered: Option<i64>,
    /// The layout version it went out with (`template_versions.id`), set when it started
    /// sending.
    pub layout_version: Option<i64>,
    /// Shown in the public archive once it went out.
    pub public: bool,
    /// Its address in the archive (`/archive/{slug}`), given once it went out.
    pub slug: Option<String>,
}

/// A campaign as the list of campaigns shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CampaignListing {
    #[sqlx(flatten)]
    pub record: CampaignRecord,
    /// Copies the mail server accepted so far (the final count once the send finished).
    pub delivered_so_far: i64,
}

impl CampaignRecord {
    pub fn status(&self) -> CampaignStatus {
        CampaignStatus::parse(&self.status).unwrap_or(CampaignStatus::Draft)
    }

    pub fn format(&self) -> BodyFormat {
        BodyFormat::parse(&self.format).unwrap_or(BodyFormat::Markdown)
    }

    /// The tiers it is for; `None`: every confirmed subscriber.
    pub fn audience(&self) -> Option<Vec<Tier>> {
        let names: Vec<String> = serde_json::from_str(self.audience_tiers.as_deref()?).ok()?;
        Some(names.iter().filter_map(|name| Tier::parse(name)).collect())
    }
}

/// How a campaign's tiers are stored.
fn tiers_json(tiers: Option<&[Tier]>) -> Option<String> {
    tiers.map(|tiers| {
        serde_json::Value::Array(
            tiers
                .iter()
                .map(|t| serde_json::Value::String(t.as_str().into()))
                .collect(),
        )
        .to_string()
    })
}

/// How many deliveries of a campaign are in each state.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct DeliveryCounts {
    pub queued: i64,
    pub sent: i64,
    pub failed: i64,
    pub skipped: i64,
    /// Deliveries taken over from a worker that died while holding them: each may have
    /// reached the SMTP server before the crash, so each is a possible duplicate.
    pub resumed_after_crash: i64,
}

impl DeliveryCounts {
    pub fn total(&self) -> i64 {
        self.queued + self.sent + self.failed + self.skipped
    }
}

#[derive(Debug, Clone, serde::Serialize, sqlx::FromRow)]
pub struct FailedDelivery {
    pub subscriber_id: Option<Uuid>,
    pub email: Option<String>,
    pub attempts: i32,
    pub smtp_reply: Option<String>,
}

/// Why a campaign change was refused.
#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("no such campaign")]
    NotFound,
    #[error("the campaign is {0}; only a {1} campaign can do that")]
    WrongStatus(String, &'static str),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// What the owner can do to a campaign once it is scheduled or sending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CampaignChange {
    Pause,
    Resume,
    Cancel,
    /// A scheduled campaign back to a draft.
    Unschedule,
}

impl CampaignChange {
    /// The status the campaign has after it.
    pub fn status_after(self) -> &'static str {
        match self {
            CampaignChange::Pause => "paused",
            CampaignChange::Resume => "sending",
            CampaignChange::Cancel => "cancelled",
            CampaignChange::Unschedule => "draft",
        }
    }
}

/// Who starts a send: the owner, now (a draft or a scheduled campaign), or the scheduler,
/// when a scheduled campaign's time has come (and only then).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Now,
    WhenDue,
}

impl Start {
    fn needs(self) -> &'static str {
        match self {
            Start::Now => "draft or scheduled",
            Start::WhenDue => "scheduled",
        }
    }
}

pub(super) const COLUMNS: &str = "id, subject, body, format, preheader, layout, status, scheduled_at, \
    started_at, finished_at, late_by_seconds, created_at, updated_at, audience_tiers, engaged, delivered, \
    layout_version, public, slug";

impl Store {
    pub async fn create_campaign(
        &self,
        draft: &CampaignDraft,
        now: Timestamp,
    ) -> anyhow::Result<Uuid> {
        let id = Uuid::now_v7();
        self.write_draft(
            "INSERT INTO campaigns (id, subject, body, format, preheader, layout, status, created_at, \
             updated_at, audience_tiers, public) VALUES ($1, $2, $3, $4, $5, $6, 'draft', $7, $7, $8, $9)",
            id,
            draft,
            now,
            "creating the campaign",
        )
        .await?;
        Ok(id)
    }

    /// Runs `sql` (an insert or update of one draft) with the campaign's id as `$1`, the
    /// draft's subject, body, format, preheader and layout as `$2`..`$6`, `now` as `$7`, its
    /// audience as `$8` and whether it is public as `$9`; returns how many rows it wrote.
    async fn write_draft(
        &self,
        sql: &'static str,
        id: Uuid,
        draft: &CampaignDraft,
        now: Timestamp,
        what: &'static str,
    ) -> anyhow::Result<u64> {
        let tiers = tiers_json(draft.audience.as_deref());
        with_pool!(self, pool => Ok(sqlx::query(sql)
            .bind(id)
            .bind(&draft.subject)
            .bind(&draft.body)
            .bind(draft.format.as_str())
            .bind(&draft.preheader)
            .bind(&draft.layout)
            .bind(now)
            .bind(&tiers)
            .bind(draft.public)
            .execute(pool)
            .await
            .context(what)?
            .rows_affected()))
    }

    /// Replaces a draft's content. Refused once the campaign has left the draft state.
    pub async fn update_campaign(
        &self,
        id: Uuid,
        draft: &CampaignDraft,
        now: Timestamp,
    ) -> Result<(), CampaignError> {
        let updated = self
            .write_draft(
                "UPDATE campaigns SET subject = $2, body = $3, format = $4, preheader = $5, layout = $6, \
                 updated_at = $7, audience_tiers = $8, public = $9 WHERE id = $1 AND status = 'draft'",
                id,
                draft,
                now,
                "updating the campaign",
            )
            .await?;
        if updated == 1 {
            return Ok(());
        }
        Err(self.explain_refusal(id, "draft").await)
    }

    async fn explain_refusal(&self, id: Uuid, needed: &'static str) -> CampaignError {
        match self.campaign(id).await {
            Ok(Some(campaign)) => CampaignError::WrongStatus(campaign.status, needed),
            Ok(None) => CampaignError::NotFound,
            Err(err) => CampaignError::Unexpected(err),
        }
    }

    pub async fn campaign(&self, id: Uuid) -> anyhow::Result<Option<CampaignRecord>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM campaigns WHERE id = $1"));
        with_pool!(self, pool => sqlx::query_as::<_, CampaignRecord>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await
            .context("reading the campaign"))
    }

    /// Every campaign, newest first.
    pub async fn campaigns(&self) -> anyhow::Result<Vec<CampaignRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM campaigns ORDER BY created_at DESC, id DESC"
        ));
        with_pool!(self, pool => sqlx::query_as::<_, CampaignRecord>(sql)
            .fetch_all(pool)
            .await
            .context("listing campaigns"))
    }

    /// One page of the campaigns, newest first, with the copies delivered so far (counted
    /// from the deliveries only for a send that has not finished: one index range each),
    /// and how many campaigns there are in all.
    pub async fn campaign_listing(
        &self,
        limit: i64,
        offset: i64,
    ) -> anyhow::Result<(Vec<CampaignListing>, i64)> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS}, COALESCE(delivered, CASE WHEN started_at IS NULL THEN 0 ELSE \
             (SELECT COUNT(*) FROM deliveries d WHERE d.campaign_id = campaigns.id AND d.state = 'sent') END) \
             AS delivered_so_far FROM campaigns ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
        ));
        let listing = with_pool!(self, pool => sqlx::query_as::<_, CampaignListing>(sql)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await
            .context("listing campaigns"))?;
        let total = with_pool!(self, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM campaigns")
            .fetch_one(pool)
            .await
            .context("counting campaigns"))?;
        Ok((listing, total))
    }

    /// A few confirmed subscribers, newest first, to preview a campaign as.
    pub async fn preview_people(&self, limit: i64) -> anyhow::Result<Vec<(Uuid, String)>> {
        with_pool!(self, pool => sqlx::query_as::<_, (Uuid, String)>(
            "SELECT id, email FROM subscribers WHERE status = 'confirmed' \
             ORDER BY created_at DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("choosing subscribers to preview as"))
    }

    pub async fn delivery_counts(&self, id: Uuid) -> anyhow::Result<DeliveryCounts> {
        let rows = with_pool!(self, pool => sqlx::query_as::<_, (String, i64, i64)>(
            "SELECT state, COUNT(*), CAST(COALESCE(SUM(CASE WHEN resumed > 0 THEN 1 ELSE 0 END), 0) AS BIGINT) \
             FROM deliveries WHERE campaign_id = $1 GROUP BY state",
        )
        .bind(id)
        .fetch_all(pool)
        .await
        .context("counting deliveries")?);
        let mut counts = DeliveryCounts::default();
        for (state, count, resumed) in rows {
            counts.resumed_after_crash += resumed;
            match state.as_str() {
                "queued" => counts.queued = count,
                "sent" => counts.sent = count,
                "failed" => counts.failed = count,
                "skipped" => counts.skipped = count,
                _ => {}
            }
        }
        Ok(counts)
    }

    /// Failed deliveries with the SMTP server's reply, for the report.
    pub async fn failed_deliveries(
        &self,
        id: Uuid,
        limit: i64,
    ) -> anyhow::Result<Vec<FailedDelivery>> {
        with_pool!(self, pool => sqlx::query_as::<_, FailedDelivery>(
            "SELECT d.subscriber_id, s.email, d.attempts, d.smtp_reply FROM deliveries d \
             LEFT JOIN subscribers s ON s.id = d.subscriber_id \
             WHERE d.campaign_id = $1 AND d.state = 'failed' ORDER BY d.sent_at, d.id LIMIT $2",
        )
        .bind(id)
        .bind(limit)
        .fetch_all(pool)
        .await
        .context("listing failed deliveries"))
    }

    /// The status of each of these campaigns, for senders checking whether to go on.
    pub async fn campaign_status(&self, id: Uuid) -> anyhow::Result<Option<String>> {
        with_pool!(self, pool => sqlx::query_scalar::<_, String>("SELECT status FROM campaigns WHERE id = $1")
            .bind(id)
            .fetch_optional(pool)
            .await
            .context("reading the campaign's status"))
    }

    /// How many confirmed subscribers a send to these tiers (`None`: all) would reach now
    /// (those who paused their mail are not reached).
    pub async fn audience_size(&self, tiers: Option<&[Tier]>) -> anyhow::Result<i64> {
        let now = Timestamp::now();
        let bounds = TierBounds::at(&self.engagement_model(), now.0);
        let tiers = tiers_json(tiers);
        with_pool!(self, pool, Db => bind_tiers::<Db, _>(
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "SELECT COUNT(*) FROM {RANKED}WHERE status = 'confirmed' \
                 AND (paused_until IS NULL OR paused_until <= $8) AND ({} IS NULL OR tier {})",
                Db::text_param(7),
                Db::in_json_texts(7)
            ))),
            &bounds,
        )
            .bind(&tiers)
            .bind(now)
            .fetch_one(pool)
            .await
            .context("counting the audience"))
    }
}
