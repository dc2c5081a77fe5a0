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
use crate::domain::{BodyFormat, Language};
use crate::tracking::HIDDEN_LINK;
use layout::*;
pub use layout::{LayoutProblem, ListLook, check_layout};

mod layout;
mod markdown;
mod words;
use markdown::{markdown_blocks, markdown_to_html_blocks, own_addresses};
pub use words::page_words;

/// A template error, with the place and the reason, for the person writing the campaign.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct TemplateError {
    pub field: &'static str,
    pub reason: String,
}

impl TemplateError {
    /// The line of the field the reason names ("line 3:7"), if it names one.
    pub fn line(&self) -> Option<u32> {
        let at = self.reason.find("line ")?;
        let digits: String = self.reason[at + 5..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse().ok()
    }
}

/// A layout's text as the owner wrote it (or as hundred ships it).
#[derive(Debug, Clone)]
pub struct LayoutSource {
    pub name: String,
    pub html: String,
    pub text: String,
}

/// What a layout wraps: its templates can tell (`message`), to say why the mail came.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapped {
    Campaign,
    Confirmation,
    Welcome,
    Repermission,
}

impl Wrapped {
    pub const ALL: [Wrapped; 4] = [
        Self::Campaign,
        Self::Confirmation,
        Self::Welcome,
        Self::Repermission,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Campaign => "campaign",
            Self::Confirmation => "confirmation",
            Self::Welcome => "welcome",
            Self::Repermission => "repermission",
        }
    }
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
    /// A campaign copy's own links: its web version and its reader's page. `None` for
    /// previews and test sends, which are nobody's copy.
    pub reader: Option<ReaderLinks>,
}

/// Where a campaign copy's reader reads it in a browser and manages their subscription.
#[derive(Debug, Clone)]
pub struct ReaderLinks {
    /// `None` in the web version itself.
    pub web_version: Option<String>,
    pub subscription: String,
}

pub struct Tracking<'a> {
    pub public_base: &'a str,
    /// `None`: the web version, read in a browser, has no open pixel.
    pub open_token: Option<String>,
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
    /// The body as HTML, its links as the author wrote them (not tracked).
    pub fn content_html(&self) -> String {
        self.blocks.join("\n")
    }

    /// The preview line, as text.
    pub fn preheader(&self) -> &str {
        &self.preheader
    }

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
    language: Language,
    /// Values besides the subscriber's (a system message's links, say).
    values: Context,
    /// Those of `values` that are hundred's own links (see [`placeholders::fill_event`]).
    own_addresses: Vec<String>,
    layout: Arc<Layout>,
    blocks: Mutex<HashMap<String, Arc<FinishedBlock>>>,
}

impl CompiledCampaign {
    /// Parses the campaign's templates and renders them once for the emptiest possible
    /// subscriber, so every error surfaces now. The layout's own words (the footer) are in
    /// the look's language.
    pub fn compile(
        content: &CampaignContent,
        layout: &LayoutSource,
        look: &ListLook,
    ) -> Result<Self, TemplateError> {
        Self::compile_message(content, layout, look, Wrapped::Campaign, Context::new())
    }

    /// Like [`Self::compile`], for what else a layout wraps, with `values` its templates
    /// can show besides the subscriber's (`confirm_url`, …).
    pub fn compile_message(
        content: &CampaignContent,
        layout: &LayoutSource,
        look: &ListLook,
        wrapped: Wrapped,
        values: Context,
    ) -> Result<Self, TemplateError> {
        let mut tera = crate::templates::engine();
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
        let layout = Layout::prepare(layout, look, wrapped).map_err(|problem| TemplateError {
            field: "layout",
            reason: problem.to_string(),
        })?;
        let compiled = Self {
            tera,
            format: content.format,
            has_preheader: content.preheader.is_some(),
            list_name: look.list_name.clone(),
            language: look.language,
            own_addresses: own_addresses(&values),
            values,
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
        let mut context = self.values.clone();
        context.insert("subscriber", recipient);
        context.insert("list_name", &self.list_name);
        context.insert("lang", self.language.code());
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
            BodyFormat::Markdown => markdown_to_html_blocks(&body, &self.own_addresses),
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
mod tests;
