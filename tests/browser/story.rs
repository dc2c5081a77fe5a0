//! The owner makes the newsletter their own in Chromium, without a restart: on the Images
//! page they add a logo; on the settings page they set the list's name, its accent colour,
//! the logo, the postal address and German; on the templates page they rewrite the welcome
//! with the live preview. The signup page shows the new look at once, and so does a second
//! instance sharing the database; a reader signs up there, and the confirmation (read from
//! the SMTP server and opened in the browser), the welcome and the next campaign carry the
//! name, the logo, the colour, the address and the language. Every page passes axe-core's
//! WCAG 2.1 AA rules at desktop and phone width; screenshots in `target/screenshots/`.

use std::io::Cursor;
use std::time::{Duration, Instant};

use image::{DynamicImage, ImageFormat, RgbImage};
use serde_json::json;

use crate::driver::Browser;
use crate::helpers::{Backend, Captured, Options, spawn_app_with};

in_chromium_on_both_databases!(story_in_chromium, the_owners_own_newsletter);

const LIST: &str = "Mühle & Brot";
const GREEN: &str = "#2e6b3a";
const STREET: &str = "Mühlenweg 3";
const TOWN: &str = "12345 Roggenau";
const WELCOME_WORDS: &str = "Frisches Brot jeden Donnerstag";

/// Polls `check` until it holds; fails with `what` after `seconds`.
async fn within<F, Fut>(seconds: u64, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !check().await {
        assert!(Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The logo's pixels arrived and it is shown.
async fn logo_loaded(browser: &Browser, css: &str) -> bool {
    browser
        .js(&format!(
            "const img = document.querySelector('{css}'); return !!(img && img.complete && img.naturalWidth > 0);"
        ))
        .await
        == json!(true)
}

/// Mail, HTML and text, shows the list's name, the postal address and the logo.
fn assert_owned(mail: &Captured, what: &str) {
    let (html, text) = (mail.html(), mail.text());
    assert_eq!(
        mail.header("Content-Language").as_deref(),
        Some("de"),
        "{what}"
    );
    assert!(html.contains("lang=\"de\""), "{what}: lang on the mail");
    for line in [STREET, TOWN] {
        assert!(
            html.contains(line),
            "{what}: the postal address in the HTML"
        );
        assert!(
            text.contains(line),
            "{what}: the postal address in the text"
        );
    }
    assert!(html.contains("/media/"), "{what}: the logo");
    assert!(html.contains(GREEN), "{what}: the accent colour");
    assert!(
        html.contains("Mühle &amp; Brot") || html.contains("Mühle &#38; Brot"),
        "{what}: the list's name"
    );
}

async fn the_owners_own_newsletter(backend: Backend) {
    let label = match backend {
        Backend::Sqlite => "story-sqlite",
        Backend::Postgres => "story-postgres",
    };
    crate::pages::remove_old_screenshots(label);
    let app = spawn_app_with(backend, Options::default().unset("HUNDRED_LIST_NAME")).await;
    let token = app.api_token().await;
    app.confirmed_subscriber("ann@example.com").await;
    let mut browser = Browser::start(label).await;
    crate::images::set_up_the_owner(&app, &mut browser).await;
    // A second instance on the same database (started once the owner exists: a start
    // before would make a setup link of its own).
    let second = spawn_app_with(
        backend,
        Options {
            database_url: Some(app.database_url.clone()),
            ..Options::default()
                .unset("HUNDRED_LIST_NAME")
                .sending_to(&app.smtp)
        },
    )
    .await;

    // The logo, on the Images page.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("muehle.png");
    let pixels = RgbImage::from_fn(320, 96, |x, y| {
        image::Rgb([40 + (x % 60) as u8, 90 + (y % 40) as u8, 50])
    });
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    std::fs::write(&file, &png).unwrap();
    browser.open(&app.url("/admin/media")).await;
    browser
        .find("#media-file")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    browser.press("Add image").await;
    assert_eq!(
        browser.count("img[src*=\"/media/\"]").await,
        1,
        "the image listed"
    );

    // The settings page: name, colour, logo, postal address, German.
    browser.open(&app.url("/admin/settings")).await;
    browser.clear("#setting-list_name").await;
    browser.type_into("#setting-list_name", LIST).await;
    browser.clear("#setting-accent_color").await;
    browser.type_into("#setting-accent_color", GREEN).await;
    browser
        .js("const logo = document.querySelector('#setting-logo'); logo.selectedIndex = 1; logo.dispatchEvent(new Event('change'));")
        .await;
    browser
        .type_into("#setting-postal_address", &format!("{STREET}\n{TOWN}"))
        .await;
    browser
        .find("#setting-language")
        .await
        .select_by_value("de")
        .await
        .unwrap();
    browser.press("Save settings").await;
    assert_eq!(browser.count("#settings-saved").await, 1, "saved");
    assert!(
        logo_loaded(&browser, "#logo-preview").await,
        "the logo on the settings page"
    );
    browser
        .assert_accessible_everywhere("the settings page, the list made the owner's")
        .await;
    browser.screenshot("settings-owned").await;

    // The welcome in the owner's words, with the live preview in German.
    browser.open(&app.url("/admin/templates")).await;
    browser
        .assert_accessible_everywhere("the templates page")
        .await;
    browser.screenshot("templates").await;
    browser
        .open(&app.url("/admin/templates/message/welcome"))
        .await;
    browser.clear("#part-body").await;
    browser
        .type_into("#part-body", &format!("Hallo!\n\n**{WELCOME_WORDS}.**"))
        .await;
    within(15, "the live preview shows the new words", || async {
        let srcdoc = browser
            .js("return document.querySelector('#preview-html').getAttribute('srcdoc') || ''")
            .await;
        srcdoc
            .as_str()
            .is_some_and(|html| html.contains(WELCOME_WORDS) && html.contains(STREET))
    })
    .await;
    browser
        .assert_accessible_everywhere("the welcome's editor with its preview")
        .await;
    browser.screenshot("template-welcome").await;
    browser.press("Save").await;
    let saved = browser.visible_text().await;
    assert!(saved.contains("your version 1"), "saved: {saved}");

    // The signup page on this instance at once, on the other within seconds.
    browser.open(&app.url("/subscribe")).await;
    assert_eq!(
        browser.js("return document.documentElement.lang").await,
        json!("de")
    );
    assert!(
        logo_loaded(&browser, "img.logo").await,
        "the logo on the signup page"
    );
    browser
        .assert_accessible_everywhere("the signup page, owned and in German")
        .await;
    browser.screenshot("signup-owned").await;
    within(
        5,
        "the second instance shows the new look within 5 s",
        || async {
            let page = second.get("/subscribe").await.text().await.unwrap();
            page.contains("lang=\"de\"")
                && page.contains("Mühle &amp; Brot")
                && page.contains(GREEN)
        },
    )
    .await;
    let page = second.get("/subscribe").await.text().await.unwrap();
    assert!(page.contains("/media/"), "the logo on the second instance");

    // A reader signs up on the second instance.
    browser.open(&second.url("/subscribe")).await;
    assert!(
        logo_loaded(&browser, "img.logo").await,
        "the logo there too"
    );
    browser.type_into("#email", "lena@example.com").await;
    browser.type_into("#name", "Lena").await;
    browser.press("Abonnieren").await;
    let confirmation = app.smtp.wait_for("lena@example.com", 1).await.remove(0);
    assert!(
        confirmation.subject().contains(LIST),
        "{}",
        confirmation.subject()
    );
    assert!(
        confirmation.subject().contains("bestätigen"),
        "{}",
        confirmation.subject()
    );
    assert_owned(&confirmation, "the confirmation");
    browser
        .open_mail(&confirmation.html(), "confirmation-owned")
        .await;
    assert!(
        logo_loaded(&browser, "img[src*=\"/media/\"]").await,
        "the logo in the mail"
    );
    browser.screenshot("mail-confirmation-owned").await;

    // Whichever instance's worker sent it wrote its own address (in production they share
    // one public URL).
    let link = confirmation
        .link_starting_with(&second.url("/confirm/"))
        .or_else(|| confirmation.link_starting_with(&app.url("/confirm/")))
        .expect("the confirm link");
    browser.open(&link).await;
    browser.press("Ja, jetzt abonnieren").await;
    let welcome = app.smtp.wait_for("lena@example.com", 2).await.remove(1);
    assert!(
        welcome.html().contains(WELCOME_WORDS),
        "the owner's welcome"
    );
    assert_owned(&welcome, "the welcome");

    // The next campaign, sent by the first instance.
    let campaign = app
        .create_campaign(
            &token,
            json!({ "subject": "Roggen ist zurück", "body": "Ab Donnerstag wieder da." }),
        )
        .await;
    let id = campaign["id"].as_str().unwrap().to_string();
    app.send_campaign_now(&token, &id).await;
    app.wait_for_campaign(&token, &id, "sent").await;
    let copy = app
        .smtp
        .messages_to("lena@example.com")
        .into_iter()
        .find(|m| m.subject() == "Roggen ist zurück")
        .expect("Lena's copy");
    assert_owned(&copy, "the campaign");
    assert!(
        copy.text().contains("Mit einem Klick abmelden"),
        "the footer in German"
    );
    browser.open_mail(&copy.html(), "campaign-owned").await;
    assert!(
        logo_loaded(&browser, "img[src*=\"/media/\"]").await,
        "the logo in the copy"
    );
    browser.screenshot("mail-campaign-owned").await;

    let shots = browser.close().await;
    for shot in shots {
        println!("screenshot: {}", shot.display());
    }
    let _ = second;
}
