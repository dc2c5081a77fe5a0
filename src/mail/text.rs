//! The plain-text alternative of an HTML message: html2text's plain rendering, with each
//! link's address written right after its text (`the menu <https://…>`) instead of as a
//! numbered footnote, so the text of one part of a message does not depend on the links in
//! another, and lines left unwrapped (mail clients wrap them to the reader's screen, and a
//! long address is never broken).

use html2text::render::TextDecorator;

/// Lines longer than this are wrapped; no paragraph of a newsletter gets there.
const NO_WRAP: usize = 100_000;

pub fn html_to_text(html: &str) -> String {
    let text = html2text::config::with_decorator(ReadableLinks::default())
        .do_decorate()
        .link_footnotes(false)
        .no_link_wrapping()
        .allow_width_overflow()
        .string_from_read(html.as_bytes(), NO_WRAP)
        .unwrap_or_default();
    // A link whose text is its address reads once.
    let mut text = text;
    for link in super::links::trackable_links(html) {
        let twice = format!("{url} <{url}>", url = link.url);
        if text.contains(&twice) {
            text = text.replace(&twice, &link.url);
        }
    }
    text
}

/// html2text's plain decorations, with links as `text <address>`.
#[derive(Clone, Default)]
struct ReadableLinks {
    open: Vec<String>,
}

impl TextDecorator for ReadableLinks {
    type Annotation = ();

    fn decorate_link_start(&mut self, url: &str) -> (String, ()) {
        self.open.push(url.to_string());
        (String::new(), ())
    }

    fn decorate_link_end(&mut self) -> String {
        match self.open.pop() {
            Some(url) if url.starts_with("http://") || url.starts_with("https://") => {
                format!(" <{url}>")
            }
            Some(url) if url.starts_with("mailto:") => format!(" <{url}>"),
            _ => String::new(),
        }
    }

    fn decorate_em_start(&self) -> (String, ()) {
        (String::new(), ())
    }

    fn decorate_em_end(&self) -> String {
        String::new()
    }

    fn decorate_strong_start(&self) -> (String, ()) {
        (String::new(), ())
    }

    fn decorate_strong_end(&self) -> String {
        String::new()
    }

    fn decorate_strikeout_start(&self) -> (String, ()) {
        (String::new(), ())
    }

    fn decorate_strikeout_end(&self) -> String {
        String::new()
    }

    fn decorate_code_start(&self) -> (String, ()) {
        (String::new(), ())
    }

    fn decorate_code_end(&self) -> String {
        String::new()
    }

    fn decorate_preformat_first(&self) {}

    fn decorate_preformat_cont(&self) {}

    fn decorate_image(&mut self, _src: &str, title: &str) -> (String, ()) {
        if title.is_empty() {
            (String::new(), ())
        } else {
            (format!("[{title}]"), ())
        }
    }

    fn header_prefix(&self, level: usize) -> String {
        "#".repeat(level) + " "
    }

    fn quote_prefix(&self) -> String {
        "> ".to_string()
    }

    fn unordered_item_prefix(&self) -> String {
        "* ".to_string()
    }

    fn ordered_item_prefix(&self, i: i64) -> String {
        format!("{i}. ")
    }

    fn make_subblock_decorator(&self) -> Self {
        Self::default()
    }
}

#[cfg(test)]
mod tests {
    use super::html_to_text;

    #[test]
    fn links_read_inline_and_whole() {
        let long = "https://news.example/unsubscribe/AQGiFM6LxHctgD-9Q0gdAJ8AAAAAaxCaYtDxKG5L1g7gitOxf6p2DPQ?a=1&b=2";
        let html = format!(
            r#"<h1>Hi</h1><p>See <a href="{}">the menu</a> or <a href="https://a.example/x">https://a.example/x</a>, <strong>today</strong>.</p><ul><li><a href="mailto:x@y.example">write</a></li></ul>"#,
            long.replace('&', "&amp;")
        );
        let text = html_to_text(&html);
        assert!(text.contains(&format!("the menu <{long}>")), "{text}");
        assert!(
            text.contains("or https://a.example/x, **today**."),
            "{text}"
        );
        assert!(text.contains("# Hi"), "{text}");
        assert!(text.contains("* write <mailto:x@y.example>"), "{text}");
    }
}
