//! One refusal, three faces: a campaign that cannot go is refused in the same words by the
//! JSON API, the owner's confirmation page (before the button and when it is pressed) and
//! `hundred campaign send`, and nothing is sent.

use reqwest::Method;

use crate::fixtures::{confirmed, page_saying};
use crate::helpers::{Backend, OwnerClient, TestApp, hidden_value, spawn_app};
use crate::on_both_databases;
use crate::process::hundred;

on_both_databases!(
    an_empty_audience_is_refused_alike_everywhere,
    a_campaign_that_no_longer_compiles_is_refused_alike_everywhere,
);

const NOBODY: &str = "No confirmed subscriber is in this audience, so there is no one to send it to. Edit the draft to choose another audience.";

/// A draft to one confirmed reader, and the confirmation page's version of it, read while
/// it could still go; returns (campaign id, reader id, version).
async fn draft_ready_to_confirm(
    app: &TestApp,
    owner: &OwnerClient,
    token: &str,
) -> (String, String, String) {
    let reader = confirmed(app, token, "ann@example.com", None, serde_json::json!({})).await;
    let campaign = app
        .create_campaign(
            token,
            serde_json::json!({ "subject": "Market day", "body": "Come by." }),
        )
        .await;
    let id = campaign["id"].as_str().unwrap().to_string();
    let confirm = owner.page(&format!("/admin/campaigns/{id}/send")).await;
    let version = hidden_value(&confirm, "version").expect("the page offers the button");
    (id, reader, version)
}

/// What the API answers to "send it now": status, sentence and field.
async fn api_refusal(app: &TestApp, token: &str, id: &str) -> (u16, String, String) {
    let answer = app
        .api_call(Method::POST, &format!("/campaigns/{id}/send"), token)
        .await;
    let status = answer.status().as_u16();
    let json: serde_json::Value = answer.json().await.unwrap();
    (
        status,
        json["error"].as_str().unwrap_or_default().to_string(),
        json["field"].as_str().unwrap_or_default().to_string(),
    )
}

/// The confirmation page before the button, then the button pressed with the version the
/// owner saw: both must answer 422 and show `sentence`.
async fn admin_refuses(owner: &OwnerClient, id: &str, version: &str, sentence: &str) {
    let path = format!("/admin/campaigns/{id}/send");
    let shown = owner.get(&path).await;
    page_saying(shown, 422, sentence).await;
    let pressed = owner
        .post_form(&path, &[("confirm", "yes"), ("version", version)])
        .await;
    page_saying(pressed, 422, sentence).await;
}

/// `hundred campaign send ID` against the app's database: it must fail, printing `sentence`.
fn command_refuses(app: &TestApp, id: &str, sentence: &str) {
    let work = tempfile::tempdir().unwrap();
    let output = hundred()
        .current_dir(work.path())
        .env("HUNDRED_DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .args(["campaign", "send", id])
        .output()
        .expect("run hundred campaign send");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "{stderr}");
    assert!(stderr.contains(sentence), "{sentence}\n{stderr}");
}

/// Still a draft, and not one copy queued.
async fn nothing_went(app: &TestApp, token: &str, id: &str) {
    let campaign = app.api_get(&format!("/campaigns/{id}"), token).await;
    assert_eq!(campaign["status"], "draft", "{campaign}");
    assert_eq!(app.count("deliveries").await, 0);
}

async fn an_empty_audience_is_refused_alike_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let owner = app.owner().await;
    let (id, reader, version) = draft_ready_to_confirm(&app, &owner, &token).await;
    // The only reader leaves after the owner saw the confirmation page.
    let erased = app
        .api_call(Method::DELETE, &format!("/subscribers/{reader}"), &token)
        .await;
    assert!(erased.status().is_success(), "{}", erased.status());

    assert_eq!(
        api_refusal(&app, &token, &id).await,
        (422, NOBODY.to_string(), "audience".to_string())
    );
    admin_refuses(&owner, &id, &version, NOBODY).await;
    command_refuses(&app, &id, NOBODY);
    nothing_went(&app, &token, &id).await;
}

async fn a_campaign_that_no_longer_compiles_is_refused_alike_everywhere(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let owner = app.owner().await;
    let (id, _, version) = draft_ready_to_confirm(&app, &owner, &token).await;
    // Its layout is gone (an upgrade removed it) after the owner saw the page.
    retire_layouts(&app).await;

    let (status, sentence, field) = api_refusal(&app, &token, &id).await;
    assert_eq!((status, field.as_str()), (422, "layout"), "{sentence}");
    assert!(
        sentence.starts_with(
            "This campaign cannot be sent as it is (layout: there is no layout called 'retired'"
        ) && sentence.ends_with("Edit the draft first."),
        "{sentence}"
    );
    admin_refuses(&owner, &id, &version, &sentence).await;
    command_refuses(&app, &id, &sentence);
    nothing_went(&app, &token, &id).await;
}

/// Points every campaign at a layout that does not exist, behind the app's back.
async fn retire_layouts(app: &TestApp) {
    let sql = "UPDATE campaigns SET layout = 'retired'";
    match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
            sqlx::query(sql).execute(&pool).await.unwrap();
            pool.close().await;
        }
    }
}
