//! The owner's word on inbound mail that only an address ties to a subscriber: apply or
//! dismiss a bounce or complaint from the dashboard's "Needs review", mark an unverified
//! reply genuine, and lift a bounce that was wrong. Each is a POST that redirects back.

use axum::Form;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, post};
use serde::Deserialize;

use super::{AdminError, InboundId, Owner, SubscriberId};
use crate::actions::review::{self, Decided, ReviewError};
use crate::store::ReviewDecision;
use crate::web::AppState;
use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/admin/inbound/{id}/apply",
            post_decision(ReviewDecision::Apply),
        )
        .route(
            "/admin/inbound/{id}/dismiss",
            post_decision(ReviewDecision::Dismiss),
        )
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

/// How a refused review decision reads on the admin page: the use case's words, under a
/// title that fits.
fn refused(err: ReviewError) -> AdminError {
    let message = err.to_string();
    match err {
        ReviewError::NoMessage => AdminError::NotFound {
            title: "No such message",
            message,
        },
        ReviewError::NoSubscriber => AdminError::NotFound {
            title: "No such subscriber",
            message,
        },
        ReviewError::Reason(_) => AdminError::BadRequest {
            title: "Say why the bounce was wrong",
            message,
        },
        ReviewError::AlreadyVerified => AdminError::Conflict {
            title: "This reply counts already",
            message,
        },
        ReviewError::Complained => AdminError::Conflict {
            title: "A complaint stays",
            message,
        },
        ReviewError::NotWaiting | ReviewError::NotBounced(_) => AdminError::Conflict {
            title: "Nothing to decide",
            message,
        },
        ReviewError::Unexpected(err) => AdminError::Unexpected(err),
    }
}

/// The POST that applies or dismisses: one handler, the decision fixed by the route.
fn post_decision(decision: ReviewDecision) -> MethodRouter<AppState> {
    post(
        move |State(state): State<AppState>, _owner: Owner, InboundId(id): InboundId| async move {
            decide(&state, id, decision).await
        },
    )
}

/// Applies or dismisses the bounce or complaint, then back to the dashboard.
async fn decide(
    state: &AppState,
    id: i64,
    decision: ReviewDecision,
) -> Result<Response, AdminError> {
    let notice = match review::decide(state, id, decision).await {
        Ok(Decided::Applied(_)) => "applied",
        Ok(Decided::Dismissed) => "dismissed",
        Err(ReviewError::NotWaiting) => "decided",
        Err(err) => return Err(refused(err)),
    };
    Ok(Redirect::to(&format!("/admin?notice={notice}#review")).into_response())
}

async fn genuine(
    State(state): State<AppState>,
    _owner: Owner,
    InboundId(id): InboundId,
) -> Result<Response, AdminError> {
    let subscriber = review::mark_genuine(&state, id).await.map_err(refused)?;
    Ok(Redirect::to(&format!(
        "/admin/subscribers/{subscriber}?notice=genuine#reply-{id}"
    ))
    .into_response())
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
    let by = format!("the owner ({})", owner.email);
    match review::lift_bounce(&state, subscriber, &by, form.reason.as_deref()).await {
        Ok(()) => Ok(
            Redirect::to(&format!("/admin/subscribers/{subscriber}?notice=lifted")).into_response(),
        ),
        // Lifted meanwhile (a second click): the page shows how they are now.
        Err(ReviewError::NotBounced(_)) => {
            Ok(Redirect::to(&format!("/admin/subscribers/{subscriber}")).into_response())
        }
        Err(err) => Err(refused(err)),
    }
}
