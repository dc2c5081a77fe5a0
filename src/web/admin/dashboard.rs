//! `/admin`: how many people genuinely care, at a glance.

use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use tera::Context;
use time::OffsetDateTime;

use super::{Owner, page};
use crate::web::AppState;
use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new().route("/admin", get(dashboard))
}

async fn dashboard(State(state): State<AppState>, owner: Owner) -> Response {
    let summary = match state
        .store
        .engagement_summary(OffsetDateTime::now_utc())
        .await
    {
        Ok(summary) => summary,
        Err(err) => return super::failure(&state, &owner, err),
    };
    let mut context = Context::new();
    context.insert("summary", &summary);
    page(
        &state,
        &owner,
        "dashboard",
        "web/admin/dashboard.html",
        &mut context,
    )
}
