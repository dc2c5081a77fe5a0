//! The translations checked against English and against the code that asks for them: a
//! language that lacks a key English has (or has one English lacks), a message that fails
//! to format with the values the code passes, and a template or handler asking for a
//! message that does not exist or with other values all fail here, naming file and key.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use super::*;

fn keys(language: Language) -> BTreeSet<String> {
    message_values(&parse(language)).into_keys().collect()
}

#[test]
fn every_file_parses() {
    for language in Language::ALL {
        let source = source(language);
        if let Err((_, errors)) = FluentResource::try_new(source.to_string()) {
            let where_: Vec<String> = errors
                .iter()
                .map(|err| {
                    let line = source[..err.pos.start].lines().count().max(1);
                    format!("line {line}: {}", err.kind)
                })
                .collect();
            panic!("locales/{language}/hundred.ftl: {}", where_.join("; "));
        }
    }
}

#[test]
fn every_language_has_exactly_the_keys_english_has() {
    let english = keys(Language::En);
    assert!(english.len() > 50, "English has {} messages", english.len());
    for language in Language::ALL {
        let own = keys(language);
        let missing: Vec<_> = english.difference(&own).collect();
        let extra: Vec<_> = own.difference(&english).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "locales/{language}/hundred.ftl lacks {missing:?} and has {extra:?}, which English has not"
        );
    }
}

/// Each message in each language, formatted with the values English says the code passes:
/// once as words, once as numbers (for plural forms), without an error and without a
/// value it was not given.
#[test]
fn every_message_formats_with_the_values_the_code_passes() {
    let catalog = &*CATALOG;
    for language in Language::ALL {
        let own = message_values(&parse(language));
        for (key, values) in &catalog.values {
            let used = own.get(key).cloned().unwrap_or_default();
            assert!(
                used.is_subset(values),
                "locales/{language}/hundred.ftl: `{key}` uses {used:?}; the code passes only {values:?}"
            );
            for number in [1, 7] {
                let mut words = FluentArgs::new();
                let mut numbers = FluentArgs::new();
                for value in values {
                    words.set(value.as_str(), FluentValue::from("Corner Bakery"));
                    numbers.set(value.as_str(), FluentValue::from(number));
                }
                for args in [&words, &numbers] {
                    let text = catalog.format(language, key, args).unwrap_or_else(|err| {
                        panic!("locales/{language}/hundred.ftl: `{key}`: {err}")
                    });
                    assert!(!text.trim().is_empty(), "{language} `{key}` is empty");
                }
            }
        }
    }
}

/// Only `-html` messages carry markup, and only `<strong>`; no message has a character HTML
/// would read as markup or as the end of an attribute (the words are not escaped).
#[test]
fn only_html_messages_carry_markup() {
    let catalog = &*CATALOG;
    for language in Language::ALL {
        for (key, values) in &catalog.values {
            let mut args = FluentArgs::new();
            for value in values {
                args.set(value.as_str(), FluentValue::from("Corner Bakery"));
            }
            let text = catalog.format(language, key, &args).unwrap_or_default();
            let bare = text.replace("<strong>", "").replace("</strong>", "");
            assert!(
                !bare.contains(['<', '>', '&', '"']),
                "locales/{language}/hundred.ftl: `{key}` carries markup other than <strong>: {text}"
            );
            assert!(
                key.ends_with("-html") || bare == text,
                "locales/{language}/hundred.ftl: `{key}` carries <strong> but does not end in -html"
            );
        }
    }
}

#[test]
fn dates_read_as_each_language_writes_them() {
    let december = time::macros::date!(2026 - 12 - 02);
    let first = time::macros::date!(2026 - 05 - 01);
    assert_eq!(date(Language::En, december), "2 December 2026");
    assert_eq!(date(Language::De, december), "2. Dezember 2026");
    assert_eq!(date(Language::Fr, december), "2 décembre 2026");
    assert_eq!(date(Language::Fr, first), "1er mai 2026");
    assert_eq!(date(Language::Es, december), "2 de diciembre de 2026");
    for language in Language::ALL {
        for month in 1..=12u8 {
            let day =
                time::Date::from_calendar_date(2026, time::Month::try_from(month).unwrap(), 10)
                    .unwrap();
            let shown = date(language, day);
            assert!(!shown.contains("month-"), "{language}: {shown}");
        }
    }
}

#[test]
fn asking_with_other_values_is_refused() {
    assert_eq!(
        try_text(Language::De, "kept-message", &[("list", "X".into())]),
        Err(TextError::Arguments {
            key: "kept-message".into(),
            expected: vec!["email".into(), "list".into()],
            given: vec!["list".into()],
        })
    );
    assert!(matches!(
        try_text(Language::En, "no-such-message", &[]),
        Err(TextError::UnknownKey(_))
    ));
    assert_eq!(
        try_text(
            Language::De,
            "kept-message",
            &[("list", "Brot & Co".into()), ("email", "a@b.de".into())]
        )
        .unwrap(),
        "Wir schicken Brot & Co weiterhin an a@b.de."
    );
    assert_eq!(
        text(Language::Fr, "confirmation-valid", &[("days", 7.into())]),
        "Le lien est valable 7 jours."
    );
}

#[test]
fn the_template_function_escapes_values_and_names_its_mistakes() {
    let mut tera = Tera::new();
    install(&mut tera);
    tera.add_raw_templates([
        ("page.html", r#"{{ t(key="keep-sending-html", email=email) }}|{{ t(key="kept-message", list=list, email=email) }}"#),
        ("mail.txt", r#"{{ t(key="kept-message", list=list, email=email) }}"#),
        ("wrong.html", r#"{{ t(key="kept-message", list=list) }}"#),
        ("html-in-text.txt", r#"{{ t(key="keep-sending-html", email=email) }}"#),
    ])
    .unwrap();
    let mut context = tera::Context::new();
    context.insert("lang", "de");
    context.insert("email", "<b>a@b.de</b>");
    context.insert("list", "Brot & Co");
    assert_eq!(
        tera.render("page.html", &context).unwrap(),
        "Wir schicken den Newsletter weiterhin an <strong>&lt;b&gt;a@b.de&lt;/b&gt;</strong>.|\
         Wir schicken Brot &amp; Co weiterhin an &lt;b&gt;a@b.de&lt;/b&gt;."
    );
    assert_eq!(
        tera.render("mail.txt", &context).unwrap(),
        "Wir schicken Brot & Co weiterhin an <b>a@b.de</b>."
    );
    for broken in ["wrong.html", "html-in-text.txt"] {
        assert!(tera.render(broken, &context).is_err(), "{broken}");
    }
    context.insert("lang", "xx");
    assert!(tera.render("mail.txt", &context).is_err());
}

/// Every `t(key="…", …)` in templates/ and every `text(…, "key", &[("value", …)])` in src/
/// names a message English has, with exactly the values it uses.
#[test]
fn the_code_asks_for_messages_that_exist_with_their_values() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut asked = 0;
    for file in files(&root.join("templates")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for call in calls(&text, "t(") {
            let mut key = None;
            let mut values = BTreeSet::new();
            for argument in top_level(&call) {
                let (name, value) = argument.split_once('=').unwrap_or_default();
                match name.trim() {
                    "key" => key = Some(value.trim().trim_matches('"').to_string()),
                    "" => {}
                    name => {
                        values.insert(name.to_string());
                    }
                }
            }
            let key = key.unwrap_or_else(|| panic!("{}: t({call}) has no key", file.display()));
            check(&file, &key, &values);
            asked += 1;
        }
    }
    assert!(asked > 50, "{asked} messages asked for in templates/");
    let mut in_code = 0;
    for file in files(&root.join("src")) {
        if file.starts_with(root.join("src/i18n")) || file.ends_with("i18n.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for call in calls(&text, "text(") {
            let arguments = top_level(&call);
            let Some(key) = arguments.iter().find_map(|argument| key_literal(argument)) else {
                continue;
            };
            let values = arguments
                .iter()
                .filter(|argument| argument.trim_start().starts_with("&["))
                .flat_map(|list| tuple_names(list))
                .collect();
            check(&file, &key, &values);
            in_code += 1;
        }
    }
    assert!(in_code > 10, "{in_code} messages asked for in src/");
}

fn check(file: &Path, key: &str, values: &BTreeSet<String>) {
    let expected = CATALOG.values.get(key).unwrap_or_else(|| {
        panic!(
            "{}: no message `{key}` in locales/en/hundred.ftl",
            file.display()
        )
    });
    assert_eq!(
        values,
        expected,
        "{}: the values given for `{key}`",
        file.display()
    );
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files(&path));
        } else if path
            .extension()
            .is_some_and(|ext| ext == "html" || ext == "txt" || ext == "md" || ext == "rs")
        {
            found.push(path);
        }
    }
    found
}

/// The inside of every call to `opener` (`t(`, `text(`) not part of a longer name.
fn calls(text: &str, opener: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = text[from..].find(opener).map(|i| from + i) {
        from = at + opener.len();
        let before = text[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        let mut depth = 1;
        let mut quoted = false;
        let mut end = None;
        let mut previous = ' ';
        for (i, c) in text[from..].char_indices() {
            match c {
                '"' if previous != '\\' => quoted = !quoted,
                '(' | '[' | '{' if !quoted => depth += 1,
                ')' | ']' | '}' if !quoted => {
                    depth -= 1;
                    if depth == 0 {
                        end = Some(from + i);
                        break;
                    }
                }
                _ => {}
            }
            previous = c;
        }
        if let Some(end) = end {
            found.push(text[from..end].to_string());
        }
    }
    found
}

/// The arguments of a call, split at its own commas.
fn top_level(call: &str) -> Vec<String> {
    let mut arguments = vec![String::new()];
    let mut depth = 0;
    let mut quoted = false;
    for c in call.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' | '[' | '{' if !quoted => depth += 1,
            ')' | ']' | '}' if !quoted => depth -= 1,
            ',' if !quoted && depth == 0 => {
                arguments.push(String::new());
                continue;
            }
            _ => {}
        }
        if let Some(last) = arguments.last_mut() {
            last.push(c);
        }
    }
    arguments.retain(|argument| !argument.trim().is_empty());
    arguments
}

/// `"a-key"` as an argument: a message key.
fn key_literal(argument: &str) -> Option<String> {
    let inner = argument.trim().strip_prefix('"')?.strip_suffix('"')?;
    let shaped = inner.starts_with(|c: char| c.is_ascii_lowercase())
        && inner
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    shaped.then(|| inner.to_string())
}

/// The names in `&[("name", …), …]`.
fn tuple_names(list: &str) -> Vec<String> {
    list.split("(\"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(name, _)| name.to_string()))
        .collect()
}
