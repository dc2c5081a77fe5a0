//! `GET /api/v1/engagement`: how many genuinely care, per tier and after each campaign;
//! `/api/v1/repermission`: asking dormant subscribers whether they still want the list.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use time::OffsetDateTime;

use super::{ApiToken, parse_optional_json};
use crate::actions::permission::{self, PermissionError};
use crate::store::{EngagementSummary, PermissionSummary, Timestamp};
use crate::web::routes::Routes;
use crate::web::{ApiError, AppState};

pub fn routes() -> Routes {
    Routes::new()
        .route("/engagement", get(summary))
        .route("/repermission", get(permission).post(ask))
        .route("/repermission/unsubscribe", post(unsubscribe_unanswered))
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct AskInput {
    answer_within_days: Option<i64>,
}

/// Sends "still want this?" to every dormant subscriber not already asked.
async fn ask(
    _token: ApiToken,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: AskInput = parse_optional_json(&body)?;
    let asked = permission::ask_dormant(&state, input.answer_within_days)
        .await
        .map_err(|err| match err {
            PermissionError::Days => ApiError::Invalid {
                field: "answer_within_days",
                message: err.to_string(),
            },
            PermissionError::Unexpected(err) => ApiError::Unexpected(err),
        })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "asked": asked.asked,
            "answer_by": asked.answer_by,
            "requests": state.store.permission_summary(Timestamp::now()).await?,
        })),
    )
        .into_response())
}

async fn permission(
    _token: ApiToken,
    State(state): State<AppState>,
) -> Result<Json<PermissionSummary>, ApiError> {
    Ok(Json(
        state.store.permission_summary(Timestamp::now()).await?,
    ))
}

/// The owner's one action once the time to answer passed.
async fn unsubscribe_unanswered(
    _token: ApiToken,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let unsubscribed = permission::unsubscribe_unanswered(&state).await?;
    Ok(Json(serde_json::json!({
        "unsubscribed": unsubscribed,
        "requests": state.store.permission_summary(Timestamp::now()).await?,
    })))
}

async fn summary(
    _token: ApiToken,
    State(state): State<AppState>,
) -> Result<Json<EngagementSummary>, ApiError> {
    Ok(Json(
        state
            .store
            .engagement_summary(OffsetDateTime::now_utc())
            .await?,
    ))
}
