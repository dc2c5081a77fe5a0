//! A campaign before it goes out: checking what the author wrote, showing it as one person
//! would get it, and a test copy. The JSON API and the owner's pages both use these, so a
//! draft is judged and shown the same way wherever it is written.

use std::sync::Arc;

use uuid::Uuid;

use super::compose::{Composer, Recipient};
use super::render::{
    CampaignContent, CompiledCampaign, CopySettings, ListLook, RecipientData, RenderedCopy,
    TemplateError,
};
use super::transport::{SendError, Transport};
use crate::domain::SubscriberEmail;
use crate::store::{CampaignDraft, Store};
use crate::templates::Templates;

pub const MAX_SUBJECT_CHARS: usize = 300;

/// The address a preview is rendered for when no subscriber is chosen.
pub const SAMPLE_EMAIL: &str = "someone@example.com";

/// Checks a draft and compiles it; a problem names the field at fault (subject, body,
/// preheader, layout) and says what is wrong in the author's words.
pub fn check(
    content: &CampaignContent,
    templates: Arc<Templates>,
    look: &ListLook,
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
    CompiledCampaign::compile(content, templates, look)
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
) -> Result<RenderedCopy, TemplateError> {
    compiled.render(
        person,
        &CopySettings {
            unsubscribe_url,
            tracking: None,
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
    let mut copy = preview(compiled, &sample_person(to.as_str()), &unsubscribe_url)?;
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
