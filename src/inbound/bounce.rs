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
    let cues = Cues {
        daemon_sender: daemon_sender(message),
        null_sender: field(message, "Return-Path").is_some_and(|v| {
            v.trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace())
                .is_empty()
        }),
        auto_submitted: field(message, "Auto-Submitted")
            .is_some_and(|v| !v.trim().eq_ignore_ascii_case("no")),
        subject: subject_says_bounce(&subject),
        text: text_says_bounce(&notice_lower),
    };
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

    if !reported.is_empty()
        && reported
            .iter()
            .all(|r| r.action_is("delivered") || r.action_is("relayed") || r.action_is("expanded"))
    {
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

    let reported_status = chosen.and_then(|r| {
        r.status
            .as_deref()
            .and_then(find_status)
            .or_else(|| r.diagnostic.as_deref().and_then(find_status))
    });
    let status = reported_status
        .as_ref()
        .map(|s| s.code.clone())
        .or_else(|| notice_status.as_ref().map(|s| s.code.clone()));

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
    let mut evidence = notice_lower;
    if let Some(d) = &diagnostic {
        evidence.push('\n');
        evidence.push_str(&d.to_lowercase());
    }
    let hard = !delayed && is_permanent(status.as_deref(), &evidence);

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

/// A status code found in text, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct FoundStatus {
    /// `5.1.1`; a bare SMTP reply code `550` is given as `5.0.0`.
    pub code: String,
    /// Byte offset of the code in the text.
    pub at: usize,
}

/// The delivery status in `text`, best evidence first: an enhanced code right after an
/// SMTP reply code (`550 5.1.1`, `550-5.1.1`, `#550 5.1.1`), then an enhanced code on its
/// own (`(#5.5.0)`), then a bare SMTP reply code (`550 Unknown user`). Only failure
/// classes (4 and 5) count; codes inside IP addresses and version numbers do not.
pub(super) fn find_status(text: &str) -> Option<FoundStatus> {
    let bytes = text.as_bytes();
    let (mut after_reply, mut enhanced, mut bare) = (None, None, None);
    for i in 0..bytes.len() {
        if !matches!(bytes[i], b'4' | b'5')
            || (i > 0 && (bytes[i - 1].is_ascii_digit() || bytes[i - 1] == b'.'))
        {
            continue;
        }
        if let Some(end) = enhanced_code_at(bytes, i) {
            let found = FoundStatus {
                code: text[i..end].to_string(),
                at: i,
            };
            if after_reply.is_none() && follows_reply_code(bytes, i) {
                after_reply = Some(found);
                break;
            }
            if enhanced.is_none() {
                enhanced = Some(found);
            }
        } else if bare.is_none() && is_bare_reply_code(bytes, i) {
            bare = Some(FoundStatus {
                code: format!("{}.0.0", bytes[i] as char),
                at: i,
            });
        }
    }
    after_reply.or(enhanced).or(bare)
}

/// The end of an enhanced status code (`class.subject.detail`, one to three digits each)
/// starting at `i`, if there is one and it is not part of a longer dotted number.
fn enhanced_code_at(bytes: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    for _ in 0..2 {
        if bytes.get(j) != Some(&b'.') {
            return None;
        }
        j += 1;
        let digits = bytes[j.min(bytes.len())..]
            .iter()
            .take(4)
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 || digits > 3 {
            return None;
        }
        j += digits;
    }
    let longer = match bytes.get(j) {
        Some(b) if b.is_ascii_digit() => true,
        Some(b'.') => bytes.get(j + 1).is_some_and(u8::is_ascii_digit),
        _ => false,
    };
    (!longer).then_some(j)
}

/// True when the code at `i` comes right after a three-digit SMTP reply code and a space
/// or hyphen: `550 5.1.1`, `550-5.1.1`.
fn follows_reply_code(bytes: &[u8], i: usize) -> bool {
    if i < 4 || !matches!(bytes[i - 1], b' ' | b'-') {
        return false;
    }
    let code = &bytes[i - 4..i - 1];
    code.iter().all(u8::is_ascii_digit)
        && (b'2'..=b'5').contains(&code[0])
        && (i == 4 || !bytes[i - 5].is_ascii_digit())
}

/// True when a bare SMTP reply code (`550`, `452`) starts at `i`: three digits, second one
/// 0–5, on its own (after a space, `#`, `(`, `:` or a quote) and followed by a space or
/// hyphen and then not by another number.
fn is_bare_reply_code(bytes: &[u8], i: usize) -> bool {
    let Some(code) = bytes.get(i..i + 3) else {
        return false;
    };
    let before_ok = i == 0
        || matches!(
            bytes[i - 1],
            b' ' | b'\t' | b'\n' | b'#' | b'(' | b':' | b'\'' | b'"' | b'['
        );
    let after_ok = matches!(bytes.get(i + 3), Some(b' ' | b'-'))
        && !bytes.get(i + 4).is_some_and(u8::is_ascii_digit);
    before_ok
        && after_ok
        && code[1..].iter().all(u8::is_ascii_digit)
        && (b'0'..=b'5').contains(&code[1])
}

/// The notice part of a bounce's text and the copy of the returned message after it.
/// The copy starts at a line like "------ This is a copy of the message, including all the
/// headers. ------", "--- Below this line is a copy of the message.", "----- Original
/// message -----", "Original message headers:", or at the copy's first header line.
pub(super) fn split_notice(text: &str) -> (&str, &str) {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if starts_the_copy(line) {
            return (&text[..offset], &text[offset..]);
        }
        offset += line.len();
    }
    (text, "")
}

fn starts_the_copy(line: &str) -> bool {
    let trimmed = line.trim();
    let lower = trimmed.to_lowercase();
    const PHRASES: [&str; 10] = [
        "copy of the message",
        "copy of your message",
        "copy of the original message",
        "original message follows",
        "original message headers",
        "header of the original message",
        "headers of the original message",
        "below this line",
        "returned message follows",
        "undelivered message follows",
    ];
    // "The original message was received at …" (Sendmail) opens the notice, so "original
    // message" alone only counts on a separator line ("------- Returned Message --------").
    let separator = trimmed.starts_with(['-', '=', '*', '_'])
        && [
            "original message",
            "returned message",
            "undelivered message",
            "rejected message",
        ]
        .iter()
        .any(|p| lower.contains(p));
    // The copy's own header lines; report fields such as "Received-From-MTA:" differ.
    let header_line = lower.starts_with("received: ") || lower.starts_with("return-path:");
    separator || header_line || PHRASES.iter().any(|p| lower.contains(p))
}

/// The failed address named in a notice, best evidence first: an address opening a line
/// as a label (`<user@example.com>:`, `user@example.com: 550 …`), any address starting a
/// line (`   user@example.com`, `Name<mailto:user@example.com>`), the address after
/// `RCPT TO:`, and at last the first address in the notice. Addresses of the bounce's own sender and
/// recipients, and of mail servers (`postmaster@`, `MAILER-DAEMON@`), are not it.
pub(super) fn failed_address_in(notice: &str, excluded: &[String]) -> Option<String> {
    let acceptable = |address: &String| {
        let local = address
            .split('@')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        !excluded.iter().any(|e| e.eq_ignore_ascii_case(address))
            && !matches!(
                local.as_str(),
                "postmaster" | "mailer-daemon" | "mailerdaemon" | "mail-daemon" | "root"
            )
    };
    let lines = || notice.lines().take(5000);

    let opening = lines().find_map(|line| address_opening(line).filter(acceptable));
    if opening.is_some() {
        return opening;
    }
    // An address starting a line: alone, before more words ("user@example.com on Thu, 29
    // Apr…"), or Exchange's "Name<mailto:user@example.com>".
    let line_start = lines().find_map(|line| {
        let first = line.split_whitespace().next()?;
        first
            .contains('@')
            .then(|| headers::extract_address(first))
            .flatten()
            .filter(acceptable)
    });
    if line_start.is_some() {
        return line_start;
    }
    let after_rcpt = lines().find_map(|line| {
        let at = line.to_ascii_lowercase().find("rcpt to:")?;
        headers::extract_address(&line[at + "rcpt to:".len()..]).filter(acceptable)
    });
    if after_rcpt.is_some() {
        return after_rcpt;
    }
    headers::addresses_in(notice).find(acceptable)
}

/// The address a notice line opens with: `<user@example.com>` (anything may follow),
/// `"user@example.com":` or `user@example.com:`.
fn address_opening(line: &str) -> Option<String> {
    let line = line.trim_start();
    if let Some(rest) = line.strip_prefix('<') {
        let (inside, _) = rest.split_once('>')?;
        return headers::normalize_address(inside);
    }
    if let Some(rest) = line.strip_prefix('"') {
        let (inside, after) = rest.split_once('"')?;
        return after
            .trim_start()
            .starts_with(':')
            .then(|| headers::normalize_address(inside))?;
    }
    let end = line.find([':', ' ', '\t'])?;
    line[end..]
        .starts_with(':')
        .then(|| headers::normalize_address(&line[..end]))?
}

/// The bounce's own addresses (its sender and recipients), which are never the failed one.
fn own_addresses(message: &Message<'_>) -> Vec<String> {
    let mut own = headers::recipients(message);
    own.extend(headers::from_address(message));
    own
}

/// The `Message-ID:` line of a returned message quoted in the text.
fn message_id_in_copy(copy: &str) -> Option<String> {
    copy.lines().take(500).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("message-id")
            .then(|| headers::id_in(value))?
    })
}

/// The line of `text` around byte offset `at`.
fn line_at(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    let end = text[at..].find('\n').map_or(text.len(), |p| at + p);
    &text[start..end]
}

/// `smtp; 550 5.1.1 User unknown` without its `smtp;` type.
fn without_type_prefix(diagnostic: &str) -> &str {
    match diagnostic.split_once(';') {
        Some((kind, rest))
            if !kind.is_empty()
                && kind.len() <= 20
                && kind.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            rest.trim()
        }
        _ => diagnostic.trim(),
    }
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

/// Subjects of delivery failure notices. A reply or forward (`Re:`, `Fwd:`) of one is a
/// person writing about it, not the notice.
fn subject_says_bounce(subject: &str) -> bool {
    const CUES: [&str; 22] = [
        "delivery status notification",
        "undelivered mail",
        "undeliverable",
        "undelivered",
        "failure notice",
        "mail delivery failed",
        "returned mail",
        "delivery failure",
        "delivery failed",
        "mail delivery failure",
        "non-delivery",
        "nondeliverable",
        "non remis",
        "mail system error",
        "delivery notification",
        "delayed mail",
        "delivery delayed",
        "could not send message",
        "mail failure",
        "delivery problem",
        "mail delivery status",
        "unzustellbar",
    ];
    !is_reply_or_forward(subject) && CUES.iter().any(|c| subject.contains(c))
}

fn subject_says_delay(subject: &str) -> bool {
    subject.contains("delay") || subject.trim_start().starts_with("warning")
}

/// True when `subject` starts with a reply or forward prefix.
pub(super) fn is_reply_or_forward(subject: &str) -> bool {
    let s = subject.trim_start().to_lowercase();
    [
        "re:", "re ", "aw:", "sv:", "fw:", "fwd:", "wg:", "tr:", "rv:", "odp:", "ynt:",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

/// Words of delivery failure notices (text lowercased).
fn text_says_bounce(text: &str) -> bool {
    const CUES: [&str; 25] = [
        "did not reach the following recipient",
        "could not be delivered",
        "couldn't be delivered",
        "cannot be delivered",
        "can't be delivered",
        "was not delivered",
        "wasn't delivered",
        "delivery has failed",
        "delivery to the following recipient",
        "following address(es) failed",
        "following address failed",
        "following addresses had permanent fatal errors",
        "permanent fatal error",
        "unable to deliver",
        "wasn't able to deliver",
        "not able to deliver",
        "could not deliver",
        "delivery failed",
        "undeliverable",
        "undelivered",
        "returned to sender",
        "delivery status notification",
        "this is the mail system at host",
        "created automatically by mail delivery software",
        "has been delayed",
    ];
    CUES.iter().any(|c| text.contains(c))
}

/// Words that say delivery is only delayed or stopped for lack of time, so the address may
/// well work (text lowercased).
fn says_delay(text: &str) -> bool {
    const CUES: [&str; 12] = [
        "warning message only",
        "this is a warning",
        "warning only",
        "will be retried",
        "will retry",
        "still being retried",
        "has been delayed",
        "delivery delayed",
        "delivery is delayed",
        "not yet been delivered",
        "retry timeout exceeded",
        "retry time not reached",
    ];
    CUES.iter().any(|c| text.contains(c))
}

/// Words that say the mailbox is full (text lowercased).
fn mailbox_full(text: &str) -> bool {
    const CUES: [&str; 12] = [
        "mailbox full",
        "mailbox is full",
        "mailbox size limit",
        "over quota",
        "overquota",
        "quota exceeded",
        "exceeded quota",
        "exceeds quota",
        "quota full",
        "insufficient storage",
        "out of storage",
        "storage limit",
    ];
    CUES.iter().any(|c| text.contains(c))
}

/// Words that say the address does not exist (text lowercased).
fn address_gone(text: &str) -> bool {
    const CUES: [&str; 31] = [
        "user unknown",
        "unknown user",
        "user is unknown",
        "no such user",
        "unknown recipient",
        "recipient unknown",
        "no such recipient",
        "recipient not found",
        "user not found",
        "mailbox not found",
        "mailbox unavailable",
        "no such mailbox",
        "no mailbox here",
        "invalid mailbox",
        "mailbox does not exist",
        "does not exist",
        "doesn't exist",
        "no longer exists",
        "no such domain",
        "host not found",
        "host unknown",
        "domain not found",
        "unrouteable address",
        "invalid recipient",
        "invalid address",
        "address rejected",
        "unknown address",
        "address unknown",
        "not listed in",
        "name is not recognized",
        "account has been disabled",
    ];
    CUES.iter().any(|c| text.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(text: &str) -> Option<String> {
        find_status(text).map(|s| s.code)
    }

    #[test]
    fn status_codes_are_found_best_first() {
        assert_eq!(
            status("said: 550 5.1.1 <a@b.example>... User unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            status("550-5.1.1 The email account").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            status("#550 5.1.1 RESOLVER.ADR.RecipNotFound").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            status("550 550 5.1.1 user unknown").as_deref(),
            Some("5.1.1")
        );
        assert_eq!(
            status("'550 5.1.10 RESOLVER.ADR.RecipientNotFound").as_deref(),
            Some("5.1.10")
        );
        // An enhanced code anywhere beats a bare reply code earlier on.
        assert_eq!(
            status("said: 550 Unknown user x@y.example\n. (#5.5.0)").as_deref(),
            Some("5.5.0")
        );
        assert_eq!(
            status("Remote host said: 554 delivery error").as_deref(),
            Some("5.0.0")
        );
        assert_eq!(status("said: 451 try later").as_deref(), Some("4.0.0"));
        // Not statuses: IP addresses, versions, dates, ports.
        assert_eq!(
            status("host mx [192.0.2.153] (Exim 4.77) id 8.2.234.1; 2014 port=4500"),
            None
        );
        assert_eq!(status("Postfix 2.10.1 delivered"), None);
    }

    #[test]
    fn a_report_with_several_recipients_lists_each() {
        let report = "Reporting-MTA: dns; mx.example.org\n\
                      Arrival-Date: Thu, 29 Apr 2010 23:34:45 +0900\n\
                      \n\
                      Final-Recipient: rfc822; one@example.jp\n\
                      Action: delayed\n\
                      Status: 4.4.1\n\
                      \n\
                      Final-Recipient: RFC822; two@example.jp\n\
                      Original-Recipient: rfc822;Two@Example.JP\n\
                      Action: failed\n\
                      Status: 5.1.1\n\
                      Diagnostic-Code: smtp; 550 5.1.1 <two@example.jp>... User\n    unknown\n";
        let recipients = reported_recipients(report);
        assert_eq!(recipients.len(), 2);
        assert_eq!(recipients[0].address().as_deref(), Some("one@example.jp"));
        assert!(recipients[0].action_is("delayed"));
        assert_eq!(recipients[1].address().as_deref(), Some("two@example.jp"));
        assert_eq!(recipients[1].status.as_deref(), Some("5.1.1"));
        assert_eq!(
            recipients[1].diagnostic.as_deref(),
            Some("smtp; 550 5.1.1 <two@example.jp>... User unknown")
        );
    }

    #[test]
    fn full_mailboxes_and_expiry_are_soft_even_with_5xx() {
        assert!(is_permanent(Some("5.1.1"), "user unknown"));
        assert!(is_permanent(Some("5.4.4"), "host not found"));
        assert!(is_permanent(Some("5.0.0"), "550 no such domain"));
        assert!(!is_permanent(Some("5.7.1"), "blocked as spam"));
        assert!(is_permanent(
            Some("5.7.1"),
            "554 5.7.1 <a@b.example>: recipient address rejected: user unknown"
        ));
        assert!(is_permanent(Some("5.5.0"), "550 unknown user"));
        assert!(!is_permanent(Some("5.1.1"), "550 5.1.1 mailbox is full"));
        assert!(!is_permanent(Some("5.2.2"), "mailbox full"));
        assert!(!is_permanent(Some("5.0.0"), "552 quota exceeded"));
        assert!(!is_permanent(Some("5.4.7"), "delivery time expired"));
        assert!(!is_permanent(Some("4.2.2"), ""));
        assert!(!is_permanent(None, "retry timeout exceeded"));
        assert!(is_permanent(None, "no such user here"));
    }

    #[test]
    fn the_notice_stops_where_the_returned_copy_starts() {
        let text = "The original message was received at Mon\n\
                    <a@x.example>: 550 5.1.1 unknown\n\
                    ------ This is a copy of the message, including all the headers. ------\n\
                    Return-path: <me@y.example>\nTo: b@x.example\n";
        let (notice, copy) = split_notice(text);
        assert!(notice.contains("<a@x.example>"));
        assert!(copy.starts_with("------ This is a copy"));
        assert_eq!(
            failed_address_in(notice, &[]).as_deref(),
            Some("a@x.example")
        );
    }

    #[test]
    fn an_address_starting_a_line_beats_one_in_the_quoted_summary() {
        // Exchange 2003: the summary of the returned message names its own To.
        let notice = "Your message\n\n  To:      someone@else.example\n  Subject: Hi\n\n\
                      did not reach the following recipient(s):\n\n\
                      who@there.example on Thu, 29 Apr 2010 00:00:00 -0000\n\
                      \x20   The recipient name is not recognized\n";
        assert_eq!(
            failed_address_in(notice, &[]).as_deref(),
            Some("who@there.example")
        );
        assert!(text_says_bounce(&notice.to_lowercase()));
        assert!(is_permanent(None, &notice.to_lowercase()));
    }

    #[test]
    fn the_failed_address_is_the_one_the_notice_names() {
        let notice = "For further assistance, please contact <support@isp.example>\n\n\
                      I'm sorry. Your message to me@mine.example failed:\n\
                      \x20 \"who@there.example\":\n SMTP error\n";
        assert_eq!(
            failed_address_in(notice, &["me@mine.example".into()]).as_deref(),
            Some("who@there.example")
        );
        let exchange = "Delivery has failed to these recipients or groups:\n\n\
                        who@there.example<mailto:who@there.example>\nThe address wasn't found.";
        assert_eq!(
            failed_address_in(exchange, &[]).as_deref(),
            Some("who@there.example")
        );
    }
}
