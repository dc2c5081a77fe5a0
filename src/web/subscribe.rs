//! Signup: the hosted page, and `POST /subscribe` for forms and JSON (with CORS, so a
//! website's own form or script can post to it).
//!
//! Every accepted signup gets the same answer, whether the address is new, pending,
//! confirmed or unsubscribed, so nobody can learn who is on the list.
//!
//! Readers get every answer in the list's language, the hosted page's and the JSON one a
//! website's script shows alike; what only a developer sees (a body that is not JSON)
//! stays in English, like the API.

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
use crate::actions::readers::{self, FillTime, Signup, SignupError, SignupForm};
use crate::domain::{EmailError, NameError, SubscriberEmail, SubscriberName};
use crate::signing::TokenPurpose;

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
    /// `archive` on the form under an archived issue.
    from: Option<String>,
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
            SignupError::Invalid { field, message } => ApiError::Invalid {
                field,
                message: refusal_key(field, input.email.as_deref(), input.name.as_deref())
                    .map(|key| state.text(key, &[]))
                    .unwrap_or(message),
            },
            SignupError::Unexpected(err) => ApiError::Unexpected(err),
            SignupError::Bot => ApiError::BadRequest(state.text("signup-refused", &[])),
            SignupError::FormTime(problem) => {
                ApiError::BadRequest(state.text(fill_time_key(problem), &[]))
            }
        })?;
    let thanks = state.text("thanks-message", &[]);
    Ok((
        StatusCode::OK,
        axum::Json(serde_json::json!({ "status": "ok", "message": thanks })),
    )
        .into_response())
}

async fn form_signup(state: &AppState, client: &Client, body: &[u8]) -> Response {
    let Ok(form) = serde_urlencoded::from_bytes::<FormFields>(body) else {
        return PageError::BadRequest(state.text("signup-unreadable", &[])).into_page(state);
    };
    let signup = Signup {
        email: form.email.as_deref(),
        name: form.name.as_deref(),
        website: form.website.as_deref(),
        form: match (form.form_token.as_deref(), form.from.as_deref()) {
            (Some(shown), Some("archive")) => SignupForm::Archive { shown },
            (Some(shown), _) => SignupForm::Hosted { shown },
            (None, _) => SignupForm::Website,
        },
        ip: client.ip_string(),
        user_agent: client.user_agent.clone(),
    };
    match readers::sign_up(state, signup).await {
        Ok(()) => thanks_page(state),
        Err(SignupError::Bot) => {
            PageError::BadRequest(state.text("signup-refused", &[])).into_page(state)
        }
        Err(SignupError::FormTime(problem)) => {
            let message = state.text(fill_time_key(problem), &[]);
            form_page(state, StatusCode::BAD_REQUEST, &form, None, Some(message))
        }
        Err(SignupError::Invalid { field, message }) => {
            let message = refusal_key(field, form.email.as_deref(), form.name.as_deref())
                .map(|key| state.text(key, &[]))
                .unwrap_or(message);
            form_page(
                state,
                StatusCode::BAD_REQUEST,
                &form,
                Some(field),
                Some(message),
            )
        }
        Err(SignupError::Unexpected(err)) => PageError::Unexpected(err).into_page(state),
    }
}

/// The message for a form filled in too fast or too late.
fn fill_time_key(problem: FillTime) -> &'static str {
    match problem {
        FillTime::Unproven => "signup-again",
        FillTime::TooQuick => "signup-too-quick",
        FillTime::TooOld => "signup-too-old",
    }
}

/// The message for a refused address or name, in the pages' language: the refusal read
/// again from what the visitor typed (the use case's sentence is the API's, in English).
fn refusal_key(field: &str, email: Option<&str>, name: Option<&str>) -> Option<&'static str> {
    match field {
        "email" => Some(
            match SubscriberEmail::parse(email.unwrap_or_default()).err()? {
                EmailError::Empty => "email-empty",
                EmailError::TooLong => "email-too-long",
                EmailError::MissingAt => "email-missing-at",
                EmailError::BadLocalPart => "email-bad-local-part",
                EmailError::BadDomain => "email-bad-domain",
                EmailError::Whitespace => "email-whitespace",
            },
        ),
        "name" => Some(name_problem_key(
            &SubscriberName::parse_optional(name).err()?,
        )),
        _ => None,
    }
}

/// The message key for a name that cannot be kept (the signup form, the reader's page).
pub(super) fn name_problem_key(problem: &NameError) -> &'static str {
    match problem {
        NameError::TooLong => "name-too-long",
        NameError::ControlCharacters => "name-control-characters",
    }
}

/// The thank-you page every accepted signup gets.
pub(super) fn thanks_page(state: &AppState) -> Response {
    let mut context = Context::new();
    context.insert("title", &state.text("thanks-title", &[]));
    context.insert("message", &state.text("thanks-message", &[]));
    context.insert("words", &state.words("thanks", None));
    state.page(StatusCode::OK, "web/message.html", &context)
}

/// What the signup form (`web/partials/signup_form.html`) needs, empty: the token that
/// says when it was shown and the consent text.
pub(super) fn form_context(state: &AppState) -> Context {
    let token = state.signer.sign(
        TokenPurpose::FormShown,
        uuid::Uuid::nil(),
        Some(OffsetDateTime::now_utc()),
    );
    let mut context = Context::new();
    context.insert("form_token", &token);
    context.insert("consent_text", &state.settings().consent_text());
    for empty in ["email", "name"] {
        context.insert(empty, "");
    }
    context.insert("error", &None::<String>);
    context.insert("error_field", &None::<String>);
    context.insert("from", &None::<String>);
    context
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
    let mut context = form_context(state);
    context.insert("email", &values.email.clone().unwrap_or_default());
    context.insert("name", &values.name.clone().unwrap_or_default());
    context.insert("error", &error);
    context.insert("error_field", &error_field);
    // A form from the archive stays one when it is shown again after a refusal.
    context.insert(
        "from",
        &values.from.as_deref().filter(|from| *from == "archive"),
    );
    context.insert("words", &state.words("subscribe", None));
    state.page(status, "web/subscribe.html", &context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Language;

    /// Every refusal the page translates names a message every language has.
    #[test]
    fn every_refusal_has_its_message() {
        let form = |email: &str, name: &str| (email.to_string(), name.to_string());
        let long = "x".repeat(300);
        let long_address = format!("{}@example.com", "x".repeat(70));
        let mut keys: Vec<&str> = [
            form("", ""),
            form(&long_address, ""),
            form("no-at.example.com", ""),
            form(".a@example.com", ""),
            form("a@example", ""),
            form("a b@example.com", ""),
        ]
        .iter()
        .map(|(email, name)| refusal_key("email", Some(email), Some(name)).unwrap_or("none"))
        .collect();
        keys.extend(
            [form("a@example.com", &long), form("a@example.com", "a\nb")]
                .iter()
                .map(|(email, name)| {
                    refusal_key("name", Some(email), Some(name)).unwrap_or("none")
                }),
        );
        keys.extend([FillTime::Unproven, FillTime::TooQuick, FillTime::TooOld].map(fill_time_key));
        let distinct: std::collections::BTreeSet<_> = keys.iter().collect();
        assert_eq!(distinct.len(), keys.len(), "{keys:?}");
        for key in keys {
            for language in Language::ALL {
                crate::i18n::try_text(language, key, &[])
                    .unwrap_or_else(|err| panic!("{key}: {err}"));
            }
        }
    }
}
