//! The reader's side of every copy: "View in your browser" (`/v/…`) and "Your
//! subscription" (`/me/…`), used as a reader would, from the links in a copy they got.
//! Forged and erased links find nothing; a GET never changes anything; every change is a
//! button, recorded in the consent history.

use std::time::Duration;

use reqwest::header::{LOCATION, USER_AGENT};

use crate::fixtures::{
    DESKTOP, IPHONE, confirmed, confirmed_email, engagement_when, send_to_everyone,
};
use crate::helpers::{
    Backend, Captured, Options, TestApp, assert_contains, browser, spawn_app, spawn_app_with,
    tracking_urls,
};
use crate::on_both_databases;

on_both_databases!(
    the_web_version_is_the_readers_copy_and_opening_it_counts,
    the_readers_page_says_what_is_held_and_only_buttons_change_it,
    a_name_that_cannot_be_kept_is_refused_with_a_sentence,
    a_pause_keeps_campaigns_away_until_it_ends,
    a_pause_is_not_counted_against_the_reader,
    a_reader_downloads_leaves_and_erases_themselves,
    forged_and_erased_links_find_nothing,
    one_client_cannot_try_tokens_without_end,
);

const NAME: &str = "Annabel Quist";
const EMAIL: &str = "annabel@example.com";
const BODY: &str = "Hello {{ subscriber.name | default(value=\"friend\") }} from \
{{ subscriber.attributes.city | default(value=\"your town\") }}!\n\n\
Rye is back on Friday. [Order a loaf](https://bakery.example/order?kind=rye).";

/// Annabel, confirmed with a name and a city, and the copy of "Rye is back!" she got.
async fn annabel_with_a_copy(app: &TestApp, token: &str) -> Captured {
    confirmed(
        app,
        token,
        EMAIL,
        Some(NAME),
        serde_json::json!({ "city": "Lindenhof" }),
    )
    .await;
    send_to_everyone(app, token, "Rye is back!", BODY).await;
    app.smtp.wait_for(EMAIL, 1).await.remove(0)
}

/// The copy's link to `/v/…` or `/me/…`, in its text part; the HTML part has the same.
fn link(app: &TestApp, copy: &Captured, prefix: &str) -> String {
    let link = copy
        .link_starting_with(&app.url(prefix))
        .unwrap_or_else(|| panic!("the copy's text links {prefix}: {}", copy.text()));
    assert_contains(&copy.html(), &link, "the HTML part links the same");
    link
}

async fn get_as_person(url: &str) -> reqwest::Response {
    get_with(url, DESKTOP).await
}

async fn get_with(url: &str, agent: &str) -> reqwest::Response {
    browser()
        .get(url)
        .header(USER_AGENT, agent)
        .send()
        .await
        .unwrap()
}

async fn post(url: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    browser()
        .post(url)
        .header(USER_AGENT, DESKTOP)
        .form(fields)
        .send()
        .await
        .unwrap()
}

async fn subscriber(app: &TestApp, token: &str) -> serde_json::Value {
    let list = app.api_get("/subscribers?limit=1000", token).await;
    list["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|person| person["email"] == EMAIL)
        .cloned()
        .unwrap_or(serde_json::Value::Null)
}

async fn history(app: &TestApp, token: &str, id: &str) -> Vec<String> {
    let export = app
        .api_get(&format!("/subscribers/{id}/export"), token)
        .await;
    export["consent_history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|event| event["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn the_web_version_is_the_readers_copy_and_opening_it_counts(backend: Backend) {
    // Opens sooner than this after delivery are software's; a person takes longer.
    let options = Options::default().env("HUNDRED_MACHINE_WINDOW_SECONDS", "2");
    let app = spawn_app_with(backend, options).await;
    let token = app.api_token().await;
    let copy = annabel_with_a_copy(&app, &token).await;
    assert_contains(&copy.html(), "View in your browser", "the link's words");
    let web = link(&app, &copy, "/v/");

    // A link checker's HEAD shows the page exists and records nothing.
    assert_eq!(app.head(&web).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let shown = get_as_person(&web).await;
    assert_eq!(shown.status(), 200);
    let headers = shown.headers().clone();
    assert_eq!(headers["x-robots-tag"], "noindex");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let html = shown.text().await.unwrap();
    assert_contains(&html, "Hello Annabel Quist from Lindenhof!", "her own copy");
    assert_contains(&html, "/me/", "her page is linked from it");
    assert!(
        !html.contains("View in your browser"),
        "it does not link itself"
    );
    assert!(!html.contains("/t/o/"), "no open pixel in the web version");
    assert!(
        !html.contains("aria-hidden=\"true\" tabindex=\"-1\""),
        "no hidden link for scanners either"
    );
    let clicks = tracking_urls(&html, "c");
    assert_eq!(clicks.len(), 1, "the one link is tracked: {html}");
    let followed = get_as_person(&clicks[0]).await;
    assert_eq!(followed.status(), 302);
    assert_eq!(
        followed.headers()[LOCATION],
        "https://bakery.example/order?kind=rye"
    );

    let campaigns = app.api_get("/campaigns", &token).await;
    let id = campaigns["campaigns"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let engagement = engagement_when(&app, &token, &id, |e| {
        e["human_opens"] == 1 && e["human_clicks"] == 1
    })
    .await;
    assert_eq!(
        engagement["raw_opens"], 1,
        "HEAD is not an open: {engagement}"
    );
}

async fn the_readers_page_says_what_is_held_and_only_buttons_change_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let copy = annabel_with_a_copy(&app, &token).await;
    assert_contains(&copy.html(), "Your subscription", "the footer's words");
    let me = link(&app, &copy, "/me/");
    let page = get_as_person(&me).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    for held in [
        EMAIL,
        NAME,
        "Rye is back!",
        "asked at the counter",
        "Subscribed",
    ] {
        assert_contains(&page, held, "what the list holds, in words");
    }

    // Link scanners GET whatever a page links: none of the buttons' URLs does anything.
    for action in ["name", "pause", "download", "unsubscribe"] {
        let url = format!("{me}/{action}");
        let got = get_as_person(&url).await;
        assert_eq!(got.status(), 405, "{url}");
        assert!(got.headers().get(LOCATION).is_none());
    }
    let question = get_as_person(&format!("{me}/erase")).await;
    assert_eq!(question.status(), 200);
    assert_contains(
        &question.text().await.unwrap(),
        "Yes, erase me",
        "erasing asks first",
    );
    let held = subscriber(&app, &token).await;
    assert_eq!(held["name"], NAME);
    assert_eq!(held["status"], "confirmed");
    let id = held["id"].as_str().unwrap().to_string();
    assert!(
        !history(&app, &token, &id)
            .await
            .contains(&"name_changed".into())
    );

    let renamed = post(&format!("{me}/name"), &[("name", "  Anna Quist ")]).await;
    assert_eq!(renamed.status(), 200);
    assert_contains(
        &renamed.text().await.unwrap(),
        "Your name is saved.",
        "the page says so",
    );
    assert_eq!(subscriber(&app, &token).await["name"], "Anna Quist");
    assert!(
        history(&app, &token, &id)
            .await
            .contains(&"name_changed".into())
    );
    // An empty name is no name.
    assert_eq!(
        post(&format!("{me}/name"), &[("name", "")]).await.status(),
        200
    );
    assert!(subscriber(&app, &token).await["name"].is_null());
}

async fn a_name_that_cannot_be_kept_is_refused_with_a_sentence(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let copy = annabel_with_a_copy(&app, &token).await;
    let me = link(&app, &copy, "/me/");
    let long = "A".repeat(300);
    for (name, sentence) in [
        ("Anna\r\nBcc: everyone@example.com", "contain line breaks"),
        ("Anna\u{7}", "contain line breaks"),
        (long.as_str(), "too long"),
    ] {
        let refused = post(&format!("{me}/name"), &[("name", name)]).await;
        assert_eq!(refused.status(), 422, "{name:?}");
        let page = refused.text().await.unwrap();
        assert_contains(&page, sentence, "the sentence says why");
        assert_contains(&page, "aria-invalid=\"true\"", "by the field");
    }
    assert_eq!(subscriber(&app, &token).await["name"], NAME, "unchanged");
}

async fn a_pause_keeps_campaigns_away_until_it_ends(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let copy = annabel_with_a_copy(&app, &token).await;
    confirmed_email(&app, &token, "bert@example.com").await;
    let me = link(&app, &copy, "/me/");

    for days in ["7", "", "-30", "30000000000000"] {
        let refused = post(&format!("{me}/pause"), &[("days", days)]).await;
        assert_eq!(refused.status(), 400, "{days:?}");
    }
    let paused = post(&format!("{me}/pause"), &[("days", "30")]).await;
    assert_eq!(paused.status(), 200);
    let page = paused.text().await.unwrap();
    assert_contains(&page, "Paused until", "the page says until when");
    let held = subscriber(&app, &token).await;
    let id = held["id"].as_str().unwrap().to_string();
    assert!(history(&app, &token, &id).await.contains(&"paused".into()));

    // The owner sees the pause on her page.
    let owner = app.owner().await;
    let person = owner.page(&format!("/admin/subscribers/{id}")).await;
    assert_contains(&person, "paused until", "the owner's page shows the pause");
    assert_contains(
        &person,
        "Paused their mail from their own page",
        "and its line in the history",
    );

    send_to_everyone(&app, &token, "Spelt on Tuesday", "Spelt is back.").await;
    app.smtp.wait_for("bert@example.com", 1).await;
    let annabel: Vec<String> = app
        .smtp
        .messages_to(EMAIL)
        .iter()
        .map(Captured::subject)
        .collect();
    assert_eq!(annabel, ["Rye is back!"], "nothing while paused");
}

/// Two readers who opened the last issue four months ago are both quiet; the one who
/// pauses for 90 days has those days credited, and is engaged again.
async fn a_pause_is_not_counted_against_the_reader(backend: Backend) {
    let options = Options::default().env("HUNDRED_MACHINE_WINDOW_SECONDS", "0");
    let app = spawn_app_with(backend, options).await;
    let token = app.api_token().await;
    let ann = confirmed_email(&app, &token, EMAIL).await;
    let bert = confirmed_email(&app, &token, "bert@example.com").await;
    app.move_back(
        "subscribers",
        &["created_at", "signed_up_at", "confirmed_at"],
        300,
    )
    .await;
    let mut last = String::new();
    for week in 1..=3 {
        last = send_to_everyone(&app, &token, &format!("Week {week}"), "Fresh bread.").await;
    }
    for who in [EMAIL, "bert@example.com"] {
        let copy = app.smtp.messages_to(who).pop().unwrap();
        let pixel = &tracking_urls(&copy.html(), "o")[0];
        assert_eq!(get_with(pixel, IPHONE).await.status(), 200);
    }
    engagement_when(&app, &token, &last, |e| e["human_opens"] == 2).await;
    let signals = ["last_open_at", "last_signal_at"];
    app.move_back("engagement", &signals, 120).await;
    app.move_back("events", &["at"], 120).await;
    let tier = |id: String| {
        let app = &app;
        let token = &token;
        async move { app.api_get(&format!("/subscribers/{id}"), token).await["tier"].clone() }
    };
    assert_eq!(tier(ann.clone()).await, "quiet");
    assert_eq!(tier(bert.clone()).await, "quiet");

    let copy = app.smtp.messages_to(EMAIL).pop().unwrap();
    let me = link(&app, &copy, "/me/");
    assert_eq!(
        post(&format!("{me}/pause"), &[("days", "90")])
            .await
            .status(),
        200
    );
    assert_eq!(tier(ann).await, "engaged", "the 90 days are credited");
    assert_eq!(tier(bert).await, "quiet", "nobody else's");
}

async fn a_reader_downloads_leaves_and_erases_themselves(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let copy = annabel_with_a_copy(&app, &token).await;
    let me = link(&app, &copy, "/me/");
    let web = link(&app, &copy, "/v/");
    let id = subscriber(&app, &token).await["id"]
        .as_str()
        .unwrap()
        .to_string();

    let download = post(&format!("{me}/download"), &[]).await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "application/json");
    let disposition = download.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let theirs: serde_json::Value = download.json().await.unwrap();
    let owners = app
        .api_get(&format!("/subscribers/{id}/export"), &token)
        .await;
    assert_eq!(
        theirs["subscriber"], owners["subscriber"],
        "the owner's export"
    );
    assert!(
        history(&app, &token, &id)
            .await
            .contains(&"exported".into())
    );

    let left = post(&format!("{me}/unsubscribe"), &[]).await;
    assert_eq!(left.status(), 200);
    assert_contains(
        &left.text().await.unwrap(),
        "You are unsubscribed",
        "the page",
    );
    assert_eq!(subscriber(&app, &token).await["status"], "unsubscribed");

    // Only the confirmation's button erases.
    assert_eq!(post(&format!("{me}/erase"), &[]).await.status(), 200);
    assert_eq!(
        app.count("subscribers").await,
        1,
        "asked again, nothing erased"
    );
    let erased = post(&format!("{me}/erase"), &[("confirm", "yes")]).await;
    assert_eq!(erased.status(), 200);
    assert_contains(&erased.text().await.unwrap(), "You are erased", "the page");
    assert_eq!(app.count("subscribers").await, 0);

    for url in [me.clone(), web, format!("{me}/erase")] {
        let gone = get_as_person(&url).await;
        assert_eq!(gone.status(), 404, "{url}");
        assert!(gone.headers().get(LOCATION).is_none());
    }
    // The owner's pages count it, without the address.
    let owner = app.owner().await;
    let list = owner.page("/admin/subscribers").await;
    assert_contains(&list, "1 erased themselves", "the list's counts");
    assert!(!list.contains(EMAIL));
}

async fn forged_and_erased_links_find_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let copy = annabel_with_a_copy(&app, &token).await;
    let me = link(&app, &copy, "/me/");
    let web = link(&app, &copy, "/v/");
    let swap = |url: &str| {
        let mut forged = url.to_string();
        let last = forged.pop().unwrap();
        forged.push(if last == 'A' { 'B' } else { 'A' });
        forged
    };
    // The unsubscribe link's token is signed too, but for another purpose.
    let unsubscribe = copy.link_starting_with(&app.url("/unsubscribe/")).unwrap();
    let other_purpose = app.url(&format!("/me/{}", unsubscribe.rsplit('/').next().unwrap()));
    let events = app.count("events").await;
    for url in [
        swap(&me),
        swap(&web),
        other_purpose,
        app.url("/me/not-a-token"),
        app.url("/v/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
    ] {
        let refused = get_as_person(&url).await;
        assert_eq!(refused.status(), 404, "{url}");
        assert!(refused.headers().get(LOCATION).is_none(), "{url}");
        let said = refused.text().await.unwrap();
        assert_contains(&said, "Your subscription", "the way back is named");
        for action in ["name", "pause", "unsubscribe", "download", "erase"] {
            let fields = [("name", "Mallory"), ("days", "30"), ("confirm", "yes")];
            let refused = post(&format!("{url}/{action}"), &fields).await;
            assert_eq!(refused.status(), 404, "{url}/{action}");
        }
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(app.count("events").await, events, "nothing recorded");
    let held = subscriber(&app, &token).await;
    assert_eq!(held["name"], NAME);
    assert_eq!(held["status"], "confirmed");
}

/// Someone guessing at links from one address is slowed down: after 60 requests in a row,
/// the answer is 429 with the page saying so; the real page answers again later.
async fn one_client_cannot_try_tokens_without_end(backend: Backend) {
    let app = spawn_app(backend).await;
    for n in 0..60 {
        let guess = app.url(&format!("/me/guess-{n}"));
        assert_eq!(get_as_person(&guess).await.status(), 404, "{guess}");
    }
    let refused = get_as_person(&app.url("/me/guess-60")).await;
    assert_eq!(refused.status(), 429);
    assert!(refused.headers().get("retry-after").is_some());
    let refused = post(&app.url("/v/guess-61"), &[]).await;
    assert_eq!(
        refused.status(),
        429,
        "the web versions share the allowance"
    );
}
