//! `GET`/`PATCH /api/v1/settings`: the owner's settings in the app, as JSON.
//!
//! `GET` answers every setting with its value in effect and, under `fixed`, those an
//! environment variable fixes. `PATCH` takes an object of the settings to change
//! (`null`: back to the default); a bad value is 422 naming the field, a fixed one 409
//! naming the variable, and then nothing is saved.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::get;

use super::{ApiToken, parse_json};
use crate::actions::settings::{self, SettingsError};
use crate::web::routes::Routes;
use crate::web::{ApiError, AppState};

pub fn routes() -> Routes {
    Routes::new().route("/settings", get(show).patch(change))
}

/// Every setting by its key, and `fixed`: key → the variable that fixes it.
fn answer(state: &AppState) -> Json<serde_json::Value> {
    let mut values = serde_json::Map::new();
    let mut fixed = serde_json::Map::new();
    for shown in settings::shown(state) {
        values.insert(shown.key.into(), shown.value);
        if let Some(variable) = shown.fixed_by {
            fixed.insert(shown.key.into(), variable.into());
        }
    }
    values.insert("fixed".into(), fixed.into());
    Json(values.into())
}

async fn show(_token: ApiToken, State(state): State<AppState>) -> Json<serde_json::Value> {
    answer(&state)
}

async fn change(
    _token: ApiToken,
    State(state): State<AppState>,
    body: Bytes,
) -> Result<Json<serde_json::Value>, ApiError> {
    let input: serde_json::Map<String, serde_json::Value> = parse_json(&body)?;
    let mut changes = Vec::with_capacity(input.len());
    for (key, value) in input {
        let text = match value {
            serde_json::Value::Null => None,
            serde_json::Value::String(text) => Some(text),
            serde_json::Value::Bool(on) => Some(if on { "on" } else { "off" }.to_string()),
            serde_json::Value::Number(number) => Some(number.to_string()),
            _ => {
                return Err(ApiError::BadRequest(format!(
                    "'{key}' must be a string, a number, true or false, or null"
                )));
            }
        };
        changes.push((key, text));
    }
    settings::change(&state, changes)
        .await
        .map_err(|err| match err {
            SettingsError::Unknown(_) => ApiError::BadRequest(err.to_string()),
            SettingsError::Fixed { .. } => ApiError::Conflict(err.to_string()),
            SettingsError::Invalid { key, .. } => ApiError::Invalid {
                field: key,
                message: err.to_string(),
            },
            SettingsError::Unexpected(err) => ApiError::Unexpected(err),
        })?;
    Ok(answer(&state))
}
