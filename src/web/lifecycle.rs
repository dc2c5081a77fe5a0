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
use time::OffsetDateTime;

use super::client::{Client, rate_limit_key};
use super::subscribe::{sign_up, thanks_page};
use super::{AppState, PageError};
use crate::domain::{SignupSource, SubscriberEmail, UnsubscribeMethod};
use crate::signing::{TokenError, TokenPurpose};
use crate::store::{ConfirmOutcome, KeepOutcome, Timestamp, UnsubscribeOutcome};

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

/// The re-permission message's "keep me" link: a page with a button (scanners only GET).
async fn keep_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Ok(claims) = state.signer.verify(TokenPurpose::Keep, &token) else {
        return invalid_link(&state, LinkKind::Keep, TokenError::Invalid);
    };
    match state.store.subscriber(claims.subject).await {
        Ok(Some(subscriber)) => {
            let mut context = Context::new();
            context.insert("action", &format!("/keep/{token}"));
            context.insert("email", &subscriber.email);
            state.page(StatusCode::OK, "web/keep.html", &context)
        }
        Ok(None) => invalid_link(&state, LinkKind::Keep, TokenError::Invalid),
        Err(err) => PageError::Unexpected(err).into_page(&state),
    }
}

async fn keep(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
) -> Response {
    let Ok(claims) = state.signer.verify(TokenPurpose::Keep, &token) else {
        return invalid_link(&state, LinkKind::Keep, TokenError::Invalid);
    };
    let (store, ip) = (state.store.clone(), client.ip_string());
    let outcome = super::to_completion(async move {
        store
            .keep_subscriber(claims.subject, ip.as_deref(), Timestamp::now())
            .await
    })
    .await;
    let mut context = Context::new();
    match outcome {
        Ok(KeepOutcome::Kept { email }) => {
            tracing::info!(subscriber = %claims.subject, "kept after a re-permission request");
            context.insert("title", "Thank you");
            context.insert(
                "message",
                &format!("We'll keep sending {} to {email}.", state.config.list_name),
            );
            state.page(StatusCode::OK, "web/message.html", &context)
        }
        Ok(KeepOutcome::NotSubscribed { email }) => {
            context.insert("title", "You're not on the list");
            context.insert(
                "message",
                &format!(
                    "{email} no longer receives {}. To get it again, sign up at {}/subscribe.",
                    state.config.list_name,
                    state.config.public_base()
                ),
            );
            state.page(StatusCode::OK, "web/message.html", &context)
        }
        Ok(KeepOutcome::Unknown) => invalid_link(&state, LinkKind::Keep, TokenError::Invalid),
        Err(err) => PageError::Unexpected(err).into_page(&state),
    }
}

async fn confirm_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state
        .signer
        .verify_unexpired(TokenPurpose::Confirm, &token, OffsetDateTime::now_utc())
    {
        Ok(_) => {
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
    let claims = match state.signer.verify_unexpired(
        TokenPurpose::Confirm,
        &token,
        OffsetDateTime::now_utc(),
    ) {
        Ok(claims) => claims,
        Err(err) => return invalid_link(&state, LinkKind::Confirm, err),
    };
    let (store, ip, domain) = (
        state.store.clone(),
        client.ip_string(),
        state.config.sending_domain().to_string(),
    );
    let outcome = super::to_completion(async move {
        store
            .confirm(claims.subject, ip.as_deref(), Timestamp::now(), &domain)
            .await
    })
    .await;
    match outcome {
        Ok(ConfirmOutcome::Confirmed) => {
            tracing::info!(subscriber = %claims.subject, "subscriber confirmed");
            state.message_queued();
            confirmed_page(&state)
        }
        Ok(ConfirmOutcome::AlreadyConfirmed) => confirmed_page(&state),
        Ok(ConfirmOutcome::NotPending | ConfirmOutcome::Unknown) => {
            invalid_link(&state, LinkKind::Confirm, TokenError::Invalid)
        }
        Err(err) => PageError::Unexpected(err).into_page(&state),
    }
}

fn confirmed_page(state: &AppState) -> Response {
    state.page(StatusCode::OK, "web/confirmed.html", &Context::new())
}

/// Which kind of link was refused: the help differs for someone joining and someone leaving.
#[derive(Clone, Copy)]
enum LinkKind {
    Confirm,
    Unsubscribe,
    Keep,
}

/// An invalid, expired or spent link: a friendly page that offers a way forward.
fn invalid_link(state: &AppState, kind: LinkKind, err: TokenError) -> Response {
    let (status, reason) = match err {
        TokenError::Expired => (StatusCode::GONE, "This link has expired."),
        TokenError::Invalid => (StatusCode::NOT_FOUND, "This link isn't valid (any more)."),
    };
    let mut context = Context::new();
    context.insert("reason", reason);
    context.insert(
        "link_kind",
        match kind {
            LinkKind::Confirm => "confirm",
            LinkKind::Unsubscribe => "unsubscribe",
            LinkKind::Keep => "keep",
        },
    );
    state.page(status, "web/link_invalid.html", &context)
}

async fn unsubscribe_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Ok(claims) = state.signer.verify(TokenPurpose::Unsubscribe, &token) else {
        return invalid_link(&state, LinkKind::Unsubscribe, TokenError::Invalid);
    };
    match state.store.subscriber(claims.subject).await {
        Ok(Some(subscriber)) => {
            let mut context = Context::new();
            context.insert("action", &format!("/unsubscribe/{token}"));
            context.insert("email", &subscriber.email);
            context.insert("already", &(subscriber.status.as_str() == "unsubscribed"));
            state.page(StatusCode::OK, "web/unsubscribe.html", &context)
        }
        Ok(None) => invalid_link(&state, LinkKind::Unsubscribe, TokenError::Invalid),
        Err(err) => PageError::Unexpected(err).into_page(&state),
    }
}

async fn unsubscribe(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    let Ok(claims) = state.signer.verify(TokenPurpose::Unsubscribe, &token) else {
        return invalid_link(&state, LinkKind::Unsubscribe, TokenError::Invalid);
    };
    // RFC 8058: the mail client posts `List-Unsubscribe=One-Click`, urlencoded or multipart.
    let method = if contains(&body, b"List-Unsubscribe=One-Click") {
        UnsubscribeMethod::OneClick
    } else {
        UnsubscribeMethod::Page
    };
    let (store, ip) = (state.store.clone(), client.ip_string());
    let outcome = super::to_completion(async move {
        store
            .unsubscribe(claims.subject, method, ip.as_deref(), Timestamp::now())
            .await
    })
    .await;
    match outcome {
        Ok(UnsubscribeOutcome::Unsubscribed { email }) => {
            tracing::info!(subscriber = %claims.subject, method = method.as_str(), "unsubscribed");
            let mut context = Context::new();
            context.insert("email", &email);
            context.insert(
                "resubscribe_action",
                &format!("/unsubscribe/{token}/resubscribe"),
            );
            state.page(StatusCode::OK, "web/unsubscribed.html", &context)
        }
        Ok(UnsubscribeOutcome::Unknown) => {
            invalid_link(&state, LinkKind::Unsubscribe, TokenError::Invalid)
        }
        Err(err) => PageError::Unexpected(err).into_page(&state),
    }
}

/// "Changed your mind?": the unsubscribed page's button. It starts double opt-in again,
/// exactly as a new signup would.
async fn resubscribe(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
) -> Response {
    let Ok(claims) = state.signer.verify(TokenPurpose::Unsubscribe, &token) else {
        return invalid_link(&state, LinkKind::Unsubscribe, TokenError::Invalid);
    };
    if let Some(ip) = client.ip
        && state.signup_limiter.check_key(&rate_limit_key(ip)).is_err()
    {
        return PageError::TooManyRequests.into_page(&state);
    }
    let subscriber = match state.store.subscriber(claims.subject).await {
        Ok(Some(subscriber)) => subscriber,
        Ok(None) => return invalid_link(&state, LinkKind::Unsubscribe, TokenError::Invalid),
        Err(err) => return PageError::Unexpected(err).into_page(&state),
    };
    let Ok(email) = SubscriberEmail::parse(&subscriber.email) else {
        return invalid_link(&state, LinkKind::Unsubscribe, TokenError::Invalid);
    };
    let name = subscriber.name.as_deref().and_then(|n| {
        crate::domain::SubscriberName::parse_optional(Some(n))
            .ok()
            .flatten()
    });
    match sign_up(&state, &client, email, name, SignupSource::HostedForm).await {
        Ok(()) => thanks_page(&state),
        Err(err) => PageError::Unexpected(err).into_page(&state),
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
