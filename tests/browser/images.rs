//! Images in Chromium: the owner adds one with the composer's "Add image" and drops another
//! onto the body; each goes in as Markdown where the cursor is, the live preview shows it,
//! the sent copy carries its URL, and the URL serves the bytes. The Images page lists both
//! with the campaign that shows them. Each page passes axe-core's WCAG 2.1 AA rules.

use std::io::Cursor;
use std::time::Duration;

use base64::Engine as _;
use image::{DynamicImage, ImageFormat, RgbImage};

use crate::driver::Browser;
use crate::helpers::{Backend, TestApp, spawn_app};

in_chromium_on_both_databases!(images_in_chromium, images_in_the_composer);

const OWNER: &str = "owner@bakery.example";
const PASSWORD: &str = "flour and water and salt";
const SUBJECT: &str = "Look at these loaves";

fn picture(width: u32, height: u32, seed: u8, format: ImageFormat) -> Vec<u8> {
    let pixels = RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x as u8).wrapping_add(seed), (y as u8).wrapping_mul(2), 160])
    });
    let mut out = Vec::new();
    DynamicImage::ImageRgb8(pixels)
        .write_to(&mut Cursor::new(&mut out), format)
        .unwrap();
    out
}

/// Polls `check` until it holds; fails with `what` after fifteen seconds.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while !check().await {
        assert!(std::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The composer's body as it is now.
async fn body_text(browser: &Browser) -> String {
    browser.value("#body").await
}

/// The first `/media/…` URL in `text`.
fn media_url(text: &str, after: usize) -> Option<String> {
    let start = text[after..].find("http")? + after;
    let end = start + text[start..].find(')')?;
    let url = &text[start..end];
    url.contains("/media/").then(|| url.to_string())
}

async fn images_in_the_composer(backend: Backend) {
    let label = match backend {
        Backend::Sqlite => "images-sqlite",
        Backend::Postgres => "images-postgres",
    };
    crate::pages::remove_old_screenshots(label);
    let app = spawn_app(backend).await;
    app.confirmed_subscriber("ann@example.com").await;
    let mut browser = Browser::start(label).await;
    set_up_the_owner(&app, &mut browser).await;

    browser.open(&app.url("/admin/campaigns/new")).await;
    browser.type_into("#subject", SUBJECT).await;
    browser.type_into("#body", "Fresh today:\n\n").await;

    // "Add image": the button opens the file chooser; the test hands it a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("loaf.png");
    let png = picture(120, 80, 1, ImageFormat::Png);
    std::fs::write(&file, &png).unwrap();
    browser.button("Add image").await;
    browser
        .js("document.getElementById('image-file').hidden = false")
        .await;
    browser
        .find("#image-file")
        .await
        .send_keys(file.to_str().unwrap())
        .await
        .unwrap();
    browser
        .js("document.getElementById('image-file').hidden = true")
        .await;
    eventually("the image goes into the body", || async {
        body_text(&browser).await.contains("![](")
    })
    .await;
    let body = body_text(&browser).await;
    assert!(
        body.starts_with("Fresh today:\n\n![]("),
        "at the cursor: {body}"
    );
    let first = media_url(&body, 0).expect("the image's URL in the body");
    assert!(first.starts_with(&app.url("/media/")), "{first}");
    assert!(
        browser
            .find("#image-status")
            .await
            .text()
            .await
            .unwrap()
            .contains("Added loaf.png"),
    );

    // A JPEG dropped onto the body goes in too.
    let jpeg = picture(90, 60, 2, ImageFormat::Jpeg);
    let encoded = base64::engine::general_purpose::STANDARD.encode(&jpeg);
    browser
        .js(&format!(
            "const bytes = Uint8Array.from(atob('{encoded}'), c => c.charCodeAt(0));
             const transfer = new DataTransfer();
             transfer.items.add(new File([bytes], 'bun.jpg', {{ type: 'image/jpeg' }}));
             const body = document.getElementById('body');
             body.setSelectionRange(body.value.length, body.value.length);
             body.dispatchEvent(new DragEvent('drop', {{ dataTransfer: transfer, bubbles: true, cancelable: true }}));"
        ))
        .await;
    eventually("the dropped image goes into the body", || async {
        body_text(&browser).await.matches("![](").count() == 2
    })
    .await;
    let body = body_text(&browser).await;
    let second = media_url(&body, body.find(&first).unwrap() + first.len()).expect("a second URL");
    assert!(second.ends_with(".jpg"), "{second}");

    // The live preview shows both.
    eventually("the preview shows the images", || async {
        let srcdoc = browser
            .js("return document.querySelector('#preview-html').getAttribute('srcdoc') || ''")
            .await;
        let srcdoc = srcdoc.as_str().unwrap_or_default().to_string();
        srcdoc.contains(&first) && srcdoc.contains(&second)
    })
    .await;
    browser.assert_no_alert().await;
    browser.screenshot("compose-with-images").await;
    browser
        .assert_accessible_everywhere("the composer with images")
        .await;

    // Sent: the copy shows them, and their URLs serve the bytes.
    browser.press("Save and review sending…").await;
    browser.press("Send it now").await;
    let copies = app.smtp.wait_for("ann@example.com", 3).await;
    let copy = copies
        .iter()
        .find(|m| m.subject() == SUBJECT)
        .expect("the campaign's copy");
    let html = copy.html();
    assert!(html.contains(&format!("src=\"{first}\"")), "{html}");
    assert!(html.contains(&format!("src=\"{second}\"")), "{html}");
    let served = reqwest::get(&first).await.unwrap();
    assert_eq!(served.headers()["content-type"], "image/png");
    assert_eq!(served.bytes().await.unwrap().to_vec(), png);

    // The Images page lists both, with the campaign that shows them.
    browser.open(&app.url("/admin/media")).await;
    let text = browser.visible_text().await;
    assert!(text.contains("2 images"), "{text}");
    assert!(text.contains("120×80 px"), "{text}");
    assert!(text.contains("90×60 px"), "{text}");
    assert!(text.contains(SUBJECT), "where they are used: {text}");
    browser.screenshot("images").await;
    browser
        .assert_accessible_everywhere("the Images page")
        .await;

    let shots = browser.close().await;
    for shot in shots {
        println!("screenshot: {}", shot.display());
    }
}

/// The owner's account through the setup link, logged in.
pub(crate) async fn set_up_the_owner(app: &TestApp, browser: &mut Browser) {
    let link = app.setup_link.clone().expect("a setup link");
    browser.open(&link).await;
    browser.type_into("#email", OWNER).await;
    browser.type_into("#password", PASSWORD).await;
    browser.type_into("#password_again", PASSWORD).await;
    browser.press("Create account").await;
    assert_eq!(browser.path().await, "/admin");
}
