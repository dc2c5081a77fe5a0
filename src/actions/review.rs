//! The owner's word on inbound mail that only an address ties to a subscriber: apply or
//! dismiss a bounce or complaint waiting for review, mark an unverified reply genuine, and
//! lift a bounce that was wrong. The API and the admin pages both call these; each
//! refusal reads the same on both.

use uuid::Uuid;

use super::Services;
use crate::store::{GenuineOutcome, LiftOutcome, ReviewDecision, ReviewOutcome, Timestamp};

/// The longest reason for lifting a bounce, in characters (it is kept in the consent
/// history, where a line is enough).
pub const MAX_LIFT_REASON_CHARS: usize = 500;

/// Why a review decision was not taken.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(
        "There is no inbound message with this number. The subscriber it was about may have been erased."
    )]
    NoMessage,
    #[error("There is no subscriber at this address. They may have been erased.")]
    NoSubscriber,
    #[error(
        "This message is not waiting for review: it was decided already, or it is not a bounce or complaint tied to a subscriber by an address alone."
    )]
    NotWaiting,
    #[error(
        "This reply counts already: a token, one of your Message-IDs, your mail server or you verified it."
    )]
    AlreadyVerified,
    /// The reason given for lifting a bounce cannot be kept (the words say why).
    #[error("Nothing changed: {0}.")]
    Reason(String),
    #[error(
        "A complaint is never lifted by the owner: they marked your newsletter as spam, and only the person can subscribe and confirm again."
    )]
    Complained,
    #[error("This subscriber is {0}, not bounced: there is no bounce to lift.")]
    NotBounced(String),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// What a review decision did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decided {
    /// Applied; `Some(status)` when it stopped mail to the subscriber (`bounced`,
    /// `complained`), `None` when they had left or been suppressed meanwhile.
    Applied(Option<&'static str>),
    Dismissed,
}

/// Applies (mail to the address stops) or dismisses a bounce or complaint waiting for
/// review.
pub async fn decide(
    services: &Services,
    message: i64,
    decision: ReviewDecision,
) -> Result<Decided, ReviewError> {
    match services
        .store
        .decide_review(message, decision, Timestamp::now())
        .await?
    {
        ReviewOutcome::Applied(suppressed) => {
            tracing::info!(
                message,
                ?suppressed,
                "the owner applied a reviewed inbound message"
            );
            Ok(Decided::Applied(suppressed))
        }
        ReviewOutcome::Dismissed => Ok(Decided::Dismissed),
        ReviewOutcome::NotWaiting => Err(ReviewError::NotWaiting),
        ReviewOutcome::NotFound => Err(ReviewError::NoMessage),
    }
}

/// Marks an unverified reply as the subscriber's own; the subscriber it belongs to.
pub async fn mark_genuine(services: &Services, message: i64) -> Result<Uuid, ReviewError> {
    match services
        .store
        .mark_reply_genuine(message, Timestamp::now())
        .await?
    {
        GenuineOutcome::Marked(subscriber) => Ok(subscriber),
        GenuineOutcome::AlreadyVerified => Err(ReviewError::AlreadyVerified),
        GenuineOutcome::NotFound => Err(ReviewError::NoMessage),
    }
}

/// The reason for lifting a bounce, as it will be kept: one line, not empty, not long.
pub fn lift_reason(raw: Option<&str>) -> Result<String, ReviewError> {
    let reason = raw.unwrap_or_default().trim();
    if reason.is_empty() {
        return Err(ReviewError::Reason(
            "say why the bounce was wrong (it is kept in the consent history)".into(),
        ));
    }
    if reason.chars().count() > MAX_LIFT_REASON_CHARS {
        return Err(ReviewError::Reason(format!(
            "the reason is longer than {MAX_LIFT_REASON_CHARS} characters"
        )));
    }
    if reason.chars().any(char::is_control) {
        return Err(ReviewError::Reason(
            "the reason must be one line of text".into(),
        ));
    }
    Ok(reason.to_string())
}

/// Takes back a bounce that was wrong: the subscriber is confirmed again, and the consent
/// history records `by` whom and why. A complaint is never lifted this way.
pub async fn lift_bounce(
    services: &Services,
    subscriber: Uuid,
    by: &str,
    reason: Option<&str>,
) -> Result<(), ReviewError> {
    let reason = lift_reason(reason)?;
    match services
        .store
        .lift_bounce(subscriber, by, &reason, Timestamp::now())
        .await?
    {
        LiftOutcome::Lifted => {
            tracing::info!(%subscriber, "the owner lifted a bounce");
            Ok(())
        }
        LiftOutcome::NotBounced(status) if status == "complained" => Err(ReviewError::Complained),
        LiftOutcome::NotBounced(status) => Err(ReviewError::NotBounced(status)),
        LiftOutcome::NotFound => Err(ReviewError::NoSubscriber),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lift_reason_is_one_short_line() {
        assert_eq!(lift_reason(Some("  back  ")).unwrap(), "back");
        for bad in [None, Some(" "), Some("two\nlines")] {
            assert!(matches!(lift_reason(bad), Err(ReviewError::Reason(_))));
        }
        let long = "x".repeat(MAX_LIFT_REASON_CHARS + 1);
        assert!(lift_reason(Some(&long)).is_err());
    }
}
