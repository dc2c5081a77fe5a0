//! Writing a campaign: the compose form for a new campaign and for a draft, its live
//! preview and audience size (small JSON endpoints for the vendored script), a test copy,
//! and the way on to the confirmation page.
//!
//! Without JavaScript everything still works: "Preview" renders the same preview on the
//! server, and the audience size shows for what was last submitted.

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum::routing::{get, post};
use serde::Serialize;
use tera::Context;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::form::{ComposeForm, FieldErrors, Intent};
use super::{load_draft, to_report};
use crate::domain::{Tier, audience_sentence};
use crate::mail::draft;
use crate::mail::render::{CampaignContent, CompiledCampaign, LAYOUTS, RenderedCopy};
use crate::store::{CampaignDraft, CampaignError, Timestamp};
use crate::web::AppState;
use crate::web::admin::{AdminError, COMPOSE_CSP, CampaignId, Owner, page};
use crate::web::routes::Routes;

/// How many subscribers the "preview as" choice offers.
const PREVIEW_PEOPLE: i64 = 12;

pub fn routes() -> Routes {
    Routes::new()
        .route("/admin/campaigns/new", get(new_form).post(create))
        .route("/admin/campaigns/preview", post(preview))
        .route("/admin/campaigns/audience", get(audience))
        .route("/admin/campaigns/{id}/edit", get(edit_form).post(update))
}

/// What the form page shows besides the fields.
#[derive(Default)]
struct Shown {
    errors: FieldErrors,
    notice: Option<String>,
    preview: Option<RenderedCopy>,
}

#[derive(Serialize)]
struct TierChoice {
    name: &'static str,
    checked: bool,
}

#[derive(Serialize)]
struct PersonChoice {
    id: Uuid,
    email: String,
    selected: bool,
}

#[derive(Serialize)]
struct PreviewView {
    subject: String,
    html: String,
    text: String,
}

/// The compose page for `form`: a new campaign (`campaign` is `None`) or a draft.
async fn show_form(
    state: &AppState,
    owner: &Owner,
    campaign: Option<Uuid>,
    form: &ComposeForm,
    status: StatusCode,
    shown: Shown,
) -> Result<Response, AdminError> {
    let tiers = form.audience_tiers().ok();
    let size = async {
        match &tiers {
            Some(tiers) => state.store.audience_size(tiers.as_deref()).await.map(Some),
            None => Ok(None),
        }
    };
    let (size, people) = tokio::try_join!(size, state.store.preview_people(PREVIEW_PEOPLE))?;
    let choices: Vec<TierChoice> = Tier::ALL
        .into_iter()
        .filter(|tier| *tier != Tier::Gone)
        .map(|tier| TierChoice {
            name: tier.as_str(),
            checked: form.tiers.iter().any(|t| t == tier.as_str()),
        })
        .collect();
    let people: Vec<PersonChoice> = people
        .into_iter()
        .map(|(id, email)| PersonChoice {
            selected: form.preview_as == id.to_string(),
            id,
            email,
        })
        .collect();
    let mut context = Context::new();
    context.insert("form", form);
    context.insert("errors", &shown.errors);
    context.insert("has_errors", &!shown.errors.is_empty());
    context.insert("notice", &shown.notice);
    context.insert("campaign_id", &campaign);
    context.insert(
        "action_url",
        &match campaign {
            Some(id) => format!("/admin/campaigns/{id}/edit"),
            None => "/admin/campaigns/new".to_string(),
        },
    );
    context.insert("tier_choices", &choices);
    context.insert("layouts", &LAYOUTS);
    context.insert("people", &people);
    context.insert("sample_email", draft::SAMPLE_EMAIL);
    context.insert(
        "audience_size",
        &tiers
            .as_ref()
            .zip(size)
            .map(|(tiers, size)| audience_sentence(tiers.as_deref(), size)),
    );
    context.insert(
        "preview",
        &shown.preview.map(|copy| PreviewView {
            subject: copy.subject,
            html: copy.html,
            text: copy.text,
        }),
    );
    let mut response = page(
        state,
        owner,
        "campaigns",
        "web/admin/campaign_form.html",
        &mut context,
    );
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(COMPOSE_CSP),
    );
    Ok(response)
}

async fn new_form(State(state): State<AppState>, owner: Owner) -> Result<Response, AdminError> {
    let form = ComposeForm::new_campaign(&owner.email);
    show_form(
        &state,
        &owner,
        None,
        &form,
        StatusCode::OK,
        Shown::default(),
    )
    .await
}

async fn edit_form(
    State(state): State<AppState>,
    owner: Owner,
    CampaignId(id): CampaignId,
    RawQuery(query): RawQuery,
) -> Result<Response, AdminError> {
    let Some(record) = load_draft(&state, id).await? else {
        return Ok(to_report(id));
    };
    // Back from "Save draft": say so (the flag is the only thing read from the query).
    let saved = url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(key, _)| key == "saved");
    let shown = Shown {
        notice: saved.then(|| "Draft saved.".to_string()),
        ..Shown::default()
    };
    let form = ComposeForm::of_campaign(&record, &owner.email);
    show_form(
        &state,
        &owner,
        Some(record.id),
        &form,
        StatusCode::OK,
        shown,
    )
    .await
}

async fn create(
    State(state): State<AppState>,
    owner: Owner,
    body: Bytes,
) -> Result<Response, AdminError> {
    submit(&state, &owner, None, ComposeForm::parse(&body)).await
}

async fn update(
    State(state): State<AppState>,
    owner: Owner,
    CampaignId(id): CampaignId,
    body: Bytes,
) -> Result<Response, AdminError> {
    let Some(record) = load_draft(&state, id).await? else {
        return Ok(to_report(id));
    };
    submit(&state, &owner, Some(record.id), ComposeForm::parse(&body)).await
}

/// The draft the form describes, compiled, or every problem found with its fields.
fn checked(
    state: &AppState,
    form: &ComposeForm,
) -> Result<(CampaignDraft, CompiledCampaign), FieldErrors> {
    let draft = form.draft()?;
    let content = CampaignContent::from(&draft);
    match draft::check(&content, state.templates.clone(), &state.config.list_name) {
        Ok(compiled) => Ok((draft, compiled)),
        Err(err) => Err(FieldErrors::one(err.field, sentence(&err.reason))),
    }
}

/// A message that starts with a capital and ends with a full stop (a template error that
/// points at its line, over several lines, is left as it is laid out).
fn sentence(text: &str) -> String {
    let text = text.trim();
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return String::new();
    };
    let end = if text.ends_with(['.', '!', '?']) || text.contains('\n') {
        ""
    } else {
        "."
    };
    format!("{}{}{end}", first.to_uppercase(), chars.as_str())
}

/// One press of a button on the compose form.
async fn submit(
    state: &AppState,
    owner: &Owner,
    campaign: Option<Uuid>,
    form: ComposeForm,
) -> Result<Response, AdminError> {
    let intent = form.intent.unwrap_or(Intent::Save);
    let (checked, mut errors) = match checked(state, &form) {
        Ok(checked) => (Some(checked), FieldErrors::default()),
        Err(errors) => (None, errors),
    };
    let test_to = match intent {
        Intent::Test => form
            .test_address()
            .map_err(|message| errors.set("test_to", message))
            .ok(),
        _ => None,
    };
    let schedule = match intent {
        Intent::Review => form
            .schedule(OffsetDateTime::now_utc())
            .map_err(|message| errors.set("send_at", message))
            .ok()
            .flatten(),
        _ => None,
    };
    let preview_as = match intent {
        Intent::Preview => form
            .preview_subscriber()
            .map_err(|message| errors.set("preview_as", message))
            .ok()
            .flatten(),
        _ => None,
    };
    let again = |errors: FieldErrors, status: StatusCode| {
        show_form(
            state,
            owner,
            campaign,
            &form,
            status,
            Shown {
                errors,
                ..Shown::default()
            },
        )
    };
    let Some((draft, compiled)) = checked.filter(|_| errors.is_empty()) else {
        return again(errors, StatusCode::UNPROCESSABLE_ENTITY).await;
    };

    if intent == Intent::Preview {
        return match render_preview(state, &compiled, preview_as).await? {
            Ok(copy) => {
                let shown = Shown {
                    preview: Some(copy),
                    ..Shown::default()
                };
                show_form(state, owner, campaign, &form, StatusCode::OK, shown).await
            }
            Err(errors) => again(errors, StatusCode::UNPROCESSABLE_ENTITY).await,
        };
    }

    let Some(id) = save(state, campaign, &draft).await? else {
        // No longer a draft (sent from another tab meanwhile): its report says what it is.
        return Ok(to_report(campaign.unwrap_or_default()));
    };
    match intent {
        Intent::Test => {
            let Some(to) = test_to else {
                return again(errors, StatusCode::UNPROCESSABLE_ENTITY).await;
            };
            let sent = draft::send_test(
                &state.composer,
                &state.transport,
                state.config.sending_domain(),
                &compiled,
                &to,
            )
            .await;
            let (status, shown) = match sent? {
                Ok(reply) => {
                    tracing::info!(campaign = %id, "test copy sent");
                    let notice = format!(
                        "Draft saved, and a test copy went to {}. The mail server answered: {}",
                        to.as_str(),
                        reply.trim()
                    );
                    (
                        StatusCode::OK,
                        Shown {
                            notice: Some(notice),
                            ..Shown::default()
                        },
                    )
                }
                Err(err) => {
                    let errors = FieldErrors::one(
                        "test_to",
                        format!("The draft is saved, but the test copy could not be sent: {err}"),
                    );
                    (
                        StatusCode::BAD_GATEWAY,
                        Shown {
                            errors,
                            ..Shown::default()
                        },
                    )
                }
            };
            show_form(state, owner, Some(id), &form, status, shown).await
        }
        Intent::Review => {
            let target = match schedule.and_then(|at| at.format(&Rfc3339).ok()) {
                Some(at) => {
                    let at: String = url::form_urlencoded::byte_serialize(at.as_bytes()).collect();
                    format!("/admin/campaigns/{id}/send?at={at}")
                }
                None => format!("/admin/campaigns/{id}/send"),
            };
            Ok(Redirect::to(&target).into_response())
        }
        Intent::Save | Intent::Preview => {
            Ok(Redirect::to(&format!("/admin/campaigns/{id}/edit?saved=1")).into_response())
        }
    }
}

/// Creates the draft, or updates it; `None` when it is no longer a draft.
async fn save(
    state: &AppState,
    campaign: Option<Uuid>,
    draft: &CampaignDraft,
) -> anyhow::Result<Option<Uuid>> {
    let now = Timestamp::now();
    match campaign {
        None => state.store.create_campaign(draft, now).await.map(Some),
        Some(id) => match state.store.update_campaign(id, draft, now).await {
            Ok(()) => Ok(Some(id)),
            Err(CampaignError::WrongStatus(..) | CampaignError::NotFound) => Ok(None),
            Err(CampaignError::Unexpected(err)) => Err(err),
        },
    }
}

/// The copy as the chosen subscriber (or the sample person) would get it; the inner error
/// is a problem with the form.
async fn render_preview(
    state: &AppState,
    compiled: &CompiledCampaign,
    subscriber: Option<Uuid>,
) -> anyhow::Result<Result<RenderedCopy, FieldErrors>> {
    let Some((person, unsubscribe_url)) =
        draft::preview_person(&state.store, &state.composer, subscriber).await?
    else {
        return Ok(Err(FieldErrors::one(
            "preview_as",
            "There is no such subscriber; choose another.".into(),
        )));
    };
    Ok(draft::preview(compiled, &person, &unsubscribe_url)
        .map_err(|err| FieldErrors::one(err.field, sentence(&err.reason))))
}

/// `POST /admin/campaigns/preview` (the compose form's fields): the copy as JSON, or the
/// problems per field with 422.
async fn preview(State(state): State<AppState>, _owner: Owner, body: Bytes) -> Response {
    let form = ComposeForm::parse(&body);
    let problems = |errors: FieldErrors| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(serde_json::json!({ "errors": errors })),
        )
            .into_response()
    };
    let compiled = match checked(&state, &form) {
        Ok((_, compiled)) => compiled,
        Err(errors) => return problems(errors),
    };
    let subscriber = match form.preview_subscriber() {
        Ok(subscriber) => subscriber,
        Err(message) => return problems(FieldErrors::one("preview_as", message)),
    };
    match render_preview(&state, &compiled, subscriber).await {
        Ok(Ok(copy)) => Json(serde_json::json!({
            "subject": copy.subject,
            "html": copy.html,
            "text": copy.text,
        }))
        .into_response(),
        Ok(Err(errors)) => problems(errors),
        Err(err) => json_failure(err),
    }
}

/// `GET /admin/campaigns/audience?audience=tiers&tier=core&tier=engaged`: how many
/// confirmed subscribers that reaches now, in words and number.
async fn audience(
    State(state): State<AppState>,
    _owner: Owner,
    RawQuery(query): RawQuery,
) -> Response {
    let form = ComposeForm::parse(query.unwrap_or_default().as_bytes());
    let tiers = match form.audience_tiers() {
        Ok(tiers) => tiers,
        Err(message) => {
            return (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(serde_json::json!({ "error": message })),
            )
                .into_response();
        }
    };
    match state.store.audience_size(tiers.as_deref()).await {
        Ok(size) => Json(serde_json::json!({
            "size": size,
            "sentence": audience_sentence(tiers.as_deref(), size),
        }))
        .into_response(),
        Err(err) => json_failure(err),
    }
}

fn json_failure(err: anyhow::Error) -> Response {
    tracing::error!(error = %format!("{err:#}"), "admin request failed");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Json(serde_json::json!({ "error": "Something went wrong on our side." })),
    )
        .into_response()
}
