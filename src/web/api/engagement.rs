//! `GET /api/v1/engagement`: how many genuinely care, per tier and after each campaign.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use time::OffsetDateTime;

use super::ApiToken;
use crate::store::EngagementSummary;
use crate::web::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/engagement", get(summary))
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
