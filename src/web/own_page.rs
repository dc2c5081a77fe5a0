//! The reader's own page and the web version of each copy: `/me/{token}` (with its buttons:
//! `name`, `pause`, `download`, `unsubscribe`, `erase`) and `/v/{token}`.
//!
//! Every change is a POST from a button on the page; GET (and HEAD) only ever show. A
//! forged or erased link gets a 404 page saying so, never a redirect. Each client address
//! has its own allowance of requests here (`reader_limiter`).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use tera::Context;

use super::client::{Client, rate_limit_key};
use super::subscribe::name_problem_key;
use super::{AppState, PageError};
use crate::actions::own_page::{self, Asker, OwnPageRefusal};

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/v/{token}", get(web_version))
        .route("/me/{token}", get(page))
        .route("/me/{token}/name", post(rename))
        .route("/me/{token}/pause", post(pause))
        .route("/me/{token}/download", post(download))
        .route("/me/{token}/unsubscribe", post(unsubscribe))
        .route("/me/{token}/erase", get(erase_question).post(erase))
        .route_layer(axum::middleware::from_fn_with_state(state, limit))
}

/// Each client address has its own allowance of requests to these pages.
async fn limit(
    State(state): State<AppState>,
    client: Client,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let refused = client
        .ip
        .is_some_and(|ip| state.reader_limiter.check_key(&rate_limit_key(ip)).is_err());
    if refused {
        return PageError::TooManyRequests.into_page(&state);
    }
    next.run(request).await
}

/// The web version's policy: the copy's own styles and images from anywhere (as a mail
/// client shows them), nothing else.
const WEB_VERSION_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

fn asker(client: &Client) -> Asker {
    Asker {
        ip: client.ip,
        user_agent: client.user_agent.clone(),
    }
}

/// A form's fields, whatever was sent (a missing field is empty).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Fields {
    name: String,
    days: String,
    confirm: String,
}

fn fields(body: &Bytes) -> Fields {
    serde_urlencoded::from_bytes(body).unwrap_or_default()
}

/// What a refusal looks like: 404 for a link that is not (any more) a subscriber's, the
/// page again with a sentence by the field for a name that cannot be kept.
async fn refused(state: &AppState, token: &str, refusal: OwnPageRefusal) -> Response {
    match refusal {
        OwnPageRefusal::NotFound => not_found(state),
        OwnPageRefusal::Name(problem) => {
            let problem = state.text(name_problem_key(&problem), &[]);
            shown(state, token, StatusCode::UNPROCESSABLE_ENTITY, |context| {
                context.insert("name_error", &problem);
                context.insert("notice", &state.text("me-name-refused", &[]));
            })
            .await
        }
        OwnPageRefusal::NotSubscribed => {
            PageError::BadRequest(state.text("me-not-subscribed", &[])).into_page(state)
        }
        OwnPageRefusal::PauseLength => {
            PageError::BadRequest(state.text("me-pause-length", &[])).into_page(state)
        }
        OwnPageRefusal::Unexpected(err) => PageError::Unexpected(err).into_page(state),
    }
}

fn not_found(state: &AppState) -> Response {
    let mut context = Context::new();
    context.insert("reason", &state.text("link-invalid", &[]));
    context.insert("link_kind", "me");
    state.page(StatusCode::NOT_FOUND, "web/link_invalid.html", &context)
}

/// The page, with what `extra` adds to its context (a notice, a problem).
async fn shown(
    state: &AppState,
    token: &str,
    status: StatusCode,
    extra: impl FnOnce(&mut Context),
) -> Response {
    match own_page::own_page(state, token).await {
        Ok(page) => {
            let mut context = Context::new();
            context.insert("me", &page);
            context.insert("base", &format!("/me/{token}"));
            context.insert("pauses", &own_page::PAUSES);
            extra(&mut context);
            state.page(status, "web/own_page.html", &context)
        }
        Err(OwnPageRefusal::Unexpected(err)) => PageError::Unexpected(err).into_page(state),
        // Reading the page refuses nothing else: the link names nobody (any more).
        Err(_) => not_found(state),
    }
}

/// The page after a change, saying what was done.
async fn with_notice(state: &AppState, token: &str, notice: String) -> Response {
    shown(state, token, StatusCode::OK, |context| {
        context.insert("notice", &notice);
    })
    .await
}

async fn page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    shown(&state, &token, StatusCode::OK, |_| {}).await
}

async fn rename(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    match own_page::rename(&state, &token, &fields(&body).name, &asker(&client)).await {
        Ok(()) => with_notice(&state, &token, state.text("me-name-saved", &[])).await,
        Err(refusal) => refused(&state, &token, refusal).await,
    }
}

async fn pause(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
    body: Bytes,
) -> Response {
    match own_page::pause(&state, &token, &fields(&body).days, &asker(&client)).await {
        Ok(until) => {
            with_notice(
                &state,
                &token,
                state.text("me-paused", &[("date", until.into())]),
            )
            .await
        }
        Err(refusal) => refused(&state, &token, refusal).await,
    }
}

async fn download(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
) -> Response {
    match own_page::download(&state, &token, &asker(&client)).await {
        Ok((file_name, export)) => {
            let body = match serde_json::to_vec_pretty(&export) {
                Ok(body) => body,
                Err(err) => return PageError::Unexpected(err.into()).into_page(&state),
            };
            let disposition =
                HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
                    .unwrap_or_else(|_| HeaderValue::from_static("attachment"));
            (
                [
                    (
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    ),
                    (header::CONTENT_DISPOSITION, disposition),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                body,
            )
                .into_response()
        }
        Err(refusal) => refused(&state, &token, refusal).await,
    }
}

async fn unsubscribe(
    State(state): State<AppState>,
    client: Client,
    Path(token): Path<String>,
) -> Response {
    match own_page::unsubscribe(&state, &token, &asker(&client)).await {
        Ok(()) => with_notice(&state, &token, state.text("me-unsubscribed", &[])).await,
        Err(refusal) => refused(&state, &token, refusal).await,
    }
}

/// "Erase yourself?": the page with the button that does it.
async fn erase_question(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match own_page::erase_question(&state, &token).await {
        Ok(email) => {
            let mut context = Context::new();
            context.insert("email", &email);
            context.insert("base", &format!("/me/{token}"));
            state.page(StatusCode::OK, "web/own_erase.html", &context)
        }
        Err(refusal) => refused(&state, &token, refusal).await,
    }
}

async fn erase(State(state): State<AppState>, Path(token): Path<String>, body: Bytes) -> Response {
    // Only the confirmation page's button erases; anything else asks again.
    if fields(&body).confirm != "yes" {
        return erase_question(State(state), Path(token)).await;
    }
    match own_page::erase(&state, &state.tracker, &token).await {
        Ok(()) => {
            let list_name = state.settings().list_name();
            let mut context = Context::new();
            context.insert("title", &state.text("me-erased-title", &[]));
            context.insert(
                "message",
                &state.text("me-erased", &[("list", list_name.as_str().into())]),
            );
            state.page(StatusCode::OK, "web/message.html", &context)
        }
        Err(refusal) => refused(&state, &token, refusal).await,
    }
}

/// A copy as a browser shows it. A person's GET is an open; HEAD records nothing.
async fn web_version(
    State(state): State<AppState>,
    method: Method,
    client: Client,
    Path(token): Path<String>,
) -> Response {
    let opener = (method != Method::HEAD).then(|| asker(&client));
    match own_page::web_version(&state, &state.tracker, &token, opener).await {
        Ok(html) => (
            [
                (
                    header::CONTENT_SECURITY_POLICY,
                    HeaderValue::from_static(WEB_VERSION_POLICY),
                ),
                (
                    header::REFERRER_POLICY,
                    HeaderValue::from_static("no-referrer"),
                ),
                (
                    header::HeaderName::from_static("x-robots-tag"),
                    HeaderValue::from_static("noindex"),
                ),
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("no-store, private"),
                ),
            ],
            Html(html),
        )
            .into_response(),
        Err(refusal) => {
            let mut response = refused(&state, &token, refusal).await;
            response.headers_mut().insert(
                header::HeaderName::from_static("x-robots-tag"),
                HeaderValue::from_static("noindex"),
            );
            response
        }
    }
}
