//! `/admin/tools/form`: the signup form for the owner's website, ready to copy (a plain
//! HTML form, and a version that posts with a script and shows the answer in place), with
//! a working preview.
//!
//! Both post exactly what `POST /subscribe` takes: `email`, an optional `name`, and the
//! honeypot `website`, hidden from people and left empty by them. The script version sends
//! JSON, which `/subscribe` accepts from any origin (CORS), and shows its `message` or
//! `error`.

use axum::extract::State;
use axum::response::Response;
use tera::Context;

use crate::web::AppState;
use crate::web::admin::{AdminError, Owner, page};

const PLAIN: &str = "web/admin/snippets/signup_form.html";
const SCRIPTED: &str = "web/admin/snippets/signup_script.html";

pub(super) async fn snippet_page(
    State(state): State<AppState>,
    owner: Owner,
) -> Result<Response, AdminError> {
    let public = format!("{}/subscribe", state.config.public_base());
    // The preview posts to this server whatever its public address, so it works however
    // the owner reached this page.
    let rendered = [
        (PLAIN, public.as_str()),
        (SCRIPTED, public.as_str()),
        (PLAIN, "/subscribe"),
    ]
    .map(|(template, action)| snippet(&state, template, action));
    let [plain, scripted, preview] = rendered;
    let (plain, scripted, preview) = (plain?, scripted?, preview?);
    let mut context = Context::new();
    context.insert("subscribe_url", &public);
    let archive = format!("{}/archive", state.config.public_base());
    context.insert(
        "archive_snippet",
        &format!(r#"<a href="{archive}">Read past issues</a>"#),
    );
    context.insert("archive_url", &archive);
    context.insert("plain_snippet", &plain);
    context.insert("script_snippet", &scripted);
    // Our own template, its one value escaped in it: safe to show as HTML.
    context.insert("preview", &preview);
    Ok(page(
        &state,
        &owner,
        "tools",
        "web/admin/form_snippet.html",
        &mut context,
    ))
}

fn snippet(state: &AppState, template: &str, action: &str) -> anyhow::Result<String> {
    let mut context = Context::new();
    // The form goes on the owner's website, for readers: in their language.
    context.insert("lang", state.language().code());
    context.insert("action", action);
    context.insert("list_name", &state.settings().list_name());
    context.insert("consent_text", &state.settings().consent_text());
    Ok(state
        .templates
        .render(template, &context)?
        .trim()
        .to_string())
}
