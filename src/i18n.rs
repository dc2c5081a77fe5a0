//! The words readers see, in every language hundred ships: `locales/{code}/hundred.ftl`
//! (Fluent), built into the binary. English is the reference: each of its messages names
//! the values the code passes (`{ $list }`, `{ $email }`, …), every other language has
//! exactly its keys, and a message asked for with other values is refused.
//!
//! Templates ask with `{{ t(key="subscribe-title", list=list_name) }}`, in the language
//! named by `lang` in their context; code asks with [`text`]. In an HTML template the
//! values are escaped and the message's own words are not (a test keeps `<`, `>`, `&` and
//! `"` out of them), so they read exactly as written; only keys ending in `-html` carry
//! markup, `<strong>`, and a text template may not use those.
//!
//! Layer: beside `templates` (rank 1). It imports only `domain`; `templates` installs its
//! `t()` function, and the mail composer and the public pages ask it for what they build in
//! code.

use std::borrow::Cow;
use std::collections::{BTreeSet, HashMap};
use std::sync::LazyLock;

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use fluent_syntax::ast;
use tera::{Kwargs, State, Tera, Value};

use crate::domain::Language;

/// The shipped words of `language`: `locales/{code}/hundred.ftl`.
pub fn source(language: Language) -> &'static str {
    match language {
        Language::En => include_str!("../locales/en/hundred.ftl"),
        Language::De => include_str!("../locales/de/hundred.ftl"),
        Language::Fr => include_str!("../locales/fr/hundred.ftl"),
        Language::Es => include_str!("../locales/es/hundred.ftl"),
    }
}

/// A value the code fills into a message.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Text(Cow<'a, str>),
    /// A number: plural forms choose by it (`{ $days -> [one] … *[other] … }`).
    Number(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Self::Text(Cow::Borrowed(text))
    }
}

impl From<String> for Arg<'_> {
    fn from(text: String) -> Self {
        Self::Text(Cow::Owned(text))
    }
}

impl From<i64> for Arg<'_> {
    fn from(number: i64) -> Self {
        Self::Number(number)
    }
}

/// Why a message could not be given; each one is a mistake in the code or in a
/// translation, which the tests catch before it ships.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("there is no message `{0}` in locales/en/hundred.ftl")]
    UnknownKey(String),
    #[error("message `{key}` takes the values {expected:?}, but was given {given:?}")]
    Arguments {
        key: String,
        expected: Vec<String>,
        given: Vec<String>,
    },
    #[error("message `{key}` in locales/{language}/hundred.ftl: {problems}")]
    Format {
        key: String,
        language: Language,
        problems: String,
    },
}

/// Every language's messages, parsed once.
struct Catalog {
    bundles: HashMap<Language, FluentBundle<FluentResource>>,
    /// Each English message and the values it uses: exactly what the code must pass.
    values: HashMap<String, BTreeSet<String>>,
}

static CATALOG: LazyLock<Catalog> = LazyLock::new(Catalog::load);

impl Catalog {
    fn load() -> Self {
        let mut bundles = HashMap::new();
        let mut values = HashMap::new();
        for language in Language::ALL {
            let resource = parse(language);
            if language == Language::En {
                values = message_values(&resource);
            }
            let locale = language.code().parse().unwrap_or_default();
            let mut bundle = FluentBundle::new_concurrent(vec![locale]);
            // No Unicode isolation marks around values: pages and plain-text mail show the
            // values as they are.
            bundle.set_use_isolating(false);
            if let Err(errors) = bundle.add_resource(resource) {
                tracing::error!(
                    language = language.code(),
                    ?errors,
                    "a message is defined twice"
                );
            }
            bundles.insert(language, bundle);
        }
        Self { bundles, values }
    }

    fn format(&self, language: Language, key: &str, args: &FluentArgs) -> Result<String, String> {
        let pattern = self
            .bundles
            .get(&language)
            .and_then(|bundle| Some((bundle, bundle.get_message(key)?.value()?)));
        let Some((bundle, pattern)) = pattern else {
            return Err("the message is missing".into());
        };
        let mut errors = Vec::new();
        let text = bundle.format_pattern(pattern, Some(args), &mut errors);
        if errors.is_empty() {
            Ok(text.into_owned())
        } else {
            Err(errors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "))
        }
    }
}

/// The messages of `language`'s file; a file with a syntax error keeps the messages that
/// parse (the test `every_file_parses` names the line).
fn parse(language: Language) -> FluentResource {
    match FluentResource::try_new(source(language).to_string()) {
        Ok(resource) => resource,
        Err((resource, errors)) => {
            tracing::error!(
                language = language.code(),
                ?errors,
                "a message does not parse"
            );
            resource
        }
    }
}

/// Every message of a file with the values (`$name`) it uses.
fn message_values(resource: &FluentResource) -> HashMap<String, BTreeSet<String>> {
    resource
        .entries()
        .filter_map(|entry| match entry {
            ast::Entry::Message(message) => {
                let mut found = BTreeSet::new();
                if let Some(pattern) = &message.value {
                    pattern_values(pattern, &mut found);
                }
                Some((message.id.name.to_string(), found))
            }
            _ => None,
        })
        .collect()
}

fn pattern_values(pattern: &ast::Pattern<&str>, found: &mut BTreeSet<String>) {
    for element in &pattern.elements {
        if let ast::PatternElement::Placeable { expression } = element {
            expression_values(expression, found);
        }
    }
}

fn expression_values(expression: &ast::Expression<&str>, found: &mut BTreeSet<String>) {
    match expression {
        ast::Expression::Select { selector, variants } => {
            inline_values(selector, found);
            for variant in variants {
                pattern_values(&variant.value, found);
            }
        }
        ast::Expression::Inline(inline) => inline_values(inline, found),
    }
}

fn inline_values(inline: &ast::InlineExpression<&str>, found: &mut BTreeSet<String>) {
    match inline {
        ast::InlineExpression::VariableReference { id } => {
            found.insert(id.name.to_string());
        }
        ast::InlineExpression::Placeable { expression } => expression_values(expression, found),
        ast::InlineExpression::FunctionReference { arguments, .. } => {
            for argument in &arguments.positional {
                inline_values(argument, found);
            }
            for argument in &arguments.named {
                inline_values(&argument.value, found);
            }
        }
        _ => {}
    }
}

/// The message `key` in `language`, with `args` filled in. A message a language lacks, or
/// cannot format, is given in English (and logged).
pub fn try_text(
    language: Language,
    key: &str,
    args: &[(&str, Arg<'_>)],
) -> Result<String, TextError> {
    let catalog = &*CATALOG;
    let expected = catalog
        .values
        .get(key)
        .ok_or_else(|| TextError::UnknownKey(key.to_string()))?;
    let given: BTreeSet<String> = args.iter().map(|(name, _)| name.to_string()).collect();
    if &given != expected || given.len() != args.len() {
        return Err(TextError::Arguments {
            key: key.to_string(),
            expected: expected.iter().cloned().collect(),
            given: args.iter().map(|(name, _)| name.to_string()).collect(),
        });
    }
    let mut fluent = FluentArgs::with_capacity(args.len());
    for (name, value) in args {
        match value {
            Arg::Text(text) => fluent.set(*name, FluentValue::from(text.as_ref())),
            Arg::Number(number) => fluent.set(*name, FluentValue::from(*number)),
        }
    }
    match catalog.format(language, key, &fluent) {
        Ok(text) => Ok(text),
        Err(problems) if language != Language::En => {
            tracing::error!(
                language = language.code(),
                key,
                problems,
                "a translation failed; English instead"
            );
            catalog
                .format(Language::En, key, &fluent)
                .map_err(|problems| TextError::Format {
                    key: key.to_string(),
                    language: Language::En,
                    problems,
                })
        }
        Err(problems) => Err(TextError::Format {
            key: key.to_string(),
            language,
            problems,
        }),
    }
}

/// [`try_text`] for words built in code: a mistake is logged and the key shown instead.
pub fn text(language: Language, key: &str, args: &[(&str, Arg<'_>)]) -> String {
    try_text(language, key, args).unwrap_or_else(|err| {
        tracing::error!(error = %err, "a message could not be given");
        key.to_string()
    })
}

/// The month messages, January first.
const MONTHS: [&str; 12] = [
    "month-1", "month-2", "month-3", "month-4", "month-5", "month-6", "month-7", "month-8",
    "month-9", "month-10", "month-11", "month-12",
];

/// A date as readers of `language` write it: "2 December 2026", "2. Dezember 2026",
/// "2 décembre 2026", "2 de diciembre de 2026".
pub fn date(language: Language, date: time::Date) -> String {
    let month = text(
        language,
        MONTHS[usize::from(u8::from(date.month())) - 1],
        &[],
    );
    text(
        language,
        "date",
        &[
            ("day", i64::from(date.day()).into()),
            ("month", month.into()),
            // As text: a year is never written with a thousands separator.
            ("year", date.year().to_string().into()),
        ],
    )
}

/// Installs `t(key="…", name=value, …)` in `tera`: the message in the language named by
/// `lang` in the template's context.
pub fn install(tera: &mut Tera) {
    tera.register_function("t", translate);
}

fn translate(kwargs: Kwargs, state: &State) -> tera::TeraResult<Value> {
    let key: String = kwargs.must_get("key")?;
    let code: String = state
        .get("lang")?
        .ok_or_else(|| tera::Error::message("t(): the template's context has no `lang`"))?;
    let language = Language::parse(&code)
        .map_err(|err| tera::Error::message(format!("t(): lang \"{code}\" {err}")))?;
    let escaping = state.autoescaping_enabled();
    if key.ends_with("-html") && !escaping {
        return Err(tera::Error::message(format!(
            "t(): `{key}` carries HTML; a text template uses the message without -html"
        )));
    }
    let mut args = Vec::new();
    for (name, value) in kwargs.iter() {
        let Some(name) = name.as_str().filter(|name| *name != "key") else {
            continue;
        };
        let arg = if let Some(number) = value.as_i64() {
            Arg::Number(number)
        } else if let Some(text) = value.as_str() {
            if escaping && !value.is_safe() {
                Arg::Text(state.escape(text)?.into())
            } else {
                Arg::Text(text.to_string().into())
            }
        } else {
            return Err(tera::Error::message(format!(
                "t(): the value `{name}` for `{key}` is neither text nor a whole number"
            )));
        };
        args.push((name, arg));
    }
    let text = try_text(language, &key, &args).map_err(tera::Error::message)?;
    Ok(if escaping {
        Value::safe_string(&text)
    } else {
        Value::normal_string(&text)
    })
}

#[cfg(test)]
mod tests;
