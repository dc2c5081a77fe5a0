//! Images: added through the API (the body itself, or multipart `file`) and the media page,
//! served at `/media/{hash}.{ext}` to anyone, judged by their bytes, scaled to 1,600 px,
//! and kept while a campaign that went out shows them.

use std::io::Cursor;

use image::{DynamicImage, ImageFormat, RgbImage};
use reqwest::Method;
use reqwest::multipart::{Form, Part};

use crate::helpers::{Backend, TestApp, assert_contains, spawn_app, text_of};
use crate::on_both_databases;

on_both_databases!(
    each_format_sent_either_way_is_served_back_byte_for_byte,
    an_image_wider_than_1600_pixels_is_made_1600_wide,
    what_is_not_an_image_is_refused_with_a_sentence,
    an_image_a_sent_campaign_shows_cannot_be_deleted,
    the_images_page_lists_them_with_where_each_is_used,
);

/// An image of `width`×`height` in `format`, its pixels drawn from `seed` (so two seeds give
/// two different files).
fn image_of(format: ImageFormat, width: u32, height: u32, seed: u8) -> Vec<u8> {
    let pixels = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([
            (x as u8).wrapping_mul(3).wrapping_add(seed),
            (y as u8).wrapping_mul(5),
            seed,
        ])
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut Cursor::new(&mut out), format)
        .expect("the test image encodes");
    out
}

/// `POST /api/v1/media` with the image as the body, declared as `content_type`.
async fn upload_body(
    app: &TestApp,
    token: &str,
    data: Vec<u8>,
    content_type: &str,
) -> reqwest::Response {
    app.api(Method::POST, "/media", token)
        .await
        .header("content-type", content_type)
        .body(data)
        .send()
        .await
        .expect("POST /api/v1/media")
}

/// `POST /api/v1/media` as a multipart form with the image as its `file` field.
async fn upload_form(
    app: &TestApp,
    token: &str,
    data: Vec<u8>,
    name: &str,
    content_type: &str,
) -> reqwest::Response {
    let part = Part::bytes(data)
        .file_name(name.to_string())
        .mime_str(content_type)
        .unwrap();
    app.api(Method::POST, "/media", token)
        .await
        .multipart(Form::new().part("file", part))
        .send()
        .await
        .expect("POST /api/v1/media")
}

/// The answer's status and JSON.
async fn answered(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let json = response.json().await.expect("a JSON answer");
    (status, json)
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

/// Fetches an image's URL as a mail program would (no session, no token) and checks it is
/// these bytes, with this type and the headers that let it be cached for good.
async fn assert_served(url: &str, data: &[u8], content_type: &str) {
    let response = reqwest::get(url).await.expect("GET the image");
    assert_eq!(response.status(), 200, "{url}");
    assert_eq!(header(&response, "content-type"), content_type, "{url}");
    assert_eq!(
        header(&response, "cache-control"),
        "public, max-age=31536000, immutable"
    );
    assert_eq!(header(&response, "x-content-type-options"), "nosniff");
    let body = response.bytes().await.unwrap();
    assert!(body[..] == data[..], "{url} serves the bytes uploaded");
}

async fn each_format_sent_either_way_is_served_back_byte_for_byte(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let formats = [
        (ImageFormat::Png, "image/png", "png"),
        (ImageFormat::Jpeg, "image/jpeg", "jpg"),
        (ImageFormat::Gif, "image/gif", "gif"),
        (ImageFormat::WebP, "image/webp", "webp"),
    ];
    for (seed, (format, content_type, ext)) in formats.into_iter().enumerate() {
        let seed = seed as u8 * 2;
        let raw = image_of(format, 64, 48, seed);
        let (status, json) =
            answered(upload_body(&app, &token, raw.clone(), content_type).await).await;
        assert_eq!(status, 201, "{ext} as the body: {json}");
        assert_eq!(json["content_type"], content_type);
        assert_eq!(
            (json["width"].as_u64(), json["height"].as_u64()),
            (Some(64), Some(48))
        );
        assert_eq!(json["bytes"].as_u64(), Some(raw.len() as u64));
        let url = json["url"].as_str().unwrap().to_string();
        assert!(url.starts_with(&app.url("/media/")), "absolute: {url}");
        assert!(url.ends_with(&format!(".{ext}")), "{url}");
        assert_served(&url, &raw, content_type).await;

        // As a form's file, named and typed wrongly on purpose: the bytes decide.
        let other = image_of(format, 30, 20, seed + 1);
        let sent = upload_form(
            &app,
            &token,
            other.clone(),
            "photo.bin",
            "application/octet-stream",
        );
        let (status, json) = answered(sent.await).await;
        assert_eq!(status, 201, "{ext} in a form: {json}");
        assert_eq!(json["content_type"], content_type);
        assert_eq!(json["width"].as_u64(), Some(30));
        assert_served(json["url"].as_str().unwrap(), &other, content_type).await;
    }

    // The same bytes again are the same image, not a second copy.
    let again = image_of(ImageFormat::Png, 64, 48, 0);
    let (status, first) =
        answered(upload_body(&app, &token, again.clone(), "image/png").await).await;
    assert_eq!(status, 201);
    let (_, second) = answered(upload_form(&app, &token, again, "x.png", "image/png").await).await;
    assert_eq!(first["id"], second["id"]);
    assert_eq!(first["url"], second["url"]);
    assert_eq!(app.count("media").await, 8);

    let listed = app.api_get("/media", &token).await;
    assert_eq!(listed["total"], 8);
    assert_eq!(listed["media"].as_array().unwrap().len(), 8);

    // Anything else under /media is not there.
    let missing = format!("/media/{}.png", "0".repeat(64));
    for path in [
        missing.as_str(),
        "/media/nothing.png",
        "/media/no-extension",
    ] {
        assert_eq!(app.get(path).await.status(), 404, "{path}");
    }
    let url = first["url"].as_str().unwrap();
    let as_gif = url.replace(".png", ".gif");
    assert_eq!(app.get(&as_gif).await.status(), 404, "the wrong extension");
}

async fn an_image_wider_than_1600_pixels_is_made_1600_wide(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let wide = image_of(ImageFormat::Png, 2000, 500, 7);
    let (status, json) = answered(upload_body(&app, &token, wide, "image/png").await).await;
    assert_eq!(status, 201, "{json}");
    assert_eq!(
        (json["width"].as_u64(), json["height"].as_u64()),
        (Some(1600), Some(400))
    );
    let served = app.get(json["url"].as_str().unwrap()).await;
    assert_eq!(served.status(), 200);
    let bytes = served.bytes().await.unwrap();
    assert_eq!(json["bytes"].as_u64(), Some(bytes.len() as u64));
    let decoded = image::load_from_memory(&bytes).expect("the scaled image decodes");
    assert_eq!((decoded.width(), decoded.height()), (1600, 400));

    // A wide photo stays a JPEG.
    let photo = image_of(ImageFormat::Jpeg, 3200, 2400, 9);
    let (status, json) =
        answered(upload_form(&app, &token, photo, "big.jpg", "image/jpeg").await).await;
    assert_eq!(status, 201, "{json}");
    assert_eq!(json["content_type"], "image/jpeg");
    assert_eq!(
        (json["width"].as_u64(), json["height"].as_u64()),
        (Some(1600), Some(1200))
    );
}

async fn what_is_not_an_image_is_refused_with_a_sentence(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let only_four = "Only PNG, JPEG, GIF and WebP images can be added";

    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>"#;
    let (status, json) = answered(upload_body(&app, &token, svg.to_vec(), "image/png").await).await;
    assert_eq!(status, 415, "an SVG posing as a PNG: {json}");
    assert_contains(json["error"].as_str().unwrap(), only_four, "the refusal");

    let html = b"<!doctype html><title>x</title><img src=x onerror=alert(1)>".to_vec();
    let (status, json) =
        answered(upload_form(&app, &token, html, "cake.png", "image/png").await).await;
    assert_eq!(status, 415, "HTML named .png: {json}");
    assert_contains(json["error"].as_str().unwrap(), only_four, "the refusal");

    let (status, json) = answered(upload_body(&app, &token, Vec::new(), "image/png").await).await;
    assert_eq!(status, 422, "zero bytes: {json}");
    assert_eq!(
        json["error"],
        "The file is empty: nothing arrived. Choose the image again."
    );
    let (status, json) =
        answered(upload_form(&app, &token, Vec::new(), "empty.png", "image/png").await).await;
    assert_eq!(status, 422, "an empty file in a form: {json}");

    let mut cut = image_of(ImageFormat::Png, 200, 200, 3);
    cut.truncate(cut.len() / 2);
    let (status, json) = answered(upload_body(&app, &token, cut, "image/png").await).await;
    assert_eq!(status, 422, "a PNG cut short: {json}");
    assert_contains(
        json["error"].as_str().unwrap(),
        "cut short or damaged",
        "the refusal",
    );

    // 6 MB: 413 with the sentence, as the body or in a form.
    let mut big = image_of(ImageFormat::Png, 8, 8, 1);
    big.resize(6 * 1024 * 1024, 0);
    let (status, json) = answered(upload_body(&app, &token, big.clone(), "image/png").await).await;
    assert_eq!(status, 413, "{json}");
    assert_contains(
        json["error"].as_str().unwrap(),
        "The image is over 5 MB",
        "the refusal",
    );
    let (status, json) =
        answered(upload_form(&app, &token, big, "big.png", "image/png").await).await;
    assert_eq!(status, 413, "{json}");
    assert_contains(
        json["error"].as_str().unwrap(),
        "The image is over 5 MB",
        "the refusal",
    );

    let form = Form::new().text("name", "no file here");
    let sent = app
        .api(Method::POST, "/media", &token)
        .await
        .multipart(form)
        .send();
    let (status, json) = answered(sent.await.unwrap()).await;
    assert_eq!(status, 400, "{json}");
    assert_contains(
        json["error"].as_str().unwrap(),
        "\"file\"",
        "names the field",
    );

    let stranger = app
        .client
        .post(app.url("/api/v1/media"))
        .header("content-type", "image/png")
        .body(image_of(ImageFormat::Png, 8, 8, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.status(), 401, "without a token");
    assert_eq!(app.count("media").await, 0, "nothing stored");
}

async fn an_image_a_sent_campaign_shows_cannot_be_deleted(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    app.confirmed_subscriber("ann@example.com").await;
    let (_, shown) = answered(
        upload_body(
            &app,
            &token,
            image_of(ImageFormat::Png, 40, 40, 1),
            "image/png",
        )
        .await,
    )
    .await;
    let (_, unused) = answered(
        upload_body(
            &app,
            &token,
            image_of(ImageFormat::Png, 40, 40, 2),
            "image/png",
        )
        .await,
    )
    .await;
    let url = shown["url"].as_str().unwrap();
    let campaign = app
        .create_campaign(
            &token,
            serde_json::json!({
                "subject": "Spring bread",
                "body": format!("# New loaves\n\n![]({url})\n\nCome by."),
            }),
        )
        .await;
    let id = campaign["id"].as_str().unwrap();

    // A draft that shows it does not keep it... (checked on a second image below); once
    // the campaign went out, the copies in mailboxes need it.
    app.send_campaign_now(&token, id).await;
    app.wait_for_campaign(&token, id, "sent").await;
    let copy = app.smtp.wait_for("ann@example.com", 3).await;
    let copy = copy
        .iter()
        .find(|m| m.subject() == "Spring bread")
        .expect("the campaign's copy");
    assert_contains(
        &copy.html(),
        &format!("src=\"{url}\""),
        "the copy shows the image",
    );

    let path = format!("/media/{}", shown["id"].as_str().unwrap());
    let (status, json) = answered(app.api_call(Method::DELETE, &path, &token).await).await;
    assert_eq!(status, 409, "{json}");
    assert_eq!(
        json["error"],
        "This image is in a campaign that went out (“Spring bread”): the copies in people's mailboxes still show it, so it stays."
    );
    assert_eq!(app.get(url).await.status(), 200, "still served");

    let listed = app.api_get("/media", &token).await;
    let entry = listed["media"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == shown["id"])
        .unwrap()
        .clone();
    assert_eq!(entry["used_in"][0]["subject"], "Spring bread");
    assert_eq!(entry["used_in"][0]["status"], "sent");

    // One that no campaign shows (a draft may): 204, then gone.
    let other_url = unused["url"].as_str().unwrap();
    app.create_campaign(
        &token,
        serde_json::json!({ "subject": "Later", "body": format!("![]({other_url})") }),
    )
    .await;
    let path = format!("/media/{}", unused["id"].as_str().unwrap());
    let deleted = app.api_call(Method::DELETE, &path, &token).await;
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.get(other_url).await.status(), 404, "no longer served");
    let again = app.api_call(Method::DELETE, &path, &token).await;
    assert_eq!(again.status(), 404);
    let malformed = app
        .api_call(Method::DELETE, "/media/not-an-id", &token)
        .await;
    assert_eq!(malformed.status(), 404);
}

async fn the_images_page_lists_them_with_where_each_is_used(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let owner = app.owner().await;
    let png = image_of(ImageFormat::Png, 64, 48, 5);
    let form = |data: Vec<u8>, csrf: Option<&str>| {
        let mut form = Form::new();
        if let Some(csrf) = csrf {
            form = form.text("csrf", csrf.to_string());
        }
        let part = Part::bytes(data)
            .file_name("cake.png")
            .mime_str("image/png")
            .unwrap();
        form.part("file", part)
    };

    // Without the session's CSRF token nothing is taken.
    let forged = owner
        .http
        .post(owner.url("/admin/media"))
        .multipart(form(png.clone(), None))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    let wrong = owner
        .http
        .post(owner.url("/admin/media"))
        .multipart(form(png.clone(), Some("forged")))
        .send();
    assert_eq!(wrong.await.unwrap().status(), 403);
    assert_eq!(app.count("media").await, 0);

    // The page's own form (no script): back to the page, which shows the new image.
    let added = owner
        .http
        .post(owner.url("/admin/media"))
        .multipart(form(png.clone(), Some(&owner.csrf)))
        .send()
        .await
        .unwrap();
    assert_eq!(added.status(), 303);
    let location = header(&added, "location");
    assert!(location.starts_with("/admin/media?added="), "{location}");
    let page = owner.page(&location).await;
    assert_contains(
        &text_of(&page, "media-notice"),
        "The image was added",
        "the notice",
    );

    // The composer's script: JSON, the token in a header.
    let jpeg = image_of(ImageFormat::Jpeg, 50, 50, 6);
    let scripted = owner
        .http
        .post(owner.url("/admin/media"))
        .header("x-csrf-token", &owner.csrf)
        .header("accept", "application/json")
        .multipart(Form::new().part("file", Part::bytes(jpeg).file_name("bun.jpg")))
        .send()
        .await
        .unwrap();
    let (status, json) = answered(scripted).await;
    assert_eq!(status, 200, "{json}");
    let url = json["url"].as_str().unwrap().to_string();
    assert_eq!(json["markdown"], format!("![]({url})"));

    // A refusal reads as the API's, word for word.
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>".to_vec();
    let scripted = owner
        .http
        .post(owner.url("/admin/media"))
        .header("x-csrf-token", &owner.csrf)
        .header("accept", "application/json")
        .multipart(Form::new().part("file", Part::bytes(svg.clone()).file_name("x.png")))
        .send()
        .await
        .unwrap();
    let (status, admin_json) = answered(scripted).await;
    assert_eq!(status, 415);
    let (_, api_json) = answered(upload_body(&app, &token, svg, "image/png").await).await;
    assert_eq!(admin_json["error"], api_json["error"]);

    // Where each is used: a sent campaign shows the JPEG.
    app.confirmed_subscriber("ann@example.com").await;
    let campaign = app
        .create_campaign(
            &token,
            serde_json::json!({ "subject": "Buns & rolls", "body": format!("![]({url})") }),
        )
        .await;
    let id = campaign["id"].as_str().unwrap();
    app.send_campaign_now(&token, id).await;
    app.wait_for_campaign(&token, id, "sent").await;

    let page = owner.page("/admin/media").await;
    assert_contains(
        &page,
        "aria-current=\"page\">Images</a>",
        "the menu's current section",
    );
    let images = text_of(&page, "images");
    assert_contains(&images, "64×48 px", "the PNG's dimensions");
    assert_contains(&images, "50×50 px", "the JPEG's dimensions");
    assert_contains(&images, "cake.png", "the name it came with");
    assert_contains(&images, "Buns &amp; rolls (sent)", "where the JPEG is used");
    assert_contains(
        &images,
        "Kept: a campaign that went out shows it",
        "no delete button",
    );
    assert_contains(&page, &format!("![]({url})"), "the Markdown to copy");
    let path = url.trim_start_matches(&app.address);
    assert_contains(&page, &format!("src=\"{path}\""), "the thumbnail");

    // Deleting the JPEG anyway: refused on the page, with the sentence.
    let jpeg_id = json["id"].as_str().unwrap();
    let refused = owner
        .post_form(&format!("/admin/media/{jpeg_id}/delete"), &[])
        .await;
    assert_eq!(refused.status(), 409);
    let page = refused.text().await.unwrap();
    assert_contains(
        &text_of(&page, "media-error"),
        "in a campaign that went out (“Buns &amp; rolls”)",
        "the refusal",
    );

    // The PNG no campaign shows: deleted.
    let png_id = location.trim_start_matches("/admin/media?added=");
    let deleted = owner
        .post_form(&format!("/admin/media/{png_id}/delete"), &[])
        .await;
    assert_eq!(deleted.status(), 303);
    let page = owner.page(&header(&deleted, "location")).await;
    assert_contains(
        &text_of(&page, "media-notice"),
        "The image was deleted.",
        "the notice",
    );
    assert_eq!(app.count("media").await, 1);
    let gone = owner
        .post_form(&format!("/admin/media/{png_id}/delete"), &[])
        .await;
    assert_eq!(gone.status(), 404);
}
