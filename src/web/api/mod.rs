//! The JSON API under `/api/v1`, behind `Authorization: Bearer <token>`.

mod campaigns;
mod engagement;
mod inbound;
mod media;
mod settings;
mod subscribers;
mod templates;

use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};

use super::routes::Routes;
use super::{ApiError, AppState};
use crate::store::ApiTokenRecord;

/// The API routes whose bodies are small JSON (the web layer holds them to 64 KiB).
fn json_routes() -> Routes {
    Routes::new()
        .merge(subscribers::routes())
        .merge(campaigns::routes())
        .merge(engagement::routes())
        .merge(inbound::routes())
        .merge(settings::routes())
}

/// Every API route, each also listed by path (see `web::api_paths`).
pub fn routes() -> Routes {
    json_routes()
        .merge(media::routes())
        .merge(templates::routes())
}

/// The API's JSON routes behind a layer that answers 401 to any request without a valid
/// token, before a handler runs (each handler also takes an `ApiToken`).
pub fn router(state: AppState) -> Router<AppState> {
    json_routes()
        .into_router()
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

/// The image routes, behind the same token layer: they read their bodies themselves, up
/// to an image's limit, and answer 413 in JSON beyond it (`media`). The templates' routes
/// too, with a limit that fits a layout's two parts at their longest
/// ([`templates::MAX_BODY_BYTES`]).
pub fn upload_router(state: AppState) -> Router<AppState> {
    media::routes()
        .merge(templates::routes())
        .into_router()
        .route_layer(middleware::from_fn_with_state(state, require_token))
}

async fn require_token(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    match ApiToken::from_request_parts(&mut parts, &state).await {
        Ok(token) => {
            parts.extensions.insert(token);
            next.run(Request::from_parts(parts, body)).await
        }
        Err(rejection) => rejection.into_response(),
    }
}

/// The `limit` and `offset` of a list's query string, each checked as a whole number.
#[derive(serde::Deserialize)]
pub(super) struct Paging {
    limit: Option<String>,
    offset: Option<String>,
}

impl Paging {
    /// How many rows (100 unless asked, at most `max_page`) and from where.
    pub(super) fn limit_offset(&self, max_page: i64) -> Result<(i64, i64), ApiError> {
        let limit = parse_bounded("limit", self.limit.as_deref(), 100, 1, max_page)?;
        let offset = parse_bounded("offset", self.offset.as_deref(), 0, 0, i64::MAX)?;
        Ok((limit, offset))
    }
}

/// A query parameter that must be a whole number within `min..=max`; `default` when left
/// out or empty.
fn parse_bounded(
    field: &'static str,
    raw: Option<&str>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, ApiError> {
    let Some(raw) = raw.filter(|r| !r.is_empty()) else {
        return Ok(default);
    };
    raw.parse::<i64>()
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| ApiError::Invalid {
            field,
            message: format!("{field} must be a whole number from {min} to {max}"),
        })
}

/// An id from the path; one that is not a UUID names nothing, so it is a 404.
pub(super) fn parse_id(raw: &str) -> Result<uuid::Uuid, ApiError> {
    uuid::Uuid::parse_str(raw).map_err(|_| ApiError::NotFound)
}

/// The request body as `T`, or a 400 saying what is wrong with it.
fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|err| ApiError::BadRequest(format!("the body is not the JSON we expect: {err}")))
}

/// Like `parse_json`, with an empty body meaning every field left out.
fn parse_optional_json<T: serde::de::DeserializeOwned + Default>(
    body: &[u8],
) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        Ok(T::default())
    } else {
        parse_json(body)
    }
}

/// A request carrying a valid API token. A handler that takes one cannot be reached
/// without it: anything else gets 401.
#[derive(Debug, Clone)]
pub struct ApiToken(#[allow(dead_code)] pub ApiTokenRecord);

impl FromRequestParts<AppState> for ApiToken {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Already checked by the API's layer for this request.
        if let Some(token) = parts.extensions.get::<ApiToken>() {
            return Ok(token.clone());
        }
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or(ApiError::Unauthorized)?;
        match state.store.verify_api_token(token).await? {
            Some(record) => Ok(Self(record)),
            None => Err(ApiError::Unauthorized),
        }
    }
}
