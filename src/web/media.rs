//! Images: the public `GET /media/{hash}.{ext}` that serves them (to mail programs and
//! pages alike: no session), and taking an upload apart for the API and the admin pages
//! (the image as the body, or the `file` field of a multipart form).

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures::StreamExt;

use super::AppState;
use crate::actions::media::{Kind, MAX_IMAGE_BYTES};

/// What a multipart upload may carry around its image (boundaries, headers, a CSRF field).
pub const MULTIPART_OVERHEAD: usize = 64 * 1024;
/// What is read of a body over the limit before answering, so a client still sending gets
/// to read the answer instead of a broken connection; a larger declared length is refused
/// at once.
const DRAIN_BYTES: u64 = 64 * 1024 * 1024;

pub fn router() -> Router<AppState> {
    Router::new().route("/media/{file}", get(serve))
}

/// `GET /media/{hash}.{ext}`: the stored bytes with their type, cached for good (the name
/// is the content's hash, so it never changes); 404 for anything else.
async fn serve(State(state): State<AppState>, Path(file): Path<String>) -> Response {
    let Some((hash, ext)) = file.split_once('.') else {
        return not_found();
    };
    let well_formed = hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !well_formed || Kind::of_ext(ext).is_none() {
        return not_found();
    }
    match state.store.media_file(hash, ext).await {
        Ok(Some(media)) => (
            [
                (header::CONTENT_TYPE, media.content_type),
                (
                    header::CACHE_CONTROL,
                    "public, max-age=31536000, immutable".to_string(),
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            ],
            media.data,
        )
            .into_response(),
        Ok(None) => not_found(),
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "serving an image failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CACHE_CONTROL, "no-store")],
        "No such image.",
    )
        .into_response()
}

/// Why an upload could not be taken apart.
#[derive(Debug)]
pub enum UploadError {
    /// Over the image limit (with room for a form around it).
    TooLarge,
    /// A multipart form without a `file` field, or one that cannot be read.
    NoFile,
    /// The connection broke while the body was being sent.
    Unreadable,
}

/// Is this body a multipart form (else it is the image itself)?
fn is_multipart(headers: &HeaderMap) -> bool {
    content_type(headers).starts_with("multipart/form-data")
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// Reads a request body for an upload: the image itself, or a multipart form around it;
/// over the limit, the rest is read and dropped (up to `DRAIN_BYTES`) so the client sees
/// the answer.
pub async fn read_body(headers: &HeaderMap, body: Body) -> Result<Bytes, UploadError> {
    let limit = if is_multipart(headers) {
        MAX_IMAGE_BYTES + MULTIPART_OVERHEAD
    } else {
        MAX_IMAGE_BYTES
    } as u64;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > DRAIN_BYTES) {
        return Err(UploadError::TooLarge);
    }
    let mut stream = body.into_data_stream();
    let mut read: Vec<u8> = Vec::new();
    let mut seen: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| UploadError::Unreadable)?;
        seen += chunk.len() as u64;
        if seen > DRAIN_BYTES {
            return Err(UploadError::TooLarge);
        }
        if seen <= limit {
            read.extend_from_slice(&chunk);
        } else if !read.is_empty() {
            read = Vec::new();
        }
    }
    if seen > limit {
        return Err(UploadError::TooLarge);
    }
    Ok(Bytes::from(read))
}

/// An upload as sent: the image's bytes and the file name it came with, if any. A
/// multipart form's image is its `file` field; any other body is the image itself
/// (whatever its declared type: the bytes are judged, not the label).
pub async fn take_upload(
    headers: &HeaderMap,
    body: Bytes,
) -> Result<(Vec<u8>, Option<String>), UploadError> {
    if !is_multipart(headers) {
        return Ok((body.to_vec(), None));
    }
    let boundary =
        multer::parse_boundary(content_type(headers)).map_err(|_| UploadError::NoFile)?;
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|_| UploadError::NoFile)?
    {
        if field.name() == Some("file") {
            let name = field.file_name().map(str::to_string);
            let data = field.bytes().await.map_err(|_| UploadError::NoFile)?;
            return Ok((data.to_vec(), name));
        }
    }
    Err(UploadError::NoFile)
}

/// The `Connection: close` a refusal sent before the body was read needs.
pub fn closing(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}
