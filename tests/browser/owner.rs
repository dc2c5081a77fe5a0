//! The owner in Chromium, from the setup link to a conversation: creates the account, logs
//! out and in, imports three subscribers, writes a campaign with the live preview, sends
//! it over real SMTP; the subscribers open, click and reply; the dashboard and the
//! subscriber page show it; the owner answers the reply and it arrives threaded; a
//! scheduled campaign goes back to a draft, and a CSV file over the limit gets a page;
//! forged mail waits under Needs review. A screenshot of each page lands in
//! `target/screenshots/owner-{database}-NN-{page}.png`, and each page passes axe-core's
//! WCAG 2.1 AA rules at desktop width, at phone width and in dark mode.

use std::time::Duration;

use serde_json::json;

use crate::driver::Browser;
use crate::helpers::{Backend, Options, TestApp, fetch, spawn_app_with, tracking_urls};

in_chromium_on_both_databases!(owner_in_chromium, the_owner_in_chromium);

const OWNER: &str = "owner@bakery.example";
const PASSWORD: &str = "flour and water and salt";
pub const INBOUND_SECRET: &str = "inbound-secret-for-the-browser-test";
const SUBJECT: &str = "Rye is back";
const MENU: &str = "https://bakery.example/menu";
const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
/// Carol's name carries markup: every page must show it as text.
const CAROL: &str = "Carol <b>Baker</b>";

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
    import_three(&app, &mut browser).await;
    compose_and_send(&app, &mut browser).await;
    the_subscribers_answer(&app).await;
    the_owner_sees_it(&app, &mut browser).await;
    answer_the_reply(&app, &mut browser).await;
    look_around(&app, &mut browser).await;
    take_back_and_upload_too_much(&app, &mut browser).await;
    crate::review::review_forged_mail(&app, &mut browser).await;

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
    browser.assert_accessible_everywhere("the setup page").await;
    browser.press("Create account").await;
    assert_eq!(browser.path().await, "/admin");
    assert_eq!(browser.heading().await, "0 engaged of 0 confirmed");
    browser.screenshot("dashboard-empty").await;
    browser
        .assert_accessible_everywhere("the dashboard before anything happened")
        .await;

    // The setup link, once used, gets a page that says so.
    browser.open(&link).await;
    assert_eq!(browser.heading().await, "This setup link no longer works");
    browser.screenshot("setup-gone").await;
    browser
        .assert_accessible_everywhere("the used setup link's page")
        .await;
    browser.open(&app.url("/admin")).await;

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
    browser
        .assert_accessible_everywhere("the login page with a mistake")
        .await;
    browser.press("Log in").await;
    assert_eq!(browser.path().await, "/admin/tokens");
    assert_eq!(browser.heading().await, "API tokens");
    browser.screenshot("tokens").await;
    browser
        .assert_accessible_everywhere("the API tokens page")
        .await;
    assert_eq!(
        browser
            .js("return document.cookie.includes('hundred_session')")
            .await,
        json!(false),
        "the session cookie is out of the page's reach"
    );
}

/// Waits until `check` holds, polling; fails with `what` after ten seconds.
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

/// Three people from a spreadsheet, pasted into the import form, confirmed on the
/// owner's stated basis.
async fn import_three(app: &TestApp, browser: &mut Browser) {
    browser.open(&app.url("/admin/tools")).await;
    let csv = format!(
        "email,name,city\nann@example.com,Ann Lee,Leeds\nbob@example.com,Bob Stone,York\ncarol@example.com,\"{CAROL}\",Hull\nnot-an-address,Nobody,Nowhere\n"
    );
    browser
        .find("#import-csv")
        .await
        .find(fantoccini::Locator::XPath("./preceding::summary[1]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.type_into("#import-csv", &csv).await;
    browser
        .js("const s = document.querySelector('#import-basis-kind'); s.selectedIndex = 1; s.dispatchEvent(new Event('change'));")
        .await;
    browser
        .type_into(
            "#import-basis",
            "signed the paper list at the counter, November",
        )
        .await;
    browser
        .find("input[name=mode][value=already_confirmed]")
        .await
        .click()
        .await
        .unwrap();
    browser.screenshot("import").await;
    browser
        .assert_accessible_everywhere("the tools page with the import form open")
        .await;
    browser.press("Import").await;
    assert_eq!(browser.heading().await, "Import finished");
    assert_eq!(
        browser.find("#added-count").await.text().await.unwrap(),
        "3"
    );
    assert_eq!(
        browser.find("#rejected-count").await.text().await.unwrap(),
        "1"
    );
    let text = browser.visible_text().await;
    assert!(text.contains("not-an-address"), "{text}");
    browser.screenshot("import-report").await;
    browser
        .assert_accessible_everywhere("the import report")
        .await;
}

/// A campaign written with the live preview, checked on the confirmation step, sent.
async fn compose_and_send(app: &TestApp, browser: &mut Browser) {
    browser.open(&app.url("/admin/campaigns/new")).await;
    browser.type_into("#subject", SUBJECT).await;
    browser
        .type_into(
            "#body",
            &format!("Hello {{{{ subscriber.name | default(value=\"friend\") }}}}!\n\nThe rye is back on Saturday. See [the menu]({MENU}), and tell us what you would like to see."),
        )
        .await;
    // The preview follows the typing, as one of the subscribers.
    eventually("the live preview shows the text version", || async {
        let text = browser.find("#preview-text").await.text().await.unwrap();
        text.contains("The rye is back on Saturday")
    })
    .await;
    let text = browser.find("#preview-text").await.text().await.unwrap();
    assert!(text.contains("Hello "), "{text}");
    let srcdoc = browser
        .js("return document.querySelector('#preview-html').getAttribute('srcdoc') || ''")
        .await;
    assert!(
        srcdoc
            .as_str()
            .unwrap()
            .contains("The rye is back on Saturday")
    );
    assert_eq!(
        browser.find("#preview-subject").await.text().await.unwrap(),
        SUBJECT
    );
    browser.assert_no_alert().await;
    browser.screenshot("compose").await;
    browser.assert_accessible_everywhere("the composer").await;

    browser.press("Save and review sending…").await;
    assert_eq!(browser.heading().await, "Send this campaign?");
    let question = browser.find("#question").await.text().await.unwrap();
    assert!(question.contains(SUBJECT), "{question}");
    assert!(question.contains('3'), "names how many: {question}");
    assert!(
        app.smtp.messages().is_empty(),
        "nothing is sent before the confirmation"
    );
    browser.screenshot("confirm").await;
    browser
        .assert_accessible_everywhere("the sending confirmation")
        .await;
    browser.press("Send it now").await;
    assert!(browser.path().await.starts_with("/admin/campaigns/"));
    for who in ["ann", "bob", "carol"] {
        app.smtp.wait_for(&format!("{who}@example.com"), 1).await;
    }
    // The report's script follows the send until it is done, and reloads the page then:
    // read the status in one step, never through an element the reload may replace.
    eventually("the report says the campaign was sent", || async {
        // A script run while the page reloads may fail: then it is not done yet.
        browser
            .client
            .execute(
                "const s = document.querySelector('#status'); return s ? s.textContent : '';",
                Vec::new(),
            )
            .await
            .ok()
            .and_then(|status| status.as_str().map(str::to_lowercase))
            .is_some_and(|status| status.contains("sent"))
    })
    .await;
    // Settled: the page the script left on screen.
    browser.open(&browser.url().await.to_string()).await;
    browser.screenshot("report-sent").await;
    browser
        .assert_accessible_everywhere("the report of a campaign just sent")
        .await;
}

/// Ann opens the newsletter, Bob follows its link, Carol writes back.
async fn the_subscribers_answer(app: &TestApp) {
    // Past the moments after delivery when only machines open mail.
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    let copy = |who: &str| {
        app.smtp
            .messages_to(&format!("{who}@example.com"))
            .remove(0)
    };
    let ann = copy("ann");
    assert!(ann.text().contains("Hello Ann Lee!"), "{}", ann.text());
    let pixel = &tracking_urls(&ann.html(), "o")[0];
    assert_eq!(fetch(pixel, IPHONE).await.status(), 200);
    let link = &tracking_urls(&copy("bob").html(), "c")[0];
    assert_eq!(fetch(link, IPHONE).await.status(), 302);
    let carol = copy("carol");
    let reply = format!(
        "From: Carol Baker <carol@example.com>\r\nTo: Corner Bakery <replies@bakery.example>\r\n\
         Subject: Re: {SUBJECT}\r\nMessage-ID: <carol-reply-1@example.com>\r\nIn-Reply-To: {}\r\n\
         Content-Type: text/plain\r\n\r\nCould you keep two rye loaves for me? <script>alert('reply')</script>\r\n\r\n\
         On Thu, Corner Bakery wrote:\r\n> The rye is back on Saturday.\r\n",
        carol.header("Message-ID").unwrap()
    );
    let stored = app
        .client
        .post(app.url("/inbound/mime"))
        .bearer_auth(INBOUND_SECRET)
        .header("content-type", "message/rfc822")
        .body(reply)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
}

/// The dashboard and the subscriber table show who cares.
async fn the_owner_sees_it(app: &TestApp, browser: &mut Browser) {
    // The dashboard's figures are read side by side, each as it stands when read: the
    // owner reloads until the last event is in both the headline and the campaign's panel.
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    loop {
        browser.open(&app.url("/admin")).await;
        let heading = browser.heading().await;
        let last = browser.find("#last-campaign").await.text().await.unwrap();
        let opened =
            last.contains("3\nopened by a person") || last.contains("3 opened by a person");
        if heading == "3 engaged of 3 confirmed" && opened {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the dashboard never counted three engaged: {heading}; {last}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let replies = browser.find("#latest-replies").await.text().await.unwrap();
    assert!(replies.contains(CAROL), "the name, as text: {replies}");
    assert!(
        replies.contains("Could you keep two rye loaves for me?"),
        "{replies}"
    );
    let last = browser.find("#last-campaign").await.text().await.unwrap();
    assert!(
        last.contains("3\nopened by a person") || last.contains("3 opened by a person"),
        "{last}"
    );
    browser.assert_no_alert().await;
    assert_eq!(
        browser.count("#latest-replies b").await,
        0,
        "markup in a name stays text"
    );
    browser.screenshot("dashboard").await;
    browser.assert_accessible_everywhere("the dashboard").await;

    browser.follow_link("Subscribers").await;
    assert_eq!(browser.heading().await, "Subscribers");
    let first = browser.find("tbody tr").await.text().await.unwrap();
    assert!(first.contains(CAROL), "the replier comes first: {first}");
    browser.screenshot("subscribers").await;
    browser
        .assert_accessible_everywhere("the subscribers list")
        .await;
}

/// The owner opens Carol's page, reads her reply and answers it; the answer arrives in
/// her inbox threaded under her reply, and joins her timeline.
async fn answer_the_reply(app: &TestApp, browser: &mut Browser) {
    browser.follow_link(CAROL).await;
    assert_eq!(browser.heading().await, CAROL);
    let timeline = browser.find("#timeline").await.text().await.unwrap();
    assert!(
        timeline.contains("Could you keep two rye loaves for me? <script>alert('reply')</script>"),
        "{timeline}"
    );
    browser.assert_no_alert().await;
    browser.screenshot("subscriber").await;
    browser
        .assert_accessible_everywhere("a subscriber's page")
        .await;

    browser
        .find("details.answer-form summary")
        .await
        .click()
        .await
        .unwrap();
    browser
        .type_into(
            "details.answer-form textarea",
            "Of course, Carol: two rye loaves are waiting for you on Saturday.",
        )
        .await;
    browser
        .assert_accessible_everywhere("a subscriber's page with the answer form open")
        .await;
    browser.press("Send answer").await;
    let answers = app.smtp.wait_for("carol@example.com", 2).await;
    let answer = &answers[1];
    assert_eq!(answer.subject(), format!("Re: {SUBJECT}"));
    assert_eq!(
        answer.header("In-Reply-To").as_deref(),
        Some("<carol-reply-1@example.com>")
    );
    assert!(
        answer
            .header("References")
            .unwrap_or_default()
            .contains("<carol-reply-1@example.com>")
    );
    assert!(answer.text().contains("two rye loaves are waiting for you"));
    let here = browser.url().await;
    browser.open(&here).await;
    let timeline = browser.find("#timeline").await.text().await.unwrap();
    assert!(
        timeline.contains("two rye loaves are waiting for you"),
        "{timeline}"
    );
    browser.screenshot("conversation").await;
    browser
        .assert_accessible_everywhere("a subscriber's page with an answer")
        .await;
}

/// The report with the events in, settings, the signup form page, on a phone too.
async fn look_around(app: &TestApp, browser: &mut Browser) {
    browser.open(&app.url("/admin/campaigns")).await;
    browser.screenshot("campaigns").await;
    browser
        .assert_accessible_everywhere("the campaigns list")
        .await;
    browser.follow_link(SUBJECT).await;
    assert_eq!(
        browser.find("#human-opens").await.text().await.unwrap(),
        "3"
    );
    assert_eq!(
        browser.find("#human-clicks").await.text().await.unwrap(),
        "1"
    );
    assert_eq!(browser.find("#replies").await.text().await.unwrap(), "1");
    browser.screenshot("report").await;
    browser
        .assert_accessible_everywhere("the report with events")
        .await;
    browser.open(&app.url("/admin/settings")).await;
    browser.screenshot("settings").await;
    browser
        .assert_accessible_everywhere("the settings page")
        .await;
    browser.open(&app.url("/admin/tools/repermission")).await;
    browser.screenshot("repermission").await;
    browser
        .assert_accessible_everywhere("the re-permission page")
        .await;
    browser.open(&app.url("/admin/tools/form")).await;
    browser.screenshot("signup-form").await;
    browser
        .assert_accessible_everywhere("the signup snippet page")
        .await;
    browser.phone(390, 844).await;
    browser.open(&app.url("/admin")).await;
    browser.screenshot("dashboard-phone").await;
    browser.desktop().await;
}

/// A scheduled campaign taken back to a draft from its report, and a CSV file over the
/// form's 10 MB: the browser, still sending it, shows the page that says what to do.
async fn take_back_and_upload_too_much(app: &TestApp, browser: &mut Browser) {
    let token = app.api_token().await;
    let campaign = app
        .create_campaign(
            &token,
            json!({ "subject": "Christmas opening hours", "body": "We open at 8." }),
        )
        .await;
    let id = campaign["id"].as_str().unwrap();
    app.schedule_campaign(&token, id, time::Duration::days(20))
        .await;
    browser
        .open(&app.url(&format!("/admin/campaigns/{id}")))
        .await;
    assert_eq!(
        browser.find("#status").await.text().await.unwrap(),
        "Scheduled"
    );
    browser.screenshot("scheduled").await;
    browser
        .assert_accessible_everywhere("the report of a scheduled campaign")
        .await;
    browser.press("Back to draft").await;
    assert_eq!(browser.find("#status").await.text().await.unwrap(), "Draft");
    assert!(
        browser
            .visible_text()
            .await
            .contains("This is a draft. It would reach all 3 confirmed subscribers right now.")
    );
    browser
        .assert_accessible_everywhere("the report of a campaign taken back to a draft")
        .await;

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("everyone.csv");
    let mut big = b"email,name\n".to_vec();
    while big.len() <= 11 * 1024 * 1024 {
        big.extend_from_slice(b"someone.with.a.long.address@example.com,Someone\n");
    }
    std::fs::write(&path, big).unwrap();
    browser.open(&app.url("/admin/tools")).await;
    browser
        .find("#import-file")
        .await
        .send_keys(path.to_str().unwrap())
        .await
        .unwrap();
    browser
        .type_into("#import-basis", "signed up on the website")
        .await;
    browser
        .js("const s = document.querySelector('#import-basis-kind'); s.selectedIndex = 1; s.dispatchEvent(new Event('change'));")
        .await;
    browser.press("Import").await;
    assert_eq!(browser.heading().await, "That is too large");
    assert!(
        browser
            .visible_text()
            .await
            .contains("split it into smaller files")
    );
    browser.screenshot("too-large").await;
    browser
        .assert_accessible_everywhere("the too-large upload page")
        .await;
}
