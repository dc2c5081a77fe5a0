//! The inbound parser path on arbitrary bytes: `hundred::inbound::parse`, and
//! `hundred::inbound::trim_reply` on the same bytes read as text.
//!
//! Nothing may panic (libFuzzer's panic hook aborts, so even a panic that `parse` catches
//! around the MIME parser is reported), nothing may hang (`-timeout`), and memory stays
//! bounded (`-rss_limit_mb`). Beyond that, the cheap invariants below must hold for every
//! input.

#![no_main]

use hundred::inbound::{InboundKind, InboundMessage, parse, trim_reply};
use libfuzzer_sys::fuzz_target;

/// The most text a reply's body is read for (`text::MAX_TEXT_BYTES` in the crate).
const MAX_TEXT_BYTES: usize = 256 * 1024;
/// The longest header value kept (`headers::MAX_VALUE_CHARS` in the crate).
const MAX_VALUE_CHARS: usize = 4096;
/// The most addresses or Message-IDs read from one field (`headers::MAX_LIST_ITEMS`).
const MAX_LIST_ITEMS: usize = 100;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = parse(data) {
        check_message(&message);
    }
    // The reply trimmer on the raw bytes as text: it is pure and public, and the parser
    // only hands it decoded body text, which the fuzzer reaches less directly.
    let text = String::from_utf8_lossy(data);
    let trimmed = trim_reply(&text);
    check_trimmed(&text, &trimmed);
});

fn check_message(message: &InboundMessage) {
    if let Some(subject) = &message.subject {
        assert!(subject.len() <= MAX_VALUE_CHARS, "subject too long");
    }
    if let Some(from) = &message.from {
        assert!(from.contains('@'), "from {from:?} is no address");
    }
    if let Some(id) = &message.message_id {
        check_id(id);
    }
    for id in message.in_reply_to.iter().chain(&message.references) {
        check_id(id);
    }
    assert!(message.in_reply_to.len() <= MAX_LIST_ITEMS);
    assert!(message.references.len() <= MAX_LIST_ITEMS);
    assert!(message.recipients.len() <= MAX_LIST_ITEMS);
    for (i, address) in message.recipients.iter().enumerate() {
        assert!(address.contains('@'), "recipient {address:?} is no address");
        assert!(
            !message.recipients[..i].contains(address),
            "recipient {address:?} listed twice"
        );
    }
    match &message.kind {
        InboundKind::Reply { text } => {
            assert!(text.len() <= MAX_TEXT_BYTES, "reply text too long");
            check_tidy(text);
            assert!(
                text.lines().all(|l| !l.trim_start().starts_with('>')),
                "a quoted line is left in the reply"
            );
        }
        InboundKind::Bounce {
            status,
            recipient,
            original_message_id,
            diagnostic,
            ..
        } => {
            if let Some(status) = status {
                let numbers: Vec<&str> = status.split('.').collect();
                assert!(
                    numbers.len() == 3
                        && (numbers[0] == "4" || numbers[0] == "5")
                        && numbers[1..].iter().all(|n| {
                            (1..=3).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit())
                        }),
                    "status {status:?} is no enhanced status code"
                );
            }
            if let Some(recipient) = recipient {
                assert!(recipient.contains('@'), "recipient {recipient:?}");
            }
            if let Some(id) = original_message_id {
                check_id(id);
            }
            if let Some(diagnostic) = diagnostic {
                assert!(!diagnostic.is_empty() && diagnostic.len() <= 1000);
            }
        }
        InboundKind::Complaint {
            recipient,
            original_message_id,
            feedback_type,
        } => {
            if let Some(recipient) = recipient {
                assert!(recipient.contains('@'), "recipient {recipient:?}");
            }
            if let Some(id) = original_message_id {
                check_id(id);
            }
            if let Some(kind) = feedback_type {
                assert!(!kind.is_empty() && !kind.contains(char::is_whitespace));
            }
        }
        InboundKind::AutoReply { reason } => assert!(!reason.is_empty()),
    }
}

/// A Message-ID as `parse` gives it: `<…>`, something inside, no whitespace.
fn check_id(id: &str) {
    assert!(
        id.len() > 2
            && id.starts_with('<')
            && id.ends_with('>')
            && !id.contains(char::is_whitespace),
        "message id {id:?}"
    );
}

/// What `trim_reply` promises: it only removes (the result is no longer than the text and
/// within the text limit), leaves no quoted line, and tidies blank lines and line ends.
fn check_trimmed(text: &str, trimmed: &str) {
    assert!(
        trimmed.len() <= text.len(),
        "trimmed reply ({} bytes) is longer than the text ({} bytes)",
        trimmed.len(),
        text.len()
    );
    assert!(trimmed.len() <= MAX_TEXT_BYTES, "trimmed reply too long");
    assert!(
        trimmed.lines().all(|l| !l.trim_start().starts_with('>')),
        "a quoted line is left in the trimmed reply"
    );
    check_tidy(trimmed);
}

/// No blank lines at either end, no two blank lines in a row, no trailing whitespace on a
/// line.
fn check_tidy(text: &str) {
    assert!(!text.starts_with('\n'), "starts with a blank line");
    assert!(!text.contains("\n\n\n"), "a run of blank lines");
    assert!(
        text.split('\n').all(|l| l.trim_end() == l),
        "a line ends in whitespace"
    );
}
