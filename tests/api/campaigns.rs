//! Campaigns through the API: compose, refuse broken templates, send to every confirmed
//! subscriber exactly once, personalised, with the headers a modern inbox expects.

use std::collections::HashSet;

use reqwest::Method;
use serde_json::Value;

use crate::fixtures::{
    assert_contains, confirmed, confirmed_email, confirmed_named, draft, patch, send_to_everyone,
    sent_report,
};
use crate::helpers::{Backend, Options, TestApp, TestSmtp, settle, spawn_app, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    a_campaign_reaches_each_confirmed_subscriber_once_personalised,
    a_broken_template_is_refused_when_written,
    temporary_and_permanent_refusals_are_handled_per_recipient,
    a_scheduled_campaign_starts_at_its_time,
    a_scheduled_campaign_taken_back_to_a_draft_waits_for_the_owner,
    pausing_resuming_and_cancelling,
    tracking_can_be_off_for_one_subscriber_or_everyone,
    a_connection_dropped_during_data_is_retried_and_delivers_once,
);

/// Changes a campaign through the API; the answer, whatever it is.
async fn edit(app: &TestApp, token: &str, id: &str, change: Value) -> reqwest::Response {
    patch(app, token, &format!("/campaigns/{id}"), change).await
}

/// Asks the API to send a campaign at `at`; the answer, whatever it is.
async fn send_at(app: &TestApp, token: &str, id: &str, at: &str) -> reqwest::Response {
    let at = serde_json::json!({ "at": at });
    app.api_json(Method::POST, &format!("/campaigns/{id}/send"), token, &at)
        .await
}

/// Asks the API to `action` (pause, resume, cancel, unschedule) a campaign; the answer.
async fn act(app: &TestApp, token: &str, id: &str, action: &str) -> reqwest::Response {
    app.api_post(&format!("/campaigns/{id}/{action}"), token)
        .await
}

/// Adds `count` confirmed subscribers `{prefix}0@example.com`, `{prefix}1@…`, ….
async fn confirmed_many(app: &TestApp, token: &str, prefix: &str, count: usize) {
    for i in 0..count {
        confirmed_email(app, token, &format!("{prefix}{i}@example.com")).await;
    }
}

async fn a_campaign_reaches_each_confirmed_subscriber_once_personalised(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    confirmed(
        &app,
        &token,
        "ann@example.com",
        Some("Ann"),
        serde_json::json!({ "city": "Lyon" }),
    )
    .await;
    confirmed_named(&app, &token, "bob@example.com", "Bob <b>\"the baker\"</b>").await;
    confirmed(
        &app,
        &token,
        "cy@example.com",
        None,
        serde_json::json!({ "city": "Porto" }),
    )
    .await;
    app.signup_and_get_confirm_link("pending@example.com").await;
    let welcome = app.confirmed_subscriber("gone@example.com").await;
    let unsubscribe = welcome
        .link_starting_with(&app.url("/unsubscribe/"))
        .unwrap();
    assert_eq!(app.post_empty(&unsubscribe).await.status(), 200);

    let campaign = app
        .create_campaign(
            &token,
            serde_json::json!({
                "subject": "Fresh bread for {{ subscriber.name | default(value=\"you\") }}",
                "preheader": "This week's loaves",
                "body": "# Hello {{ subscriber.name | default(value=\"friend\") }}!\n\nNews from {{ subscriber.attributes.city | default(value=\"the bakery\") }}.\n\nSee [the menu](https://bakery.example/menu?day=mon&lang=en#bread) and [the map](https://bakery.example/map).",
            }),
        )
        .await;
    assert_eq!(campaign["status"], "draft");
    let id = campaign["id"].as_str().unwrap().to_string();

    // The preview shows the copy one subscriber gets.
    let list = app.api_get("/subscribers?status=confirmed", &token).await;
    let ann = list["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == "ann@example.com")
        .unwrap();
    let preview = app
        .api_get(
            &format!(
                "/campaigns/{id}/preview?subscriber={}",
                ann["id"].as_str().unwrap()
            ),
            &token,
        )
        .await;
    assert_eq!(preview["subject"], "Fresh bread for Ann");
    assert!(
        preview["html"]
            .as_str()
            .unwrap()
            .contains("News from Lyon.")
    );
    assert!(
        preview["text"]
            .as_str()
            .unwrap()
            .contains("https://bakery.example/menu?day=mon&lang=en#bread")
    );

    let response = app
        .api_call(Method::POST, &format!("/campaigns/{id}/send"), &token)
        .await;
    assert_eq!(response.status(), 202);
    let report = app.wait_for_campaign(&token, &id, "sent").await;
    assert_eq!(report["deliveries"]["sent"], 3, "{report}");
    assert_eq!(report["deliveries"]["total"], 3);
    assert_eq!(report["deliveries"]["failed"], 0);
    settle().await;

    let campaign_mail = |address: &str| {
        app.smtp
            .messages_to(address)
            .into_iter()
            .filter(|m| m.subject().starts_with("Fresh bread"))
            .collect::<Vec<_>>()
    };
    assert!(
        campaign_mail("pending@example.com").is_empty(),
        "only confirmed subscribers"
    );
    assert!(
        campaign_mail("gone@example.com").is_empty(),
        "not the unsubscribed"
    );
    let mut message_ids = HashSet::new();
    for (address, subject, greeting, city) in [
        (
            "ann@example.com",
            "Fresh bread for Ann",
            "Hello Ann!",
            "Lyon",
        ),
        (
            "bob@example.com",
            "Fresh bread for Bob <b>\"the baker\"</b>",
            "Hello Bob &lt;b&gt;",
            "the bakery",
        ),
        (
            "cy@example.com",
            "Fresh bread for you",
            "Hello friend!",
            "Porto",
        ),
    ] {
        let copies = campaign_mail(address);
        assert_eq!(copies.len(), 1, "{address} gets exactly one copy");
        let mail = &copies[0];
        assert_eq!(mail.subject(), subject);
        let html = mail.html();
        assert!(html.contains(greeting), "{address}: {html}");
        assert!(html.contains(&format!("News from {city}.")), "{address}");
        assert!(
            !html.contains("<b>\"the baker\"</b>"),
            "names are escaped in HTML"
        );
        // Headers a modern inbox expects.
        let parsed = mail.parsed();
        let message_id = parsed.message_id().unwrap().to_string();
        assert!(message_id.ends_with("@bakery.example"));
        assert!(
            message_ids.insert(message_id),
            "a unique Message-ID per recipient"
        );
        assert_eq!(
            parsed.to().unwrap().first().unwrap().address().unwrap(),
            address
        );
        assert!(parsed.date().is_some());
        let list_unsubscribe = mail.header("List-Unsubscribe").unwrap();
        assert!(list_unsubscribe.starts_with(&format!("<{}", app.url("/unsubscribe/"))));
        assert_eq!(
            mail.header("List-Unsubscribe-Post").unwrap(),
            "List-Unsubscribe=One-Click"
        );
        assert!(
            mail.header("List-Id")
                .unwrap()
                .contains("<corner-bakery-news.bakery.example>")
        );
        let raw = String::from_utf8_lossy(&mail.data).to_string();
        assert!(
            raw.find("Content-Type: text/plain").unwrap()
                < raw.find("Content-Type: text/html").unwrap()
        );
        // Links are tracked in HTML, readable in text; the pixel is there; the unsubscribe
        // link is visible and not rewritten.
        assert!(html.contains(&app.url("/t/c/")), "links are rewritten");
        assert!(
            !html.contains("https://bakery.example/menu"),
            "no untracked copy of the link in HTML"
        );
        assert!(html.contains(&app.url("/t/o/")), "an open pixel");
        let unsubscribe_url = list_unsubscribe
            .trim_start_matches('<')
            .split('>')
            .next()
            .unwrap();
        assert!(html.contains(unsubscribe_url));
        let text = mail.text();
        assert_contains(
            &text,
            "https://bakery.example/menu?day=mon&lang=en#bread",
            "",
        );
        assert!(text.contains(unsubscribe_url));
        assert!(html.contains("This week's loaves"), "the preheader");
    }
    // A subscriber's unsubscribe link from the campaign works.
    let ann_mail = &campaign_mail("ann@example.com")[0];
    let link = ann_mail.header("List-Unsubscribe").unwrap();
    let link = link.trim_start_matches('<').split('>').next().unwrap();
    let response = app
        .client
        .post(link)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

async fn a_broken_template_is_refused_when_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    for (body, field) in [
        (
            serde_json::json!({ "subject": "Hi {{ subscriber.name", "body": "x" }),
            "subject",
        ),
        (
            serde_json::json!({ "subject": "Hi", "body": "Line one\n\n{% if %}" }),
            "body",
        ),
        (
            serde_json::json!({ "subject": "Hi", "body": "{{ subscriber.attributes.city }}" }),
            "body",
        ),
        (
            serde_json::json!({ "subject": "Hi", "body": "{{ nonsense }}" }),
            "body",
        ),
        (
            serde_json::json!({ "subject": "Hi", "body": "x", "layout": "fancy" }),
            "layout",
        ),
        (
            serde_json::json!({ "subject": "Hi", "body": "x", "format": "docx" }),
            "format",
        ),
        (serde_json::json!({ "subject": "", "body": "x" }), "subject"),
        (serde_json::json!({ "subject": "Hi", "body": "  " }), "body"),
    ] {
        let response = app
            .api_json(Method::POST, "/campaigns", &token, &body)
            .await;
        assert_eq!(response.status(), 422, "{body}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["field"], field, "{body}: {error}");
    }
    let response = app
        .api_json(
            Method::POST,
            "/campaigns",
            &token,
            &serde_json::json!({ "subject": "Hi", "body": "Line one\n\n{% if %}" }),
        )
        .await;
    let error: serde_json::Value = response.json().await.unwrap();
    assert!(
        error["error"].as_str().unwrap().contains("line 3"),
        "{error}"
    );
    assert_eq!(app.count("campaigns").await, 0);

    // A draft can be edited; a sent campaign cannot.
    let id = &draft(&app, &token, "Hi", "x").await;
    let patched = edit(&app, &token, id, serde_json::json!({ "subject": "Hello" })).await;
    assert_eq!(patched.status(), 200);
    let broken = edit(&app, &token, id, serde_json::json!({ "body": "{{" })).await;
    assert_eq!(broken.status(), 422);
    assert_eq!(
        app.api_get(&format!("/campaigns/{id}"), &token).await["body"],
        "x"
    );
    // Someone to send it to: a campaign with no one in its audience is refused (faces.rs).
    confirmed(&app, &token, "ann@example.com", None, serde_json::json!({})).await;
    app.send_campaign_now(&token, id).await;
    app.wait_for_campaign(&token, id, "sent").await;
    let late = edit(
        &app,
        &token,
        id,
        serde_json::json!({ "subject": "Too late" }),
    )
    .await;
    assert_eq!(late.status(), 409);
}

async fn temporary_and_permanent_refusals_are_handled_per_recipient(backend: Backend) {
    let smtp = TestSmtp::start();
    let app = spawn_app_with(backend, Options::default().sending_to(&smtp)).await;
    let token = app.api_token().await;
    confirmed_many(&app, &token, "reader", 6).await;
    let gone = confirmed_email(&app, &token, "nobody@example.com").await;
    smtp.answer(
        "reader1@example.com",
        451,
        "4.7.1 Greylisted, try again later",
        1,
    );
    // 421 makes the server close the connection (RFC 5321 4.2.2): a connection dropped
    // mid-session, twice; the copy goes out on a new connection.
    smtp.answer("reader2@example.com", 421, "4.3.2 Busy", 2);
    smtp.answer(
        "nobody@example.com",
        550,
        "5.1.1 No such user here",
        usize::MAX,
    );

    let report = sent_report(&app, &token, "Weekly", "Hello").await;
    assert_eq!(report["deliveries"]["sent"], 6, "{report}");
    assert_eq!(report["deliveries"]["failed"], 1);
    for i in 0..6 {
        assert_eq!(
            smtp.messages_to(&format!("reader{i}@example.com")).len(),
            1,
            "reader{i}"
        );
    }
    assert!(smtp.messages_to("nobody@example.com").is_empty());
    assert_eq!(
        smtp.refusals("nobody@example.com"),
        1,
        "a 5xx is not retried"
    );
    assert_eq!(smtp.refusals("reader1@example.com"), 1);
    assert_eq!(smtp.refusals("reader2@example.com"), 2);
    let failure = &report["failures"][0];
    assert_eq!(failure["email"], "nobody@example.com");
    assert!(
        failure["smtp_reply"]
            .as_str()
            .unwrap()
            .contains("5.1.1 No such user here"),
        "{failure}"
    );
    // One refusal, never retried (the server counted it once, above). A try before it
    // may have met the connection reader2's 421 closed (the server hangs up while the
    // sender reuses it), which is a try too: 1 or 2, as the connections fell.
    let attempts = failure["attempts"].as_i64().unwrap();
    assert!((1..=2).contains(&attempts), "{failure}");
    // 5.1.1: the mailbox does not exist, so the subscriber is marked bounced.
    assert_eq!(
        app.api_get(&format!("/subscribers/{gone}"), &token).await["status"],
        "bounced"
    );
}

async fn a_scheduled_campaign_starts_at_its_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    confirmed_email(&app, &token, "early@example.com").await;
    let id = &draft(&app, &token, "Later", "Hello").await;
    let past = send_at(&app, &token, id, "2020-01-01T00:00:00Z").await;
    assert_eq!(past.status(), 422);
    let garbage = send_at(&app, &token, id, "tomorrow").await;
    assert_eq!(garbage.status(), 422);
    let at = time::OffsetDateTime::now_utc() + time::Duration::seconds(2);
    let at = at
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    let scheduled = send_at(&app, &token, id, &at).await;
    assert_eq!(scheduled.status(), 202);
    let json: serde_json::Value = scheduled.json().await.unwrap();
    assert_eq!(json["status"], "scheduled");
    assert!(
        app.smtp
            .messages_to("early@example.com")
            .iter()
            .all(|m| m.subject() != "Later")
    );
    let report = app.wait_for_campaign(&token, id, "sent").await;
    assert_eq!(report["went_late"], false);
    assert_eq!(report["deliveries"]["sent"], 1);
    let started = time::OffsetDateTime::parse(
        report["started_at"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let at =
        time::OffsetDateTime::parse(&at, &time::format_description::well_known::Rfc3339).unwrap();
    assert!(started >= at, "not before its time");
}

async fn a_scheduled_campaign_taken_back_to_a_draft_waits_for_the_owner(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    confirmed_email(&app, &token, "ann@example.com").await;
    let id = &draft(&app, &token, "Not yet", "Hello").await;
    // Three seconds ahead: time enough to take it back first even on a busy machine.
    app.schedule_campaign(&token, id, time::Duration::seconds(3))
        .await;

    let unscheduled = act(&app, &token, id, "unschedule").await;
    assert_eq!(unscheduled.status(), 200);
    let draft: serde_json::Value = unscheduled.json().await.unwrap();
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["scheduled_at"], serde_json::Value::Null);

    // A scheduler that read it as due just before the owner took it back does not start it.
    let store = hundred::store::Store::connect(&app.database_url)
        .await
        .unwrap();
    let late_start = store
        .start_campaign(
            id.parse().unwrap(),
            hundred::store::Timestamp::now(),
            "example.com",
            hundred::store::Start::WhenDue,
        )
        .await;
    assert!(
        matches!(&late_start, Err(hundred::store::CampaignError::WrongStatus(status, _)) if status == "draft"),
        "{late_start:?}"
    );

    // Its old time comes and goes: nothing is sent, and it can be edited again.
    settle().await;
    settle().await;
    settle().await;
    let report = app.api_get(&format!("/campaigns/{id}"), &token).await;
    assert_eq!(report["status"], "draft", "{report}");
    assert_eq!(app.count("deliveries").await, 0);
    assert!(
        app.smtp
            .messages_to("ann@example.com")
            .iter()
            .all(|m| m.subject() != "Not yet"),
        "nothing went out at the old time"
    );
    let edited = edit(&app, &token, id, serde_json::json!({ "subject": "Now" })).await;
    assert_eq!(edited.status(), 200);

    // Only a scheduled campaign can be taken back.
    let again = act(&app, &token, id, "unschedule").await;
    assert_eq!(again.status(), 409);
    let problem: serde_json::Value = again.json().await.unwrap();
    assert!(
        problem.to_string().contains("only a scheduled campaign"),
        "{problem}"
    );

    // Sent when the owner says so, once.
    app.send_campaign_now(&token, id).await;
    app.wait_for_campaign(&token, id, "sent").await;
    let copies = app.smtp.messages_to("ann@example.com");
    assert_eq!(
        copies.iter().filter(|m| m.subject() == "Now").count(),
        1,
        "one copy, with the edited subject"
    );
}

/// Waits until the campaign's report counts more than `count` copies sent, and returns that.
async fn sent_more_than(app: &TestApp, token: &str, id: &str, count: i64) -> i64 {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let report = app.api_get(&format!("/campaigns/{id}"), token).await;
        let sent = report["deliveries"]["sent"].as_i64().unwrap_or_default();
        if sent > count {
            return sent;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "still {sent} sent: {report}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn pausing_resuming_and_cancelling(backend: Backend) {
    let app = spawn_app_with(
        backend,
        // Slow (2 a second, after a burst of 2): the 20 copies take ten seconds, and the test
        // pauses and cancels as soon as it has seen copies go out.
        Options::default()
            .env("HUNDRED_SEND_RATE", "2")
            .env("HUNDRED_SEND_CONCURRENCY", "1"),
    )
    .await;
    let token = app.api_token().await;
    confirmed_many(&app, &token, "slow", 20).await;
    let id = &draft(&app, &token, "Slow", "Hello").await;
    app.send_campaign_now(&token, id).await;
    sent_more_than(&app, &token, id, 0).await;
    let paused = act(&app, &token, id, "pause").await;
    assert_eq!(paused.status(), 200);
    settle().await;
    let while_paused = app.api_get(&format!("/campaigns/{id}"), &token).await;
    assert_eq!(while_paused["status"], "paused");
    let sent_then = while_paused["deliveries"]["sent"].as_i64().unwrap();
    assert!(sent_then < 20, "{while_paused}");
    settle().await;
    assert_eq!(
        app.api_get(&format!("/campaigns/{id}"), &token).await["deliveries"]["sent"]
            .as_i64()
            .unwrap(),
        sent_then,
        "nothing goes out while paused"
    );
    assert_eq!(act(&app, &token, id, "pause").await.status(), 409);
    assert_eq!(act(&app, &token, id, "resume").await.status(), 200);
    sent_more_than(&app, &token, id, sent_then).await;
    let cancelled = act(&app, &token, id, "cancel").await;
    assert_eq!(cancelled.status(), 200);
    settle().await;
    let report = app.api_get(&format!("/campaigns/{id}"), &token).await;
    assert_eq!(report["status"], "cancelled");
    let sent = report["deliveries"]["sent"].as_i64().unwrap();
    assert_eq!(
        sent + report["deliveries"]["skipped"].as_i64().unwrap(),
        20,
        "{report}"
    );
    assert!(sent > sent_then && sent < 20, "{report}");
    let received = (0..20)
        .map(|i| app.smtp.messages_to(&format!("slow{i}@example.com")).len())
        .sum::<usize>();
    assert_eq!(
        received as i64, sent,
        "what the report says went out is what arrived"
    );
}

async fn tracking_can_be_off_for_one_subscriber_or_everyone(backend: Backend) {
    let links = "See [the menu](https://bakery.example/menu?a=1&b=2).";
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    confirmed_email(&app, &token, "tracked@example.com").await;
    let private = confirmed_email(&app, &token, "private@example.com").await;
    let response = patch(
        &app,
        &token,
        &format!("/subscribers/{private}"),
        serde_json::json!({ "tracking": false, "name": "Pat" }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let updated: serde_json::Value = response.json().await.unwrap();
    assert_eq!(updated["tracking"], false);
    assert_eq!(updated["name"], "Pat");
    let bad = patch(
        &app,
        &token,
        &format!("/subscribers/{private}"),
        serde_json::json!({ "tracking": "no" }),
    )
    .await;
    assert_eq!(bad.status(), 400);

    send_to_everyone(&app, &token, "Links", links).await;
    let tracked = app.smtp.wait_for("tracked@example.com", 1).await[0].html();
    assert!(tracked.contains("/t/c/") && tracked.contains("/t/o/"));
    let private = app.smtp.wait_for("private@example.com", 1).await[0].html();
    assert!(
        !private.contains("/t/c/") && !private.contains("/t/o/"),
        "no tracking for this subscriber"
    );
    assert_contains(
        &private,
        "https://bakery.example/menu?a=1&amp;b=2",
        "the link as written",
    );

    // Off for everyone.
    let app = spawn_app_with(backend, Options::default().env("HUNDRED_TRACKING", "off")).await;
    let token = app.api_token().await;
    confirmed_email(&app, &token, "anyone@example.com").await;
    send_to_everyone(&app, &token, "Links", links).await;
    let html = app.smtp.wait_for("anyone@example.com", 1).await[0].html();
    assert!(!html.contains("/t/c/") && !html.contains("/t/o/"));
}

/// A relay in front of the test server that cuts the first `drops` connections the moment
/// the client has sent a whole message (`<CRLF>.<CRLF>`), before the server sees its end:
/// the client gets no reply at all, as when a connection dies mid-send.
async fn dropping_relay(
    upstream: std::net::SocketAddr,
    drops: usize,
) -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::atomic::AtomicUsize>,
) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let remaining = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(drops));
    let drops_left = remaining.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let remaining = remaining.clone();
            tokio::spawn(async move {
                let Ok(server) = tokio::net::TcpStream::connect(upstream).await else {
                    return;
                };
                let (mut client_read, mut client_write) = client.into_split();
                let (mut server_read, mut server_write) = server.into_split();
                let replies = tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
                });
                let mut seen = Vec::new();
                let mut buf = [0u8; 8192];
                while let Ok(n) = client_read.read(&mut buf).await {
                    if n == 0 {
                        break;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    let whole_message = seen.windows(5).any(|w| w == b"\r\n.\r\n");
                    if whole_message
                        && remaining
                            .fetch_update(
                                std::sync::atomic::Ordering::SeqCst,
                                std::sync::atomic::Ordering::SeqCst,
                                |r| r.checked_sub(1),
                            )
                            .is_ok()
                    {
                        // Cut both ways without passing the end of the message on.
                        replies.abort();
                        return;
                    }
                    if server_write.write_all(&buf[..n]).await.is_err() {
                        break;
                    }
                    if whole_message {
                        seen.clear();
                    }
                }
                replies.abort();
            });
        }
    });
    (address, drops_left)
}

async fn a_connection_dropped_during_data_is_retried_and_delivers_once(backend: Backend) {
    let smtp = TestSmtp::start();
    let (relay, drops_left) = dropping_relay(smtp.address, 1).await;
    let app = spawn_app_with(
        backend,
        Options {
            smtp: Some(smtp.clone()),
            smtp_address: Some(relay),
            ..Default::default()
        },
    )
    .await;
    let token = app.api_token().await;
    confirmed_many(&app, &token, "reader", 5).await;
    let report = sent_report(&app, &token, "Weekly", "Hello").await;
    assert_eq!(report["deliveries"]["sent"], 5, "{report}");
    assert_eq!(report["deliveries"]["failed"], 0, "{report}");
    for i in 0..5 {
        assert_eq!(
            smtp.messages_to(&format!("reader{i}@example.com")).len(),
            1,
            "reader{i} gets exactly one copy"
        );
    }
    assert_eq!(
        drops_left.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a connection was cut mid-message, and its copy went out again"
    );
}
