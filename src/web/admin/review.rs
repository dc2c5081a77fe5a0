//! The owner's word on inbound mail that only an address ties to a subscriber: apply or
//! dismiss a bounce or complaint from the dashboard's "Needs review", mark an unverified
//! reply genuine, and lift a bounce that was wrong. Each is a POST that redirects back.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::post;
use serde::Deserialize;
use uuid::Uuid;

use super::{Owner, failure, problem};
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

fn message_gone(state: &AppState, owner: &Owner) -> Response {
    problem(
        state,
        owner,
        StatusCode::NOT_FOUND,
        "No such message",
        "There is no inbound message with this number. The subscriber it was about may have been erased.",
    )
}

async fn decide(state: &AppState, owner: &Owner, raw: &str, decision: ReviewDecision) -> Response {
    let Some(id) = raw.parse::<i64>().ok().filter(|id| *id > 0) else {
        return message_gone(state, owner);
    };
    match state
        .store
        .decide_review(id, decision, Timestamp::now())
        .await
    {
        Ok(ReviewOutcome::Applied(_)) => {
            Redirect::to("/admin?notice=applied#review").into_response()
        }
        Ok(ReviewOutcome::Dismissed) => {
            Redirect::to("/admin?notice=dismissed#review").into_response()
        }
        Ok(ReviewOutcome::NotWaiting) => {
            Redirect::to("/admin?notice=decided#review").into_response()
        }
        Ok(ReviewOutcome::NotFound) => message_gone(state, owner),
        Err(err) => failure(state, owner, err),
    }
}

async fn apply(State(state): State<AppState>, owner: Owner, Path(id): Path<String>) -> Response {
    decide(&state, &owner, &id, ReviewDecision::Apply).await
}

async fn dismiss(State(state): State<AppState>, owner: Owner, Path(id): Path<String>) -> Response {
    decide(&state, &owner, &id, ReviewDecision::Dismiss).await
}

async fn genuine(State(state): State<AppState>, owner: Owner, Path(id): Path<String>) -> Response {
    let Some(id) = id.parse::<i64>().ok().filter(|id| *id > 0) else {
        return message_gone(&state, &owner);
    };
    match state.store.mark_reply_genuine(id, Timestamp::now()).await {
        Ok(GenuineOutcome::Marked(subscriber)) => Redirect::to(&format!(
            "/admin/subscribers/{subscriber}?notice=genuine#reply-{id}"
        ))
        .into_response(),
        Ok(GenuineOutcome::AlreadyVerified) => problem(
            &state,
            &owner,
            StatusCode::CONFLICT,
            "This reply counts already",
            "A token, one of your Message-IDs, your mail server or you verified it before.",
        ),
        Ok(GenuineOutcome::NotFound) => message_gone(&state, &owner),
        Err(err) => failure(&state, &owner, err),
    }
}

#[derive(Deserialize)]
struct LiftForm {
    reason: Option<String>,
}

async fn lift_bounce(
    State(state): State<AppState>,
    owner: Owner,
    Path(id): Path<String>,
    Form(form): Form<LiftForm>,
) -> Response {
    let Ok(subscriber) = Uuid::parse_str(&id) else {
        return problem(
            &state,
            &owner,
            StatusCode::NOT_FOUND,
            "No such subscriber",
            "There is no subscriber at this address.",
        );
    };
    let reason = match lift_reason(form.reason.as_deref()) {
        Ok(reason) => reason,
        Err(message) => {
            return problem(
                &state,
                &owner,
                StatusCode::BAD_REQUEST,
                "Say why the bounce was wrong",
                &format!("Nothing changed: {message}. Go back and write a line about it."),
            );
        }
    };
    let by = format!("the owner ({})", owner.email);
    match state
        .store
        .lift_bounce(subscriber, &by, &reason, Timestamp::now())
        .await
    {
        Ok(LiftOutcome::Lifted) => {
            Redirect::to(&format!("/admin/subscribers/{subscriber}?notice=lifted")).into_response()
        }
        Ok(LiftOutcome::NotBounced(status)) if status == "complained" => problem(
            &state,
            &owner,
            StatusCode::CONFLICT,
            "A complaint stays",
            "They marked your newsletter as spam. Only they can subscribe and confirm again.",
        ),
        Ok(LiftOutcome::NotBounced(_)) => {
            Redirect::to(&format!("/admin/subscribers/{subscriber}")).into_response()
        }
        Ok(LiftOutcome::NotFound) => problem(
            &state,
            &owner,
            StatusCode::NOT_FOUND,
            "No such subscriber",
            "There is no subscriber at this address. They may have been erased.",
        ),
        Err(err) => failure(&state, &owner, err),
    }
}
