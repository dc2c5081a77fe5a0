//! The owner's web app under `/admin`: server-rendered pages behind a login.
//!
//! Every route but the login and setup pages sits behind `require_owner`: no session → a
//! redirect to the login page (remembering where the owner was going); a state-changing
//! request (anything but GET and HEAD) must also carry the session's CSRF token, as the
//! form field `csrf` or the header `X-CSRF-Token`, and must not come from another origin,
//! or it gets 403. Handlers take an `Owner`, which only this layer provides.
//!
//! Handlers return `Result<Response, AdminError>` (`error`): `?` on anything unexpected,
//! the user's words for the rest; `require_owner` lays the error out as the admin problem
//! page. Ids in the path arrive typed (`ids`), a malformed one answered like a missing one.

mod access;
mod campaigns;
mod dashboard;
mod error;
mod ids;
mod media;
mod owner_settings;
mod review;
mod settings;
mod subscribers;
mod templates;
mod tools;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use futures::StreamExt;
use tera::Context;
use tower_http::set_header::SetResponseHeaderLayer;
use uuid::Uuid;

use super::routes::Routes;
use super::{AppState, header_unless_set};
use crate::store::{OwnerSession, constant_time_eq};
pub use error::AdminError;
pub use ids::{CampaignId, InboundId, MediaId, ReplyId, SubscriberId, TokenId};

/// The session cookie: HttpOnly, SameSite=Lax, Secure when the public URL is https.
pub const SESSION_COOKIE: &str = "hundred_session";
/// How long a login lasts.
pub const SESSION_DAYS: i64 = 14;
/// The largest admin request body (a CSV import).
pub const MAX_ADMIN_BODY_BYTES: usize = crate::lists::MAX_WEB_FILE_BYTES;
/// The form field and header a state-changing request carries its CSRF token in.
pub const CSRF_FIELD: &str = "csrf";
/// The CSV import form's address: its request may take longer than others.
pub const IMPORT_PATH: &str = "/admin/tools/import";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The admin pages allow their own (vendored) scripts and same-origin fetches and frames,
/// which the public pages do not need.
const ADMIN_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'";
/// The compose page's: the same, but the preview (a `srcdoc` frame, which takes its
/// parent's policy) shows the campaign's images from wherever the owner put them, as the
/// recipients' mail programs will.
pub const COMPOSE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: https: http:; connect-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'";

/// The pages that need a session, each listed by path (see `web::admin_paths`).
pub fn owner_routes() -> Routes {
    Routes::new()
        .merge(dashboard::routes())
        .merge(review::routes())
        .merge(subscribers::routes())
        .merge(campaigns::routes())
        .merge(tools::routes())
        .merge(media::routes())
        .merge(templates::routes())
        .merge(settings::routes())
        .merge(access::owner_routes())
}

/// Every `/admin` route: the login and setup pages, and the rest behind `require_owner`.
pub fn router(state: AppState) -> Router<AppState> {
    let owner = owner_routes()
        .into_router()
        .route_layer(middleware::from_fn_with_state(state, require_owner));
    Router::new()
        .merge(access::public_routes())
        .route("/admin/assets/{name}", axum::routing::get(asset))
        .merge(owner)
        .layer(header_unless_set(
            header::CONTENT_SECURITY_POLICY,
            ADMIN_CSP,
        ))
        .layer(header_unless_set(header::CACHE_CONTROL, "no-store"))
        // Admin URLs may name subscribers: never sent to other sites, but kept within this
        // one (with `no-referrer`, browsers send `Origin: null` on form posts).
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

/// A vendored script for the admin pages; nothing secret, so no session needed.
async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let Some(text) = crate::templates::admin_asset(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let content_type = if name.ends_with(".js") {
        "text/javascript; charset=utf-8"
    } else if name.ends_with(".css") {
        "text/css; charset=utf-8"
    } else {
        "text/plain; charset=utf-8"
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        text,
    )
        .into_response()
}

/// The logged-in owner of this request, with the CSRF token their forms carry.
#[derive(Debug, Clone)]
pub struct Owner {
    pub user_id: Uuid,
    pub email: String,
    pub csrf_token: String,
}

impl FromRequestParts<AppState> for Owner {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Response> {
        // Only `require_owner` puts it there: a handler taking an `Owner` outside that layer
        // is never reached without one.
        parts
            .extensions
            .get::<Owner>()
            .cloned()
            .ok_or_else(|| StatusCode::FORBIDDEN.into_response())
    }
}

/// The value of cookie `name` in the request, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// A `Set-Cookie` value with the attributes every cookie of ours has.
pub fn set_cookie(state: &AppState, name: &str, value: &str, max_age_seconds: i64) -> HeaderValue {
    let secure = if state.config.public_url.scheme() == "https" {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{name}={value}; Path=/admin; HttpOnly; SameSite=Lax; Max-Age={max_age_seconds}{secure}"
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static("invalid=1"))
}

/// Where a login should lead: a path under `/admin` only (never another site), else the
/// dashboard.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path)
            if (path == "/admin" || path.starts_with("/admin/") || path.starts_with("/admin?"))
                && !path.contains("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_string()
        }
        _ => "/admin".to_string(),
    }
}

fn login_redirect(parts: &Parts) -> Response {
    let target = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/admin");
    let next: String =
        url::form_urlencoded::byte_serialize(safe_next(Some(target)).as_bytes()).collect();
    Redirect::to(&format!("/admin/login?next={next}")).into_response()
}

async fn require_owner(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let session = match cookie(&parts.headers, SESSION_COOKIE) {
        Some(id) => match state.store.session(id).await {
            Ok(session) => session,
            Err(err) => return super::PageError::Unexpected(err).into_page(&state),
        },
        None => None,
    };
    let Some(OwnerSession {
        user_id,
        email,
        csrf_token,
        ..
    }) = session
    else {
        return login_redirect(&parts);
    };
    let owner = Owner {
        user_id,
        email,
        csrf_token,
    };
    let body = if parts.method == Method::GET || parts.method == Method::HEAD {
        body
    } else {
        if !same_origin(&state, &parts.headers) {
            return forbidden("This request came from another site.");
        }
        let bytes = match read_body(&parts.headers, body).await {
            Ok(bytes) => bytes,
            Err(BodyError::TooLarge) => return AdminError::TooLarge.page(&state, &owner),
            Err(BodyError::Unreadable) => {
                return AdminError::BadRequest {
                    title: "The form did not arrive",
                    message: "The connection broke while the form was being sent. Go back and send it again.".into(),
                }
                .page(&state, &owner);
            }
        };
        let sent = csrf_sent(&parts.headers, &bytes).await;
        let valid = sent
            .is_some_and(|token| constant_time_eq(token.as_bytes(), owner.csrf_token.as_bytes()));
        if !valid {
            return forbidden(
                "This form has expired or did not come from this site. Go back, reload the page and try again.",
            );
        }
        Body::from(bytes)
    };
    parts.extensions.insert(owner.clone());
    let response = next.run(Request::from_parts(parts, body)).await;
    error::shown(response, &state, &owner)
}

/// What is read of a body over the limit before answering, so a browser still sending an
/// upload gets to read the answer instead of a broken connection. Only a logged-in owner's
/// request on this site gets this far; anything larger is answered at once.
const DRAIN_BYTES: u64 = 200 * 1024 * 1024;

enum BodyError {
    TooLarge,
    Unreadable,
}

/// A request's body, whole, if it is within the admin limit.
async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, BodyError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > DRAIN_BYTES) {
        return Err(BodyError::TooLarge);
    }
    let mut stream = body.into_data_stream();
    let mut read: Vec<u8> = Vec::new();
    let mut seen: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| BodyError::Unreadable)?;
        seen += chunk.len() as u64;
        if seen > DRAIN_BYTES {
            return Err(BodyError::TooLarge);
        }
        if seen <= MAX_ADMIN_BODY_BYTES as u64 {
            read.extend_from_slice(&chunk);
        } else if !read.is_empty() {
            read = Vec::new();
        }
    }
    if seen > MAX_ADMIN_BODY_BYTES as u64 {
        return Err(BodyError::TooLarge);
    }
    Ok(Bytes::from(read))
}

fn forbidden(message: &'static str) -> Response {
    (StatusCode::FORBIDDEN, message).into_response()
}

/// Browsers say where a request comes from: `Sec-Fetch-Site` (every current browser), else
/// `Origin`. When they say, it must be this site. (`Origin: null`, sent for some privacy
/// settings, says nothing; the CSRF token still has to match.)
fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        None | Some("null") => true,
        Some(origin) => {
            let ours = state.config.public_url.origin().ascii_serialization();
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default();
            origin == ours
                || origin
                    .split_once("://")
                    .is_some_and(|(_, rest)| !host.is_empty() && rest == host)
        }
    }
}

/// The CSRF token a request carries: the header, else the form field (urlencoded or
/// multipart).
async fn csrf_sent(headers: &HeaderMap, body: &Bytes) -> Option<String> {
    if let Some(token) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return Some(token.to_string());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return form_value(body, CSRF_FIELD);
    }
    if content_type.starts_with("multipart/form-data") {
        let boundary = multer::parse_boundary(content_type).ok()?;
        let chunk = body.clone();
        let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(chunk) });
        let mut multipart = multer::Multipart::new(stream, boundary);
        while let Ok(Some(field)) = multipart.next_field().await {
            if field.name() == Some(CSRF_FIELD) {
                return field.text().await.ok();
            }
        }
    }
    None
}

/// Renders an admin page: the template gets the owner's address, the CSRF token for its
/// forms, the list's name and which section of the menu is current.
/// The first value named `name` in a query string or a urlencoded form body.
pub fn form_value(encoded: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(encoded)
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

pub fn page(
    state: &AppState,
    owner: &Owner,
    section: &str,
    template: &str,
    context: &mut Context,
) -> Response {
    context.insert("owner_email", &owner.email);
    context.insert("csrf", &owner.csrf_token);
    context.insert("section", section);
    state.page(StatusCode::OK, template, context)
}
