//! A campaign's report: its delivery progress (live while sending, through a small JSON
//! endpoint the vendored script polls), the genuine numbers side by side, clicks per link,
//! the replies, the recipients it lost, bounces, complaints and failures.
//!
//! The counts come from `Store::campaign_report`, the same read the JSON API answers with.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tera::Context;
use uuid::Uuid;

use super::{archive_path, load, percent, status_label, to_report, when_of};
use crate::actions::archive::{self, ArchiveRefusal};
use crate::actions::campaigns::{self, CampaignRefusal};
use crate::domain::{CampaignStatus, audience_label, audience_sentence};
use crate::store::{
    CampaignMailKind, CampaignRecord, CampaignReport, DeliveryCounts, FailedDelivery, InboundEntry,
    LinkClicks, Timestamp, Unsubscriber,
};
use crate::web::AppState;
use crate::web::admin::{AdminError, COMPOSE_CSP, CampaignId, Owner, form_value, page};
use crate::web::routes::Routes;

/// How many replies, returned messages and lost recipients the page lists.
const LISTED: i64 = 100;
/// How much of a reply the report shows.
const REPLY_LINES: usize = 3;
const REPLY_CHARS: usize = 280;

pub fn routes() -> Routes {
    Routes::new()
        .route("/admin/campaigns/{id}", get(report))
        .route("/admin/campaigns/{id}/progress", get(progress))
        .route("/admin/campaigns/{id}/archive", post(archive_choice))
}

/// The report's archive button: `public=1` shows the campaign in the public archive,
/// `public=0` takes it out (404 there from then on).
async fn archive_choice(
    State(state): State<AppState>,
    _owner: Owner,
    CampaignId(id): CampaignId,
    body: Bytes,
) -> Result<Response, AdminError> {
    let public = form_value(&body, "public").as_deref() == Some("1");
    match archive::set_public(&state, id, public).await {
        Ok(()) => Ok(to_report(id)),
        Err(ArchiveRefusal::NotFound) => Err(CampaignRefusal::NotFound.into()),
        Err(ArchiveRefusal::Unexpected(err)) => Err(err.into()),
    }
}

/// Where a send is: what the progress bar and its JSON show.
#[derive(Debug, Serialize)]
struct Progress {
    status: &'static str,
    status_label: &'static str,
    total: i64,
    sent: i64,
    failed: i64,
    skipped: i64,
    /// Still to go.
    remaining: i64,
    done: i64,
    percent: i64,
    /// The progress bar's maximum, which must be above zero.
    bar_max: i64,
}

impl Progress {
    fn of(status: CampaignStatus, counts: &DeliveryCounts) -> Self {
        let total = counts.total();
        let done = total - counts.queued;
        Self {
            status: status.as_str(),
            status_label: status_label(status),
            total,
            sent: counts.sent,
            failed: counts.failed,
            skipped: counts.skipped,
            remaining: counts.queued,
            done,
            // Rounded down, so 100 means every copy is done.
            percent: if total > 0 { done * 100 / total } else { 0 },
            bar_max: total.max(1),
        }
    }
}

/// The genuine numbers, side by side with what is discounted.
#[derive(Debug, Serialize)]
struct Figures {
    delivered: i64,
    engaged: i64,
    engaged_percent: Option<i64>,
    human_opens: i64,
    machine_opens: i64,
    human_clicks: i64,
    scanner_clicks: i64,
    raw_opens: i64,
    raw_clicks: i64,
    replies: i64,
    auto_replies: i64,
    unsubscribes: i64,
    hard_bounces: i64,
    soft_bounces: i64,
    complaints: i64,
}

impl Figures {
    fn of(record: &CampaignRecord, report: &CampaignReport) -> Self {
        let delivered = report.deliveries.sent;
        let (engagement, inbound) = (&report.engagement, &report.inbound);
        Self {
            delivered,
            engaged: record.engaged,
            engaged_percent: percent(record.engaged, delivered),
            human_opens: engagement.human_opens,
            machine_opens: engagement.machine_opens,
            human_clicks: engagement.human_clicks,
            scanner_clicks: engagement.scanner_clicks,
            raw_opens: engagement.raw_opens,
            raw_clicks: engagement.raw_clicks,
            replies: inbound.replies,
            auto_replies: inbound.auto_replies,
            unsubscribes: report.unsubscribes,
            hard_bounces: inbound.hard_bounces,
            soft_bounces: inbound.soft_bounces,
            complaints: inbound.complaints,
        }
    }
}

/// A reply, a bounce or a complaint as the report lists it.
#[derive(Debug, Serialize)]
struct MailView {
    subscriber_id: Option<Uuid>,
    who: String,
    at: Timestamp,
    kind: String,
    /// "Hard bounce", "Soft bounce", "Complaint", "Reply".
    kind_label: &'static str,
    /// The first lines of a reply; a bounce's status and diagnostic.
    text: String,
}

impl From<InboundEntry> for MailView {
    fn from(mail: InboundEntry) -> Self {
        let kind_label = match mail.kind.as_str() {
            "reply" => "Reply",
            "hard_bounce" => "Hard bounce",
            "soft_bounce" => "Soft bounce",
            "complaint" => "Complaint",
            _ => "Message",
        };
        let text = match mail.kind.as_str() {
            "reply" => first_lines(mail.text.as_deref().unwrap_or_default()),
            _ => [
                mail.status,
                mail.detail,
                mail.text.as_deref().map(first_lines),
            ]
            .into_iter()
            .flatten()
            .filter(|part| !part.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" · "),
        };
        Self {
            who: mail
                .email
                .or(mail.from_address)
                .unwrap_or_else(|| "an unknown sender".into()),
            subscriber_id: mail.subscriber_id,
            at: mail.received_at,
            kind: mail.kind,
            kind_label,
            text,
        }
    }
}

/// The first few non-empty lines of a reply, cut at a readable length.
fn first_lines(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|line| !line.trim().is_empty())
        .take(REPLY_LINES)
        .collect();
    let joined = lines.join("\n");
    if joined.chars().count() > REPLY_CHARS {
        let cut: String = joined.chars().take(REPLY_CHARS).collect();
        format!("{}…", cut.trim_end())
    } else if text.lines().filter(|l| !l.trim().is_empty()).count() > REPLY_LINES {
        format!("{joined} …")
    } else {
        joined
    }
}

#[derive(Debug, Serialize)]
struct CampaignView {
    id: Uuid,
    subject: String,
    preheader: Option<String>,
    status: &'static str,
    status_label: &'static str,
    audience_label: String,
    audience: String,
    when_label: &'static str,
    when: Option<Timestamp>,
    created_at: Timestamp,
    scheduled_at: Option<Timestamp>,
    started_at: Option<Timestamp>,
    finished_at: Option<Timestamp>,
    late_by_minutes: Option<i64>,
    live: bool,
    started: bool,
    public: bool,
    /// Where the public archive shows it, once it went out.
    archive_path: Option<String>,
}

async fn report(
    State(state): State<AppState>,
    owner: Owner,
    CampaignId(id): CampaignId,
) -> Result<Response, AdminError> {
    let record = load(&state, id).await?;
    let lists = async {
        if record.started_at.is_none() {
            return Ok((Vec::new(), Vec::new(), Vec::new()));
        }
        tokio::try_join!(
            state
                .store
                .campaign_mail(record.id, CampaignMailKind::Replies, LISTED),
            state
                .store
                .campaign_mail(record.id, CampaignMailKind::Returned, LISTED),
            state.store.campaign_unsubscribers(record.id, LISTED),
        )
    };
    let (report, (replies, returned, unsubscribers)) =
        tokio::try_join!(state.store.campaign_report(&record), lists)?;
    let status = record.status();
    let tiers = record.audience();
    let (when_label, when) = when_of(&record);
    let view = CampaignView {
        id: record.id,
        subject: record.subject.clone(),
        preheader: record.preheader.clone(),
        status: status.as_str(),
        status_label: status_label(status),
        audience_label: audience_label(tiers.as_deref()),
        audience: audience_sentence(tiers.as_deref(), report.audience_size),
        when_label,
        when,
        created_at: record.created_at,
        scheduled_at: record.scheduled_at,
        started_at: record.started_at,
        finished_at: record.finished_at,
        late_by_minutes: record.late_by_seconds.map(|s| (s + 59) / 60),
        live: status == CampaignStatus::Sending,
        started: record.started_at.is_some(),
        public: record.public,
        archive_path: archive_path(&record),
    };
    let replies: Vec<MailView> = replies.into_iter().map(MailView::from).collect();
    let returned: Vec<MailView> = returned.into_iter().map(MailView::from).collect();
    let unsubscribers: Vec<Unsubscriber> = unsubscribers;
    let links: &[LinkClicks] = &report.engagement.links;
    let failures: &[FailedDelivery] = &report.failures;
    let mut context = Context::new();
    context.insert("campaign", &view);
    context.insert("progress", &Progress::of(status, &report.deliveries));
    context.insert("figures", &Figures::of(&record, &report));
    context.insert("links", links);
    context.insert("replies", &replies);
    context.insert("returned", &returned);
    context.insert("unsubscribers", &unsubscribers);
    context.insert("failures", failures);
    context.insert("listed", &LISTED);
    context.insert("as_sent", &as_sent(&state, &record).await?);
    let mut response = page(
        &state,
        &owner,
        "campaigns",
        "web/admin/campaign.html",
        &mut context,
    );
    // The copy's frame shows the mail's images, as the composer's preview does.
    response.headers_mut().insert(
        axum::http::header::CONTENT_SECURITY_POLICY,
        axum::http::HeaderValue::from_static(COMPOSE_CSP),
    );
    Ok(response)
}

/// The copy as it went out, for the report of a campaign that started.
#[derive(Serialize)]
struct AsSent {
    layout: String,
    /// The layout's version it went out with, when the owner had saved one.
    version: Option<i32>,
    html: String,
}

async fn as_sent(state: &AppState, record: &CampaignRecord) -> Result<Option<AsSent>, AdminError> {
    if record.started_at.is_none() {
        return Ok(None);
    }
    let version = match record.layout_version {
        Some(id) => state.store.template_version(id).await?,
        None => None,
    };
    let copy = match campaigns::preview(state, record.id, None).await {
        Ok(copy) => copy,
        Err(err) => {
            tracing::warn!(campaign = %record.id, error = %err, "the copy as sent does not render");
            return Ok(None);
        }
    };
    Ok(Some(AsSent {
        layout: record.layout.clone(),
        version: version.filter(|v| !v.shipped).map(|v| v.version),
        html: copy.html,
    }))
}

/// `GET /admin/campaigns/{id}/progress`: the progress bar's numbers, for the script that
/// keeps it current while the campaign sends. It answers in JSON whatever happens, so a
/// malformed id is taken as it is (`Result`) rather than answered with the admin page.
async fn progress(
    State(state): State<AppState>,
    _owner: Owner,
    id: Result<CampaignId, AdminError>,
) -> Response {
    let not_found = || {
        (
            StatusCode::NOT_FOUND,
            Json(serde_json::json!({ "error": "There is no such campaign." })),
        )
            .into_response()
    };
    let Ok(CampaignId(id)) = id else {
        return not_found();
    };
    let found = tokio::try_join!(
        state.store.campaign_status(id),
        state.store.delivery_counts(id)
    );
    match found {
        Ok((Some(status), counts)) => {
            let status = CampaignStatus::parse(&status).unwrap_or(CampaignStatus::Draft);
            Json(Progress::of(status, &counts)).into_response()
        }
        Ok((None, _)) => not_found(),
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "reading a campaign's progress failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(serde_json::json!({ "error": "Something went wrong on our side." })),
            )
                .into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_shows_its_first_lines() {
        assert_eq!(
            first_lines("Save me a loaf!\n\nThanks"),
            "Save me a loaf!\nThanks"
        );
        assert_eq!(first_lines("one\ntwo\nthree\nfour"), "one\ntwo\nthree …");
        let long = "word ".repeat(100);
        let shown = first_lines(&long);
        assert!(shown.ends_with('…') && shown.chars().count() <= REPLY_CHARS + 1);
    }
}
