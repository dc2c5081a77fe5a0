//! The owner and forged mail, in Chromium: a bounce naming a subscriber that nothing ties to
//! our mail waits under Needs review, a reply "from" a subscriber waits to be marked
//! genuine; the owner applies the bounce and finds the form that lifts it. Each page passes
//! axe-core's WCAG 2.1 AA rules; it runs at the end of the owner's test, on its app.

use std::time::Duration;

use crate::driver::Browser;
use crate::helpers::{TestApp, fetch, tracking_urls};
use crate::owner::INBOUND_SECRET;

/// Posts a raw message to the inbound webhook, as the owner's mail provider would.
async fn deliver_inbound(app: &TestApp, raw: String) {
    let stored = app
        .client
        .post(app.url("/inbound/mime"))
        .bearer_auth(INBOUND_SECRET)
        .header("content-type", "message/rfc822")
        .body(raw)
        .send()
        .await
        .unwrap();
    assert_eq!(stored.status(), 200);
}

/// Someone forges a bounce naming Bob and a reply "from" Ann: the bounce waits under
/// Needs review, the reply waits to be marked genuine; the owner applies the bounce, sees
/// the form that lifts it (and, in Bob's timeline, an open by software), the erase
/// question, and a subscriber that is not there.
pub async fn review_forged_mail(app: &TestApp, browser: &mut Browser) {
    let bob = app.smtp.messages_to("bob@example.com").remove(0);
    let pixel = &tracking_urls(&bob.html(), "o")[0];
    assert_eq!(fetch(pixel, "curl/8.5.0").await.status(), 200);
    deliver_inbound(
        app,
        "From: Mail Delivery System <MAILER-DAEMON@mx.attacker.example>\r\n\
         To: replies@bakery.example\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <forged-bounce-1@attacker.example>\r\nX-Failed-Recipients: bob@example.com\r\n\
         Content-Type: text/plain\r\n\r\n\
         A message that you sent could not be delivered to one or more of its recipients.\r\n\r\n\
         \x20 bob@example.com\r\n\x20   550 5.1.1 User unknown\r\n"
            .to_string(),
    )
    .await;
    deliver_inbound(
        app,
        "From: Fan <ann@example.com>\r\nTo: replies@bakery.example\r\n\
         Subject: Best newsletter ever\r\nMessage-ID: <forged-reply-1@attacker.example>\r\n\
         Content-Type: text/plain\r\n\r\nI read every word. Please count me as your biggest fan!\r\n"
            .to_string(),
    )
    .await;

    browser.open(&app.url("/admin")).await;
    let review = browser.find("#review").await.text().await.unwrap();
    assert!(review.contains("bob@example.com"), "{review}");
    browser.screenshot("needs-review").await;
    browser
        .assert_accessible_everywhere("the dashboard with mail to review")
        .await;

    browser.follow_link("Ann Lee").await;
    assert_eq!(browser.heading().await, "Ann Lee");
    browser.button("Mark as genuine").await;
    browser.screenshot("unverified-reply").await;
    browser
        .assert_accessible_everywhere("a subscriber's page with an unverified reply")
        .await;

    browser.open(&app.url("/admin")).await;
    browser.press("Apply").await;
    let notice = browser.find(".notice").await.text().await.unwrap();
    assert!(notice.starts_with("Applied: no more mail"), "{notice}");
    browser
        .assert_accessible_everywhere("the dashboard after applying a bounce")
        .await;
    browser.open(&app.url("/admin/subscribers?q=bob")).await;
    browser.follow_link("Bob Stone").await;
    assert_eq!(
        browser.find("#status").await.text().await.unwrap(),
        "bounced"
    );
    let bobs_page = browser.url().await;
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while browser.count("#timeline li.machine").await == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the open by software never reached Bob's timeline"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        browser.open(&bobs_page).await;
    }
    browser.button("Lift the bounce").await;
    browser.screenshot("bounced").await;
    browser
        .assert_accessible_everywhere("a bounced subscriber's page")
        .await;

    browser.follow_link("Erase them…").await;
    assert_eq!(browser.heading().await, "Erase Bob Stone?");
    browser.screenshot("erase").await;
    browser
        .assert_accessible_everywhere("the erase question")
        .await;

    browser
        .open(&app.url("/admin/subscribers/00000000-0000-4000-8000-000000000000"))
        .await;
    browser.screenshot("no-such-subscriber").await;
    browser
        .assert_accessible_everywhere("the page for a subscriber who is not there")
        .await;
}
