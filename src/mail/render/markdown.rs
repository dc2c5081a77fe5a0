//! Markdown to HTML blocks, with the subscriber's values put back as text (see
//! `placeholders`).

use tera::Context;

use super::placeholders;

/// The links hundred made among a message's `values`: the only values a Markdown link may
/// take as its whole address.
pub(super) fn own_addresses(values: &Context) -> Vec<String> {
    ["confirm_url", "keep_url", "unsubscribe_url"]
        .into_iter()
        .filter_map(|key| values.get(key).and_then(|value| value.as_str()))
        .map(str::to_string)
        .collect()
}

/// Markdown to HTML, one string per top-level block (heading, paragraph, list, …), with
/// the subscriber's values (tokens in `markdown`) put back in as text.
pub(super) fn markdown_to_html_blocks(markdown: &str, own: &[String]) -> Vec<String> {
    use pulldown_cmark::Options;
    markdown_blocks(
        markdown,
        own,
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_SMART_PUNCTUATION,
    )
}

/// Like [`markdown_to_html_blocks`], with these Markdown `options` (the page words keep
/// their punctuation as written: a translation's quotes are its own).
pub(super) fn markdown_blocks(
    markdown: &str,
    own: &[String],
    options: pulldown_cmark::Options,
) -> Vec<String> {
    use pulldown_cmark::{Event, Parser, TextMergeStream, html};
    let mut blocks = Vec::new();
    let mut events = Vec::new();
    let mut depth = 0usize;
    let parsed = TextMergeStream::new(Parser::new_ext(markdown, options));
    for event in parsed.map(|event| placeholders::fill_event(event, own)) {
        match &event {
            Event::Start(_) => depth += 1,
            Event::End(_) => depth = depth.saturating_sub(1),
            _ => {}
        }
        events.push(event);
        if depth == 0 {
            let mut block = String::new();
            html::push_html(&mut block, events.drain(..));
            let block = block.trim_end().to_string();
            if !block.is_empty() {
                blocks.push(block);
            }
        }
    }
    if !events.is_empty() {
        let mut block = String::new();
        html::push_html(&mut block, events.drain(..));
        blocks.push(block);
    }
    blocks
}
