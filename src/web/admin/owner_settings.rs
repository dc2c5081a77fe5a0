//! `POST /admin/settings`: saves the owner's settings from the settings page's form. A
//! refused value shows the page again with what was typed and the sentence next to its
//! field (422), and nothing is saved; a saved form goes back to the page (303).

use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

use super::Owner;
use super::settings::{Edited, render};
use crate::actions::settings::{self, SettingsError};
use crate::config::OwnerSetting;
use crate::web::AppState;

pub async fn save(
    State(state): State<AppState>,
    owner: Owner,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    // Only the settings' own fields: the CSRF token and anything else are not settings.
    let typed: Vec<(String, String)> = fields
        .into_iter()
        .filter(|(key, _)| OwnerSetting::named(key).is_some())
        .map(|(key, value)| (key, value.chars().take(2000).collect()))
        .collect();
    let changes = typed
        .iter()
        .map(|(key, value)| (key.clone(), Some(value.clone())))
        .collect();
    match settings::change(&state, changes).await {
        Ok(_) => Redirect::to("/admin/settings?saved=1").into_response(),
        Err(SettingsError::Unexpected(err)) => {
            crate::web::admin::AdminError::from(err).into_response()
        }
        Err(refusal) => {
            let form = Edited {
                typed: typed.into_iter().collect(),
                problem: refusal
                    .key()
                    .map(|key| (key.to_string(), refusal.to_string())),
                saved: false,
            };
            let to = owner.email.clone();
            render(
                &state,
                &owner,
                &to,
                None,
                &form,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
