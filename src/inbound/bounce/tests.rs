//! Bounce detection against the notices mail servers send.

use super::*;

fn status(text: &str) -> Option<String> {
    find_status(text).map(|s| s.code)
}

#[test]
fn status_codes_are_found_best_first() {
    for (text, code) in [
        (
            "said: 550 5.1.1 <a@b.example>... User unknown",
            Some("5.1.1"),
        ),
        ("550-5.1.1 The email account", Some("5.1.1")),
        ("#550 5.1.1 RESOLVER.ADR.RecipNotFound", Some("5.1.1")),
        ("550 550 5.1.1 user unknown", Some("5.1.1")),
        ("'550 5.1.10 RESOLVER.ADR.RecipientNotFound", Some("5.1.10")),
        // An enhanced code anywhere beats a bare reply code earlier on.
        (
            "said: 550 Unknown user x@y.example\n. (#5.5.0)",
            Some("5.5.0"),
        ),
        ("Remote host said: 554 delivery error", Some("5.0.0")),
        ("said: 451 try later", Some("4.0.0")),
        // Not statuses: IP addresses, versions, dates, ports.
        (
            "host mx [192.0.2.153] (Exim 4.77) id 8.2.234.1; 2014 port=4500",
            None,
        ),
        ("Postfix 2.10.1 delivered", None),
    ] {
        assert_eq!(status(text).as_deref(), code, "{text}");
    }
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
