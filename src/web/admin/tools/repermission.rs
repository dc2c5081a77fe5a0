//! `/admin/tools/repermission`: asking dormant subscribers whether they still want the
//! list, and, once their time to answer has passed, unsubscribing those who did not.
//!
//! Each action has a confirmation step (a GET page naming how many people it touches)
//! before the POST that does it; the work is the store's, as for the API's
//! `/api/v1/repermission` routes.

use axum::Form;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Deserialize;
use tera::Context;
use time::OffsetDateTime;

use crate::actions::permission::{self, PermissionError};
use crate::domain::Tier;
use crate::store::{ANSWER_DAYS, DEFAULT_ANSWER_DAYS, Timestamp};
use crate::web::AppState;
use crate::web::admin::{AdminError, Owner, page};
use crate::web::routes::Routes;

const TEMPLATE: &str = "web/admin/repermission.html";

pub(super) fn routes() -> Routes {
    Routes::new()
        .route("/admin/tools/repermission", get(overview))
        .route("/admin/tools/repermission/ask", get(confirm_ask).post(ask))
        .route(
            "/admin/tools/repermission/unsubscribe",
            get(confirm_unsubscribe).post(unsubscribe),
        )
}

/// What the last action did, carried in the redirect back to the overview.
#[derive(Deserialize, Default)]
struct Done {
    asked: Option<u32>,
    unsubscribed: Option<u32>,
}

/// The figures every step shows.
async fn figures(state: &AppState, context: &mut Context) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let summary = state.store.permission_summary(now).await?;
    let to_ask = state.store.dormant_to_ask(now).await?;
    let dormant = state
        .store
        .engagement_summary(OffsetDateTime::now_utc())
        .await?
        .tiers
        .iter()
        .find(|t| t.tier == Tier::Dormant)
        .map_or(0, |t| t.count);
    context.insert("requests", &summary);
    context.insert("to_ask", &to_ask);
    context.insert("dormant", &dormant);
    context.insert("default_days", &DEFAULT_ANSWER_DAYS);
    context.insert("min_days", ANSWER_DAYS.start());
    context.insert("max_days", ANSWER_DAYS.end());
    Ok(())
}

async fn show(
    state: &AppState,
    owner: &Owner,
    step: &str,
    mut context: Context,
) -> Result<Response, AdminError> {
    figures(state, &mut context).await?;
    context.insert("step", step);
    Ok(page(state, owner, "tools", TEMPLATE, &mut context))
}

async fn overview(
    State(state): State<AppState>,
    owner: Owner,
    Query(done): Query<Done>,
) -> Result<Response, AdminError> {
    let mut context = Context::new();
    context.insert("asked", &done.asked);
    context.insert("unsubscribed", &done.unsubscribed);
    show(&state, &owner, "overview", context).await
}

async fn confirm_ask(State(state): State<AppState>, owner: Owner) -> Result<Response, AdminError> {
    show(&state, &owner, "confirm_ask", Context::new()).await
}

async fn confirm_unsubscribe(
    State(state): State<AppState>,
    owner: Owner,
) -> Result<Response, AdminError> {
    show(&state, &owner, "confirm_unsubscribe", Context::new()).await
}

#[derive(Deserialize)]
struct AskForm {
    answer_within_days: Option<String>,
}

/// Sends "still want this?" to every dormant subscriber not already asked.
async fn ask(
    State(state): State<AppState>,
    _owner: Owner,
    Form(form): Form<AskForm>,
) -> Result<Response, AdminError> {
    let asked = match permission::parse_days(form.answer_within_days.as_deref()) {
        Ok(days) => permission::ask_dormant(&state, days).await,
        Err(err) => Err(err),
    };
    let asked = asked.map_err(|err| match err {
        PermissionError::Days => AdminError::Invalid {
            title: "Please check the time to answer",
            message: err.to_string(),
        },
        PermissionError::Unexpected(err) => AdminError::Unexpected(err),
    })?;
    Ok(Redirect::to(&format!("/admin/tools/repermission?asked={}", asked.asked)).into_response())
}

/// The owner's one action once the time to answer passed.
async fn unsubscribe(State(state): State<AppState>, _owner: Owner) -> Result<Response, AdminError> {
    let unsubscribed = permission::unsubscribe_unanswered(&state).await?;
    Ok(Redirect::to(&format!(
        "/admin/tools/repermission?unsubscribed={unsubscribed}"
    ))
    .into_response())
}
