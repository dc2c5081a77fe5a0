//! Confirming and leaving: `/confirm/{token}` and `/unsubscribe/{token}`.
//!
//! Link scanners fetch every URL in a message, so GET (and HEAD) only ever show a page with
//! a button; the change happens on POST. The unsubscribe POST also serves RFC 8058
//! one-click requests from mail clients and answers 200, never a redirect.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use tera::Context;

use super::client::{Client, rate_limit_key};
use super::subscribe::thanks_page;
use super::{AppState, PageError};
use crate::actions::readers::{self, Kept, LinkError};
use crate::domain::UnsubscribeMethod;
use crate::signing::TokenPurpose;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/confirm/{token}", get(confirm_page).post(confirm))
        .route(
            "/unsubscribe/{token}",
            get(unsubscribe_page).post(unsubscribe),
        )
        .route("/unsubscribe/{token}/resubscribe", post(resubscribe))
        .route("/keep/{token}", get(keep_page).post(keep))
}

/// A page with a message, 200.
fn message_page(state: &AppState, title: &str, message: &str) -> Response {
    let mut context = Context::new();
    context.insert("title", title);
    context.insert("message", message);
    state.page(StatusCode::OK, "web/message.html", &context)
}

/// The page with the button (scanners only GET) for a link naming a subscriber.
async fn button_page(state: &AppState, kind: LinkKind, token: &str, template: &str) -> Response {
    match readers::subscriber_of_link(state, kind.purpose(), token).await {
        Ok(subscriber) => {
            let mut context = Context::new();
            context.insert("action", &format!("/{}/{token}", kind.as_str()));
            context.insert("email", &subscriber.email);
            context.insert("already", &(subscriber.status.as_str() == "unsubscribed"));
            if kind == LinkKind::Keep {
                context.insert("words", &state.words("keep", Some(&subscriber.email)));
            }
            state.page(StatusCode::OK, template, &context)
        }
        Err(err) => invalid_link(state, kind, err),
    }
}

/// The re-permission message's "keep me" link: a page with a button.
async fn keep_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    button_page(&state, LinkKind::Keep, &token, "web/keep.html").await
}

async fn keep(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
) -> Response {
    let list_name = state.settings().list_name();
    let list = list_name.as_str();
    match readers::keep(&state, &token, client.ip_string()).await {
        Ok(Kept::Kept { email }) => message_page(
            &state,
            &state.text("kept-title", &[]),
            &state.text(
                "kept-message",
                &[("list", list.into()), ("email", email.into())],
            ),
        ),
        Ok(Kept::NotSubscribed { email }) => {
            let signup = format!("{}/subscribe", state.config.public_base());
            message_page(
                &state,
                &state.text("not-subscribed-title", &[]),
                &state.text(
                    "not-subscribed-message",
                    &[
                        ("email", email.into()),
                        ("list", list.into()),
                        ("url", signup.into()),
                    ],
                ),
            )
        }
        Err(err) => invalid_link(&state, LinkKind::Keep, err),
    }
}

async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match readers::check_confirm_link(&state, &token) {
        Ok(()) => {
            let mut context = Context::new();
            context.insert("action", &format!("/confirm/{token}"));
            state.page(StatusCode::OK, "web/confirm.html", &context)
        }
        Err(err) => invalid_link(&state, LinkKind::Confirm, err),
    }
}

async fn confirm(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
) -> Response {
    match readers::confirm(&state, &token, client.ip_string()).await {
        Ok(()) => {
            let mut context = Context::new();
            context.insert("words", &state.words("confirmed", None));
            state.page(StatusCode::OK, "web/confirmed.html", &context)
        }
        Err(err) => invalid_link(&state, LinkKind::Confirm, err),
    }
}

/// Which kind of link was refused: the help differs for someone joining and someone leaving.
#[derive(Clone, Copy, PartialEq, Eq)]
enum LinkKind {
    Confirm,
    Unsubscribe,
    Keep,
}

impl LinkKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Confirm => "confirm",
            Self::Unsubscribe => "unsubscribe",
            Self::Keep => "keep",
        }
    }

    fn purpose(self) -> TokenPurpose {
        match self {
            Self::Confirm => TokenPurpose::Confirm,
            Self::Unsubscribe => TokenPurpose::Unsubscribe,
            Self::Keep => TokenPurpose::Keep,
        }
    }
}

/// An invalid, expired or spent link: a friendly page that offers a way forward.
fn invalid_link(state: &AppState, kind: LinkKind, err: LinkError) -> Response {
    let (status, reason) = match err {
        LinkError::Expired => (StatusCode::GONE, state.text("link-expired", &[])),
        LinkError::Invalid => (StatusCode::NOT_FOUND, state.text("link-invalid", &[])),
        LinkError::Unexpected(err) => return PageError::Unexpected(err).into_page(state),
    };
    let mut context = Context::new();
    context.insert("reason", &reason);
    context.insert("link_kind", kind.as_str());
    state.page(status, "web/link_invalid.html", &context)
}

async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    button_page(
        &state,
        LinkKind::Unsubscribe,
        &token,
        "web/unsubscribe.html",
    )
    .await
}

async fn unsubscribe(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    // RFC 8058: the mail client posts `List-Unsubscribe=One-Click`, urlencoded or multipart.
    let method = if contains(&body, b"List-Unsubscribe=One-Click") {
        UnsubscribeMethod::OneClick
    } else {
        UnsubscribeMethod::Page
    };
    match readers::unsubscribe(&state, &token, method, client.ip_string()).await {
        Ok(email) => {
            let mut context = Context::new();
            context.insert("email", &email);
            context.insert("words", &state.words("unsubscribed", Some(&email)));
            context.insert(
                "resubscribe_action",
                &format!("/unsubscribe/{token}/resubscribe"),
            );
            state.page(StatusCode::OK, "web/unsubscribed.html", &context)
        }
        Err(err) => invalid_link(&state, LinkKind::Unsubscribe, err),
    }
}

/// "Changed your mind?": the unsubscribed page's button. It starts double opt-in again,
/// exactly as a new signup would.
async fn resubscribe(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
) -> Response {
    // A link that is not ours says so before the signup limit counts it.
    if state
        .signer
        .verify(TokenPurpose::Unsubscribe, &token)
        .is_err()
    {
        return invalid_link(&state, LinkKind::Unsubscribe, LinkError::Invalid);
    }
    if let Some(ip) = client.ip
        && state.signup_limiter.refuses(&rate_limit_key(ip))
    {
        return PageError::TooManyRequests.into_page(&state);
    }
    match readers::resubscribe(
        &state,
        &token,
        client.ip_string(),
        client.user_agent.clone(),
    )
    .await
    {
        Ok(()) => thanks_page(&state),
        Err(err) => invalid_link(&state, LinkKind::Unsubscribe, err),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
