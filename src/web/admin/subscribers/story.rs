//! How a subscriber's consent record and timeline read on their page: each stored line
//! put in the owner's words, and drawn as a person's doing, software's, a message in the
//! conversation, a consent change or a mail event.

use serde::Serialize;
use time::OffsetDateTime;

use crate::domain::Subscriber;
use crate::store::{TimelineEntry, Timestamp};

/// One line of the consent record: what, and the value (a time is RFC 3339, shown as a
/// date by the template).
#[derive(Serialize)]
pub struct ConsentLine {
    label: &'static str,
    value: String,
    is_time: bool,
}

pub fn consent_lines(subscriber: &Subscriber) -> Vec<ConsentLine> {
    let consent = &subscriber.consent;
    let mut lines = Vec::new();
    let mut add = |label: &'static str, value: Option<String>, is_time: bool| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            lines.push(ConsentLine {
                label,
                value,
                is_time,
            });
        }
    };
    let time = |t: Option<OffsetDateTime>| {
        t.and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
    };
    add("Signed up", time(Some(consent.signed_up_at)), true);
    add(
        "Through",
        Some(source_in_words(&consent.source).to_string()),
        false,
    );
    add("From the IP address", consent.signup_ip.clone(), false);
    add("With the browser", consent.signup_user_agent.clone(), false);
    add(
        "Consent text shown (version)",
        consent.consent_text_version.clone(),
        false,
    );
    add("Consent text", consent.consent_text.clone(), false);
    add(
        "How they gave consent (your words)",
        consent.stated_consent.clone(),
        false,
    );
    add("Confirmed", time(consent.confirmed_at), true);
    add(
        "Confirmed from the IP address",
        consent.confirmed_ip.clone(),
        false,
    );
    add("Unsubscribed", time(consent.unsubscribed_at), true);
    add(
        "Unsubscribed how",
        consent
            .unsubscribe_method
            .as_deref()
            .map(|method| unsubscribe_in_words(method).to_string()),
        false,
    );
    lines
}

fn source_in_words(source: &str) -> &str {
    match source {
        "hosted_form" => "the signup page",
        "website_form" => "a form on your website",
        "json" => "your website's script",
        "api" => "the API",
        "import" => "an import",
        "admin" => "you, in these pages",
        "archive" => "the form under an issue in your archive",
        other => other,
    }
}

fn unsubscribe_in_words(method: &str) -> &str {
    match method {
        "page" => "on the unsubscribe page",
        "one_click" => "with their mail app's unsubscribe button",
        "owner" => "by you",
        other => other,
    }
}

/// One line of the timeline as the page shows it.
#[derive(Serialize)]
pub struct Line {
    at: Timestamp,
    /// What happened, in words.
    what: String,
    /// The campaign's or the message's subject.
    subject: Option<String>,
    /// Why, or more about it.
    detail: Option<String>,
    url: Option<String>,
    /// A reply's or an answer's text, or a bounce's diagnostic, shown in full.
    text: Option<String>,
    /// person, machine, reply, answer, consent or mail: how the line is drawn.
    style: &'static str,
    /// For a reply: its id, for the answer form.
    reply_id: Option<i64>,
    /// A reply tied to them by their From address alone: shown, not counted, until the
    /// owner marks it genuine.
    unverified: bool,
}

pub fn timeline_lines(timeline: Vec<TimelineEntry>) -> Vec<Line> {
    timeline.into_iter().map(line).collect()
}

fn line(entry: TimelineEntry) -> Line {
    let human = entry.verdict.as_deref() == Some("human");
    let (what, style, detail): (String, &'static str, Option<String>) = match entry.kind.as_str() {
        "delivered" => ("Delivered".into(), "mail", None),
        "open" if human => ("Opened".into(), "person", None),
        "open" => (
            "Opened by software, not by a person (not counted)".into(),
            "machine",
            entry.reason.clone(),
        ),
        "click" if human => ("Clicked".into(), "person", None),
        "click" => (
            "Link followed by a scanner, not by a person (not counted)".into(),
            "machine",
            entry.reason.clone(),
        ),
        "reply" if entry.verdict.as_deref() == Some("unverified") => (
            "Replied, unverified (not counted)".into(),
            "reply",
            Some("Only the sender's address ties it to them, and anyone can write an address: it counts once you mark it genuine.".into()),
        ),
        "reply" => ("Replied".into(), "reply", None),
        "answer" => (
            "You answered".into(),
            "answer",
            Some(answer_state(entry.reason.as_deref()).into()),
        ),
        "auto_reply" => (
            "Automatic reply (not counted)".into(),
            "machine",
            entry.reason.clone(),
        ),
        "hard_bounce" => (
            "Bounced: the address does not take mail".into(),
            "mail",
            review_words(entry.verdict.as_deref()),
        ),
        "soft_bounce" => (
            "Delivery failed for now".into(),
            "mail",
            review_words(entry.verdict.as_deref()),
        ),
        "complaint" => (
            "Marked a newsletter as spam".into(),
            "mail",
            review_words(entry.verdict.as_deref()),
        ),
        kind => match consent_words(kind, entry.reason.as_deref()) {
            Some((what, detail)) => (what.into(), "consent", detail),
            None => (kind.replace('_', " "), "mail", entry.reason.clone()),
        },
    };
    let reply_id = (entry.kind == "reply").then_some(entry.reply_id).flatten();
    let unverified = entry.kind == "reply" && entry.verdict.as_deref() == Some("unverified");
    Line {
        at: entry.at,
        what,
        subject: entry.subject,
        detail,
        url: entry.url,
        text: entry.text,
        style,
        reply_id,
        unverified,
    }
}

/// What a bounce or complaint tied to them by an address alone did, by the owner's review.
/// A line of the consent history in words, with its detail; `None` for what is not one.
fn consent_words(kind: &str, reason: Option<&str>) -> Option<(&'static str, Option<String>)> {
    let reason = reason.map(str::to_string);
    Some(match kind {
        "signup" => ("Signed up", None),
        "confirm" => ("Confirmed their subscription", None),
        "unsubscribe" => (
            "Unsubscribed",
            reason.map(|how| unsubscribe_in_words(&how).to_string()),
        ),
        "added" => ("Added by you; a confirmation was sent", None),
        "added_confirmed" => ("Added by you as confirmed", reason),
        "bounced" => ("No more mail: their address bounces", reason),
        "complained" => ("No more mail: they marked a newsletter as spam", None),
        "kept" => ("Asked to keep receiving it", None),
        "bounce_lifted" => ("Bounce lifted: mail to them again", reason),
        "paused" => ("Paused their mail from their own page", reason),
        "name_changed" => ("Changed their name on their own page", None),
        "exported" => ("Downloaded what you hold about them", None),
        _ => return None,
    })
}

fn review_words(review: Option<&str>) -> Option<String> {
    Some(
        match review? {
            "pending" => "Only their address ties it to them: it waits for your review on the dashboard, and nothing has changed.",
            "applied" => "Only their address tied it to them; you applied it after review.",
            "dismissed" => "Only their address tied it to them; you dismissed it, and nothing changed.",
            _ => "Only their address ties it to them, so it changed nothing.",
        }
        .to_string(),
    )
}

fn answer_state(state: Option<&str>) -> &'static str {
    match state {
        Some("sent") => "sent",
        Some("failed") => "could not be sent",
        Some("cancelled") => "not sent",
        _ => "waiting to be sent",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(kind: &str, verdict: Option<&str>) -> TimelineEntry {
        TimelineEntry {
            at: Timestamp::now(),
            kind: kind.into(),
            campaign_id: None,
            subject: Some("Saturday market".into()),
            verdict: verdict.map(str::to_string),
            reason: Some("Apple Mail Privacy Protection".into()),
            url: None,
            text: None,
            reply_id: Some(7),
        }
    }

    #[test]
    fn people_and_machines_read_differently() {
        let person = line(entry("open", Some("human")));
        assert_eq!((person.what.as_str(), person.style), ("Opened", "person"));
        assert_eq!(person.detail, None);
        let machine = line(entry("open", Some("machine")));
        assert_eq!(machine.style, "machine");
        assert!(machine.what.contains("not counted"));
        assert_eq!(
            machine.detail.as_deref(),
            Some("Apple Mail Privacy Protection")
        );
        assert_eq!(line(entry("reply", None)).reply_id, Some(7));
        assert_eq!(line(entry("answer", None)).reply_id, None);
    }
}
