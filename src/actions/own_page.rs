//! The reader's own page (`/me/{token}`) and the web version of each copy (`/v/{token}`).
//!
//! The page shows a subscriber what the list holds about them, in words, and lets them
//! change their name, download it all, pause for a while, unsubscribe or erase themselves.
//! Its link is a signed token per subscriber that never expires: it works as long as they
//! are on the list, and stops for good when they are erased (their id is never given
//! again). Every change here is a POST, recorded in their consent history; a GET changes
//! nothing.

use time::OffsetDateTime;

use super::Services;
use super::subscribers::SubscriberError;
use crate::domain::{NameError, Subscriber, SubscriberName, SubscriberStatus, UnsubscribeMethod};
use crate::i18n;
use crate::mail::web_copy::web_copy;
use crate::signing::TokenPurpose;
use crate::store::Timestamp;
use crate::tracking::classify::EventKind;
use crate::tracking::{RawEvent, Tracker};

/// The lengths of a pause a reader can choose, in days.
pub const PAUSES: [i64; 2] = [30, 90];
/// How many of the copies sent lately the page lists.
const COPIES_SHOWN: i64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum OwnPageRefusal {
    /// A forged or cut token, or the person was erased: the page does not exist.
    #[error("This link isn't valid (any more).")]
    NotFound,
    /// The name they typed cannot be kept.
    #[error("{0}")]
    Name(NameError),
    /// A pause or an unsubscription needs a subscription that is running.
    #[error("You are not subscribed.")]
    NotSubscribed,
    /// A pause of a length the page does not offer.
    #[error("A pause lasts 30 or 90 days.")]
    PauseLength,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

type Result<T> = std::result::Result<T, OwnPageRefusal>;

/// The owner's use cases this page shares (export, unsubscribe, erase) refuse a subscriber
/// that is gone: for the reader, the page is gone.
impl From<SubscriberError> for OwnPageRefusal {
    fn from(err: SubscriberError) -> Self {
        match err {
            SubscriberError::Unexpected(err) => Self::Unexpected(err),
            _ => Self::NotFound,
        }
    }
}

/// Who asked, as the consent history records it.
#[derive(Debug, Clone, Default)]
pub struct Asker {
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
}

impl Asker {
    fn ip(&self) -> Option<String> {
        self.ip.map(|ip| ip.to_string())
    }
}

/// One copy sent to them, in words.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SentLine {
    pub subject: String,
    pub date: String,
}

/// What their page shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct OwnPage {
    pub email: String,
    pub name: Option<String>,
    /// `confirmed`, `pending`, `unsubscribed`, `paused` or `other`.
    pub state: &'static str,
    /// The date the state names (unsubscribed on, paused until), in words.
    pub state_date: Option<String>,
    /// When and how they signed up, in words.
    pub signed_up: String,
    pub how: String,
    pub confirmed: Option<String>,
    /// The owner's note on how consent was given, for people the owner added.
    pub stated_consent: Option<String>,
    /// The consent text they were shown.
    pub consent_text: Option<String>,
    pub sent: Vec<SentLine>,
    /// Whether pausing and unsubscribing are offered (a running subscription).
    pub subscribed: bool,
}

/// The subscriber a page link names; erased people and forged links are not found.
async fn subscriber_of(services: &Services, token: &str) -> Result<Subscriber> {
    let claims = services
        .signer
        .verify(TokenPurpose::Reader, token)
        .map_err(|_| OwnPageRefusal::NotFound)?;
    services
        .store
        .subscriber(claims.subject)
        .await?
        .ok_or(OwnPageRefusal::NotFound)
}

fn date(services: &Services, at: OffsetDateTime) -> String {
    i18n::date(services.settings().language, at.date())
}

/// Their page: what the list holds about them, in words.
pub async fn own_page(services: &Services, token: &str) -> Result<OwnPage> {
    let subscriber = subscriber_of(services, token).await?;
    let now = Timestamp::now();
    let paused = services.store.paused_until(subscriber.id, now).await?;
    let copies = services
        .store
        .copies_sent_to(subscriber.id, COPIES_SHOWN)
        .await?;
    let language = services.settings().language;
    let consent = &subscriber.consent;
    let (state, state_date) = match (subscriber.status, paused) {
        (SubscriberStatus::Confirmed, Some(until)) => ("paused", Some(date(services, until.0))),
        (SubscriberStatus::Confirmed, None) => ("confirmed", None),
        (SubscriberStatus::Pending, _) => ("pending", None),
        (SubscriberStatus::Unsubscribed, _) => (
            "unsubscribed",
            consent.unsubscribed_at.map(|at| date(services, at)),
        ),
        _ => ("other", None),
    };
    let how_key = format!("me-how-{}", consent.source);
    let how = i18n::try_text(language, &how_key, &[]).unwrap_or_else(|_| {
        i18n::text(
            language,
            "me-how-other",
            &[("source", consent.source.as_str().into())],
        )
    });
    Ok(OwnPage {
        email: subscriber.email.clone(),
        name: subscriber.name.clone(),
        state,
        state_date,
        signed_up: date(services, consent.signed_up_at),
        how,
        confirmed: consent.confirmed_at.map(|at| date(services, at)),
        stated_consent: consent.stated_consent.clone(),
        consent_text: consent.consent_text.clone(),
        sent: copies
            .into_iter()
            .map(|copy| SentLine {
                subject: copy.subject,
                date: date(services, copy.sent_at.0),
            })
            .collect(),
        subscribed: subscriber.status == SubscriberStatus::Confirmed,
    })
}

/// Changes the name they gave (blank: none).
pub async fn rename(services: &Services, token: &str, name: &str, asker: &Asker) -> Result<()> {
    let subscriber = subscriber_of(services, token).await?;
    let name = SubscriberName::parse_optional(Some(name)).map_err(OwnPageRefusal::Name)?;
    let changed = services
        .store
        .rename_by_reader(
            subscriber.id,
            name.as_ref().map(|n| n.as_str()),
            asker.ip().as_deref(),
            Timestamp::now(),
        )
        .await?;
    if !changed {
        return Err(OwnPageRefusal::NotFound);
    }
    Ok(())
}

/// Pauses their campaigns for `days` (one of [`PAUSES`]); the date it ends, in words.
pub async fn pause(services: &Services, token: &str, days: &str, asker: &Asker) -> Result<String> {
    let subscriber = subscriber_of(services, token).await?;
    let days = days
        .trim()
        .parse::<i64>()
        .ok()
        .filter(|days| PAUSES.contains(days))
        .ok_or(OwnPageRefusal::PauseLength)?;
    let now = Timestamp::now();
    if !services
        .store
        .pause(subscriber.id, days, asker.ip().as_deref(), now)
        .await?
    {
        return Err(OwnPageRefusal::NotSubscribed);
    }
    tracing::info!(subscriber = %subscriber.id, days, "paused by the person");
    Ok(date(services, now.0 + time::Duration::days(days)))
}

/// Everything held about them (the owner's export) and the file name it goes under.
pub async fn download(
    services: &Services,
    token: &str,
    asker: &Asker,
) -> Result<(String, serde_json::Value)> {
    let subscriber = subscriber_of(services, token).await?;
    services
        .store
        .record_export_by_reader(subscriber.id, asker.ip().as_deref(), Timestamp::now())
        .await?;
    let export = super::subscribers::export(services, subscriber.id).await?;
    Ok((super::subscribers::export_file_name(subscriber.id), export))
}

/// Unsubscribes them from their page.
pub async fn unsubscribe(services: &Services, token: &str, asker: &Asker) -> Result<()> {
    let subscriber = subscriber_of(services, token).await?;
    if subscriber.status != SubscriberStatus::Confirmed
        && subscriber.status != SubscriberStatus::Pending
    {
        return Err(OwnPageRefusal::NotSubscribed);
    }
    super::subscribers::unsubscribe(services, subscriber.id, UnsubscribeMethod::Page, asker.ip())
        .await?;
    Ok(())
}

/// The address the erase confirmation names, once the link is known good.
pub async fn erase_question(services: &Services, token: &str) -> Result<String> {
    Ok(subscriber_of(services, token).await?.email)
}

/// Erases them, as the owner's erasure does, counted as asked for by the person.
pub async fn erase(services: &Services, tracker: &Tracker, token: &str) -> Result<()> {
    let subscriber = subscriber_of(services, token).await?;
    super::subscribers::erase_as(services, tracker, subscriber.id, true).await?;
    Ok(())
}

/// A copy's web version, as HTML. `opener`: a person's GET (HEAD passes `None`), recorded
/// as an open of the copy when it is tracked, judged as the pixel's opens are.
pub async fn web_version(
    services: &Services,
    tracker: &Tracker,
    token: &str,
    opener: Option<Asker>,
) -> Result<String> {
    let (delivery, _) = services
        .signer
        .verify_value(TokenPurpose::WebVersion, token)
        .map_err(|_| OwnPageRefusal::NotFound)?;
    let copy = services
        .store
        .delivered_copy(delivery)
        .await?
        .ok_or(OwnPageRefusal::NotFound)?;
    let subscriber = services
        .store
        .subscriber(copy.subscriber_id)
        .await?
        .ok_or(OwnPageRefusal::NotFound)?;
    let shown = web_copy(
        &services.store,
        &services.composer,
        &services.signer,
        delivery,
        copy.campaign_id,
        &subscriber,
    )
    .await?
    .ok_or(OwnPageRefusal::NotFound)?;
    if shown.tracked
        && let Some(opener) = opener
    {
        tracker
            .record(RawEvent {
                kind: EventKind::Open,
                delivery,
                link: None,
                at: Timestamp::now(),
                user_agent: opener.user_agent,
                ip: opener.ip,
            })
            .await;
    }
    Ok(shown.copy.html)
}
