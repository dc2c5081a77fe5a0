//! The public face in Chromium. A visitor reads the archive of past issues, opens one,
//! subscribes from under it and confirms. A reader opens "View in your browser" and "Your
//! subscription" from a copy they got, pauses, downloads their data and erases themselves.
//! Every page passes axe-core's WCAG 2.1 AA rules at desktop and phone width and in dark
//! mode; screenshots at both widths land in `target/screenshots/`.

use std::time::Duration;

use serde_json::json;

use crate::driver::{Browser, PHONE};
use crate::helpers::{Backend, Options, TestApp, spawn_app_with};

in_chromium_on_both_databases!(reader_in_chromium, the_reader_in_chromium);

const READER: &str = "annabel@example.com";
const VISITOR: &str = "vera@example.com";
const SUBJECT: &str = "Rye is back!";
const BODY: &str = "Hello {{ subscriber.name | default(value=\"friend\") }}!\n\n\
Rye is back on Friday, baked slowly overnight. [Order a loaf](https://bakery.example/order).";

async fn the_reader_in_chromium(backend: Backend) {
    let label = match backend {
        Backend::Sqlite => "reader-sqlite",
        Backend::Postgres => "reader-postgres",
    };
    crate::pages::remove_old_screenshots(label);
    let options = Options::default()
        .env("HUNDRED_SIGNUP_MIN_FILL_SECONDS", "1")
        .env("HUNDRED_MACHINE_WINDOW_SECONDS", "0");
    let app = spawn_app_with(backend, options).await;
    let token = app.api_token().await;
    let added = app
        .api_json(
            reqwest::Method::POST,
            "/subscribers",
            &token,
            &json!({ "email": READER, "name": "Annabel", "status": "confirmed",
                     "consent": "asked at the counter" }),
        )
        .await;
    assert_eq!(added.status(), 201);
    let campaign = app
        .create_campaign(&token, json!({ "subject": SUBJECT, "body": BODY }))
        .await;
    let id = campaign["id"].as_str().unwrap().to_string();
    app.send_campaign_now(&token, &id).await;
    app.wait_for_campaign(&token, &id, "sent").await;
    let mut browser = Browser::start(label).await;

    a_visitor_reads_the_archive_and_subscribes(&app, &token, &mut browser).await;
    a_reader_manages_their_subscription(&app, &token, &mut browser).await;

    let shots = browser.close().await;
    for shot in shots {
        println!("screenshot: {}", shot.display());
    }
}

/// Takes a screenshot at desktop width and one at phone width.
async fn screenshots(browser: &mut Browser, name: &str) {
    browser.screenshot(name).await;
    browser.phone(PHONE.0, PHONE.1).await;
    browser.screenshot(&format!("{name}-phone")).await;
    browser.desktop().await;
}

async fn a_visitor_reads_the_archive_and_subscribes(
    app: &TestApp,
    token: &str,
    browser: &mut Browser,
) {
    browser.open(&app.url("/archive")).await;
    assert_eq!(browser.heading().await, "Past issues");
    browser.assert_accessible_everywhere("the archive").await;
    screenshots(browser, "archive").await;

    browser.follow_link(SUBJECT).await;
    assert!(browser.path().await.starts_with("/archive/"));
    let text = browser.visible_text().await;
    assert!(text.contains("Hello friend!"), "{text}");
    assert!(!text.contains("Annabel"), "nothing of the reader: {text}");
    browser
        .assert_accessible_everywhere("an archived issue")
        .await;
    screenshots(browser, "archive-issue").await;

    // Subscribing from under the issue: the same double opt-in.
    browser.type_into("#email", VISITOR).await;
    let ready = browser.loaded_at + Duration::from_millis(1_300);
    tokio::time::sleep_until(tokio::time::Instant::from_std(ready)).await;
    browser.press("Subscribe").await;
    assert_eq!(browser.heading().await, "Almost there");
    let confirmation = app.smtp.wait_for(VISITOR, 1).await.remove(0);
    browser
        .open_mail(&confirmation.html(), "archive-confirmation")
        .await;
    browser.follow_link("Confirm my subscription").await;
    browser.press("Yes, subscribe me").await;
    let list = app.api_get("/subscribers?limit=100", token).await;
    let vera = list["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|person| person["email"] == VISITOR)
        .cloned()
        .expect("the visitor is on the list");
    assert_eq!(vera["status"], "confirmed");
    assert_eq!(vera["consent"]["source"], "archive");
}

async fn a_reader_manages_their_subscription(app: &TestApp, token: &str, browser: &mut Browser) {
    let copy = app.smtp.wait_for(READER, 1).await.remove(0);
    browser.open_mail(&copy.html(), "copy").await;
    let web = browser.follow_link("View in your browser").await;
    assert!(web.starts_with(&app.url("/v/")), "{web}");
    let text = browser.visible_text().await;
    assert!(text.contains("Hello Annabel!"), "her own copy: {text}");
    browser
        .assert_accessible_everywhere("the web version")
        .await;
    screenshots(browser, "web-version").await;

    let page = browser.follow_link("Your subscription").await;
    assert!(page.starts_with(&app.url("/me/")), "{page}");
    assert_eq!(
        browser.heading().await,
        "Your subscription to Corner Bakery News"
    );
    let text = browser.visible_text().await;
    for held in [READER, "Annabel", SUBJECT, "asked at the counter"] {
        assert!(text.contains(held), "{held:?} in {text}");
    }
    browser
        .assert_accessible_everywhere("the reader's page")
        .await;
    screenshots(browser, "own-page").await;
    browser
        .js("document.querySelector('#name').scrollIntoView()")
        .await;
    screenshots(browser, "own-page-buttons").await;

    browser.press("Pause for 30 days").await;
    let text = browser.visible_text().await;
    assert!(text.contains("Paused until"), "{text}");
    browser
        .assert_accessible_everywhere("the reader's page, paused")
        .await;
    screenshots(browser, "own-page-paused").await;

    let saved = browser.download_by("Download my data").await;
    let data: serde_json::Value = serde_json::from_slice(&saved).expect("the file is JSON");
    assert_eq!(data["subscriber"]["email"], READER, "{data}");

    browser.press("Erase me entirely…").await;
    assert_eq!(
        browser.heading().await,
        "Erase yourself from Corner Bakery News?"
    );
    browser
        .assert_accessible_everywhere("the erase question")
        .await;
    screenshots(browser, "own-erase").await;
    browser.press("Yes, erase me").await;
    assert_eq!(browser.heading().await, "You are erased");
    browser.assert_accessible_everywhere("erased").await;
    screenshots(browser, "own-erased").await;
    let list = app.api_get("/subscribers?limit=100", token).await;
    assert!(!list.to_string().contains(READER), "{list}");

    // The page's link is dead for good.
    browser.open(&page).await;
    assert_eq!(browser.heading().await, "This link isn't valid (any more).");
    browser
        .assert_accessible_everywhere("a link that no longer works")
        .await;
}
