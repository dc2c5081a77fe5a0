//! `POST /admin/tools/import`: a CSV file (uploaded, or its rows pasted) with the owner's
//! statement of how the people in it agreed, and the report of what the import did.
//!
//! The reading and the importing are `crate::lists`, shared with `hundred import`; this
//! module only takes the form apart and shows the outcome.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;
use serde::Serialize;
use tera::Context;

use super::{ImportFormValues, render_tools};
use crate::actions::lists::{self, ImportError, Upload};
use crate::lists::{ImportReport, MAX_WEB_FILE_BYTES};
use crate::web::AppState;
use crate::web::admin::{AdminError, Owner, page};

/// Rows of each list (rejected, skipped) the report page shows; the counts are complete.
const SHOWN_ROWS: usize = 500;
/// Pasted rows longer than this are not put back into the form after a refusal.
const MAX_REFILL_BYTES: usize = 64 * 1024;

/// The import form as sent.
#[derive(Debug, Default)]
struct ImportForm {
    file_name: Option<String>,
    file: Option<Bytes>,
    pasted: Option<String>,
    mode: Option<String>,
    basis_kind: Option<String>,
    basis: Option<String>,
}

pub(super) async fn import(
    State(state): State<AppState>,
    owner: Owner,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, AdminError> {
    let form = match read_form(&headers, body).await {
        Ok(form) => form,
        Err(message) => return Ok(refuse(&state, &owner, &ImportForm::default(), message)),
    };
    let mode = match lists::parse_mode(form.mode.as_deref()) {
        Ok(mode) => mode,
        Err(err) => return Ok(refuse(&state, &owner, &form, err.to_string())),
    };
    let (file, source_name) = match (&form.file, &form.pasted) {
        (Some(file), _) if !file.is_empty() => (
            Some(file.clone()),
            form.file_name.clone().unwrap_or_else(|| "the file".into()),
        ),
        (_, Some(pasted)) if !pasted.trim().is_empty() => (
            Some(Bytes::from(pasted.clone())),
            "the pasted rows".to_string(),
        ),
        _ => (None, String::new()),
    };
    let too_large = format!(
        "The file is too large: at most {} MB can be imported here. Split it, or use `hundred import` on the server.",
        MAX_WEB_FILE_BYTES / (1024 * 1024)
    );
    let upload = Upload {
        mode,
        basis_kind: form.basis_kind.as_deref(),
        basis: form.basis.as_deref(),
        file,
        limit: (MAX_WEB_FILE_BYTES, &too_large),
    };
    match lists::import(&state, upload, |_, _| {}).await {
        Ok(report) => Ok(report_page(&state, &owner, &report, &source_name)),
        Err(ImportError::Unexpected(err)) => Err(AdminError::Unexpected(err)),
        Err(err) => Ok(refuse(&state, &owner, &form, err.to_string())),
    }
}

/// What the import did: the counts, and the rows left out (the first of each list).
fn report_page(
    state: &AppState,
    owner: &Owner,
    report: &ImportReport,
    source_name: &str,
) -> Response {
    #[derive(Serialize)]
    struct Shown<'a, T> {
        rows: &'a [T],
        more: usize,
    }
    fn shown<T>(rows: &[T]) -> Shown<'_, T> {
        Shown {
            rows: &rows[..rows.len().min(SHOWN_ROWS)],
            more: rows.len().saturating_sub(SHOWN_ROWS),
        }
    }
    let mut context = Context::new();
    context.insert("report", report);
    context.insert("source_name", source_name);
    context.insert("rejected", &shown(&report.rejected));
    context.insert("skipped", &shown(&report.skipped));
    page(
        state,
        owner,
        "tools",
        "web/admin/import_report.html",
        &mut context,
    )
}

/// The tools page again, with what the owner entered and what to change.
fn refuse(state: &AppState, owner: &Owner, form: &ImportForm, message: String) -> Response {
    let pasted = form
        .pasted
        .clone()
        .filter(|p| p.len() <= MAX_REFILL_BYTES)
        .unwrap_or_default();
    let values = ImportFormValues {
        mode: lists::parse_mode(form.mode.as_deref()).ok(),
        basis_kind: form
            .basis_kind
            .as_deref()
            .and_then(crate::lists::BasisKind::parse),
        basis: form
            .basis
            .clone()
            .unwrap_or_default()
            .chars()
            .take(crate::lists::import::MAX_BASIS_CHARS)
            .collect(),
        pasted,
        error: Some(message),
    };
    let mut response = render_tools(state, owner, &values);
    *response.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    response
}

/// Takes the form apart: multipart (the page's form, with a file) or urlencoded (pasted
/// rows only).
async fn read_form(headers: &HeaderMap, body: Bytes) -> Result<ImportForm, String> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let unreadable = || "The form could not be read. Please choose the file again.".to_string();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        let mut form = ImportForm::default();
        for (key, value) in url::form_urlencoded::parse(&body) {
            let value = Some(value.into_owned());
            match key.as_ref() {
                "csv" => form.pasted = value,
                "mode" => form.mode = value,
                "basis_kind" => form.basis_kind = value,
                "basis" => form.basis = value,
                _ => {}
            }
        }
        return Ok(form);
    }
    if !content_type.starts_with("multipart/form-data") {
        return Err(unreadable());
    }
    let boundary = multer::parse_boundary(content_type).map_err(|_| unreadable())?;
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    let mut form = ImportForm::default();
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "file" {
            form.file_name = field
                .file_name()
                .map(|n| n.chars().filter(|c| !c.is_control()).take(200).collect())
                .filter(|n: &String| !n.is_empty());
            form.file = Some(field.bytes().await.map_err(|_| unreadable())?);
            continue;
        }
        let text = field.text().await.map_err(|_| unreadable())?;
        match name.as_str() {
            "csv" => form.pasted = Some(text),
            "mode" => form.mode = Some(text),
            "basis_kind" => form.basis_kind = Some(text),
            "basis" => form.basis = Some(text),
            _ => {}
        }
    }
    Ok(form)
}
