//! Rendering a campaign for one recipient.
//!
//! A campaign's subject, preheader and body are compiled once (`CompiledCampaign`), checked
//! against a subscriber with no name and no attributes so that a template that could fail
//! for someone is refused when it is written, not discovered while sending. Per recipient:
//! the body is rendered (subscriber data HTML-escaped), Markdown becomes HTML, the layout
//! wraps it, links become signed click URLs, an open pixel is added, the CSS is inlined,
//! and a plain-text alternative with readable links is derived from the HTML.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use tera::{Context, Tera};

use crate::domain::BodyFormat;
use crate::templates::Templates;

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
    /// `Some(base)` to rewrite links through `{base}/t/c/…` and add the pixel.
    pub tracking: Option<Tracking<'a>>,
}

pub struct Tracking<'a> {
    pub public_base: &'a str,
    pub open_token: String,
    /// Signs a click token for a link id.
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

pub struct CompiledCampaign {
    tera: Tera,
    format: BodyFormat,
    layout: String,
    has_preheader: bool,
    templates: Arc<Templates>,
    list_name: String,
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
        add(&mut tera, "body", "body.html", &content.body)?;
        if let Some(preheader) = &content.preheader {
            add(&mut tera, "preheader", "preheader.txt", preheader)?;
        }
        let compiled = Self {
            tera,
            format: content.format,
            layout: content.layout.clone(),
            has_preheader: content.preheader.is_some(),
            templates,
            list_name: list_name.to_string(),
        };
        let nobody = RecipientData {
            name: None,
            email: "someone@example.com".into(),
            attributes: serde_json::json!({}),
        };
        let context = compiled.context(&nobody);
        for (field, name) in [
            ("subject", "subject.txt"),
            ("body", "body.html"),
            ("preheader", "preheader.txt"),
        ] {
            if field == "preheader" && !compiled.has_preheader {
                continue;
            }
            compiled
                .tera
                .render(name, &context)
                .map_err(|err| TemplateError {
                    field,
                    reason: explain(&err),
                })?;
        }
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
        let (_, content, _) = self.render_parts(recipient)?;
        Ok(trackable_links(&content)
            .into_iter()
            .map(|l| l.url)
            .collect())
    }

    fn render_parts(
        &self,
        recipient: &RecipientData,
    ) -> Result<(String, String, String), TemplateError> {
        let context = self.context(recipient);
        let render = |field: &'static str, name: &str| {
            self.tera
                .render(name, &context)
                .map_err(|err| TemplateError {
                    field,
                    reason: explain(&err),
                })
        };
        let subject = one_line(&render("subject", "subject.txt")?);
        let preheader = if self.has_preheader {
            one_line(&render("preheader", "preheader.txt")?)
        } else {
            String::new()
        };
        let body = render("body", "body.html")?;
        let content = match self.format {
            BodyFormat::Html => body,
            BodyFormat::Markdown => markdown_to_html(&body),
        };
        Ok((subject, content, preheader))
    }

    pub fn render(
        &self,
        recipient: &RecipientData,
        copy: &CopySettings<'_>,
    ) -> Result<RenderedCopy, TemplateError> {
        let (subject, content, preheader) = self.render_parts(recipient)?;
        let mut context = Context::new();
        context.insert("list_name", &self.list_name);
        context.insert("subject", &subject);
        context.insert("preheader", &preheader);
        context.insert("content", &content);
        context.insert("unsubscribe_url", copy.unsubscribe_url);
        context.insert("email", &recipient.email);
        let pixel = copy
            .tracking
            .as_ref()
            .map(|t| format!("{}/t/o/{}", t.public_base, t.open_token));
        context.insert("open_pixel_url", &pixel);
        let layout = format!("email/layouts/{}.html", self.layout);
        let html = self
            .templates
            .render(&layout, &context)
            .map_err(|err| TemplateError {
                field: "layout",
                reason: format!("{err:#}"),
            })?;
        // The text part shows the real destinations, so it reads well on its own.
        let text = html_to_text(&html);
        let html = match &copy.tracking {
            Some(tracking) => rewrite_links(&html, tracking, copy.unsubscribe_url),
            None => html,
        };
        let html = inline_css(&html);
        Ok(RenderedCopy {
            subject,
            html,
            text,
        })
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
    text
}

/// Subjects and preheaders are one line: a line break there would break the header.
fn one_line(text: &str) -> String {
    text.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn markdown_to_html(markdown: &str) -> String {
    use pulldown_cmark::{Options, Parser, html};
    let options =
        Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_SMART_PUNCTUATION;
    let mut out = String::with_capacity(markdown.len() * 3 / 2);
    html::push_html(&mut out, Parser::new_ext(markdown, options));
    out
}

fn html_to_text(html: &str) -> String {
    html2text::config::plain()
        .link_footnotes(true)
        .no_link_wrapping()
        .string_from_read(html.as_bytes(), 78)
        .unwrap_or_default()
}

fn inline_css(html: &str) -> String {
    let inliner = css_inline::CSSInliner::options()
        .load_remote_stylesheets(false)
        .keep_style_tags(true)
        .build();
    inliner.inline(html).unwrap_or_else(|_| html.to_string())
}

/// A link found in HTML: where its URL sits in the source, and the URL itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundLink {
    pub start: usize,
    pub end: usize,
    pub url: String,
}

/// Every `href` to an http(s) URL, with its attribute value unescaped.
pub fn trackable_links(html: &str) -> Vec<FoundLink> {
    let lower = html.to_ascii_lowercase();
    let mut links = Vec::new();
    let mut from = 0;
    while let Some(found) = lower[from..].find("href=") {
        let attr = from + found + 5;
        from = attr;
        let Some(quote) = html[attr..]
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
        else {
            continue;
        };
        let value_start = attr + 1;
        let Some(len) = html[value_start..].find(quote) else {
            break;
        };
        let value_end = value_start + len;
        let url = unescape_attribute(&html[value_start..value_end]);
        let lower_url = url.to_ascii_lowercase();
        if lower_url.starts_with("http://") || lower_url.starts_with("https://") {
            links.push(FoundLink {
                start: value_start,
                end: value_end,
                url,
            });
        }
        from = value_end;
    }
    links
}

fn unescape_attribute(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
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
    fn text_keeps_long_links_whole() {
        let html = r#"<p>Hi</p><p><a href="https://news.example/unsubscribe/AQGiFM6LxHctgD-9Q0gdAJ8AAAAAaxCaYtDxKG5L1g7gitOxf6p2DPQ">Unsubscribe</a> now</p>"#;
        let text = html_to_text(html);
        assert!(text.contains("https://news.example/unsubscribe/AQGiFM6LxHctgD-9Q0gdAJ8AAAAAaxCaYtDxKG5L1g7gitOxf6p2DPQ"), "{text}");
    }

    #[test]
    fn finds_links_in_either_quote_style() {
        let html = r#"<a href="https://a.example/x?a=1&amp;b=2">a</a> <A HREF='http://b.example'>b</A> <a href="mailto:x@y.z">m</a>"#;
        let urls: Vec<String> = trackable_links(html).into_iter().map(|l| l.url).collect();
        assert_eq!(
            urls,
            vec!["https://a.example/x?a=1&b=2", "http://b.example"]
        );
    }
}
