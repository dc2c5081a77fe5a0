//! The JSON API under /api/v1, as an owner's script uses it.

use reqwest::Method;

use crate::fixtures::{add_subscriber, each, header};
use crate::helpers::{Backend, settle, spawn_app};
use crate::on_both_databases;

on_both_databases!(
    every_call_needs_a_valid_token,
    adding_listing_reading_and_paging_subscribers,
    adding_a_confirmed_subscriber_needs_a_consent_text,
    erasure_removes_the_person_and_keeps_them_off_the_list,
);

async fn every_call_needs_a_valid_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let id = uuid::Uuid::new_v4();
    let calls = [
        (Method::GET, "/subscribers".to_string()),
        (Method::POST, "/subscribers".to_string()),
        (Method::GET, format!("/subscribers/{id}")),
        (Method::DELETE, format!("/subscribers/{id}")),
        (Method::GET, format!("/subscribers/{id}/export")),
    ];
    for (method, path) in calls {
        for auth in [
            None,
            Some("Bearer wrong"),
            Some("Bearer hundred_notarealtoken"),
            Some("Basic dXNlcjpwYXNz"),
        ] {
            let mut request = app
                .client
                .request(method.clone(), app.url(&format!("/api/v1{path}")));
            if let Some(auth) = auth {
                request = request.header("Authorization", auth);
            }
            let response = request
                .json(&serde_json::json!({"email": "x@example.com"}))
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 401, "{method} {path} with {auth:?}");
            assert_eq!(response.headers()["www-authenticate"], "Bearer");
        }
    }
    settle().await;
    assert_eq!(app.count("subscribers").await, 0);
}

async fn adding_listing_reading_and_paging_subscribers(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    for i in 0..5 {
        let response = add_subscriber(
            &app,
            &token,
            &serde_json::json!({
                "email": format!("reader{i}@example.com"),
                "name": format!("Reader {i}"),
                "attributes": { "city": "Lyon", "visits": i },
            }),
        )
        .await;
        assert_eq!(response.status(), 201);
        let created: serde_json::Value = response.json().await.unwrap();
        assert_eq!(created["status"], "pending");
        assert_eq!(created["attributes"]["city"], "Lyon");
        assert_eq!(created["consent"]["source"], "api");
    }
    // Each got a confirmation: added through the API is still double opt-in.
    for i in 0..5 {
        app.smtp
            .wait_for(&format!("reader{i}@example.com"), 1)
            .await;
    }

    let duplicate = add_subscriber(
        &app,
        &token,
        &serde_json::json!({ "email": "READER0@example.com" }),
    )
    .await;
    assert_eq!(duplicate.status(), 409);

    let page: serde_json::Value = app.api_get("/subscribers?limit=2&offset=1", &token).await;
    assert_eq!(page["total"], 5);
    assert_eq!(page["subscribers"].as_array().unwrap().len(), 2);
    // Newest first.
    assert_eq!(page["subscribers"][0]["email"], "reader3@example.com");
    assert_eq!(page["subscribers"][1]["email"], "reader2@example.com");

    let confirmed: serde_json::Value = app.api_get("/subscribers?status=confirmed", &token).await;
    assert_eq!(confirmed["total"], 0);

    for bad in [
        "?status=nonsense",
        "?limit=0",
        "?limit=5000",
        "?offset=-1",
        "?limit=abc",
    ] {
        let response = app
            .api_call(Method::GET, &format!("/subscribers{bad}"), &token)
            .await;
        assert_eq!(response.status(), 422, "{bad}");
    }

    let id = page["subscribers"][0]["id"].as_str().unwrap();
    let one: serde_json::Value = app.api_get(&format!("/subscribers/{id}"), &token).await;
    assert_eq!(one["email"], "reader3@example.com");
    assert_eq!(one["name"], "Reader 3");
    assert_eq!(one["attributes"]["visits"], 3);
    assert!(one["consent"]["signed_up_at"].is_string());

    for missing in [
        "/subscribers/not-a-uuid",
        &format!("/subscribers/{}", uuid::Uuid::new_v4()),
    ] {
        let response = app.api_call(Method::GET, missing, &token).await;
        assert_eq!(response.status(), 404, "{missing}");
    }
    for (body, field) in [
        (
            serde_json::json!({ "email": "x@example.com", "attributes": [1, 2] }),
            "attributes",
        ),
        (
            serde_json::json!({ "email": "x@example.com", "status": "bounced" }),
            "status",
        ),
        (serde_json::json!({ "email": "nope" }), "email"),
    ] {
        let response = app
            .api_json(Method::POST, "/subscribers", &token, &body)
            .await;
        assert_eq!(response.status(), 422, "{body}");
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["field"], field);
    }
    let unknown_field = add_subscriber(
        &app,
        &token,
        &serde_json::json!({ "email": "x@example.com", "emial": "typo" }),
    )
    .await;
    assert_eq!(unknown_field.status(), 400);
}

async fn adding_a_confirmed_subscriber_needs_a_consent_text(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    for consent in [None, Some(""), Some("   ")] {
        let mut body = serde_json::json!({ "email": "shop@example.com", "status": "confirmed" });
        if let Some(consent) = consent {
            body["consent"] = consent.into();
        }
        let response = app
            .api_json(Method::POST, "/subscribers", &token, &body)
            .await;
        assert_eq!(response.status(), 422);
        let error: serde_json::Value = response.json().await.unwrap();
        assert_eq!(error["field"], "consent");
    }
    let response = add_subscriber(
        &app,
        &token,
        &serde_json::json!({
            "email": "shop@example.com",
            "status": "confirmed",
            "consent": "Ticked the newsletter box at the till, 2026-11-20",
        }),
    )
    .await;
    assert_eq!(response.status(), 201);
    let created: serde_json::Value = response.json().await.unwrap();
    assert_eq!(created["status"], "confirmed");
    assert_eq!(
        created["consent"]["stated_consent"],
        "Ticked the newsletter box at the till, 2026-11-20"
    );
    assert!(created["consent"]["confirmed_at"].is_string());
    settle().await;
    assert!(
        app.smtp.messages().is_empty(),
        "no confirmation for someone already confirmed"
    );
}

async fn erasure_removes_the_person_and_keeps_them_off_the_list(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    app.confirmed_subscriber("erin@example.com").await;
    let list: serde_json::Value = app.api_get("/subscribers", &token).await;
    let id = list["subscribers"][0]["id"].as_str().unwrap().to_string();

    let export = app
        .api_call(Method::GET, &format!("/subscribers/{id}/export"), &token)
        .await;
    assert_eq!(export.status(), 200);
    assert!(header(&export, "content-disposition").starts_with("attachment"));
    let export: serde_json::Value = export.json().await.unwrap();
    assert_eq!(export["subscriber"]["email"], "erin@example.com");
    let kinds = each(&export["consent_history"], "kind");
    assert_eq!(kinds, vec!["signup", "confirm"]);
    let messages = each(&export["messages"], "kind");
    assert_eq!(messages, vec!["confirmation", "welcome"]);

    let erased = app
        .api_call(Method::DELETE, &format!("/subscribers/{id}"), &token)
        .await;
    assert_eq!(erased.status(), 204);
    assert_eq!(
        app.api_call(Method::GET, &format!("/subscribers/{id}"), &token)
            .await
            .status(),
        404
    );
    assert_eq!(
        app.api_call(Method::DELETE, &format!("/subscribers/{id}"), &token)
            .await
            .status(),
        404
    );
    assert_eq!(app.count("subscribers").await, 0);
    assert_eq!(app.count("consent_events").await, 0);
    assert_eq!(app.count("outbound_messages").await, 0);

    // The owner cannot add the address back; only the person can, by signing up again.
    let again = app
        .api_json(Method::POST, "/subscribers", &token, &serde_json::json!({ "email": "Erin@Example.com", "status": "confirmed", "consent": "old list" }))
        .await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("erased"));
    assert_eq!(
        app.post_subscribe_json(&serde_json::json!({ "email": "erin@example.com" }))
            .await
            .status(),
        200
    );
    app.smtp.wait_for("erin@example.com", 3).await;
}
