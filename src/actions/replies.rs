//! The owner answers a subscriber's reply: the answer is queued for sending, threaded under
//! the reply (its subject and references), and kept in the subscriber's timeline.

use uuid::Uuid;

use super::Services;
use crate::mail::thread::{answer_subject, threading};
use crate::store::{AnswerOutcome, NewAnswer, Timestamp};

/// The longest answer, in characters.
pub const MAX_ANSWER_CHARS: usize = 20_000;

/// Why an answer was not sent.
#[derive(Debug, thiserror::Error)]
pub enum AnswerError {
    #[error("Write your answer first.")]
    Empty,
    #[error("An answer can be at most {MAX_ANSWER_CHARS} characters.")]
    TooLong,
    #[error("This subscriber has no reply to answer there. It may have been erased with them.")]
    NoReply,
    #[error(
        "There is no subscriber at this address. They may have been erased; the list of subscribers shows everyone on it."
    )]
    NoSubscriber,
    #[error(
        "Their address bounced or they marked a newsletter as spam, so nothing more is sent to it."
    )]
    Suppressed,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// The answer as it will be sent: line ends made plain, trailing space gone.
pub fn answer_text(raw: &str) -> String {
    raw.replace("\r\n", "\n").trim_end().to_string()
}

/// Queues the owner's answer to `reply` of `subscriber` and wakes the sender.
pub async fn answer(
    services: &Services,
    subscriber: Uuid,
    reply: i64,
    body: &str,
) -> Result<(), AnswerError> {
    let body = answer_text(body);
    if body.trim().is_empty() {
        return Err(AnswerError::Empty);
    }
    if body.chars().count() > MAX_ANSWER_CHARS {
        return Err(AnswerError::TooLong);
    }
    let replied = services
        .store
        .reply_to_answer(subscriber, reply)
        .await?
        .ok_or(AnswerError::NoReply)?;
    let fallback = replied
        .campaign_subject
        .clone()
        .unwrap_or_else(|| services.settings().list_name());
    let (in_reply_to, references) = threading(
        replied.message_id.as_deref(),
        replied.reference_ids.as_deref(),
    );
    let new = NewAnswer {
        subscriber_id: subscriber,
        reply_id: replied.id,
        subject: answer_subject(replied.subject.as_deref(), &fallback),
        body,
        in_reply_to,
        references,
        now: Timestamp::now(),
        message_domain: services.settings().sending_domain().to_string(),
    };
    match services.store.queue_answer(&new).await? {
        AnswerOutcome::Queued(_) => {
            services.message_queued();
            Ok(())
        }
        AnswerOutcome::Unknown => Err(AnswerError::NoSubscriber),
        AnswerOutcome::Suppressed => Err(AnswerError::Suppressed),
    }
}
