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
use uuid::Uuid;

use super::{load, load_draft, status_label, to_report};
use crate::domain::{CampaignStatus, audience_label, audience_sentence};
use crate::mail::campaign_sender::content_of;
use crate::mail::draft;
use crate::store::{CampaignChange, CampaignError, CampaignRecord, Start, Timestamp};
use crate::web::AppState;
use crate::web::admin::{AdminError, CampaignId, Owner, page};
use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/admin/campaigns/{id}/send",
            get(confirm_page).post(confirm),
        )
        .route(
            "/admin/campaigns/{id}/pause",
            change_route(CampaignChange::Pause),
        )
        .route(
            "/admin/campaigns/{id}/resume",
            change_route(CampaignChange::Resume),
        )
        .route(
            "/admin/campaigns/{id}/cancel",
            change_route(CampaignChange::Cancel),
        )
        .route(
            "/admin/campaigns/{id}/unschedule",
            change_route(CampaignChange::Unschedule),
        )
}

/// The `at` a request carries (RFC 3339, as the compose form put it), if any.
fn send_time(fields: &[u8]) -> Result<Option<OffsetDateTime>, ()> {
    let raw = url::form_urlencoded::parse(fields)
        .find(|(key, _)| key == "at")
        .map(|(_, value)| value.into_owned())
        .filter(|value| !value.trim().is_empty());
    match raw {
        Some(raw) => OffsetDateTime::parse(raw.trim(), &Rfc3339)
            .map(Some)
            .map_err(|_| ()),
        None => Ok(None),
    }
}

fn unreadable_time() -> AdminError {
    AdminError::BadRequest {
        title: "That send time could not be read",
        message: "Go back to the draft and choose the date and time again.".into(),
    }
}

/// The confirmation page: what will be sent, when, and to whom.
async fn confirm_page(
    State(state): State<AppState>,
    owner: Owner,
    CampaignId(id): CampaignId,
    RawQuery(query): RawQuery,
) -> Result<Response, AdminError> {
    let Some(record) = load_draft(&state, id).await? else {
        return Ok(to_report(id));
    };
    let at = send_time(query.unwrap_or_default().as_bytes()).map_err(|()| unreadable_time())?;
    confirmation(&state, &owner, &record, at, StatusCode::OK, None).await
}

async fn confirmation(
    state: &AppState,
    owner: &Owner,
    record: &CampaignRecord,
    at: Option<OffsetDateTime>,
    status: StatusCode,
    notice: Option<&str>,
) -> Result<Response, AdminError> {
    let tiers = record.audience();
    let size = state.store.audience_size(tiers.as_deref()).await?;
    // Why it cannot go as it is: a template that stopped compiling, a time gone by, no one
    // to send it to.
    let problem = if let Err(err) = draft::check(
        &content_of(record),
        state.templates.clone(),
        &state.config.list_name,
    ) {
        Some(format!(
            "It cannot be sent as it is ({}: {}). Edit the draft first.",
            err.field, err.reason
        ))
    } else if at.is_some_and(|at| at <= OffsetDateTime::now_utc()) {
        Some(
            "That time has passed. Go back to the draft and choose a later one, or send it now."
                .into(),
        )
    } else if at.is_none() && size == 0 {
        Some("No confirmed subscriber is in this audience, so there is no one to send it to. Edit the draft to choose another audience.".into())
    } else {
        None
    };
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
    context.insert("version", &record.updated_at.unix_millis().to_string());
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
    CampaignId(id): CampaignId,
    body: Bytes,
) -> Result<Response, AdminError> {
    let Some(record) = load_draft(&state, id).await? else {
        return Ok(to_report(id));
    };
    let at = send_time(&body).map_err(|()| unreadable_time())?;
    let now = Timestamp::now();
    // What the owner confirmed is what goes: not a draft edited in another tab since.
    let shown = url::form_urlencoded::parse(&body)
        .find(|(key, _)| key == "version")
        .map(|(_, value)| value.into_owned());
    if shown.as_deref() != Some(record.updated_at.unix_millis().to_string().as_str()) {
        return confirmation(
            &state,
            &owner,
            &record,
            at,
            StatusCode::CONFLICT,
            Some(
                "The draft changed after this page was shown (edited in another tab?). Here it is as it is now: check it and confirm again.",
            ),
        )
        .await;
    }
    let compiles = draft::check(
        &content_of(&record),
        state.templates.clone(),
        &state.config.list_name,
    )
    .is_ok();
    let nobody = if at.is_none() {
        let size = state
            .store
            .audience_size(record.audience().as_deref())
            .await?;
        size == 0
    } else {
        false
    };
    if !compiles || nobody || at.is_some_and(|at| at <= now.0) {
        return confirmation(
            &state,
            &owner,
            &record,
            at,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
        )
        .await;
    }
    let outcome = match at {
        Some(at) => {
            let scheduled = state
                .store
                .schedule_campaign(record.id, Timestamp::not_before(at), now)
                .await;
            if scheduled.is_ok() {
                tracing::info!(campaign = %record.id, "campaign scheduled from the web app");
            }
            scheduled
        }
        None => {
            let started = state
                .store
                .start_campaign(record.id, now, state.config.sending_domain(), Start::Now)
                .await;
            if let Ok(recipients) = started {
                tracing::info!(campaign = %record.id, recipients, "campaign started from the web app");
                state.campaign_started();
            }
            started.map(|_| ())
        }
    };
    match outcome {
        Ok(()) | Err(CampaignError::WrongStatus(..) | CampaignError::NotFound) => {
            Ok(to_report(record.id))
        }
        Err(CampaignError::Unexpected(err)) => Err(err.into()),
    }
}

/// A route that pauses, resumes, cancels or unschedules the campaign.
fn change_route(change: CampaignChange) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>, _owner: Owner, CampaignId(id): CampaignId| async move {
            self::change(&state, id, change).await
        },
    )
}

/// Pauses, resumes, cancels or unschedules, then shows the report. Pressing twice is harmless; asking
/// for what the campaign's state does not allow is explained.
async fn change(
    state: &AppState,
    id: Uuid,
    change: CampaignChange,
) -> Result<Response, AdminError> {
    let record = load(state, id).await?;
    let result = state
        .store
        .change_campaign(record.id, change, Timestamp::now())
        .await;
    if change == CampaignChange::Resume {
        state.campaign_started();
    }
    match result {
        Ok(()) => {
            tracing::info!(campaign = %record.id, change = ?change, "campaign changed from the web app");
            Ok(to_report(record.id))
        }
        Err(CampaignError::WrongStatus(current, _)) if current == change.status_after() => {
            Ok(to_report(record.id))
        }
        Err(CampaignError::WrongStatus(current, needed)) => {
            let current = CampaignStatus::parse(&current)
                .map(status_label)
                .unwrap_or("changed");
            let verb = match change {
                CampaignChange::Pause => "paused",
                CampaignChange::Resume => "resumed",
                CampaignChange::Cancel => "cancelled",
                CampaignChange::Unschedule => "taken back to a draft",
            };
            Err(AdminError::Conflict {
                title: "That cannot be done now",
                message: format!(
                    "This campaign is {} now; only a {needed} campaign can be {verb}.",
                    current.to_lowercase()
                ),
            })
        }
        Err(CampaignError::NotFound) => Ok(to_report(record.id)),
        Err(CampaignError::Unexpected(err)) => Err(err.into()),
    }
}
