//! The Tera templates under `templates/`, compiled into the binary and parsed once at start.
//!
//! Files ending in `.html` are HTML-escaped on output; `.txt` ones are not. Reader-facing
//! words come from `t(key="…")` (see `crate::i18n`), in the language `lang` in the context.
//! The defaults of what the owner edits in the app (layouts, system messages, page words:
//! see [`editable`]) are files here too, but are compiled where they are used, from the
//! owner's version when there is one.

use anyhow::Context as _;
use include_dir::{Dir, include_dir};
use tera::{Context, Kwargs, State, Tera};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

pub mod editable;

static TEMPLATE_FILES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");

/// The folders holding the defaults of what the owner edits: not part of [`Templates`].
const EDITABLE_DIRS: [&str; 3] = ["email/layouts", "email/messages", "web/words"];

/// A template engine with hundred's filters (`date`, `ago`) and `t()`, for templates
/// compiled from the owner's text.
pub fn engine() -> Tera {
    let mut tera = Tera::new();
    tera.register_filter("date", |value: &str, _: Kwargs, _: &State| date(value));
    tera.register_filter("ago", |value: &str, _: Kwargs, _: &State| ago(value));
    crate::i18n::install(&mut tera);
    tera
}

pub struct Templates {
    tera: Tera,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Templates")
    }
}

impl Templates {
    pub fn load() -> anyhow::Result<Self> {
        let mut files = Vec::new();
        collect(&TEMPLATE_FILES, &mut files);
        let mut tera = engine();
        tera.add_raw_templates(files)
            .context("parsing the templates under templates/")?;
        Ok(Self { tera })
    }

    pub fn render(&self, name: &str, context: &Context) -> anyhow::Result<String> {
        self.tera
            .render(name, context)
            .with_context(|| format!("rendering template {name}"))
    }
}

/// `{{ time | date }}`: an RFC 3339 time (as every time is serialised) as
/// "26 Nov 2026, 09:54 UTC"; anything else unchanged.
fn date(value: &str) -> String {
    match OffsetDateTime::parse(value, &Rfc3339) {
        Ok(time) => {
            let time = time.to_offset(time::UtcOffset::UTC);
            let month = &format!("{:?}", time.month())[..3];
            format!(
                "{} {month} {}, {:02}:{:02} UTC",
                time.day(),
                time.year(),
                time.hour(),
                time.minute()
            )
        }
        Err(_) => value.to_string(),
    }
}

/// `{{ time | ago }}`: "today", "yesterday", "5 days ago", …
fn ago(value: &str) -> String {
    match OffsetDateTime::parse(value, &Rfc3339) {
        Ok(time) => crate::domain::ago(OffsetDateTime::now_utc() - time),
        Err(_) => value.to_string(),
    }
}

/// A static file for the admin pages (`templates/web/admin/assets/NAME`): vendored scripts,
/// served as they are, never parsed as templates.
pub fn admin_asset(name: &str) -> Option<&'static str> {
    if name.contains('/') || name.starts_with('.') {
        return None;
    }
    TEMPLATE_FILES
        .get_file(format!("web/admin/assets/{name}"))
        .and_then(|file| file.contents_utf8())
}

fn collect(dir: &'static Dir<'static>, out: &mut Vec<(String, &'static str)>) {
    if dir.path().file_name().is_some_and(|name| name == "assets")
        || EDITABLE_DIRS
            .iter()
            .any(|editable| dir.path() == std::path::Path::new(editable))
    {
        return;
    }
    for file in dir.files() {
        if let (Some(path), Some(text)) = (file.path().to_str(), file.contents_utf8()) {
            out.push((path.to_string(), text));
        }
    }
    for sub in dir.dirs() {
        collect(sub, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses() {
        let templates = Templates::load().expect("templates parse");
        assert!(
            templates
                .tera
                .get_template_names()
                .any(|n| n == "web/subscribe.html")
        );
        assert!(
            templates
                .tera
                .get_template_names()
                .any(|n| n == "email/test_message.txt")
        );
    }

    #[test]
    fn times_read_as_dates() {
        assert_eq!(date("2026-11-26T09:54:07.123Z"), "26 Nov 2026, 09:54 UTC");
        assert_eq!(date("2026-01-02T23:05:00+01:00"), "2 Jan 2026, 22:05 UTC");
        assert_eq!(date("not a time"), "not a time");
        let yesterday = (OffsetDateTime::now_utc() - time::Duration::hours(30))
            .format(&Rfc3339)
            .unwrap();
        assert_eq!(ago(&yesterday), "yesterday");
    }
}
