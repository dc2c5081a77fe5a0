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
use crate::store::{
    ANSWER_DAYS, DEFAULT_ANSWER_DAYS, EngagementSummary, PermissionSummary, Timestamp, answer_by,
};
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
    let days = input.answer_within_days.unwrap_or(DEFAULT_ANSWER_DAYS);
    let now = Timestamp::now();
    let answer_by = answer_by(now, days).ok_or_else(|| ApiError::Invalid {
        field: "answer_within_days",
        message: format!(
            "answer_within_days must be a whole number of days from {} to {}",
            ANSWER_DAYS.start(),
            ANSWER_DAYS.end()
        ),
    })?;
    let asked = state
        .store
        .ask_dormant(now, answer_by, state.config.sending_domain())
        .await?;
    tracing::info!(asked, "re-permission requests sent");
    state.message_queued();
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({
            "asked": asked,
            "answer_by": answer_by,
            "requests": state.store.permission_summary(now).await?,
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
    let now = Timestamp::now();
    let unsubscribed = state.store.unsubscribe_unanswered(now).await?;
    tracing::info!(
        unsubscribed,
        "unanswered re-permission requests unsubscribed"
    );
    Ok(Json(serde_json::json!({
        "unsubscribed": unsubscribed,
        "requests": state.store.permission_summary(now).await?,
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
