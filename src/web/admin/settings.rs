//! `/admin/settings`: the owner's settings, edited here (`owner_settings.rs` saves them),
//! the configuration the environment gives (every secret masked), and a check of the mail
//! settings: one test message sent straight through the transport, with the mail server's
//! answer, or its refusal, shown on the page.

use std::time::Duration;

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tera::Context;

use super::{Owner, page};
use crate::domain::{Language, SubscriberEmail};
use crate::mail::SendError;
use crate::web::AppState;
use crate::web::routes::Routes;

/// How long the page waits for the mail server.
const SEND_TIMEOUT: Duration = Duration::from_secs(15);

pub fn routes() -> Routes {
    Routes::new()
        .route(
            "/admin/settings",
            get(settings_page).post(super::owner_settings::save),
        )
        .route("/admin/settings/test-message", post(send_test_message))
}

#[derive(Serialize)]
struct Setting {
    name: String,
    value: String,
}

/// How the test went, in words for the page.
#[derive(Serialize)]
pub struct TestOutcome {
    sent: bool,
    message: String,
}

#[derive(Deserialize)]
struct Shown {
    saved: Option<String>,
}

async fn settings_page(
    State(state): State<AppState>,
    owner: Owner,
    axum::extract::Query(shown): axum::extract::Query<Shown>,
) -> Response {
    let to = owner.email.clone();
    let form = Edited {
        saved: shown.saved.is_some(),
        ..Edited::default()
    };
    render(&state, &owner, &to, None, &form, StatusCode::OK).await
}

/// The settings form as the owner left it: what they typed and what was wrong with it.
#[derive(Default)]
pub struct Edited {
    pub typed: std::collections::HashMap<String, String>,
    /// The setting refused and why.
    pub problem: Option<(String, String)>,
    pub saved: bool,
}

/// An uploaded image as the logo's select offers it.
#[derive(Serialize)]
struct Choice {
    id: String,
    name: String,
    path: String,
}

/// The images the logo can be chosen from, newest first.
const LOGO_CHOICES: i64 = 500;

pub async fn render(
    state: &AppState,
    owner: &Owner,
    to: &str,
    outcome: Option<TestOutcome>,
    form: &Edited,
    status: StatusCode,
) -> Response {
    let images: Vec<Choice> = match state.store.media_list(LOGO_CHOICES, 0).await {
        Ok(records) => records
            .into_iter()
            .map(|image| Choice {
                id: image.id.to_string(),
                name: format!(
                    "{} ({}×{} px)",
                    image.original_name.clone().unwrap_or_else(|| image.path()),
                    image.width,
                    image.height
                ),
                path: image.path(),
            })
            .collect(),
        Err(err) => return super::AdminError::from(err).into_response(),
    };
    let owner_settings: Vec<_> = crate::actions::settings::shown(state)
        .into_iter()
        .map(|mut shown| {
            if let Some(typed) = form.typed.get(shown.key) {
                shown.text = typed.clone();
            }
            shown
        })
        .collect();
    let settings: Vec<Setting> = state
        .config
        .masked_summary()
        .into_iter()
        .map(|(name, value)| Setting { name, value })
        .collect();
    let mut context = Context::new();
    context.insert("settings", &settings);
    context.insert("owner_settings", &owner_settings);
    let languages: Vec<_> = Language::ALL
        .iter()
        .map(|language| serde_json::json!({ "code": language.code(), "name": language.name() }))
        .collect();
    context.insert("languages", &languages);
    context.insert("images", &images);
    context.insert("problem_key", &form.problem.as_ref().map(|(key, _)| key));
    context.insert(
        "problem",
        &form.problem.as_ref().map(|(_, problem)| problem),
    );
    context.insert("saved", &form.saved);
    context.insert("to", to);
    context.insert("outcome", &outcome);
    context.insert("smtp", &state.config.smtp_url.is_some());
    context.insert("outbox", &state.config.outbox_dir.display().to_string());
    let mut response = page(
        state,
        owner,
        "settings",
        "web/admin/settings.html",
        &mut context,
    );
    *response.status_mut() = status;
    response
}

#[derive(Deserialize)]
struct TestForm {
    to: Option<String>,
}

async fn send_test_message(
    State(state): State<AppState>,
    owner: Owner,
    Form(form): Form<TestForm>,
) -> Response {
    let typed: String = form.to.unwrap_or_default().chars().take(254).collect();
    let address = match SubscriberEmail::parse(&typed)
        .map_err(|err| err.to_string())
        .and_then(|email| {
            email
                .ascii()
                .parse::<lettre::Address>()
                .map_err(|err| format!("That address cannot be used: {err}"))
        }) {
        Ok(address) => address,
        Err(message) => {
            let outcome = TestOutcome {
                sent: false,
                message,
            };
            return render(
                &state,
                &owner,
                &typed,
                Some(outcome),
                &Edited::default(),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await;
        }
    };
    let outcome = match send(&state, address).await {
        Ok(reply) => TestOutcome {
            sent: true,
            message: reply,
        },
        Err(problem) => TestOutcome {
            sent: false,
            message: problem,
        },
    };
    tracing::info!(sent = outcome.sent, "test message");
    render(
        &state,
        &owner,
        &typed,
        Some(outcome),
        &Edited::default(),
        StatusCode::OK,
    )
    .await
}

/// Sends the test message; the answer says what happened in the owner's words, with the
/// mail server's own text.
async fn send(state: &AppState, to: lettre::Address) -> Result<String, String> {
    let composed = state
        .composer
        .test_message(to.clone())
        .map_err(|err| format!("The test message could not be put together: {err:#}"))?;
    let stem = format!("test-{}", uuid::Uuid::now_v7().simple());
    let sending = state
        .transport
        .send(&composed.envelope, &composed.bytes, &stem);
    match tokio::time::timeout(SEND_TIMEOUT, sending).await {
        Err(_) => Err(format!(
            "The mail server did not answer within {} seconds. Check the host and port in HUNDRED_SMTP_URL, and that this machine may reach it.",
            SEND_TIMEOUT.as_secs()
        )),
        Ok(Ok(reply)) if state.config.smtp_url.is_some() => Ok(format!(
            "The mail server accepted the message for {to}. Its answer: {reply}"
        )),
        Ok(Ok(_)) => Ok(format!(
            "No mail server is set (HUNDRED_SMTP_URL), so the message was written as an .eml file to {}.",
            state.config.outbox_dir.display()
        )),
        Ok(Err(SendError::Permanent(reply))) => Err(format!(
            "The mail server refused the message. Its answer: {}{}",
            sentence(&without_repeats(&reply)),
            hint(&reply)
        )),
        Ok(Err(SendError::Transient(reply))) => Err(format!(
            "The message could not be sent: {}{}",
            sentence(&without_repeats(&reply)),
            hint(&reply)
        )),
    }
}

/// An error's text with a cause that repeats the one before it said once
/// ("550: No such user: No such user" → "550: No such user").
fn without_repeats(text: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split(": ") {
        if parts.last() != Some(&part) {
            parts.push(part);
        }
    }
    parts.join(": ")
}

/// `text` ending with a full stop.
fn sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// What to look at, for the failures whose cause is in the settings.
fn hint(reply: &str) -> &'static str {
    let reply = reply.to_ascii_lowercase();
    if reply.contains("authentication") || reply.contains("(535)") {
        " Check the user name and password in HUNDRED_SMTP_URL."
    } else if reply.starts_with("connecting to") {
        " Check the host and port in HUNDRED_SMTP_URL, and that the mail server is running."
    } else if reply.contains("tls") {
        " Check the TLS setting in HUNDRED_SMTP_URL (smtps:// or ?tls=required)."
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_repeated_cause_is_said_once() {
        assert_eq!(
            without_repeats("permanent error (550): 5.1.1 No such user: 5.1.1 No such user"),
            "permanent error (550): 5.1.1 No such user"
        );
        assert_eq!(without_repeats("a: b: a"), "a: b: a");
    }
}
