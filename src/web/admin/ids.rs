//! The ids in admin addresses, taken from the path already typed: a subscriber's or a
//! campaign's or an API token's UUID, an inbound message's or a reply's number. An id that cannot be one
//! (mistyped, cut short) names nothing, so it gets the same "No such …" page as an id that
//! is not there, never axum's plain 400.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use uuid::Uuid;

use super::AdminError;

/// The subscriber `{id}` in `/admin/subscribers/{id}/…`.
#[derive(Debug, Clone, Copy)]
pub struct SubscriberId(pub Uuid);

/// The campaign `{id}` in `/admin/campaigns/{id}/…`.
#[derive(Debug, Clone, Copy)]
pub struct CampaignId(pub Uuid);

/// The inbound message `{id}` in `/admin/inbound/{id}/…`.
#[derive(Debug, Clone, Copy)]
pub struct InboundId(pub i64);

/// The reply `{reply}` in `/admin/subscribers/{id}/replies/{reply}/…`.
#[derive(Debug, Clone, Copy)]
pub struct ReplyId(pub i64);

/// The API token `{id}` in `/admin/tokens/{id}/…`.
#[derive(Debug, Clone, Copy)]
pub struct TokenId(pub Uuid);

/// The path parameter `name`, read with `parse`; anything else is `missing`.
async fn from_path<T>(
    parts: &mut Parts,
    name: &str,
    parse: impl FnOnce(&str) -> Option<T>,
    missing: fn() -> AdminError,
) -> Result<T, AdminError> {
    let params = RawPathParams::from_request_parts(parts, &())
        .await
        .map_err(|_| missing())?;
    params
        .iter()
        .find(|(key, _)| *key == name)
        .and_then(|(_, value)| parse(value))
        .ok_or_else(missing)
}

/// A row number: positive (a zero or a sign names no row).
fn row_number(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}

impl<S: Send + Sync> FromRequestParts<S> for SubscriberId {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AdminError> {
        let parse = |raw: &str| Uuid::parse_str(raw).ok();
        from_path(parts, "id", parse, AdminError::no_subscriber)
            .await
            .map(Self)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CampaignId {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AdminError> {
        let parse = |raw: &str| Uuid::parse_str(raw).ok();
        from_path(parts, "id", parse, AdminError::no_campaign)
            .await
            .map(Self)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TokenId {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AdminError> {
        let parse = |raw: &str| Uuid::parse_str(raw).ok();
        from_path(parts, "id", parse, AdminError::no_token)
            .await
            .map(Self)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for InboundId {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AdminError> {
        from_path(parts, "id", row_number, AdminError::no_message)
            .await
            .map(Self)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ReplyId {
    type Rejection = AdminError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AdminError> {
        from_path(parts, "reply", row_number, AdminError::no_reply)
            .await
            .map(Self)
    }
}

#[cfg(test)]
mod tests {
    use axum::Router;
    use axum::body::{Body, to_bytes};
    use axum::http::{Request, StatusCode};
    use axum::routing::get;
    use tower::ServiceExt as _;

    use super::*;

    /// What a route taking a subscriber and a reply answers at `path`: the status, the page's
    /// title, and the ids as the handler got them.
    async fn answer(path: &str) -> (StatusCode, String) {
        let app: Router = Router::new().route(
            "/admin/subscribers/{id}/replies/{reply}",
            get(
                |SubscriberId(id): SubscriberId, ReplyId(reply): ReplyId| async move {
                    format!("{id} {reply}")
                },
            ),
        );
        let response = app
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let body = to_bytes(response.into_body(), 64 * 1024).await.unwrap();
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn ids_arrive_typed_each_by_its_name() {
        let id = "0190a5a8-7e43-7c4b-9d8e-2a4f3c1b2d3e";
        let (status, body) = answer(&format!("/admin/subscribers/{id}/replies/42")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, format!("{id} 42"));
    }

    #[tokio::test]
    async fn an_id_that_cannot_be_one_is_not_found_and_says_what_is_missing() {
        let id = "0190a5a8-7e43-7c4b-9d8e-2a4f3c1b2d3e";
        for (path, title) in [
            (
                "/admin/subscribers/not-a-uuid/replies/1".to_string(),
                "No such subscriber",
            ),
            (
                "/admin/subscribers/%3Cscript%3E/replies/1".to_string(),
                "No such subscriber",
            ),
            (
                format!("/admin/subscribers/{id}/replies/abc"),
                "No such reply",
            ),
            (
                format!("/admin/subscribers/{id}/replies/0"),
                "No such reply",
            ),
            (
                format!("/admin/subscribers/{id}/replies/-3"),
                "No such reply",
            ),
            // Not text at all: no parameter of the path can be read, so the first id fails.
            (
                format!("/admin/subscribers/{id}/replies/%FF"),
                "No such subscriber",
            ),
        ] {
            let (status, body) = answer(&path).await;
            assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
            assert!(body.starts_with(title), "{path}: {body}");
        }
    }
}
