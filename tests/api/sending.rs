//! The durable queue: an SMTP outage loses nothing, a refusal is recorded, and the
//! zero-config outbox.

use std::time::Duration;

use crate::helpers::{Backend, Options, TestSmtp, settle, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    a_confirmation_queued_while_smtp_is_down_arrives_once_it_is_back,
    a_permanent_refusal_is_recorded_and_not_retried,
    healthz_answers_while_the_database_does,
);

async fn a_confirmation_queued_while_smtp_is_down_arrives_once_it_is_back(backend: Backend) {
    // A port with nothing listening on it: the relay is down.
    let down = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let app = spawn_app_with(
        backend,
        Options {
            smtp_address: Some(down),
            ..Options::default()
        }
        .env("HUNDRED_RETRY_BASE_MS", "400"),
    )
    .await;
    let started = std::time::Instant::now();
    let response = app
        .post_subscribe_json(&serde_json::json!({ "email": "patient@example.com" }))
        .await;
    assert_eq!(response.status(), 200, "the visitor never waits on SMTP");
    assert!(started.elapsed() < Duration::from_secs(2));

    // Let it fail at least once (on a busy machine the first try can take a moment).
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while attempts_so_far(&app).await < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "at least one attempt failed while the relay was down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The relay comes back on the same address; the confirmation arrives, once.
    let smtp = TestSmtp::start_at(down);
    let mail = smtp.wait_for("patient@example.com", 1).await;
    assert!(mail[0].subject().starts_with("Please confirm"));
    settle().await;
    assert_eq!(smtp.messages_to("patient@example.com").len(), 1);
    assert!(app.smtp.messages().is_empty());
}

async fn attempts_so_far(app: &crate::helpers::TestApp) -> i64 {
    let sql = "SELECT CAST(attempts AS BIGINT) FROM outbound_messages";
    crate::with_pool!(&app.database_url, |pool| {
        sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap()
    })
}

async fn a_permanent_refusal_is_recorded_and_not_retried(backend: Backend) {
    let smtp = TestSmtp::start();
    smtp.refuse_recipients_with(550, "5.1.1 No such user here");
    let app = spawn_app_with(backend, Options::default().sending_to(&smtp)).await;
    let token = app.api_token().await;
    assert_eq!(
        app.post_subscribe_json(&serde_json::json!({ "email": "nobody@example.com" }))
            .await
            .status(),
        200
    );

    // Wait until the refusal is recorded.
    let id = {
        let list: serde_json::Value = app.api_get("/subscribers", &token).await;
        list["subscribers"][0]["id"].as_str().unwrap().to_string()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let export: serde_json::Value = app
            .api_call(
                reqwest::Method::GET,
                &format!("/subscribers/{id}/export"),
                &token,
            )
            .await
            .json()
            .await
            .unwrap();
        if export["messages"][0]["state"] == "failed" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the refusal was not recorded: {export}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    settle().await;
    assert_eq!(attempts_so_far(&app).await, 1, "a 5xx is not retried");
}

async fn healthz_answers_while_the_database_does(backend: Backend) {
    let app = spawn_app_with(backend, Options::default()).await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status(), 200);
    if backend == Backend::Postgres {
        // Take the database away from under the running app.
        use sqlx::Connection as _;
        let name = app.database_url.rsplit('/').next().unwrap().to_string();
        let mut admin = sqlx::PgConnection::connect(&crate::helpers::postgres_admin_url())
            .await
            .unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        let response = app.get("/healthz").await;
        assert_eq!(response.status(), 503);
    }
}
