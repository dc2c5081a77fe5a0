//! The HTTP side: public pages (signup, confirm, unsubscribe), the JSON API, health.
//!
//! Each module owns its routes; they are merged here, with the layers every request goes
//! through (body limit, timeout, security headers, tracing).
//!
//! Layer: the top, beside `cli`. A handler extracts its input, calls one use case in
//! `actions` and answers (`ApiError`, `AdminError`, `PageError`); the checks and refusals
//! live in `actions`, not here. It may import everything below; nothing but `app` imports
//! it.

pub mod admin;
mod api;
mod archive;
mod client;
mod error;
mod health;
mod inbound;
mod lifecycle;
mod limits;
mod media;
mod own_page;
pub mod routes;
mod subscribe;
mod track;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tera::Context;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::actions::Services;
use crate::domain::Language;
use crate::i18n;
use crate::mail::render::page_words;
use crate::templates::editable::{OwnerTemplates, TemplateName};
use crate::tracking::Tracker;

pub use client::Client;
pub use error::{ApiError, PageError};

/// Request bodies larger than this are refused with 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Everything a handler needs; one shared copy (axum clones the state for every request,
/// which is then one reference count).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    /// What every use case needs (store, signer, templates, transport, wake-ups); its
    /// fields read as the state's own (`state.store`).
    pub services: Services,
    pub signup_limiter: Arc<limits::SignupLimiter>,
    /// Login attempts, keyed by client IP and by the address tried.
    pub login_limiter: Arc<DefaultKeyedRateLimiter<String>>,
    /// Requests to the readers' own pages and web versions, keyed by client IP.
    pub reader_limiter: Arc<DefaultKeyedRateLimiter<std::net::IpAddr>>,
    /// Takes opens and clicks to the event writer.
    pub tracker: Tracker,
}

impl std::ops::Deref for Shared {
    type Target = Services;
    fn deref(&self) -> &Services {
        &self.services
    }
}

impl AppState {
    /// The state for the prepared services; `tracker` takes opens and clicks to the
    /// event writer the application runs.
    pub fn new(services: Services, tracker: Tracker) -> Self {
        Self(Arc::new(Shared {
            signup_limiter: Arc::new(limits::SignupLimiter::new(services.live.clone())),
            services,
            login_limiter: Arc::new(RateLimiter::keyed(login_quota())),
            reader_limiter: Arc::new(RateLimiter::keyed(reader_quota())),
            tracker,
        }))
    }

    /// The language of the public pages: their `lang` and their words. Read here only.
    pub fn language(&self) -> Language {
        self.settings().language
    }

    /// A sentence a public page shows that is built in code, in the pages' language.
    pub fn text(&self, key: &str, args: &[(&str, i18n::Arg<'_>)]) -> String {
        i18n::text(self.language(), key, args)
    }

    /// The words the owner wrote for the public page `page` (`subscribe`, `thanks`,
    /// `confirmed`, `unsubscribed`, `keep`), as HTML, with `email` where the page knows it.
    /// Should the owner's words fail here after all, the shipped ones show.
    pub fn words(&self, page: &str, email: Option<&str>) -> String {
        let current = self.settings();
        let mut values = Context::new();
        values.insert("lang", self.language().code());
        values.insert("list_name", &current.list_name());
        values.insert("email", email.unwrap_or_default());
        let Some(name) = TemplateName::parse(&format!("page/{page}")) else {
            return String::new();
        };
        let source = |templates: &OwnerTemplates| {
            templates
                .resolve(&name)
                .and_then(|resolved| resolved.parts.get("body").cloned())
                .unwrap_or_default()
        };
        match page_words(&source(&current.templates), &values) {
            Ok(html) => html,
            Err(err) => {
                tracing::warn!(page, error = %err, "the owner's page words failed; the shipped ones show");
                page_words(&source(&OwnerTemplates::default()), &values).unwrap_or_default()
            }
        }
    }

    /// Renders a page template with the list name, its look (`brand`: the accent's
    /// colours, the logo from the site's root) and the language every page uses (a page
    /// that sets its own `lang`, as the owner's login does, keeps it).
    pub fn page(&self, status: StatusCode, template: &str, context: &Context) -> Response {
        let mut context = context.clone();
        let current = self.settings();
        context.insert("list_name", &current.list_name());
        context.insert("brand", &current.brand(""));
        if !context.contains_key("lang") {
            context.insert("lang", self.language().code());
        }
        match self.templates.render(template, &context) {
            Ok(body) => (status, Html(body)).into_response(),
            Err(err) => error::render_failure(err),
        }
    }
}

/// Ten login attempts in a row, then one every six seconds, per client and per address.
fn login_quota() -> Quota {
    Quota::per_minute(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN))
}

/// A reader's own page and web versions: sixty requests in a row, then one a second, per
/// client (a person reads and clicks a few buttons; a script hammering tokens is slowed).
fn reader_quota() -> Quota {
    Quota::per_second(NonZeroU32::MIN).allow_burst(NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN))
}

/// Every path under `/admin` that needs a session (the login and setup pages do not).
pub fn admin_paths() -> Vec<&'static str> {
    admin::owner_routes().paths().to_vec()
}

/// Every path under `/api/v1` (each needs a token).
pub fn api_paths() -> Vec<String> {
    api::routes()
        .paths()
        .iter()
        .map(|path| format!("/api/v1{path}"))
        .collect()
}

/// How long a request may take before it is answered 408.
const REQUEST_TIME: Duration = Duration::from_secs(30);
/// A CSV import of the largest file the form takes (10 MB, some 200,000 rows, each a new
/// subscriber with a confirmation message) takes 10 s on SQLite and 25 s on Postgres on an
/// idle 2-core machine (`benches/import.sh`); more on a busy one. The owner waits for its
/// report.
const IMPORT_TIME: Duration = Duration::from_secs(600);

/// Answers 408 when a request takes too long (work spawned with `to_completion` still
/// finishes). The import form gets longer: its report is the answer.
async fn time_limit(request: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let limit = if request.uri().path() == admin::IMPORT_PATH {
        IMPORT_TIME
    } else {
        REQUEST_TIME
    };
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// The whole application's routes and layers.
pub fn router(state: AppState) -> Router {
    // Forget idle per-IP limiter entries now and then, so memory stays flat.
    let limiter = state.signup_limiter.clone();
    let logins = state.login_limiter.clone();
    let readers = state.reader_limiter.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            let limiter = limiter.current();
            limiter.retain_recent();
            limiter.shrink_to_fit();
            logins.retain_recent();
            logins.shrink_to_fit();
            readers.retain_recent();
            readers.shrink_to_fit();
        }
    });

    // The open pixel and the click redirect are the hot path: a GIF or a 302 needs none of
    // the page headers, no body limit (they read no body), no time limit (they answer at
    // once) and no per-request trace. They join the router after the layers.
    let tracking = track::router().with_state(state.clone());
    Router::new()
        .merge(subscribe::router())
        .merge(archive::router())
        .merge(own_page::router(state.clone()))
        .merge(lifecycle::router())
        .merge(health::router())
        .nest("/api/v1", api::router(state.clone()))
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Inbound mail, images and the admin pages (a CSV import) have their own, larger
        // limits (an image's route reads its body itself, answering 413 in JSON). The
        // owner's pages read a request's body once, within that limit, before the handler
        // (for the CSRF token), and answer one over it with a page; the login and setup
        // forms have public-size limits of their own.
        .merge(inbound::router())
        .merge(media::router())
        .nest("/api/v1", api::upload_router(state.clone()))
        .merge(
            admin::router(state.clone())
                .layer(axum::extract::DefaultBodyLimit::max(admin::MAX_ADMIN_BODY_BYTES)),
        )
        .with_state(state)
        .layer(axum::middleware::from_fn(time_limit))
        .layer(header_unless_set(header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        // Confirm and unsubscribe URLs carry tokens: never leak them in a Referer.
        .layer(header_unless_set(header::REFERRER_POLICY, "no-referrer"))
        .layer(header_unless_set(
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ))
        .layer(TraceLayer::new_for_http())
        .merge(tracking)
}

/// A layer that gives every response `name: value` unless its handler set that header.
fn header_unless_set(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::if_not_present(name, HeaderValue::from_static(value))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::any;
    use tower::ServiceExt;

    use super::*;

    /// What the time limit answers for a request to `path` whose work takes `seconds`.
    async fn answer_after(path: &'static str, seconds: u64) -> StatusCode {
        Router::new()
            .route(
                path,
                any(move || async move {
                    tokio::time::sleep(Duration::from_secs(seconds)).await;
                    "done"
                }),
            )
            .layer(axum::middleware::from_fn(time_limit))
            .oneshot(Request::post(path).body(Body::empty()).unwrap())
            .await
            .unwrap()
            .status()
    }

    #[tokio::test(start_paused = true)]
    async fn a_slow_request_is_answered_408_but_an_import_has_ten_minutes() {
        assert_eq!(answer_after("/admin/campaigns", 29).await, StatusCode::OK);
        assert_eq!(
            answer_after("/admin/campaigns", 31).await,
            StatusCode::REQUEST_TIMEOUT
        );
        assert_eq!(answer_after(admin::IMPORT_PATH, 300).await, StatusCode::OK);
        assert_eq!(
            answer_after(admin::IMPORT_PATH, 601).await,
            StatusCode::REQUEST_TIMEOUT
        );
    }
}
