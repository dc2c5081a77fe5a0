//! The tracking endpoints: the open pixel and the click redirect. They check the signed
//! token, hand the event to the tracker's queue and answer at once; nothing here waits on
//! the database except the first click on a link (to learn its URL). HEAD answers like GET
//! and records nothing: software checking a link is not a person opening or clicking.
//!
//! The hidden link every tracked copy carries (a click token for `HIDDEN_LINK`) is
//! recorded as a click and answered with an empty page, 200: it leads nowhere, so it can
//! never be made to redirect anywhere, ours or not, and costs a scanner one request.

use axum::Router;
use axum::extract::rejection::PathRejection;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{AppState, Client};
use crate::signing::TokenPurpose;
use crate::store::Timestamp;
use crate::tracking::classify::EventKind;
use crate::tracking::{ClickedLink, RawEvent};

/// The smallest transparent GIF (1×1).
const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/t/o/{token}", get(open))
        .route("/t/c/{token}", get(click))
}

/// One request for a tracking link: the signed token in its path, who asked, and how
/// (HEAD, software checking a link, records nothing).
struct Visit {
    method: Method,
    client: Client,
    token: String,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = PathRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Path(token) = Path::<String>::from_request_parts(parts, state).await?;
        let Ok(client) = Client::from_request_parts(parts, state).await;
        Ok(Self {
            method: parts.method.clone(),
            client,
            token,
        })
    }
}

impl Visit {
    /// The copy the token names and the value it carries, when it is ours and for `purpose`.
    fn verified(&self, state: &AppState, purpose: TokenPurpose) -> Option<(uuid::Uuid, i64)> {
        state.signer.verify_value(purpose, &self.token).ok()
    }

    /// Hands an open or click to the tracker; HEAD records nothing.
    async fn record(
        self,
        state: &AppState,
        kind: EventKind,
        delivery: uuid::Uuid,
        link: Option<ClickedLink>,
    ) {
        if self.method != Method::HEAD {
            state
                .tracker
                .record(RawEvent {
                    kind,
                    delivery,
                    link,
                    at: Timestamp::now(),
                    user_agent: self.client.user_agent,
                    ip: self.client.ip,
                })
                .await;
        }
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))],
        "Not found",
    )
        .into_response()
}

async fn open(State(state): State<AppState>, visit: Visit) -> Response {
    let Some((delivery, _)) = visit.verified(&state, TokenPurpose::Open) else {
        return not_found();
    };
    visit.record(&state, EventKind::Open, delivery, None).await;
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/gif")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, no-cache, must-revalidate, private"),
            ),
        ],
        PIXEL,
    )
        .into_response()
}

async fn click(State(state): State<AppState>, visit: Visit) -> Response {
    let Some((delivery, value)) = visit.verified(&state, TokenPurpose::Click) else {
        return not_found();
    };
    let link = match ClickedLink::from_token(value) {
        ClickedLink::Campaign(link) => link,
        ClickedLink::Hidden => return hidden_link(&state, visit, delivery).await,
    };
    let url = match state.tracker.link_url(link).await {
        Ok(Some(url)) => url,
        Ok(None) => return not_found(),
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "could not read a link for a click");
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                "Please try again in a moment.",
            )
                .into_response();
        }
    };
    // Only http(s) URLs are ever stored (the renderer rewrites nothing else). The URL goes
    // out exactly as written; one with characters a header cannot carry (an accented path,
    // say) goes out percent-encoded, never broken.
    let location = HeaderValue::from_str(&url).ok().or_else(|| {
        url::Url::parse(&url)
            .ok()
            .and_then(|parsed| HeaderValue::from_str(parsed.as_str()).ok())
    });
    let Some(location) = location else {
        return not_found();
    };
    visit
        .record(
            &state,
            EventKind::Click,
            delivery,
            Some(ClickedLink::Campaign(link)),
        )
        .await;
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, location),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// The hidden link: only a scanner gets here. The click is recorded (the writer judges it
/// and the copy's clicks around it), and the answer is an empty page.
async fn hidden_link(state: &AppState, visit: Visit, delivery: uuid::Uuid) -> Response {
    visit
        .record(state, EventKind::Click, delivery, Some(ClickedLink::Hidden))
        .await;
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        "<!doctype html><title></title>",
    )
        .into_response()
}
