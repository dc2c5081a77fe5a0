//! The ids in admin addresses, taken from the path already typed: a subscriber's or a
//! campaign's or an API token's UUID, an inbound message's or a reply's number. An id that cannot be one
//! (mistyped, cut short) names nothing, so it gets the same "No such …" page as an id that
//! is not there, never axum's plain 400.

use axum::extract::{FromRequestParts, RawPathParams};
use axum::http::request::Parts;
use uuid::Uuid;

use super::AdminError;

/// A typed id read from the path parameter `$param` with `$parse`; an id that cannot be
/// one answers `$missing`'s "No such …" page.
macro_rules! path_id {
    ($(#[$doc:meta])* $name:ident($inner:ty) from $param:literal by $parse:expr, else $missing:path) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy)]
        pub struct $name(pub $inner);

        impl<S: Send + Sync> FromRequestParts<S> for $name {
            type Rejection = AdminError;

            async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AdminError> {
                from_path(parts, $param, $parse, $missing).await.map(Self)
            }
        }
    };
}

path_id! {
    /// The subscriber `{id}` in `/admin/subscribers/{id}/…`.
    SubscriberId(Uuid) from "id" by uuid, else AdminError::no_subscriber
}

path_id! {
    /// The campaign `{id}` in `/admin/campaigns/{id}/…`.
    CampaignId(Uuid) from "id" by uuid, else AdminError::no_campaign
}

path_id! {
    /// The inbound message `{id}` in `/admin/inbound/{id}/…`.
    InboundId(i64) from "id" by row_number, else AdminError::no_message
}

path_id! {
    /// The reply `{reply}` in `/admin/subscribers/{id}/replies/{reply}/…`.
    ReplyId(i64) from "reply" by row_number, else AdminError::no_reply
}

path_id! {
    /// The image `{id}` in `/admin/media/{id}/…`.
    MediaId(Uuid) from "id" by uuid, else AdminError::no_media
}

path_id! {
    /// The API token `{id}` in `/admin/tokens/{id}/…`.
    TokenId(Uuid) from "id" by uuid, else AdminError::no_token
}

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

/// A UUID in any form `Uuid::parse_str` takes.
fn uuid(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw).ok()
}

/// A row number: positive (a zero or a sign names no row).
fn row_number(raw: &str) -> Option<i64> {
    raw.parse::<i64>().ok().filter(|id| *id > 0)
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
