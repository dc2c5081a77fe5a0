//! The templates an owner edits in the app: the email layouts, the system messages and the
//! words of the public pages. Each has a name (`layout/default`, `message/welcome`,
//! `page/subscribe`), parts (a layout's HTML and text, a message's subject and body, a
//! page's words) and, for those hundred ships, a default kept as files under `templates/`.
//! What the owner saved is kept in the database with every version (`store::templates`);
//! [`OwnerTemplates`] is the latest of each, as every instance holds it.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use time::OffsetDateTime;

use super::TEMPLATE_FILES;

/// What a template is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TemplateKind {
    /// Wraps a campaign or a system message: header, footer, unsubscribe link, address.
    Layout,
    /// A message hundred sends by itself: subject and Markdown body, wrapped in the layout.
    Message,
    /// The words on a public page, in Markdown.
    Page,
}

/// One part of a template, as the editor and the API name it.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Part {
    pub key: &'static str,
    pub label: &'static str,
}

const LAYOUT_PARTS: &[Part] = &[
    Part {
        key: "html",
        label: "HTML",
    },
    Part {
        key: "text",
        label: "Plain text",
    },
];
const MESSAGE_PARTS: &[Part] = &[
    Part {
        key: "subject",
        label: "Subject",
    },
    Part {
        key: "body",
        label: "Body (Markdown)",
    },
];
const PAGE_PARTS: &[Part] = &[Part {
    key: "body",
    label: "Words (Markdown)",
}];

impl TemplateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Layout => "layout",
            Self::Message => "message",
            Self::Page => "page",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "layout" => Some(Self::Layout),
            "message" => Some(Self::Message),
            "page" => Some(Self::Page),
            _ => None,
        }
    }

    /// Its parts, in the order the editor shows them.
    pub fn parts(self) -> &'static [Part] {
        match self {
            Self::Layout => LAYOUT_PARTS,
            Self::Message => MESSAGE_PARTS,
            Self::Page => PAGE_PARTS,
        }
    }
}

/// A value a template can show, and what it is.
pub type Placeholder = (&'static str, &'static str);

const PERSON: &[Placeholder] = &[
    (
        "subscriber.name",
        "the person's name; not everyone gives one: {% if subscriber.name %}…{% endif %}",
    ),
    ("subscriber.email", "the person's address"),
    (
        "subscriber.attributes.KEY",
        "an attribute from an import; give it a default",
    ),
    ("list_name", "the list's name (Settings)"),
    ("unsubscribe_url", "their one-click unsubscribe link"),
    ("t(key=\"…\")", "a shipped sentence in the list's language"),
];

/// A template hundred ships.
#[derive(Debug)]
pub struct Shipped {
    pub name: &'static str,
    pub label: &'static str,
    pub meaning: &'static str,
    /// The file under `templates/` each part's default is in.
    pub files: &'static [(&'static str, &'static str)],
    /// What it can show besides the values every template of its kind has.
    pub placeholders: &'static [Placeholder],
}

pub const SHIPPED: &[Shipped] = &[
    Shipped {
        name: "layout/default",
        label: "Default layout",
        meaning: "Wraps every campaign that picks it and every system message: the logo or list name, the footer with the unsubscribe link and the postal address.",
        files: &[
            ("html", "email/layouts/default.html"),
            ("text", "email/layouts/default.txt"),
        ],
        placeholders: &[],
    },
    Shipped {
        name: "message/confirmation",
        label: "Confirmation message",
        meaning: "Asks a new subscriber to confirm (double opt-in). Not a list message: no unsubscribe headers.",
        files: &[
            ("subject", "email/messages/confirmation.subject.txt"),
            ("body", "email/messages/confirmation.md"),
        ],
        placeholders: &[
            ("confirm_url", "the link that confirms the subscription"),
            ("valid_days", "how many days the link works"),
            ("consent_text", "what they agree to (Settings)"),
        ],
    },
    Shipped {
        name: "message/welcome",
        label: "Welcome message",
        meaning: "The first message after someone confirms.",
        files: &[
            ("subject", "email/messages/welcome.subject.txt"),
            ("body", "email/messages/welcome.md"),
        ],
        placeholders: &[],
    },
    Shipped {
        name: "message/repermission",
        label: "Re-permission message",
        meaning: "Asks a dormant subscriber whether they still want the list.",
        files: &[
            ("subject", "email/messages/repermission.subject.txt"),
            ("body", "email/messages/repermission.md"),
        ],
        placeholders: &[
            ("keep_url", "the link that keeps them on the list"),
            ("answer_by", "the date after which they may be dropped"),
        ],
    },
    Shipped {
        name: "page/subscribe",
        label: "Signup page",
        meaning: "The words under the signup page's heading, above the form.",
        files: &[("body", "web/words/subscribe.md")],
        placeholders: &[],
    },
    Shipped {
        name: "page/thanks",
        label: "Thanks page",
        meaning: "Shown after someone signs up: what happens next.",
        files: &[("body", "web/words/thanks.md")],
        placeholders: &[],
    },
    Shipped {
        name: "page/confirmed",
        label: "Confirmed page",
        meaning: "Shown when someone confirms their subscription.",
        files: &[("body", "web/words/confirmed.md")],
        placeholders: &[],
    },
    Shipped {
        name: "page/unsubscribed",
        label: "Unsubscribed page",
        meaning: "Shown after someone unsubscribes, above the button to subscribe again.",
        files: &[("body", "web/words/unsubscribed.md")],
        placeholders: &[("email", "the address that was unsubscribed")],
    },
    Shipped {
        name: "page/keep",
        label: "Keep page",
        meaning: "The re-permission link's page, above the button to keep receiving the list.",
        files: &[("body", "web/words/keep.md")],
        placeholders: &[("email", "the address the list keeps going to")],
    },
];

/// The values every template of a kind can show.
pub fn common_placeholders(kind: TemplateKind) -> &'static [Placeholder] {
    match kind {
        TemplateKind::Message => PERSON,
        TemplateKind::Layout => &[
            (
                "content",
                "the campaign's or message's body, once: {{ content | safe }}",
            ),
            ("subject", "the subject"),
            ("preheader", "the preview line"),
            ("email", "the recipient's address"),
            ("unsubscribe_url", "the unsubscribe link, once"),
            (
                "postal_address",
                "the postal address (Settings), once; postal_lines is it line by line",
            ),
            (
                "open_pixel_url",
                "the open pixel, once, inside {% if open_pixel_url %}",
            ),
            (
                "hidden_link_url",
                "the hidden link for scanners, once, inside {% if hidden_link_url %}",
            ),
            (
                "web_version_url",
                "a campaign copy's \"View in your browser\", inside {% if web_version_url %}",
            ),
            (
                "subscription_url",
                "the reader's own page, inside {% if subscription_url %}",
            ),
            ("list_name", "the list's name"),
            (
                "brand",
                "brand.accent, brand.accent_text, brand.logo.url, …",
            ),
            (
                "message",
                "what it wraps: campaign, confirmation, welcome or repermission",
            ),
            ("lang", "the language code"),
        ],
        TemplateKind::Page => &[
            ("list_name", "the list's name"),
            ("t(key=\"…\")", "a shipped sentence in the list's language"),
        ],
    }
}

/// The longest name an owner's layout can have.
pub const MAX_LAYOUT_NAME: usize = 40;

/// A template's name, checked: a shipped one, or `layout/NAME` for a layout the owner adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateName {
    kind: TemplateKind,
    full: String,
}

impl TemplateName {
    /// `None` when no such template exists or can be made: only layouts can be added, with
    /// names of lower-case letters, digits and dashes.
    pub fn parse(full: &str) -> Option<Self> {
        let (kind, name) = full.split_once('/')?;
        let kind = TemplateKind::parse(kind)?;
        let made_up = kind == TemplateKind::Layout
            && !name.is_empty()
            && name.len() <= MAX_LAYOUT_NAME
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !name.starts_with('-');
        (made_up || shipped(full).is_some()).then(|| Self {
            kind,
            full: full.to_string(),
        })
    }

    /// The layout called `name`.
    pub fn layout(name: &str) -> Option<Self> {
        Self::parse(&format!("layout/{name}"))
    }

    pub fn kind(&self) -> TemplateKind {
        self.kind
    }

    pub fn as_str(&self) -> &str {
        &self.full
    }

    /// The part after the kind: `default` in `layout/default`.
    pub fn short(&self) -> &str {
        self.full.split_once('/').map_or("", |(_, name)| name)
    }

    pub fn shipped(&self) -> Option<&'static Shipped> {
        shipped(&self.full)
    }

    pub fn label(&self) -> String {
        match self.shipped() {
            Some(shipped) => shipped.label.to_string(),
            None => format!("Layout “{}”", self.short()),
        }
    }
}

impl std::fmt::Display for TemplateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.full)
    }
}

fn shipped(name: &str) -> Option<&'static Shipped> {
    SHIPPED.iter().find(|shipped| shipped.name == name)
}

/// A template's text: its parts by key.
pub type Parts = BTreeMap<String, String>;

/// The shipped default of `shipped`, read from the files compiled in.
pub fn shipped_parts(shipped: &Shipped) -> Parts {
    shipped
        .files
        .iter()
        .map(|(part, path)| {
            let text = TEMPLATE_FILES
                .get_file(path)
                .and_then(|file| file.contents_utf8())
                .unwrap_or_default();
            ((*part).to_string(), text.to_string())
        })
        .collect()
}

/// A version the owner saved.
#[derive(Debug, Clone, Serialize)]
pub struct Saved {
    /// The row's id: what a campaign that went out remembers of its layout.
    pub id: i64,
    pub version: i64,
    pub parts: Parts,
    #[serde(with = "time::serde::rfc3339")]
    pub saved_at: OffsetDateTime,
}

/// The owner's latest saved version of each template they changed (a template back at its
/// shipped default, or a layout they removed, is not here).
#[derive(Debug, Clone, Default)]
pub struct OwnerTemplates {
    saved: HashMap<String, Saved>,
}

/// A template as it stands: the owner's version, or the shipped default.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub name: TemplateName,
    pub parts: Parts,
    /// The owner's saved version, or `None` for the shipped default.
    pub saved: Option<Saved>,
}

impl OwnerTemplates {
    pub fn new(saved: impl IntoIterator<Item = (String, Saved)>) -> Self {
        Self {
            saved: saved.into_iter().collect(),
        }
    }

    /// The template `name` as it stands; `None` for a layout the owner never made (or
    /// removed).
    pub fn resolve(&self, name: &TemplateName) -> Option<Resolved> {
        if let Some(saved) = self.saved.get(name.as_str()) {
            return Some(Resolved {
                name: name.clone(),
                parts: saved.parts.clone(),
                saved: Some(saved.clone()),
            });
        }
        name.shipped().map(|shipped| Resolved {
            name: name.clone(),
            parts: shipped_parts(shipped),
            saved: None,
        })
    }

    /// The template `name` (which hundred ships) as it stands.
    pub fn shipped(&self, shipped: &'static Shipped) -> Resolved {
        let name = TemplateName {
            kind: TemplateKind::parse(shipped.name.split('/').next().unwrap_or_default())
                .unwrap_or(TemplateKind::Page),
            full: shipped.name.to_string(),
        };
        self.resolve(&name).unwrap_or_else(|| Resolved {
            parts: shipped_parts(shipped),
            name,
            saved: None,
        })
    }

    /// Every template there is: the shipped ones, then the layouts the owner added.
    pub fn all(&self) -> Vec<Resolved> {
        let mut all: Vec<Resolved> = SHIPPED.iter().map(|s| self.shipped(s)).collect();
        let mut added: Vec<&String> = self
            .saved
            .keys()
            .filter(|name| shipped(name).is_none())
            .collect();
        added.sort();
        all.extend(
            added
                .into_iter()
                .filter_map(|name| TemplateName::parse(name))
                .filter_map(|name| self.resolve(&name)),
        );
        all
    }

    /// The names of the layouts a campaign can pick (`default` first).
    pub fn layouts(&self) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|t| t.name.kind() == TemplateKind::Layout)
            .map(|t| t.name.short().to_string())
            .collect()
    }
}

/// The shipped template called `name`; a name not in [`SHIPPED`] is a programming error,
/// caught by the tests.
pub fn shipped_named(name: &str) -> &'static Shipped {
    shipped(name).unwrap_or(&SHIPPED[0])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_template_has_its_files_and_parts() {
        for shipped in SHIPPED {
            let name = TemplateName::parse(shipped.name).expect(shipped.name);
            let parts = shipped_parts(shipped);
            let keys: Vec<&str> = name.kind().parts().iter().map(|p| p.key).collect();
            assert_eq!(
                parts.keys().map(String::as_str).collect::<Vec<_>>().len(),
                keys.len(),
                "{}",
                shipped.name
            );
            for key in keys {
                assert!(
                    parts.get(key).is_some_and(|text| !text.trim().is_empty()),
                    "{}: {key} has a default file",
                    shipped.name
                );
            }
        }
    }

    #[test]
    fn names_are_checked() {
        assert!(TemplateName::parse("layout/autumn-2026").is_some());
        assert!(TemplateName::parse("message/welcome").is_some());
        for bad in [
            "message/goodbye",
            "page/anything",
            "layout/",
            "layout/Autumn",
            "layout/a b",
            "layout/-x",
            "layout/../x",
            "welcome",
            "",
        ] {
            assert!(TemplateName::parse(bad).is_none(), "{bad}");
        }
        let long = format!("layout/{}", "a".repeat(MAX_LAYOUT_NAME + 1));
        assert!(TemplateName::parse(&long).is_none());
    }
}
