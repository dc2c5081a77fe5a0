//! Rendering a campaign: placeholders, Markdown and HTML bodies, links, the text part, and the errors an owner sees.

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

/// The shipped default layout, as a campaign that picks it gets it.
fn shipped_default_layout() -> LayoutSource {
    let parts = crate::templates::editable::shipped_parts(
        crate::templates::editable::shipped_named("layout/default"),
    );
    LayoutSource {
        name: "default".into(),
        html: parts["html"].clone(),
        text: parts["text"].clone(),
    }
}

fn compile(c: &CampaignContent) -> Result<CompiledCampaign, TemplateError> {
    CompiledCampaign::compile(
        c,
        &shipped_default_layout(),
        &ListLook {
            list_name: "Corner Bakery News".into(),
            language: crate::domain::Language::En,
            postal_address: None,
            brand: Default::default(),
        },
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
                    open_token: Some("open".into()),
                    click_token: &click,
                    links: &ids,
                }),
                reader: None,
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
                reader: None,
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

/// A campaign copy links its web version and its reader's page, in both parts; a copy
/// that is nobody's (a preview) has neither. The web version has the same links tracked,
/// but no pixel and no hidden link.
#[test]
fn a_copy_links_its_web_version_and_its_readers_page() {
    let compiled = compile(&content(
        "News",
        "See [the menu](https://bakery.example/menu).",
    ))
    .unwrap();
    let recipient = RecipientData {
        name: None,
        email: "ann@example.com".into(),
        attributes: serde_json::json!({}),
    };
    let ids: HashMap<String, i64> = [("https://bakery.example/menu".to_string(), 7)].into();
    let click = |id: i64| format!("click{id}");
    let render = |open_token: Option<&str>, reader: bool, web: bool| {
        compiled
            .render(
                &recipient,
                &CopySettings {
                    unsubscribe_url: "https://news.example/unsubscribe/abc",
                    tracking: Some(Tracking {
                        public_base: "https://news.example",
                        open_token: open_token.map(str::to_string),
                        click_token: &click,
                        links: &ids,
                    }),
                    reader: reader.then(|| ReaderLinks {
                        web_version: web.then(|| "https://news.example/v/web".into()),
                        subscription: "https://news.example/me/page".into(),
                    }),
                },
            )
            .unwrap()
    };
    let copy = render(Some("open"), true, true);
    for part in [&copy.html, &copy.text] {
        assert!(part.contains("https://news.example/v/web"), "{part}");
        assert!(part.contains("https://news.example/me/page"), "{part}");
        assert!(part.contains("View in your browser"), "{part}");
        assert!(part.contains("Your subscription"), "{part}");
    }
    let nobodys = render(Some("open"), false, true);
    for part in [&nobodys.html, &nobodys.text] {
        assert!(!part.contains("/v/") && !part.contains("/me/"), "{part}");
        assert!(!part.contains("View in your browser"), "{part}");
    }
    assert!(nobodys.html.contains("/t/o/open"), "still tracked");
    let web = render(None, true, false);
    assert!(web.html.contains("https://news.example/t/c/click7"));
    assert!(web.html.contains("https://news.example/me/page"));
    assert!(!web.html.contains("View in your browser"), "{}", web.html);
    assert!(!web.html.contains("/t/o/"), "{}", web.html);
    assert!(!web.html.contains("click0"), "{}", web.html);
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
        reader: None,
    };
    let person = |name: &str| RecipientData {
        name: Some(name.into()),
        email: format!("{}@example.com", name.to_lowercase()),
        attributes: serde_json::json!({}),
    };
    let ann = compiled.render(&person("Ann"), &copy).unwrap();
    let bob = compiled.render(&person("Bob"), &copy).unwrap();
    for (mine, theirs, name, other) in [(&ann, &bob, "Ann", "Bob"), (&bob, &ann, "Bob", "Ann")] {
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

mod values;
