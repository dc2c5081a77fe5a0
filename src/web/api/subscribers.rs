//! `/api/v1/subscribers`: list, read (with the consent record), add, erase, export.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use time::OffsetDateTime;

use super::{ApiToken, Paging, parse_id, parse_json};
use crate::actions::subscribers::{self, Addition, Changes, SubscriberError};
use crate::domain::{SignupSource, SubscriberStatus, Tier};
use crate::store::{RankedSubscriber, SubscriberFilter, SubscriberOrder};
use crate::web::routes::Routes;
use crate::web::{ApiError, AppState};

const MAX_PAGE: i64 = 1000;

pub fn routes() -> Routes {
    Routes::new()
        .route("/subscribers", get(list).post(add))
        .route("/subscribers/{id}", get(one).patch(update).delete(erase))
        .route("/subscribers/{id}/export", get(export))
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    tier: Option<String>,
    sort: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

async fn list(
    _token: ApiToken,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let status =
        match query.status.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(SubscriberStatus::parse(raw).ok_or_else(|| {
                ApiError::Invalid {
                field: "status",
                message:
                    "status must be one of pending, confirmed, unsubscribed, bounced, complained"
                        .into(),
            }
            })?),
        };
    let tier = match query.tier.as_deref() {
        None | Some("") => None,
        Some(raw) => Some(Tier::parse(raw).ok_or_else(|| ApiError::Invalid {
            field: "tier",
            message: "tier must be one of core, engaged, new, quiet, dormant, gone".into(),
        })?),
    };
    let order = match query.sort.as_deref() {
        None | Some("" | "newest") => SubscriberOrder::Newest,
        Some("engagement") => SubscriberOrder::Engagement,
        Some(_) => {
            return Err(ApiError::Invalid {
                field: "sort",
                message: "sort must be newest or engagement".into(),
            });
        }
    };
    let (limit, offset) = query.paging.limit_offset(MAX_PAGE)?;
    let filter = SubscriberFilter {
        status,
        tier,
        order,
    };
    let page = state
        .store
        .subscribers(filter, limit, offset, OffsetDateTime::now_utc())
        .await?;
    Ok(Json(serde_json::json!({
        "total": page.total,
        "limit": limit,
        "offset": offset,
        "subscribers": page.subscribers,
    })))
}

async fn one(
    _token: ApiToken,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let subscriber = state
        .store
        .subscriber(parse_id(&id)?)
        .await?
        .ok_or(ApiError::NotFound)?;
    let timeline = state.store.subscriber_timeline(subscriber.id).await?;
    let engagement = state
        .store
        .subscriber_engagement(subscriber.id, OffsetDateTime::now_utc())
        .await?
        .ok_or(ApiError::NotFound)?;
    let ranked = RankedSubscriber {
        subscriber,
        engagement,
    };
    let mut json = serde_json::to_value(&ranked)
        .map_err(|err| ApiError::Unexpected(anyhow::anyhow!("showing a subscriber: {err}")))?;
    json["timeline"] = serde_json::to_value(&timeline)
        .map_err(|err| ApiError::Unexpected(anyhow::anyhow!("showing a timeline: {err}")))?;
    Ok(Json(json).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AddSubscriber {
    email: Option<String>,
    name: Option<String>,
    attributes: Option<serde_json::Value>,
    status: Option<String>,
    consent: Option<String>,
}

/// How a refused change to a subscriber reads in the API.
pub(super) fn refused(err: SubscriberError) -> ApiError {
    match err {
        SubscriberError::Invalid { field, message } => ApiError::Invalid { field, message },
        SubscriberError::AlreadyOnList | SubscriberError::Erased => {
            ApiError::Conflict(err.to_string())
        }
        SubscriberError::NotFound => ApiError::NotFound,
        SubscriberError::Unexpected(err) => ApiError::Unexpected(err),
    }
}

async fn add(
    _token: ApiToken,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: AddSubscriber = parse_json(&body)?;
    let addition = Addition {
        email: input.email.as_deref(),
        name: input.name.as_deref(),
        attributes: input.attributes,
        status: input.status.as_deref(),
        consent: input.consent.as_deref(),
    };
    let subscriber = subscribers::add(&state, addition, SignupSource::Api)
        .await
        .map_err(refused)?;
    Ok((StatusCode::CREATED, Json(subscriber)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UpdateSubscriber {
    #[serde(default, deserialize_with = "present")]
    name: Option<Option<String>>,
    attributes: Option<serde_json::Value>,
    tracking: Option<bool>,
}

/// Tells a field sent as `null` (`Some(None)`) from a field not sent (`None`).
fn present<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(deserializer).map(Some)
}

/// Changes a subscriber's name (`null` removes it), attributes (replaced whole) or
/// tracking (`false`: no pixel, no rewritten links for them).
async fn update(
    _token: ApiToken,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let input: UpdateSubscriber = parse_json(&body)?;
    let changes = Changes {
        name: input.name,
        attributes: input.attributes,
        tracking: input.tracking,
    };
    let subscriber = subscribers::update(&state, id, changes)
        .await
        .map_err(refused)?;
    Ok(Json(subscriber).into_response())
}

async fn erase(
    _token: ApiToken,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    subscribers::erase(&state, &state.tracker, parse_id(&id)?)
        .await
        .map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}

async fn export(
    _token: ApiToken,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let data = subscribers::export(&state, id).await.map_err(refused)?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        subscribers::export_file_name(id)
    );
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(data)).into_response())
}
