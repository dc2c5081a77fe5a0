//! The owner's word on inbound mail that only an address ties to a subscriber: apply or
//! dismiss a bounce or complaint from the dashboard's "Needs review", mark an unverified
//! reply genuine, and lift a bounce that was wrong. Each is a POST that redirects back.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;

use super::{AdminError, InboundId, Owner, SubscriberId};
use crate::store::{
    GenuineOutcome, LiftOutcome, ReviewDecision, ReviewOutcome, Timestamp, lift_reason,
};
use crate::web::AppState;
use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route("/admin/inbound/{id}/apply", post(apply))
        .route("/admin/inbound/{id}/dismiss", post(dismiss))
        .route("/admin/inbound/{id}/genuine", post(genuine))
        .route("/admin/subscribers/{id}/lift-bounce", post(lift_bounce))
}

/// The notices the dashboard shows after a review (never text from the URL).
pub fn dashboard_notice(name: &str) -> Option<&'static str> {
    Some(match name {
        "applied" => {
            "Applied: no more mail goes to that address, and its consent history says you decided it."
        }
        "dismissed" => "Dismissed: nothing changed for that subscriber.",
        "decided" => "That message was decided already.",
        _ => return None,
    })
}

/// Applies or dismisses the bounce or complaint, then back to the dashboard.
async fn decide(
    state: &AppState,
    id: i64,
    decision: ReviewDecision,
) -> Result<Response, AdminError> {
    let outcome = state
        .store
        .decide_review(id, decision, Timestamp::now())
        .await?;
    let notice = match outcome {
        ReviewOutcome::Applied(_) => "applied",
        ReviewOutcome::Dismissed => "dismissed",
        ReviewOutcome::NotWaiting => "decided",
        ReviewOutcome::NotFound => return Err(AdminError::no_message()),
    };
    Ok(Redirect::to(&format!("/admin?notice={notice}#review")).into_response())
}

async fn apply(
    State(state): State<AppState>,
    _owner: Owner,
    InboundId(id): InboundId,
) -> Result<Response, AdminError> {
    decide(&state, id, ReviewDecision::Apply).await
}

async fn dismiss(
    State(state): State<AppState>,
    _owner: Owner,
    InboundId(id): InboundId,
) -> Result<Response, AdminError> {
    decide(&state, id, ReviewDecision::Dismiss).await
}

async fn genuine(
    State(state): State<AppState>,
    _owner: Owner,
    InboundId(id): InboundId,
) -> Result<Response, AdminError> {
    match state.store.mark_reply_genuine(id, Timestamp::now()).await? {
        GenuineOutcome::Marked(subscriber) => Ok(Redirect::to(&format!(
            "/admin/subscribers/{subscriber}?notice=genuine#reply-{id}"
        ))
        .into_response()),
        GenuineOutcome::AlreadyVerified => Err(AdminError::Conflict {
            title: "This reply counts already",
            message:
                "A token, one of your Message-IDs, your mail server or you verified it before."
                    .into(),
        }),
        GenuineOutcome::NotFound => Err(AdminError::no_message()),
    }
}

#[derive(Deserialize)]
struct LiftForm {
    reason: Option<String>,
}

async fn lift_bounce(
    State(state): State<AppState>,
    owner: Owner,
    SubscriberId(subscriber): SubscriberId,
    Form(form): Form<LiftForm>,
) -> Result<Response, AdminError> {
    let reason = lift_reason(form.reason.as_deref()).map_err(|message| AdminError::BadRequest {
        title: "Say why the bounce was wrong",
        message: format!("Nothing changed: {message}. Go back and write a line about it."),
    })?;
    let by = format!("the owner ({})", owner.email);
    let outcome = state
        .store
        .lift_bounce(subscriber, &by, &reason, Timestamp::now())
        .await?;
    match outcome {
        LiftOutcome::Lifted => Ok(Redirect::to(&format!(
            "/admin/subscribers/{subscriber}?notice=lifted"
        ))
        .into_response()),
        LiftOutcome::NotBounced(status) if status == "complained" => Err(AdminError::Conflict {
            title: "A complaint stays",
            message:
                "They marked your newsletter as spam. Only they can subscribe and confirm again."
                    .into(),
        }),
        LiftOutcome::NotBounced(_) => {
            Ok(Redirect::to(&format!("/admin/subscribers/{subscriber}")).into_response())
        }
        LiftOutcome::NotFound => Err(AdminError::NotFound {
            title: "No such subscriber",
            message: "There is no subscriber at this address. They may have been erased.".into(),
        }),
    }
}
