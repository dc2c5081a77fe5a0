//! `/api/v1/subscribers`: list, read (with the consent record), add, erase, export.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use super::{ApiToken, parse_bounded, parse_id, parse_json};
use time::OffsetDateTime;

use crate::domain::{SignupSource, SubscriberName, SubscriberStatus, Tier};
use crate::store::{
    NewSubscriber, RankedSubscriber, StoreError, SubscriberFilter, SubscriberOrder, Timestamp,
};
use crate::web::routes::Routes;
use crate::web::{ApiError, AppState, parse_person};

const MAX_PAGE: i64 = 1000;
const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;

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
    limit: Option<String>,
    offset: Option<String>,
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
    let limit = parse_bounded("limit", query.limit.as_deref(), 100, 1, MAX_PAGE)?;
    let offset = parse_bounded("offset", query.offset.as_deref(), 0, 0, i64::MAX)?;
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

async fn add(
    _token: ApiToken,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: AddSubscriber = parse_json(&body)?;
    let (email, name) = parse_person(input.email.as_deref(), input.name.as_deref())?;
    let attributes = match input.attributes {
        None | Some(serde_json::Value::Null) => serde_json::json!({}),
        Some(value @ serde_json::Value::Object(_)) => {
            if value.to_string().len() > MAX_ATTRIBUTES_BYTES {
                return Err(ApiError::Invalid {
                    field: "attributes",
                    message: "attributes must be at most 16 KiB of JSON".into(),
                });
            }
            value
        }
        Some(_) => {
            return Err(ApiError::Invalid {
                field: "attributes",
                message: "attributes must be a JSON object".into(),
            });
        }
    };
    let stated_consent = match input.status.as_deref() {
        None | Some("pending") => None,
        Some("confirmed") => {
            let consent = input.consent.as_deref().map(str::trim).unwrap_or_default();
            if consent.is_empty() {
                return Err(ApiError::Invalid {
                    field: "consent",
                    message: "adding a confirmed subscriber needs a \"consent\" text saying how they gave consent".into(),
                });
            }
            if consent.chars().count() > 2000 {
                return Err(ApiError::Invalid {
                    field: "consent",
                    message: "consent must be at most 2000 characters".into(),
                });
            }
            Some(consent.to_string())
        }
        Some(_) => {
            return Err(ApiError::Invalid {
                field: "status",
                message: "status must be \"pending\" or \"confirmed\"".into(),
            });
        }
    };
    let new = NewSubscriber {
        email,
        name,
        attributes,
        source: SignupSource::Api,
        stated_consent,
        now: Timestamp::now(),
        message_domain: state.config.sending_domain().to_string(),
    };
    let id = match state.store.add_subscriber(&new).await {
        Ok(id) => id,
        Err(StoreError::AlreadyExists) => {
            return Err(ApiError::Conflict(
                "this address is already on the list".into(),
            ));
        }
        Err(StoreError::Erased) => {
            return Err(ApiError::Conflict(
                "this address was erased at its owner's request; only they can sign up again"
                    .into(),
            ));
        }
        Err(StoreError::Unexpected(err)) => return Err(ApiError::Unexpected(err)),
    };
    if new.stated_consent.is_none() {
        state.message_queued();
    }
    let subscriber = state
        .store
        .subscriber(id)
        .await?
        .ok_or(ApiError::NotFound)?;
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
    let name = match input.name {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => Some(
            SubscriberName::parse_optional(Some(&raw))
                .map_err(|err| ApiError::Invalid {
                    field: "name",
                    message: err.to_string(),
                })?
                .map(|n| n.as_str().to_string()),
        ),
    };
    let attributes = match input.attributes {
        None => None,
        Some(value @ serde_json::Value::Object(_))
            if value.to_string().len() <= MAX_ATTRIBUTES_BYTES =>
        {
            Some(value)
        }
        Some(_) => {
            return Err(ApiError::Invalid {
                field: "attributes",
                message: "attributes must be a JSON object of at most 16 KiB".into(),
            });
        }
    };
    if !state
        .store
        .update_subscriber(id, name, attributes, input.tracking, Timestamp::now())
        .await?
    {
        return Err(ApiError::NotFound);
    }
    let subscriber = state
        .store
        .subscriber(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(subscriber).into_response())
}

async fn erase(
    _token: ApiToken,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if state.store.erase(parse_id(&id)?, Timestamp::now()).await? {
        state.tracker.forget_links();
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound)
    }
}

async fn export(
    _token: ApiToken,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let data = state
        .store
        .export_subscriber(id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let disposition = format!("attachment; filename=\"subscriber-{}.json\"", id.simple());
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(data)).into_response())
}
