//! The wording of delivery notices, as tables of phrases: what says a message bounced, was
//! only delayed, met a full mailbox, or named an address that does not exist.

/// Subjects of delivery failure notices. A reply or forward (`Re:`, `Fwd:`) of one is a
/// person writing about it, not the notice.
pub(super) fn subject_says_bounce(subject: &str) -> bool {
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

pub(super) fn subject_says_delay(subject: &str) -> bool {
    subject.contains("delay") || subject.trim_start().starts_with("warning")
}

/// True when `subject` starts with a reply or forward prefix.
pub(in crate::inbound) fn is_reply_or_forward(subject: &str) -> bool {
    let s = subject.trim_start().to_lowercase();
    [
        "re:", "re ", "aw:", "sv:", "fw:", "fwd:", "wg:", "tr:", "rv:", "odp:", "ynt:",
    ]
    .iter()
    .any(|p| s.starts_with(p))
}

/// Words of delivery failure notices (text lowercased).
pub(super) fn text_says_bounce(text: &str) -> bool {
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
pub(super) fn says_delay(text: &str) -> bool {
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
pub(super) fn mailbox_full(text: &str) -> bool {
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
pub(super) fn address_gone(text: &str) -> bool {
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
