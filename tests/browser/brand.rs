//! The list's look in Chromium: with a light accent (yellow) and then a dark one (navy)
//! and a logo, the signup page shows the logo (loaded: the page's policy lets it in) and
//! passes axe-core's WCAG 2.1 AA rules at desktop width, at phone width and in dark mode,
//! so the colours drawn from the accent read on white and on the dark paper; the
//! confirmation shows the logo too; the settings page offers the logo as a choice among
//! the uploaded images and passes axe-core with it.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};
use serde_json::json;

use crate::driver::Browser;
use crate::helpers::{Backend, TestApp, spawn_app};

in_chromium_on_both_databases!(brand_in_chromium, the_look_in_chromium);

const OWNER: &str = "owner@bakery.example";
const PASSWORD: &str = "flour and water and salt";

/// A 300×90 PNG logo, uploaded through the API; its id and URL.
async fn upload_logo(app: &TestApp, token: &str) -> (String, String) {
    let pixels = RgbImage::from_fn(300, 90, |x, y| {
        image::Rgb([(x % 256) as u8, (y * 2 % 256) as u8, 60])
    });
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .unwrap();
    let response = app
        .api(reqwest::Method::POST, "/media", token)
        .await
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let json: serde_json::Value = response.json().await.unwrap();
    (
        json["id"].as_str().unwrap().to_string(),
        json["url"].as_str().unwrap().to_string(),
    )
}

/// The logo on screen has loaded (its pixels arrived) and is shown at most 200×64.
async fn assert_logo_shown(browser: &Browser, css: &str) {
    let size = browser
        .js(&format!(
            "const img = document.querySelector('{css}'); \
             return img && img.complete ? [img.naturalWidth, img.width, img.height] : null;"
        ))
        .await;
    let size = size
        .as_array()
        .unwrap_or_else(|| panic!("the logo {css} is on the page"));
    assert_eq!(size[0], 300, "the logo's pixels arrived");
    let (width, height) = (size[1].as_u64().unwrap(), size[2].as_u64().unwrap());
    assert!(width <= 200 && height <= 64, "{width}×{height}");
}

async fn the_look_in_chromium(backend: Backend) {
    let label = match backend {
        Backend::Sqlite => "brand-sqlite",
        Backend::Postgres => "brand-postgres",
    };
    crate::pages::remove_old_screenshots(label);
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let (logo, _) = upload_logo(&app, &token).await;
    let mut browser = Browser::start(label).await;

    for (accent, name) in [("#f5c518", "yellow"), ("#1a2b5c", "navy")] {
        let change = json!({ "accent_color": accent, "logo": logo });
        let response = app
            .api_json(reqwest::Method::PATCH, "/settings", &token, &change)
            .await;
        assert_eq!(response.status(), 200);
        browser.open(&app.url("/subscribe")).await;
        assert_logo_shown(&browser, "img.logo").await;
        browser
            .assert_accessible_everywhere(&format!("the signup page, {name} accent and a logo"))
            .await;
        browser.screenshot(&format!("signup-{name}")).await;
        browser.dark_mode(true).await;
        browser.screenshot(&format!("signup-{name}-dark")).await;
        browser.dark_mode(false).await;
    }

    app.subscribe_via_page("ann@example.com", "Ann").await;
    let confirmation = app.smtp.wait_for("ann@example.com", 1).await;
    browser
        .open_mail(&confirmation[0].html(), "confirmation-brand")
        .await;
    assert_logo_shown(&browser, "img[alt=\"Corner Bakery News\"]").await;
    browser.screenshot("mail-confirmation-brand").await;

    // The owner's settings page: the logo chosen among the uploaded images.
    let link = app.setup_link.clone().expect("a setup link");
    browser.open(&link).await;
    browser.type_into("#email", OWNER).await;
    browser.type_into("#password", PASSWORD).await;
    browser.type_into("#password_again", PASSWORD).await;
    browser.press("Create account").await;
    browser.open(&app.url("/admin/settings")).await;
    assert_eq!(browser.value("#setting-logo").await, logo);
    assert_logo_shown(&browser, "#logo-preview").await;
    browser
        .assert_accessible_everywhere("the settings page with a logo")
        .await;
    browser.screenshot("settings-logo").await;

    let shots = browser.close().await;
    for shot in shots {
        println!("screenshot: {}", shot.display());
    }
}
