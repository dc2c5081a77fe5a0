//! Every bad input to the public signup gets a 4xx, stores nothing and sends nothing; a
//! name can never smuggle in a header.

use crate::fixtures::{add_subscriber, assert_contains};
use crate::helpers::{Backend, Options, settle, spawn_app, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    bad_signups_are_refused_and_leave_no_trace,
    header_injection_through_the_name_never_becomes_a_header,
    markup_in_a_name_is_shown_as_text,
);

async fn bad_signups_are_refused_and_leave_no_trace(backend: Backend) {
    // Many requests from one address: raise the rate limit so each one is judged on its input.
    let app = spawn_app_with(
        backend,
        Options::default().env("HUNDRED_SIGNUP_BURST", "1000"),
    )
    .await;
    let too_long = format!("{}@example.com", "a".repeat(250));
    let bad_emails = [
        "",
        "   ",
        "not-an-address",
        "ann@",
        "@example.com",
        "ann@localhost",
        "ann@exa mple.com",
        "ann@@example.com",
        "a..b@example.com",
        "ann@example..com",
        "<ann@example.com>",
        "ann@example.com, bob@example.com",
        too_long.as_str(),
    ];
    for email in bad_emails {
        let form = app
            .post_subscribe_form(&[("email", email), ("name", "Ann")])
            .await;
        assert_eq!(form.status(), 400, "form with {email:?}");
        let page = form.text().await.unwrap();
        assert_contains(&page, "class=\"error\"", "the form explains what is wrong");
        assert!(
            page.contains(r#"aria-invalid="true" aria-describedby="form-error""#),
            "the email field is marked as the one at fault: {page}"
        );
        let json = app
            .post_subscribe_json(&serde_json::json!({ "email": email }))
            .await;
        assert_eq!(json.status(), 422, "JSON with {email:?}");
        let body: serde_json::Value = json.json().await.unwrap();
        assert_eq!(body["field"], "email");
        assert!(body["error"].as_str().unwrap().len() > 10);
    }

    let bad_requests: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        (
            "no email at all",
            app.client
                .post(app.url("/subscribe"))
                .form(&[("name", "Ann")]),
            400,
        ),
        (
            "honeypot filled",
            app.client.post(app.url("/subscribe")).form(&[
                ("email", "bot@example.com"),
                ("website", "http://spam.example"),
            ]),
            400,
        ),
        (
            "honeypot in JSON",
            app.client
                .post(app.url("/subscribe"))
                .json(&serde_json::json!({"email": "bot@example.com", "website": "x"})),
            400,
        ),
        (
            "forged form token",
            app.client
                .post(app.url("/subscribe"))
                .form(&[("email", "ann@example.com"), ("form_token", "AAAAforged")]),
            400,
        ),
        (
            "broken JSON",
            app.client
                .post(app.url("/subscribe"))
                .header("content-type", "application/json")
                .body("{\"email\": "),
            400,
        ),
        (
            "JSON that is not an object",
            app.client
                .post(app.url("/subscribe"))
                .json(&serde_json::json!(["ann@example.com"])),
            400,
        ),
        (
            "email of the wrong type",
            app.client
                .post(app.url("/subscribe"))
                .json(&serde_json::json!({"email": 42})),
            400,
        ),
        (
            "name too long",
            app.client
                .post(app.url("/subscribe"))
                .json(&serde_json::json!({"email": "ann@example.com", "name": "x".repeat(101)})),
            422,
        ),
        (
            "body over 64 KiB",
            app.client
                .post(app.url("/subscribe"))
                .header("content-type", "application/json")
                .body(format!(
                    "{{\"email\": \"ann@example.com\", \"name\": \"{}\"}}",
                    "x".repeat(70_000)
                )),
            413,
        ),
        (
            "form body over 64 KiB",
            app.client
                .post(app.url("/subscribe"))
                .form(&[("email", "ann@example.com"), ("name", &"x".repeat(70_000))]),
            413,
        ),
        (
            "invalid UTF-8",
            app.client
                .post(app.url("/subscribe"))
                .header("content-type", "application/x-www-form-urlencoded")
                .body(vec![b'e', b'm', b'a', b'i', b'l', b'=', 0xff, 0xfe]),
            400,
        ),
    ];
    for (what, request, expected) in bad_requests {
        match request.send().await {
            Ok(response) => assert_eq!(response.status().as_u16(), expected, "{what}"),
            // The server answers 413 as soon as it reads the Content-Length and closes the
            // connection; the client may still be uploading and see the reset instead.
            Err(err) if expected == 413 => {
                assert!(err.is_request() || err.is_body(), "{what}: {err}")
            }
            Err(err) => panic!("{what}: {err}"),
        }
    }

    settle().await;
    assert_eq!(app.count("subscribers").await, 0, "nothing stored");
    assert_eq!(app.count("outbound_messages").await, 0, "nothing queued");
    assert!(app.smtp.messages().is_empty(), "nothing sent");
}

async fn header_injection_through_the_name_never_becomes_a_header(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let evil = "Bob\r\nBcc: x@example.com";

    let form = app
        .post_subscribe_form(&[("email", "bob@example.com"), ("name", evil)])
        .await;
    assert_eq!(form.status(), 400);
    let json = app
        .post_subscribe_json(&serde_json::json!({ "email": "bob@example.com", "name": evil }))
        .await;
    assert_eq!(json.status(), 422);
    let api = add_subscriber(
        &app,
        &token,
        &serde_json::json!({ "email": "bob@example.com", "name": evil }),
    )
    .await;
    assert_eq!(api.status(), 422);
    // Through the email field too.
    let json = app
        .post_subscribe_json(
            &serde_json::json!({ "email": "bob@example.com\r\nBcc: x@example.com" }),
        )
        .await;
    assert_eq!(json.status(), 422);

    // A name full of header syntax, without line breaks, is only ever a display name.
    let tricky = "Bob: Bcc <x@example.com>, \"Eve\" =?utf-8?q?=0D=0A?=";
    let ok = app
        .post_subscribe_json(&serde_json::json!({ "email": "bob@example.com", "name": tricky }))
        .await;
    assert_eq!(ok.status(), 200);
    let mail = app.smtp.wait_for("bob@example.com", 1).await;
    settle().await;
    assert!(
        app.smtp.messages_to("x@example.com").is_empty(),
        "nobody else got mail"
    );
    let message = &mail[0];
    assert_eq!(
        message.rcpt_to,
        vec!["bob@example.com".to_string()],
        "one envelope recipient"
    );
    let headers = message.raw_headers();
    for line in headers.lines() {
        assert!(
            !line.to_ascii_lowercase().starts_with("bcc"),
            "no Bcc header: {headers}"
        );
    }
    let parsed = message.parsed();
    let to = parsed.to().unwrap();
    assert_eq!(to.iter().count(), 1);
    let to = to.first().unwrap();
    assert_eq!(to.address().unwrap(), "bob@example.com");
    assert_eq!(to.name().unwrap(), tricky);
    assert!(parsed.bcc().is_none());
    assert!(parsed.cc().is_none());
}

async fn markup_in_a_name_is_shown_as_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let name = "<script>alert(1)</script><b>Mallory</b>";
    let response = app
        .post_subscribe_form(&[("email", "not an address"), ("name", name)])
        .await;
    assert_eq!(response.status(), 400);
    let page = response.text().await.unwrap();
    assert!(
        !page.contains("<script>alert(1)"),
        "the form escapes what it echoes back"
    );
    assert!(
        page.contains("&lt;script&gt;") || page.contains("&lt;script"),
        "{page}"
    );

    assert_eq!(
        app.post_subscribe_form(&[("email", "mallory@example.com"), ("name", name)])
            .await
            .status(),
        200
    );
    let mail = app.smtp.wait_for("mallory@example.com", 1).await;
    let html = mail[0].html();
    assert!(
        !html.contains("<script>"),
        "the HTML part escapes the name: {html}"
    );
    assert!(html.contains("&lt;script&gt;"));
    assert!(
        mail[0].text().contains(name),
        "the text part shows the name as typed"
    );
}
