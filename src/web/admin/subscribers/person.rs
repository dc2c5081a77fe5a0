//! `/admin/subscribers/{id}`: one person. Who they are, how much they care and why, how
//! they consented, their story (what they were sent and did with it, their replies in
//! full and the owner's answers, in time order), the owner's private note, and what the
//! owner can do: answer a reply, switch tracking off, unsubscribe them, export everything
//! held about them, erase them.
//!
//! Every change is a POST that redirects back (so reloading never repeats it) with a
//! notice named in the query string; a form that cannot be taken is shown again with what
//! was typed and why.

use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json};
use serde::Deserialize;
use tera::Context;
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::{AdminError, Owner, ReplyId, SubscriberId, form_value, page};
use super::refused;
use super::story::{consent_lines, timeline_lines};
use crate::actions::replies::{self, AnswerError};
use crate::actions::subscribers::{self, Changes, SubscriberError};
use crate::domain::{Subscriber, SubscriberStatus, UnsubscribeMethod};
use crate::store::Timestamp;
use crate::web::AppState;
use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route("/admin/subscribers/{id}", get(show))
        .route("/admin/subscribers/{id}/note", post(save_note))
        .route("/admin/subscribers/{id}/tracking", post(set_tracking))
        .route("/admin/subscribers/{id}/unsubscribe", post(unsubscribe))
        .route(
            "/admin/subscribers/{id}/erase",
            get(confirm_erase).post(erase),
        )
        .route("/admin/subscribers/{id}/export", get(export))
        .route(
            "/admin/subscribers/{id}/replies/{reply}/answer",
            post(answer),
        )
}

/// The messages a redirect back to the page may ask for (never text from the URL).
fn notice(name: &str) -> Option<&'static str> {
    Some(match name {
        "note" => "Note saved.",
        "unsubscribed" => {
            "Unsubscribed. They get no more campaigns, and the consent history records that you did it."
        }
        "tracking-off" => {
            "Tracking is off for them: their next copies carry no open pixel and their links are not rewritten."
        }
        "tracking-on" => "Tracking is on for them again.",
        "answered" => "Your answer is on its way.",
        "genuine" => "Marked genuine: the reply counts now.",
        "lifted" => {
            "Bounce lifted: they are confirmed again and get your next campaign. The consent history records that you did it, and why."
        }
        _ => return None,
    })
}

fn back_to(id: Uuid, notice: &str, anchor: &str) -> Result<Response, AdminError> {
    Ok(Redirect::to(&format!("/admin/subscribers/{id}?notice={notice}{anchor}")).into_response())
}

/// A form that could not be taken, to show again with what was typed.
#[derive(Default)]
struct Rejected {
    note: Option<(String, String)>,
    /// The reply answered, the text typed, and why it was not sent.
    answer: Option<(i64, String, String)>,
}

async fn show(
    State(state): State<AppState>,
    owner: Owner,
    SubscriberId(id): SubscriberId,
    RawQuery(query): RawQuery,
) -> Result<Response, AdminError> {
    let notice =
        form_value(query.unwrap_or_default().as_bytes(), "notice").and_then(|value| notice(&value));
    render(&state, &owner, id, notice, Rejected::default()).await
}

async fn render(
    state: &AppState,
    owner: &Owner,
    id: Uuid,
    notice: Option<&str>,
    rejected: Rejected,
) -> Result<Response, AdminError> {
    let now = OffsetDateTime::now_utc();
    let (subscriber, engagement, timeline, note, paused_until) = tokio::try_join!(
        state.store.subscriber(id),
        state.store.subscriber_engagement(id, now),
        state.store.subscriber_timeline(id),
        state.store.subscriber_note(id),
        state.store.paused_until(id, Timestamp(now)),
    )?;
    let (Some(subscriber), Some(engagement)) = (subscriber, engagement) else {
        return Err(AdminError::no_subscriber());
    };
    let mut context = Context::new();
    let status = if rejected.note.is_some() || rejected.answer.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let (note_text, note_error) = match rejected.note {
        Some((text, error)) => (Some(text), Some(error)),
        None => (note, None),
    };
    context.insert("note", &note_text.unwrap_or_default());
    if let Some(error) = note_error {
        context.insert("note_error", &error);
    }
    let (answer_reply, answer_text, answer_error) = rejected.answer.unwrap_or_default();
    context.insert("answer_reply", &answer_reply);
    context.insert("answer_text", &answer_text);
    context.insert("answer_error", &answer_error);
    if let Some(notice) = notice {
        context.insert("notice", notice);
    }
    let answerable = !subscriber.status.is_suppressed();
    context.insert("answerable", &answerable);
    context.insert("subscribed", &is_subscribed(&subscriber));
    // The person paused their campaigns from their own page.
    let paused_until =
        paused_until.map(|until| crate::i18n::date(crate::domain::Language::En, until.0.date()));
    context.insert("paused_until", &paused_until);
    context.insert("consent", &consent_lines(&subscriber));
    context.insert("timeline", &timeline_lines(timeline));
    context.insert("engagement", &engagement);
    context.insert("subscriber", &subscriber);
    context.insert("title", &display_name(&subscriber));
    let mut response = page(
        state,
        owner,
        "subscribers",
        "web/admin/subscriber.html",
        &mut context,
    );
    if response.status() == StatusCode::OK {
        *response.status_mut() = status;
    }
    Ok(response)
}

fn is_subscribed(subscriber: &Subscriber) -> bool {
    matches!(
        subscriber.status,
        SubscriberStatus::Pending | SubscriberStatus::Confirmed
    )
}

fn display_name(subscriber: &Subscriber) -> String {
    subscriber
        .name
        .clone()
        .unwrap_or_else(|| subscriber.email.clone())
}

#[derive(Deserialize)]
struct NoteForm {
    note: Option<String>,
}

async fn save_note(
    State(state): State<AppState>,
    owner: Owner,
    SubscriberId(id): SubscriberId,
    Form(form): Form<NoteForm>,
) -> Result<Response, AdminError> {
    let text = form.note.unwrap_or_default().replace("\r\n", "\n");
    match subscribers::save_note(&state, id, &text).await {
        Ok(()) => back_to(id, "note", "#note"),
        Err(SubscriberError::Invalid { message, .. }) => {
            let rejected = Rejected {
                note: Some((text.trim().to_string(), message)),
                ..Rejected::default()
            };
            render(&state, &owner, id, None, rejected).await
        }
        Err(err) => Err(refused(err)),
    }
}

#[derive(Deserialize)]
struct TrackingForm {
    tracking: Option<String>,
}

async fn set_tracking(
    State(state): State<AppState>,
    _owner: Owner,
    SubscriberId(id): SubscriberId,
    Form(form): Form<TrackingForm>,
) -> Result<Response, AdminError> {
    let tracking = match form.tracking.as_deref() {
        Some("on") => true,
        Some("off") => false,
        _ => {
            return Err(AdminError::BadRequest {
                title: "Tracking is on or off",
                message: "The form should say whether to switch tracking on or off. Go back and use its button.".into(),
            });
        }
    };
    let changes = Changes {
        tracking: Some(tracking),
        ..Changes::default()
    };
    subscribers::update(&state, id, changes)
        .await
        .map_err(refused)?;
    back_to(
        id,
        if tracking {
            "tracking-on"
        } else {
            "tracking-off"
        },
        "#tracking",
    )
}

async fn unsubscribe(
    State(state): State<AppState>,
    _owner: Owner,
    SubscriberId(id): SubscriberId,
) -> Result<Response, AdminError> {
    subscribers::unsubscribe(&state, id, UnsubscribeMethod::Owner, None)
        .await
        .map_err(refused)?;
    back_to(id, "unsubscribed", "")
}

/// The confirmation step before erasing: what it means, and the button.
async fn confirm_erase(
    State(state): State<AppState>,
    owner: Owner,
    SubscriberId(id): SubscriberId,
) -> Result<Response, AdminError> {
    let subscriber = subscribers::find(&state, id).await.map_err(refused)?;
    let mut context = Context::new();
    context.insert("title", &display_name(&subscriber));
    context.insert("subscriber", &subscriber);
    Ok(page(
        &state,
        &owner,
        "subscribers",
        "web/admin/subscriber_erase.html",
        &mut context,
    ))
}

#[derive(Deserialize)]
struct EraseForm {
    confirm: Option<String>,
}

async fn erase(
    State(state): State<AppState>,
    _owner: Owner,
    SubscriberId(id): SubscriberId,
    Form(form): Form<EraseForm>,
) -> Result<Response, AdminError> {
    if form.confirm.as_deref() != Some("yes") {
        return Ok(Redirect::to(&format!("/admin/subscribers/{id}/erase")).into_response());
    }
    subscribers::erase(&state, &state.tracker, id)
        .await
        .map_err(refused)?;
    Ok(Redirect::to("/admin/subscribers?notice=erased").into_response())
}

/// Everything held about the person, as the API's export gives it, as a download.
async fn export(
    State(state): State<AppState>,
    _owner: Owner,
    SubscriberId(id): SubscriberId,
) -> Result<Response, AdminError> {
    let data = subscribers::export(&state, id).await.map_err(refused)?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        subscribers::export_file_name(id)
    );
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(data)).into_response())
}

#[derive(Deserialize)]
struct AnswerForm {
    body: Option<String>,
}

/// Answers one of their replies: queued for sending, threaded under the reply, kept in
/// their timeline.
async fn answer(
    State(state): State<AppState>,
    owner: Owner,
    SubscriberId(id): SubscriberId,
    ReplyId(reply): ReplyId,
    Form(form): Form<AnswerForm>,
) -> Result<Response, AdminError> {
    let body = form.body.unwrap_or_default();
    match replies::answer(&state, id, reply, &body).await {
        Ok(()) => back_to(id, "answered", &format!("#reply-{reply}")),
        Err(AnswerError::NoReply) => Err(AdminError::no_reply()),
        Err(AnswerError::NoSubscriber) => Err(AdminError::no_subscriber()),
        Err(AnswerError::Unexpected(err)) => Err(AdminError::Unexpected(err)),
        // Shown in the answer's form, with what was typed, to fix and send again.
        Err(err @ (AnswerError::Empty | AnswerError::TooLong | AnswerError::Suppressed)) => {
            let rejected = Rejected {
                answer: Some((reply, replies::answer_text(&body), err.to_string())),
                ..Rejected::default()
            };
            render(&state, &owner, id, None, rejected).await
        }
    }
}
