//! Signup: the hosted page, and `POST /subscribe` for forms and JSON (with CORS, so a
//! website's own form or script can post to it).
//!
//! Every accepted signup gets the same answer, whether the address is new, pending,
//! confirmed or unsubscribed, so nobody can learn who is on the list.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tera::Context;
use time::OffsetDateTime;
use tower_http::cors::{Any, CorsLayer};

use super::client::{Client, rate_limit_key};
use super::{ApiError, AppState, PageError, parse_person};
use crate::domain::{SignupSource, SubscriberEmail, SubscriberName};
use crate::signing::{Signer, TokenPurpose};
use crate::store::{SignupOutcome, SignupRequest, Timestamp};

/// A hosted-form token older than this is refused; the visitor just submits again.
const FORM_TOKEN_MAX_AGE: time::Duration = time::Duration::days(1);

const THANKS: &str = "Thanks! Check your inbox for a message from us and confirm your subscription with the button inside. If it hasn't arrived in a few minutes, look in your spam folder.";

pub fn router() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::POST])
        .allow_headers([header::CONTENT_TYPE]);
    Router::new().route(
        "/subscribe",
        get(subscribe_page).post(subscribe).layer(cors),
    )
}

#[derive(Deserialize, Default)]
struct Prefill {
    email: Option<String>,
}

async fn subscribe_page(State(state): State<AppState>, Query(prefill): Query<Prefill>) -> Response {
    let values = SignupForm {
        email: prefill.email.map(|e| e.chars().take(254).collect()),
        ..SignupForm::default()
    };
    form_page(&state, StatusCode::OK, &values, None, None)
}

/// The fields of the signup form. `website` is the honeypot: hidden from people, filled
/// by bots. `form_token` is only on the hosted page and proves when it was shown.
#[derive(Deserialize, Default, Clone)]
struct SignupForm {
    email: Option<String>,
    name: Option<String>,
    website: Option<String>,
    form_token: Option<String>,
}

#[derive(Deserialize)]
struct JsonSignup {
    email: Option<String>,
    name: Option<String>,
    website: Option<String>,
}

async fn subscribe(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if let Some(ip) = client.ip
        && state.signup_limiter.check_key(&rate_limit_key(ip)).is_err()
    {
        tracing::info!("signup rate limit reached");
        return if is_json {
            ApiError::TooManyRequests.into_response()
        } else {
            PageError::TooManyRequests.into_page(&state)
        };
    }
    if is_json {
        json_signup(&state, &client, &body).await.into_response()
    } else {
        form_signup(&state, &client, &body).await
    }
}

async fn json_signup(state: &AppState, client: &Client, body: &[u8]) -> Result<Response, ApiError> {
    let input: JsonSignup = serde_json::from_slice(body).map_err(|err| {
        ApiError::BadRequest(format!("the body is not the JSON we expect: {err}"))
    })?;
    if input
        .website
        .as_deref()
        .is_some_and(|v| !v.trim().is_empty())
    {
        return Err(ApiError::BadRequest(
            "this signup could not be accepted".into(),
        ));
    }
    let (email, name) = parse_person(input.email.as_deref(), input.name.as_deref())?;
    sign_up(state, client, email, name, SignupSource::Json).await?;
    Ok((
        StatusCode::OK,
        axum::Json(serde_json::json!({ "status": "ok", "message": THANKS })),
    )
        .into_response())
}

async fn form_signup(state: &AppState, client: &Client, body: &[u8]) -> Response {
    let form: SignupForm = match serde_urlencoded::from_bytes(body) {
        Ok(form) => form,
        Err(_) => {
            return PageError::BadRequest(
                "The form could not be read. Please fill it in again.".into(),
            )
            .into_page(state);
        }
    };
    if form
        .website
        .as_deref()
        .is_some_and(|v| !v.trim().is_empty())
    {
        tracing::info!("signup refused: honeypot filled");
        return PageError::BadRequest("This signup could not be accepted.".into()).into_page(state);
    }
    let source = match form.form_token.as_deref() {
        None => SignupSource::WebsiteForm,
        Some(token) => {
            match check_fill_time(&state.signer, token, state.config.signup.min_fill_time) {
                Ok(()) => SignupSource::HostedForm,
                Err(message) => {
                    return form_page(state, StatusCode::BAD_REQUEST, &form, None, Some(message));
                }
            }
        }
    };
    let email = match SubscriberEmail::parse(form.email.as_deref().unwrap_or_default()) {
        Ok(email) => email,
        Err(err) => {
            return form_page(
                state,
                StatusCode::BAD_REQUEST,
                &form,
                Some("email"),
                Some(err.to_string()),
            );
        }
    };
    let name = match SubscriberName::parse_optional(form.name.as_deref()) {
        Ok(name) => name,
        Err(err) => {
            return form_page(
                state,
                StatusCode::BAD_REQUEST,
                &form,
                Some("name"),
                Some(err.to_string()),
            );
        }
    };
    match sign_up(state, client, email, name, source).await {
        Ok(()) => thanks_page(state),
        Err(err) => PageError::Unexpected(err).into_page(state),
    }
}

/// The thank-you page every accepted signup gets.
pub(super) fn thanks_page(state: &AppState) -> Response {
    let mut context = Context::new();
    context.insert("title", "Almost there");
    context.insert("message", THANKS);
    state.page(StatusCode::OK, "web/message.html", &context)
}

/// Records the signup and, when it queued a confirmation, wakes the sender.
pub(super) async fn sign_up(
    state: &AppState,
    client: &Client,
    email: SubscriberEmail,
    name: Option<SubscriberName>,
    source: SignupSource,
) -> anyhow::Result<()> {
    let request = SignupRequest {
        email,
        name,
        source,
        ip: client.ip_string(),
        user_agent: client.user_agent.clone(),
        consent_text_version: state.consent_version.to_string(),
        now: Timestamp::now(),
        resend_after: time::Duration::try_from(state.config.signup.confirmation_interval)
            .unwrap_or(time::Duration::minutes(10)),
        message_domain: state.config.sending_domain().to_string(),
    };
    // The store's work runs to completion even if the visitor's connection drops meanwhile,
    // so a signup is either wholly recorded with its confirmation queued, or not at all.
    let store = state.store.clone();
    let outcome = super::to_completion(async move { store.signup(&request).await }).await?;
    tracing::info!(source = source.as_str(), outcome = ?outcome, "signup");
    if matches!(
        outcome,
        SignupOutcome::Created | SignupOutcome::ConfirmationQueued
    ) {
        state.message_queued();
    }
    Ok(())
}

/// The hosted form refuses submissions faster than a person can type.
fn check_fill_time(
    signer: &Signer,
    token: &str,
    min_fill: std::time::Duration,
) -> Result<(), String> {
    let again = "Please check the form and press the button again.";
    let claims = signer
        .verify(TokenPurpose::FormShown, token)
        .map_err(|_| again.to_string())?;
    let shown = claims.time.ok_or_else(|| again.to_string())?;
    let elapsed = OffsetDateTime::now_utc() - shown;
    if elapsed < time::Duration::try_from(min_fill).unwrap_or_default() {
        return Err(
            "That was quicker than we expected. Please check the form and press the button again."
                .into(),
        );
    }
    if elapsed > FORM_TOKEN_MAX_AGE {
        return Err("This page was open a long time. Please press the button again.".into());
    }
    Ok(())
}

/// The hosted form, with what the visitor typed and, after a refusal, the message and the
/// field at fault (marked for screen readers and focused).
fn form_page(
    state: &AppState,
    status: StatusCode,
    values: &SignupForm,
    error_field: Option<&'static str>,
    error: Option<String>,
) -> Response {
    let token = state.signer.sign(
        TokenPurpose::FormShown,
        uuid::Uuid::nil(),
        Some(OffsetDateTime::now_utc()),
    );
    let mut context = Context::new();
    context.insert("form_token", &token);
    context.insert("email", &values.email.clone().unwrap_or_default());
    context.insert("name", &values.name.clone().unwrap_or_default());
    context.insert("error", &error);
    context.insert("error_field", &error_field);
    context.insert("consent_text", &state.config.consent_text);
    state.page(status, "web/subscribe.html", &context)
}
