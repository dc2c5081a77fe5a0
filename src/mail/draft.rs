//! A campaign before it goes out: checking what the author wrote, showing it as one person
//! would get it, and a test copy. The JSON API and the owner's pages both use these, so a
//! draft is judged and shown the same way wherever it is written.

use uuid::Uuid;

use anyhow::Context as _;

use super::compose::{Composer, Recipient};
use super::render::{
    CampaignContent, CompiledCampaign, CopySettings, LayoutSource, ReaderLinks, RecipientData,
    RenderedCopy, TemplateError,
};
use super::system::layout_source;
use super::transport::{SendError, Transport};
use crate::domain::SubscriberEmail;
use crate::store::{CampaignDraft, CampaignRecord, NewVersion, Store};
use crate::templates::editable::{Parts, TemplateName};

pub const MAX_SUBJECT_CHARS: usize = 300;

/// The address a preview is rendered for when no subscriber is chosen.
pub const SAMPLE_EMAIL: &str = "someone@example.com";

/// Checks a draft and compiles it with its layout as it stands (or, for a campaign that
/// went out, `as_sent`); a problem names the field at fault (subject, body, preheader,
/// layout) and says what is wrong in the author's words.
pub fn check(
    content: &CampaignContent,
    composer: &Composer,
    as_sent: Option<&LayoutSource>,
) -> Result<CompiledCampaign, TemplateError> {
    let problem = |field: &'static str, reason: String| TemplateError { field, reason };
    if content.subject.trim().is_empty() {
        return Err(problem("subject", "a campaign needs a subject".into()));
    }
    if content.subject.chars().count() > MAX_SUBJECT_CHARS {
        return Err(problem(
            "subject",
            format!("the subject is longer than {MAX_SUBJECT_CHARS} characters"),
        ));
    }
    if content.body.trim().is_empty() {
        return Err(problem("body", "a campaign needs a body".into()));
    }
    let layout = match as_sent {
        Some(layout) => layout.clone(),
        None => composer.layout(&content.layout).ok_or_else(|| {
            problem(
                "layout",
                format!(
                    "there is no layout called '{}'; there are: {}",
                    content.layout,
                    composer.layouts().join(", ")
                ),
            )
        })?,
    };
    CompiledCampaign::compile(content, &layout, &composer.look())
}

/// The layout `record` goes out with, or went out with: the version recorded when it
/// started sending, recorded now from the layout as it stands if it has none yet (the
/// shipped default is saved as a version for this). `None`: no layout of its name.
pub async fn layout_as_sent(
    store: &Store,
    composer: &Composer,
    record: &CampaignRecord,
) -> anyhow::Result<Option<LayoutSource>> {
    if let Some(id) = record.layout_version {
        return stored_layout(store, id).await;
    }
    let Some(name) = TemplateName::layout(&record.layout) else {
        return Ok(None);
    };
    let Some(resolved) = composer.owner().templates.resolve(&name) else {
        return Ok(None);
    };
    let id = match &resolved.saved {
        Some(saved) => saved.id,
        None => shipped_version(store, &name, &resolved.parts).await?,
    };
    match store.pin_layout(record.id, id).await? {
        Some(pinned) if pinned != id => stored_layout(store, pinned).await,
        _ => Ok(Some(layout_source(&name, &resolved.parts))),
    }
}

/// The layout version a campaign recorded, if it reads.
pub async fn stored_layout(store: &Store, id: i64) -> anyhow::Result<Option<LayoutSource>> {
    let Some(version) = store.template_version(id).await? else {
        return Ok(None);
    };
    let (Some(name), Some(parts)) = (TemplateName::parse(&version.name), version.parts) else {
        return Ok(None);
    };
    let parts: Parts = serde_json::from_str(&parts).context("reading a saved layout")?;
    Ok(Some(layout_source(&name, &parts)))
}

/// The id of a saved copy of the shipped `parts` of `name`: the latest version if it is
/// that copy, else a new one.
async fn shipped_version(store: &Store, name: &TemplateName, parts: &Parts) -> anyhow::Result<i64> {
    let text = serde_json::to_string(parts)?;
    let latest = store.template_versions(name.as_str(), 1).await?;
    if let Some(version) = latest
        .into_iter()
        .find(|v| v.shipped && v.parts.as_deref() == Some(text.as_str()))
    {
        return Ok(version.id);
    }
    Ok(store
        .save_template(name.as_str(), NewVersion::Shipped(&text))
        .await?
        .id)
}

/// A person with no name and no attributes, at `email`: who a preview shows when no
/// subscriber is chosen, and who a test copy is for.
pub fn sample_person(email: &str) -> RecipientData {
    RecipientData {
        name: None,
        email: email.to_string(),
        attributes: serde_json::json!({}),
    }
}

/// Who a preview is for, with their unsubscribe link: the subscriber `id`, or with no id
/// the sample person. `None`: there is no such subscriber.
pub async fn preview_person(
    store: &Store,
    composer: &Composer,
    id: Option<Uuid>,
) -> anyhow::Result<Option<(RecipientData, String)>> {
    let Some(id) = id else {
        return Ok(Some((
            sample_person(SAMPLE_EMAIL),
            composer.unsubscribe_url(Uuid::nil()),
        )));
    };
    Ok(store.subscriber(id).await?.map(|subscriber| {
        (
            RecipientData {
                name: subscriber.name,
                email: subscriber.email,
                attributes: subscriber.attributes,
            },
            composer.unsubscribe_url(subscriber.id),
        )
    }))
}

/// The copy `person` would get, untracked: opening a preview records nothing.
pub fn preview(
    compiled: &CompiledCampaign,
    person: &RecipientData,
    unsubscribe_url: &str,
    reader: ReaderLinks,
) -> Result<RenderedCopy, TemplateError> {
    compiled.render(
        person,
        &CopySettings {
            unsubscribe_url,
            tracking: None,
            reader: Some(reader),
        },
    )
}

/// Sends one untracked copy to `to` now, its subject marked "[Test]", straight through the
/// transport (not the queue); the answer is the mail server's reply, or why it refused.
pub async fn send_test(
    composer: &Composer,
    transport: &Transport,
    sending_domain: &str,
    compiled: &CompiledCampaign,
    to: &SubscriberEmail,
) -> anyhow::Result<Result<String, SendError>> {
    let unsubscribe_url = composer.unsubscribe_url(Uuid::nil());
    // Nobody's copy: its web version and page links lead to "this link isn't valid".
    let reader = composer.reader_links(Uuid::nil(), Uuid::nil());
    let mut copy = preview(
        compiled,
        &sample_person(to.as_str()),
        &unsubscribe_url,
        reader,
    )?;
    copy.subject = format!("[Test] {}", copy.subject);
    let message = Uuid::now_v7();
    let recipient = Recipient {
        id: Uuid::nil(),
        message,
        address: to.ascii().to_string(),
        name: None,
    };
    let message_id = format!("<test-{}@{sending_domain}>", message.simple());
    let composed = composer.campaign(&recipient, &message_id, &copy)?;
    Ok(transport
        .send(
            &composed.envelope,
            &composed.bytes,
            &format!("test-{}", message.simple()),
        )
        .await)
}

impl From<&CampaignDraft> for CampaignContent {
    fn from(draft: &CampaignDraft) -> Self {
        Self {
            subject: draft.subject.clone(),
            body: draft.body.clone(),
            format: draft.format,
            preheader: draft.preheader.clone(),
            layout: draft.layout.clone(),
        }
    }
}

/// What a stored campaign says to render: subject, body, format, preheader, layout.
pub fn content_of(record: &CampaignRecord) -> CampaignContent {
    CampaignContent {
        subject: record.subject.clone(),
        body: record.body.clone(),
        format: record.format(),
        preheader: record.preheader.clone(),
        layout: record.layout.clone(),
    }
}
