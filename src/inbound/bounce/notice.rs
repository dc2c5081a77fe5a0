//! Reading a plain-text notice: where the returned copy starts, the status code the
//! remote server gave, and the failed address, best evidence first.

use super::*;

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
pub(super) fn enhanced_code_at(bytes: &[u8], i: usize) -> Option<usize> {
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
pub(super) fn follows_reply_code(bytes: &[u8], i: usize) -> bool {
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
pub(super) fn is_bare_reply_code(bytes: &[u8], i: usize) -> bool {
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

pub(super) fn starts_the_copy(line: &str) -> bool {
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
pub(super) fn address_opening(line: &str) -> Option<String> {
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
pub(super) fn own_addresses(message: &Message<'_>) -> Vec<String> {
    let mut own = headers::recipients(message);
    own.extend(headers::from_address(message));
    own
}

/// The `Message-ID:` line of a returned message quoted in the text.
pub(super) fn message_id_in_copy(copy: &str) -> Option<String> {
    copy.lines().take(500).find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("message-id")
            .then(|| headers::id_in(value))?
    })
}

/// The line of `text` around byte offset `at`.
pub(super) fn line_at(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |p| p + 1);
    let end = text[at..].find('\n').map_or(text.len(), |p| at + p);
    &text[start..end]
}

/// `smtp; 550 5.1.1 User unknown` without its `smtp;` type.
pub(super) fn without_type_prefix(diagnostic: &str) -> &str {
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
