//! The list's look: the owner's accent colour and logo (an uploaded image) on the signup
//! page, in the confirmation message and in a campaign's copy, with the colours readable
//! (a light accent is darkened for links on white, its button text is near-black); a logo
//! that is not an uploaded image is refused, and the logo's image cannot be deleted.

use std::io::Cursor;

use hundred::domain::Colour;
use image::{DynamicImage, ImageFormat, RgbImage};
use reqwest::Method;
use serde_json::json;

use crate::fixtures::{as_read, assert_contains, confirmed_email, only_copy, send_to_everyone};
use crate::helpers::{Backend, TestApp, spawn_app};
use crate::on_both_databases;

on_both_databases!(
    the_accent_and_logo_show_on_the_page_in_the_confirmation_and_in_a_campaign,
    a_logo_must_be_an_uploaded_image_and_stays_while_it_is_the_logo,
);

/// A light yellow: too light for links on white, and white text does not read on it.
const YELLOW: &str = "#f5c518";
/// The near-black text on a light accent.
const INK: &str = "#111113";

/// A 400×100 PNG, uploaded through the API; its JSON (`id`, `url`, …).
async fn upload_logo(app: &TestApp, token: &str) -> serde_json::Value {
    let pixels = RgbImage::from_fn(400, 100, |x, _| image::Rgb([(x % 256) as u8, 90, 40]));
    let mut png = Vec::new();
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut Cursor::new(&mut png), ImageFormat::Png)
        .expect("the test image encodes");
    let response = app
        .api(Method::POST, "/media", token)
        .await
        .header("content-type", "image/png")
        .body(png)
        .send()
        .await
        .expect("POST /api/v1/media");
    assert_eq!(response.status(), 201);
    response.json().await.expect("the image's JSON")
}

async fn patch_settings(
    app: &TestApp,
    token: &str,
    change: serde_json::Value,
) -> reqwest::Response {
    app.api_json(Method::PATCH, "/settings", token, &change)
        .await
}

/// The opening tag in `html` that carries `attribute`.
fn tag_with<'a>(html: &'a str, attribute: &str) -> &'a str {
    let at = html
        .find(attribute)
        .unwrap_or_else(|| panic!("{attribute} in {html}"));
    let start = html[..at].rfind('<').unwrap_or(0);
    let end = at + html[at..].find('>').unwrap_or(html.len() - at);
    &html[start..end]
}

/// The value of a CSS custom property as a page's style sheet sets it first (light mode).
fn css_var(page: &str, name: &str) -> String {
    let at = page
        .find(&format!("{name}: "))
        .unwrap_or_else(|| panic!("{name} is set: {page}"));
    page[at + name.len() + 2..].chars().take(7).collect()
}

async fn the_accent_and_logo_show_on_the_page_in_the_confirmation_and_in_a_campaign(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let logo = upload_logo(&app, &token).await;
    let url = logo["url"].as_str().unwrap().to_string();
    let path = url.strip_prefix(&app.url("")).unwrap().to_string();

    let response = patch_settings(
        &app,
        &token,
        json!({ "accent_color": "#F5C518", "logo": logo["id"] }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let saved: serde_json::Value = response.json().await.unwrap();
    assert_eq!(saved["accent_color"], YELLOW);
    assert_eq!(saved["logo"], logo["id"]);

    // The signup page: the logo at the top (its alt the list name, 400×100 shown 200×50),
    // buttons in the accent with near-black text, links in a darker yellow that reads.
    let page = app.get("/subscribe").await.text().await.unwrap();
    assert_contains(
        &page,
        &format!(
            "<img class=\"logo\" src=\"{path}\" alt=\"Corner Bakery News\" width=\"200\" height=\"50\">"
        ),
        "the logo on the page",
    );
    assert!(
        !page.contains("<div class=\"list-name\">"),
        "the logo stands for the name"
    );
    assert_eq!(css_var(&page, "--accent-fill"), YELLOW);
    assert_eq!(css_var(&page, "--accent-ink"), INK);
    let link = css_var(&page, "--accent");
    assert_ne!(link, YELLOW, "too light for links on white");
    let link_colour = Colour::parse(&link).expect("a colour");
    assert!(
        link_colour.contrast(Colour::WHITE) >= 4.5,
        "{link} reads on white"
    );
    assert_eq!(
        app.get(&url).await.status(),
        200,
        "the logo is served to anyone"
    );

    // The confirmation: the logo by its absolute URL, the button and the header band in
    // the accent, the link in the readable yellow.
    app.subscribe_via_page("reader@example.com", "Reader").await;
    let mail = app.smtp.wait_for("reader@example.com", 1).await;
    let html = mail[0].html();
    assert_contains(
        &html,
        &format!("src=\"{url}\""),
        "the logo in the confirmation",
    );
    assert_contains(&html, "alt=\"Corner Bakery News\"", "the logo's alt");
    // (Styles as the CSS inliner writes them, spaces aside.)
    let html = html.replace(": ", ":");
    let button = tag_with(&html, "class=\"button\"");
    assert_contains(
        button,
        &format!("background:{YELLOW};"),
        "the button in the accent",
    );
    assert_contains(button, &format!("color:{INK};"), "the button's text reads");
    assert_contains(
        &html,
        &format!("border-top:6px solid {YELLOW}"),
        "the header band",
    );
    let plain_link = html
        .split("<a ")
        .find(|tag| !tag.starts_with("class=\"button\"") && tag.contains("/confirm/"))
        .expect("the confirmation link written out");
    assert_contains(plain_link, &format!("color:{link};"), "the link colour");

    // A campaign's copy: the same logo and colours in the default layout.
    confirmed_email(&app, &token, "ann@example.com").await;
    send_to_everyone(
        &app,
        &token,
        "Fresh rye",
        "Out of the oven at seven. See [the menu](https://bakery.example/menu).",
    )
    .await;
    let copy = only_copy(&app, "ann@example.com").html();
    assert_contains(&copy, &format!("src=\"{url}\""), "the logo in the copy");
    assert_contains(&copy, "alt=\"Corner Bakery News\"", "the logo's alt");
    assert_contains(&copy, YELLOW, "the header band in the accent");
    let menu_link = copy
        .split("<a ")
        .find(|tag| tag.contains(">the menu</a>"))
        .expect("the link in the copy");
    assert_contains(menu_link, &link, "the link in the readable accent");

    // No logo: the name in text again.
    let response = patch_settings(&app, &token, json!({ "logo": null })).await;
    assert_eq!(response.status(), 200);
    let page = app.get("/subscribe").await.text().await.unwrap();
    assert_contains(
        &page,
        "<div class=\"list-name\">Corner Bakery News</div>",
        "the name without a logo",
    );
    assert!(!page.contains(&path), "no logo: {page}");
}

async fn a_logo_must_be_an_uploaded_image_and_stays_while_it_is_the_logo(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;

    // An id no image has: 422 on the field, nothing saved.
    let stranger = uuid::Uuid::new_v4().to_string();
    let response = patch_settings(
        &app,
        &token,
        json!({ "accent_color": "#aa3300", "logo": stranger }),
    )
    .await;
    assert_eq!(response.status(), 422);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["field"], "logo");
    assert_eq!(
        body["error"],
        format!(
            "Logo: there is no uploaded image with the id {stranger}; add the image on the Images page (or with POST /api/v1/media) and choose it."
        )
    );
    let settings = app.api_get("/settings", &token).await;
    assert_eq!(settings["logo"], serde_json::Value::Null);
    assert_eq!(settings["accent_color"], "#0b57d0", "nothing saved");

    // The settings page offers the uploaded images, and the one chosen is selected.
    let logo = upload_logo(&app, &token).await;
    let id = logo["id"].as_str().unwrap();
    let owner = app.owner().await;
    let page = owner.page("/admin/settings").await;
    assert_contains(&page, "<option value=\"\">No logo</option>", "no logo");
    assert_contains(
        &page,
        &format!("<option value=\"{id}\">"),
        "the image to choose",
    );
    assert_contains(&page, "href=\"/admin/media\"", "a way to upload one");
    let saved = owner.post_form("/admin/settings", &[("logo", id)]).await;
    assert_eq!(saved.status(), 303);
    let page = owner.page("/admin/settings").await;
    assert_contains(
        &page,
        &format!("<option value=\"{id}\" selected>"),
        "the logo chosen",
    );

    // While it is the logo, deleting it is refused with a sentence, on the API and the
    // Images page alike.
    let path = format!("/media/{id}");
    let refused = app.api_call(Method::DELETE, &path, &token).await;
    assert_eq!(refused.status(), 409);
    let body: serde_json::Value = refused.json().await.unwrap();
    let sentence = "This image is the list's logo, shown at the top of the public pages and of the mail. Choose another logo (or “No logo”) on the Settings page first, then delete it.";
    assert_eq!(body["error"], sentence);
    assert_eq!(app.get(logo["url"].as_str().unwrap()).await.status(), 200);
    let images = owner.page("/admin/media").await;
    assert_contains(&images, "Kept: it is the logo", "the Images page says why");
    let on_page = owner
        .post_form(&format!("/admin/media/{id}/delete"), &[])
        .await;
    assert_eq!(on_page.status(), 409);
    assert_contains(
        &as_read(&on_page.text().await.unwrap()),
        sentence,
        "the same sentence",
    );

    // A bogus id typed into the form: the page says what was wrong.
    let bogus = owner
        .post_form("/admin/settings", &[("logo", stranger.as_str())])
        .await;
    assert_eq!(bogus.status(), 422);
    assert_contains(
        &as_read(&bogus.text().await.unwrap()),
        "Logo: there is no uploaded image with the id",
        "the refusal next to the field",
    );

    // "No logo" on the page: then it can go.
    let cleared = owner.post_form("/admin/settings", &[("logo", "")]).await;
    assert_eq!(cleared.status(), 303);
    let deleted = app.api_call(Method::DELETE, &path, &token).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.get(logo["url"].as_str().unwrap()).await.status(), 404);
}
