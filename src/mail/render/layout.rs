//! A campaign's layout, prepared once: its HTML rendered with a marker in each per-copy
//! place and its CSS inlined, so each copy only fills the places and inlines its own content.

use super::*;
use std::sync::OnceLock;

use crate::config::Brand;

mod check;
pub use check::check_layout;
use check::problem;

/// A layout prepared once per campaign: its HTML rendered with a marker in each per-copy
/// place and its CSS inlined, so a copy only inlines its own content.
pub(super) struct Layout {
    /// The HTML with a marker in each per-copy place, by whether the copy is tracked (the
    /// open pixel and the hidden link) and which of its reader's links it shows: built
    /// when first needed (preparing builds the two the checks read).
    skeletons: [OnceLock<Skeleton>; 6],
    /// The layout's rules for content (`.content …`, outside at-rules, which inlining
    /// skips anyway), applied to each copy's content.
    css: String,
    /// The layout's HTML and text, compiled (`layout.html`, `layout.txt`).
    tera: Tera,
    look: ListLook,
    wrapped: Wrapped,
}

/// Which of a campaign copy's own links a copy shows: none (nobody's copy, a preview),
/// the reader's page only (the web version, which is itself the copy in a browser), both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shown {
    Nothing = 0,
    Page = 1,
    Both = 2,
}

impl Shown {
    fn of(reader: Option<&ReaderLinks>) -> Self {
        match reader {
            None => Self::Nothing,
            Some(links) if links.web_version.is_none() => Self::Page,
            Some(_) => Self::Both,
        }
    }
}

/// What is wrong with a layout: the part (`html` or `text`), the line where known, and
/// what is missing or wrong.
#[derive(Debug, Clone)]
pub struct LayoutProblem {
    pub part: &'static str,
    pub line: Option<u32>,
    pub reason: String,
}

impl std::fmt::Display for LayoutProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            // The reason may say the line already (Tera's own errors do).
            Some(line) if !self.reason.contains("line ") => {
                write!(f, "{}, line {line}: {}", self.part, self.reason)
            }
            _ => write!(f, "{}: {}", self.part, self.reason),
        }
    }
}

impl std::error::Error for LayoutProblem {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Slot {
    Subject,
    Preheader,
    Content,
    Email,
    UnsubscribeUrl,
    OpenPixelUrl,
    HiddenLinkUrl,
    /// A campaign copy's web version and its reader's own page (`/v/…`, `/me/…`): only
    /// campaigns have them, and a layout may leave them out.
    WebVersionUrl,
    SubscriptionUrl,
    /// Only while a layout is checked: where the postal address shows.
    PostalAddress,
}

pub(super) const SLOTS: [(Slot, &str); 10] = [
    (Slot::Subject, "subject"),
    (Slot::Preheader, "preheader"),
    (Slot::Content, "content"),
    (Slot::Email, "email"),
    (Slot::UnsubscribeUrl, "unsubscribe_url"),
    (Slot::OpenPixelUrl, "open_pixel_url"),
    (Slot::HiddenLinkUrl, "hidden_link_url"),
    (Slot::WebVersionUrl, "web_version_url"),
    (Slot::SubscriptionUrl, "subscription_url"),
    (Slot::PostalAddress, "postal_address"),
];

/// Private-use characters: nothing a layout or the CSS inliner writes contains them.
pub(super) const MARK_OPEN: char = '\u{E000}';
pub(super) const MARK_CLOSE: char = '\u{E001}';

pub(super) fn marker(name: &str) -> String {
    format!("{MARK_OPEN}{name}{MARK_CLOSE}")
}

pub(super) enum Piece {
    Fixed(String),
    Slot(Slot),
}

/// What a layout shows of the list besides the content: its name, the language of its
/// own words (the footer), the postal address, its look (the accent's colours and the
/// logo, as `brand`); taken from the owner's settings when a campaign is compiled.
#[derive(Clone, Debug)]
pub struct ListLook {
    pub list_name: String,
    pub language: Language,
    pub postal_address: Option<String>,
    /// The logo's URL absolute, as mail needs.
    pub brand: Brand,
}

impl ListLook {
    /// `postal_address` (text) and `postal_lines` (for HTML) in `context`.
    pub fn insert_postal_address(&self, context: &mut Context) {
        let lines: Vec<&str> = self
            .postal_address
            .as_deref()
            .map(|address| address.lines().collect())
            .unwrap_or_default();
        context.insert("postal_address", &self.postal_address);
        context.insert("postal_lines", &lines);
    }
}

pub(super) struct Skeleton {
    pieces: Vec<Piece>,
}

/// The class of the layout element the content goes into; the layout's rules for content
/// are written `.content …`.
pub(super) const CONTENT_CLASS: &str = "content";

impl Layout {
    pub(super) fn prepare(
        source: &LayoutSource,
        look: &ListLook,
        wrapped: Wrapped,
    ) -> Result<Self, LayoutProblem> {
        let mut tera = crate::templates::engine();
        for (part, name, text) in [
            ("html", "layout.html", &source.html),
            ("text", "layout.txt", &source.text),
        ] {
            tera.add_raw_template(name, text)
                .map_err(|err| problem(part, &err))?;
        }
        let mut layout = Self {
            skeletons: Default::default(),
            css: String::new(),
            tera,
            look: look.clone(),
            wrapped,
        };
        let (tracked, css) = layout.build(true, Shown::Both)?;
        let (untracked, _) = layout.build(false, Shown::Both)?;
        check::html_slots(source, &tracked, &untracked)?;
        layout.css = css;
        let _ = layout.skeletons[Self::index(true, Shown::Both)].set(tracked);
        let _ = layout.skeletons[Self::index(false, Shown::Both)].set(untracked);
        check::text_slots(&layout, source)?;
        Ok(layout)
    }

    fn index(tracked: bool, shown: Shown) -> usize {
        usize::from(tracked) * 3 + shown as usize
    }

    /// The skeleton for a copy so tracked and showing these of its reader's links.
    pub(super) fn skeleton(&self, tracked: bool, shown: Shown) -> Result<&Skeleton, LayoutProblem> {
        let slot = &self.skeletons[Self::index(tracked, shown)];
        if let Some(skeleton) = slot.get() {
            return Ok(skeleton);
        }
        let (built, _) = self.build(tracked, shown)?;
        Ok(slot.get_or_init(|| built))
    }

    /// Renders the HTML with a marker in each per-copy place and inlines its CSS; the
    /// skeleton and the layout's rules for content.
    fn build(&self, tracked: bool, shown: Shown) -> Result<(Skeleton, String), LayoutProblem> {
        let look = &self.look;
        let mut context = Context::new();
        context.insert("lang", look.language.code());
        context.insert("list_name", &look.list_name);
        context.insert("message", self.wrapped.as_str());
        look.insert_postal_address(&mut context);
        context.insert("brand", &look.brand);
        let campaign = self.wrapped == Wrapped::Campaign;
        for (slot, name) in SLOTS {
            match slot {
                Slot::OpenPixelUrl | Slot::HiddenLinkUrl => {
                    context.insert(name, &tracked.then(|| marker(name)));
                }
                Slot::WebVersionUrl => {
                    let shown = campaign && shown == Shown::Both;
                    context.insert(name, &shown.then(|| marker(name)));
                }
                Slot::SubscriptionUrl => {
                    let shown = campaign && shown != Shown::Nothing;
                    context.insert(name, &shown.then(|| marker(name)));
                }
                Slot::PostalAddress => {}
                _ => context.insert(name, &marker(name)),
            }
        }
        let html = self
            .tera
            .render("layout.html", &context)
            .map_err(|err| problem("html", &err))?;
        let css = content_rules(&style_sheets(&html));
        let inlined = inline_css(&html).map_err(|err| LayoutProblem {
            part: "html",
            line: None,
            reason: format!("{err:#}"),
        })?;
        let skeleton = Skeleton::split(&inlined).map_err(|err| LayoutProblem {
            part: "html",
            line: None,
            reason: format!("{err:#}"),
        })?;
        Ok((skeleton, css))
    }

    pub(super) fn text(
        &self,
        content: &str,
        email: &str,
        unsubscribe_url: &str,
        reader: Option<&ReaderLinks>,
    ) -> Result<String, tera::Error> {
        let mut context = Context::new();
        context.insert("lang", self.look.language.code());
        context.insert("list_name", &self.look.list_name);
        context.insert("message", self.wrapped.as_str());
        context.insert("postal_address", &self.look.postal_address);
        context.insert("content", content.trim_end());
        context.insert("email", email);
        context.insert("unsubscribe_url", unsubscribe_url);
        let campaign = self.wrapped == Wrapped::Campaign;
        let reader = reader.filter(|_| campaign);
        context.insert(
            "web_version_url",
            &reader.and_then(|r| r.web_version.as_ref()),
        );
        context.insert("subscription_url", &reader.map(|r| &r.subscription));
        self.tera.render("layout.txt", &context)
    }

    pub(super) fn fill(
        &self,
        personal: &Personalised,
        content: &str,
        content_text: &str,
        email: &str,
        copy: &CopySettings<'_>,
    ) -> Result<RenderedCopy, TemplateError> {
        let text = self
            .text(
                content_text,
                email,
                copy.unsubscribe_url,
                copy.reader.as_ref(),
            )
            .map_err(|err| TemplateError {
                field: "layout",
                reason: problem("text", &err).to_string(),
            })?;
        let pixel = copy.tracking.as_ref().and_then(|t| {
            let token = t.open_token.as_ref()?;
            Some(format!("{}/t/o/{token}", t.public_base))
        });
        // The web version (no open token) is read in a browser: no pixel, and no hidden
        // link for scanners either.
        let hidden_link = copy
            .tracking
            .as_ref()
            .filter(|t| t.open_token.is_some())
            .map(|t| format!("{}/t/c/{}", t.public_base, (t.click_token)(HIDDEN_LINK)));
        let skeleton = self
            .skeleton(pixel.is_some(), Shown::of(copy.reader.as_ref()))
            .map_err(|err| TemplateError {
                field: "layout",
                reason: err.to_string(),
            })?;
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
                Piece::Slot(Slot::WebVersionUrl) => {
                    let url = copy.reader.as_ref().and_then(|r| r.web_version.as_deref());
                    escape_into(&mut html, url.unwrap_or_default())
                }
                Piece::Slot(Slot::SubscriptionUrl) => {
                    let url = copy.reader.as_ref().map(|r| r.subscription.as_str());
                    escape_into(&mut html, url.unwrap_or_default())
                }
                Piece::Slot(Slot::PostalAddress) => escape_into(
                    &mut html,
                    self.look.postal_address.as_deref().unwrap_or_default(),
                ),
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
    pub(super) fn inline_content(&self, content: &str) -> anyhow::Result<String> {
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
    pub(super) fn split(html: &str) -> anyhow::Result<Self> {
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

    pub(super) fn count(&self, slot: Slot) -> usize {
        self.pieces
            .iter()
            .filter(|p| matches!(p, Piece::Slot(s) if *s == slot))
            .count()
    }

    pub(super) fn len(&self) -> usize {
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
pub(super) fn style_sheets(html: &str) -> String {
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
pub(super) fn content_rules(css: &str) -> String {
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
