//! `/api/v1/campaigns`: compose, preview, test-send, send now or later (and take a schedule
//! back), pause, resume, cancel, and the report.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::{ApiToken, parse_id, parse_json, parse_optional_json};
use crate::actions::archive::{self, ArchiveRefusal};
use crate::actions::campaigns::{self, CampaignRefusal};
use crate::domain::{AudienceError, BodyFormat, SubscriberEmail, Tier, audience_tiers};
use crate::store::{CampaignChange, CampaignDraft, CampaignRecord, Timestamp};
use crate::web::routes::Routes;
use crate::web::{ApiError, AppState};

pub fn routes() -> Routes {
    Routes::new()
        .route("/campaigns", get(list).post(create))
        .route("/campaigns/{id}", get(one).patch(update))
        .route("/campaigns/{id}/preview", get(preview))
        .route("/campaigns/{id}/test", post(test_send))
        .route("/campaigns/{id}/send", post(send))
        .route("/campaigns/{id}/pause", change(CampaignChange::Pause))
        .route("/campaigns/{id}/resume", change(CampaignChange::Resume))
        .route("/campaigns/{id}/cancel", change(CampaignChange::Cancel))
        .route(
            "/campaigns/{id}/unschedule",
            change(CampaignChange::Unschedule),
        )
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CampaignInput {
    subject: Option<String>,
    body: Option<String>,
    format: Option<String>,
    preheader: Option<String>,
    layout: Option<String>,
    audience: Option<AudienceInput>,
    /// In the public archive once it went out; left out: as it was, or for a new one the
    /// `archive_public` setting.
    public: Option<bool>,
}

impl CampaignInput {
    /// Whether `public` is all it changes: the one change a campaign that went out takes.
    fn only_public(&self) -> bool {
        self.public.is_some()
            && self.subject.is_none()
            && self.body.is_none()
            && self.format.is_none()
            && self.preheader.is_none()
            && self.layout.is_none()
            && self.audience.is_none()
    }
}

/// Who a campaign is for: `{}` for every confirmed subscriber, or `{"tiers": [...]}`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AudienceInput {
    tiers: Option<Vec<String>>,
}

fn parse_audience(input: AudienceInput) -> Result<Option<Vec<Tier>>, ApiError> {
    let Some(names) = input.tiers else {
        return Ok(None);
    };
    audience_tiers(&names)
        .map(Some)
        .map_err(|err| ApiError::Invalid {
            field: "audience",
            message: match err {
                AudienceError::NoTiers => "name at least one tier, or leave tiers out to send to every confirmed subscriber".into(),
                other => other.to_string(),
            },
        })
}

/// Merges the input over `base` (a draft being edited).
/// The draft `input` makes of `base` (or of nothing: a new one, public as
/// `default_public` says unless the input says).
fn draft_from(
    input: CampaignInput,
    base: Option<&CampaignRecord>,
    default_public: bool,
) -> Result<CampaignDraft, ApiError> {
    let subject = input
        .subject
        .or_else(|| base.map(|b| b.subject.clone()))
        .unwrap_or_default();
    let body = input
        .body
        .or_else(|| base.map(|b| b.body.clone()))
        .unwrap_or_default();
    let format = match input.format.as_deref() {
        Some(raw) => BodyFormat::parse(raw).ok_or_else(|| ApiError::Invalid {
            field: "format",
            message: "format must be \"markdown\" or \"html\"".into(),
        })?,
        None => base
            .map(CampaignRecord::format)
            .unwrap_or(BodyFormat::Markdown),
    };
    let preheader = match input.preheader {
        Some(p) if p.trim().is_empty() => None,
        Some(p) => Some(p),
        None => base.and_then(|b| b.preheader.clone()),
    };
    let layout = input
        .layout
        .or_else(|| base.map(|b| b.layout.clone()))
        .unwrap_or_else(|| "default".into());
    let audience = match input.audience {
        Some(audience) => parse_audience(audience)?,
        None => base.and_then(CampaignRecord::audience),
    };
    let public = input
        .public
        .or_else(|| base.map(|b| b.public))
        .unwrap_or(default_public);
    Ok(CampaignDraft {
        subject,
        body,
        format,
        preheader,
        layout,
        audience,
        public,
    })
}

/// A refusal as the API answers it: 404, 409, or 422 naming the field at fault, with the
/// sentence every face shows.
impl From<CampaignRefusal> for ApiError {
    fn from(refusal: CampaignRefusal) -> Self {
        let message = refusal.to_string();
        match refusal {
            CampaignRefusal::NotFound | CampaignRefusal::NoSuchSubscriber => ApiError::NotFound,
            CampaignRefusal::Content(err) | CampaignRefusal::DoesNotCompile(err) => {
                ApiError::Invalid {
                    field: err.field,
                    message,
                }
            }
            CampaignRefusal::NobodyToSend => ApiError::Invalid {
                field: "audience",
                message,
            },
            CampaignRefusal::TimePassed => ApiError::Invalid {
                field: "at",
                message,
            },
            CampaignRefusal::Changed | CampaignRefusal::WrongStatus { .. } => {
                ApiError::Conflict(message)
            }
            // `test_send` answers this one itself (502, with what the server said).
            CampaignRefusal::TestNotSent(_) => ApiError::Unexpected(anyhow::anyhow!(message)),
            CampaignRefusal::Unexpected(err) => ApiError::Unexpected(err),
        }
    }
}

fn rfc3339(ts: Option<Timestamp>) -> Option<String> {
    ts.and_then(|t| t.0.format(&Rfc3339).ok())
}

/// Where the archive shows it: public, gone out and with its address.
fn archive_url(state: &AppState, record: &CampaignRecord) -> Option<String> {
    let slug = record.slug.as_deref().filter(|_| record.public)?;
    Some(format!("{}/archive/{slug}", state.config.public_base()))
}

/// The campaign as the API shows it, with its delivery counts and failures.
async fn campaign_json(
    state: &AppState,
    record: &CampaignRecord,
) -> Result<serde_json::Value, ApiError> {
    let report = state.store.campaign_report(record).await?;
    let counts = &report.deliveries;
    let engagement = &report.engagement;
    let inbound = &report.inbound;
    Ok(serde_json::json!({
        "id": record.id,
        "subject": record.subject,
        "body": record.body,
        "format": record.format,
        "preheader": record.preheader,
        "layout": record.layout,
        "public": record.public,
        "archive_url": archive_url(state, record),
        "audience": { "tiers": record.audience(), "size": report.audience_size },
        "status": record.status,
        "scheduled_at": rfc3339(record.scheduled_at),
        "started_at": rfc3339(record.started_at),
        "finished_at": rfc3339(record.finished_at),
        "went_late": record.late_by_seconds.is_some(),
        "late_by_seconds": record.late_by_seconds,
        "created_at": rfc3339(Some(record.created_at)),
        "updated_at": rfc3339(Some(record.updated_at)),
        "deliveries": {
            "total": counts.total(),
            "queued": counts.queued,
            "sent": counts.sent,
            "failed": counts.failed,
            "skipped": counts.skipped,
            "resumed_after_crash": counts.resumed_after_crash,
        },
        "failures": report.failures,
        "engagement": {
            "delivered": counts.sent,
            "human_opens": engagement.human_opens,
            "machine_opens": engagement.machine_opens,
            "human_clicks": engagement.human_clicks,
            "scanner_clicks": engagement.scanner_clicks,
            "raw_opens": engagement.raw_opens,
            "raw_clicks": engagement.raw_clicks,
            "engaged": record.engaged,
            "links": engagement.links,
            "replies": inbound.replies,
            "auto_replies": inbound.auto_replies,
            "hard_bounces": inbound.hard_bounces,
            "soft_bounces": inbound.soft_bounces,
            "complaints": inbound.complaints,
            "unsubscribes": report.unsubscribes,
        },
    }))
}

/// The campaign `{id}` in `/api/v1/campaigns/{id}/…`; an id that cannot be one is a 404,
/// as a missing one is.
struct CampaignPath(Uuid);

impl<S: Send + Sync> FromRequestParts<S> for CampaignPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::NotFound)?;
        parse_id(&raw).map(Self)
    }
}

async fn load(state: &AppState, id: Uuid) -> Result<CampaignRecord, ApiError> {
    Ok(campaigns::load(state, id).await?)
}

/// The campaign as it now is: the answer to every change.
async fn answer(state: &AppState, id: Uuid) -> Result<Json<serde_json::Value>, ApiError> {
    let record = load(state, id).await?;
    Ok(Json(campaign_json(state, &record).await?))
}

async fn list(
    _token: ApiToken,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut campaigns = Vec::new();
    for record in state.store.campaigns().await? {
        campaigns.push(campaign_json(&state, &record).await?);
    }
    Ok(Json(serde_json::json!({ "campaigns": campaigns })))
}

async fn one(
    _token: ApiToken,
    State(state): State<AppState>,
    CampaignPath(id): CampaignPath,
) -> Result<Json<serde_json::Value>, ApiError> {
    answer(&state, id).await
}

async fn create(
    _token: ApiToken,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let draft = draft_from(parse_json(&body)?, None, state.settings().archive_public)?;
    let id = campaigns::create(&state, &draft).await?;
    Ok((StatusCode::CREATED, answer(&state, id).await?).into_response())
}

async fn update(
    _token: ApiToken,
    State(state): State<AppState>,
    CampaignPath(id): CampaignPath,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let record = load(&state, id).await?;
    let input: CampaignInput = parse_json(&body)?;
    if let (true, Some(public)) = (input.only_public(), input.public) {
        archive::set_public(&state, record.id, public)
            .await
            .map_err(|refusal| match refusal {
                ArchiveRefusal::NotFound => ApiError::NotFound,
                ArchiveRefusal::Unexpected(err) => ApiError::Unexpected(err),
            })?;
        return answer(&state, record.id).await;
    }
    let draft = draft_from(input, Some(&record), false)?;
    campaigns::update(&state, record.id, &draft).await?;
    answer(&state, record.id).await
}

#[derive(Deserialize)]
struct PreviewQuery {
    subscriber: Option<String>,
}

/// The copy a subscriber would get (tracking is left out of previews, so they record
/// nothing when opened).
async fn preview(
    _token: ApiToken,
    State(state): State<AppState>,
    CampaignPath(id): CampaignPath,
    Query(query): Query<PreviewQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let subscriber = query.subscriber.as_deref().map(parse_id).transpose()?;
    let copy = campaigns::preview(&state, id, subscriber).await?;
    Ok(Json(
        serde_json::json!({ "subject": copy.subject, "html": copy.html, "text": copy.text }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TestInput {
    to: String,
}

/// Sends one copy to the owner now, and says what the SMTP server answered.
async fn test_send(
    _token: ApiToken,
    State(state): State<AppState>,
    CampaignPath(id): CampaignPath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: TestInput = parse_json(&body)?;
    let to = SubscriberEmail::parse(&input.to).map_err(|err| ApiError::Invalid {
        field: "to",
        message: err.to_string(),
    })?;
    match campaigns::send_test(&state, id, &to).await {
        Ok(reply) => Ok(Json(
            serde_json::json!({ "sent": true, "to": to.as_str(), "smtp_reply": reply }),
        )
        .into_response()),
        Err(refusal @ CampaignRefusal::TestNotSent(_)) => Ok((
            StatusCode::BAD_GATEWAY,
            Json(
                serde_json::json!({ "sent": false, "to": to.as_str(), "error": refusal.to_string() }),
            ),
        )
            .into_response()),
        Err(refusal) => Err(refusal.into()),
    }
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SendInput {
    at: Option<String>,
}

/// Sends now (202 with the audience size), or schedules for `at` (RFC 3339).
async fn send(
    _token: ApiToken,
    State(state): State<AppState>,
    CampaignPath(id): CampaignPath,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: SendInput = parse_optional_json(&body)?;
    match input.at {
        Some(raw) => {
            let at = OffsetDateTime::parse(&raw, &Rfc3339).map_err(|_| ApiError::Invalid {
                field: "at",
                message: "at must be an RFC 3339 time like 2026-12-01T09:00:00+01:00".into(),
            })?;
            campaigns::schedule(&state, id, at, None).await?;
        }
        None => {
            campaigns::send(&state, id, None).await?;
        }
    }
    Ok((StatusCode::ACCEPTED, answer(&state, id).await?).into_response())
}

/// A route that pauses, resumes, cancels or unschedules the campaign.
fn change(change: CampaignChange) -> MethodRouter<AppState> {
    post(
        move |_token: ApiToken, State(state): State<AppState>, CampaignPath(id): CampaignPath| async move {
            campaigns::change(&state, id, change).await?;
            answer(&state, id).await
        },
    )
}
