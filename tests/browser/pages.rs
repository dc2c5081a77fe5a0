//! A visitor in Chromium: signs up on the hosted form, confirms from the message, gets the
//! welcome, unsubscribes from it and subscribes again; then makes mistakes on the form
//! with markup in their name. Each page passes axe-core's WCAG 2.1 AA rules at desktop
//! width, at phone width and in dark mode. One test per database.

use std::time::Duration;

use serde_json::json;

use crate::driver::{Browser, screenshot_dir};
use crate::helpers::{Backend, Options, TestApp, spawn_app_with};

in_chromium_on_both_databases!(visitor, a_visitor_in_chromium);

/// The hosted form refuses submissions faster than this (HUNDRED_SIGNUP_MIN_FILL_SECONDS).
const MIN_FILL: Duration = Duration::from_secs(1);

const LIST: &str = "Corner Bakery News";

async fn a_visitor_in_chromium(backend: Backend) {
    let label = match backend {
        Backend::Sqlite => "browser-sqlite",
        Backend::Postgres => "browser-postgres",
    };
    remove_old_screenshots(label);
    let app = spawn_app_with(
        backend,
        Options::default().env(
            "HUNDRED_SIGNUP_MIN_FILL_SECONDS",
            &MIN_FILL.as_secs().to_string(),
        ),
    )
    .await;
    let mut browser = Browser::start(label).await;

    signup_confirm_unsubscribe_and_come_back(&app, &mut browser).await;
    mistakes_and_markup_on_the_form(&app, &mut browser).await;

    let shots = browser.close().await;
    for shot in shots {
        println!("screenshot: {}", shot.display());
    }
}

async fn signup_confirm_unsubscribe_and_come_back(app: &TestApp, browser: &mut Browser) {
    // The signup page.
    browser.open(&app.url("/subscribe")).await;
    assert_eq!(browser.path().await, "/subscribe");
    assert_eq!(browser.title().await, format!("Subscribe to {LIST}"));
    assert_eq!(browser.heading().await, format!("Subscribe to {LIST}"));
    let text = browser.visible_text().await;
    for expected in [
        "Email address",
        "Name (optional)",
        "Leave your address and we'll send you a message to confirm it's really you.",
        hundred::config::DEFAULT_CONSENT_TEXT,
    ] {
        assert!(
            text.contains(expected),
            "{expected:?} is visible in {text:?}"
        );
    }
    browser.button("Subscribe").await;

    // Each label belongs to its field: clicking it puts the cursor there.
    for field in ["email", "name"] {
        browser
            .find(&format!("label[for={field}]"))
            .await
            .click()
            .await
            .unwrap();
        assert_eq!(
            browser.js("return document.activeElement.id").await,
            json!(field),
            "clicking the {field} label focuses its field"
        );
    }

    // The honeypot is there for bots but not for people: not shown, not read out, not on
    // the keyboard path from the name field to the button.
    assert!(!text.contains("Leave this field empty"), "{text}");
    let honeypot = browser.find("#website").await;
    assert!(
        !honeypot.is_displayed().await.unwrap(),
        "the honeypot is hidden"
    );
    let (x, _, width, _) = honeypot.rectangle().await.unwrap();
    assert!(
        x + width <= 0.0,
        "the honeypot is off screen (x {x}, width {width})"
    );
    assert_eq!(
        browser
            .js("return document.querySelector('#website').closest('[aria-hidden=true]') !== null")
            .await,
        json!(true),
        "the honeypot is hidden from screen readers"
    );
    let email = browser.find("#email").await;
    email.click().await.unwrap();
    email
        .send_keys(&fantoccini::key::Key::Tab.to_string())
        .await
        .unwrap();
    assert_eq!(
        browser.js("return document.activeElement.id").await,
        json!("name")
    );
    browser
        .client
        .active_element()
        .await
        .unwrap()
        .send_keys(&fantoccini::key::Key::Tab.to_string())
        .await
        .unwrap();
    assert_eq!(
        browser
            .js("return document.activeElement.textContent.trim()")
            .await,
        json!("Subscribe"),
        "Tab goes from the name field straight to the button"
    );
    browser.js("document.activeElement.blur()").await;
    assert_eq!(browser.js("return window.innerWidth").await, json!(1280));
    browser.screenshot("subscribe").await;
    browser
        .assert_accessible_everywhere("the signup page")
        .await;

    // On a phone: nothing sticks out sideways, the fields fit, the button is easy to hit.
    browser.phone(390, 844).await;
    assert_eq!(browser.js("return window.innerWidth").await, json!(390));
    assert_eq!(
        browser
            .js("return document.documentElement.scrollWidth <= window.innerWidth")
            .await,
        json!(true),
        "no horizontal scrolling at 390 px"
    );
    for field in ["#email", "#name"] {
        let (x, _, width, _) = browser.find(field).await.rectangle().await.unwrap();
        assert!(
            x >= 0.0 && x + width <= 390.0,
            "{field} fits the screen: x {x}, width {width}"
        );
    }
    let (_, _, _, height) = browser.button("Subscribe").await.rectangle().await.unwrap();
    assert!(
        height >= 44.0,
        "the button is a comfortable tap target ({height} px)"
    );
    browser.screenshot("subscribe-mobile").await;
    browser.desktop().await;

    // In dark mode the page follows the system.
    browser.dark_mode(true).await;
    assert_eq!(
        browser
            .js("return getComputedStyle(document.body).backgroundColor")
            .await,
        json!("rgb(24, 24, 27)")
    );
    browser.screenshot("subscribe-dark").await;
    browser.dark_mode(false).await;
    assert_eq!(
        browser
            .js("return getComputedStyle(document.body).backgroundColor")
            .await,
        json!("rgb(255, 255, 255)")
    );

    // Ann types her address and name, and presses Subscribe once the minimum fill time is
    // over (a person takes longer than that anyway).
    browser.type_into("#email", "ann@example.com").await;
    browser.type_into("#name", "Ann Baker").await;
    assert_eq!(
        browser.value("#website").await,
        "",
        "a person leaves the honeypot empty"
    );
    wait_past_minimum_fill_time(browser).await;
    browser.press("Subscribe").await;
    assert_eq!(browser.path().await, "/subscribe");
    assert_eq!(browser.title().await, format!("Almost there · {LIST}"));
    assert_eq!(browser.heading().await, "Almost there");
    assert!(browser.visible_text().await.contains("Check your inbox"));
    browser.screenshot("check-your-inbox").await;
    browser
        .assert_accessible_everywhere("the check-your-inbox page")
        .await;

    // The confirmation: she opens it and clicks its button.
    let confirmation = app.smtp.wait_for("ann@example.com", 1).await.remove(0);
    assert_eq!(
        confirmation.subject(),
        format!("Please confirm your subscription to {LIST}")
    );
    let confirm_link = confirmation
        .link_starting_with(&app.url("/confirm/"))
        .expect("the confirmation has a confirm link");
    browser
        .open_mail(&confirmation.html(), "confirmation")
        .await;
    let text = browser.visible_text().await;
    assert!(text.contains("Hello Ann Baker,"), "{text}");
    assert!(text.contains("ann@example.com"), "{text}");
    browser.screenshot("mail-confirmation").await;
    let href = browser.follow_link("Confirm my subscription").await;
    assert_eq!(
        href, confirm_link,
        "the HTML button and the text link agree"
    );

    // The confirm page asks for a press of the button; opening the link changes nothing.
    assert_eq!(browser.url().await, confirm_link);
    assert_eq!(
        browser.title().await,
        format!("Confirm your subscription · {LIST}")
    );
    assert_eq!(browser.heading().await, "Confirm your subscription");
    assert!(
        browser
            .visible_text()
            .await
            .contains(&format!("press the button to start receiving {LIST}"))
    );
    browser.screenshot("confirm").await;
    browser
        .assert_accessible_everywhere("the confirm page")
        .await;
    assert_eq!(
        app.smtp.messages_to("ann@example.com").len(),
        1,
        "no welcome before the button"
    );
    browser.press("Yes, subscribe me").await;
    assert_eq!(browser.url().await, confirm_link);
    assert_eq!(browser.title().await, format!("You're subscribed · {LIST}"));
    assert_eq!(browser.heading().await, "You're subscribed");
    assert!(
        browser
            .visible_text()
            .await
            .contains("A welcome message is on its way")
    );
    browser.screenshot("confirmed").await;
    browser
        .assert_accessible_everywhere("the you're-subscribed page")
        .await;

    // The welcome arrives; its unsubscribe link leads to a page with a button.
    let welcome = app.smtp.wait_for("ann@example.com", 2).await.remove(1);
    assert_eq!(welcome.subject(), format!("Welcome to {LIST}"));
    let unsubscribe_link = welcome
        .link_starting_with(&app.url("/unsubscribe/"))
        .expect("the welcome has an unsubscribe link");
    browser.open_mail(&welcome.html(), "welcome").await;
    assert!(browser.visible_text().await.contains("Hello Ann Baker,"));
    browser.screenshot("mail-welcome").await;
    let href = browser.follow_link("Unsubscribe in one click").await;
    assert_eq!(href, unsubscribe_link);

    assert_eq!(browser.url().await, unsubscribe_link);
    assert_eq!(browser.title().await, format!("Unsubscribe · {LIST}"));
    assert_eq!(browser.heading().await, "Unsubscribe");
    assert!(
        browser
            .visible_text()
            .await
            .contains(&format!("Stop sending {LIST} to ann@example.com?"))
    );
    browser.screenshot("unsubscribe").await;
    browser
        .assert_accessible_everywhere("the unsubscribe page")
        .await;
    browser.press("Unsubscribe").await;
    assert_eq!(browser.url().await, unsubscribe_link);
    assert_eq!(browser.title().await, format!("Unsubscribed · {LIST}"));
    assert_eq!(browser.heading().await, "You're unsubscribed");
    let text = browser.visible_text().await;
    assert!(
        text.contains(&format!("ann@example.com won't receive {LIST} any more")),
        "{text}"
    );
    browser.screenshot("unsubscribed").await;
    browser
        .assert_accessible_everywhere("the unsubscribed page")
        .await;

    // She changes her mind: double opt-in again, with a new confirmation.
    browser.press("Subscribe again").await;
    assert_eq!(
        browser.url().await,
        format!("{unsubscribe_link}/resubscribe")
    );
    assert_eq!(browser.heading().await, "Almost there");
    assert!(browser.visible_text().await.contains("Check your inbox"));
    browser.screenshot("subscribe-again").await;
    browser
        .assert_accessible_everywhere("the page after subscribing again")
        .await;
    let mail = app.smtp.wait_for("ann@example.com", 3).await;
    assert_eq!(
        mail[2].subject(),
        format!("Please confirm your subscription to {LIST}")
    );
    assert!(mail[2].link_starting_with(&app.url("/confirm/")).is_some());
}

async fn mistakes_and_markup_on_the_form(app: &TestApp, browser: &mut Browser) {
    // Markup in a name must come back as text, never as markup, on the page and in mail.
    let name = r#"Mallory "><script>alert('boo')</script><b id="injected">bold</b>"#;

    browser.open(&app.url("/subscribe")).await;
    // Not an address at all: the browser itself refuses to send the form.
    browser.type_into("#email", "mallory").await;
    browser.type_into("#name", name).await;
    wait_past_minimum_fill_time(browser).await;
    browser.press_and_stay("Subscribe").await;
    assert_eq!(
        browser
            .js("return document.querySelector('#email').validity.valid")
            .await,
        json!(false)
    );
    assert_ne!(
        browser
            .js("return document.querySelector('#email').validationMessage")
            .await,
        json!(""),
        "the browser says what is wrong"
    );

    // An address the browser accepts but the server does not: no dot in the domain.
    browser.type_into("#email", "@example").await;
    browser.press("Subscribe").await;
    assert_eq!(browser.path().await, "/subscribe");
    assert_eq!(browser.title().await, format!("Subscribe to {LIST}"));
    let error = browser.find(".error").await;
    assert!(error.is_displayed().await.unwrap(), "the error is visible");
    assert_eq!(
        error.text().await.unwrap(),
        "The part after the @ doesn't look like a complete domain, such as example.com."
    );
    assert_eq!(error.attr("role").await.unwrap().as_deref(), Some("alert"));
    assert_ne!(
        browser
            .js("return getComputedStyle(document.querySelector('.error')).color")
            .await,
        browser
            .js("return getComputedStyle(document.body).color")
            .await,
        "the error stands out from the text around it"
    );
    let (_, error_top, _, _) = error.rectangle().await.unwrap();
    let (_, email_top, _, _) = browser.find("#email").await.rectangle().await.unwrap();
    assert!(error_top < email_top, "the error comes before the form");
    assert_eq!(browser.value("#email").await, "mallory@example");
    assert_eq!(
        browser.value("#name").await,
        name,
        "the name comes back as typed"
    );
    assert_no_markup_ran(browser).await;
    assert!(
        !browser.visible_text().await.contains("alert("),
        "no part of the name leaked out of its field"
    );
    browser.screenshot("invalid-address").await;
    browser
        .assert_accessible_everywhere("the signup page refusing an address")
        .await;
    browser.dark_mode(true).await;
    browser.screenshot("invalid-address-dark").await;
    browser.dark_mode(false).await;
    assert!(app.smtp.messages_to("mallory@example").is_empty());

    // She corrects the address; the name is still there and goes through as typed.
    browser.clear("#email").await;
    browser.type_into("#email", "mallory@example.com").await;
    wait_past_minimum_fill_time(browser).await;
    browser.press("Subscribe").await;
    assert_eq!(browser.heading().await, "Almost there");

    let confirmation = app.smtp.wait_for("mallory@example.com", 1).await.remove(0);
    let text = confirmation.text();
    let greeting = text.lines().filter(|line| !line.trim().is_empty()).nth(1);
    assert_eq!(
        greeting,
        Some(format!("Hello {name},").as_str()),
        "the list's name, then the greeting with the name as typed: {text}"
    );
    browser
        .open_mail(&confirmation.html(), "confirmation-markup")
        .await;
    let text = browser.visible_text().await;
    assert!(
        text.contains(&format!("Hello {name},")),
        "the name shows as text: {text}"
    );
    assert_no_markup_ran(browser).await;
    browser.screenshot("mail-confirmation-markup-name").await;

    // A mangled link gets a friendly page that leads back to the form.
    browser.open(&app.url("/confirm/not-a-real-token")).await;
    assert_eq!(browser.title().await, format!("Link not valid · {LIST}"));
    assert_eq!(browser.heading().await, "This link isn't valid (any more).");
    browser.screenshot("link-invalid").await;
    browser
        .assert_accessible_everywhere("the invalid confirm link page")
        .await;
    browser
        .open(&app.url("/unsubscribe/not-a-real-token"))
        .await;
    assert_eq!(browser.title().await, format!("Link not valid · {LIST}"));
    browser.screenshot("unsubscribe-link-invalid").await;
    browser
        .assert_accessible_everywhere("the invalid unsubscribe link page")
        .await;
    browser.open(&app.url("/confirm/not-a-real-token")).await;
    browser.follow_link("Sign up again").await;
    assert_eq!(browser.path().await, "/subscribe");
    assert_eq!(browser.heading().await, format!("Subscribe to {LIST}"));
}

/// The page shows no dialog, has no script element, and nothing the name tried to inject.
async fn assert_no_markup_ran(browser: &Browser) {
    browser.assert_no_alert().await;
    assert_eq!(browser.count("script").await, 0, "no script element");
    assert_eq!(browser.count("#injected").await, 0, "no injected element");
}

/// Waits until the form on screen has been open longer than the minimum fill time.
async fn wait_past_minimum_fill_time(browser: &Browser) {
    let ready = browser.loaded_at + MIN_FILL + Duration::from_millis(300);
    tokio::time::sleep_until(tokio::time::Instant::from_std(ready)).await;
}

/// Screenshots from an earlier run of this test would mix with this run's.
pub fn remove_old_screenshots(label: &str) {
    let Ok(entries) = std::fs::read_dir(screenshot_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if name.starts_with(&format!("{label}-")) && name.ends_with(".png") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
