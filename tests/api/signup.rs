//! Signing up: the same answer for everyone, one confirmation per address per interval,
//! and the abuse guards (rate limit, minimum fill time, CORS for websites).

use crate::fixtures::assert_contains;
use crate::helpers::{Backend, Options, TestApp, hidden_value, settle, spawn_app, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    new_and_known_addresses_get_identical_answers,
    ten_signups_of_one_address_send_one_message,
    simultaneous_signups_of_one_address_send_one_message,
    a_burst_from_one_address_meets_the_rate_limit,
    behind_a_proxy_a_forged_forwarded_address_does_not_escape_the_limit,
    the_hosted_form_refuses_a_submission_faster_than_a_person,
    a_website_can_post_json_across_origins,
    addresses_are_stored_normalised_and_unique_regardless_of_case,
);

/// What a visitor sees, with the parts that legitimately differ per request removed.
async fn answer(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

async fn new_and_known_addresses_get_identical_answers(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    // One address in each state.
    app.confirmed_subscriber("confirmed@example.com").await;
    app.signup_and_get_confirm_link("pending@example.com").await;
    let welcome = app.confirmed_subscriber("gone@example.com").await;
    let unsubscribe = welcome
        .link_starting_with(&app.url("/unsubscribe/"))
        .unwrap();
    assert_eq!(app.post_empty(&unsubscribe).await.status(), 200);

    let mut form_answers = Vec::new();
    let mut json_answers = Vec::new();
    for email in [
        "new@example.com",
        "pending@example.com",
        "confirmed@example.com",
        "gone@example.com",
    ] {
        form_answers.push(answer(app.post_subscribe_form(&[("email", email)]).await).await);
        json_answers.push(
            answer(
                app.post_subscribe_json(&serde_json::json!({ "email": email }))
                    .await,
            )
            .await,
        );
    }
    for (i, other) in form_answers.iter().enumerate().skip(1) {
        assert_eq!(&form_answers[0], other, "form answer {i} differs");
        assert_eq!(
            &json_answers[0], &json_answers[i],
            "JSON answer {i} differs"
        );
    }
    assert_eq!(form_answers[0].0, 200);
    assert!(form_answers[0].1.contains("Check your inbox"));
    assert_eq!(json_answers[0].0, 200);

    // Behind the identical answers: the new address got a confirmation, the confirmed one
    // nothing, and the pending one nothing more inside ten minutes.
    app.smtp.wait_for("new@example.com", 1).await;
    settle().await;
    assert_eq!(
        app.smtp.messages_to("confirmed@example.com").len(),
        2,
        "confirmation and welcome only"
    );
    assert_eq!(app.smtp.messages_to("pending@example.com").len(), 1);
    let list: serde_json::Value = app
        .api_call(
            reqwest::Method::GET,
            "/subscribers?status=confirmed",
            &token,
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 1);
}

async fn ten_signups_of_one_address_send_one_message(backend: Backend) {
    let app = spawn_app(backend).await;
    for i in 0..10 {
        let response = if i % 2 == 0 {
            app.post_subscribe_form(&[("email", "bombed@example.com")])
                .await
        } else {
            app.post_subscribe_json(&serde_json::json!({ "email": "Bombed@Example.com" }))
                .await
        };
        assert_eq!(response.status(), 200);
    }
    app.smtp.wait_for("bombed@example.com", 1).await;
    settle().await;
    assert_eq!(app.smtp.messages_to("bombed@example.com").len(), 1);
    assert_eq!(app.count("subscribers").await, 1);
    assert_eq!(app.count("outbound_messages").await, 1);
}

async fn simultaneous_signups_of_one_address_send_one_message(backend: Backend) {
    let app = spawn_app(backend).await;
    // Known but unconfirmed, its confirmation interval lapsed: the racy case.
    let short = spawn_app_with(
        backend,
        Options::default()
            .env("HUNDRED_CONFIRMATION_INTERVAL_SECONDS", "1")
            .env("HUNDRED_SIGNUP_BURST", "100"),
    )
    .await;
    let body = serde_json::json!({ "email": "race@example.com" });
    for app in [&app, &short] {
        let requests = (0..12).map(|_| app.post_subscribe_json(&body));
        for response in futures::future::join_all(requests).await {
            assert_eq!(response.status(), 200);
        }
        app.smtp.wait_for("race@example.com", 1).await;
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let requests = (0..12).map(|_| short.post_subscribe_json(&body));
    for response in futures::future::join_all(requests).await {
        assert_eq!(response.status(), 200);
    }
    short.smtp.wait_for("race@example.com", 2).await;
    settle().await;
    assert_eq!(app.smtp.messages_to("race@example.com").len(), 1);
    assert_eq!(
        short.smtp.messages_to("race@example.com").len(),
        2,
        "one per interval, however many race"
    );
    assert_eq!(short.count("subscribers").await, 1);
}

async fn a_burst_from_one_address_meets_the_rate_limit(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options::default()
            .env("HUNDRED_SIGNUP_BURST", "5")
            .env("HUNDRED_SIGNUP_PER_MINUTE", "1"),
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let email = format!("visitor{i}@example.com");
        let response = if i % 2 == 0 {
            app.post_subscribe_form(&[("email", &email)]).await
        } else {
            app.post_subscribe_json(&serde_json::json!({ "email": email }))
                .await
        };
        if response.status() == 429 {
            assert!(response.headers().get("retry-after").is_some());
        }
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 200, 200, 200, 429, 429, 429]);
    settle().await;
    assert_eq!(
        app.count("subscribers").await,
        5,
        "refused signups store nothing"
    );
}

/// Behind a reverse proxy (HUNDRED_TRUST_PROXY), the client is the address the proxy added
/// last to `X-Forwarded-For`; what the client wrote before it counts for nothing.
async fn behind_a_proxy_a_forged_forwarded_address_does_not_escape_the_limit(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options::default()
            .env("HUNDRED_TRUST_PROXY", "true")
            .env("HUNDRED_SIGNUP_BURST", "2")
            .env("HUNDRED_SIGNUP_PER_MINUTE", "1"),
    )
    .await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let response = app
            .client
            .post(app.url("/subscribe"))
            .header("x-forwarded-for", format!("198.51.100.{i}, 203.0.113.7"))
            .form(&[("email", format!("proxied{i}@example.com"))])
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, vec![200, 200, 429]);
    let token = app.api_token().await;
    let listed = app.api_get("/subscribers", &token).await;
    let id = listed["subscribers"][0]["id"].as_str().unwrap().to_string();
    let one = app.api_get(&format!("/subscribers/{id}"), &token).await;
    assert_eq!(one["consent"]["signup_ip"], "203.0.113.7", "{one}");
}

async fn the_hosted_form_refuses_a_submission_faster_than_a_person(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options::default().env("HUNDRED_SIGNUP_MIN_FILL_SECONDS", "2"),
    )
    .await;
    let page = app.get("/subscribe").await.text().await.unwrap();
    let token = hidden_value(&page, "form_token").unwrap();
    let fields = [
        ("email", "quick@example.com"),
        ("name", "Quick"),
        ("form_token", token.as_str()),
    ];

    let response = app.post_subscribe_form(&fields).await;
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(page.contains("quicker than we expected"), "{page}");
    assert_contains(
        &page,
        "value=\"quick@example.com\"",
        "the form keeps what was typed",
    );
    assert_eq!(app.count("subscribers").await, 0);

    // A person takes a few seconds; then it works.
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let response = app.post_subscribe_form(&fields).await;
    assert_eq!(response.status(), 200);
    app.smtp.wait_for("quick@example.com", 1).await;
}

async fn a_website_can_post_json_across_origins(backend: Backend) {
    let app = spawn_app(backend).await;
    let preflight = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/subscribe"))
        .header("Origin", "https://bakery.example")
        .header("Access-Control-Request-Method", "POST")
        .header("Access-Control-Request-Headers", "content-type")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let response = app
        .client
        .post(app.url("/subscribe"))
        .header("Origin", "https://bakery.example")
        .json(&serde_json::json!({ "email": "web@example.com", "name": "Web Visitor" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let mail = app.smtp.wait_for("web@example.com", 1).await;
    let text = mail[0].text();
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    assert_eq!(
        lines[..2],
        ["Corner Bakery News", "Hello Web Visitor,"],
        "the list's name, then the greeting: {text}"
    );
    assert_consent_source(&app, "json").await;
}

async fn assert_consent_source(app: &TestApp, source: &str) {
    let token = app.api_token().await;
    let list: serde_json::Value = app.api_get("/subscribers", &token).await;
    assert_eq!(list["subscribers"][0]["consent"]["source"], source);
}

async fn addresses_are_stored_normalised_and_unique_regardless_of_case(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    assert_eq!(
        app.post_subscribe_form(&[("email", "  Zoe@Bücher.Example  ")])
            .await
            .status(),
        200
    );
    assert_eq!(
        app.post_subscribe_form(&[("email", "zoe@xn--bcher-kva.example")])
            .await
            .status(),
        200
    );
    let mail = app.smtp.wait_for("Zoe@xn--bcher-kva.example", 1).await;
    assert_eq!(mail.len(), 1);
    let list: serde_json::Value = app.api_get("/subscribers", &token).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["subscribers"][0]["email"], "Zoe@bücher.example");
    assert_eq!(list["subscribers"][0]["consent"]["source"], "website_form");
}
