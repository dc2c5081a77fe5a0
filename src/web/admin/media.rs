//! `/admin/media`: the owner's images, each with its thumbnail, size, dimensions, address
//! and the campaigns that show it; an upload form; delete buttons.
//!
//! `POST /admin/media` takes the form (multipart `file`, the CSRF field) and leads back to
//! the page, or, asked for JSON (`Accept: application/json`, as the composer's script
//! does, with the token in `X-CSRF-Token`), answers the image's address as JSON. Refusals
//! read as `actions::media` words them, with the same statuses as the API.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tera::Context;
use uuid::Uuid;

use super::{AdminError, MediaId, Owner, page};
use crate::actions::media::{self, MAX_IMAGE_BYTES, Media, MediaRefusal};
use crate::web::AppState;
use crate::web::media::{UploadError, take_upload};
use crate::web::routes::Routes;

/// Images per page.
const PAGE_SIZE: i64 = 100;

pub fn routes() -> Routes {
    Routes::new()
        .route("/admin/media", get(media_page).post(upload))
        .route("/admin/media/{id}/delete", post(remove))
}

#[derive(Deserialize, Default)]
struct PageQuery {
    page: Option<String>,
    added: Option<String>,
    deleted: Option<String>,
}

/// One image as the page shows it.
#[derive(Serialize)]
struct Row {
    #[serde(flatten)]
    media: Media,
    size: String,
    markdown: String,
    /// A campaign that went out shows it: it cannot be deleted.
    kept: bool,
    /// It is the list's logo: it cannot be deleted either, until another is chosen.
    logo: bool,
    added: bool,
}

/// "850 bytes", "12 KB", "1.4 MB".
fn size_in_words(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} bytes"),
        b if b < 1024 * 1024 => format!("{} KB", (b + 512) / 1024),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

async fn media_page(
    State(state): State<AppState>,
    owner: Owner,
    Query(query): Query<PageQuery>,
) -> Result<Response, AdminError> {
    let mut shown = Shown {
        page: query
            .page
            .as_deref()
            .and_then(|p| p.parse::<i64>().ok())
            .filter(|p| (1..=100_000).contains(p))
            .unwrap_or(1),
        added: query
            .added
            .as_deref()
            .and_then(|id| Uuid::parse_str(id).ok()),
        notice: query
            .deleted
            .is_some()
            .then(|| "The image was deleted.".to_string()),
        error: None,
    };
    if shown.added.is_some() {
        shown.notice = Some(
            "The image was added. Copy its Markdown below into a campaign, or use “Add image” while writing one."
                .into(),
        );
    }
    render(&state, &owner, shown, StatusCode::OK).await
}

/// What the page says besides the list.
struct Shown {
    page: i64,
    added: Option<Uuid>,
    notice: Option<String>,
    error: Option<String>,
}

async fn render(
    state: &AppState,
    owner: &Owner,
    shown: Shown,
    status: StatusCode,
) -> Result<Response, AdminError> {
    let total = state.store.media_count().await?;
    let offset = (shown.page - 1) * PAGE_SIZE;
    let logo = state.settings().logo;
    let rows: Vec<Row> = media::list(state, PAGE_SIZE, offset)
        .await?
        .into_iter()
        .map(|media| Row {
            size: size_in_words(i64::from(media.bytes)),
            markdown: format!("![]({})", media.url),
            kept: media.used_in.iter().any(|used| used.gone_out),
            logo: logo == Some(media.id),
            added: shown.added == Some(media.id),
            media,
        })
        .collect();
    let mut context = Context::new();
    context.insert("images", &rows);
    context.insert("total", &total);
    context.insert("page", &shown.page);
    context.insert("has_next", &(offset + PAGE_SIZE < total));
    context.insert("notice", &shown.notice);
    context.insert("error", &shown.error);
    context.insert("max_megabytes", &(MAX_IMAGE_BYTES / (1024 * 1024)));
    let mut response = page(state, owner, "media", "web/admin/media.html", &mut context);
    *response.status_mut() = status;
    Ok(response)
}

/// Did the page's script ask for JSON?
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/json"))
}

/// The status a refusal is answered with (the API's).
fn status_of(refusal: &MediaRefusal) -> StatusCode {
    match refusal {
        MediaRefusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        MediaRefusal::NotAnImage => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        MediaRefusal::NotFound => StatusCode::NOT_FOUND,
        MediaRefusal::InUse(_) | MediaRefusal::Logo => StatusCode::CONFLICT,
        MediaRefusal::Unexpected(_) => StatusCode::INTERNAL_SERVER_ERROR,
        MediaRefusal::Empty | MediaRefusal::Broken(_) | MediaRefusal::TooManyPixels { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
    }
}

async fn upload(
    State(state): State<AppState>,
    owner: Owner,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AdminError> {
    let json = wants_json(&headers);
    let (state, owner) = (&state, &owner);
    let refuse = |status: StatusCode, message: String| async move {
        if json {
            return Ok((status, Json(serde_json::json!({ "error": message }))).into_response());
        }
        let shown = Shown {
            page: 1,
            added: None,
            notice: None,
            error: Some(message),
        };
        render(state, owner, shown, status).await
    };
    let (data, name) = match take_upload(&headers, body).await {
        Ok(upload) => upload,
        Err(UploadError::TooLarge) => {
            let refusal = MediaRefusal::TooLarge;
            return refuse(status_of(&refusal), refusal.to_string()).await;
        }
        Err(UploadError::NoFile | UploadError::Unreadable) => {
            let message = "Choose an image to add (PNG, JPEG, GIF or WebP).".to_string();
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, message).await;
        }
    };
    match media::add(state, data, name.as_deref()).await {
        Ok(added) if json => Ok(Json(serde_json::json!({
            "id": added.id,
            "url": added.url,
            "markdown": format!("![]({})", added.url),
            "width": added.width,
            "height": added.height,
        }))
        .into_response()),
        Ok(added) => Ok(Redirect::to(&format!("/admin/media?added={}", added.id)).into_response()),
        Err(MediaRefusal::Unexpected(err)) => Err(err.into()),
        Err(refusal) => refuse(status_of(&refusal), refusal.to_string()).await,
    }
}

async fn remove(
    State(state): State<AppState>,
    owner: Owner,
    MediaId(id): MediaId,
) -> Result<Response, AdminError> {
    match media::delete(&state, id).await {
        Ok(()) => Ok(Redirect::to("/admin/media?deleted=1").into_response()),
        Err(MediaRefusal::NotFound) => Err(AdminError::no_media()),
        Err(MediaRefusal::Unexpected(err)) => Err(err.into()),
        Err(refusal) => {
            let shown = Shown {
                page: 1,
                added: None,
                notice: None,
                error: Some(refusal.to_string()),
            };
            render(&state, &owner, shown, status_of(&refusal)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_in_words() {
        assert_eq!(size_in_words(850), "850 bytes");
        assert_eq!(size_in_words(12 * 1024 + 100), "12 KB");
        assert_eq!(size_in_words(1_468_006), "1.4 MB");
    }
}
