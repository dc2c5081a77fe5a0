//! Readable text and report parts out of a parsed message, within fixed bounds.

use mail_parser::{Message, MessageParser, MessagePart, MimeHeaders, PartType};

use super::MAX_MIME_DEPTH;
use super::headers;

/// Most text we read from a message's body: enough for any notice or reply, and it bounds
/// the work of the line-by-line rules.
pub(super) const MAX_TEXT_BYTES: usize = 256 * 1024;

/// Most HTML we hand to the HTML-to-text converter.
const MAX_HTML_BYTES: usize = 512 * 1024;

/// HTML nested deeper than this is flattened by stripping tags instead: the converter
/// recurses per level, and a hostile message could nest thousands of elements.
const MAX_HTML_NESTING: usize = 200;

/// Most parts of one message we look at.
const MAX_PARTS: usize = 1000;

/// What the rules need from a message's body.
#[derive(Debug, Default)]
pub(super) struct Body {
    /// `report-type` of a top-level `multipart/report`, lowercased.
    pub report_type: Option<String>,
    /// Each `message/delivery-status` part, as text.
    pub delivery_status: Vec<String>,
    /// The `message/feedback-report` part, as text.
    pub feedback_report: Option<String>,
    /// The returned message (`message/rfc822` or `text/rfc822-headers`), if any.
    pub returned: Option<Returned>,
    /// A `message/disposition-notification` part: a read receipt (RFC 8098).
    pub read_receipt: bool,
    /// The readable text: the text parts of the message itself (not of a returned
    /// message), HTML converted to text, at most [`MAX_TEXT_BYTES`].
    pub text: String,
}

/// The header details of a message returned inside a bounce or complaint.
#[derive(Debug, Default, Clone)]
pub(super) struct Returned {
    pub message_id: Option<String>,
    pub to: Option<String>,
    /// `X-HmXmrOriginalRecipient`: Microsoft's feedback loop (JMRP) sends the reported
    /// message alone, with the complaining recipient in this field.
    pub reported_by: Option<String>,
}

impl Body {
    pub(super) fn of(message: &Message<'_>) -> Body {
        let mut body = Body {
            report_type: message
                .content_type()
                .filter(|ct| {
                    ct.ctype().eq_ignore_ascii_case("multipart")
                        && ct
                            .subtype()
                            .is_some_and(|s| s.eq_ignore_ascii_case("report"))
                })
                .and_then(|ct| ct.attribute("report-type"))
                .map(str::to_ascii_lowercase),
            text: readable_text(message),
            ..Body::default()
        };
        let mut visited = 0;
        body.visit(message, 0, 0, &mut visited);
        body
    }

    /// Walks the MIME tree from part `id`, depth first, up to [`MAX_MIME_DEPTH`] levels and
    /// [`MAX_PARTS`] parts; returned messages are read but not walked into.
    fn visit(&mut self, message: &Message<'_>, id: u32, depth: usize, visited: &mut usize) {
        *visited += 1;
        if *visited > MAX_PARTS || depth > MAX_MIME_DEPTH {
            return;
        }
        let Some(part) = message.part(id) else { return };
        let (ctype, subtype) = content_type(part);
        match (ctype.as_str(), subtype.as_str()) {
            ("multipart", _) => {
                if let Some(children) = part.sub_parts() {
                    for &child in children {
                        // A part listing itself (or an ancestor) cannot happen in
                        // mail-parser's output, but the depth bound stops it regardless.
                        self.visit(message, child, depth + 1, visited);
                    }
                }
            }
            ("message", "delivery-status" | "global-delivery-status")
                if self.delivery_status.len() < 8 =>
            {
                self.delivery_status.push(part_text(part));
            }
            ("message", "disposition-notification" | "global-disposition-notification") => {
                self.read_receipt = true;
            }
            ("message", "feedback-report") if self.feedback_report.is_none() => {
                self.feedback_report = Some(part_text(part));
            }
            ("message", "rfc822" | "global") if self.returned.is_none() => {
                self.returned = match &part.body {
                    PartType::Message(returned) => Some(returned_details(returned)),
                    _ => returned_from_headers(part.contents()),
                };
            }
            ("text" | "message", "rfc822-headers" | "global-headers")
                if self.returned.is_none() =>
            {
                self.returned = returned_from_headers(part.contents());
            }
            _ => {}
        }
    }
}

/// The lowercased type and subtype of a part (`text`/`plain` when it has none).
fn content_type(part: &MessagePart<'_>) -> (String, String) {
    match part.content_type() {
        Some(ct) => (
            ct.ctype().to_ascii_lowercase(),
            ct.subtype().unwrap_or_default().to_ascii_lowercase(),
        ),
        None => ("text".into(), "plain".into()),
    }
}

/// A part's decoded contents as text (lossy), at most [`MAX_TEXT_BYTES`].
fn part_text(part: &MessagePart<'_>) -> String {
    match &part.body {
        PartType::Text(text) | PartType::Html(text) => {
            headers::clip_to(text, MAX_TEXT_BYTES).to_string()
        }
        _ => {
            let bytes = part.contents();
            String::from_utf8_lossy(bytes.get(..MAX_TEXT_BYTES).unwrap_or(bytes)).into_owned()
        }
    }
}

fn returned_details(returned: &Message<'_>) -> Returned {
    Returned {
        message_id: returned.message_id().and_then(headers::bracketed_id),
        to: returned.to().and_then(|to| {
            to.iter()
                .find_map(|a| a.address.as_deref().and_then(headers::normalize_address))
        }),
        reported_by: returned
            .header_raw("X-HmXmrOriginalRecipient")
            .and_then(headers::extract_address),
    }
}

fn returned_from_headers(bytes: &[u8]) -> Option<Returned> {
    let bytes = bytes.get(..MAX_TEXT_BYTES).unwrap_or(bytes);
    let returned = MessageParser::default().parse_headers(bytes)?;
    Some(returned_details(&returned))
}

/// The text a person (or a robot's notice) wrote in the message itself: its text body
/// parts, or its HTML parts converted when there is no plain text; when MIME gave no body
/// (a broken boundary, say), the first text part of any kind.
fn readable_text(message: &Message<'_>) -> String {
    let mut text = String::new();
    let mut html = String::new();
    for part in message.text_bodies().take(MAX_PARTS) {
        match &part.body {
            PartType::Text(t) => push_capped(&mut text, t),
            PartType::Html(h) => push_capped(&mut html, h),
            _ => {}
        }
    }
    if text.trim().is_empty() && !html.trim().is_empty() {
        text = html_to_text(&html);
    }
    if text.trim().is_empty() {
        // With a boundary that never appears, mail-parser keeps the whole body as one
        // text part that is not listed as the body.
        let first_text = message
            .parts
            .iter()
            .take(MAX_PARTS)
            .find_map(|p| match &p.body {
                PartType::Text(t) => Some(t),
                _ => None,
            });
        if let Some(t) = first_text {
            push_capped(&mut text, t);
        }
    }
    headers::clip_to(&text, MAX_TEXT_BYTES).to_string()
}

fn push_capped(into: &mut String, more: &str) {
    if into.len() >= MAX_TEXT_BYTES {
        return;
    }
    if !into.is_empty() {
        into.push('\n');
    }
    into.push_str(headers::clip_to(
        more,
        MAX_TEXT_BYTES - into.len().min(MAX_TEXT_BYTES),
    ));
}

/// HTML as plain text, blockquotes as `> ` lines (so quoted replies can be trimmed like
/// plain ones), links as their text, lines unwrapped.
pub(super) fn html_to_text(html: &str) -> String {
    let html = headers::clip_to(html, MAX_HTML_BYTES);
    if nesting_depth(html) > MAX_HTML_NESTING {
        return strip_tags(html);
    }
    // The converter is not ours; a panic in it must not take the caller down.
    let converted = std::panic::catch_unwind(|| {
        html2text::config::plain_no_decorate()
            .allow_width_overflow()
            .no_link_wrapping()
            .string_from_read(html.as_bytes(), 100_000)
    });
    match converted {
        Ok(Ok(text)) => text,
        _ => strip_tags(html),
    }
}

/// Roughly how deep elements nest in `html`: opening tags count up, closing tags down.
/// Void elements and those whose end tag is optional (and so often left out) do not count.
fn nesting_depth(html: &str) -> usize {
    const NOT_COUNTED: [&str; 22] = [
        "br", "img", "hr", "meta", "link", "input", "area", "base", "col", "embed", "param",
        "source", "track", "wbr", "p", "li", "td", "th", "tr", "option", "dt", "dd",
    ];
    let bytes = html.as_bytes();
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut i = 0;
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        let start = i + offset + 1;
        let closing = bytes.get(start) == Some(&b'/');
        let name_start = if closing { start + 1 } else { start };
        let name_len = bytes[name_start..]
            .iter()
            .take(16)
            .take_while(|b| b.is_ascii_alphanumeric())
            .count();
        i = name_start + name_len;
        if name_len == 0 {
            continue;
        }
        let name = html[name_start..name_start + name_len].to_ascii_lowercase();
        if NOT_COUNTED.contains(&name.as_str()) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    deepest
}

/// HTML with its tags removed and the common entities decoded: the fallback when the
/// converter is not trusted with the input.
fn strip_tags(html: &str) -> String {
    let mut out = String::with_capacity(html.len().min(MAX_TEXT_BYTES));
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_quotes_become_quoted_lines() {
        let text = html_to_text(
            "<div>Hello</div><div class=gmail_quote>On Mon, Bob wrote:<blockquote>Hi</blockquote></div>",
        );
        assert!(text.contains("Hello"), "{text}");
        assert!(text.contains("> Hi"), "{text}");
    }

    #[test]
    fn deep_html_is_flattened_not_recursed() {
        let html = format!("{}deep{}", "<div>".repeat(50_000), "</div>".repeat(50_000));
        assert!(nesting_depth(&html) > MAX_HTML_NESTING);
        assert_eq!(html_to_text(&html).trim(), "deep");
        let shallow = "<p>a<p>b<br><div><span>c</span></div>";
        assert_eq!(nesting_depth(shallow), 2);
    }
}
