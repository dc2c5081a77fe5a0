//! Re-permission: asking dormant subscribers whether they still want the list (each gets a
//! "keep me" link), and, once their time to answer has passed, unsubscribing those who did
//! not. The admin tools page and the API's `/repermission` routes call these.

use super::Services;
use crate::store::{ANSWER_DAYS, DEFAULT_ANSWER_DAYS, Timestamp, answer_by};

/// Why the requests were not sent.
#[derive(Debug, thiserror::Error)]
pub enum PermissionError {
    #[error(
        "The time to answer must be a whole number of days from {} to {}.",
        ANSWER_DAYS.start(),
        ANSWER_DAYS.end()
    )]
    Days,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The time to answer as typed in a form: empty is the default.
pub fn parse_days(raw: Option<&str>) -> Result<Option<i64>, PermissionError> {
    match raw.map(str::trim).unwrap_or_default() {
        "" => Ok(None),
        raw => raw.parse().map(Some).map_err(|_| PermissionError::Days),
    }
}

/// What asking did.
#[derive(Debug, Clone, Copy)]
pub struct Asked {
    /// Requests queued now.
    pub asked: i64,
    /// When the time to answer ends.
    pub answer_by: Timestamp,
}

/// Sends "still want this?" to every dormant subscriber not already asked, with
/// `answer_within_days` (the default when `None`) to answer; wakes the sender.
pub async fn ask_dormant(
    services: &Services,
    answer_within_days: Option<i64>,
) -> Result<Asked, PermissionError> {
    let now = Timestamp::now();
    let days = answer_within_days.unwrap_or(DEFAULT_ANSWER_DAYS);
    let answer_by = answer_by(now, days).ok_or(PermissionError::Days)?;
    let asked = services
        .store
        .ask_dormant(now, answer_by, services.config.sending_domain())
        .await?;
    tracing::info!(asked, "re-permission requests sent");
    services.message_queued();
    Ok(Asked { asked, answer_by })
}

/// The owner's one action once the time to answer passed: those who did not answer are
/// unsubscribed (their consent history says why). How many.
pub async fn unsubscribe_unanswered(services: &Services) -> anyhow::Result<i64> {
    let unsubscribed = services
        .store
        .unsubscribe_unanswered(Timestamp::now())
        .await?;
    tracing::info!(
        unsubscribed,
        "unanswered re-permission requests unsubscribed"
    );
    Ok(unsubscribed)
}
