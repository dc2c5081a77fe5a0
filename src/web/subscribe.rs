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
use super::{ApiError, AppState, PageError};
use crate::actions::readers::{self, Signup, SignupError, SignupForm};
use crate::signing::TokenPurpose;

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
    let values = FormFields {
        email: prefill.email.map(|e| e.chars().take(254).collect()),
        ..FormFields::default()
    };
    form_page(&state, StatusCode::OK, &values, None, None)
}

/// The fields of the signup form. `website` is the honeypot: hidden from people, filled
/// by bots. `form_token` is only on the hosted page and proves when it was shown.
#[derive(Deserialize, Default, Clone)]
struct FormFields {
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
        && state.signup_limiter.refuses(&rate_limit_key(ip))
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
    let signup = Signup {
        email: input.email.as_deref(),
        name: input.name.as_deref(),
        website: input.website.as_deref(),
        form: SignupForm::Json,
        ip: client.ip_string(),
        user_agent: client.user_agent.clone(),
    };
    readers::sign_up(state, signup)
        .await
        .map_err(|err| match err {
            SignupError::Invalid { field, message } => ApiError::Invalid { field, message },
            SignupError::Unexpected(err) => ApiError::Unexpected(err),
            SignupError::Bot | SignupError::FormTime(_) => ApiError::BadRequest(err.to_string()),
        })?;
    Ok((
        StatusCode::OK,
        axum::Json(serde_json::json!({ "status": "ok", "message": THANKS })),
    )
        .into_response())
}

async fn form_signup(state: &AppState, client: &Client, body: &[u8]) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<FormFields>(body) else {
        return PageError::BadRequest(
            "The form could not be read. Please fill it in again.".into(),
        )
        .into_page(state);
    };
    let signup = Signup {
        email: form.email.as_deref(),
        name: form.name.as_deref(),
        website: form.website.as_deref(),
        form: match form.form_token.as_deref() {
            Some(shown) => SignupForm::Hosted { shown },
            None => SignupForm::Website,
        },
        ip: client.ip_string(),
        user_agent: client.user_agent.clone(),
    };
    match readers::sign_up(state, signup).await {
        Ok(()) => thanks_page(state),
        Err(err @ SignupError::Bot) => PageError::BadRequest(err.to_string()).into_page(state),
        Err(err @ SignupError::FormTime(_)) => form_page(
            state,
            StatusCode::BAD_REQUEST,
            &form,
            None,
            Some(err.to_string()),
        ),
        Err(SignupError::Invalid { field, message }) => form_page(
            state,
            StatusCode::BAD_REQUEST,
            &form,
            Some(field),
            Some(message),
        ),
        Err(SignupError::Unexpected(err)) => PageError::Unexpected(err).into_page(state),
    }
}

/// The thank-you page every accepted signup gets.
pub(super) fn thanks_page(state: &AppState) -> Response {
    let mut context = Context::new();
    context.insert("title", "Almost there");
    context.insert("message", THANKS);
    state.page(StatusCode::OK, "web/message.html", &context)
}

/// The hosted form, with what the visitor typed and, after a refusal, the message and the
/// field at fault (marked for screen readers and focused).
fn form_page(
    state: &AppState,
    status: StatusCode,
    values: &FormFields,
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
    context.insert("consent_text", &state.settings().consent_text);
    state.page(status, "web/subscribe.html", &context)
}
