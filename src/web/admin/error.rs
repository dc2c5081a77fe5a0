//! How an admin page says what went wrong: the `AdminError` a handler returns (with `?` on
//! anything that fails unexpectedly), shown as a page in the admin layout with the status
//! it deserves.
//!
//! The layout needs the owner (their address, the CSRF token of the logout form), which an
//! error made by `?` does not have. So an error becomes a bare response that carries its
//! title and message (`Problem`), and `require_owner`, which wraps every owner page and
//! knows the owner, turns that into the page (`shown`). Handlers stay "extract, call,
//! answer".

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tera::Context;

use super::{MAX_ADMIN_BODY_BYTES, Owner, page};
use crate::web::AppState;

/// Why an admin page could not be shown as asked, in the owner's words.
#[derive(Debug)]
pub enum AdminError {
    /// What the address names is not there (404).
    NotFound {
        title: &'static str,
        message: String,
    },
    /// The request cannot be taken as sent; the message says how to fix it (400).
    BadRequest {
        title: &'static str,
        message: String,
    },
    /// A form value is out of bounds (422).
    Invalid {
        title: &'static str,
        message: String,
    },
    /// The thing is not in a state that allows this now (409).
    Conflict {
        title: &'static str,
        message: String,
    },
    /// A form or upload over the admin limit (413).
    TooLarge,
    /// Anything else: logged in full, shown plainly (500).
    Unexpected(anyhow::Error),
}

impl From<anyhow::Error> for AdminError {
    fn from(err: anyhow::Error) -> Self {
        Self::Unexpected(err)
    }
}

impl AdminError {
    pub fn no_subscriber() -> Self {
        Self::NotFound {
            title: "No such subscriber",
            message: "There is no subscriber at this address. They may have been erased; the list of subscribers shows everyone on it.".into(),
        }
    }

    pub fn no_campaign() -> Self {
        Self::NotFound {
            title: "No such campaign",
            message: "There is no campaign at this address. It may have been mistyped; the Campaigns page lists every one.".into(),
        }
    }

    /// An inbound message (a bounce, complaint or reply waiting for the owner's word).
    pub fn no_message() -> Self {
        Self::NotFound {
            title: "No such message",
            message: "There is no inbound message with this number. The subscriber it was about may have been erased.".into(),
        }
    }

    /// A subscriber's reply the owner answers.
    pub fn no_reply() -> Self {
        Self::NotFound {
            title: "No such reply",
            message:
                "This subscriber has no reply to answer there. It may have been erased with them."
                    .into(),
        }
    }

    /// An image on the media page.
    pub fn no_media() -> Self {
        Self::NotFound {
            title: "No such image",
            message: "There is no image at this address. It may have been deleted; the Images page lists every one.".into(),
        }
    }

    /// An API token; a 400, as this answer has always been (a token's id is only ever in
    /// the tokens page's own forms).
    pub fn no_token() -> Self {
        Self::BadRequest {
            title: "Please check that again",
            message: "There is no such token.".into(),
        }
    }

    /// The status and what the page says; an unexpected error is logged here, once.
    fn problem(self) -> (StatusCode, Problem) {
        let (status, title, message) = match self {
            Self::NotFound { title, message } => (StatusCode::NOT_FOUND, title, message),
            Self::BadRequest { title, message } => (StatusCode::BAD_REQUEST, title, message),
            Self::Invalid { title, message } => (StatusCode::UNPROCESSABLE_ENTITY, title, message),
            Self::Conflict { title, message } => (StatusCode::CONFLICT, title, message),
            Self::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "That is too large",
                format!(
                    "What was sent is over the {} MB a form here takes. If it is a CSV file to import, split it into smaller files and import them one after another (rows already on the list are skipped, never doubled), or import it on the server with the command “hundred import”.",
                    MAX_ADMIN_BODY_BYTES / (1024 * 1024)
                ),
            ),
            Self::Unexpected(err) => {
                tracing::error!(error = %format!("{err:#}"), "admin request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "Something went wrong on our side. The details are in the service's log."
                        .to_string(),
                )
            }
        };
        (status, Problem { title, message })
    }

    /// The page for this error, for a caller that has the owner at hand.
    pub fn page(self, state: &AppState, owner: &Owner) -> Response {
        let (status, problem) = self.problem();
        problem.page(state, owner, status)
    }
}

/// What the problem page says, carried on the response until the owner is known.
#[derive(Debug, Clone)]
pub struct Problem {
    title: &'static str,
    message: String,
}

impl Problem {
    fn page(&self, state: &AppState, owner: &Owner, status: StatusCode) -> Response {
        let mut context = Context::new();
        context.insert("title", self.title);
        context.insert("message", &self.message);
        let mut response = page(state, owner, "", "web/admin/message.html", &mut context);
        *response.status_mut() = status;
        response
    }
}

impl IntoResponse for AdminError {
    /// The status and the words as plain text, with the `Problem` for `shown` to lay out;
    /// every owner page passes through `shown`, so the text is only a fallback.
    fn into_response(self) -> Response {
        let (status, problem) = self.problem();
        let text = format!("{}\n\n{}", problem.title, problem.message);
        let mut response = (status, text).into_response();
        response.extensions_mut().insert(problem);
        response
    }
}

/// A handler's response, with an `AdminError` in it laid out as the admin problem page.
pub fn shown(mut response: Response, state: &AppState, owner: &Owner) -> Response {
    match response.extensions_mut().remove::<Problem>() {
        Some(problem) => problem.page(state, owner, response.status()),
        None => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_status_and_carries_its_words_to_the_layout() {
        let cases = [
            (AdminError::no_subscriber(), StatusCode::NOT_FOUND),
            (
                AdminError::BadRequest {
                    title: "t",
                    message: "m".into(),
                },
                StatusCode::BAD_REQUEST,
            ),
            (
                AdminError::Invalid {
                    title: "t",
                    message: "m".into(),
                },
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            (
                AdminError::Conflict {
                    title: "t",
                    message: "m".into(),
                },
                StatusCode::CONFLICT,
            ),
            (AdminError::TooLarge, StatusCode::PAYLOAD_TOO_LARGE),
        ];
        for (error, status) in cases {
            let response = error.into_response();
            assert_eq!(response.status(), status);
            assert!(response.extensions().get::<Problem>().is_some());
        }
    }

    #[test]
    fn an_unexpected_error_is_shown_plainly_without_its_cause() {
        let error: AdminError = anyhow::anyhow!("database password is hunter2").into();
        let response = error.into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let problem = response.extensions().get::<Problem>().cloned();
        let problem = problem.expect("the words for the page");
        assert_eq!(problem.title, "Something went wrong");
        assert!(!problem.message.contains("hunter2"));
    }
}
