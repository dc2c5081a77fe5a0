//! `/api/v1/inbound`: the mail that came back, and the owner's word on what only an address
//! ties to a subscriber: apply or dismiss a bounce or complaint waiting for review, mark an
//! unverified reply genuine. `/api/v1/subscribers/{id}/lift-bounce` takes back a bounce
//! that was wrong.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{MethodRouter, get, post};
use serde::Deserialize;

use super::{ApiToken, Paging, parse_id, parse_json};
use crate::actions::review::{self, Decided, ReviewError};
use crate::store::ReviewDecision;
use crate::web::routes::Routes;
use crate::web::{ApiError, AppState};

const MAX_PAGE: i64 = 500;

pub fn routes() -> Routes {
    Routes::new()
        .route("/inbound", get(list))
        .route("/inbound/{id}/apply", post_decision(ReviewDecision::Apply))
        .route(
            "/inbound/{id}/dismiss",
            post_decision(ReviewDecision::Dismiss),
        )
        .route("/inbound/{id}/genuine", post(genuine))
        .route("/subscribers/{id}/lift-bounce", post(lift_bounce))
}

#[derive(Deserialize)]
struct ListQuery {
    review: Option<String>,
    #[serde(flatten)]
    paging: Paging,
}

async fn list(
    _token: ApiToken,
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let review_only = match query.review.as_deref() {
        None | Some("" | "0" | "false") => false,
        Some("1" | "true") => true,
        Some(_) => {
            return Err(ApiError::Invalid {
                field: "review",
                message: "review must be 1 (only what waits for your review) or 0".into(),
            });
        }
    };
    let (limit, offset) = query.paging.limit_offset(MAX_PAGE)?;
    let messages = state
        .store
        .inbound_messages(review_only, limit, offset)
        .await?;
    Ok(Json(serde_json::json!({
        "messages": messages,
        "waiting_for_review": state.store.review_count().await?,
    })))
}

fn parse_message_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or(ApiError::NotFound)
}

/// How a refused review decision reads in the API: the use case's words, with the status
/// that fits.
fn refused(err: ReviewError) -> ApiError {
    match err {
        ReviewError::NoMessage | ReviewError::NoSubscriber => ApiError::NotFound,
        ReviewError::Reason(_) => ApiError::Invalid {
            field: "reason",
            message: err.to_string(),
        },
        ReviewError::NotWaiting
        | ReviewError::AlreadyVerified
        | ReviewError::Complained
        | ReviewError::NotBounced(_) => ApiError::Conflict(err.to_string()),
        ReviewError::Unexpected(err) => ApiError::Unexpected(err),
    }
}

/// The POST that applies or dismisses: one handler, the decision fixed by the route.
fn post_decision(decision: ReviewDecision) -> MethodRouter<AppState> {
    post(
        move |_token: ApiToken, State(state): State<AppState>, Path(id): Path<String>| async move {
            decide(&state, &id, decision).await
        },
    )
}

async fn decide(
    state: &AppState,
    raw_id: &str,
    decision: ReviewDecision,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_message_id(raw_id)?;
    let (review, suppressed) = match review::decide(state, id, decision).await {
        Ok(Decided::Applied(suppressed)) => ("applied", suppressed),
        Ok(Decided::Dismissed) => ("dismissed", None),
        Err(err) => return Err(refused(err)),
    };
    Ok(Json(serde_json::json!({
        "id": id, "review": review, "suppressed": suppressed,
    })))
}

async fn genuine(
    _token: ApiToken,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_message_id(&id)?;
    let subscriber = review::mark_genuine(&state, id).await.map_err(refused)?;
    Ok(Json(serde_json::json!({
        "id": id, "subscriber_id": subscriber, "proof": "owner",
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LiftInput {
    reason: Option<String>,
}

async fn lift_bounce(
    token: ApiToken,
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let subscriber = parse_id(&id)?;
    let input: LiftInput = parse_json(&body)?;
    let by = format!("the owner (API token \"{}\")", token.0.name);
    review::lift_bounce(&state, subscriber, &by, input.reason.as_deref())
        .await
        .map_err(refused)?;
    Ok(Json(
        serde_json::json!({ "id": subscriber, "status": "confirmed" }),
    ))
}
