//! Rendering a campaign for one recipient.
//!
//! A campaign's subject, preheader and body are compiled once (`CompiledCampaign`), checked
//! against a subscriber with no name and no attributes so that a template that could fail
//! for someone is refused when it is written, not discovered while sending. Per recipient:
//! the body is rendered (subscriber data HTML-escaped, and in Markdown kept out of the
//! Markdown altogether: see `placeholders`), Markdown becomes HTML, the layout wraps it,
//! the links the author wrote become signed click URLs, an open pixel and a hidden link
//! are added, the CSS is inlined, and a plain-text alternative with readable links is
//! derived from the HTML.
//!
//! The hidden link sits next to the pixel, in the layout: an empty `<a>` with
//! `display:none`, `aria-hidden` and no tab stop, so no person sees, hears or reaches it,
//! while a link scanner, which follows every URL in the HTML, does (see `crate::tracking`).
//! The text part is derived from the content only, never from the layout, so the hidden
//! link never shows there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde::Serialize;
use tera::{Context, Tera};

use super::links::trackable_links;
use super::placeholders;
use super::text::html_to_text;
use crate::domain::BodyFormat;
use crate::templates::Templates;
use crate::tracking::HIDDEN_LINK;

/// A template error, with the place and the reason, for the person writing the campaign.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct TemplateError {
    pub field: &'static str,
    pub reason: String,
}

/// What a campaign's author writes.
#[derive(Debug, Clone)]
pub struct CampaignContent {
    pub subject: String,
    pub body: String,
    pub format: BodyFormat,
    pub preheader: Option<String>,
    pub layout: String,
}

/// The person a copy is rendered for. A missing name is left undefined (not null), so
/// `{{ subscriber.name | default(value="friend") }}` works, and a template that uses the
/// name without a default is refused when it is written.
#[derive(Debug, Clone, Serialize)]
pub struct RecipientData {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub email: String,
    pub attributes: serde_json::Value,
}

/// Per-copy settings: where the links go and whether this copy is tracked.
pub struct CopySettings<'a> {
    pub unsubscribe_url: &'a str,
    /// `Some(base)` to rewrite links through `{base}/t/c/…` and add the pixel and the
    /// hidden link.
    pub tracking: Option<Tracking<'a>>,
}

pub struct Tracking<'a> {
    pub public_base: &'a str,
    pub open_token: String,
    /// Signs a click token for a link id (or for `HIDDEN_LINK`).
    pub click_token: &'a (dyn Fn(i64) -> String + Sync),
    /// The campaign's link ids by URL.
    pub links: &'a HashMap<String, i64>,
}

/// One recipient's copy.
#[derive(Debug, Clone)]
pub struct RenderedCopy {
    pub subject: String,
    pub html: String,
    pub text: String,
}

pub const LAYOUTS: [&str; 1] = ["default"];

/// The subject, preheader and body content of one recipient's copy, before the layout.
#[derive(Debug, Clone)]
pub struct Personalised {
    pub subject: String,
    preheader: String,
    /// The body as HTML (Markdown already converted), links not yet rewritten, in its
    /// top-level blocks (one block for an HTML body).
    blocks: Vec<String>,
}

impl Personalised {
    /// The trackable links of this copy, to register before tracking them.
    pub fn links(&self) -> Vec<String> {
        self.blocks
            .iter()
            .flat_map(|block| trackable_links(block))
            .map(|l| l.url)
            .collect()
    }
}

/// One block of content made ready for the message: CSS inlined, text derived. Blocks that
/// every recipient shares are made once; only personalised ones cost per copy.
struct FinishedBlock {
    html: String,
    text: String,
}

/// Distinct blocks kept per campaign. A body personalised in every paragraph stops filling
/// the cache at this size and is simply finished per copy.
const BLOCK_CACHE: usize = 1024;

pub struct CompiledCampaign {
    tera: Tera,
    format: BodyFormat,
    has_preheader: bool,
    list_name: String,
    layout: Arc<Layout>,
    blocks: Mutex<HashMap<String, Arc<FinishedBlock>>>,
}

impl CompiledCampaign {
    /// Parses the campaign's templates and renders them once for the emptiest possible
    /// subscriber, so every error surfaces now.
    pub fn compile(
        content: &CampaignContent,
        templates: Arc<Templates>,
        list_name: &str,
    ) -> Result<Self, TemplateError> {
        if !LAYOUTS.contains(&content.layout.as_str()) {
            return Err(TemplateError {
                field: "layout",
                reason: format!(
                    "unknown layout '{}'; available: {}",
                    content.layout,
                    LAYOUTS.join(", ")
                ),
            });
        }
        let mut tera = Tera::new();
        add(&mut tera, "subject", "subject.txt", &content.subject)?;
        match content.format {
            BodyFormat::Html => add(&mut tera, "body", "body.html", &content.body)?,
            // Values become inert tokens until the Markdown is parsed (see `placeholders`).
            BodyFormat::Markdown => {
                tera.set_escape_fn(placeholders::write_token);
                add(
                    &mut tera,
                    "body",
                    "body.html",
                    &placeholders::without_tokens(&content.body),
                )?;
            }
        }
        if let Some(preheader) = &content.preheader {
            add(&mut tera, "preheader", "preheader.txt", preheader)?;
        }
        let layout = Layout::prepare(&content.layout, templates, list_name).map_err(|err| {
            TemplateError {
                field: "layout",
                reason: format!("{err:#}"),
            }
        })?;
        let compiled = Self {
            tera,
            format: content.format,
            has_preheader: content.preheader.is_some(),
            list_name: list_name.to_string(),
            layout: Arc::new(layout),
            blocks: Mutex::new(HashMap::new()),
        };
        let nobody = RecipientData {
            name: None,
            email: "someone@example.com".into(),
            attributes: serde_json::json!({}),
        };
        compiled.personalise(&nobody)?;
        Ok(compiled)
    }

    fn context(&self, recipient: &RecipientData) -> Context {
        let mut context = Context::new();
        context.insert("subscriber", recipient);
        context.insert("list_name", &self.list_name);
        context
    }

    /// The links the body contains for this recipient (to register before tracking them).
    pub fn links_for(&self, recipient: &RecipientData) -> Result<Vec<String>, TemplateError> {
        Ok(self.personalise(recipient)?.links())
    }

    /// Renders the campaign's own templates for one recipient (the cheap, personal part).
    pub fn personalise(&self, recipient: &RecipientData) -> Result<Personalised, TemplateError> {
        let context = self.context(recipient);
        let render = |field: &'static str, name: &str| {
            self.tera
                .render(name, &context)
                .map_err(|err| TemplateError {
                    field,
                    reason: explain(&err),
                })
        };
        // Plain text, not escaped. In a Markdown campaign the `escape` filter writes tokens
        // here too: they read back as the value.
        let plain = |text: String| match self.format {
            BodyFormat::Markdown => placeholders::fill_text(&text),
            BodyFormat::Html => text,
        };
        let subject = one_line(&plain(render("subject", "subject.txt")?));
        let preheader = if self.has_preheader {
            one_line(&plain(render("preheader", "preheader.txt")?))
        } else {
            String::new()
        };
        let body = render("body", "body.html")?;
        let blocks = match self.format {
            BodyFormat::Html => vec![body],
            BodyFormat::Markdown => markdown_to_html_blocks(&body),
        };
        Ok(Personalised {
            subject,
            preheader,
            blocks,
        })
    }

    /// Puts a personalised copy into the layout: links rewritten, pixel added, CSS inlined,
    /// and the text part derived.
    pub fn finish(
        &self,
        personal: Personalised,
        email: &str,
        copy: &CopySettings<'_>,
    ) -> Result<RenderedCopy, TemplateError> {
        let mut html = String::new();
        let mut text = String::new();
        for block in &personal.blocks {
            let finished = self.finished_block(block).map_err(|err| TemplateError {
                field: "layout",
                reason: format!("{err:#}"),
            })?;
            match &copy.tracking {
                Some(tracking) => html.push_str(&rewrite_links(
                    &finished.html,
                    tracking,
                    copy.unsubscribe_url,
                )),
                None => html.push_str(&finished.html),
            }
            html.push('\n');
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&finished.text);
        }
        self.layout.fill(&personal, &html, &text, email, copy)
    }

    fn finished_block(&self, block: &str) -> anyhow::Result<Arc<FinishedBlock>> {
        if let Some(done) = self.blocks.lock().ok().and_then(|b| b.get(block).cloned()) {
            return Ok(done);
        }
        let done = Arc::new(FinishedBlock {
            html: self.layout.inline_content(block)?,
            // The text part shows the real destinations, so it reads well on its own.
            text: html_to_text(block),
        });
        if let Ok(mut blocks) = self.blocks.lock()
            && blocks.len() < BLOCK_CACHE
        {
            blocks.insert(block.to_string(), done.clone());
        }
        Ok(done)
    }

    pub fn render(
        &self,
        recipient: &RecipientData,
        copy: &CopySettings<'_>,
    ) -> Result<RenderedCopy, TemplateError> {
        let personal = self.personalise(recipient)?;
        self.finish(personal, &recipient.email, copy)
    }
}

/// A layout prepared once per campaign: its HTML rendered with a marker in each per-copy
/// place and its CSS inlined, so a copy only inlines its own content.
struct Layout {
    /// With the open pixel and the hidden link, and without them.
    tracked: Skeleton,
    untracked: Skeleton,
    /// The layout's rules for content (`.content …`, outside at-rules, which inlining
    /// skips anyway), applied to each copy's content.
    css: String,
    text_template: String,
    templates: Arc<Templates>,
    list_name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Subject,
    Preheader,
    Content,
    Email,
    UnsubscribeUrl,
    OpenPixelUrl,
    HiddenLinkUrl,
}

const SLOTS: [(Slot, &str); 7] = [
    (Slot::Subject, "subject"),
    (Slot::Preheader, "preheader"),
    (Slot::Content, "content"),
    (Slot::Email, "email"),
    (Slot::UnsubscribeUrl, "unsubscribe_url"),
    (Slot::OpenPixelUrl, "open_pixel_url"),
    (Slot::HiddenLinkUrl, "hidden_link_url"),
];

/// Private-use characters: nothing a layout or the CSS inliner writes contains them.
const MARK_OPEN: char = '\u{E000}';
const MARK_CLOSE: char = '\u{E001}';

fn marker(name: &str) -> String {
    format!("{MARK_OPEN}{name}{MARK_CLOSE}")
}

enum Piece {
    Fixed(String),
    Slot(Slot),
}

struct Skeleton {
    pieces: Vec<Piece>,
}

/// The class of the layout element the content goes into; the layout's rules for content
/// are written `.content …`.
const CONTENT_CLASS: &str = "content";

impl Layout {
    fn prepare(name: &str, templates: Arc<Templates>, list_name: &str) -> anyhow::Result<Self> {
        let html_template = format!("email/layouts/{name}.html");
        let skeleton = |tracked: bool| -> anyhow::Result<(Skeleton, String)> {
            let mut context = Context::new();
            context.insert("list_name", list_name);
            for (slot, name) in SLOTS {
                if matches!(slot, Slot::OpenPixelUrl | Slot::HiddenLinkUrl) {
                    context.insert(name, &tracked.then(|| marker(name)));
                } else {
                    context.insert(name, &marker(name));
                }
            }
            let html = templates.render(&html_template, &context)?;
            let css = content_rules(&style_sheets(&html));
            let inlined = inline_css(&html)?;
            Ok((Skeleton::split(&inlined)?, css))
        };
        let (tracked, css) = skeleton(true)?;
        let (untracked, _) = skeleton(false)?;
        anyhow::ensure!(
            tracked.count(Slot::Content) == 1 && untracked.count(Slot::Content) == 1,
            "the layout must show the content exactly once"
        );
        anyhow::ensure!(
            tracked.count(Slot::UnsubscribeUrl) >= 1,
            "the layout must show the unsubscribe link"
        );
        anyhow::ensure!(
            tracked.count(Slot::HiddenLinkUrl) == 1 && untracked.count(Slot::HiddenLinkUrl) == 0,
            "the layout must carry the hidden link exactly once, and only when tracking"
        );
        let layout = Self {
            tracked,
            untracked,
            css,
            text_template: format!("email/layouts/{name}.txt"),
            templates,
            list_name: list_name.to_string(),
        };
        layout.text("", "someone@example.com", "https://example.com/unsubscribe")?;
        Ok(layout)
    }

    fn text(&self, content: &str, email: &str, unsubscribe_url: &str) -> anyhow::Result<String> {
        let mut context = Context::new();
        context.insert("list_name", &self.list_name);
        context.insert("content", content.trim_end());
        context.insert("email", email);
        context.insert("unsubscribe_url", unsubscribe_url);
        self.templates.render(&self.text_template, &context)
    }

    fn fill(
        &self,
        personal: &Personalised,
        content: &str,
        content_text: &str,
        email: &str,
        copy: &CopySettings<'_>,
    ) -> Result<RenderedCopy, TemplateError> {
        let text = self
            .text(content_text, email, copy.unsubscribe_url)
            .map_err(|err| TemplateError {
                field: "layout",
                reason: format!("{err:#}"),
            })?;
        let pixel = copy
            .tracking
            .as_ref()
            .map(|t| format!("{}/t/o/{}", t.public_base, t.open_token));
        let hidden_link = copy
            .tracking
            .as_ref()
            .map(|t| format!("{}/t/c/{}", t.public_base, (t.click_token)(HIDDEN_LINK)));
        let skeleton = if pixel.is_some() {
            &self.tracked
        } else {
            &self.untracked
        };
        let mut html = String::with_capacity(skeleton.len() + content.len() + 512);
        for piece in &skeleton.pieces {
            match piece {
                Piece::Fixed(text) => html.push_str(text),
                Piece::Slot(Slot::Content) => html.push_str(content),
                Piece::Slot(Slot::Subject) => escape_into(&mut html, &personal.subject),
                Piece::Slot(Slot::Preheader) => escape_into(&mut html, &personal.preheader),
                Piece::Slot(Slot::Email) => escape_into(&mut html, email),
                Piece::Slot(Slot::UnsubscribeUrl) => escape_into(&mut html, copy.unsubscribe_url),
                Piece::Slot(Slot::OpenPixelUrl) => {
                    escape_into(&mut html, pixel.as_deref().unwrap_or_default())
                }
                Piece::Slot(Slot::HiddenLinkUrl) => {
                    escape_into(&mut html, hidden_link.as_deref().unwrap_or_default())
                }
            }
        }
        Ok(RenderedCopy {
            subject: personal.subject.clone(),
            html,
            text,
        })
    }

    /// Inlines the layout's CSS into the content, inside an element of the content's class
    /// so that the layout's `.content …` rules match as they do in the whole message.
    fn inline_content(&self, content: &str) -> anyhow::Result<String> {
        let wrapped = format!("<div class=\"{CONTENT_CLASS}\">{content}</div>");
        let inliner = css_inline::CSSInliner::options()
            .load_remote_stylesheets(false)
            .build();
        let inlined = inliner
            .inline_fragment(&wrapped, &self.css)
            .map_err(|err| anyhow::anyhow!("inlining the style sheet: {err}"))?;
        let inner = inlined
            .strip_prefix("<div")
            .and_then(|rest| rest.find('>').map(|end| &rest[end + 1..]))
            .and_then(|rest| rest.trim_end().strip_suffix("</div>"))
            .ok_or_else(|| anyhow::anyhow!("the inlined content lost its wrapper"))?;
        Ok(inner.to_string())
    }
}

impl Skeleton {
    fn split(html: &str) -> anyhow::Result<Self> {
        let mut pieces = Vec::new();
        let mut rest = html;
        while let Some(open) = rest.find(MARK_OPEN) {
            pieces.push(Piece::Fixed(rest[..open].to_string()));
            let after = &rest[open + MARK_OPEN.len_utf8()..];
            let close = after
                .find(MARK_CLOSE)
                .ok_or_else(|| anyhow::anyhow!("a marker in the layout was cut"))?;
            let name = &after[..close];
            let slot = SLOTS
                .iter()
                .find(|(_, n)| *n == name)
                .map(|(slot, _)| *slot)
                .ok_or_else(|| anyhow::anyhow!("unknown place '{name}' in the layout"))?;
            pieces.push(Piece::Slot(slot));
            rest = &after[close + MARK_CLOSE.len_utf8()..];
        }
        anyhow::ensure!(!rest.contains(MARK_CLOSE), "a marker in the layout was cut");
        pieces.push(Piece::Fixed(rest.to_string()));
        Ok(Self { pieces })
    }

    fn count(&self, slot: Slot) -> usize {
        self.pieces
            .iter()
            .filter(|p| matches!(p, Piece::Slot(s) if *s == slot))
            .count()
    }

    fn len(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Fixed(text) => text.len(),
                Piece::Slot(_) => 0,
            })
            .sum()
    }
}

/// The text of every `<style>` element.
fn style_sheets(html: &str) -> String {
    let lower = html.to_ascii_lowercase();
    let mut css = String::new();
    let mut from = 0;
    while let Some(open) = lower[from..].find("<style") {
        let Some(start) = lower[from + open..].find('>').map(|i| from + open + i + 1) else {
            break;
        };
        let Some(end) = lower[start..].find("</style").map(|i| start + i) else {
            break;
        };
        css.push_str(&html[start..end]);
        css.push('\n');
        from = end;
    }
    css
}

/// The top-level rules whose selectors mention the content class. Parsing only these for
/// every personalised block keeps inlining cheap.
fn content_rules(css: &str) -> String {
    let class = format!(".{CONTENT_CLASS}");
    let mut rules = String::new();
    let mut rest = css;
    while let Some(open) = rest.find('{') {
        let prelude = rest[..open].trim();
        // The matching close brace, counting nested blocks (at-rules hold rules).
        let mut depth = 0usize;
        let mut close = None;
        for (i, c) in rest[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        close = Some(open + i);
                        break;
                    }
                }
                _ => {}
            }
        }
        let Some(close) = close else { break };
        if !prelude.starts_with('@') && prelude.contains(&class) {
            rules.push_str(prelude);
            rules.push_str(&rest[open..=close]);
            rules.push('\n');
        }
        rest = &rest[close + 1..];
    }
    rules
}

/// HTML-escapes text for an element's content or a double-quoted attribute value (the
/// only quoting the inliner writes).
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            c => out.push(c),
        }
    }
}

fn add(
    tera: &mut Tera,
    field: &'static str,
    name: &str,
    source: &str,
) -> Result<(), TemplateError> {
    tera.add_raw_template(name, source)
        .map_err(|err| TemplateError {
            field,
            reason: explain(&err),
        })
}

/// Tera's error with its causes; the place reads "line L:C" rather than Tera's internal
/// template name.
fn explain(err: &tera::Error) -> String {
    let mut text = err.to_string();
    for name in ["subject.txt", "body.html", "preheader.txt"] {
        text = text.replace(&format!("--> {name}:"), "--> line ");
    }
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    if text.contains("Field `name` is not defined") {
        text.push_str(
            "\nNot every subscriber has a name: write {{ subscriber.name | default(value=\"friend\") }}",
        );
    } else if text.contains("is not defined") && text.contains("attributes") {
        text.push_str(
            "\nNot every subscriber has every attribute: give it a default, as in {{ subscriber.attributes.city | default(value=\"your town\") }}",
        );
    }
    text
}

/// Subjects and preheaders are one line: a line break there would break the header.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Markdown to HTML, one string per top-level block (heading, paragraph, list, …), with
/// the subscriber's values (tokens in `markdown`) put back in as text.
fn markdown_to_html_blocks(markdown: &str) -> Vec<String> {
    use pulldown_cmark::{Event, Options, Parser, TextMergeStream, html};
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_SMART_PUNCTUATION;
    let mut blocks = Vec::new();
    let mut events = Vec::new();
    let mut depth = 0usize;
    let parsed = TextMergeStream::new(Parser::new_ext(markdown, options));
    for event in parsed.map(placeholders::fill_event) {
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

fn inline_css(html: &str) -> anyhow::Result<String> {
    let inliner = css_inline::CSSInliner::options()
        .load_remote_stylesheets(false)
        .keep_style_tags(true)
        .build();
    inliner
        .inline(html)
        .map_err(|err| anyhow::anyhow!("inlining the style sheet: {err}"))
}

fn rewrite_links(html: &str, tracking: &Tracking<'_>, unsubscribe_url: &str) -> String {
    let mut out = String::with_capacity(html.len() + 512);
    let mut last = 0;
    for link in trackable_links(html) {
        if link.url == unsubscribe_url {
            continue;
        }
        let Some(id) = tracking.links.get(&link.url) else {
            continue;
        };
        out.push_str(&html[last..link.start]);
        out.push_str(tracking.public_base);
        out.push_str("/t/c/");
        out.push_str(&(tracking.click_token)(*id));
        last = link.end;
    }
    out.push_str(&html[last..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(subject: &str, body: &str) -> CampaignContent {
        CampaignContent {
            subject: subject.into(),
            body: body.into(),
            format: BodyFormat::Markdown,
            preheader: Some("A short look inside".into()),
            layout: "default".into(),
        }
    }

    fn compile(c: &CampaignContent) -> Result<CompiledCampaign, TemplateError> {
        CompiledCampaign::compile(
            c,
            Arc::new(Templates::load().unwrap()),
            "Corner Bakery News",
        )
    }

    #[test]
    fn a_broken_template_is_refused_with_its_place() {
        let err = compile(&content("Hello {{ subscriber.name", "Hi"))
            .err()
            .unwrap();
        assert_eq!(err.field, "subject");
        let err = compile(&content("Hi", "Line one\n\n{% if %}"))
            .err()
            .unwrap();
        assert_eq!(err.field, "body");
        assert!(err.reason.contains("line 3:7"), "{}", err.reason);
        let err = compile(&content("Hi", "{{ subscriber.attributes.city }}"))
            .err()
            .unwrap();
        assert_eq!(
            err.field, "body",
            "a value not every subscriber has needs a default"
        );
        assert!(
            err.reason
                .contains("{{ subscriber.attributes.city | default(value=\"your town\") }}"),
            "the refusal says how to fix it: {}",
            err.reason
        );
        let err = compile(&content("Hello {{ subscriber.name }}", "Hi"))
            .err()
            .unwrap();
        assert!(
            err.reason
                .contains("{{ subscriber.name | default(value=\"friend\") }}"),
            "the refusal says how to fix it: {}",
            err.reason
        );
        assert!(
            compile(&content(
                "Hi",
                "{{ subscriber.attributes.city | default(value=\"there\") }}"
            ))
            .is_ok()
        );
        assert!(
            compile(&content(
                "Hi {{ subscriber.name | default(value=\"friend\") }}",
                "Hi"
            ))
            .is_ok()
        );
    }

    #[test]
    fn subscriber_data_is_escaped_and_links_are_kept_exactly() {
        let compiled = compile(&content(
            "News for {{ subscriber.name | default(value=\"you\") }}",
            "Hello **{{ subscriber.name | default(value=\"friend\") }}**! See [the menu](https://bakery.example/menu?day=mon&lang=en#top).",
        ))
        .unwrap();
        let recipient = RecipientData {
            name: Some("<script>alert(1)</script>\r\nBcc: x".into()),
            email: "ann@example.com".into(),
            attributes: serde_json::json!({}),
        };
        let links = compiled.links_for(&recipient).unwrap();
        assert_eq!(
            links,
            vec!["https://bakery.example/menu?day=mon&lang=en#top".to_string()]
        );
        let ids: HashMap<String, i64> = links.iter().map(|l| (l.clone(), 7)).collect();
        let click = |id: i64| format!("click{id}");
        let copy = compiled
            .render(
                &recipient,
                &CopySettings {
                    unsubscribe_url: "https://news.example/unsubscribe/abc",
                    tracking: Some(Tracking {
                        public_base: "https://news.example",
                        open_token: "open".into(),
                        click_token: &click,
                        links: &ids,
                    }),
                },
            )
            .unwrap();
        assert!(!copy.subject.contains('\n') && !copy.subject.contains('\r'));
        assert!(copy.html.contains("&lt;script&gt;"));
        assert!(!copy.html.contains("<script>"));
        assert!(copy.html.contains("https://news.example/t/c/click7"));
        assert!(copy.html.contains("https://news.example/t/o/open"));
        // The hidden link, next to the pixel: a click token for no link of the campaign,
        // invisible, out of reach of the keyboard and of screen readers, and absent from the
        // text part.
        let hidden = r#"<a href="https://news.example/t/c/click0" aria-hidden="true" tabindex="-1" style="display:none;"#;
        assert!(copy.html.contains(hidden), "{}", copy.html);
        let anchor = &copy.html[copy.html.find(hidden).unwrap()..];
        let tag_end = anchor.find('>').unwrap();
        assert!(
            anchor[tag_end..].starts_with("></a>"),
            "the hidden link has no text: {anchor}"
        );
        assert!(!copy.text.contains("/t/c/"), "{}", copy.text);
        let untracked = compiled
            .render(
                &recipient,
                &CopySettings {
                    unsubscribe_url: "https://news.example/unsubscribe/abc",
                    tracking: None,
                },
            )
            .unwrap();
        assert!(!untracked.html.contains("/t/"), "{}", untracked.html);
        assert!(
            !untracked.html.contains("aria-hidden"),
            "{}",
            untracked.html
        );
        assert!(
            copy.html.contains("https://news.example/unsubscribe/abc"),
            "the unsubscribe link is not rewritten"
        );
        assert!(
            copy.text
                .contains("https://bakery.example/menu?day=mon&lang=en#top"),
            "{}",
            copy.text
        );
        assert!(copy.html.contains("A short look inside"));
    }

    #[test]
    fn shared_blocks_are_reused_and_personal_ones_stay_personal() {
        let compiled = compile(&content(
            "Hi",
            "# Hello {{ subscriber.name | default(value=\"friend\") }}\n\nThe same for everyone, [menu](https://bakery.example/menu).\n\n[Your page](https://bakery.example/u?e={{ subscriber.email }})",
        ))
        .unwrap();
        let copy = CopySettings {
            unsubscribe_url: "https://news.example/unsubscribe/abc",
            tracking: None,
        };
        let person = |name: &str| RecipientData {
            name: Some(name.into()),
            email: format!("{}@example.com", name.to_lowercase()),
            attributes: serde_json::json!({}),
        };
        let ann = compiled.render(&person("Ann"), &copy).unwrap();
        let bob = compiled.render(&person("Bob"), &copy).unwrap();
        for (mine, theirs, name, other) in [(&ann, &bob, "Ann", "Bob"), (&bob, &ann, "Bob", "Ann")]
        {
            assert!(
                mine.html.contains(&format!("Hello {name}</h1>")),
                "{}",
                mine.html
            );
            assert!(!mine.html.contains(&format!("Hello {other}")));
            assert!(
                mine.text.contains(&format!("# Hello {name}")),
                "{}",
                mine.text
            );
            // A value in an address is one percent-encoded part of it.
            let page = format!(
                "https://bakery.example/u?e={}%40example.com",
                name.to_lowercase()
            );
            assert!(
                mine.text.contains(&format!("Your page <{page}>")),
                "{}",
                mine.text
            );
            assert!(!theirs.text.contains(&page));
            // The layout's rules for content reach every block.
            assert!(
                mine.html.contains(r#"<h1 style="font-size: 26px;"#),
                "{}",
                mine.html
            );
            assert!(mine.html.contains("The same for everyone"));
            assert!(mine.text.contains("menu <https://bakery.example/menu>"));
            assert!(
                mine.text
                    .contains("Unsubscribe in one click: https://news.example/unsubscribe/abc")
            );
        }
    }

    /// A body using subscriber values in every place Markdown has: heading, emphasis, quote,
    /// list, table, code, raw HTML, a link's text, address and title.
    const EVERY_PLACE: &str = concat!(
        "# Hello {{ subscriber.name | default(value=\"friend\") }}\n\n",
        "Dear **{{ subscriber.name | default(value=\"friend\") }}**, from {{ subscriber.attributes.city | default(value=\"town\") }}.\n\n",
        "> {{ subscriber.attributes.city | default(value=\"town\") }}\n\n",
        "- {{ subscriber.name | default(value=\"friend\") }}\n\n",
        "| who | where |\n|---|---|\n| {{ subscriber.name | default(value=\"friend\") }} | {{ subscriber.attributes.city | default(value=\"town\") }} |\n\n",
        "`{{ subscriber.name | default(value=\"friend\") }}`\n\n",
        "<p title=\"{{ subscriber.name | default(value=\"friend\") }}\">{{ subscriber.name | default(value=\"friend\") }}</p>\n\n",
        "See [your offer](https://shop.example/offer?ref={{ subscriber.attributes.ref | default(value=\"none\") }}&src=mail) ",
        "and [the menu](https://shop.example/menu \"for {{ subscriber.name | default(value=\"friend\") }}\").\n",
    );

    /// What attackers write as a name or an attribute.
    const HOSTILE: [&str; 16] = [
        "[Win a prize](https://evil.example/p)",
        "![x](https://evil.example/i.png)",
        "<img src=x onerror=alert(1)>",
        "# Heading",
        "**bold** _em_ ~~gone~~",
        "`code`",
        "<https://evil.example>",
        "https://evil.example",
        "| a | b |",
        "[x]: https://evil.example",
        "[x]",
        "href=\"https://evil.example/q\" href='https://evil.example/r'",
        "line one\n\n# line two\n- item\n\n    indented code",
        "a  \nb\\\nc",
        "&lt;b&gt; &amp; &#x3C;",
        "\u{E002}\u{E100}\u{E003} }} {{ x }} {% raw %}",
    ];

    fn person(name: &str, city: &str, reference: &str) -> RecipientData {
        RecipientData {
            name: Some(name.into()),
            email: "ann@example.com".into(),
            attributes: serde_json::json!({ "city": city, "ref": reference }),
        }
    }

    fn untracked(compiled: &CompiledCampaign, person: &RecipientData) -> RenderedCopy {
        compiled
            .render(
                person,
                &CopySettings {
                    unsubscribe_url: "https://news.example/unsubscribe/abc",
                    tracking: None,
                },
            )
            .unwrap()
    }

    /// Each tag of `html`, in order, as its name (`p`, `/p`) and its attributes' text, read
    /// as a browser reads it: a quoted value is read whole, whatever it holds.
    fn tags_of(html: &str) -> Vec<(String, String)> {
        let mut tags = Vec::new();
        let mut at = 0;
        while let Some(found) = html[at..].find('<') {
            let start = at + found + 1;
            let name: String = html[start..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '/' || *c == '!')
                .collect();
            at = start;
            if !name
                .trim_start_matches('/')
                .starts_with(|c: char| c.is_ascii_alphabetic())
            {
                continue;
            }
            let mut quote = None;
            let mut end = html.len();
            for (i, c) in html[start..].char_indices() {
                match quote {
                    Some(q) if c == q => quote = None,
                    Some(_) => {}
                    None if c == '"' || c == '\'' => quote = Some(c),
                    None if c == '>' => {
                        end = start + i;
                        break;
                    }
                    None => {}
                }
            }
            tags.push((
                name.to_ascii_lowercase(),
                html[start + name.len()..end].to_string(),
            ));
            at = end;
        }
        tags
    }

    /// The element names of `html`, in order, opening and closing: its structure.
    fn tags(html: &str) -> Vec<String> {
        tags_of(html).into_iter().map(|(name, _)| name).collect()
    }

    /// The hosts every `href` and `src` of a tag in `html` points to.
    fn hosts(html: &str) -> Vec<String> {
        let mut hosts = Vec::new();
        for (_, attributes) in tags_of(html) {
            for attribute in [" href=\"", " src=\""] {
                for (at, _) in attributes.match_indices(attribute) {
                    let value: String = attributes[at + attribute.len()..]
                        .chars()
                        .take_while(|c| *c != '"')
                        .collect();
                    let host = url::Url::parse(&value.replace("&amp;", "&"))
                        .ok()
                        .and_then(|u| u.host_str().map(str::to_string))
                        .unwrap_or_else(|| format!("not absolute: {value}"));
                    hosts.push(host);
                }
            }
        }
        hosts
    }

    fn offer(reference: &str) -> String {
        const UNRESERVED_KEPT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
            .remove(b'-')
            .remove(b'.')
            .remove(b'_')
            .remove(b'~');
        format!(
            "https://shop.example/offer?ref={}&src=mail",
            percent_encoding::utf8_percent_encode(reference, UNRESERVED_KEPT)
        )
    }

    /// Checks one copy made with `value` everywhere against one made with plain words.
    fn assert_value_is_only_text(compiled: &CompiledCampaign, value: &str) {
        let plain = untracked(compiled, &person("Ann", "Lyon", "abc"));
        let hostile = person(value, value, value);
        let copy = untracked(compiled, &hostile);
        assert_eq!(
            tags(&copy.html),
            tags(&plain.html),
            "{value:?} changed the structure:\n{}",
            copy.html
        );
        assert!(
            hosts(&copy.html)
                .iter()
                .all(|h| h == "shop.example" || h == "news.example"),
            "{value:?} added a destination: {:?}",
            hosts(&copy.html)
        );
        assert_eq!(
            compiled.links_for(&hostile).unwrap(),
            vec![offer(value), "https://shop.example/menu".to_string()],
            "{value:?}: only the links the author wrote are registered"
        );
    }

    #[test]
    fn subscriber_values_in_markdown_read_as_the_text_typed() {
        let compiled = compile(&content("Hi", EVERY_PLACE)).unwrap();
        for value in HOSTILE {
            assert_value_is_only_text(&compiled, value);
        }
        let value = "[Win a prize](https://evil.example/p) ![x](https://evil.example/i.png) **bold** `code` <https://evil.example> # not a heading";
        let copy = untracked(&compiled, &person(value, "Lyon", "abc"));
        let escaped = value.replace('<', "&lt;").replace('>', "&gt;");
        assert!(
            copy.html.contains(&format!("Hello {escaped}</h1>")),
            "{}",
            copy.html
        );
        assert!(copy.html.contains(&format!("<strong>{escaped}</strong>")));
        assert!(copy.html.contains(&format!("<code>{escaped}</code>")));
        assert!(copy.html.contains(&format!("<li>{escaped}</li>")));
        assert!(copy.html.contains(&format!(";\">{escaped}</td>")));
        // (The serialiser escapes only `&` and `"` in an attribute: `<` there is text.)
        assert!(copy.html.contains(&format!("title=\"for {value}\"")));
        assert!(
            copy.text.contains(&format!("# Hello {value}")),
            "the text part shows what they typed: {}",
            copy.text
        );
        // A line break in an attribute is a space in the text, never a new block.
        let copy = untracked(&compiled, &person("Ann", "Lyon\n\n# Paris", "abc"));
        assert!(copy.html.contains("from Lyon\n\n# Paris."), "{}", copy.html);
        assert_eq!(copy.html.matches("<h1").count(), 1);
    }

    #[test]
    fn a_value_in_a_link_the_author_wrote_stays_one_part_of_its_address() {
        let compiled = compile(&content("Hi", EVERY_PLACE)).unwrap();
        let links = compiled
            .links_for(&person("Ann", "Lyon", "spring sale&src=evil#x"))
            .unwrap();
        assert_eq!(
            links[0],
            "https://shop.example/offer?ref=spring%20sale%26src%3Devil%23x&src=mail"
        );
        let links = compiled
            .links_for(&person("Ann", "Lyon", "ann-2024"))
            .unwrap();
        assert_eq!(links[0], "https://shop.example/offer?ref=ann-2024&src=mail");
        // The author's own link with only a placeholder as its address goes nowhere else.
        let compiled = compile(&content(
            "Hi",
            "[my site]({{ subscriber.attributes.ref | default(value=\"none\") }})",
        ))
        .unwrap();
        let hostile = person("Ann", "Lyon", "https://evil.example/p");
        assert!(compiled.links_for(&hostile).unwrap().is_empty());
        assert!(
            untracked(&compiled, &hostile)
                .html
                .contains("href=\"https%3A%2F%2Fevil.example%2Fp\"")
        );
    }

    #[test]
    fn html_bodies_keep_html_escaping() {
        let mut html = content(
            "Hi",
            "<h1>Hello {{ subscriber.name | default(value=\"friend\") }}</h1><p title=\"{{ subscriber.attributes.city | default(value=\"x\") }}\">{{ subscriber.attributes.city | default(value=\"x\") }}</p><p><a href=\"https://shop.example/offer?ref={{ subscriber.attributes.ref | default(value=\"none\") }}\">offer</a></p>",
        );
        html.format = BodyFormat::Html;
        let compiled = compile(&html).unwrap();
        let plain = untracked(&compiled, &person("Ann", "Lyon", "abc"));
        for value in HOSTILE {
            let hostile = person(value, value, "abc");
            let copy = untracked(&compiled, &hostile);
            assert_eq!(tags(&copy.html), tags(&plain.html), "{value:?}");
            assert_eq!(
                compiled.links_for(&hostile).unwrap(),
                vec!["https://shop.example/offer?ref=abc".to_string()]
            );
        }
        let copy = untracked(&compiled, &person("**Ann** [x](y)", "Lyon", "abc"));
        assert!(
            copy.html.contains("Hello **Ann** [x](y)</h1>"),
            "{}",
            copy.html
        );
    }

    #[test]
    fn subject_and_preheader_are_plain_text() {
        let mut campaign = content(
            "News for {{ subscriber.name | default(value=\"you\") }}",
            "Hi",
        );
        campaign.preheader =
            Some("Picked for {{ subscriber.attributes.city | default(value=\"you\") }}".into());
        let compiled = compile(&campaign).unwrap();
        let plain = untracked(&compiled, &person("Ann", "Lyon", "abc"));
        // (A value holding the private-use characters of a token reads back as that token
        // here: what it spells is as plain as what the person typed.)
        for value in HOSTILE.iter().filter(|v| !v.contains('\u{E002}')) {
            let copy = untracked(&compiled, &person(value, value, value));
            let line = one_line(value);
            assert_eq!(copy.subject, format!("News for {line}"));
            assert!(!copy.subject.contains(['\r', '\n']));
            assert_eq!(tags(&copy.html), tags(&plain.html), "{value:?}");
            let mut escaped = String::new();
            escape_into(&mut escaped, &format!("Picked for {line}"));
            assert!(copy.html.contains(&escaped), "{value:?}: {}", copy.html);
            assert!(
                !copy.text.contains("Picked for"),
                "the preheader is not in the text"
            );
        }
    }

    #[test]
    fn safe_escape_and_default_still_behave() {
        let compiled = compile(&content(
            "{{ subscriber.name | default(value=\"you\") | escape }}",
            "{{ subscriber.attributes.promo | default(value=\"**Fresh** bread\") | safe }}\n\n{{ subscriber.name | default(value=\"x\") | escape | upper }} and {{ subscriber.name | default(value=\"x\") | upper }}\n\n{{ subscriber.attributes.missing | default(value=\"*friend*\") }}",
        ))
        .unwrap();
        let mut ann = person("<b>Ann</b>", "Lyon", "abc");
        let copy = untracked(&compiled, &ann);
        assert_eq!(
            copy.subject, "<b>Ann</b>",
            "a subject shows the name as typed"
        );
        assert!(
            copy.html.contains("<strong>Fresh</strong> bread"),
            "safe text is Markdown the owner wrote: {}",
            copy.html
        );
        assert!(
            copy.html
                .contains("&lt;b&gt;Ann&lt;/b&gt; and &lt;B&gt;ANN&lt;/B&gt;"),
            "escape neither doubles nor drops the escaping: {}",
            copy.html
        );
        assert!(copy.html.contains(";\">*friend*</p>"), "{}", copy.html);
        ann.attributes["promo"] = "[owner's link](https://shop.example/x)".into();
        assert_eq!(
            compiled.links_for(&ann).unwrap(),
            vec!["https://shop.example/x".to_string()]
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

        #[test]
        fn no_value_adds_a_link_an_image_or_a_tag(
            value in "[\\[\\]()<>!#*_`~|\\\\&;:/=\"' a-z0-9.\n\u{E002}\u{E003}\u{E100}-]{0,40}"
        ) {
            let compiled = compile(&content("Hi", EVERY_PLACE)).unwrap();
            assert_value_is_only_text(&compiled, &value);
        }
    }
}
