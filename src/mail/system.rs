//! The messages hundred sends by itself (confirmation, welcome, re-permission), from the
//! owner's templates: a subject and a Markdown body with placeholders, wrapped in the
//! default layout, rendered the way a campaign copy is (untracked). The same function
//! renders the editor's preview and the check a save makes.

use tera::Context;

use super::render::{
    CampaignContent, CompiledCampaign, CopySettings, LayoutSource, ListLook, RecipientData,
    RenderedCopy, TemplateError, Wrapped,
};
use crate::domain::BodyFormat;
use crate::templates::editable::{OwnerTemplates, Parts, TemplateName};

/// The layout system messages are wrapped in.
pub const SYSTEM_LAYOUT: &str = "default";

/// A layout's source from its parts.
pub fn layout_source(name: &TemplateName, parts: &Parts) -> LayoutSource {
    LayoutSource {
        name: name.short().to_string(),
        html: parts.get("html").cloned().unwrap_or_default(),
        text: parts.get("text").cloned().unwrap_or_default(),
    }
}

/// The layout called `name` as it stands, if there is one.
pub fn current_layout(templates: &OwnerTemplates, name: &str) -> Option<LayoutSource> {
    let name = TemplateName::layout(name)?;
    let resolved = templates.resolve(&name)?;
    Some(layout_source(&name, &resolved.parts))
}

/// What a system message is rendered from: the message's parts, the layout, the look.
pub struct MessageFrame<'a> {
    pub wrapped: Wrapped,
    pub parts: &'a Parts,
    pub layout: &'a LayoutSource,
    pub look: &'a ListLook,
}

/// Renders the message for `person`, with `values` (its links and the like) and their
/// unsubscribe link.
pub fn render_message(
    frame: &MessageFrame<'_>,
    person: &RecipientData,
    unsubscribe_url: &str,
    mut values: Context,
) -> Result<RenderedCopy, TemplateError> {
    let part = |key: &str| frame.parts.get(key).cloned().unwrap_or_default();
    let content = CampaignContent {
        subject: part("subject"),
        body: part("body"),
        format: BodyFormat::Markdown,
        preheader: None,
        layout: frame.layout.name.clone(),
    };
    if content.subject.trim().is_empty() {
        return Err(TemplateError {
            field: "subject",
            reason: "a message needs a subject".into(),
        });
    }
    if content.body.trim().is_empty() {
        return Err(TemplateError {
            field: "body",
            reason: "a message needs a body".into(),
        });
    }
    values.insert("unsubscribe_url", unsubscribe_url);
    let compiled = CompiledCampaign::compile_message(
        &content,
        frame.layout,
        frame.look,
        frame.wrapped,
        values,
    )?;
    compiled.render(
        person,
        &CopySettings {
            unsubscribe_url,
            tracking: None,
            reader: None,
        },
    )
}

/// Values a message's placeholders take in a preview and in the check a save makes.
pub fn sample_values(wrapped: Wrapped, public_base: &str, consent_text: &str) -> Context {
    let mut values = Context::new();
    match wrapped {
        Wrapped::Confirmation => {
            values.insert("confirm_url", &format!("{public_base}/confirm/sample"));
            values.insert("valid_days", &7);
            values.insert("consent_text", consent_text);
        }
        Wrapped::Repermission => {
            values.insert("keep_url", &format!("{public_base}/keep/sample"));
            values.insert("answer_by", "1 January 2027");
        }
        Wrapped::Welcome | Wrapped::Campaign => {}
    }
    values
}

/// Which message a template name is.
pub fn wrapped_of(name: &TemplateName) -> Option<Wrapped> {
    Wrapped::ALL
        .into_iter()
        .find(|w| *w != Wrapped::Campaign && name.short() == w.as_str())
}
