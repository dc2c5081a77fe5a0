//! What a placeholder in a Markdown body turns into: the subscriber's text, never markup.
//!
//! Anyone can sign up with a name such as `[Win a prize](https://evil.example/p)`, so a
//! value put into a Markdown body must not reach the Markdown parser as Markdown. Escaping
//! it for Markdown by hand is fragile (which characters matter depends on where the value
//! lands: in a paragraph, a table, a code span, a link's address), so the value does not
//! take part in parsing at all. While the body is rendered, Tera's escape function (chosen
//! per body format) writes each value as an inert token: private-use characters that
//! Markdown reads as one plain word. Markdown is parsed with the tokens in place, so only
//! what the campaign's author wrote becomes structure (links, images, headings, …). Then
//! each token is replaced by its value in a form fit for where it landed: text in a
//! paragraph, heading, table cell or code span (the HTML writer escapes it), percent-encoded
//! inside a link or image address the author wrote (so `?ref={{ … }}` stays one query
//! value), HTML-escaped inside raw HTML the author wrote.
//!
//! A value marked `safe` skips the escape function, and with it all of this: `safe` hands
//! the value to Markdown as it is, for text the owner wrote themselves.

use std::borrow::Cow;
use std::io::Write;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use pulldown_cmark::{CodeBlockKind, CowStr, Event, Tag};

/// Starts and ends a value's token. Private-use characters: Markdown treats them as
/// letters, and nothing the author writes means anything with them (they are removed from
/// the author's source, so nothing written there is taken for a value).
const OPEN: char = '\u{E002}';
const CLOSE: char = '\u{E003}';
/// A value's bytes, one private-use character each (`BYTE + b`). Not hex or letters: case
/// filters (`upper`, `title`) applied after `escape` leave these untouched.
const BYTE: u32 = 0xE100;

/// Tera's escape function for Markdown bodies: writes the value as a token.
pub fn write_token(value: &str, out: &mut dyn Write) -> std::io::Result<()> {
    let mut token = String::with_capacity(value.len() * 3 + 6);
    token.push(OPEN);
    for byte in value.bytes() {
        token.push(char::from_u32(BYTE + u32::from(byte)).unwrap_or(char::REPLACEMENT_CHARACTER));
    }
    token.push(CLOSE);
    out.write_all(token.as_bytes())
}

/// The author's source without the token delimiters, so nothing written there is taken
/// for a value.
pub fn without_tokens(source: &str) -> Cow<'_, str> {
    if source.contains([OPEN, CLOSE]) {
        Cow::Owned(source.replace([OPEN, CLOSE], ""))
    } else {
        Cow::Borrowed(source)
    }
}

/// Characters kept as they are when a value goes into a URL: RFC 3986's unreserved ones.
/// Everything else is percent-encoded, so a value is one component (one query value, one
/// path segment) and cannot end it, start another, or change where the link goes.
const URL_COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The values in a subject or preheader, as plain text (the `escape` filter writes tokens
/// there too).
pub fn fill_text(text: &str) -> String {
    fill(text.into(), Place::Text).into_string()
}

/// How a value is written where its token landed.
#[derive(Clone, Copy)]
enum Place {
    /// Text the HTML writer escapes (paragraphs, headings, code, titles).
    Text,
    /// The address of a link or image the author wrote.
    Url,
    /// Raw HTML the author wrote: nothing escapes it after us.
    Html,
}

/// Puts the values back into one Markdown event, each as its place needs it. `own` are
/// the addresses hundred itself made for this message (a confirmation's link, the
/// unsubscribe link): only one of them may stand as a link's whole address.
pub fn fill_event<'a>(event: Event<'a>, own: &[String]) -> Event<'a> {
    match event {
        Event::Text(text) => Event::Text(fill(text, Place::Text)),
        Event::Code(code) => Event::Code(fill(code, Place::Text)),
        Event::Html(html) => Event::Html(fill(html, Place::Html)),
        Event::InlineHtml(html) => Event::InlineHtml(fill(html, Place::Html)),
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Link {
            link_type,
            dest_url: fill_address(dest_url, own),
            title: fill(title, Place::Text),
            id,
        }),
        Event::Start(Tag::Image {
            link_type,
            dest_url,
            title,
            id,
        }) => Event::Start(Tag::Image {
            link_type,
            dest_url: fill_address(dest_url, own),
            title: fill(title, Place::Text),
            id,
        }),
        Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => Event::Start(Tag::CodeBlock(
            CodeBlockKind::Fenced(fill(info, Place::Text)),
        )),
        // Anything else carries no text of its own with the extensions in use.
        other => other,
    }
}

/// A link's or image's address: a value that is the whole address and one of hundred's own
/// addresses for this message (`[Confirm]({{ confirm_url }})`) is the address; any other
/// value, a subscriber's above all, is one component of the address the author wrote
/// (`?ref={{ … }}`), so it never decides where a link goes.
fn fill_address<'a>(address: CowStr<'a>, own: &[String]) -> CowStr<'a> {
    let whole = address
        .strip_prefix(OPEN)
        .and_then(|rest| rest.strip_suffix(CLOSE))
        .filter(|inner| !inner.contains([OPEN, CLOSE]))
        .and_then(decode)
        .filter(|value| own.iter().any(|own| own == value) && is_web_address(value));
    match whole {
        Some(value) => value.into(),
        None => fill(address, Place::Url),
    }
}

fn is_web_address(value: &str) -> bool {
    let lower = value.get(..8).unwrap_or(value).to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && !value.chars().any(|c| c.is_whitespace() || c.is_control())
}

fn fill(text: CowStr<'_>, place: Place) -> CowStr<'_> {
    if !text.contains(OPEN) {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest: &str = &text;
    while let Some(start) = rest.find(OPEN) {
        out.push_str(&rest[..start]);
        let after = &rest[start + OPEN.len_utf8()..];
        match after
            .find(CLOSE)
            .and_then(|end| Some((decode(&after[..end])?, end)))
        {
            Some((value, end)) => {
                write_value(&mut out, &value, place);
                rest = &after[end + CLOSE.len_utf8()..];
            }
            // A token a filter cut short: what is left of it is inert text; drop its start.
            None => rest = after,
        }
    }
    out.push_str(rest);
    out.into()
}

/// A token's value, or `None` if it is not one (cut short, or not valid UTF-8).
fn decode(token: &str) -> Option<String> {
    let bytes = token
        .chars()
        .map(|c| u8::try_from(u32::from(c).checked_sub(BYTE)?).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok()
}

fn write_value(out: &mut String, value: &str, place: Place) {
    match place {
        Place::Text => out.push_str(value),
        Place::Url => out.extend(utf8_percent_encode(value, URL_COMPONENT)),
        Place::Html => {
            for c in value.chars() {
                match c {
                    '&' => out.push_str("&amp;"),
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    '"' => out.push_str("&quot;"),
                    '\'' => out.push_str("&#39;"),
                    c => out.push(c),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(value: &str) -> String {
        let mut out = Vec::new();
        write_token(value, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_token_holds_any_value_and_reads_back_per_place() {
        let value = "Zoë <b>[x](https://evil.example)</b> & \"co\"\n# next";
        assert!(
            !token(value).chars().any(|c| c.is_ascii()),
            "a token holds no character Markdown could read as markup"
        );
        let text = format!("Hello {}!", token(value));
        assert_eq!(
            fill(text.as_str().into(), Place::Text).as_ref(),
            format!("Hello {value}!")
        );
        assert_eq!(
            fill(
                format!("https://shop.example/?ref={}", token("a&b=c#d /é")).into(),
                Place::Url
            )
            .as_ref(),
            "https://shop.example/?ref=a%26b%3Dc%23d%20%2F%C3%A9"
        );
        assert_eq!(
            fill(
                format!("<p title=\"{}\">", token("\"><script>")).into(),
                Place::Html
            )
            .as_ref(),
            "<p title=\"&quot;&gt;&lt;script&gt;\">"
        );
    }

    #[test]
    fn broken_tokens_and_the_authors_own_delimiters_are_inert() {
        let cut = token("Annabel");
        let cut: String = cut.chars().take(4).collect();
        let filled = fill(format!("Hi {cut} there").into(), Place::Text);
        assert!(!filled.contains(OPEN), "{filled:?}");
        assert_eq!(without_tokens("a\u{E002}b\u{E003}c"), "abc");
        assert_eq!(without_tokens("plain"), "plain");
    }
}
