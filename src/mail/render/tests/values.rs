//! What a subscriber's values can and cannot do to a message: they read as the text
//! typed, never as markup, a link or a tag.

use super::*;

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
                reader: None,
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
