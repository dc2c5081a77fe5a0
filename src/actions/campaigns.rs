//! What the owner does with a campaign: create and edit a draft, preview it, send a test
//! copy, send it now or schedule it, and pause, resume, cancel or take back a schedule.
//!
//! The JSON API, the admin pages and the `hundred campaign` commands all call these. Each
//! makes every check the use case needs (the templates compile, someone is in the audience,
//! the campaign is in a state that allows it, the draft is the one the owner confirmed),
//! wakes the campaign sender when copies are waiting, and refuses with a
//! [`CampaignRefusal`] whose sentence every face shows as it is.

use time::OffsetDateTime;
use uuid::Uuid;

use super::Services;
use crate::domain::{CampaignStatus, SubscriberEmail};
use crate::mail::draft;
use crate::mail::draft::content_of;
use crate::mail::render::{CampaignContent, CompiledCampaign, RenderedCopy, TemplateError};
use crate::store::{
    CampaignChange, CampaignDraft, CampaignError, CampaignRecord, Start, Timestamp,
};

/// Why a campaign use case was not carried out, in the owner's words.
#[derive(Debug, thiserror::Error)]
pub enum CampaignRefusal {
    #[error("There is no such campaign.")]
    NotFound,
    /// What was written cannot be used: a field empty or too long, a template that does
    /// not compile. Shown next to the field at fault where the face has one.
    #[error("{}", sentence(&.0.reason))]
    Content(TemplateError),
    /// A saved campaign whose templates no longer compile (its layout removed, say).
    #[error("This campaign cannot be sent as it is ({}: {}). Edit the draft first.", .0.field, .0.reason)]
    DoesNotCompile(TemplateError),
    #[error(
        "No confirmed subscriber is in this audience, so there is no one to send it to. Edit the draft to choose another audience."
    )]
    NobodyToSend,
    #[error("That time has passed: choose a later one, or send it now.")]
    TimePassed,
    /// The draft was edited after the page the owner confirmed on showed it.
    #[error(
        "The draft changed after this page was shown (edited in another tab?). Here it is as it is now: check it and confirm again."
    )]
    Changed,
    #[error("This campaign is {current} now; only a {needed} campaign can be {done}.")]
    WrongStatus {
        current: String,
        needed: &'static str,
        /// What was asked, as a past participle: "sent", "paused".
        done: &'static str,
    },
    #[error("There is no such subscriber; choose another.")]
    NoSuchSubscriber,
    /// The mail server did not take the test copy.
    #[error("The test copy could not be sent: {0}")]
    TestNotSent(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

pub type Result<T, E = CampaignRefusal> = std::result::Result<T, E>;

impl CampaignRefusal {
    /// The store's refusal, with what the owner asked for.
    fn from_store(err: CampaignError, done: &'static str) -> Self {
        match err {
            CampaignError::NotFound => Self::NotFound,
            CampaignError::WrongStatus(current, needed) => Self::WrongStatus {
                current,
                needed,
                done,
            },
            CampaignError::Unexpected(err) => Self::Unexpected(err),
        }
    }

    /// A refusal because the campaign already is where the request would take it (a
    /// button pressed twice): harmless.
    pub fn already_done(&self, change: CampaignChange) -> bool {
        matches!(self, Self::WrongStatus { current, .. } if current == change.status_after())
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

/// The campaign at `id`.
pub async fn load(services: &Services, id: Uuid) -> Result<CampaignRecord> {
    services
        .store
        .campaign(id)
        .await?
        .ok_or(CampaignRefusal::NotFound)
}

/// Checks what was written and compiles it with its layout as it stands.
pub fn compile(services: &Services, content: &CampaignContent) -> Result<CompiledCampaign> {
    draft::check(content, &services.composer, None).map_err(CampaignRefusal::Content)
}

/// A new draft, if it compiles; its id.
pub async fn create(services: &Services, draft: &CampaignDraft) -> Result<Uuid> {
    compile(services, &CampaignContent::from(draft))?;
    Ok(services
        .store
        .create_campaign(draft, Timestamp::now())
        .await?)
}

/// Replaces a draft's content, if it compiles and the campaign is still a draft.
pub async fn update(services: &Services, id: Uuid, draft: &CampaignDraft) -> Result<()> {
    compile(services, &CampaignContent::from(draft))?;
    services
        .store
        .update_campaign(id, draft, Timestamp::now())
        .await
        .map_err(|err| CampaignRefusal::from_store(err, "edited"))
}

/// The copy a subscriber (`None`: the sample person) would get of this content, untracked.
pub async fn preview_content(
    services: &Services,
    content: &CampaignContent,
    subscriber: Option<Uuid>,
) -> Result<RenderedCopy> {
    let compiled = compile(services, content)?;
    preview_compiled(services, &compiled, subscriber).await
}

async fn preview_compiled(
    services: &Services,
    compiled: &CompiledCampaign,
    subscriber: Option<Uuid>,
) -> Result<RenderedCopy> {
    let (person, unsubscribe_url) =
        draft::preview_person(&services.store, &services.composer, subscriber)
            .await?
            .ok_or(CampaignRefusal::NoSuchSubscriber)?;
    // The subscriber's own page; a preview is no delivered copy, so no web version.
    let reader = services
        .composer
        .reader_links(subscriber.unwrap_or(Uuid::nil()), Uuid::nil());
    draft::preview(compiled, &person, &unsubscribe_url, reader).map_err(CampaignRefusal::Content)
}

/// The copy a subscriber (`None`: the sample person) would get of the saved campaign; one
/// that went out shows in the layout it went out with.
pub async fn preview(
    services: &Services,
    id: Uuid,
    subscriber: Option<Uuid>,
) -> Result<RenderedCopy> {
    let record = load(services, id).await?;
    let as_sent = match record.layout_version {
        Some(version) => draft::stored_layout(&services.store, version).await?,
        None => None,
    };
    let compiled = draft::check(&content_of(&record), &services.composer, as_sent.as_ref())
        .map_err(CampaignRefusal::Content)?;
    preview_compiled(services, &compiled, subscriber).await
}

/// Sends one untracked copy of the saved campaign to `to` now; the mail server's answer.
pub async fn send_test(services: &Services, id: Uuid, to: &SubscriberEmail) -> Result<String> {
    let record = load(services, id).await?;
    let compiled = compile(services, &content_of(&record))?;
    let sent = draft::send_test(
        &services.composer,
        &services.transport,
        services.config.sending_domain(),
        &compiled,
        to,
    )
    .await?;
    tracing::info!(campaign = %id, sent = sent.is_ok(), "test copy");
    sent.map_err(|err| CampaignRefusal::TestNotSent(err.to_string()))
}

/// The version of a campaign a page shows, which the page sends back when the owner
/// confirms, so that a draft edited since is not what goes.
pub fn page_version(record: &CampaignRecord) -> String {
    record.updated_at.unix_millis().to_string()
}

/// Whether `record` can go at `at` (now when `None`) to an audience of `audience_size`:
/// its templates compile, the time is ahead, and a send now reaches someone.
pub fn check_sendable(
    services: &Services,
    record: &CampaignRecord,
    at: Option<OffsetDateTime>,
    audience_size: i64,
) -> Result<()> {
    draft::check(&content_of(record), &services.composer, None)
        .map_err(CampaignRefusal::DoesNotCompile)?;
    match at {
        Some(at) if at <= OffsetDateTime::now_utc() => Err(CampaignRefusal::TimePassed),
        None if audience_size == 0 => Err(CampaignRefusal::NobodyToSend),
        _ => Ok(()),
    }
}

/// Loads the campaign for a send or a schedule and makes the checks: a status in
/// `allowed`, the version the owner confirmed (`confirmed`, where the face shows one),
/// content that compiles, a time ahead, someone to send to.
async fn ready(
    services: &Services,
    id: Uuid,
    at: Option<OffsetDateTime>,
    confirmed: Option<&str>,
) -> Result<CampaignRecord> {
    let record = load(services, id).await?;
    let (allowed, needed, done): (&[CampaignStatus], _, _) = match at {
        None => (
            &[CampaignStatus::Draft, CampaignStatus::Scheduled],
            "draft or scheduled",
            "sent",
        ),
        Some(_) => (&[CampaignStatus::Draft], "draft", "scheduled"),
    };
    if !allowed.contains(&record.status()) {
        return Err(CampaignRefusal::WrongStatus {
            current: record.status.clone(),
            needed,
            done,
        });
    }
    if confirmed.is_some_and(|shown| shown != page_version(&record)) {
        return Err(CampaignRefusal::Changed);
    }
    let size = match at {
        None => {
            services
                .store
                .audience_size(record.audience().as_deref())
                .await?
        }
        // Not asked: who receives a scheduled campaign is settled when it starts.
        Some(_) => 0,
    };
    check_sendable(services, &record, at, size)?;
    Ok(record)
}

/// Starts sending a draft or scheduled campaign now, and wakes the sender; how many
/// recipients it has. `confirmed`: the page version the owner confirmed, where there is one.
pub async fn send(services: &Services, id: Uuid, confirmed: Option<&str>) -> Result<i64> {
    let record = ready(services, id, None, confirmed).await?;
    let recipients = services
        .store
        .start_campaign(
            record.id,
            Timestamp::now(),
            services.config.sending_domain(),
            Start::Now,
        )
        .await
        .map_err(|err| CampaignRefusal::from_store(err, "sent"))?;
    tracing::info!(campaign = %id, recipients, "campaign started");
    services.campaign_started();
    Ok(recipients)
}

/// Schedules a draft to start at `at`, which must be ahead.
pub async fn schedule(
    services: &Services,
    id: Uuid,
    at: OffsetDateTime,
    confirmed: Option<&str>,
) -> Result<()> {
    let record = ready(services, id, Some(at), confirmed).await?;
    services
        .store
        .schedule_campaign(record.id, Timestamp::not_before(at), Timestamp::now())
        .await
        .map_err(|err| CampaignRefusal::from_store(err, "scheduled"))?;
    tracing::info!(campaign = %id, "campaign scheduled");
    Ok(())
}

/// Pauses, resumes, cancels or takes a schedule back (one use case each, told apart by
/// `change`, as the faces' routes are), as the campaign's state allows; a resumed campaign
/// wakes the sender.
pub async fn change(services: &Services, id: Uuid, change: CampaignChange) -> Result<()> {
    let done = match change {
        CampaignChange::Pause => "paused",
        CampaignChange::Resume => "resumed",
        CampaignChange::Cancel => "cancelled",
        CampaignChange::Unschedule => "taken back to a draft",
    };
    services
        .store
        .change_campaign(id, change, Timestamp::now())
        .await
        .map_err(|err| CampaignRefusal::from_store(err, done))?;
    tracing::info!(campaign = %id, change = ?change, "campaign changed");
    if change == CampaignChange::Resume {
        services.campaign_started();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_read_as_sentences() {
        let wrong = CampaignRefusal::WrongStatus {
            current: "cancelled".into(),
            needed: "paused",
            done: "resumed",
        };
        assert_eq!(
            wrong.to_string(),
            "This campaign is cancelled now; only a paused campaign can be resumed."
        );
        assert!(wrong.already_done(CampaignChange::Cancel));
        assert!(!wrong.already_done(CampaignChange::Pause));
        let content = CampaignRefusal::Content(TemplateError {
            field: "subject",
            reason: "a campaign needs a subject".into(),
        });
        assert_eq!(content.to_string(), "A campaign needs a subject.");
        assert_eq!(sentence("line 3:\n  {% if %}"), "Line 3:\n  {% if %}");
    }
}
