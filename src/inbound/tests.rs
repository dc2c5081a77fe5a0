//! Whole messages through `parse`: the rules for each kind, and hostile input.

use super::*;

fn message(headers: &str, body: &str) -> Vec<u8> {
    format!("{headers}\r\n\r\n{body}")
        .replace("\r\n", "\n")
        .replace('\n', "\r\n")
        .into_bytes()
}

fn kind(raw: &[u8]) -> InboundKind {
    parse(raw).expect("parses").kind
}

fn auto_reason(raw: &[u8]) -> String {
    match kind(raw) {
        InboundKind::AutoReply { reason } => reason,
        other => panic!("expected an automatic reply, got {other:?}"),
    }
}

const PERSON: &str = "From: Ann <ann@Example.ORG>\nTo: News <reply+t0k3n@news.example>\nSubject: Re: Issue 12\nDate: Mon, 1 Jan 2024 12:00:00 +0100\nMessage-ID: <r1@example.org>";

#[test]
fn a_persons_reply_with_its_details() {
    let raw = message(
        &format!(
            "{PERSON}\nCc: other@example.net, News <reply+t0k3n@news.example>\n\
             In-Reply-To: <issue12@news.example>\nReferences: <issue11@news.example>\n <issue12@news.example>\n\
             Delivered-To: reply+t0k3n@news.example\nX-Original-To: Reply+T0K3N@NEWS.example"
        ),
        "Loved it!\n\nOn Mon, 1 Jan 2024, News <reply+t0k3n@news.example> wrote:\n> Issue 12\n",
    );
    let parsed = parse(&raw).unwrap();
    assert_eq!(
        parsed.kind,
        InboundKind::Reply {
            text: "Loved it!".into()
        }
    );
    assert_eq!(parsed.from.as_deref(), Some("ann@example.org"));
    assert_eq!(parsed.subject.as_deref(), Some("Re: Issue 12"));
    assert_eq!(parsed.message_id.as_deref(), Some("<r1@example.org>"));
    assert_eq!(parsed.in_reply_to, ["<issue12@news.example>"]);
    assert_eq!(
        parsed.references,
        ["<issue11@news.example>", "<issue12@news.example>"]
    );
    assert_eq!(
        parsed.recipients,
        [
            "reply+t0k3n@news.example",
            "other@example.net",
            "Reply+T0K3N@news.example"
        ]
    );
    let date = parsed.date.unwrap();
    assert_eq!(date.unix_timestamp(), 1_704_106_800);
    assert_eq!(date.offset().whole_hours(), 1);
}

#[test]
fn a_short_time_zone_does_not_swallow_the_next_field() {
    for zone in ["UT", "Z", "ut"] {
        for newline in ["\n", "\r\n"] {
            let raw = format!(
                "Date: Thu, 30 Dec 2010 19:48:55 {zone}{newline}Subject: Abuse Report{newline}From: a@b.example{newline}{newline}Hi{newline}"
            );
            let parsed = parse(raw.as_bytes()).unwrap();
            assert_eq!(
                parsed.subject.as_deref(),
                Some("Abuse Report"),
                "{zone:?} {newline:?}"
            );
            assert_eq!(parsed.date.map(|d| d.unix_timestamp()), Some(1_293_738_535));
        }
    }
}

#[test]
fn html_only_replies_are_read_as_text_and_trimmed() {
    let gmail = message(
        &format!("{PERSON}\nContent-Type: text/html; charset=utf-8"),
        "<div dir=\"ltr\">Count me in &amp; thanks!</div><br><div class=\"gmail_quote\">\
         <div dir=\"ltr\">On Mon, 1 Jan 2024 at 12:00, News &lt;<a href=\"mailto:n@news.example\">n@news.example</a>&gt; wrote:<br></div>\
         <blockquote class=\"gmail_quote\">Issue 12 is out.</blockquote></div>",
    );
    assert_eq!(
        kind(&gmail),
        InboundKind::Reply {
            text: "Count me in & thanks!".into()
        }
    );
    let outlook = message(
        &format!(
            "{PERSON}\nContent-Type: text/html; charset=windows-1252\nContent-Transfer-Encoding: quoted-printable"
        ),
        "<html><body><p>Gr=E4t, danke.</p><div style=\"border-top:solid #E1E1E1 1.0pt\">\
         <p><b>From:</b> News &lt;n@news.example&gt;<br><b>Sent:</b> Monday, January 1, 2024 12:00<br>\
         <b>To:</b> Ann<br><b>Subject:</b> Issue 12</p></div><p>Issue 12 is out.</p></body></html>",
    );
    assert_eq!(
        kind(&outlook),
        InboundKind::Reply {
            text: "Grät, danke.".into()
        }
    );
    let outlook_com = message(
        &format!("{PERSON}\nContent-Type: text/html; charset=utf-8"),
        "<div>Yes!</div><hr style=\"display:inline-block;width:98%\"><div id=\"divRplyFwdMsg\">\
         <b>From:</b> News &lt;n@news.example&gt;<br><b>Sent:</b> Monday, 1 January 2024 12:00<br>\
         <b>To:</b> Ann<br><b>Subject:</b> Issue 12</div><div>Issue 12 is out.</div>",
    );
    assert_eq!(
        kind(&outlook_com),
        InboundKind::Reply {
            text: "Yes!".into()
        }
    );
}

#[test]
fn each_automatic_reply_header_is_recognised() {
    let cases = [
        ("Auto-Submitted: auto-replied (vacation)", "Auto-Submitted"),
        ("Auto-Submitted: auto-generated", "Auto-Submitted"),
        ("X-Autoreply: yes", "X-Autoreply"),
        ("X-Autorespond: Update your Info", "X-Autorespond"),
        ("Precedence: auto_reply", "Precedence"),
        ("Precedence: bulk", "Precedence"),
        ("Precedence: list", "Precedence"),
        ("Precedence: junk", "Precedence"),
        ("X-Precedence: auto_reply", "X-Precedence"),
        (
            "X-MS-Exchange-Inbox-Rules-Loop: ann@example.org",
            "Inbox-Rules-Loop",
        ),
        (
            "X-Auto-Response-Suppress: All\nX-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent",
            "X-Auto-Response-Suppress",
        ),
        ("X-Apple-Action: VACATION", "VACATION"),
        ("Return-Path: <>", "null sender"),
    ];
    for (header, said) in cases {
        let raw = message(&format!("{PERSON}\n{header}"), "I am away until Monday.");
        let reason = auto_reason(&raw);
        assert!(reason.contains(said), "{header}: reason {reason:?}");
    }
}

#[test]
fn no_means_no_and_suppress_alone_is_a_person() {
    for header in [
        "Auto-Submitted: no",
        "X-Auto-Response-Suppress: All",
        "Precedence: first-class",
    ] {
        let raw = message(&format!("{PERSON}\n{header}"), "Thanks!");
        assert_eq!(
            kind(&raw),
            InboundKind::Reply {
                text: "Thanks!".into()
            },
            "{header}"
        );
    }
}

#[test]
fn vacation_subjects_are_automatic_but_not_in_a_reply() {
    for subject in [
        "Out of Office: Issue 12",
        "Automatic reply: Issue 12",
        "Abwesenheitsnotiz",
        "Réponse automatique : Issue 12",
        "Auto: Issue 12",
    ] {
        let raw = message(
            &format!("From: ann@example.org\nTo: n@news.example\nSubject: {subject}"),
            "Away.",
        );
        assert!(auto_reason(&raw).contains("subject"), "{subject}");
    }
    let raw = message(
        "From: ann@example.org\nTo: n@news.example\nSubject: Re: Out of office etiquette",
        "Great issue.",
    );
    assert!(matches!(kind(&raw), InboundKind::Reply { .. }));
}

const DSN_HEADERS: &str = "From: Mail Delivery System <MAILER-DAEMON@mx.example.org>\nTo: bounces@news.example\nSubject: Undelivered Mail Returned to Sender\nAuto-Submitted: auto-replied\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"";

fn dsn(per_recipient: &str) -> Vec<u8> {
    message(
        DSN_HEADERS,
        &format!(
            "--B\nContent-Type: text/plain\n\nI'm sorry to have to inform you.\n\n\
             --B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n{per_recipient}\n\
             --B\nContent-Type: message/rfc822\n\nFrom: news@news.example\nTo: someone@example.jp\nMessage-ID: <issue12.abc@news.example>\nSubject: Issue 12\n\nHello\n\n--B--\n"
        ),
    )
}

#[test]
fn a_report_with_several_recipients_speaks_for_the_failed_one() {
    let raw = dsn(
        "Final-Recipient: rfc822; late@example.jp\nAction: delayed\nStatus: 4.4.1\n\n\
                   Final-Recipient: rfc822; Gone@Example.JP\nAction: failed\nStatus: 5.1.1\n\
                   Diagnostic-Code: smtp; 550 5.1.1 <gone@example.jp>... User unknown\n",
    );
    assert_eq!(
        kind(&raw),
        InboundKind::Bounce {
            hard: true,
            status: Some("5.1.1".into()),
            recipient: Some("Gone@example.jp".into()),
            original_message_id: Some("<issue12.abc@news.example>".into()),
            diagnostic: Some("550 5.1.1 <gone@example.jp>... User unknown".into()),
            others: vec![super::OtherFailure {
                recipient: "late@example.jp".into(),
                hard: false,
                status: Some("4.4.1".into()),
                diagnostic: None,
            }],
        }
    );
}

#[test]
fn delays_full_mailboxes_and_success_reports() {
    let delayed = dsn("Final-Recipient: rfc822; late@example.jp\nAction: delayed\nStatus: 4.4.7\n");
    assert!(matches!(
        kind(&delayed),
        InboundKind::Bounce { hard: false, .. }
    ));
    let full = dsn(
        "Final-Recipient: rfc822; full@example.jp\nAction: failed\nStatus: 5.2.2\nDiagnostic-Code: smtp; 552 5.2.2 Mailbox full\n",
    );
    assert!(matches!(
        kind(&full),
        InboundKind::Bounce { hard: false, .. }
    ));
    let over_quota = dsn(
        "Final-Recipient: rfc822; full@example.jp\nAction: failed\nStatus: 5.0.0\nDiagnostic-Code: smtp; 552 over quota\n",
    );
    assert!(matches!(
        kind(&over_quota),
        InboundKind::Bounce { hard: false, .. }
    ));
    let delivered =
        dsn("Final-Recipient: rfc822; ok@example.jp\nAction: delivered\nStatus: 2.0.0\n");
    assert!(matches!(kind(&delivered), InboundKind::AutoReply { .. }));
}

#[test]
fn a_plain_text_notice_is_read_for_address_and_status() {
    let raw = message(
        "From: MAILER-DAEMON@mx.example.org\nTo: bounces@news.example\nSubject: failure notice",
        "Hi. This is the qmail-send program at mx.example.org.\n\
         I'm afraid I wasn't able to deliver your message to the following addresses.\n\n\
         <gone@example.jp>:\nRemote host said: 550 5.1.1 <gone@example.jp>... User Unknown\n\n\
         --- Below this line is a copy of the message.\n\n\
         From: news@news.example\nTo: gone@example.jp\nMessage-ID: <issue12.abc@news.example>\n\nHello\n",
    );
    let diagnostic = assert_gone_for_good(kind(&raw), "<issue12.abc@news.example>");
    assert!(diagnostic.unwrap().contains("User Unknown"));
}

/// Asserts the bounce most notices here report: gone@example.jp, 5.1.1, a hard failure,
/// of the message `message_id`. Gives back the diagnostic, for a check of its own.
fn assert_gone_for_good(kind: InboundKind, message_id: &str) -> Option<String> {
    match kind {
        InboundKind::Bounce {
            hard,
            status,
            recipient,
            original_message_id,
            diagnostic,
            ..
        } => {
            assert!(hard);
            assert_eq!(status.as_deref(), Some("5.1.1"));
            assert_eq!(recipient.as_deref(), Some("gone@example.jp"));
            assert_eq!(original_message_id.as_deref(), Some(message_id));
            diagnostic
        }
        other => panic!("expected a bounce, got {other:?}"),
    }
}

#[test]
fn plain_notices_in_other_shapes() {
    // (headers, body, hard, status, recipient)
    let cases = [
        (
            "From: post_master@sms.example\nTo: news@news.example\nSubject: Re:Issue 12\nIn-Reply-To: <issue12@news.example>",
            "Error: Invalid user address\n\nError message below:\n550 - Requested action not taken: no such user here\n\n\
             Message details:\n  MAIL FROM: news@news.example\n  RCPT TO: 5551234@sms.example\n",
            true,
            Some("5.0.0"),
            "5551234@sms.example",
        ),
        (
            "From: \"Postmaster\" <postmaster@example.org>\nTo: news@news.example\nSubject: Undeliverable Mail",
            "Unknown user: gone@example.com\n\n\nOriginal message follows.\n\nReceived: from x by y\nTo: gone@example.com\n\nHi\n",
            true,
            None,
            "gone@example.com",
        ),
        (
            "From: Postmaster@example.jp\nTo: news@news.example\nSubject: DELIVERY FAILURE: User Anna (anna@example.jp) not listed in\n Domino Directory",
            "Your message\n\n  Subject: Issue 12\n\nwas not delivered to:\n\n  anna@example.jp\n\nbecause:\n\n  User anna (anna@example.jp) not listed in Domino Directory\n",
            true,
            None,
            "anna@example.jp",
        ),
        (
            "From: MAILER-DAEMON@mx.example.net\nTo: news@news.example\nSubject: Warning: could not send message for past 4 hours",
            "    **********************************************\n    **      THIS IS A WARNING MESSAGE ONLY      **\n\
             \x20   **  YOU DO NOT NEED TO RESEND YOUR MESSAGE  **\n\n\
             The original message was received at Mon, 1 Jan 2024 from localhost\n\n\
             \x20  ----- Transcript of session follows -----\n<slow@example.net>... Deferred: Connection timed out with mx.example.net.\n\
             Warning: message still undelivered after 4 hours\nWill keep trying until message is 5 days old\n",
            false,
            None,
            "slow@example.net",
        ),
    ];
    for (headers, body, hard, status, recipient) in cases {
        let raw = message(headers, body);
        match kind(&raw) {
            InboundKind::Bounce {
                hard: h,
                status: s,
                recipient: r,
                ..
            } => {
                assert_eq!(
                    (h, s.as_deref(), r.as_deref()),
                    (hard, status, Some(recipient)),
                    "{headers}"
                );
            }
            other => panic!("{headers}: expected a bounce, got {other:?}"),
        }
    }
}

#[test]
fn a_feedback_report_is_a_complaint_even_with_bulk_headers() {
    let raw = message(
        "From: feedback@arf.example\nTo: abuse@news.example\nSubject: Abuse report\nPrecedence: bulk\n\
         Content-Type: multipart/report; report-type=feedback-report; boundary=\"F\"",
        "--F\nContent-Type: text/plain\n\nA complaint.\n\
         --F\nContent-Type: message/feedback-report\n\nFeedback-Type: abuse\nUser-Agent: FBL/1.0\nVersion: 1\nOriginal-Rcpt-To: <Reader@Example.COM>\n\n\
         --F\nContent-Type: message/rfc822\n\nFrom: news@news.example\nTo: reader@example.com\nMessage-ID: <issue12.r@news.example>\n\nHello\n--F--\n",
    );
    assert_eq!(
        kind(&raw),
        InboundKind::Complaint {
            recipient: Some("Reader@example.com".into()),
            original_message_id: Some("<issue12.r@news.example>".into()),
            feedback_type: Some("abuse".into()),
        }
    );
}

#[test]
fn microsofts_feedback_loop_returns_the_message_alone() {
    let raw = message(
        "From: staff@hotmail.example\nTo: fbl@news.example\nSubject: complaint about message from 192.0.2.1\n\
         Content-Type: multipart/mixed; boundary=\"J\"",
        "--J\nContent-Type: message/rfc822\nContent-Disposition: inline\n\n\
         X-HmXmrOriginalRecipient: <reader@hotmail.example>\nFrom: news@news.example\n\
         To: reader@hotmail.example\nMessage-ID: <issue12.j@news.example>\n\nHello\n--J--\n",
    );
    assert_eq!(
        kind(&raw),
        InboundKind::Complaint {
            recipient: Some("reader@hotmail.example".into()),
            original_message_id: Some("<issue12.j@news.example>".into()),
            feedback_type: None,
        }
    );
}

#[test]
fn a_read_receipt_is_automatic() {
    let raw = message(
        "From: ann@example.org\nTo: news@news.example\nSubject: Read: Issue 12\n\
         Content-Type: multipart/report; report-type=disposition-notification; boundary=\"R\"",
        "--R\nContent-Type: text/plain\n\nYour message was displayed.\n\
         --R\nContent-Type: message/disposition-notification\n\n\
         Final-Recipient: rfc822; ann@example.org\nDisposition: manual-action/MDN-sent-manually; displayed\n--R--\n",
    );
    assert!(auto_reason(&raw).contains("read receipt"));
}

mod hostile;
