//! The owner's templates (layouts, system messages, page words): listing, reading, saving
//! with the checks sending would make, going back to the shipped default, previewing as a
//! chosen subscriber in a chosen language. The API and the admin pages both call these.
//!
//! A save is a new version (every version is kept); it is in effect on this instance at
//! once and on every other within [`super::settings::FOLLOW_EVERY`], as settings are.

use std::sync::Arc;

use serde::Serialize;
use tera::Context;
use time::OffsetDateTime;
use uuid::Uuid;

use super::Services;
use crate::domain::Language;
use crate::mail::draft;
use crate::mail::render::{
    LayoutSource, ListLook, RecipientData, RenderedCopy, TemplateError, Wrapped, check_layout,
    page_words,
};
use crate::mail::system::{self, MessageFrame};
use crate::store::{NewVersion, Store};
use crate::templates::editable::{
    OwnerTemplates, Part, Parts, Placeholder, Resolved, TemplateKind, TemplateName,
    common_placeholders,
};

/// The most text one part may hold.
pub const MAX_PART_BYTES: usize = 60 * 1024;
/// Versions a template's page and the API list.
const VERSIONS_SHOWN: i64 = 30;

/// Why a template was not found, saved, removed or previewed.
#[derive(Debug, thiserror::Error)]
pub enum TemplateRefusal {
    #[error(
        "There is no template called '{0}'. Templates are layout/NAME, message/confirmation, message/welcome, message/repermission and page/subscribe, page/thanks, page/confirmed, page/unsubscribed, page/keep."
    )]
    NotFound(String),
    /// A part at fault: the part, the line where known, what is wrong.
    #[error("{part}: {reason}")]
    Invalid {
        part: String,
        line: Option<u32>,
        reason: String,
    },
    #[error(
        "Campaigns not sent yet use this layout: {}. Pick another layout for them first.",
        .0.join("; ")
    )]
    InUse(Vec<String>),
    #[error("There is no such subscriber to preview as.")]
    NoSuchSubscriber,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

type Result<T> = std::result::Result<T, TemplateRefusal>;

impl TemplateRefusal {
    fn invalid(part: &str, line: Option<u32>, reason: impl Into<String>) -> Self {
        Self::Invalid {
            part: part.to_string(),
            line,
            reason: reason.into(),
        }
    }

    fn from_render(err: TemplateError) -> Self {
        let line = err.line();
        Self::invalid(err.field, line, err.reason)
    }
}

/// A template in the list.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateSummary {
    pub name: String,
    pub kind: TemplateKind,
    pub label: String,
    /// The owner's version is in effect (not the shipped default).
    pub customised: bool,
    pub version: Option<i64>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub saved_at: Option<OffsetDateTime>,
}

/// One saved version, as the history shows it.
#[derive(Debug, Clone, Serialize)]
pub struct VersionSummary {
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub saved_at: OffsetDateTime,
    /// What it holds: "owner", "shipped" (back to the default) or "removed".
    pub holds: &'static str,
}

/// A template as the editor and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct TemplateView {
    #[serde(flatten)]
    pub summary: TemplateSummary,
    pub meaning: String,
    pub parts: Parts,
    /// The shipped default's parts (none for a layout the owner added).
    pub shipped: Option<Parts>,
    pub fields: &'static [Part],
    pub placeholders: Vec<Placeholder>,
    pub versions: Vec<VersionSummary>,
}

/// What going back to the default did.
#[derive(Debug)]
pub enum Reset {
    /// The shipped default is in effect again.
    Default(Box<TemplateView>),
    /// The owner's own layout is gone.
    Removed,
}

fn current(services: &Services) -> Arc<OwnerTemplates> {
    services.settings().templates.clone()
}

fn summary(resolved: &Resolved) -> TemplateSummary {
    TemplateSummary {
        name: resolved.name.to_string(),
        kind: resolved.name.kind(),
        label: resolved.name.label(),
        customised: resolved.saved.is_some(),
        version: resolved.saved.as_ref().map(|saved| saved.version),
        saved_at: resolved.saved.as_ref().map(|saved| saved.saved_at),
    }
}

/// Every template: the shipped ones, then the layouts the owner added.
pub fn list(services: &Services) -> Vec<TemplateSummary> {
    current(services).all().iter().map(summary).collect()
}

fn name_of(name: &str) -> Result<TemplateName> {
    TemplateName::parse(name).ok_or_else(|| TemplateRefusal::NotFound(name.to_string()))
}

/// The template `name` as it stands, with its default, placeholders and history.
pub async fn get(services: &Services, name: &str) -> Result<TemplateView> {
    let name = name_of(name)?;
    let resolved = current(services)
        .resolve(&name)
        .ok_or_else(|| TemplateRefusal::NotFound(name.to_string()))?;
    view(&services.store, resolved).await
}

async fn view(store: &Store, resolved: Resolved) -> Result<TemplateView> {
    let name = &resolved.name;
    let versions = store
        .template_versions(name.as_str(), VERSIONS_SHOWN)
        .await?
        .into_iter()
        .map(|version| VersionSummary {
            version: version.version,
            saved_at: version.saved_at.into(),
            holds: match (&version.parts, version.shipped) {
                (None, _) => "removed",
                (Some(_), true) => "shipped",
                (Some(_), false) => "owner",
            },
        })
        .collect();
    let mut placeholders = common_placeholders(name.kind()).to_vec();
    if let Some(shipped) = name.shipped() {
        placeholders.extend_from_slice(shipped.placeholders);
    }
    Ok(TemplateView {
        summary: summary(&resolved),
        meaning: name.shipped().map_or_else(
            || "A layout of your own: a campaign can pick it in the composer.".to_string(),
            |shipped| shipped.meaning.to_string(),
        ),
        shipped: name
            .shipped()
            .map(crate::templates::editable::shipped_parts),
        fields: name.kind().parts(),
        placeholders,
        versions,
        parts: resolved.parts,
    })
}

/// Checks `parts` as sending would and saves them as the next version of `name`; in
/// effect at once here.
pub async fn save(services: &Services, name: &str, parts: Parts) -> Result<TemplateView> {
    let name = name_of(name)?;
    check(services, &name, &parts)?;
    let text = serde_json::to_string(&parts).map_err(anyhow::Error::from)?;
    let saved = services
        .store
        .save_template(name.as_str(), NewVersion::Owner(&text))
        .await?;
    super::settings::follow(services.clone()).await?;
    tracing::info!(template = %name, version = saved.version, "template saved");
    let resolved = Resolved {
        name,
        parts,
        saved: Some(crate::store::saved_of(saved, Parts::new())),
    };
    // Read back as every instance will see it.
    match current(services).resolve(&resolved.name) {
        Some(now) => view(&services.store, now).await,
        None => view(&services.store, resolved).await,
    }
}

/// Back to the shipped default (a new version saying so), or, for a layout of the owner's
/// own, removes it unless a campaign not yet sent uses it.
pub async fn reset(services: &Services, name: &str) -> Result<Reset> {
    let name = name_of(name)?;
    let templates = current(services);
    let Some(resolved) = templates.resolve(&name) else {
        return Err(TemplateRefusal::NotFound(name.to_string()));
    };
    match name.shipped() {
        Some(shipped) => {
            if resolved.saved.is_some() {
                let parts = crate::templates::editable::shipped_parts(shipped);
                let text = serde_json::to_string(&parts).map_err(anyhow::Error::from)?;
                services
                    .store
                    .save_template(name.as_str(), NewVersion::Shipped(&text))
                    .await?;
                super::settings::follow(services.clone()).await?;
                tracing::info!(template = %name, "template back to the shipped default");
            }
            let now = current(services)
                .resolve(&name)
                .ok_or_else(|| TemplateRefusal::NotFound(name.to_string()))?;
            Ok(Reset::Default(Box::new(view(&services.store, now).await?)))
        }
        None => {
            let users = services.store.unsent_campaigns_using(name.short()).await?;
            if !users.is_empty() {
                return Err(TemplateRefusal::InUse(users));
            }
            services
                .store
                .save_template(name.as_str(), NewVersion::Removed)
                .await?;
            super::settings::follow(services.clone()).await?;
            tracing::info!(template = %name, "layout removed");
            Ok(Reset::Removed)
        }
    }
}

/// The parts a template of this kind has, each present, none else, none too long.
fn check_parts(name: &TemplateName, parts: &Parts) -> Result<()> {
    let fields = name.kind().parts();
    let keys: Vec<&str> = fields.iter().map(|part| part.key).collect();
    if let Some(unknown) = parts.keys().find(|key| !keys.contains(&key.as_str())) {
        return Err(TemplateRefusal::invalid(
            unknown,
            None,
            format!(
                "a {} has no part '{unknown}'; its parts are: {}",
                name.kind().as_str(),
                keys.join(", ")
            ),
        ));
    }
    for key in keys {
        match parts.get(key) {
            None => {
                return Err(TemplateRefusal::invalid(
                    key,
                    None,
                    format!("'{key}' is missing: a {} needs it", name.kind().as_str()),
                ));
            }
            Some(text) if text.len() > MAX_PART_BYTES => {
                return Err(TemplateRefusal::invalid(
                    key,
                    None,
                    format!("'{key}' is longer than {} KB", MAX_PART_BYTES / 1024),
                ));
            }
            Some(text) if text.trim().is_empty() => {
                return Err(TemplateRefusal::invalid(
                    key,
                    None,
                    format!("'{key}' is empty"),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// What saving checks: the parts; the template compiles and renders for a subscriber with
/// no name and no attributes, in every language; a layout shows what sending needs once.
fn check(services: &Services, name: &TemplateName, parts: &Parts) -> Result<()> {
    check_parts(name, parts)?;
    if name.kind() == TemplateKind::Layout {
        let source = system::layout_source(name, parts);
        check_layout(&source, &services.composer.look()).map_err(|problem| {
            TemplateRefusal::invalid(problem.part, problem.line, problem.reason)
        })?;
    }
    let nobody = draft::sample_person(draft::SAMPLE_EMAIL);
    for language in Language::ALL {
        let choice = Choice {
            person: nobody.clone(),
            unsubscribe_url: services.composer.unsubscribe_url(Uuid::nil()),
            language,
        };
        render(services, name, parts, &choice)?;
    }
    Ok(())
}

/// Who and in which language a template is rendered for.
struct Choice {
    person: RecipientData,
    unsubscribe_url: String,
    language: Language,
}

/// A template rendered: a message (or a sample campaign in a layout) as a copy, page words
/// as HTML.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub subject: Option<String>,
    pub html: String,
    pub text: Option<String>,
}

/// What a layout preview shows as the campaign.
const SAMPLE_SUBJECT: &str = "A sample campaign";
const SAMPLE_BODY: &str = "# A sample campaign\n\nThis is how a campaign reads in this layout: a paragraph with [a link](https://example.com/), then another.\n\n<a class=\"button\" href=\"https://example.com/\">A button</a>\n\n- a list\n- of things";

fn render(
    services: &Services,
    name: &TemplateName,
    parts: &Parts,
    choice: &Choice,
) -> Result<Preview> {
    let mut look: ListLook = services.composer.look();
    look.language = choice.language;
    let owner = services.settings();
    match name.kind() {
        TemplateKind::Page => {
            let mut values = Context::new();
            values.insert("lang", choice.language.code());
            values.insert("list_name", &look.list_name);
            values.insert("email", &choice.person.email);
            let html = page_words(parts.get("body").map_or("", String::as_str), &values)
                .map_err(TemplateRefusal::from_render)?;
            Ok(Preview {
                subject: None,
                html,
                text: None,
            })
        }
        TemplateKind::Message => {
            let wrapped = system::wrapped_of(name)
                .ok_or_else(|| TemplateRefusal::NotFound(name.to_string()))?;
            let layout = system::current_layout(&owner.templates, system::SYSTEM_LAYOUT)
                .ok_or_else(|| TemplateRefusal::NotFound("layout/default".into()))?;
            let frame = MessageFrame {
                wrapped,
                parts,
                layout: &layout,
                look: &look,
            };
            let values = system::sample_values(
                wrapped,
                services.config.public_base(),
                &owner.consent_text(),
            );
            let copy =
                system::render_message(&frame, &choice.person, &choice.unsubscribe_url, values)
                    .map_err(TemplateRefusal::from_render)?;
            Ok(copied(copy))
        }
        TemplateKind::Layout => {
            let layout: LayoutSource = system::layout_source(name, parts);
            let sample = Parts::from([
                ("subject".to_string(), SAMPLE_SUBJECT.to_string()),
                ("body".to_string(), SAMPLE_BODY.to_string()),
            ]);
            let frame = MessageFrame {
                wrapped: Wrapped::Campaign,
                parts: &sample,
                layout: &layout,
                look: &look,
            };
            let copy = system::render_message(
                &frame,
                &choice.person,
                &choice.unsubscribe_url,
                Context::new(),
            )
            .map_err(|err| match err.field {
                "layout" => {
                    let (part, reason) = err.reason.split_once(": ").map_or(
                        ("html", err.reason.as_str()),
                        |(part, reason)| {
                            let part = if part.starts_with("text") {
                                "text"
                            } else {
                                "html"
                            };
                            (part, reason)
                        },
                    );
                    TemplateRefusal::invalid(part, err.line(), reason)
                }
                _ => TemplateRefusal::from_render(err),
            })?;
            Ok(copied(copy))
        }
    }
}

fn copied(copy: RenderedCopy) -> Preview {
    Preview {
        subject: Some(copy.subject),
        html: copy.html,
        text: Some(copy.text),
    }
}

/// `parts` of `name` rendered for the subscriber `subscriber` (none: someone with no name)
/// in `language` (none: the list's), untracked; nothing is saved.
pub async fn preview(
    services: &Services,
    name: &str,
    parts: &Parts,
    subscriber: Option<Uuid>,
    language: Option<Language>,
) -> Result<Preview> {
    let name = name_of(name)?;
    check_parts(&name, parts)?;
    let (person, unsubscribe_url) =
        draft::preview_person(&services.store, &services.composer, subscriber)
            .await?
            .ok_or(TemplateRefusal::NoSuchSubscriber)?;
    let choice = Choice {
        person,
        unsubscribe_url,
        language: language.unwrap_or(services.settings().language),
    };
    render(services, &name, parts, &choice)
}
