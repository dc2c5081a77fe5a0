//! The raw bytes, checked and prepared before the MIME parser sees them.

use std::borrow::Cow;

/// At most this many embedded messages (`message/rfc822`, `message/global`) and digests
/// (`multipart/digest`, whose parts are messages) are parsed as such; later ones are read
/// as opaque data. A bounce or complaint returns one message; the limit is there because
/// mail-parser nests embedded messages as objects inside each other without a depth limit,
/// and dropping a few hundred thousand levels of them overflows the stack.
const MAX_EMBEDDED_MESSAGES: usize = 16;

/// True when the first line (after blank lines and an mbox `From ` line) is a header
/// field: a name of printable ASCII, then a colon.
pub(super) fn starts_with_header(raw: &[u8]) -> bool {
    let mut rest = raw.trim_ascii_start();
    if rest.starts_with(b"From ") {
        rest = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => &rest[end + 1..],
            None => return false,
        };
    }
    // RFC 5322 allows 998 characters a line; no real field name comes near 100.
    let Some(colon) = rest.iter().take(100).position(|&b| b == b':') else {
        return false;
    };
    let name = rest[..colon].trim_ascii_end();
    !name.is_empty() && name.iter().all(|b| (0x21..=0x7e).contains(b))
}

/// `raw` as the parser should see it: short time zones padded, embedded messages beyond
/// [`MAX_EMBEDDED_MESSAGES`] made opaque. Copied only when something had to change.
pub(super) fn prepare(raw: &[u8]) -> Cow<'_, [u8]> {
    let raw = pad_short_zones(raw);
    defuse_deep_messages(raw)
}

/// `raw` with two spaces after a one- or two-letter time zone ending a `Date:` line
/// (`… 19:48:55 UT`), copied only when there is one.
///
/// Why: mail-parser 0.11 reads an alphabetic zone as exactly three characters, so after
/// `UT` or `Z` it also consumes the line break, and the next header field (often `Subject`,
/// `From` or `Content-Type`) disappears into the date.
fn pad_short_zones(raw: &[u8]) -> Cow<'_, [u8]> {
    let short_zone_date = |line: &[u8]| {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let is_date = line.len() > 5
            && (line[..5].eq_ignore_ascii_case(b"date:")
                || line
                    .get(..12)
                    .is_some_and(|p| p.eq_ignore_ascii_case(b"resent-date:")));
        let zone = line
            .rsplit(|&b| b == b' ' || b == b'\t')
            .next()
            .unwrap_or_default();
        is_date && (1..=2).contains(&zone.len()) && zone.iter().all(u8::is_ascii_alphabetic)
    };
    if !raw.split(|&b| b == b'\n').any(short_zone_date) {
        return Cow::Borrowed(raw);
    }
    let mut padded = Vec::with_capacity(raw.len() + 16);
    let mut lines = raw.split(|&b| b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if short_zone_date(line) {
            let content = line.strip_suffix(b"\r").unwrap_or(line);
            padded.extend_from_slice(content);
            padded.extend_from_slice(b"  ");
            padded.extend_from_slice(&line[content.len()..]);
        } else {
            padded.extend_from_slice(line);
        }
        if lines.peek().is_some() {
            padded.push(b'\n');
        }
    }
    Cow::Owned(padded)
}

/// `raw` with the content types of embedded messages past the first
/// [`MAX_EMBEDDED_MESSAGES`] changed to an unknown type of the same length
/// (`message/rfc822` becomes `xessage/rfc822`), which the parser keeps as plain data.
fn defuse_deep_messages(raw: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    const NESTING_TYPES: [&[u8]; 3] = [b"message/rfc822", b"message/global", b"multipart/digest"];
    let starts = |bytes: &[u8], i: usize| {
        NESTING_TYPES.iter().any(|t| {
            bytes
                .get(i..i + t.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(t))
        })
    };
    let found: Vec<usize> = (0..raw.len())
        .filter(|&i| matches!(raw[i], b'm' | b'M') && starts(&raw, i))
        .skip(MAX_EMBEDDED_MESSAGES)
        .collect();
    if found.is_empty() {
        return raw;
    }
    let mut defused = raw.into_owned();
    for i in found {
        defused[i] = b'x';
    }
    Cow::Owned(defused)
}
