//! Getting in and out: the one-time setup link, login (rate-limited, a fresh session id
//! every time), logout, and the API tokens page.
//!
//! The login and setup forms come before any session, so they carry their own CSRF token:
//! a random value in a short-lived cookie that the form must repeat.

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;
use tera::Context;
use time::Duration;
use uuid::Uuid;

use super::{
    AdminError, Owner, SESSION_COOKIE, SESSION_DAYS, TokenId, cookie, page, safe_next, set_cookie,
};
use crate::actions::accounts;
use crate::signing::TokenPurpose;
use crate::store::{Timestamp, constant_time_eq};
use crate::web::client::{Client, rate_limit_key};
use crate::web::routes::Routes;
use crate::web::{AppState, PageError};

/// The login and setup forms' own CSRF cookie.
const FORM_COOKIE: &str = "hundred_form";
const FORM_COOKIE_SECONDS: i64 = 60 * 60;
/// A browser the owner has logged in with, remembered for a year: its login attempts count
/// against a limit of its own, so a stranger's guesses at the owner's address (which use up
/// that address's limit) do not lock the owner out of a browser they have used.
const DEVICE_COOKIE: &str = "hundred_device";
const DEVICE_DAYS: i64 = 365;

/// The pages before a session. Their forms are small: bodies are held to the public
/// pages' limit, not the admin pages' (which allows CSV imports).
pub fn public_routes() -> Router<AppState> {
    Router::new()
        .route("/admin/login", get(login_page).post(login))
        .route("/admin/setup/{token}", get(setup_page).post(setup))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            crate::web::MAX_BODY_BYTES,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::web::MAX_BODY_BYTES,
        ))
}

pub fn owner_routes() -> Routes {
    Routes::new()
        .route("/admin/logout", post(logout))
        .route("/admin/tokens", get(tokens_page).post(create_token))
        .route("/admin/tokens/{id}/revoke", post(revoke_token))
}

#[derive(Deserialize, Default)]
struct NextQuery {
    next: Option<String>,
}

/// A login or setup form, with a fresh form token in its cookie.
fn form_page(
    state: &AppState,
    status: StatusCode,
    template: &str,
    context: &mut Context,
) -> Response {
    let token = accounts::random_secret();
    context.insert("form_token", &token);
    // The owner's pages stay in English, whatever language readers get.
    context.insert("lang", "en");
    let mut response = state.page(status, template, context);
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(state, FORM_COOKIE, &token, FORM_COOKIE_SECONDS),
    );
    response
}

fn form_token_matches(headers: &HeaderMap, sent: &str) -> bool {
    cookie(headers, FORM_COOKIE)
        .is_some_and(|expected| constant_time_eq(expected.as_bytes(), sent.as_bytes()))
}

async fn login_page(State(state): State<AppState>, Query(query): Query<NextQuery>) -> Response {
    let mut context = Context::new();
    context.insert("next", &safe_next(query.next.as_deref()));
    context.insert("email", "");
    form_page(&state, StatusCode::OK, "web/admin/login.html", &mut context)
}

#[derive(Deserialize)]
struct LoginForm {
    email: Option<String>,
    password: Option<String>,
    next: Option<String>,
    form_token: Option<String>,
}

async fn login(
    State(state): State<AppState>,
    client: Client,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let typed = form.email.unwrap_or_default();
    let email = accounts::parse_owner_email(&typed).unwrap_or_else(|_| typed.trim().to_lowercase());
    let again = |status: StatusCode, error: &str| {
        let mut context = Context::new();
        context.insert("next", &next);
        context.insert("email", &email.chars().take(254).collect::<String>());
        context.insert("error", error);
        form_page(&state, status, "web/admin/login.html", &mut context)
    };
    if !form_token_matches(&headers, form.form_token.as_deref().unwrap_or_default()) {
        return again(
            StatusCode::FORBIDDEN,
            "The login form expired. Please enter your details again.",
        );
    }
    let too_many = || {
        let mut response = again(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many login attempts. Please wait a minute and try again.",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        response
    };
    let by_ip = client
        .ip
        .map(|ip| format!("ip:{}", rate_limit_key(ip)))
        .unwrap_or_else(|| "ip:unknown".into());
    if state.login_limiter.check_key(&by_ip).is_err() {
        return too_many();
    }
    let account = match state.store.owner_by_email(&email).await {
        Ok(account) => account,
        Err(err) => return PageError::Unexpected(err).into_page(&state),
    };
    // A browser this owner logged in with has its own limit; any other attempt at the
    // address shares the address's. Keyed by hashes: whatever was sent, keys stay small.
    let device = cookie(&headers, DEVICE_COOKIE).filter(|token| {
        let claims = state.signer.verify_unexpired(
            TokenPurpose::Device,
            token,
            time::OffsetDateTime::now_utc(),
        );
        matches!((claims, &account), (Ok(claims), Some(account)) if claims.subject == account.id)
    });
    let by_address = match device {
        Some(token) => format!("device:{}", crate::store::secret_hash(token)),
        None => format!("email:{}", crate::store::secret_hash(&email)),
    };
    if state.login_limiter.check_key(&by_address).is_err() {
        return too_many();
    }
    let password = form.password.unwrap_or_default();
    if password.len() > accounts::MAX_PASSWORD_BYTES {
        return again(StatusCode::UNAUTHORIZED, WRONG_LOGIN);
    }
    // An unknown address costs a hash too, so the answer's timing does not tell.
    let stored = match &account {
        Some(account) => account.password_hash.clone(),
        None => match accounts::decoy_hash().await {
            Ok(hash) => hash,
            Err(err) => return PageError::Unexpected(err).into_page(&state),
        },
    };
    let matches = match accounts::verify_password(password, stored).await {
        Ok(matches) => matches,
        Err(err) => return PageError::Unexpected(err).into_page(&state),
    };
    match account {
        Some(account) if matches => {
            tracing::info!(owner = %account.email, "owner logged in");
            start_session(&state, &headers, account.id, &next).await
        }
        _ => again(StatusCode::UNAUTHORIZED, WRONG_LOGIN),
    }
}

const WRONG_LOGIN: &str = "That email address and password do not match an account.";

/// A brand-new session (never one the browser brought along), its cookie, and the way in.
async fn start_session(
    state: &AppState,
    headers: &HeaderMap,
    user_id: Uuid,
    next: &str,
) -> Response {
    if let Some(old) = cookie(headers, SESSION_COOKIE)
        && let Err(err) = state.store.end_session(old).await
    {
        return PageError::Unexpected(err).into_page(state);
    }
    let session_id = accounts::random_secret();
    let csrf = accounts::random_secret();
    let expires = Timestamp::from(time::OffsetDateTime::now_utc() + Duration::days(SESSION_DAYS));
    if let Err(err) = state
        .store
        .create_session(user_id, &session_id, &csrf, expires)
        .await
    {
        return PageError::Unexpected(err).into_page(state);
    }
    let mut response = Redirect::to(next).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(state, SESSION_COOKIE, &session_id, SESSION_DAYS * 86_400),
    );
    headers.append(header::SET_COOKIE, set_cookie(state, FORM_COOKIE, "", 0));
    let device = state.signer.sign(
        TokenPurpose::Device,
        user_id,
        Some(time::OffsetDateTime::now_utc() + Duration::days(DEVICE_DAYS)),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(state, DEVICE_COOKIE, &device, DEVICE_DAYS * 86_400),
    );
    response
}

async fn logout(
    State(state): State<AppState>,
    _owner: Owner,
    headers: HeaderMap,
) -> Result<Response, AdminError> {
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        state.store.end_session(id).await?;
    }
    let mut response = Redirect::to("/admin/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&state, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}

fn setup_gone(state: &AppState) -> Response {
    let mut context = Context::new();
    context.insert("title", "This setup link no longer works");
    context.insert(
        "message",
        "It has been used, or the service has been restarted since (each start prints a new one while no account exists). Log in at /admin/login, or create an account with `hundred user create`.",
    );
    state.page(StatusCode::NOT_FOUND, "web/message.html", &context)
}

async fn setup_page(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    match state.store.setup_token_valid(&token).await {
        Ok(true) => {
            let mut context = Context::new();
            context.insert("action", &format!("/admin/setup/{token}"));
            context.insert("email", "");
            context.insert("min_password", &accounts::MIN_PASSWORD_CHARS);
            form_page(&state, StatusCode::OK, "web/admin/setup.html", &mut context)
        }
        Ok(false) => setup_gone(&state),
        Err(err) => PageError::Unexpected(err).into_page(&state),
    }
}

#[derive(Deserialize)]
struct SetupForm {
    email: Option<String>,
    password: Option<String>,
    password_again: Option<String>,
    form_token: Option<String>,
}

async fn setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(token): Path<String>,
    Form(form): Form<SetupForm>,
) -> Response {
    let raw_email = form.email.unwrap_or_default();
    let again = |status: StatusCode, error: &str| {
        let mut context = Context::new();
        context.insert("action", &format!("/admin/setup/{token}"));
        context.insert("email", &raw_email.chars().take(254).collect::<String>());
        context.insert("min_password", &accounts::MIN_PASSWORD_CHARS);
        context.insert("error", error);
        form_page(&state, status, "web/admin/setup.html", &mut context)
    };
    match state.store.setup_token_valid(&token).await {
        Ok(true) => {}
        Ok(false) => return setup_gone(&state),
        Err(err) => return PageError::Unexpected(err).into_page(&state),
    }
    if !form_token_matches(&headers, form.form_token.as_deref().unwrap_or_default()) {
        return again(
            StatusCode::FORBIDDEN,
            "The form expired. Please enter your details again.",
        );
    }
    let email = match accounts::parse_owner_email(&raw_email) {
        Ok(email) => email,
        Err(err) => return again(StatusCode::BAD_REQUEST, &err.to_string()),
    };
    let password = form.password.unwrap_or_default();
    if let Err(err) = accounts::check_password(&password) {
        return again(StatusCode::BAD_REQUEST, &err.to_string());
    }
    if form.password_again.as_deref() != Some(password.as_str()) {
        return again(
            StatusCode::BAD_REQUEST,
            "The two passwords are not the same.",
        );
    }
    let hash = match accounts::hash_password(password).await {
        Ok(hash) => hash,
        Err(err) => return PageError::Unexpected(err).into_page(&state),
    };
    match state.store.create_first_owner(&token, &email, &hash).await {
        Ok(Some(account)) => {
            tracing::info!(owner = %account.email, "owner account created with the setup link");
            start_session(&state, &headers, account.id, "/admin").await
        }
        Ok(None) => setup_gone(&state),
        Err(err) => PageError::Unexpected(anyhow::anyhow!(err)).into_page(&state),
    }
}

async fn tokens_page(State(state): State<AppState>, owner: Owner) -> Result<Response, AdminError> {
    tokens_view(&state, &owner, None, None).await
}

async fn tokens_view(
    state: &AppState,
    owner: &Owner,
    created: Option<(&str, &str)>,
    error: Option<&str>,
) -> Result<Response, AdminError> {
    let tokens = state.store.api_tokens().await?;
    let mut context = Context::new();
    context.insert("tokens", &tokens);
    if let Some((name, token)) = created {
        context.insert("created_name", name);
        context.insert("created_token", token);
    }
    if let Some(error) = error {
        context.insert("error", error);
    }
    Ok(page(
        state,
        owner,
        "tokens",
        "web/admin/tokens.html",
        &mut context,
    ))
}

#[derive(Deserialize)]
struct NewToken {
    name: Option<String>,
}

async fn create_token(
    State(state): State<AppState>,
    owner: Owner,
    Form(form): Form<NewToken>,
) -> Result<Response, AdminError> {
    let typed = form.name.unwrap_or_default();
    match accounts::create_api_token(&state, &typed).await {
        Ok((name, token)) => tokens_view(&state, &owner, Some((&name, &token)), None).await,
        Err(err @ accounts::TokenError::Name) => {
            tokens_view(&state, &owner, None, Some(&err.to_string())).await
        }
        Err(accounts::TokenError::Unexpected(err)) => Err(err.into()),
    }
}

async fn revoke_token(
    State(state): State<AppState>,
    _owner: Owner,
    TokenId(id): TokenId,
) -> Result<Response, AdminError> {
    state.store.revoke_api_token(id).await?;
    Ok(Redirect::to("/admin/tokens").into_response())
}
