//! Opens and clicks: the pixel and the redirect, each event judged human or machine, and
//! the campaign's genuine numbers.

use std::time::{Duration, Instant};

use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, USER_AGENT};

use crate::fixtures::{
    DESKTOP, HOURS, IPHONE, MENU, confirmed_email, confirmed_people, engagement_when, fetch,
    header, send_to_everyone, tracking_urls,
};
use crate::helpers::{Backend, Options, TestApp, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    opens_and_clicks_are_judged_human_or_machine,
    a_link_with_accents_still_redirects,
    a_hidden_link_gives_a_scanner_away
);

use crate::helpers::{browser, tag_around};

/// The hidden link of a tracked copy: its URL, and its tag up to the end of the element.
fn hidden_link(html: &str) -> (String, String) {
    let hidden: Vec<usize> = html
        .match_indices("/t/c/")
        .map(|(at, _)| at)
        .filter(|at| tag_around(html, *at).contains("aria-hidden"))
        .collect();
    assert_eq!(hidden.len(), 1, "one hidden link: {html}");
    let at = hidden[0];
    let start = html[..at].rfind("http").unwrap();
    let end = at + html[at..].find('"').unwrap();
    let tag_start = html[..at].rfind('<').unwrap();
    let element_end = at + html[at..].find("</a>").unwrap() + "</a>".len();
    (
        html[start..end].to_string(),
        html[tag_start..element_end].to_string(),
    )
}

async fn opens_and_clicks_are_judged_human_or_machine(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options::default().env("HUNDRED_MACHINE_WINDOW_SECONDS", "2"),
    )
    .await;
    let token = app.api_token().await;
    let ids = confirmed_people(&app, &token, &["apple", "scanner", "person", "gateway"]).await;
    let id = &send_to_everyone(
        &app,
        &token,
        "This week",
        &format!("See [the menu]({MENU}) and [our hours]({HOURS})."),
    )
    .await;
    let copy = |who: &str| {
        let messages = app.smtp.messages_to(&format!("{who}@example.com"));
        assert_eq!(messages.len(), 1, "{who}");
        messages[0].html()
    };
    let (apple, scanner, person, gateway) = (
        copy("apple"),
        copy("scanner"),
        copy("person"),
        copy("gateway"),
    );

    // At delivery: Apple's proxy fetches the pixel, a scanner follows every link.
    let pixel = &tracking_urls(&apple, "o")[0];
    let fetched = fetch(pixel, "Mozilla/5.0").await;
    assert_eq!(fetched.status(), 200);
    assert_eq!(fetched.headers()[CONTENT_TYPE], "image/gif");
    assert!(header(&fetched, CACHE_CONTROL).contains("no-store"));
    assert!(fetched.bytes().await.unwrap().starts_with(b"GIF89a"));
    let links = tracking_urls(&scanner, "c");
    assert_eq!(links.len(), 2, "{scanner}");
    for (link, target) in links.iter().zip([MENU, HOURS]) {
        let followed = fetch(link, DESKTOP).await;
        assert_eq!(followed.status(), 302);
        assert_eq!(followed.headers()[LOCATION], target);
    }

    // HEAD answers like GET and records nothing; forged tokens get 404 and no redirect.
    let person_pixel = &tracking_urls(&person, "o")[0];
    let person_links = tracking_urls(&person, "c");
    let head = browser()
        .head(person_pixel)
        .header(USER_AGENT, IPHONE)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let mut forged = person_links[0].clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    for url in [
        forged,
        app.url("/t/c/not-a-token"),
        app.url("/t/o/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        let refused = fetch(&url, IPHONE).await;
        assert_eq!(refused.status(), 404, "{url}");
        assert!(refused.headers().get(LOCATION).is_none(), "{url}");
    }

    // Later, a person opens the message and follows one link.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(fetch(person_pixel, IPHONE).await.status(), 200);
    let followed = fetch(&person_links[0], IPHONE).await;
    assert_eq!(followed.status(), 302);
    assert_eq!(
        followed.headers()[LOCATION],
        MENU,
        "the exact URL, query string and fragment intact"
    );

    // A mail gateway that follows every link of a message at once, later on and with a
    // browser's user agent, is still a scanner: a person does not click everything.
    for link in tracking_urls(&gateway, "c") {
        assert_eq!(fetch(&link, DESKTOP).await.status(), 302);
    }

    let engagement = engagement_when(&app, &token, id, |e| e["raw_clicks"] == 5).await;
    assert_eq!(engagement["delivered"], 4, "{engagement}");
    assert_eq!(engagement["human_opens"], 1, "{engagement}");
    assert_eq!(engagement["machine_opens"], 1, "{engagement}");
    assert_eq!(engagement["human_clicks"], 1, "{engagement}");
    assert_eq!(engagement["scanner_clicks"], 2, "{engagement}");
    assert_eq!(
        engagement["raw_opens"], 2,
        "HEAD is not an open: {engagement}"
    );
    let per_link: Vec<(String, i64, i64)> = engagement["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["url"].as_str().unwrap().to_string(),
                l["human_clicks"].as_i64().unwrap(),
                l["scanner_clicks"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_link,
        vec![(MENU.to_string(), 1, 2), (HOURS.to_string(), 0, 2)]
    );
    assert_eq!(app.count("events").await, 7, "forged tokens record nothing");

    // Each person's timeline says what happened and whether it was them.
    let mut stories = std::collections::HashMap::new();
    for who in ["apple", "person", "scanner"] {
        let subscriber = app
            .api_get(&format!("/subscribers/{}", ids[who]), &token)
            .await;
        let mut story: Vec<(String, String, String)> = subscriber["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "open" || e["kind"] == "click")
            .map(|e| {
                (
                    e["kind"].as_str().unwrap().to_string(),
                    e["verdict"].as_str().unwrap().to_string(),
                    e["url"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        // Two events within the same millisecond may come in either order.
        story.sort();
        stories.insert(who, story);
    }
    let line = |kind: &str, verdict: &str, url: &str| {
        (kind.to_string(), verdict.to_string(), url.to_string())
    };
    assert_eq!(stories["apple"], vec![line("open", "machine", "")]);
    assert_eq!(
        stories["person"],
        vec![line("click", "human", MENU), line("open", "human", "")]
    );
    assert_eq!(
        stories["scanner"],
        vec![
            line("click", "scanner", HOURS),
            line("click", "scanner", MENU)
        ]
    );
}

async fn a_link_with_accents_still_redirects(backend: Backend) {
    let app = spawn_app_with(backend, Options::default()).await;
    let token = app.api_token().await;
    confirmed_email(&app, &token, "reader@example.com").await;
    send_to_everyone(
        &app,
        &token,
        "Menu",
        "See [the café](<https://bakery.example/café?plat=crème brûlée>).",
    )
    .await;
    let html = app.smtp.messages_to("reader@example.com")[0].html();
    let link = &tracking_urls(&html, "c")[0];
    let followed = fetch(link, IPHONE).await;
    assert_eq!(followed.status(), 302);
    let location = followed.headers()[LOCATION].to_str().unwrap().to_string();
    let parsed = url::Url::parse(&location).unwrap();
    assert_eq!(parsed.host_str(), Some("bakery.example"));
    assert_eq!(
        percent_encoding::percent_decode_str(parsed.path())
            .decode_utf8()
            .unwrap(),
        "/café"
    );
    let plat: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    assert_eq!(plat, vec![("plat".to_string(), "crème brûlée".to_string())]);
}

async fn a_hidden_link_gives_a_scanner_away(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options::default().env("HUNDRED_MACHINE_WINDOW_SECONDS", "2"),
    )
    .await;
    let token = app.api_token().await;
    let ids = confirmed_people(&app, &token, &["scanner", "person"]).await;
    let id = &send_to_everyone(
        &app,
        &token,
        "This week",
        &format!("See [the menu]({MENU}) and [our hours]({HOURS})."),
    )
    .await;
    let copy = |who: &str| {
        let messages = app.smtp.messages_to(&format!("{who}@example.com"));
        assert_eq!(messages.len(), 1, "{who}");
        (messages[0].html(), messages[0].text())
    };
    let (scanner, scanner_text) = copy("scanner");
    let (person, _) = copy("person");

    // Every tracked copy carries one hidden link, next to the pixel: no text, not shown, not
    // reachable by keyboard or screen reader, and not in the text part, where only the
    // visible links' real destinations appear.
    let (hidden, tag) = hidden_link(&scanner);
    assert!(hidden.starts_with(&app.url("/t/c/")), "{hidden}");
    assert!(tag.contains("display:none"), "{tag}");
    assert!(tag.contains(r#"aria-hidden="true""#), "{tag}");
    assert!(tag.contains(r#"tabindex="-1""#), "{tag}");
    assert!(tag.ends_with("></a>"), "no text to see: {tag}");
    let pixel = &tracking_urls(&scanner, "o")[0];
    let pixel_at = scanner.find(pixel.as_str()).unwrap();
    let hidden_at = scanner.find(hidden.as_str()).unwrap();
    assert!(
        hidden_at > pixel_at && !scanner[pixel_at..hidden_at].contains("<td"),
        "next to the pixel: {scanner}"
    );
    let links = tracking_urls(&scanner, "c");
    assert_eq!(links.len(), 2, "the visible links: {scanner}");
    assert!(!links.contains(&hidden));
    assert!(!scanner_text.contains("/t/c/"), "{scanner_text}");
    assert!(
        scanner_text.contains(MENU) && scanner_text.contains(HOURS),
        "{scanner_text}"
    );
    let (person_hidden, _) = hidden_link(&person);
    assert_ne!(person_hidden, hidden, "each copy has its own");

    // HEAD on the hidden link answers and records nothing; a forged one is refused.
    let head = browser()
        .head(&person_hidden)
        .header(USER_AGENT, DESKTOP)
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
    let mut forged = hidden.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let refused = fetch(&forged, DESKTOP).await;
    assert_eq!(refused.status(), 404);
    assert!(refused.headers().get(LOCATION).is_none());

    // Past the machine window, a scanner with a desktop browser's user agent follows one
    // visible link (stored as a person's click for now), then the hidden one.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let followed = fetch(&links[0], DESKTOP).await;
    assert_eq!(followed.status(), 302);
    assert_eq!(followed.headers()[LOCATION], MENU);
    let before = Instant::now();
    while app.count("events").await < 1 {
        assert!(before.elapsed() < Duration::from_secs(10), "never stored");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let trap = fetch(&hidden, DESKTOP).await;
    assert_eq!(trap.status(), 200, "an empty page, not a redirect");
    assert!(trap.headers().get(LOCATION).is_none());
    assert!(header(&trap, CONTENT_TYPE).starts_with("text/html"));
    assert!(header(&trap, CACHE_CONTROL).contains("no-store"));
    assert!(
        !trap.text().await.unwrap().contains("http"),
        "it leads nowhere"
    );

    // A person, on the other copy, follows one visible link.
    let person_links = tracking_urls(&person, "c");
    assert_eq!(fetch(&person_links[0], IPHONE).await.status(), 302);

    let engagement = engagement_when(&app, &token, id, |e| e["raw_clicks"] == 3).await;
    assert_eq!(engagement["human_clicks"], 1, "{engagement}");
    assert_eq!(engagement["scanner_clicks"], 1, "{engagement}");
    assert_eq!(engagement["human_opens"], 1, "{engagement}");
    let per_link: Vec<(String, i64, i64)> = engagement["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["url"].as_str().unwrap().to_string(),
                l["human_clicks"].as_i64().unwrap(),
                l["scanner_clicks"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        per_link,
        vec![(MENU.to_string(), 1, 1), (HOURS.to_string(), 0, 0)],
        "the hidden link is not one of the campaign's"
    );
    assert_eq!(app.count("events").await, 3, "HEAD records nothing");
    assert_eq!(
        app.count("deliveries WHERE clicked_at IS NOT NULL").await,
        1,
        "only the person's copy keeps a human click"
    );

    let line = |verdict: &str, reason: &str, url: &str| {
        (verdict.to_string(), reason.to_string(), url.to_string())
    };
    assert_eq!(
        clicks_of(&app, &token, &ids["scanner"]).await,
        vec![
            line(
                "scanner",
                "clicked within 5 s of a hidden link no person can see: a link scanner",
                MENU
            ),
            line("scanner", "followed a hidden link no person can see", ""),
        ]
    );
    assert_eq!(
        clicks_of(&app, &token, &ids["person"]).await,
        vec![line("human", "clicked", MENU)]
    );
}

/// A subscriber's clicks from their timeline, as (verdict, reason, url), sorted.
async fn clicks_of(app: &TestApp, token: &str, subscriber: &str) -> Vec<(String, String, String)> {
    let subscriber = app
        .api_get(&format!("/subscribers/{subscriber}"), token)
        .await;
    let mut clicks: Vec<(String, String, String)> = subscriber["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "click")
        .map(|e| {
            (
                e["verdict"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap().to_string(),
                e["url"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    clicks.sort();
    clicks
}
