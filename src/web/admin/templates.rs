//! `/admin/templates`: the layouts, system messages and page words, each edited with a live
//! preview as a chosen subscriber in a chosen language.
//!
//! The editor posts its parts to `…/preview` as the owner types (the vendored
//! `templates.js`, with the CSRF token in `X-CSRF-Token`) and shows the answer; without
//! JavaScript its "Preview" button renders the same preview on the server. Saving checks
//! what sending would (`actions::templates`); a refusal shows the page again with what was
//! typed and the sentence (with the line) next to the part at fault, 422.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use tera::Context;
use uuid::Uuid;

use super::{AdminError, COMPOSE_CSP, Owner, page};
use crate::actions::templates::{self, Preview, Reset, TemplateRefusal};
use crate::domain::Language;
use crate::templates::editable::{Parts, TemplateKind, TemplateName};
use crate::web::AppState;
use crate::web::routes::Routes;

/// How many subscribers the "preview as" choice offers.
const PREVIEW_PEOPLE: i64 = 50;

pub fn routes() -> Routes {
    Routes::new()
        .route("/admin/templates", get(list_page).post(add_layout))
        .route("/admin/templates/{kind}/{name}", get(edit_page).post(save))
        .route("/admin/templates/{kind}/{name}/reset", post(reset))
        .route("/admin/templates/{kind}/{name}/preview", post(preview))
}

#[derive(Deserialize, Default)]
struct ListQuery {
    removed: Option<String>,
}

async fn list_page(
    State(state): State<AppState>,
    owner: Owner,
    Query(query): Query<ListQuery>,
) -> Response {
    list(
        &state,
        &owner,
        None,
        query.removed.as_deref(),
        StatusCode::OK,
    )
}

fn list(
    state: &AppState,
    owner: &Owner,
    problem: Option<(&str, String)>,
    removed: Option<&str>,
    status: StatusCode,
) -> Response {
    let all = templates::list(state);
    let section = |kind: TemplateKind, title: &str, note: &str| {
        serde_json::json!({
            "kind": kind,
            "title": title,
            "note": note,
            "items": all.iter().filter(|t| t.kind == kind).collect::<Vec<_>>(),
        })
    };
    let sections = [
        section(
            TemplateKind::Layout,
            "Email layouts",
            "A layout wraps a campaign (the composer picks one) and, the default one, the system messages: your logo or list name, the footer with the unsubscribe link and your postal address.",
        ),
        section(
            TemplateKind::Message,
            "System messages",
            "Sent by hundred itself, wrapped in the default layout.",
        ),
        section(
            TemplateKind::Page,
            "Public pages",
            "The words on the pages your readers see when they sign up, confirm, unsubscribe or stay.",
        ),
    ];
    let mut context = Context::new();
    context.insert("sections", &sections);
    context.insert("typed_name", &problem.as_ref().map(|(typed, _)| *typed));
    context.insert("error", &problem.as_ref().map(|(_, message)| message));
    context.insert(
        "notice",
        &removed.map(|name| format!("The layout “{name}” is removed.")),
    );
    let mut response = page(
        state,
        owner,
        "templates",
        "web/admin/templates.html",
        &mut context,
    );
    *response.status_mut() = status;
    response
}

#[derive(Deserialize)]
struct NewLayout {
    name: String,
}

/// Adds a layout, a copy of the default layout as it stands, and opens it.
async fn add_layout(
    State(state): State<AppState>,
    owner: Owner,
    Form(form): Form<NewLayout>,
) -> Result<Response, AdminError> {
    let typed: String = form.name.trim().chars().take(100).collect();
    let refuse = |message: String| {
        Ok(list(
            &state,
            &owner,
            Some((typed.as_str(), message)),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ))
    };
    let Some(name) = TemplateName::layout(&typed) else {
        return refuse(format!(
            "A layout's name is 1 to {} lower-case letters, digits and dashes, such as “autumn” or “plain-2027”.",
            crate::templates::editable::MAX_LAYOUT_NAME
        ));
    };
    if state.settings().templates.resolve(&name).is_some() {
        return refuse(format!("There is a layout called “{typed}” already."));
    }
    let default = templates::get(&state, "layout/default")
        .await
        .map_err(refusal)?;
    templates::save(&state, name.as_str(), default.parts)
        .await
        .map_err(refusal)?;
    Ok(Redirect::to(&format!("/admin/templates/{name}?saved=1")).into_response())
}

fn refusal(refusal: TemplateRefusal) -> AdminError {
    match refusal {
        TemplateRefusal::NotFound(_) => AdminError::NotFound {
            title: "No such template",
            message: refusal.to_string(),
        },
        TemplateRefusal::InUse(_) => AdminError::Conflict {
            title: "The layout is in use",
            message: refusal.to_string(),
        },
        TemplateRefusal::Unexpected(err) => AdminError::Unexpected(err),
        other => AdminError::Invalid {
            title: "The template cannot be used",
            message: other.to_string(),
        },
    }
}

#[derive(Deserialize, Default)]
struct EditQuery {
    saved: Option<String>,
    reset: Option<String>,
}

/// What the editor shows besides the template: what was typed, the problem, the preview.
#[derive(Default)]
struct Shown {
    typed: Option<Parts>,
    problem: Option<(String, String)>,
    preview: Option<Preview>,
    preview_as: Option<Uuid>,
    language: Option<Language>,
    notice: Option<&'static str>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

async fn edit_page(
    State(state): State<AppState>,
    owner: Owner,
    Path((kind, name)): Path<(String, String)>,
    Query(query): Query<EditQuery>,
) -> Result<Response, AdminError> {
    let shown = Shown {
        notice: if query.saved.is_some() {
            Some("Saved: in effect now, on every instance within a few seconds.")
        } else if query.reset.is_some() {
            Some("Back to the shipped default.")
        } else {
            None
        },
        ..Shown::default()
    };
    editor(
        &state,
        &owner,
        &format!("{kind}/{name}"),
        shown,
        StatusCode::OK,
    )
    .await
}

async fn editor(
    state: &AppState,
    owner: &Owner,
    name: &str,
    shown: Shown,
    status: StatusCode,
) -> Result<Response, AdminError> {
    let view = templates::get(state, name).await.map_err(refusal)?;
    let people = state.store.preview_people(PREVIEW_PEOPLE).await?;
    let mut people_choices = vec![Choice {
        value: String::new(),
        label: "Someone with no name (someone@example.com)".into(),
        selected: shown.preview_as.is_none(),
    }];
    people_choices.extend(people.into_iter().map(|(id, email)| Choice {
        selected: shown.preview_as == Some(id),
        value: id.to_string(),
        label: email,
    }));
    let language = shown.language.unwrap_or(state.settings().language);
    let languages: Vec<Choice> = Language::ALL
        .iter()
        .map(|l| Choice {
            value: l.code().to_string(),
            label: l.name().to_string(),
            selected: *l == language,
        })
        .collect();
    let mut context = Context::new();
    context.insert("typed", &shown.typed.as_ref().unwrap_or(&view.parts));
    context.insert("template", &view);
    context.insert("problem_part", &shown.problem.as_ref().map(|(p, _)| p));
    context.insert("problem", &shown.problem.as_ref().map(|(_, m)| m));
    context.insert(
        "preview_document",
        &shown
            .preview
            .as_ref()
            .map(|preview| document(preview, view.summary.kind, language)),
    );
    context.insert("preview", &shown.preview);
    context.insert("people", &people_choices);
    context.insert("languages", &languages);
    context.insert("notice", &shown.notice);
    let mut response = page(
        state,
        owner,
        "templates",
        "web/admin/template.html",
        &mut context,
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(COMPOSE_CSP),
    );
    Ok(response)
}

/// What the preview frame shows: a message as it is, page words on a plain page.
fn document(preview: &Preview, kind: TemplateKind, language: Language) -> String {
    match kind {
        TemplateKind::Page => format!(
            "<!doctype html><html lang=\"{}\"><meta charset=\"utf-8\"><body style=\"font:16px/1.6 system-ui,sans-serif;margin:16px;max-width:36rem\">{}</body></html>",
            language.code(),
            preview.html
        ),
        _ => preview.html.clone(),
    }
}

/// The editor's form: the parts, and who and in which language to preview as.
struct EditorForm {
    parts: Parts,
    preview_as: Option<Uuid>,
    language: Option<Language>,
    action: String,
}

impl EditorForm {
    fn read(name: &TemplateName, fields: Vec<(String, String)>) -> Result<Self, String> {
        let keys: Vec<&str> = name.kind().parts().iter().map(|p| p.key).collect();
        let mut form = Self {
            parts: Parts::new(),
            preview_as: None,
            language: None,
            action: String::new(),
        };
        for (key, value) in fields {
            match key.as_str() {
                "preview_as" if value.is_empty() => {}
                "preview_as" => {
                    form.preview_as =
                        Some(Uuid::parse_str(&value).map_err(|_| {
                            "Choose someone to preview as from the list.".to_string()
                        })?);
                }
                "language" => {
                    form.language = Some(
                        Language::parse(&value)
                            .map_err(|_| "Choose a language from the list.".to_string())?,
                    );
                }
                "action" => form.action = value,
                key if keys.contains(&key) => {
                    // Browsers send line breaks as CRLF; the templates keep LF.
                    form.parts
                        .insert(key.to_string(), value.replace("\r\n", "\n"));
                }
                _ => {}
            }
        }
        Ok(form)
    }
}

impl EditorForm {
    /// The template `name` with these parts, as the chosen person in the chosen language.
    async fn preview(
        &self,
        state: &AppState,
        name: &TemplateName,
    ) -> Result<Preview, TemplateRefusal> {
        templates::preview(
            state,
            name.as_str(),
            &self.parts,
            self.preview_as,
            self.language,
        )
        .await
    }
}

fn template_name(kind: &str, name: &str) -> Result<TemplateName, AdminError> {
    TemplateName::parse(&format!("{kind}/{name}"))
        .ok_or_else(|| refusal(TemplateRefusal::NotFound(format!("{kind}/{name}"))))
}

/// Saves (or, with `action=preview`, previews on the server) the editor's form.
async fn save(
    State(state): State<AppState>,
    owner: Owner,
    Path((kind, name)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Response, AdminError> {
    let name = template_name(&kind, &name)?;
    let form = EditorForm::read(&name, fields).map_err(|message| AdminError::Invalid {
        title: "The preview cannot be made",
        message,
    })?;
    let mut shown = Shown {
        typed: Some(form.parts.clone()),
        preview_as: form.preview_as,
        language: form.language,
        ..Shown::default()
    };
    if form.action == "preview" {
        match form.preview(&state, &name).await {
            Ok(preview) => shown.preview = Some(preview),
            Err(TemplateRefusal::Unexpected(err)) => return Err(err.into()),
            Err(err) => shown.problem = Some(problem(&err)),
        }
        return editor(&state, &owner, name.as_str(), shown, StatusCode::OK).await;
    }
    match templates::save(&state, name.as_str(), form.parts).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/templates/{name}?saved=1")).into_response()),
        Err(TemplateRefusal::Unexpected(err)) => Err(err.into()),
        Err(TemplateRefusal::NotFound(missing)) => Err(refusal(TemplateRefusal::NotFound(missing))),
        Err(err) => {
            shown.problem = Some(problem(&err));
            editor(
                &state,
                &owner,
                name.as_str(),
                shown,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

/// The part at fault and the sentence, with the line.
fn problem(refusal: &TemplateRefusal) -> (String, String) {
    match refusal {
        TemplateRefusal::Invalid { part, line, reason } => (
            part.clone(),
            match line {
                Some(line) if !reason.contains("line ") => format!("Line {line}: {reason}"),
                _ => reason.clone(),
            },
        ),
        TemplateRefusal::NoSuchSubscriber => ("preview_as".into(), refusal.to_string()),
        other => (String::new(), other.to_string()),
    }
}

async fn reset(
    State(state): State<AppState>,
    _owner: Owner,
    Path((kind, name)): Path<(String, String)>,
) -> Result<Response, AdminError> {
    let name = template_name(&kind, &name)?;
    Ok(match templates::reset(&state, name.as_str())
        .await
        .map_err(refusal)?
    {
        Reset::Default(_) => Redirect::to(&format!("/admin/templates/{name}?reset=1")),
        Reset::Removed => Redirect::to(&format!("/admin/templates?removed={}", name.short())),
    }
    .into_response())
}

/// `POST …/preview` (the editor's fields): `{subject, html, text}` as JSON, or the problem
/// with 422 (`{error, field}`).
async fn preview(
    State(state): State<AppState>,
    _owner: Owner,
    Path((kind, name)): Path<(String, String)>,
    Form(fields): Form<Vec<(String, String)>>,
) -> Response {
    let answer = |status: StatusCode, field: &str, message: String| {
        (
            status,
            Json(serde_json::json!({ "error": message, "field": field })),
        )
            .into_response()
    };
    let Some(name) = TemplateName::parse(&format!("{kind}/{name}")) else {
        return answer(
            StatusCode::NOT_FOUND,
            "",
            "There is no such template.".into(),
        );
    };
    let form = match EditorForm::read(&name, fields) {
        Ok(form) => form,
        Err(message) => return answer(StatusCode::UNPROCESSABLE_ENTITY, "", message),
    };
    match form.preview(&state, &name).await {
        Ok(preview) => Json(preview).into_response(),
        Err(TemplateRefusal::Unexpected(err)) => AdminError::Unexpected(err).into_response(),
        Err(err) => {
            let (field, message) = problem(&err);
            answer(StatusCode::UNPROCESSABLE_ENTITY, &field, message)
        }
    }
}
