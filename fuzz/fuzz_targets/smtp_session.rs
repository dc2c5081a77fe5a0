//! The inbound SMTP session on arbitrary bytes: what a client sends in, the session's
//! replies out (`hundred::inbound::smtp::Session` on an in-memory stream, with a store that
//! checks and drops each message).
//!
//! Nothing may panic, nothing may hang (`-timeout`), memory stays bounded (`-rss_limit_mb`):
//! a message handed to the store is never over the size limit, and every reply is one or
//! more well-formed lines (three digits, a space or a dash, printable text, CRLF), one reply
//! per command at most, starting with the 220 greeting.

#![no_main]

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use hundred::inbound::smtp::{Limits, MessageSink, Session, Settings, Stored};
use libfuzzer_sys::fuzz_target;

/// Small limits, so the fuzzer reaches them with short inputs.
const MESSAGE_BYTES: usize = 4096;
const LINE_BYTES: usize = 512;

struct Checker;

impl MessageSink for Checker {
    fn store(
        &self,
        message: Vec<u8>,
        recipients: Vec<String>,
    ) -> Pin<Box<dyn Future<Output = Stored> + Send>> {
        assert!(!recipients.is_empty(), "a message was taken without a recipient");
        assert!(message.len() <= MESSAGE_BYTES, "a message over the limit was kept");
        // Each answer the store can give, chosen by the message itself.
        let stored = match message.first() {
            Some(b'F') => Stored::Failed,
            Some(b'N') => Stored::NotMail("not\r\nmail \u{7f}".into()),
            _ => Stored::Kept,
        };
        Box::pin(async move { stored })
    }
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

fn settings() -> Arc<Settings> {
    static SETTINGS: OnceLock<Arc<Settings>> = OnceLock::new();
    SETTINGS
        .get_or_init(|| {
            Arc::new(Settings {
                server_name: "bakery.example".into(),
                domains: vec!["bakery.example".into()],
                limits: Limits {
                    line_bytes: LINE_BYTES,
                    message_bytes: MESSAGE_BYTES,
                    recipients: 3,
                    message_memory: 4 * MESSAGE_BYTES,
                    store_time: Duration::from_secs(1),
                    ..Limits::default()
                },
            })
        })
        .clone()
}

fuzz_target!(|data: &[u8]| {
    let mut replies = Vec::new();
    let session = Session::new(settings(), Arc::new(Checker));
    runtime().block_on(session.run(tokio::io::join(data, &mut replies)));
    check_replies(data, &replies);
});

fn check_replies(data: &[u8], replies: &[u8]) {
    let text = std::str::from_utf8(replies).expect("replies are ASCII");
    assert!(text.starts_with("220 bakery.example "), "greeting first");
    assert!(text.ends_with("\r\n"), "whole lines only");
    let mut ends = 0;
    for line in text.split_terminator("\r\n") {
        let bytes = line.as_bytes();
        assert!(bytes.len() >= 4 && bytes.len() <= 512, "reply line {line:?}");
        assert!(bytes[..3].iter().all(u8::is_ascii_digit), "code in {line:?}");
        assert!(matches!(bytes[0], b'2'..=b'5'), "code in {line:?}");
        assert!(bytes[3] == b' ' || bytes[3] == b'-', "separator in {line:?}");
        assert!(
            bytes.iter().all(|b| b.is_ascii_graphic() || *b == b' '),
            "printable text in {line:?}"
        );
        if bytes[3] == b' ' {
            ends += 1;
        }
    }
    // One reply per line sent (a command, or the end of a message), plus the greeting and a
    // last 421 when the session is closed on the client.
    let lines = data.iter().filter(|&&b| b == b'\n').count();
    assert!(ends <= lines + 2, "{ends} replies to {lines} lines");
}
