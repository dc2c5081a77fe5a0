//! `/admin/tools`, the list tools: import a CSV file, download the list as CSV, the signup
//! form for a website, and asking dormant subscribers whether they still want the list.

mod import;
mod repermission;
mod snippet;

use crate::web::admin::IMPORT_PATH;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::TryStreamExt as _;
use serde::Serialize;
use tera::Context;
use time::OffsetDateTime;

use super::{Owner, page};
use crate::lists::{BasisKind, ImportMode};
use crate::web::AppState;
use crate::web::routes::Routes;

pub fn routes() -> Routes {
    Routes::new()
        .route("/admin/tools", get(tools_page))
        .route(IMPORT_PATH, post(import::import))
        .route("/admin/tools/export.csv", get(export))
        .route("/admin/tools/form", get(snippet::snippet_page))
        .merge(repermission::routes())
}

/// What the import form shows: the owner's last answers after a refusal, and the error.
#[derive(Debug, Clone, Default, Serialize)]
struct ImportFormValues {
    mode: Option<ImportMode>,
    basis_kind: Option<BasisKind>,
    basis: String,
    pasted: String,
    error: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    value: &'static str,
    label: &'static str,
}

async fn tools_page(State(state): State<AppState>, owner: Owner) -> Response {
    render_tools(&state, &owner, &ImportFormValues::default())
}

/// The tools page, with the import form as the owner left it.
fn render_tools(state: &AppState, owner: &Owner, values: &ImportFormValues) -> Response {
    let choices: Vec<Choice> = BasisKind::ALL
        .into_iter()
        .map(|kind| Choice {
            value: kind.as_str(),
            label: kind.label(),
        })
        .collect();
    let mut context = Context::new();
    context.insert("form", values);
    context.insert("basis_choices", &choices);
    context.insert(
        "max_megabytes",
        &(crate::lists::MAX_WEB_FILE_BYTES / (1024 * 1024)),
    );
    page(state, owner, "tools", "web/admin/tools.html", &mut context)
}

/// The whole list as CSV, streamed a page of subscribers at a time.
async fn export(State(state): State<AppState>, _owner: Owner) -> Response {
    let chunks = crate::actions::lists::export(&state, true).map_err(|err| {
        tracing::error!(error = %format!("{err:#}"), "the CSV export stopped");
        std::io::Error::other("the export stopped")
    });
    let date = OffsetDateTime::now_utc().date();
    let disposition = format!(
        "attachment; filename=\"subscribers-{}-{:02}-{:02}.csv\"",
        date.year(),
        u8::from(date.month()),
        date.day()
    );
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(chunks),
    )
        .into_response()
}
