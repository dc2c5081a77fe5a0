//! Sending a draft: the confirmation page that names the audience in words and number, the
//! POST from it that starts or schedules the send (nothing else does), taking a schedule
//! back, and pausing, resuming and cancelling.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
use tera::Context;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Draft, to_report};
use crate::actions::campaigns::{self, CampaignRefusal};
use crate::domain::{audience_label, audience_sentence};
use crate::store::{CampaignChange, CampaignRecord};
use crate::web::AppState;
use crate::web::admin::{AdminError, CampaignId, Owner, form_value, page};
use crate::web::routes::Routes;

pub fn routes() -> Routes {
    let mut routes = Routes::new().route(
        "/admin/campaigns/{id}/send",
        get(confirm_page).post(confirm),
    );
    for (path, change) in [
        ("/admin/campaigns/{id}/pause", CampaignChange::Pause),
        ("/admin/campaigns/{id}/resume", CampaignChange::Resume),
        ("/admin/campaigns/{id}/cancel", CampaignChange::Cancel),
        (
            "/admin/campaigns/{id}/unschedule",
            CampaignChange::Unschedule,
        ),
    ] {
        routes = routes.route(path, change_route(change));
    }
    routes
}

/// The `at` a request carries (RFC 3339, as the compose form put it), if any.
fn send_time(fields: &[u8]) -> Result<Option<OffsetDateTime>, AdminError> {
    let raw = form_value(fields, "at").filter(|value| !value.trim().is_empty());
    match raw {
        Some(raw) => OffsetDateTime::parse(raw.trim(), &Rfc3339)
            .map(Some)
            .map_err(|_| AdminError::BadRequest {
                title: "That send time could not be read",
                message: "Go back to the draft and choose the date and time again.".into(),
            }),
        None => Ok(None),
    }
}

/// The confirmation page: what will be sent, when, and to whom.
async fn confirm_page(
    State(state): State<AppState>,
    owner: Owner,
    Draft(record): Draft,
    RawQuery(query): RawQuery,
) -> Result<Response, AdminError> {
    let at = send_time(query.unwrap_or_default().as_bytes())?;
    confirmation(&state, &owner, &record, at, StatusCode::OK, None).await
}

/// The confirmation page for `record` as it is; when it cannot go as it is, the page says
/// why instead of offering the button (and answers 422 where `status` is 200).
async fn confirmation(
    state: &AppState,
    owner: &Owner,
    record: &CampaignRecord,
    at: Option<OffsetDateTime>,
    status: StatusCode,
    notice: Option<String>,
) -> Result<Response, AdminError> {
    let tiers = record.audience();
    let size = state.store.audience_size(tiers.as_deref()).await?;
    let problem = campaigns::check_sendable(state, record, at, size)
        .err()
        .map(|refusal| refusal.to_string());
    let mut context = Context::new();
    context.insert("campaign_id", &record.id);
    context.insert("subject", &record.subject);
    context.insert("audience", &audience_sentence(tiers.as_deref(), size));
    context.insert("audience_label", &audience_label(tiers.as_deref()));
    context.insert("size", &size);
    context.insert("at", &at.and_then(|at| at.format(&Rfc3339).ok()));
    context.insert("problem", &problem);
    context.insert("notice", &notice);
    // The POST refuses to send if the draft changed after this page showed it.
    context.insert("version", &campaigns::page_version(record));
    let mut response = page(
        state,
        owner,
        "campaigns",
        "web/admin/campaign_confirm.html",
        &mut context,
    );
    *response.status_mut() = if problem.is_some() && status == StatusCode::OK {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        status
    };
    Ok(response)
}

/// The POST from the confirmation page: starts the send now, or schedules it.
async fn confirm(
    State(state): State<AppState>,
    owner: Owner,
    Draft(record): Draft,
    body: Bytes,
) -> Result<Response, AdminError> {
    let id = record.id;
    let at = send_time(&body)?;
    // What the owner confirmed is what goes: not a draft edited in another tab since.
    let shown = form_value(&body, "version").unwrap_or_default();
    let outcome = match at {
        Some(at) => campaigns::schedule(&state, id, at, Some(&shown)).await,
        None => campaigns::send(&state, id, Some(&shown)).await.map(|_| ()),
    };
    let (status, notice) = match outcome {
        // Sent or scheduled, or no longer a draft (a second press): the report says which.
        Ok(()) | Err(CampaignRefusal::WrongStatus { .. } | CampaignRefusal::NotFound) => {
            return Ok(to_report(id));
        }
        Err(CampaignRefusal::Unexpected(err)) => return Err(err.into()),
        // The page again, as the draft now is.
        Err(changed @ CampaignRefusal::Changed) => {
            (StatusCode::CONFLICT, Some(changed.to_string()))
        }
        // The page again, saying why it cannot go.
        Err(_) => (StatusCode::UNPROCESSABLE_ENTITY, None),
    };
    confirmation(&state, &owner, &record, at, status, notice).await
}

/// A route that pauses, resumes, cancels or unschedules the campaign, then shows the
/// report. Pressing twice is harmless; asking for what the campaign's state does not
/// allow is explained.
fn change_route(change: CampaignChange) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>, _owner: Owner, CampaignId(id): CampaignId| async move {
            match campaigns::change(&state, id, change).await {
                Ok(()) => Ok(to_report(id)),
                Err(refusal) if refusal.already_done(change) => Ok(to_report(id)),
                Err(refusal) => Err(AdminError::from(refusal)),
            }
        },
    )
}
