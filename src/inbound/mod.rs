//! Inbound mail: what comes back to the list's address, and what it means.
//!
//! [`parse`] reads one raw message, as it arrived, and says what kind it is:
//!
//! - a **bounce**: a delivery status notification, either the standard kind (RFC 3464,
//!   `multipart/report; report-type=delivery-status`) or one of the plain-text notices that
//!   qmail, Exim, Courier, Yahoo, Mail.ru, Exchange and friends still send; hard when the
//!   address is gone, soft when it may work later (full mailbox, delay, expired retries);
//! - a **complaint**: a feedback-loop report (ARF, RFC 5965) saying a subscriber pressed
//!   "this is spam";
//! - an **automatic reply**: vacation and out-of-office notes, list software, other robots;
//! - otherwise a **reply** from a person, with the earlier messages they quoted trimmed away.
//!
//! Pure code: no database, no network. Any input gets a bounded amount of work and never a
//! panic: at most [`MAX_MESSAGE_BYTES`] are read, MIME parts are walked 16 levels deep at
//! most, and the text rules look at the first 256 KiB of text. Input that is not mail at
//! all is an [`InboundError`].
//!
//! The rules live in `classify` (which kind, asked in which order), `bounce` (reading a
//! failure notice), `quote` (trimming a reply) and `text` (readable text and report parts
//! out of the MIME tree); `headers` turns header fields into bare addresses, Message-IDs
//! and dates.
//!
//! Layer: the engine's work (with mail, tracking, lists and accounts), below the use
//! cases. It may import store, domain, config and signing; it must not import actions, web,
//! app or cli, and store, domain and config must not import it. `smtp` (the listener) and
//! `imap` (the poller) are the doors; `receive` stores what they take.

pub mod authentication;
mod bounce;
mod classify;
mod headers;
pub mod imap;
mod input;
mod quote;
pub mod receive;
pub mod smtp;
mod text;

#[cfg(test)]
mod tests;

use mail_parser::MessageParser;
use time::OffsetDateTime;

pub use quote::trim_reply;

/// Only this much of a message is read; the rest is ignored. No bounce, complaint or reply
/// needs more, and it bounds the work one message can cost.
pub const MAX_MESSAGE_BYTES: usize = 10 * 1024 * 1024;

/// How deep into nested MIME parts we look for reports and returned messages.
pub(crate) const MAX_MIME_DEPTH: usize = 16;

/// What one inbound message is, with the header details needed to attribute it to a
/// subscriber and a campaign.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundMessage {
    /// Bounce, complaint, automatic reply or a person's reply.
    pub kind: InboundKind,
    /// The `From` address, bare (no display name), with its domain lowercased.
    pub from: Option<String>,
    /// The `Subject`, with encoded words decoded.
    pub subject: Option<String>,
    /// The `Date`, if it parses.
    pub date: Option<OffsetDateTime>,
    /// The `Message-ID`, with angle brackets: `<abc@example.com>`.
    pub message_id: Option<String>,
    /// The Message-IDs in `In-Reply-To`, with angle brackets.
    pub in_reply_to: Vec<String>,
    /// The Message-IDs in `References`, with angle brackets, oldest first as in the header.
    pub references: Vec<String>,
    /// Addresses from `To`, `Cc`, `Delivered-To` and `X-Original-To`, in that order, each
    /// once: where a reply-address token (`reply+token@…`) will be found.
    pub recipients: Vec<String>,
    /// The raw values of its `Authentication-Results` fields, topmost first (see
    /// [`authentication::sender_verified`]).
    pub authentication_results: Vec<String>,
}

/// The kind of an inbound message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InboundKind {
    /// A delivery failure (or delay) notice for a message we sent.
    Bounce {
        /// True when the address itself is gone: an unknown user or domain, or another
        /// permanent (`5.x.x`) failure of the address. False when a later message may get
        /// through: a full mailbox, a delay or greylisting, expired retries, a message too
        /// big, or a policy or spam block (`5.7.x`), which is about the message or our
        /// sending rather than the address.
        hard: bool,
        /// The enhanced status code, like `5.1.1`; an SMTP reply code alone (`550`) becomes
        /// `5.0.0` (`4xx` becomes `4.0.0`).
        status: Option<String>,
        /// The address that failed: `Final-Recipient` (or `Original-Recipient`) of a
        /// standard report, else `X-Failed-Recipients`, else the failed address named in
        /// the notice. A report on several recipients speaks for the first that failed.
        recipient: Option<String>,
        /// The `Message-ID` of the returned message (its `message/rfc822` or
        /// `text/rfc822-headers` part, or the copy quoted in a plain-text notice).
        original_message_id: Option<String>,
        /// The remote server's words (`Diagnostic-Code`, or the line of the notice that
        /// carries the status).
        diagnostic: Option<String>,
        /// The other recipients the same notice says failed (a report on several), each
        /// with its own status.
        others: Vec<OtherFailure>,
    },
    /// A feedback-loop report: the recipient marked a message as spam.
    Complaint {
        /// `Original-Rcpt-To` of the report, else the `To` of the returned message.
        recipient: Option<String>,
        /// The `Message-ID` of the returned message (or the report's `Original-Message-ID`).
        original_message_id: Option<String>,
        /// The report's `Feedback-Type`, lowercased (`abuse`, `fraud`, …).
        feedback_type: Option<String>,
    },
    /// Written by a program, not a person: vacation, out of office, list software.
    AutoReply {
        /// Which header or rule said so, in words.
        reason: String,
    },
    /// A person's reply.
    Reply {
        /// What they wrote: the text part (or the HTML part as text) without the quoted
        /// earlier messages, attribution lines and a trailing `-- ` signature.
        text: String,
    },
}

/// A further recipient named in one failure notice.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtherFailure {
    pub recipient: String,
    pub hard: bool,
    pub status: Option<String>,
    pub diagnostic: Option<String>,
}

/// Input that cannot be read as mail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboundError {
    /// Nothing but whitespace.
    #[error("the message is empty")]
    Empty,
    /// No header section at the start (binary data or some other text), or one the MIME
    /// parser could not read.
    #[error("not a mail message: it does not start with a header section")]
    NotMail,
}

/// Reads one raw message and says what it is. Never panics; reads at most
/// [`MAX_MESSAGE_BYTES`] of the input.
pub fn parse(raw: &[u8]) -> Result<InboundMessage, InboundError> {
    let raw = raw.get(..MAX_MESSAGE_BYTES).unwrap_or(raw);
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Err(InboundError::Empty);
    }
    if !input::starts_with_header(raw) {
        return Err(InboundError::NotMail);
    }
    let raw = input::prepare(raw);
    // mail-parser is fuzzed and meant never to panic; should it still, one odd message
    // must not take the caller down with it.
    let parsed = std::panic::catch_unwind(|| MessageParser::default().parse(raw.as_ref()));
    let Ok(Some(message)) = parsed else {
        return Err(InboundError::NotMail);
    };
    // mail-parser reads a header out of nearly anything; a message has at least one field
    // whose name it knows (From, Received, Content-Type, …).
    if !message.headers().iter().any(|h| !h.name.is_other()) {
        return Err(InboundError::NotMail);
    }
    let kind = classify::classify(&message);
    Ok(InboundMessage {
        kind,
        from: headers::from_address(&message),
        subject: message
            .subject()
            .map(|s| headers::clip(s.trim()).to_string()),
        date: headers::date(&message),
        message_id: message.message_id().and_then(headers::bracketed_id),
        in_reply_to: headers::id_list(message.in_reply_to()),
        references: headers::id_list(message.references()),
        recipients: headers::recipients(&message),
        authentication_results: message
            .headers_raw()
            .filter(|(name, _)| name.eq_ignore_ascii_case("Authentication-Results"))
            .take(authentication::MAX_FIELDS)
            .map(|(_, value)| headers::clip_to(value, authentication::MAX_FIELD_BYTES).to_string())
            .collect(),
    })
}
