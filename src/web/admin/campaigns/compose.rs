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
use super::{Draft, to_report};
use crate::actions::campaigns::{self, CampaignRefusal};
use crate::actions::media::{self, MediaRefusal};
use crate::domain::{SubscriberEmail, Tier, audience_sentence};
use crate::mail::draft;
use crate::mail::render::{CampaignContent, RenderedCopy};
use crate::store::CampaignDraft;
use crate::web::AppState;
use crate::web::admin::{AdminError, COMPOSE_CSP, Owner, form_value, page};
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
    context.insert("layouts", &state.composer.layouts());
    context.insert("people", &people);
    context.insert("sample_email", draft::SAMPLE_EMAIL);
    context.insert("image_max_bytes", &media::MAX_IMAGE_BYTES);
    context.insert("image_too_large", &MediaRefusal::TooLarge.to_string());
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
    let form = ComposeForm::new_campaign(&owner.email, state.settings().archive_public);
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
    Draft(record): Draft,
    RawQuery(query): RawQuery,
) -> Result<Response, AdminError> {
    // Back from "Save draft": say so (the flag is the only thing read from the query).
    let saved = form_value(query.unwrap_or_default().as_bytes(), "saved").is_some();
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
    Draft(record): Draft,
    body: Bytes,
) -> Result<Response, AdminError> {
    submit(&state, &owner, Some(record.id), ComposeForm::parse(&body)).await
}

/// What the pressed button asks for, with what it needs read from the form.
enum Press {
    Save,
    /// As this subscriber (`None`: the sample person).
    Preview(Option<Uuid>),
    Test(SubscriberEmail),
    /// Go to the confirmation page, to send now (`None`) or at this time.
    Review(Option<OffsetDateTime>),
}

/// The draft the form describes, checked to compile, and what the pressed button asks
/// for; or every problem found, each next to its field.
fn read(state: &AppState, form: &ComposeForm) -> Result<(CampaignDraft, Press), FieldErrors> {
    let (draft, mut errors) = match form.draft() {
        Ok(draft) => match campaigns::compile(state, &CampaignContent::from(&draft)) {
            Ok(_) => (Some(draft), FieldErrors::default()),
            Err(refusal) => (None, field_errors(refusal).unwrap_or_default()),
        },
        Err(errors) => (None, errors),
    };
    let mut noted = |field: &str, read: Result<Option<Press>, String>| {
        read.unwrap_or_else(|message| {
            errors.set(field, message);
            None
        })
    };
    let press = match form.intent.unwrap_or(Intent::Save) {
        Intent::Save => Some(Press::Save),
        Intent::Preview => noted(
            "preview_as",
            form.preview_subscriber().map(|id| Some(Press::Preview(id))),
        ),
        Intent::Test => noted(
            "test_to",
            form.test_address().map(|to| Some(Press::Test(to))),
        ),
        Intent::Review => noted(
            "send_at",
            form.schedule(OffsetDateTime::now_utc())
                .map(|at| Some(Press::Review(at))),
        ),
    };
    match (draft, press) {
        (Some(draft), Some(press)) if errors.is_empty() => Ok((draft, press)),
        _ => Err(errors),
    }
}

/// A refusal about what the form says, as the problem next to its field; any other
/// refusal is given back.
fn field_errors(refusal: CampaignRefusal) -> Result<FieldErrors, CampaignRefusal> {
    let field = match &refusal {
        CampaignRefusal::Content(err) => err.field,
        CampaignRefusal::NoSuchSubscriber => "preview_as",
        CampaignRefusal::TestNotSent(_) => "test_to",
        _ => return Err(refusal),
    };
    Ok(FieldErrors::one(field, refusal.to_string()))
}

/// One press of a button on the compose form.
async fn submit(
    state: &AppState,
    owner: &Owner,
    campaign: Option<Uuid>,
    form: ComposeForm,
) -> Result<Response, AdminError> {
    let again = |errors: FieldErrors, status: StatusCode| {
        let shown = Shown {
            errors,
            ..Shown::default()
        };
        show_form(state, owner, campaign, &form, status, shown)
    };
    let (draft, press) = match read(state, &form) {
        Ok(read) => read,
        Err(errors) => return again(errors, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    if let Press::Preview(subscriber) = press {
        let content = CampaignContent::from(&draft);
        return match campaigns::preview_content(state, &content, subscriber).await {
            Ok(copy) => {
                let shown = Shown {
                    preview: Some(copy),
                    ..Shown::default()
                };
                show_form(state, owner, campaign, &form, StatusCode::OK, shown).await
            }
            Err(refusal) => again(field_errors(refusal)?, StatusCode::UNPROCESSABLE_ENTITY).await,
        };
    }
    let Some(id) = save(state, campaign, &draft).await? else {
        // No longer a draft (sent from another tab meanwhile): its report says what it is.
        return Ok(to_report(campaign.unwrap_or_default()));
    };
    let target = match press {
        Press::Test(to) => return test_copy(state, owner, id, &form, &to).await,
        Press::Review(at) => match at.and_then(|at| at.format(&Rfc3339).ok()) {
            Some(at) => {
                let at: String = url::form_urlencoded::byte_serialize(at.as_bytes()).collect();
                format!("/admin/campaigns/{id}/send?at={at}")
            }
            None => format!("/admin/campaigns/{id}/send"),
        },
        Press::Save | Press::Preview(_) => format!("/admin/campaigns/{id}/edit?saved=1"),
    };
    Ok(Redirect::to(&target).into_response())
}

/// Sends a test copy of the saved draft, and shows the form again saying how it went.
async fn test_copy(
    state: &AppState,
    owner: &Owner,
    id: Uuid,
    form: &ComposeForm,
    to: &SubscriberEmail,
) -> Result<Response, AdminError> {
    let (status, shown) = match campaigns::send_test(state, id, to).await {
        Ok(reply) => {
            let notice = format!(
                "Draft saved, and a test copy went to {}. The mail server answered: {}",
                to.as_str(),
                reply.trim()
            );
            let shown = Shown {
                notice: Some(notice),
                ..Shown::default()
            };
            (StatusCode::OK, shown)
        }
        Err(refusal @ CampaignRefusal::TestNotSent(_)) => {
            let errors = FieldErrors::one("test_to", format!("Draft saved. {refusal}"));
            let shown = Shown {
                errors,
                ..Shown::default()
            };
            (StatusCode::BAD_GATEWAY, shown)
        }
        Err(refusal) => return Err(refusal.into()),
    };
    show_form(state, owner, Some(id), form, status, shown).await
}

/// Creates the draft, or updates it; `None` when it is no longer a draft.
async fn save(
    state: &AppState,
    campaign: Option<Uuid>,
    draft: &CampaignDraft,
) -> Result<Option<Uuid>, AdminError> {
    match campaign {
        None => Ok(Some(campaigns::create(state, draft).await?)),
        Some(id) => match campaigns::update(state, id, draft).await {
            Ok(()) => Ok(Some(id)),
            Err(CampaignRefusal::WrongStatus { .. } | CampaignRefusal::NotFound) => Ok(None),
            Err(refusal) => Err(refusal.into()),
        },
    }
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
    let draft = match form.draft() {
        Ok(draft) => draft,
        Err(errors) => return problems(errors),
    };
    let subscriber = match form.preview_subscriber() {
        Ok(subscriber) => subscriber,
        Err(message) => return problems(FieldErrors::one("preview_as", message)),
    };
    let content = CampaignContent::from(&draft);
    match campaigns::preview_content(&state, &content, subscriber).await {
        Ok(copy) => Json(serde_json::json!({
            "subject": copy.subject,
            "html": copy.html,
            "text": copy.text,
        }))
        .into_response(),
        Err(refusal) => match field_errors(refusal) {
            Ok(errors) => problems(errors),
            Err(refusal) => json_failure(refusal.into()),
        },
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
