//! `/admin/campaigns`: the campaigns, newest first, with their genuine figures; and, in the
//! modules below, writing one (`compose`), sending it (`send`) and its report (`report`).

mod compose;
mod form;
mod report;
mod send;

use axum::extract::{FromRequestParts, RawQuery, State};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use serde::Serialize;
use tera::Context;
use uuid::Uuid;

use super::{AdminError, CampaignId, Owner, page};
use crate::actions::campaigns::CampaignRefusal;
use crate::domain::{CampaignStatus, audience_label};
use crate::store::{CampaignListing, CampaignRecord, Timestamp};
use crate::web::AppState;
use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route("/admin/campaigns", get(list))
        .merge(compose::routes())
        .merge(send::routes())
        .merge(report::routes())
}

/// One line of the list of campaigns.
#[derive(Serialize)]
struct CampaignRow {
    id: Uuid,
    subject: String,
    status: &'static str,
    status_label: &'static str,
    audience: String,
    /// What `when` is: "Created", "Scheduled for", "Started", "Sent", "Cancelled".
    when_label: &'static str,
    when: Option<Timestamp>,
    started: bool,
    /// Sent, or cancelled part way: its figures are final.
    finished: bool,
    engaged: i64,
    delivered: i64,
    /// Engaged recipients as a share of the copies delivered, once any were.
    engaged_percent: Option<i64>,
    /// Where the public archive shows it (it went out and is public); `public` alone: it
    /// will be there once it went out.
    public: bool,
    archive_path: Option<String>,
}

impl From<CampaignListing> for CampaignRow {
    fn from(listing: CampaignListing) -> Self {
        let CampaignListing {
            record,
            delivered_so_far,
        } = listing;
        let status = record.status();
        let (when_label, when) = when_of(&record);
        Self {
            id: record.id,
            status: status.as_str(),
            status_label: status_label(status),
            audience: audience_label(record.audience().as_deref()),
            when_label,
            when,
            started: record.started_at.is_some(),
            finished: matches!(status, CampaignStatus::Sent | CampaignStatus::Cancelled),
            engaged: record.engaged,
            delivered: delivered_so_far,
            engaged_percent: percent(record.engaged, delivered_so_far),
            public: record.public,
            archive_path: archive_path(&record),
            subject: record.subject,
        }
    }
}

/// The campaign's page in the public archive, when the archive shows it.
fn archive_path(record: &CampaignRecord) -> Option<String> {
    let shown = record.public && record.status() == CampaignStatus::Sent;
    let slug = record.slug.as_deref().filter(|_| shown)?;
    Some(format!("/archive/{slug}"))
}

/// Campaigns per page of the list.
const PAGE_SIZE: i64 = 50;
const MAX_PAGE: i64 = 1_000_000;

async fn list(
    State(state): State<AppState>,
    owner: Owner,
    RawQuery(query): RawQuery,
) -> Result<Response, AdminError> {
    let mut number = 1;
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        if key == "page" {
            match value.parse::<i64>() {
                Ok(page) if (1..=MAX_PAGE).contains(&page) => number = page,
                _ => {
                    return Err(AdminError::BadRequest {
                        title: "No such page",
                        message: format!(
                            "“{}” is not a page number: pages are numbered from 1.",
                            value.chars().take(40).collect::<String>()
                        ),
                    });
                }
            }
        }
    }
    let offset = (number - 1) * PAGE_SIZE;
    let (campaigns, total) = state.store.campaign_listing(PAGE_SIZE, offset).await?;
    let shown = campaigns.len() as i64;
    let rows: Vec<CampaignRow> = campaigns.into_iter().map(CampaignRow::from).collect();
    let mut context = Context::new();
    context.insert("campaigns", &rows);
    context.insert("total", &total);
    context.insert("page", &number);
    context.insert("pages", &((total + PAGE_SIZE - 1) / PAGE_SIZE).max(1));
    context.insert("page_size", &PAGE_SIZE);
    let on_page = |n: i64| {
        if n == 1 {
            "/admin/campaigns".to_string()
        } else {
            format!("/admin/campaigns?page={n}")
        }
    };
    if number > 1 {
        context.insert("previous_href", &on_page(number - 1));
        context.insert("first_href", &on_page(1));
    }
    if offset + shown < total {
        context.insert("next_href", &on_page(number + 1));
    }
    Ok(page(
        &state,
        &owner,
        "campaigns",
        "web/admin/campaigns.html",
        &mut context,
    ))
}

/// A refusal as an admin page shows it, in the same words as every other face: the
/// missing campaign's page, 409 for a state that does not allow it, 422 for the rest.
impl From<CampaignRefusal> for AdminError {
    fn from(refusal: CampaignRefusal) -> Self {
        let title = "That cannot be done now";
        let message = refusal.to_string();
        match refusal {
            CampaignRefusal::NotFound => AdminError::no_campaign(),
            CampaignRefusal::Unexpected(err) => AdminError::Unexpected(err),
            CampaignRefusal::WrongStatus { .. } | CampaignRefusal::Changed => {
                AdminError::Conflict { title, message }
            }
            _ => AdminError::Invalid { title, message },
        }
    }
}

/// The campaign at `id`, or the page saying there is none.
async fn load(state: &AppState, id: Uuid) -> Result<CampaignRecord, AdminError> {
    state
        .store
        .campaign(id)
        .await?
        .ok_or_else(AdminError::no_campaign)
}

/// The draft `{id}` in `/admin/campaigns/{id}/…`. A campaign no longer a draft (sent,
/// scheduled, or a second press of a button) is answered with its report (`to_report`)
/// instead, and a missing one with the page saying so.
struct Draft(CampaignRecord);

impl FromRequestParts<AppState> for Draft {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let CampaignId(id) = CampaignId::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        match load(state, id).await {
            Ok(record) if record.status() == CampaignStatus::Draft => Ok(Self(record)),
            Ok(_) => Err(to_report(id)),
            Err(err) => Err(err.into_response()),
        }
    }
}

/// The campaign's report page, where a button that no longer applies leads.
fn to_report(id: Uuid) -> Response {
    Redirect::to(&format!("/admin/campaigns/{id}")).into_response()
}

fn status_label(status: CampaignStatus) -> &'static str {
    match status {
        CampaignStatus::Draft => "Draft",
        CampaignStatus::Scheduled => "Scheduled",
        CampaignStatus::Sending => "Sending",
        CampaignStatus::Paused => "Paused",
        CampaignStatus::Sent => "Sent",
        CampaignStatus::Cancelled => "Cancelled",
    }
}

/// The moment that matters for a campaign in its state, and what it is.
fn when_of(record: &CampaignRecord) -> (&'static str, Option<Timestamp>) {
    match record.status() {
        CampaignStatus::Draft => ("Edited", Some(record.updated_at)),
        CampaignStatus::Scheduled => ("Scheduled for", record.scheduled_at),
        CampaignStatus::Sending | CampaignStatus::Paused => ("Started", record.started_at),
        CampaignStatus::Sent => ("Sent", record.finished_at.or(record.started_at)),
        CampaignStatus::Cancelled => ("Cancelled", Some(record.updated_at)),
    }
}

/// `part` as a whole percentage of `whole`, when there is a whole.
fn percent(part: i64, whole: i64) -> Option<i64> {
    (whole > 0).then(|| (part * 100 + whole / 2) / whole)
}
