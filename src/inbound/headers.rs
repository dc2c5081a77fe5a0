//! Header details: bare addresses, Message-IDs, dates, and raw field values.

use std::borrow::Cow;

use mail_parser::{Address, HeaderName, HeaderValue, Message};
use time::{OffsetDateTime, UtcOffset};

/// Longest header value or address we keep; anything longer is cut (a real one is far
/// shorter, and it bounds the work done on a hostile message).
const MAX_VALUE_CHARS: usize = 4096;

/// At most this many addresses or Message-IDs are read from one field.
const MAX_LIST_ITEMS: usize = 100;

/// Header fields past this many are not looked at by name: the fields that say what a
/// message is come near the top, and a hostile message may carry millions.
const MAX_FIELDS: usize = 1000;

/// `s` cut to [`MAX_VALUE_CHARS`] bytes, on a character boundary.
pub(super) fn clip(s: &str) -> &str {
    clip_to(s, MAX_VALUE_CHARS)
}

/// `s` cut to at most `max` bytes, on a character boundary.
pub(super) fn clip_to(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// The value of the first field called `name` among `message`'s first [`MAX_FIELDS`]
/// header fields, unfolded and trimmed, as written (encoded words are not decoded: the
/// fields read this way are plain ASCII).
pub(super) fn field(message: &Message<'_>, name: &str) -> Option<String> {
    let wanted = HeaderName::from(name);
    let header = message
        .headers()
        .iter()
        .take(MAX_FIELDS)
        .find(|h| h.name == wanted)?;
    let raw = message
        .raw_message
        .get(header.offset_start as usize..header.offset_end as usize)?;
    let raw = raw.get(..MAX_VALUE_CHARS).unwrap_or(raw);
    let value = String::from_utf8_lossy(raw);
    Some(value.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// True when `message` has a field called `name` (even an empty one) among its first
/// [`MAX_FIELDS`] header fields.
pub(super) fn has_field(message: &Message<'_>, name: &str) -> bool {
    let wanted = HeaderName::from(name);
    message
        .headers()
        .iter()
        .take(MAX_FIELDS)
        .any(|h| h.name == wanted)
}

/// The bare `From` address (falling back to `Sender`).
pub(super) fn from_address(message: &Message<'_>) -> Option<String> {
    message
        .from()
        .and_then(first_address)
        .or_else(|| message.sender().and_then(first_address))
}

fn first_address(address: &Address<'_>) -> Option<String> {
    address
        .iter()
        .take(MAX_LIST_ITEMS)
        .find_map(|a| a.address.as_deref().and_then(normalize_address))
}

/// The addresses a message was delivered to, in the order `To`, `Cc`, `Delivered-To`,
/// `X-Original-To`, each once.
pub(super) fn recipients(message: &Message<'_>) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    let mut add = |address: Option<String>| {
        if let Some(address) = address
            && !found.contains(&address)
            && found.len() < MAX_LIST_ITEMS
        {
            found.push(address);
        }
    };
    for name in [HeaderName::To, HeaderName::Cc] {
        for value in message.header_values(name).take(MAX_LIST_ITEMS) {
            if let HeaderValue::Address(address) = value {
                for a in address.iter().take(MAX_LIST_ITEMS) {
                    add(a.address.as_deref().and_then(normalize_address));
                }
            }
        }
    }
    // These two are written by the receiving server, one address each, and mail-parser
    // keeps them as raw text.
    for name in ["Delivered-To", "X-Original-To"] {
        let wanted = HeaderName::from(name);
        for header in message
            .headers()
            .iter()
            .take(MAX_FIELDS)
            .filter(|h| h.name == wanted)
        {
            if let Some(text) = header.value.as_text() {
                add(extract_address(text));
            }
        }
    }
    found
}

/// The `Date` field as a point in time, in the sender's offset.
pub(super) fn date(message: &Message<'_>) -> Option<OffsetDateTime> {
    let date = message.date()?;
    if !date.is_valid() {
        return None;
    }
    let utc = OffsetDateTime::from_unix_timestamp(date.to_timestamp()).ok()?;
    let sign: i8 = if date.tz_before_gmt { -1 } else { 1 };
    let hours = i8::try_from(date.tz_hour).ok()?;
    let minutes = i8::try_from(date.tz_minute).ok()?;
    let offset = UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()?;
    Some(utc.to_offset(offset))
}

/// A Message-ID as `<id>`, whatever brackets and spaces it came with; `None` when empty.
pub(super) fn bracketed_id(id: &str) -> Option<String> {
    let id = clip(id)
        .trim()
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim();
    if id.is_empty() || id.contains(char::is_whitespace) {
        return None;
    }
    Some(format!("<{id}>"))
}

/// The Message-IDs of an `In-Reply-To` or `References` value.
pub(super) fn id_list(value: &HeaderValue<'_>) -> Vec<String> {
    let ids: Vec<&str> = match value {
        HeaderValue::Text(id) => vec![id.as_ref()],
        HeaderValue::TextList(ids) => ids.iter().map(Cow::as_ref).collect(),
        _ => Vec::new(),
    };
    ids.into_iter()
        .take(MAX_LIST_ITEMS)
        .filter_map(bracketed_id)
        .collect()
}

/// The Message-ID in a raw field value such as `<abc@example.com>` or `abc@example.com`.
pub(super) fn id_in(value: &str) -> Option<String> {
    let value = value.trim();
    match (value.find('<'), value.find('>')) {
        (Some(open), Some(close)) if open < close => bracketed_id(&value[open + 1..close]),
        _ => value.split_whitespace().next().and_then(bracketed_id),
    }
}

/// The address in a field value such as `Name <user@example.com>`, `<user@example.com>`,
/// `rfc822; user@example.com` or `mailto:user@example.com`, normalized.
pub(super) fn extract_address(value: &str) -> Option<String> {
    let value = clip(value);
    if let (Some(open), Some(close)) = (value.rfind('<'), value.rfind('>'))
        && open < close
        && let Some(address) = normalize_address(&value[open + 1..close])
    {
        return Some(address);
    }
    first_address_in(value)
}

/// The first thing in `text` that looks like an address, normalized.
pub(super) fn first_address_in(text: &str) -> Option<String> {
    addresses_in(text).next()
}

/// Everything in `text` that looks like an address (`local@domain.tld`), in order,
/// normalized. Linear in the length of `text`: each character is looked at a bounded
/// number of times, since local parts and domains cannot contain `@`.
pub(super) fn addresses_in(text: &str) -> impl Iterator<Item = String> + '_ {
    let bytes = text.as_bytes();
    bytes
        .iter()
        .enumerate()
        .filter(|&(_, &b)| b == b'@')
        .filter_map(move |(at, _)| {
            let start = bytes[..at]
                .iter()
                .rposition(|&b| !is_local_char(b))
                .map_or(0, |p| p + 1);
            let end = bytes[at + 1..]
                .iter()
                .position(|&b| !is_domain_char(b))
                .map_or(bytes.len(), |p| at + 1 + p);
            // Both ends stop at ASCII bytes, so these are character boundaries.
            let local = text[start..at].trim_start_matches('.');
            let domain = text[at + 1..end].trim_end_matches(['.', '-']);
            normalize_address(&format!("{local}@{domain}"))
        })
}

fn is_local_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-/=?^_`{|}~.".contains(&b)
}

fn is_domain_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
}

/// A bare address with its domain lowercased, or `None` when `raw` is not one: it needs a
/// local part, an `@` and a domain with a dot (or an address literal), and no spaces.
pub(super) fn normalize_address(raw: &str) -> Option<String> {
    let raw = raw.trim().trim_matches(|c| c == '"' || c == '\'');
    let raw = raw.strip_prefix("mailto:").unwrap_or(raw);
    let raw = raw.trim_start_matches('<').trim_end_matches('>').trim();
    if raw.len() > 320 || raw.contains(char::is_whitespace) {
        return None;
    }
    let (local, domain) = raw.rsplit_once('@')?;
    let domain = domain.trim_end_matches('.');
    let domain_ok = (domain.contains('.') && !domain.starts_with('.'))
        || (domain.starts_with('[') && domain.ends_with(']'));
    if local.is_empty() || !domain_ok || domain.contains(['@', '<', '>', ',', ';']) {
        return None;
    }
    Some(format!("{local}@{}", domain.to_ascii_lowercase()))
}

/// Most lines of a report we read, and most fields in one block of it.
const MAX_REPORT_LINES: usize = 5000;
const MAX_BLOCK_FIELDS: usize = 64;

/// The `Name: value` fields of a report (a `message/delivery-status` or
/// `message/feedback-report` part, or report fields pasted into a body), in blocks
/// separated by blank lines; names lowercased, folded lines joined, other lines skipped.
pub(super) fn field_blocks(text: &str) -> Vec<Vec<(String, String)>> {
    let mut blocks = Vec::new();
    let mut block: Vec<(String, String)> = Vec::new();
    let mut folding = false;
    for line in text.lines().take(MAX_REPORT_LINES) {
        if line.trim().is_empty() {
            if !block.is_empty() {
                blocks.push(std::mem::take(&mut block));
            }
            folding = false;
        } else if line.starts_with([' ', '\t']) {
            if folding
                && let Some((_, value)) = block.last_mut()
                && value.len() < MAX_VALUE_CHARS
            {
                value.push(' ');
                value.push_str(clip(line.trim()));
            }
        } else {
            folding = match report_field(line) {
                Some(field) if block.len() < MAX_BLOCK_FIELDS => {
                    block.push(field);
                    true
                }
                _ => false,
            };
        }
    }
    if !block.is_empty() {
        blocks.push(block);
    }
    blocks
}

/// `Name: value` with a name of letters, digits and hyphens.
fn report_field(line: &str) -> Option<(String, String)> {
    let (name, value) = line.split_once(':')?;
    let is_name = name.len() <= 40
        && name.as_bytes().first().is_some_and(u8::is_ascii_alphabetic)
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    is_name.then(|| (name.to_ascii_lowercase(), clip(value.trim()).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_bare_with_a_lowercase_domain() {
        assert_eq!(
            normalize_address(" <Reply+AbC@Example.COM> ").as_deref(),
            Some("Reply+AbC@example.com")
        );
        for (field, address) in [
            ("rfc822; kijitora@example.jp", Some("kijitora@example.jp")),
            (
                "Neko<mailto:mikeneko@example.co.jp>",
                Some("mikeneko@example.co.jp"),
            ),
            (
                "undisclosed recipient <redacted@comcast.net>",
                Some("redacted@comcast.net"),
            ),
            ("RFC822; @mx.example.org", None),
            ("Undisclosed Recipients", None),
        ] {
            assert_eq!(extract_address(field).as_deref(), address, "{field}");
        }
    }

    #[test]
    fn addresses_are_found_in_running_text() {
        let found: Vec<String> =
            addresses_in("said: 550 5.1.1 <a.b@x.example>... User unknown; also c@y.example.")
                .collect();
        assert_eq!(found, ["a.b@x.example", "c@y.example"]);
        assert_eq!(addresses_in("@@@ a@b @c.d").count(), 0);
    }

    #[test]
    fn message_ids_keep_their_brackets() {
        assert_eq!(bracketed_id("abc@x").as_deref(), Some("<abc@x>"));
        assert_eq!(bracketed_id("<abc@x>").as_deref(), Some("<abc@x>"));
        assert_eq!(id_in(" <abc@x> (comment)").as_deref(), Some("<abc@x>"));
        assert_eq!(
            id_in("ffff@example.net").as_deref(),
            Some("<ffff@example.net>")
        );
        assert_eq!(bracketed_id("  "), None);
    }
}
