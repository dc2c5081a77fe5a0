//! Reading a bounce: standard delivery reports (RFC 3464) and the plain-text notices that
//! many servers still send instead.
//!
//! A standard report names each recipient with its `Action`, `Status` and
//! `Diagnostic-Code`. A plain notice says the same in prose: the failed address on a line
//! of its own (`<user@example.com>:`), the remote server's reply (`550 5.1.1 User unknown`),
//! and then a copy of the returned message, whose addresses and IDs must not be mistaken
//! for the failed one. So the notice is cut where the copy starts, and the address and
//! status are looked for in what is left, best evidence first.

use mail_parser::Message;

use super::headers::{self, field, has_field};
use super::text::Body;
use super::{InboundKind, OtherFailure};
use notice::*;
pub(super) use wording::is_reply_or_forward;
use wording::*;

mod notice;
mod wording;

/// At most this many recipients are read from reports.
const MAX_RECIPIENTS: usize = 100;

/// One recipient block of a delivery report.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct ReportedRecipient {
    pub final_recipient: Option<String>,
    pub original_recipient: Option<String>,
    pub action: Option<String>,
    pub status: Option<String>,
    pub diagnostic: Option<String>,
}

impl ReportedRecipient {
    /// The status code its `Status` field gives, or else its diagnostic.
    fn found_status(&self) -> Option<FoundStatus> {
        self.status
            .as_deref()
            .and_then(find_status)
            .or_else(|| self.diagnostic.as_deref().and_then(find_status))
    }

    fn address(&self) -> Option<String> {
        let address = |v: &Option<String>| v.as_deref().and_then(headers::extract_address);
        address(&self.final_recipient).or_else(|| address(&self.original_recipient))
    }

    fn action_is(&self, action: &str) -> bool {
        self.action
            .as_deref()
            .is_some_and(|a| a.eq_ignore_ascii_case(action))
    }
}

/// The recipient blocks of a delivery report (or of text that carries report fields).
pub(super) fn reported_recipients(report: &str) -> Vec<ReportedRecipient> {
    headers::field_blocks(report)
        .into_iter()
        .filter_map(|block| {
            let get = |name: &str| {
                block
                    .iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| v.clone())
            };
            let recipient = ReportedRecipient {
                final_recipient: get("final-recipient"),
                original_recipient: get("original-recipient"),
                action: get("action").map(|a| a.to_ascii_lowercase()),
                status: get("status"),
                diagnostic: get("diagnostic-code"),
            };
            // The per-message block (Reporting-MTA, Arrival-Date) names no recipient.
            let names_one = recipient.final_recipient.is_some()
                || recipient.original_recipient.is_some()
                || (recipient.action.is_some() && recipient.status.is_some());
            names_one.then_some(recipient)
        })
        .take(MAX_RECIPIENTS)
        .collect()
}

/// What the message says about itself that marks it as a bounce.
struct Cues {
    /// Written by a mail server: `MAILER-DAEMON`, `postmaster`, "Mail Delivery System".
    daemon_sender: bool,
    /// `Return-Path: <>`: the null sender that RFC 5321 reserves for notifications.
    null_sender: bool,
    /// `Auto-Submitted` other than `no`.
    auto_submitted: bool,
    /// "Undelivered Mail Returned to Sender", "failure notice", …
    subject: bool,
    /// "could not be delivered", "The following address(es) failed", …
    text: bool,
}

impl Cues {
    fn read(message: &Message<'_>, subject: &str, notice_lower: &str) -> Self {
        Self {
            daemon_sender: daemon_sender(message),
            null_sender: field(message, "Return-Path").is_some_and(|v| {
                v.trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace())
                    .is_empty()
            }),
            auto_submitted: field(message, "Auto-Submitted")
                .is_some_and(|v| !v.trim().eq_ignore_ascii_case("no")),
            subject: subject_says_bounce(subject),
            text: text_says_bounce(notice_lower),
        }
    }
}

/// A report whose every recipient got the message (delivered, relayed, expanded).
fn all_delivered(reported: &[ReportedRecipient]) -> bool {
    !reported.is_empty()
        && reported
            .iter()
            .all(|r| r.action_is("delivered") || r.action_is("relayed") || r.action_is("expanded"))
}

/// What a notice's words are weighed on for a permanent failure: its text and the
/// diagnostic it gives, lowercased.
fn evidence(mut notice_lower: String, diagnostic: &Option<String>) -> String {
    if let Some(d) = diagnostic {
        notice_lower.push('\n');
        notice_lower.push_str(&d.to_lowercase());
    }
    notice_lower
}

/// The bounce this message is, if it is one. A delivery report that says every recipient
/// got the message is not a bounce: it comes back as an automatic reply.
pub(super) fn detect(message: &Message<'_>, body: &Body) -> Option<InboundKind> {
    let subject = headers::clip(message.subject().unwrap_or_default()).to_lowercase();
    let (notice, copy) = split_notice(&body.text);
    let notice_lower = notice.to_lowercase();

    let mut reported: Vec<ReportedRecipient> = body
        .delivery_status
        .iter()
        .flat_map(|report| reported_recipients(report))
        .take(MAX_RECIPIENTS)
        .collect();
    let structural = !reported.is_empty()
        || body.report_type.as_deref() == Some("delivery-status")
        || has_field(message, "X-MS-Exchange-Message-Is-Ndr");
    let failed_fields: Vec<String> = field(message, "X-Failed-Recipients")
        .or_else(|| field(message, "X-Bounced-Address"))
        .map(|v| headers::addresses_in(&v).take(MAX_RECIPIENTS).collect())
        .unwrap_or_default();
    let cues = Cues::read(message, &subject, &notice_lower);
    let from_a_robot = cues.daemon_sender || cues.null_sender || cues.auto_submitted;
    // Report fields written into the body itself (no MIME report part).
    if reported.is_empty() && (from_a_robot || cues.subject) {
        reported = reported_recipients(notice);
    }
    let notice_status = find_status(notice);
    // A mail server's message quoting a failure code, even with no familiar words (Apache
    // James answers "Re: <subject>" with just the SMTP error).
    let is_bounce = structural
        || !failed_fields.is_empty()
        || !reported.is_empty()
        || (from_a_robot && (cues.subject || cues.text))
        || (cues.subject && cues.text)
        || (cues.daemon_sender && notice_status.is_some());
    if !is_bounce {
        return None;
    }

    if all_delivered(&reported) {
        return Some(InboundKind::AutoReply {
            reason: "delivery status notification reporting successful delivery".into(),
        });
    }

    // Several recipients in one report: the first that failed speaks for the report (a
    // newsletter copy has one recipient, so this is rare).
    let chosen = reported
        .iter()
        .find(|r| r.action_is("failed"))
        .or_else(|| reported.iter().find(|r| r.action_is("delayed")))
        .or_else(|| reported.first());

    let status = chosen
        .and_then(ReportedRecipient::found_status)
        .or_else(|| notice_status.clone())
        .map(|found| found.code);

    let diagnostic = chosen
        .and_then(|r| r.diagnostic.as_deref())
        .map(without_type_prefix)
        .or_else(|| notice_status.as_ref().map(|s| line_at(notice, s.at)))
        .map(|d| headers::clip_to(d.trim(), 1000).to_string())
        .filter(|d| !d.is_empty());

    let recipient = chosen
        .and_then(ReportedRecipient::address)
        .or_else(|| failed_fields.first().cloned())
        .or_else(|| failed_address_in(notice, &own_addresses(message)));

    let delayed = chosen.is_some_and(|r| r.action_is("delayed"))
        || subject_says_delay(&subject)
        || says_delay(&notice_lower);
    let hard = !delayed && is_permanent(status.as_deref(), &evidence(notice_lower, &diagnostic));

    let original_message_id = body
        .returned
        .as_ref()
        .and_then(|r| r.message_id.clone())
        .or_else(|| message_id_in_copy(copy));

    let others = other_failures(
        &reported,
        chosen,
        &failed_fields,
        recipient.as_deref(),
        hard,
        &status,
    );

    Some(InboundKind::Bounce {
        hard,
        status,
        recipient,
        original_message_id,
        diagnostic,
        others,
    })
}

/// The recipients a report names besides the one that speaks for it, each with what
/// happened to it: the other blocks of a standard report that failed or were delayed, or
/// the other addresses of `X-Failed-Recipients` (which share the notice's status).
fn other_failures(
    reported: &[ReportedRecipient],
    chosen: Option<&ReportedRecipient>,
    failed_fields: &[String],
    first: Option<&str>,
    hard: bool,
    status: &Option<String>,
) -> Vec<OtherFailure> {
    let same = |a: &str| first.is_some_and(|f| f.eq_ignore_ascii_case(a));
    let mut others: Vec<OtherFailure> = Vec::new();
    let mut add = |failure: OtherFailure| {
        if !same(&failure.recipient)
            && !others
                .iter()
                .any(|o| o.recipient.eq_ignore_ascii_case(&failure.recipient))
        {
            others.push(failure);
        }
    };
    for block in reported {
        if chosen.is_some_and(|c| std::ptr::eq(c, block))
            || !(block.action_is("failed") || block.action_is("delayed"))
        {
            continue;
        }
        let Some(address) = block.address() else {
            continue;
        };
        let status = block
            .status
            .as_deref()
            .and_then(find_status)
            .or_else(|| block.diagnostic.as_deref().and_then(find_status))
            .map(|s| s.code);
        let diagnostic = block
            .diagnostic
            .as_deref()
            .map(|d| headers::clip_to(without_type_prefix(d).trim(), 1000).to_string())
            .filter(|d| !d.is_empty());
        let evidence = diagnostic.as_deref().unwrap_or_default().to_lowercase();
        add(OtherFailure {
            recipient: address,
            hard: !block.action_is("delayed") && is_permanent(status.as_deref(), &evidence),
            status,
            diagnostic,
        });
    }
    if reported.is_empty() {
        for address in failed_fields {
            add(OtherFailure {
                recipient: address.clone(),
                hard,
                status: status.clone(),
                diagnostic: None,
            });
        }
    }
    others
}

/// Hard or soft. Hard means the address itself is gone, so mail to it should stop:
///
/// - `4.x.x` is temporary by definition: soft;
/// - a full mailbox is soft whatever the code (servers send `552 5.2.2` and `550 … over
///   quota` for what clears up when the owner deletes mail);
/// - `5.x.x` is hard, except where RFC 3463's subject and detail say the trouble lies with
///   this message, the receiving system or our own sending rather than with the address:
///   our sender address (X.1.7, X.1.8), message size (X.2.3, X.3.4), a full or failing
///   system (X.3.0, X.3.1, X.3.3, X.3.5), routing loops and expired retries (X.4.6, X.4.7),
///   protocol (X.5.x), content (X.6.x) and policy or security, such as spam filters and
///   block lists (X.7.x). Those are soft, unless the words say the address does not exist;
/// - without a status, only words that say the address does not exist make it hard.
pub(super) fn is_permanent(status: Option<&str>, evidence: &str) -> bool {
    if mailbox_full(evidence) {
        return false;
    }
    let Some(status) = status else {
        return address_gone(evidence);
    };
    let mut numbers = status.split('.');
    let class = numbers.next().unwrap_or_default();
    let subject = numbers.next().unwrap_or_default();
    let detail = numbers.next().unwrap_or_default();
    if class != "5" {
        return false;
    }
    let not_the_address = matches!(
        (subject, detail),
        ("1", "7" | "8")
            | ("2", "2" | "3")
            | ("3", "0" | "1" | "3" | "4" | "5")
            | ("4", "6" | "7")
            | ("5" | "6" | "7", _)
    );
    !not_the_address || address_gone(evidence)
}

/// True when the sender is a mail server rather than a person.
fn daemon_sender(message: &Message<'_>) -> bool {
    let Some(from) = message.from().and_then(|a| a.first()) else {
        return false;
    };
    let local = from
        .address
        .as_deref()
        .and_then(|a| a.rsplit_once('@').map(|(l, _)| l).or(Some(a)))
        .unwrap_or_default()
        .to_ascii_lowercase();
    let name = from
        .name
        .as_deref()
        .unwrap_or_default()
        .to_ascii_lowercase();
    matches!(
        local.as_str(),
        "mailer-daemon" | "mailerdaemon" | "mail-daemon" | "postmaster" | "post_master" | "mdaemon"
    ) || name.contains("mail delivery")
        || name.contains("mailer-daemon")
}

#[cfg(test)]
mod tests;
