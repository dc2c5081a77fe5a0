//! The Tera templates under `templates/`, compiled into the binary and parsed once at start.
//!
//! Files ending in `.html` are HTML-escaped on output; `.txt` ones are not.

use anyhow::Context as _;
use include_dir::{Dir, include_dir};
use tera::{Context, Tera};

static TEMPLATE_FILES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/templates");

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
        let mut tera = Tera::new();
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

fn collect(dir: &'static Dir<'static>, out: &mut Vec<(String, &'static str)>) {
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
                .any(|n| n == "email/confirmation.txt")
        );
    }
}
