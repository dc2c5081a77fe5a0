//! Which kind a message is, asked in this order: complaint, bounce, automatic reply, and
//! otherwise a person's reply.
//!
//! The order matters: delivery reports and feedback reports usually carry
//! `Auto-Submitted: auto-replied` or `Precedence: bulk` too, and they must be read as what
//! they report, not set aside as robots' mail.

use mail_parser::Message;

use super::InboundKind;
use super::bounce::{self, is_reply_or_forward};
use super::headers::{self, field, has_field};
use super::quote::trim_reply;
use super::text::Body;

pub(super) fn classify(message: &Message<'_>) -> InboundKind {
    let body = Body::of(message);
    if let Some(complaint) = complaint(&body) {
        return complaint;
    }
    if let Some(bounce) = bounce::detect(message, &body) {
        return bounce;
    }
    if body.read_receipt || body.report_type.as_deref() == Some("disposition-notification") {
        return InboundKind::AutoReply {
            reason: "read receipt (message/disposition-notification)".into(),
        };
    }
    if let Some(reason) = automatic(message) {
        return InboundKind::AutoReply { reason };
    }
    InboundKind::Reply {
        text: trim_reply(&body.text),
    }
}

/// Feedback types that are not a subscriber's complaint: a report that a message was
/// wrongly filtered, and DMARC/SPF/DKIM failure reports (which speak of the sending
/// domain, not of anyone's wish).
const NOT_COMPLAINTS: [&str; 2] = ["not-spam", "auth-failure"];

/// A feedback-loop report: ARF (RFC 5965), or Microsoft's JMRP, which returns the
/// reported message alone with the complaining recipient in a header of its own.
fn complaint(body: &Body) -> Option<InboundKind> {
    let Some(fields) = feedback_fields(body) else {
        let returned = body.returned.as_ref()?;
        return returned
            .reported_by
            .clone()
            .map(|recipient| InboundKind::Complaint {
                recipient: Some(recipient),
                original_message_id: returned.message_id.clone(),
                feedback_type: None,
            });
    };
    let get = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    };
    let feedback_type = get("feedback-type")
        .and_then(|t| t.split_whitespace().next())
        .map(str::to_ascii_lowercase);
    if let Some(kind) = feedback_type
        .as_deref()
        .filter(|t| NOT_COMPLAINTS.contains(t))
    {
        return Some(InboundKind::AutoReply {
            reason: format!("feedback report of type {kind}, not a complaint"),
        });
    }
    let returned = body.returned.clone().unwrap_or_default();
    Some(InboundKind::Complaint {
        recipient: get("original-rcpt-to")
            .or_else(|| get("removal-recipient"))
            .and_then(headers::extract_address)
            .or(returned.to),
        original_message_id: returned
            .message_id
            .or_else(|| get("original-message-id").and_then(headers::id_in)),
        feedback_type,
    })
}

/// The fields of the ARF report, when the message is one: its `message/feedback-report`
/// part, or, when the MIME structure is broken (one provider's reports come without
/// boundaries), the report's fields in the body itself.
fn feedback_fields(body: &Body) -> Option<Vec<(String, String)>> {
    const ARF_FIELDS: [&str; 6] = [
        "user-agent",
        "version",
        "original-rcpt-to",
        "original-mail-from",
        "reported-domain",
        "source-ip",
    ];
    let flat = |text: &str| -> Vec<(String, String)> {
        headers::field_blocks(text).into_iter().flatten().collect()
    };
    if let Some(report) = &body.feedback_report {
        return Some(flat(report));
    }
    let fields = flat(&body.text);
    let has = |name: &str| fields.iter().any(|(n, _)| n == name);
    // `Feedback-Type` with at least one more ARF field, so that a stray line in a
    // person's message does not count.
    let pasted_report = has("feedback-type") && ARF_FIELDS.iter().any(|name| has(name));
    (pasted_report || body.report_type.as_deref() == Some("feedback-report")).then_some(fields)
}

/// Why the message looks written by a program, if it does: the headers that RFC 3834
/// and the common mail systems set on automatic replies, then the subjects of vacation
/// and out-of-office notes.
fn automatic(message: &Message<'_>) -> Option<String> {
    if let Some(value) = field(message, "Auto-Submitted")
        && !value.trim().eq_ignore_ascii_case("no")
    {
        return Some(format!("Auto-Submitted: {value}"));
    }
    for name in [
        "X-Autoreply",
        "X-Autorespond",
        "X-Autoresponder",
        "X-Autoresponse",
        "X-Auto-Reply",
        "X-Autoreply-From",
        "X-Mail-Autoreply",
    ] {
        if field(message, name).is_some_and(|v| !v.eq_ignore_ascii_case("no")) {
            return Some(format!("{name} header"));
        }
    }
    if let Some(value) =
        field(message, "X-Autogenerated").filter(|v| v.eq_ignore_ascii_case("reply"))
    {
        return Some(format!("X-Autogenerated: {value}"));
    }
    for name in ["Precedence", "X-Precedence"] {
        if let Some(value) = field(message, name) {
            let value = value.to_ascii_lowercase();
            if ["auto_reply", "bulk", "list", "junk"].contains(&value.as_str()) {
                return Some(format!("{name}: {value}"));
            }
        }
    }
    // Exchange marks what its inbox rules (out of office among them) send with a loop
    // header; `X-Auto-Response-Suppress` alone is also set on some people's mail, so it
    // only counts together with another sign.
    if has_field(message, "X-MS-Exchange-Inbox-Rules-Loop") {
        return Some("X-MS-Exchange-Inbox-Rules-Loop header (Exchange inbox rule)".into());
    }
    let subject = message.subject().unwrap_or_default();
    let vacation_subject = vacation_subject(subject);
    if has_field(message, "X-Auto-Response-Suppress")
        && (vacation_subject.is_some()
            || has_field(message, "X-MS-Exchange-Generated-Message-Source")
            || has_field(message, "X-Loop"))
    {
        return Some("X-Auto-Response-Suppress with an Exchange loop header".into());
    }
    if field(message, "X-Apple-Action").is_some_and(|v| v.eq_ignore_ascii_case("vacation")) {
        return Some("X-Apple-Action: VACATION".into());
    }
    if let Some(cue) = vacation_subject {
        return Some(format!("subject says \"{cue}\""));
    }
    // RFC 5321's null sender is for notifications; a person's mail always has a sender.
    if field(message, "Return-Path").is_some_and(|v| {
        v.trim_matches(|c: char| c == '<' || c == '>' || c.is_whitespace())
            .is_empty()
    }) {
        return Some("null sender (Return-Path: <>)".into());
    }
    let from = headers::from_address(message)
        .unwrap_or_default()
        .to_ascii_lowercase();
    let local = from.split('@').next().unwrap_or_default();
    if [
        "noreply",
        "no-reply",
        "no_reply",
        "donotreply",
        "do-not-reply",
        "mailer-daemon",
    ]
    .contains(&local)
    {
        return Some(format!("sent from {local}@"));
    }
    None
}

/// The phrase in `subject` that marks a vacation or out-of-office note, if any. It must
/// open the subject (or follow a `[` tag), except for phrases that cannot be anything
/// else; and the reply to a newsletter (`Re: …`) is never one, whatever the newsletter
/// was called.
fn vacation_subject(subject: &str) -> Option<&'static str> {
    const OPENING: [&str; 12] = [
        "auto:",
        "automatic reply",
        "auto reply",
        "auto-reply",
        "autoreply",
        "auto response",
        "auto-response",
        "autoresponse",
        "vacation",
        "away from",
        "i'm away",
        "i am away",
    ];
    const ANYWHERE: [&str; 24] = [
        "out of office",
        "out of the office",
        "automatic reply",
        "auto-reply",
        "autoreply",
        "abwesenheitsnotiz",
        "abwesend",
        "automatische antwort",
        "absence",
        "réponse automatique",
        "reponse automatique",
        "respuesta automática",
        "fuera de la oficina",
        "risposta automatica",
        "automatisch antwoord",
        "afwezig",
        "autosvar",
        "automatisk svar",
        "fora do escritório",
        "poza biurem",
        "außer haus",
        "niet aanwezig",
        "自動応答",
        "自动回复",
    ];
    if is_reply_or_forward(subject) {
        return None;
    }
    let lower = headers::clip(subject).to_lowercase();
    let opening = lower.trim_start_matches(|c: char| c.is_whitespace() || c == '[' || c == '(');
    OPENING
        .iter()
        .find(|cue| opening.starts_with(*cue))
        .or_else(|| ANYWHERE.iter().find(|cue| lower.contains(*cue)))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vacation_subjects() {
        assert_eq!(vacation_subject("Out of Office"), Some("out of office"));
        assert_eq!(
            vacation_subject("Automatic reply: Nyaan"),
            Some("automatic reply")
        );
        assert_eq!(vacation_subject("Auto: Original Subject"), Some("auto:"));
        assert_eq!(
            vacation_subject("Abwesenheitsnotiz: Newsletter"),
            Some("abwesenheitsnotiz")
        );
        assert_eq!(
            vacation_subject("Réponse automatique : x"),
            Some("réponse automatique")
        );
        assert_eq!(vacation_subject("[Auto-Reply] x"), Some("auto-reply"));
        assert_eq!(
            vacation_subject("Vacation Alert! Re: Update"),
            Some("vacation")
        );
        assert_eq!(vacation_subject("Re: Our vacation issue"), None);
        assert_eq!(vacation_subject("Re: Out of office etiquette"), None);
        assert_eq!(vacation_subject("Loved the issue"), None);
    }
}
