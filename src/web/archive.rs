//! The public archive: `/archive` (the public campaigns that went out, newest first, paged),
//! `/archive/{slug}` (one, as an anonymous reader gets it, with a signup form under it) and
//! `/archive/feed.xml` (Atom 1.0).
//!
//! The issue page shows the author's images, from wherever they are, so its policy lets
//! web images in; nothing else of the usual policy changes. Where the owner asks search
//! engines to keep out, every answer says so in `X-Robots-Tag` as well as in the page.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tera::Context;

use super::subscribe::form_context;
use super::{AppState, PageError};
use crate::actions::archive::{self, ArchiveRefusal};

/// The policy of an issue page: the usual one, with images from the web.
const ISSUE_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data: https: http:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/archive", get(archive_page))
        .route("/archive/feed.xml", get(feed))
        .route("/archive/{slug}", get(issue_page))
}

#[derive(Deserialize, Default)]
struct PageQuery {
    /// Kept as text, so `?page=x` is the first page rather than a refusal.
    page: Option<String>,
}

/// What every archive answer says about search engines, and the page context's `noindex`.
fn robots(state: &AppState, mut response: Response) -> Response {
    if state.settings().archive_noindex {
        response.headers_mut().insert(
            header::HeaderName::from_static("x-robots-tag"),
            HeaderValue::from_static("noindex"),
        );
    }
    response
}

fn base_context(state: &AppState) -> Context {
    let base = state.config.public_base();
    let mut context = form_context(state);
    context.insert("noindex", &state.settings().archive_noindex);
    context.insert("feed_url", &format!("{base}/archive/feed.xml"));
    context
}

async fn archive_page(State(state): State<AppState>, Query(query): Query<PageQuery>) -> Response {
    let page = query
        .page
        .and_then(|page| page.trim().parse::<i64>().ok())
        .unwrap_or(1);
    let response = match archive::page(&state, page).await {
        Ok(listing) => {
            let mut context = base_context(&state);
            let base = state.config.public_base();
            let canonical = match listing.page {
                1 => format!("{base}/archive"),
                n => format!("{base}/archive?page={n}"),
            };
            context.insert("canonical", &canonical);
            let logo = state.composer.look().brand.logo.map(|logo| logo.url);
            context.insert("image", &logo);
            context.insert("archive", &listing);
            state.page(StatusCode::OK, "web/archive.html", &context)
        }
        Err(refusal) => refused(&state, refusal),
    };
    robots(&state, response)
}

async fn issue_page(State(state): State<AppState>, Path(slug): Path<String>) -> Response {
    let response = match archive::issue(&state, &slug).await {
        Ok(issue) => {
            let mut context = base_context(&state);
            context.insert("from", "archive");
            context.insert("issue", &issue);
            let mut response = state.page(StatusCode::OK, "web/archive_issue.html", &context);
            response.headers_mut().insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(ISSUE_POLICY),
            );
            response
        }
        Err(refusal) => refused(&state, refusal),
    };
    robots(&state, response)
}

async fn feed(State(state): State<AppState>) -> Response {
    let response = match archive::feed(&state).await {
        Ok(xml) => (
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/atom+xml; charset=utf-8"),
            )],
            xml,
        )
            .into_response(),
        Err(err) => PageError::Unexpected(err).into_page(&state),
    };
    robots(&state, response)
}

fn refused(state: &AppState, refusal: ArchiveRefusal) -> Response {
    match refusal {
        ArchiveRefusal::NotFound => state.page(
            StatusCode::NOT_FOUND,
            "web/archive_missing.html",
            &Context::new(),
        ),
        ArchiveRefusal::Unexpected(err) => PageError::Unexpected(err).into_page(state),
    }
}
