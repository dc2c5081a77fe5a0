//! `POST /inbound/mime`: a raw RFC 5322 message from a mail system's webhook or pipe,
//! behind `Authorization: Bearer HUNDRED_INBOUND_SECRET`. Off (404) when no secret is set.
//! Both are checked on the request's head, before its body is read.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use sha2::{Digest, Sha256};

use super::AppState;
use crate::inbound::MAX_MESSAGE_BYTES;
use crate::inbound::receive::ReceiveError;

/// The inbound route with its own body limit: mail is larger than any form.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/inbound/mime", post(inbound_mime))
        .layer(DefaultBodyLimit::max(MAX_MESSAGE_BYTES))
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, Json(serde_json::json!({ "error": message }))).into_response()
}

/// Compares digests, so the time taken says nothing about the secret.
fn secret_matches(given: &str, secret: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(secret.as_bytes())
}

/// A refusal sent before the body was read: the connection cannot carry another request.
fn refuse(status: StatusCode, message: &str) -> Response {
    let mut response = error(status, message);
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Proof that the request carries the webhook's secret (and that the webhook is on). An
/// extractor on the request's head: the handler's body is read only once this passed, so a
/// stranger cannot make us read (or wait for) 10 MB before being refused.
struct WebhookCaller;

impl FromRequestParts<AppState> for WebhookCaller {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Some(secret) = &state.config.inbound_secret else {
            return Err(refuse(
                StatusCode::NOT_FOUND,
                "inbound mail is off (set HUNDRED_INBOUND_SECRET)",
            ));
        };
        let given = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .unwrap_or_default();
        if !secret_matches(given.trim(), secret.expose()) {
            let mut response = refuse(
                StatusCode::UNAUTHORIZED,
                "Authorization: Bearer HUNDRED_INBOUND_SECRET is required",
            );
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return Err(response);
        }
        Ok(Self)
    }
}

async fn inbound_mime(State(state): State<AppState>, _: WebhookCaller, body: Bytes) -> Response {
    // The one door all inbound mail goes through (the SMTP listener and IMAP too).
    let inbox = state.inbox();
    // On its own task: a sender that hangs up mid-request does not cut the transaction.
    let received = tokio::spawn(async move { inbox.receive(&body).await }).await;
    match received {
        Ok(Ok(received)) => (StatusCode::OK, Json(received)).into_response(),
        Ok(Err(ReceiveError::NotMail(reason))) => error(StatusCode::UNPROCESSABLE_ENTITY, &reason),
        Ok(Err(ReceiveError::Store(err))) => {
            tracing::error!(error = %format!("{err:#}"), "could not store an inbound message");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "could not store the message; send it again later",
            )
        }
        Err(err) => {
            tracing::error!(error = %err, "receiving an inbound message failed");
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "something went wrong on our side",
            )
        }
    }
}
