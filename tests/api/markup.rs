//! Subscriber data cannot write markup: people sign up (or are added through the API) with
//! names and attributes full of Markdown and HTML, the owner sends a Markdown campaign that
//! uses them, and every copy, its subject, its preheader and both previews show what they
//! typed as text: no link, image or heading of theirs, no link of theirs registered or
//! given a signed redirect on the owner's domain.

use reqwest::Method;
use reqwest::header::LOCATION;

use crate::fixtures::{assert_contains, confirmed, each};
use crate::helpers::{Backend, settle, spawn_app};
use crate::on_both_databases;

on_both_databases!(names_and_attributes_full_of_markup_stay_text_everywhere);

/// Names as an attacker types them into the signup form or the API.
const NAMES: [&str; 12] = [
    "[Win a prize](https://evil.example/p)",
    "![x](https://evil.example/i.png)",
    "<img src=x onerror=alert(1)>",
    "# Heading",
    "**bold** _and_ ~~struck~~",
    "`code`",
    "<https://evil.example>",
    "https://evil.example",
    "| a | b |",
    "[x]: https://evil.example",
    "href=\"https://evil.example/q\"",
    "Zoë & <b>Co</b>",
];

/// An attribute with a line break and a block of Markdown after it.
const CITY: &str =
    "Lyon\n\n# Free money\n\n[click](https://evil.example/c)\n\n![](https://evil.example/x.png)";
/// A reference meant to break out of the query value the owner wrote it into.
const REFERENCE: &str = "x&next=https://evil.example/#";

const SUBJECT: &str = "Fresh bread for {{ subscriber.name | default(value=\"you\") }}";
const PREHEADER: &str = "Baked in {{ subscriber.attributes.city | default(value=\"town\") }}";
const BODY: &str = concat!(
    "# Hello {{ subscriber.name | default(value=\"friend\") }}\n\n",
    "Dear **{{ subscriber.name | default(value=\"friend\") }}**, greetings to {{ subscriber.attributes.city | default(value=\"town\") }}.\n\n",
    "| who | where |\n|---|---|\n| {{ subscriber.name | default(value=\"friend\") }} | {{ subscriber.attributes.city | default(value=\"town\") }} |\n\n",
    "- `{{ subscriber.name | default(value=\"friend\") }}`\n\n",
    "See [the menu](https://bakery.example/menu) and ",
    "[your offer](https://bakery.example/offer?ref={{ subscriber.attributes.ref | default(value=\"none\") }}&src=mail).\n",
);

const MENU: &str = "https://bakery.example/menu";
const PLAIN_OFFER: &str = "https://bakery.example/offer?ref=none&src=mail";
const ATTACKED_OFFER: &str =
    "https://bakery.example/offer?ref=x%26next%3Dhttps%3A%2F%2Fevil.example%2F%23&src=mail";

/// Every `href` and `src` value of a tag in `html`, unescaped. (Text never holds a `<`: it
/// is escaped; an attribute value never holds a `"`.)
fn destinations(html: &str) -> Vec<String> {
    let mut found = Vec::new();
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or_default();
        for attribute in [" href=\"", " src=\""] {
            for (at, _) in tag.match_indices(attribute) {
                let value: String = tag[at + attribute.len()..]
                    .chars()
                    .take_while(|c| *c != '"')
                    .collect();
                found.push(value.replace("&amp;", "&"));
            }
        }
    }
    found
}

/// The campaign's content in a copy: between the layout's content and footer cells.
fn content(html: &str) -> &str {
    let start = html.find("class=\"content\"").expect("the content cell");
    let end = html.find("class=\"footer\"").expect("the footer cell");
    &html[start..end]
}

fn count_tag(html: &str, tag: &str) -> usize {
    content(html).matches(&format!("<{tag}")).count()
}

/// What the person typed, as HTML text shows it.
fn as_html_text(value: &str) -> String {
    value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Asserts what a copy (sent or previewed) of `name` shows. `links_on` is where its links
/// may point: the app (tracked copies) or the bakery's own site (previews).
fn assert_shows_text(name: &str, subject: &str, html: &str, text: &str, links_on: &[&str]) {
    assert_eq!(subject, format!("Fresh bread for {name}"), "the subject");
    for destination in destinations(html) {
        assert!(
            links_on.iter().any(|base| destination.starts_with(base)),
            "{name:?}: a link or image to {destination}\n{html}"
        );
    }
    assert_eq!(count_tag(html, "h1"), 1, "{name:?}: {html}");
    assert_eq!(count_tag(html, "strong"), 1, "{name:?}: {html}");
    assert_eq!(count_tag(html, "code"), 1, "{name:?}: {html}");
    assert_eq!(count_tag(html, "em"), 0, "{name:?}: {html}");
    assert_eq!(count_tag(html, "del"), 0, "{name:?}: {html}");
    assert_eq!(count_tag(html, "table"), 1, "{name:?}: {html}");
    assert_eq!(
        count_tag(html, "a "),
        2,
        "{name:?}: the menu and the offer only"
    );
    assert_eq!(count_tag(html, "img"), 0, "{name:?}: {html}");
    let shown = as_html_text(name);
    for place in [
        format!("Hello {shown}</h1>"),
        format!("<strong>{shown}</strong>"),
        format!("<code>{shown}</code>"),
    ] {
        assert!(html.contains(&place), "{name:?}: {place} in\n{html}");
    }
    assert!(
        text.contains(&format!("# Hello {name}")),
        "{name:?}: the text part shows it as typed:\n{text}"
    );
    assert!(
        text.contains(&format!("Dear **{name}**, greetings to")),
        "{name:?}: {text}"
    );
}

async fn names_and_attributes_full_of_markup_stay_text_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;

    // One attacker through the hosted signup form, confirming as a person would.
    let signup = app
        .subscribe_via_page("mallory@example.com", NAMES[0])
        .await;
    assert_eq!(signup.status(), 200);
    let confirm = app.smtp.wait_for("mallory@example.com", 1).await[0]
        .link_starting_with(&app.url("/confirm/"))
        .unwrap();
    assert_eq!(app.post_empty(&confirm).await.status(), 200);
    // The others through the API, with attributes as hostile as their names.
    let mut ids = vec![];
    for (i, name) in NAMES.iter().enumerate().skip(1) {
        let attributes = if i == 1 {
            serde_json::json!({ "city": CITY, "ref": REFERENCE })
        } else {
            serde_json::json!({ "city": name })
        };
        let id = confirmed(
            &app,
            &token,
            &format!("attacker{i}@example.com"),
            Some(name),
            attributes,
        )
        .await;
        ids.push((i, id));
    }

    let campaign = app
        .create_campaign(
            &token,
            serde_json::json!({ "subject": SUBJECT, "preheader": PREHEADER, "body": BODY }),
        )
        .await;
    let id = campaign["id"].as_str().unwrap().to_string();

    // The API's preview, as the attacker with the hostile attributes.
    let (_, attacker) = &ids[0];
    let preview = app
        .api_get(
            &format!("/campaigns/{id}/preview?subscriber={attacker}"),
            &token,
        )
        .await;
    // A preview links hundred's own pages too: the reader's page and a web version.
    let bakery_or_app = [
        MENU,
        PLAIN_OFFER,
        ATTACKED_OFFER,
        &app.url("/unsubscribe/"),
        &app.url("/me/"),
        &app.url("/v/"),
    ];
    let preview_html = preview["html"].as_str().unwrap();
    assert_shows_text(
        NAMES[1],
        preview["subject"].as_str().unwrap(),
        preview_html,
        preview["text"].as_str().unwrap(),
        &bakery_or_app,
    );
    assert!(preview_html.contains(ATTACKED_OFFER.replace('&', "&amp;").as_str()));
    assert_contains(
        preview_html,
        "Baked in Lyon # Free money [click](https://evil.example/c)",
        "the preheader, on one line",
    );
    // The owner's compose preview, as the same subscriber.
    let owner = app.owner().await;
    let fields: Vec<(&str, &str)> = vec![
        ("subject", SUBJECT),
        ("preheader", PREHEADER),
        ("body", BODY),
        ("format", "markdown"),
        ("layout", "default"),
        ("audience", "everyone"),
        ("preview_as", attacker),
        ("test_to", "owner@bakery.example"),
        ("send_when", "now"),
        ("send_at", ""),
        ("send_offset", ""),
    ];
    let response = owner
        .post_as_written(
            "/admin/campaigns/preview",
            &[("x-csrf-token", owner.csrf.as_str())],
            &fields,
        )
        .await;
    assert_eq!(response.status(), 200);
    let admin_preview: serde_json::Value = response.json().await.unwrap();
    assert_eq!(admin_preview, preview, "both previews show the same copy");

    app.send_campaign_now(&token, &id).await;
    let report = app.wait_for_campaign(&token, &id, "sent").await;
    assert_eq!(report["deliveries"]["sent"], NAMES.len(), "{report}");
    settle().await;

    let mut tracked = std::collections::BTreeSet::new();
    for (i, name) in NAMES.iter().enumerate() {
        let address = if i == 0 {
            "mallory@example.com".to_string()
        } else {
            format!("attacker{i}@example.com")
        };
        let mail = app
            .smtp
            .messages_to(&address)
            .into_iter()
            .find(|m| m.subject().starts_with("Fresh bread"))
            .unwrap_or_else(|| panic!("{address} got the campaign"));
        let html = mail.html();
        assert_shows_text(name, &mail.subject(), &html, &mail.text(), &[&app.url("/")]);
        let city = match i {
            0 => "town",
            1 => CITY,
            _ => name,
        };
        let preheader = format!(
            "Baked in {}",
            city.split_whitespace().collect::<Vec<_>>().join(" ")
        );
        assert!(
            html.contains(&as_html_text(&preheader).replace('"', "&quot;")),
            "{name:?}: the preheader as text: {html}"
        );
        for link in destinations(&html)
            .into_iter()
            .filter(|d| d.contains("/t/c/"))
        {
            tracked.insert(link);
        }
    }
    // Every signed redirect on the owner's domain leads to the bakery's own pages (the
    // hidden link of each copy leads nowhere: an empty page).
    let mut redirects = 0;
    for link in &tracked {
        let response = app.get(link).await;
        match response.status().as_u16() {
            302 => {
                redirects += 1;
                let to = response.headers()[LOCATION].to_str().unwrap().to_string();
                assert!(
                    [MENU, PLAIN_OFFER, ATTACKED_OFFER].contains(&to.as_str()),
                    "{link} redirects to {to}"
                );
            }
            status => assert_eq!(status, 200, "{link}"),
        }
    }
    assert_eq!(redirects, 2 * NAMES.len(), "two links in each copy");
    // The campaign's links are exactly those written in it.
    let report = app
        .api_call(Method::GET, &format!("/campaigns/{id}"), &token)
        .await
        .json::<serde_json::Value>()
        .await
        .unwrap();
    let mut links = each(&report["engagement"]["links"], "url");
    links.sort();
    let mut written = vec![MENU, PLAIN_OFFER, ATTACKED_OFFER];
    written.sort();
    assert_eq!(links, written, "{report}");
    assert_eq!(app.count("campaign_links").await, 3);
}
