//! Hostile input: each must come back, without a panic. (How long they take is measured by
//! the fuzz runs and their slow-input report, not here: a timed test fails on a busy machine.)

use super::*;

fn survives(name: &str, raw: &[u8]) -> Result<InboundMessage, InboundError> {
    let result = parse(raw);
    if let Err(err) = &result {
        eprintln!("{name}: {err}");
    }
    result
}

/// Deterministic pseudo-random bytes (xorshift), so a failure can be replayed.
fn noise(len: usize, mut seed: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 24) as u8
        })
        .collect()
}

#[test]
fn empty_and_garbage_are_not_mail() {
    assert_eq!(survives("empty", b""), Err(InboundError::Empty));
    assert_eq!(survives("blank", b" \r\n\t\n"), Err(InboundError::Empty));
    for seed in 1..=20 {
        let bytes = noise(64 * 1024, seed);
        assert!(survives("random bytes", &bytes).is_err(), "seed {seed}");
    }
    assert!(survives("prose", b"Dear friend, this is not an e-mail.\n").is_err());
    assert!(survives("zeros", &vec![0u8; 1 << 20]).is_err());
}

#[test]
fn random_bytes_after_a_header_do_not_panic() {
    for seed in 1..=20 {
        let mut raw =
            b"From: a@b.example\r\nContent-Type: multipart/report; boundary=x\r\n\r\n".to_vec();
        raw.extend(noise(256 * 1024, seed));
        survives("noise body", &raw).unwrap();
    }
}

#[test]
fn a_ten_megabyte_body() {
    let mut raw = message("From: a@b.example\nSubject: big", "").to_vec();
    raw.extend(b"Hello, this is a line of a very long reply.\r\n".repeat(10 * 1024 * 1024 / 45));
    let parsed = survives("10 MB body", &raw).unwrap();
    assert!(matches!(parsed.kind, InboundKind::Reply { .. }));
    let mut one_line = message("From: a@b.example\nSubject: big", "").to_vec();
    one_line.extend(vec![b'>'; 12 * 1024 * 1024]);
    survives("12 MB of one quoted line", &one_line).unwrap();
    let mut at_signs = message(
        "From: MAILER-DAEMON@b.example\nSubject: failure notice",
        "could not be delivered\n",
    )
    .to_vec();
    at_signs.extend(b"a@b.c 550 5.1.".repeat(700_000));
    survives("10 MB of near-addresses and codes", &at_signs).unwrap();
}

#[test]
fn five_thousand_headers_and_a_megabyte_header_line() {
    let many: String = (0..5000)
        .map(|i| format!("X-Header-{i}: value {i}\n"))
        .collect();
    let raw = message(&format!("From: a@b.example\n{many}Subject: many"), "Hi");
    assert!(matches!(
        survives("5000 headers", &raw).unwrap().kind,
        InboundKind::Reply { .. }
    ));
    let received: String = "Received: from a by b; Mon, 1 Jan 2024 00:00:00 +0000\n".repeat(5000);
    survives(
        "5000 Received",
        &message(&format!("{received}From: a@b.example"), "Hi"),
    )
    .unwrap();

    let long = "x".repeat(1024 * 1024);
    for name in [
        "Subject",
        "To",
        "References",
        "X-Failed-Recipients",
        "Auto-Submitted",
        "Content-Type",
    ] {
        let raw = message(&format!("From: a@b.example\n{name}: {long}"), "Hi");
        survives(name, &raw).unwrap();
    }
    let folded = format!(
        "From: a@b.example\nSubject: {}",
        " folded\n".repeat(100_000)
    );
    survives("100 000 folded lines", &message(&folded, "Hi")).unwrap();
}

#[test]
fn deeply_nested_multiparts() {
    let depth = 200;
    let mut body = String::new();
    for level in 0..depth {
        body.push_str(&format!(
            "--b{level}\nContent-Type: multipart/mixed; boundary=\"b{}\"\n\n",
            level + 1
        ));
    }
    body.push_str(&format!("--b{depth}\nContent-Type: text/plain\n\ndeep\n"));
    for level in (0..=depth).rev() {
        body.push_str(&format!("--b{level}--\n"));
    }
    let raw = message(
        "From: a@b.example\nContent-Type: multipart/mixed; boundary=\"b0\"",
        &body,
    );
    survives("200-deep multiparts", &raw).unwrap();

    let mut nested = String::from("From: a@b.example\nContent-Type: message/rfc822\n\n");
    for _ in 0..200 {
        nested.push_str("From: a@b.example\nContent-Type: message/rfc822\n\n");
    }
    nested.push_str("From: a@b.example\n\nbottom\n");
    survives("200 nested messages", nested.as_bytes()).unwrap();

    let html = format!(
        "From: a@b.example\nContent-Type: text/html\n\n{}deep{}",
        "<div><blockquote>".repeat(20_000),
        "</blockquote></div>".repeat(20_000)
    );
    survives("40 000-deep HTML", html.as_bytes()).unwrap();
}

#[test]
fn invalid_charsets_and_truncated_mime() {
    let raw = message(
        "From: a@b.example\nSubject: =?x-no-such-charset?B?////?= =?utf-8?Q?=FF=FE?=\nContent-Type: text/plain; charset=x-no-such-charset",
        "\u{0}\u{1}caf\u{e9}",
    );
    let mut raw = raw;
    raw.extend([0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82]);
    survives("invalid charsets", &raw).unwrap();
    let shift_jis = message(
        "From: a@b.example\nContent-Type: text/plain; charset=iso-2022-jp",
        "\u{1b}$B$3$s$K$A$O\u{1b}(B",
    );
    survives("iso-2022-jp", &shift_jis).unwrap();

    let full = dsn("Final-Recipient: rfc822; gone@example.jp\nAction: failed\nStatus: 5.1.1\n");
    for cut in (0..full.len()).step_by(7) {
        let _ = survives("truncated report", &full[..cut]);
    }
    let base64 = message(
        "From: a@b.example\nContent-Type: multipart/mixed; boundary=z",
        "--z\nContent-Type: text/html\nContent-Transfer-Encoding: base64\n\nPGRpdj5IZWxsbzwvZGl2Pg=\n--z\nContent-Type: text/plain\nContent-Transfer-Encoding: quoted-printable\n\n=E9=\n=",
    );
    survives("truncated encodings", &base64).unwrap();
}

#[test]
fn more_than_the_limit_is_not_read() {
    let mut raw = message("From: a@b.example\nSubject: huge", "start\n").to_vec();
    raw.resize(MAX_MESSAGE_BYTES + 5 * 1024 * 1024, b'a');
    survives("15 MB", &raw).unwrap();
}

#[test]
fn messages_nested_a_hundred_thousand_deep() {
    let mut raw = b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n".to_vec();
    while raw.len() < MAX_MESSAGE_BYTES {
        raw.extend_from_slice(
            b"--b\nContent-Type: message/rfc822\n\nFrom: c@d.example\nContent-Type: multipart/mixed; boundary=b\n\n",
        );
    }
    survives("nested messages", &raw).unwrap();
    let mut digests = b"From: a@b.example\nContent-Type: multipart/digest; boundary=d\n\n".to_vec();
    while digests.len() < MAX_MESSAGE_BYTES {
        digests.extend_from_slice(
            b"--d\n\nFrom: c@d.example\nContent-Type: multipart/digest; boundary=d\n\n",
        );
    }
    survives("nested digests", &digests).unwrap();
    let mut parts = b"From: a@b.example\nContent-Type: multipart/mixed; boundary=b\n\n".to_vec();
    while parts.len() < MAX_MESSAGE_BYTES {
        parts.extend_from_slice(b"--b\n\nx\n");
    }
    survives("a million parts", &parts).unwrap();
}

// Found by the fuzz target (fuzz/, `cargo +nightly fuzz run inbound_parse`): inputs that
// once panicked, hung or were slow, each minimised.

/// An embedded message whose body is directly another message, closed by the multipart's
/// final boundary: mail-parser 0.11 failed a debug assertion on it (so `parse` said
/// `NotMail` in a debug build) and, in a release build, lost the multipart's parts.
/// `input::defuse_stacked_messages` makes the inner message opaque.
#[test]
fn fuzz_a_message_directly_inside_an_embedded_message() {
    let minimised = b"m:\nContent-Type:multipart;boundary=r\n\n--rContent-Type:message/rfc822\n\nContent-Type:message/rfc822\n\n\n--r--";
    survives("minimised", minimised).unwrap();
    // The same with a line the parser skips before the inner message's type.
    let skipped = b"Content-Type:multipart/\n\tboundary=-\n\n---Content-Type:message/rfc822\n\n2\nContent-Type:message/rfc822\n\n\n-----";
    survives("minimised, a line skipped", skipped).unwrap();
    let digest = b"From: a@b.example\nContent-Type: multipart/digest; boundary=r\n\n--r\n\nContent-Type: message/rfc822\n\nFrom: q@w.example\n\nhi\n--r--\n";
    survives("digest", digest).unwrap();

    // A part's header section after a part without a type stays as it is.
    let raw = message(
        DSN_HEADERS,
        "--B\n\nSorry, it could not be delivered.\n--B\nContent-Type: message/rfc822\n\n\
         From: news@news.example\nTo: gone@example.jp\nMessage-ID: <issue12.x@news.example>\n\nHi\n--B--\n",
    );
    assert!(matches!(
        survives("untyped part before the returned message", &raw).unwrap().kind,
        InboundKind::Bounce { original_message_id: Some(id), .. } if id == "<issue12.x@news.example>"
    ));

    // A bounce returning a message that was itself a forwarded message/rfc822.
    let raw = message(
        DSN_HEADERS,
        "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.org\n\n\
         Final-Recipient: rfc822; gone@example.jp\nAction: failed\nStatus: 5.1.1\n\n\
         --B\nContent-Type: message/rfc822\n\n\
         From: news@news.example\nTo: gone@example.jp\nMessage-ID: <issue12.fwd@news.example>\n\
         Content-Type: message/rfc822\n\n\
         From: someone@else.example\nMessage-ID: <inner@else.example>\n\nInner\n--B--\n",
    );
    let returned = survives("stacked returned message", &raw).unwrap();
    assert_gone_for_good(returned.kind, "<issue12.fwd@news.example>");
}
