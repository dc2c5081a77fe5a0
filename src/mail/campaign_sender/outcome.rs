//! What became of one delivery, and which permanent failures are bounces.

/// What became of one delivery.
pub(super) enum Outcome {
    /// Paused before its turn: handed back for later.
    Released,
    Sent(String),
    Retry(String),
    Failed {
        reply: String,
        bounced: bool,
    },
    Skipped(&'static str),
}

/// A permanent failure that says the mailbox does not exist (enhanced status 5.1.x).
pub(super) fn is_mailbox_failure(reply: &str) -> bool {
    reply
        .split(|c: char| c.is_whitespace() || c == ':' || c == '(' || c == ')')
        .any(|word| {
            let mut parts = word.split('.');
            parts.next() == Some("5")
                && parts.next() == Some("1")
                && parts
                    .next()
                    .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()))
        })
}

/// What a template or the composer refused: the copy fails, and it is not a bounce.
pub(super) fn failed(reply: String) -> Outcome {
    Outcome::Failed {
        reply,
        bounced: false,
    }
}

#[cfg(test)]
mod tests {
    use super::is_mailbox_failure;

    #[test]
    fn recognises_mailbox_failures() {
        assert!(is_mailbox_failure(
            "permanent error (550): 5.1.1 No such user here"
        ));
        assert!(is_mailbox_failure("550 5.1.10 Recipient address rejected"));
        assert!(!is_mailbox_failure(
            "permanent error (554): 5.7.1 Message rejected as spam"
        ));
        assert!(!is_mailbox_failure("552 5.2.2 Mailbox full"));
    }
}
