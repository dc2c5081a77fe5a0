//! What the owner does to one subscriber: add them (with a confirmation message, or as
//! confirmed on the owner's word of how they consented), change their name, attributes or
//! tracking, keep a private note, unsubscribe them, export everything held about them,
//! erase them. The API and the admin pages call these.

use uuid::Uuid;

use super::Services;
use crate::domain::{SignupSource, Subscriber, SubscriberEmail, SubscriberName, UnsubscribeMethod};
use crate::store::{NewSubscriber, StoreError, Timestamp, UnsubscribeOutcome};
use crate::tracking::Tracker;

/// The most JSON a subscriber's attributes may take.
pub const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;
/// The longest statement of how a subscriber added as confirmed gave consent.
pub const MAX_CONSENT_CHARS: usize = 2000;
/// The longest private note on a subscriber.
pub const MAX_NOTE_CHARS: usize = 10_000;

/// Why a change to a subscriber was not made.
#[derive(Debug, thiserror::Error)]
pub enum SubscriberError {
    /// A value that cannot be taken; `field` names it for forms and JSON.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error("this address is already on the list")]
    AlreadyOnList,
    #[error("this address was erased at its owner's request; only they can sign up again")]
    Erased,
    #[error(
        "There is no subscriber at this address. They may have been erased; the list of subscribers shows everyone on it."
    )]
    NotFound,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl SubscriberError {
    fn invalid(field: &'static str, message: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            message: message.into(),
        }
    }
}

/// A subscriber to add, as the owner gave them.
#[derive(Debug, Default)]
pub struct Addition<'a> {
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    pub attributes: Option<serde_json::Value>,
    /// `pending` (the default: they get a confirmation message) or `confirmed`.
    pub status: Option<&'a str>,
    /// How a subscriber added as confirmed gave consent (required for them).
    pub consent: Option<&'a str>,
}

/// The address and the optional name, each checked; the refusal names the field at fault.
pub fn parse_person(
    email: Option<&str>,
    name: Option<&str>,
) -> Result<(SubscriberEmail, Option<SubscriberName>), SubscriberError> {
    let email = SubscriberEmail::parse(email.unwrap_or_default())
        .map_err(|err| SubscriberError::invalid("email", err.to_string()))?;
    let name = SubscriberName::parse_optional(name)
        .map_err(|err| SubscriberError::invalid("name", err.to_string()))?;
    Ok((email, name))
}

/// Attributes as given: a JSON object of bounded size; none (or `null`) is an empty one.
fn attributes(value: Option<serde_json::Value>) -> Result<serde_json::Value, SubscriberError> {
    match value {
        None | Some(serde_json::Value::Null) => Ok(serde_json::json!({})),
        Some(value @ serde_json::Value::Object(_)) => {
            if value.to_string().len() > MAX_ATTRIBUTES_BYTES {
                return Err(SubscriberError::invalid(
                    "attributes",
                    "attributes must be at most 16 KiB of JSON",
                ));
            }
            Ok(value)
        }
        Some(_) => Err(SubscriberError::invalid(
            "attributes",
            "attributes must be a JSON object",
        )),
    }
}

/// `None` for a pending subscriber; the owner's statement of consent for a confirmed one.
fn stated_consent(
    status: Option<&str>,
    consent: Option<&str>,
) -> Result<Option<String>, SubscriberError> {
    match status {
        None | Some("pending") => Ok(None),
        Some("confirmed") => {
            let consent = consent.map(str::trim).unwrap_or_default();
            if consent.is_empty() {
                return Err(SubscriberError::invalid(
                    "consent",
                    "adding a confirmed subscriber needs a \"consent\" text saying how they gave consent",
                ));
            }
            if consent.chars().count() > MAX_CONSENT_CHARS {
                return Err(SubscriberError::invalid(
                    "consent",
                    format!("consent must be at most {MAX_CONSENT_CHARS} characters"),
                ));
            }
            Ok(Some(consent.to_string()))
        }
        Some(_) => Err(SubscriberError::invalid(
            "status",
            "status must be \"pending\" or \"confirmed\"",
        )),
    }
}

/// Adds a subscriber the owner names. A pending one gets the confirmation message (the
/// sender is woken); a confirmed one gets nothing, and the consent history keeps the
/// owner's statement of how they agreed.
pub async fn add(
    services: &Services,
    addition: Addition<'_>,
    source: SignupSource,
) -> Result<Subscriber, SubscriberError> {
    let (email, name) = parse_person(addition.email, addition.name)?;
    let new = NewSubscriber {
        email,
        name,
        attributes: attributes(addition.attributes)?,
        source,
        stated_consent: stated_consent(addition.status, addition.consent)?,
        now: Timestamp::now(),
        message_domain: services.settings().sending_domain().to_string(),
    };
    let id = match services.store.add_subscriber(&new).await {
        Ok(id) => id,
        Err(StoreError::AlreadyExists) => return Err(SubscriberError::AlreadyOnList),
        Err(StoreError::Erased) => return Err(SubscriberError::Erased),
        Err(StoreError::Unexpected(err)) => return Err(err.into()),
    };
    if new.stated_consent.is_none() {
        services.message_queued();
    }
    find(services, id).await
}

/// The subscriber, or the refusal that they are not there.
pub async fn find(services: &Services, id: Uuid) -> Result<Subscriber, SubscriberError> {
    services
        .store
        .subscriber(id)
        .await?
        .ok_or(SubscriberError::NotFound)
}

/// What to change about a subscriber; a field left `None` stays as it is.
#[derive(Debug, Default)]
pub struct Changes {
    /// `Some(None)` removes the name.
    pub name: Option<Option<String>>,
    /// Replaces the attributes whole.
    pub attributes: Option<serde_json::Value>,
    /// `false`: no open pixel and no rewritten links in their next copies.
    pub tracking: Option<bool>,
}

/// Changes a subscriber's name, attributes or tracking.
pub async fn update(
    services: &Services,
    id: Uuid,
    changes: Changes,
) -> Result<Subscriber, SubscriberError> {
    let name = match changes.name {
        None => None,
        Some(None) => Some(None),
        Some(Some(raw)) => Some(
            SubscriberName::parse_optional(Some(&raw))
                .map_err(|err| SubscriberError::invalid("name", err.to_string()))?
                .map(|n| n.as_str().to_string()),
        ),
    };
    let attributes = match changes.attributes {
        None => None,
        Some(value @ serde_json::Value::Object(_))
            if value.to_string().len() <= MAX_ATTRIBUTES_BYTES =>
        {
            Some(value)
        }
        Some(_) => {
            return Err(SubscriberError::invalid(
                "attributes",
                "attributes must be a JSON object of at most 16 KiB",
            ));
        }
    };
    let updated = services
        .store
        .update_subscriber(id, name, attributes, changes.tracking, Timestamp::now())
        .await?;
    if !updated {
        return Err(SubscriberError::NotFound);
    }
    find(services, id).await
}

/// Keeps the owner's private note on a subscriber (an empty one removes it).
pub async fn save_note(services: &Services, id: Uuid, note: &str) -> Result<(), SubscriberError> {
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(SubscriberError::invalid(
            "note",
            format!("A note can be at most {MAX_NOTE_CHARS} characters."),
        ));
    }
    let note = (!note.is_empty()).then_some(note);
    if services
        .store
        .set_subscriber_note(id, note, Timestamp::now())
        .await?
    {
        Ok(())
    } else {
        Err(SubscriberError::NotFound)
    }
}

/// Unsubscribes them (the owner from the admin page, or the person by a link or one
/// click); the address that left.
pub async fn unsubscribe(
    services: &Services,
    id: Uuid,
    method: UnsubscribeMethod,
    ip: Option<String>,
) -> Result<String, SubscriberError> {
    // Runs to its end even if the caller's connection drops meanwhile.
    let store = services.store.clone();
    let outcome = crate::actions::to_completion(async move {
        store
            .unsubscribe(id, method, ip.as_deref(), Timestamp::now())
            .await
    })
    .await?;
    match outcome {
        UnsubscribeOutcome::Unsubscribed { email } => {
            tracing::info!(subscriber = %id, method = method.as_str(), "unsubscribed");
            Ok(email)
        }
        UnsubscribeOutcome::Unknown => Err(SubscriberError::NotFound),
    }
}

/// Everything held about them, as one JSON document.
pub async fn export(services: &Services, id: Uuid) -> Result<serde_json::Value, SubscriberError> {
    services
        .store
        .export_subscriber(id)
        .await?
        .ok_or(SubscriberError::NotFound)
}

/// The file name an export is offered under.
pub fn export_file_name(id: Uuid) -> String {
    format!("subscriber-{}.json", id.simple())
}

/// Erases them: everything about them goes, and their address is kept only as a hash so
/// an import cannot add it back. The tracker forgets the links it read, which may name
/// them.
pub async fn erase(
    services: &Services,
    tracker: &Tracker,
    id: Uuid,
) -> Result<(), SubscriberError> {
    erase_as(services, tracker, id, false).await
}

/// [`erase`], saying whether the person asked for it on their own page (the owner's pages
/// count those, without any address).
pub async fn erase_as(
    services: &Services,
    tracker: &Tracker,
    id: Uuid,
    by_person: bool,
) -> Result<(), SubscriberError> {
    if !services
        .store
        .erase_as(id, Timestamp::now(), by_person)
        .await?
    {
        return Err(SubscriberError::NotFound);
    }
    tracker.forget_links();
    tracing::info!(subscriber = %id, by_person, "subscriber erased");
    Ok(())
}
