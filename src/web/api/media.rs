//! `/api/v1/media`: add an image (the body itself, or multipart `file`), list them, delete
//! one no campaign that went out shows. Its routes have their own body limit (an image is
//! larger than any JSON), so they are mounted apart from the other API routes (`router`).

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};

use super::{ApiToken, Paging, parse_id};
use crate::actions::media::{self, MediaRefusal};
use crate::web::media::{UploadError, closing, read_body, take_upload};
use crate::web::routes::Routes;
use crate::web::{ApiError, AppState};

/// The most images one page of the list holds.
const MAX_PAGE: i64 = 500;

pub fn routes() -> Routes {
    Routes::new()
        .route("/media", get(list).post(add))
        .route("/media/{id}", delete(remove))
}

impl From<MediaRefusal> for ApiError {
    fn from(refusal: MediaRefusal) -> Self {
        let message = refusal.to_string();
        match refusal {
            MediaRefusal::TooLarge => ApiError::TooLarge(message),
            MediaRefusal::NotAnImage => ApiError::Unsupported(message),
            MediaRefusal::Empty | MediaRefusal::Broken(_) | MediaRefusal::TooManyPixels { .. } => {
                ApiError::Invalid {
                    field: "file",
                    message,
                }
            }
            MediaRefusal::NotFound => ApiError::NotFound,
            MediaRefusal::InUse(_) | MediaRefusal::Logo => ApiError::Conflict(message),
            MediaRefusal::Unexpected(err) => ApiError::Unexpected(err),
        }
    }
}

async fn add(
    _token: ApiToken,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Response> {
    let refused = |error: UploadError| match error {
        UploadError::TooLarge => closing(ApiError::from(MediaRefusal::TooLarge).into_response()),
        UploadError::NoFile => ApiError::BadRequest(
            "send the image as the request's body, or as the field \"file\" of a multipart form"
                .into(),
        )
        .into_response(),
        UploadError::Unreadable => {
            ApiError::BadRequest("the body did not arrive whole; send it again".into())
                .into_response()
        }
    };
    let body = read_body(&headers, body).await.map_err(refused)?;
    let (data, name) = take_upload(&headers, body).await.map_err(refused)?;
    let added = media::add(&state, data, name.as_deref())
        .await
        .map_err(|refusal| ApiError::from(refusal).into_response())?;
    Ok((StatusCode::CREATED, Json(added.json())).into_response())
}

async fn list(
    _token: ApiToken,
    State(state): State<AppState>,
    Query(paging): Query<Paging>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let (limit, offset) = paging.limit_offset(MAX_PAGE)?;
    let total = state.store.media_count().await?;
    let images = media::list(&state, limit, offset).await?;
    let images: Vec<_> = images
        .iter()
        .map(|image| {
            let mut json = image.json();
            json["used_in"] = serde_json::json!(
                image
                    .used_in
                    .iter()
                    .map(|used| serde_json::json!({
                        "campaign_id": used.campaign_id,
                        "subject": used.subject,
                        "status": used.status,
                    }))
                    .collect::<Vec<_>>()
            );
            json
        })
        .collect();
    Ok(Json(serde_json::json!({
        "total": total,
        "limit": limit,
        "offset": offset,
        "media": images,
    })))
}

async fn remove(
    _token: ApiToken,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = parse_id(&id)?;
    media::delete(&state, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
