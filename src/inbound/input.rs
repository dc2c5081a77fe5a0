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
/// [`MAX_EMBEDDED_MESSAGES`] and messages that are the whole body of another embedded
/// message made opaque. Copied only when something had to change.
pub(super) fn prepare(raw: &[u8]) -> Cow<'_, [u8]> {
    let raw = pad_short_zones(raw);
    let raw = defuse_stacked_messages(raw);
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

/// `raw` with `message/rfc822` and `message/global` changed to an unknown type of the same
/// length (`xessage/rfc822`, which the parser keeps as plain data) where they are the type
/// of a message that is itself the whole body of an embedded message.
///
/// Why: when an embedded message's body is directly another message (a `message/rfc822`
/// part whose message has `Content-Type: message/rfc822`, or such a message in a
/// `multipart/digest`) and a multipart's closing boundary follows, mail-parser 0.11 pops
/// one nesting level instead of two before it closes the multipart: it then looks for the
/// multipart part in the wrong message, fails a `debug_assert!` ("Invalid part ID, could
/// not find multipart."), and in a release build leaves the multipart with an empty list
/// of parts, so the report and the returned message are never found. Found by the fuzz
/// target (`fuzz/`). Only the first level of a returned message is read, so making its
/// inner message opaque loses nothing.
///
/// Where: the text is cut into paragraphs at whitespace-only lines, where the parser ends
/// a header section. An embedded message's header section is the paragraph after one
/// whose last section (from its last `--` boundary line on, which may carry the part's
/// first field on the same line) says `message/rfc822` or `message/global`, or, in a
/// message with a `multipart/digest`, has no `Content-Type` at all behind a boundary line
/// (a digest's part). In that next paragraph every `Content-Type` field counts, as the
/// parser reads the whole paragraph as the message's header (lines without a colon,
/// boundary lines among them, are skipped). Text that only looks like this loses one
/// letter.
fn defuse_stacked_messages(raw: Cow<'_, [u8]>) -> Cow<'_, [u8]> {
    const MESSAGE_TYPES: [&[u8]; 2] = [b"message/rfc822", b"message/global"];
    let message_types_in = |line: &[u8]| -> Vec<usize> {
        (0..line.len())
            .filter(|&i| {
                MESSAGE_TYPES.iter().any(|t| {
                    line.get(i..i + t.len())
                        .is_some_and(|s| s.eq_ignore_ascii_case(t))
                })
            })
            .collect()
    };
    // Nothing to do without one (a single cheap pass over a large message).
    let has_message_type = raw.iter().enumerate().any(|(i, &b)| {
        (b == b'm' || b == b'M')
            && MESSAGE_TYPES.iter().any(|t| {
                raw.get(i..i + t.len())
                    .is_some_and(|s| s.eq_ignore_ascii_case(t))
            })
    });
    if !has_message_type {
        return raw;
    }
    // Looked for once, and only when needed.
    let mut has_digest: Option<bool> = None;
    let mut found: Vec<usize> = Vec::new();
    // The paragraph before: whether it declared an embedded message. This paragraph: whether
    // its last section has a boundary line before it, a `Content-Type` field (and one of a
    // message type); whether the current line is (the fold of) a `Content-Type` field.
    let mut embeds = false;
    let (mut after_boundary, mut has_type, mut message_type) = (false, false, false);
    let (mut in_content_type, mut first_line) = (false, true);
    let mut start = 0;
    while start < raw.len() {
        let end = raw[start..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(raw.len(), |p| start + p);
        let line = &raw[start..end];
        if line.iter().all(u8::is_ascii_whitespace) {
            embeds = message_type
                || (after_boundary
                    && !has_type
                    && *has_digest
                        .get_or_insert_with(|| contains_ignoring_case(&raw, b"multipart/digest")));
            (after_boundary, has_type, message_type) = (false, false, false);
            (in_content_type, first_line) = (false, true);
        } else {
            let folded = line.starts_with(b" ") || line.starts_with(b"\t");
            if line.starts_with(b"--") {
                // A field right after the boundary, on its line: `--bContent-Type: …`.
                let glued_type = contains_ignoring_case(line, b"content-type");
                let glued_message = glued_type && !message_types_in(line).is_empty();
                (after_boundary, has_type, message_type) = (true, glued_type, glued_message);
            }
            // The parser skips whitespace before a section's first field name.
            if !folded || first_line {
                in_content_type = is_content_type_field(line);
                has_type |= in_content_type;
            }
            if in_content_type {
                let types = message_types_in(line);
                message_type |= !types.is_empty();
                if embeds {
                    found.extend(types.into_iter().map(|i| start + i));
                }
            }
            first_line = false;
        }
        start = end + 1;
    }
    defuse(raw, found)
}

fn contains_ignoring_case(haystack: &[u8], needle: &[u8]) -> bool {
    let Some(first) = needle.first().map(u8::to_ascii_lowercase) else {
        return true;
    };
    haystack.iter().enumerate().any(|(i, b)| {
        b.to_ascii_lowercase() == first
            && haystack
                .get(i..i + needle.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

/// True when `line` starts a `Content-Type` field as mail-parser reads a field name:
/// whitespace anywhere and colons before the name are ignored.
fn is_content_type_field(line: &[u8]) -> bool {
    let mut name = line
        .iter()
        .skip_while(|&&b| b == b':' || b.is_ascii_whitespace())
        .take_while(|&&b| b != b':')
        .filter(|b| !b.is_ascii_whitespace());
    let has_colon = line
        .iter()
        .skip_while(|&&b| b == b':' || b.is_ascii_whitespace())
        .any(|&b| b == b':');
    has_colon
        && b"content-type"
            .iter()
            .all(|c| name.next().is_some_and(|b| b.eq_ignore_ascii_case(c)))
        && name.next().is_none()
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
    defuse(raw, found)
}

/// Overwrites the first byte of each place found with `x`, so what starts there is no
/// longer read as what it was; untouched when nothing was found.
fn defuse(raw: Cow<'_, [u8]>, found: Vec<usize>) -> Cow<'_, [u8]> {
    if found.is_empty() {
        return raw;
    }
    let mut defused = raw.into_owned();
    for i in found {
        defused[i] = b'x';
    }
    Cow::Owned(defused)
}
