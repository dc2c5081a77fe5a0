//! How failures become responses: a page for visitors, JSON for the API. The full cause
//! goes to the log; the person sees a plain message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use tera::Context;

use super::AppState;

/// An error on a public page, shown as a friendly page with the right status.
#[derive(Debug)]
pub enum PageError {
    /// The request was wrong in a way the visitor can fix; the message (in the pages'
    /// language) says how.
    BadRequest(String),
    TooManyRequests,
    Unexpected(anyhow::Error),
}

impl From<anyhow::Error> for PageError {
    fn from(err: anyhow::Error) -> Self {
        Self::Unexpected(err)
    }
}

impl PageError {
    pub fn into_page(self, state: &AppState) -> Response {
        let (status, title, message) = match self {
            Self::BadRequest(message) => (
                StatusCode::BAD_REQUEST,
                state.text("error-check-title", &[]),
                message,
            ),
            Self::TooManyRequests => (
                StatusCode::TOO_MANY_REQUESTS,
                state.text("error-too-many-title", &[]),
                state.text("error-too-many-message", &[]),
            ),
            Self::Unexpected(err) => {
                tracing::error!(error = %format!("{err:#}"), "request failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    state.text("error-unexpected-title", &[]),
                    state.text("error-unexpected-message", &[]),
                )
            }
        };
        let mut context = Context::new();
        context.insert("title", &title);
        context.insert("message", &message);
        let mut response = state.page(status, "web/message.html", &context);
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        }
        response
    }
}

/// An error from the JSON API or the JSON signup.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    /// A field named at run time (a template's part), with the line at fault if known.
    #[error("{message}")]
    InvalidAt {
        field: String,
        line: Option<u32>,
        message: String,
    },
    #[error("a valid API token is required")]
    Unauthorized,
    #[error("not found")]
    NotFound,
    /// Not found, with a sentence saying what there is.
    #[error("{0}")]
    NoSuch(String),
    #[error("{0}")]
    Conflict(String),
    /// A body over the route's limit (413); the message says what the limit is.
    #[error("{0}")]
    TooLarge(String),
    /// A body of a kind the route does not take (415); the message says which it takes.
    #[error("{0}")]
    Unsupported(String),
    #[error("too many requests; try again in a minute")]
    TooManyRequests,
    #[error("something went wrong on our side")]
    Unexpected(#[from] anyhow::Error),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Invalid { .. } | Self::InvalidAt { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::NotFound | Self::NoSuch(_) => StatusCode::NOT_FOUND,
            Self::Conflict(_) => StatusCode::CONFLICT,
            Self::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unsupported(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Self::Unexpected(err) => {
                tracing::error!(error = %format!("{err:#}"), "API request failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        let body = match &self {
            Self::Invalid { field, message } => {
                serde_json::json!({ "error": message, "field": field })
            }
            Self::InvalidAt {
                field,
                line,
                message,
            } => serde_json::json!({ "error": message, "field": field, "line": line }),
            other => serde_json::json!({ "error": other.to_string() }),
        };
        let mut response = (status, Json(body)).into_response();
        match self {
            Self::Unauthorized => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::TooManyRequests => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
            }
            _ => {}
        }
        response
    }
}

/// A page that could not be rendered is a bug; say so plainly rather than panic.
pub fn render_failure(err: anyhow::Error) -> Response {
    tracing::error!(error = %format!("{err:#}"), "rendering a page failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html("<!doctype html><title>Error</title><p>Something went wrong on our side.</p>"),
    )
        .into_response()
}
