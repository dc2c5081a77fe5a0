//! `/api/v1/templates`: the layouts, system messages and page words the owner edits.
//!
//! `GET /templates` lists them; `GET /templates/{kind}/{name}` answers one with its parts,
//! its shipped default, its placeholders and its versions; `PUT` saves a new version (an
//! object of its parts, or `{"parts": {…}}`), checked as sending would: 422 names the part,
//! the line where known and what is wrong, and nothing is saved; `DELETE` goes back to the
//! shipped default (a layout of the owner's own is removed, 409 while a campaign not yet
//! sent uses it); `POST …/preview` renders parts without saving them.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use uuid::Uuid;

use super::{ApiToken, parse_json};
use crate::actions::templates::{self, Reset, TemplateRefusal};
use crate::domain::Language;
use crate::templates::editable::Parts;
use crate::web::routes::Routes;
use crate::web::{ApiError, AppState};

/// The largest body a template route reads: every part at its longest, escaped as JSON.
pub const MAX_BODY_BYTES: usize = 4 * crate::actions::templates::MAX_PART_BYTES;

pub fn routes() -> Routes {
    Routes::new()
        .route("/templates", get(list))
        .route(
            "/templates/{kind}/{name}",
            get(show).put(save).delete(reset).layer(body_limit()),
        )
        .route(
            "/templates/{kind}/{name}/preview",
            post(preview).layer(body_limit()),
        )
}

fn body_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES)
}

impl From<TemplateRefusal> for ApiError {
    fn from(refusal: TemplateRefusal) -> Self {
        match refusal {
            TemplateRefusal::NotFound(_) => ApiError::NoSuch(refusal.to_string()),
            TemplateRefusal::Invalid { part, line, reason } => ApiError::InvalidAt {
                message: match line {
                    Some(line) if !reason.contains("line ") => {
                        format!("{part}, line {line}: {reason}")
                    }
                    _ => format!("{part}: {reason}"),
                },
                field: part,
                line,
            },
            TemplateRefusal::InUse(_) => ApiError::Conflict(refusal.to_string()),
            TemplateRefusal::NoSuchSubscriber => ApiError::Invalid {
                field: "subscriber",
                message: refusal.to_string(),
            },
            TemplateRefusal::Unexpected(err) => ApiError::Unexpected(err),
        }
    }
}

async fn list(_token: ApiToken, State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(serde_json::json!({ "templates": templates::list(&state) }))
}

async fn show(
    _token: ApiToken,
    State(state): State<AppState>,
    Path((kind, name)): Path<(String, String)>,
) -> Result<Json<templates::TemplateView>, ApiError> {
    Ok(Json(
        templates::get(&state, &format!("{kind}/{name}")).await?,
    ))
}

/// The parts in a body: `{"parts": {…}}` or the parts themselves, each a string.
fn parts_of(value: &serde_json::Value) -> Result<Parts, ApiError> {
    let object = value
        .get("parts")
        .filter(|parts| parts.is_object())
        .unwrap_or(value)
        .as_object()
        .ok_or_else(|| {
            ApiError::BadRequest("the body must be a JSON object of the template's parts".into())
        })?;
    object
        .iter()
        .map(|(key, value)| match value.as_str() {
            Some(text) => Ok((key.clone(), text.to_string())),
            None => Err(ApiError::InvalidAt {
                field: key.clone(),
                line: None,
                message: format!("{key}: must be text"),
            }),
        })
        .collect()
}

async fn save(
    _token: ApiToken,
    State(state): State<AppState>,
    Path((kind, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<templates::TemplateView>, ApiError> {
    let value: serde_json::Value = parse_json(&body)?;
    let parts = parts_of(&value)?;
    Ok(Json(
        templates::save(&state, &format!("{kind}/{name}"), parts).await?,
    ))
}

async fn reset(
    _token: ApiToken,
    State(state): State<AppState>,
    Path((kind, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    Ok(
        match templates::reset(&state, &format!("{kind}/{name}")).await? {
            Reset::Default(view) => Json(*view).into_response(),
            Reset::Removed => StatusCode::NO_CONTENT.into_response(),
        },
    )
}

/// `{"parts": {…}, "subscriber": id?, "language": "de"?}` → `{subject, html, text}`.
async fn preview(
    _token: ApiToken,
    State(state): State<AppState>,
    Path((kind, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Json<templates::Preview>, ApiError> {
    let value: serde_json::Value = parse_json(&body)?;
    let parts = parts_of(value.get("parts").unwrap_or(&serde_json::Value::Null))?;
    let subscriber = match value.get("subscriber") {
        None | Some(serde_json::Value::Null) => None,
        Some(id) => Some(id.as_str().and_then(|id| Uuid::parse_str(id).ok()).ok_or(
            ApiError::Invalid {
                field: "subscriber",
                message: "subscriber must be a subscriber's id".into(),
            },
        )?),
    };
    let language = match value.get("language") {
        None | Some(serde_json::Value::Null) => None,
        Some(code) => Some(
            code.as_str()
                .and_then(|code| Language::parse(code).ok())
                .ok_or(ApiError::Invalid {
                    field: "language",
                    message: "language must be one of en, de, fr, es".into(),
                })?,
        ),
    };
    Ok(Json(
        templates::preview(
            &state,
            &format!("{kind}/{name}"),
            &parts,
            subscriber,
            language,
        )
        .await?,
    ))
}
