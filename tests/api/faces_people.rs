//! One use case, every face: the same bad input gets the same sentence from the API, the
//! admin pages, the public pages and the command line, because each face shows the
//! refusal of the one use case they all call (`hundred::actions`).

use hundred::actions::accounts::TokenError;
use hundred::actions::lists::ImportError;
use hundred::actions::permission::PermissionError;
use hundred::actions::review::ReviewError;
use hundred::domain::SubscriberEmail;

use crate::fixtures::{add_subscriber, confirmed_email, page_saying};
use crate::helpers::{Backend, TestApp, hidden_value, spawn_app};
use crate::on_both_databases;

on_both_databases!(
    a_file_without_an_address_column_is_refused_alike_on_the_page_and_the_command_line,
    lifting_a_complaint_is_refused_alike_by_the_api_and_the_admin_page,
    an_invalid_address_is_refused_alike_by_the_api_and_the_signup_forms,
    a_bad_time_to_answer_is_refused_alike_by_the_api_and_the_admin_tool,
    a_token_without_a_name_is_refused_alike_on_the_page_and_the_command_line,
);

/// Runs one SQL statement on the app's database, to put a subscriber in a state only
/// inbound mail would (a complaint).
async fn execute(app: &TestApp, sql: &str) {
    let sql = sql.to_string();
    match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(sql))
                .execute(&pool)
                .await
                .unwrap();
            pool.close().await;
        }
    }
}

async fn a_file_without_an_address_column_is_refused_alike_on_the_page_and_the_command_line(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let rows = "name,phone\nAnn,0123\n";
    let sentence =
        ImportError::from(hundred::lists::file::read(rows.as_bytes()).unwrap_err()).to_string();
    assert!(sentence.contains("must be called email"), "{sentence}");

    let answer = owner
        .post_form(
            "/admin/tools/import",
            &[
                ("csv", rows),
                ("mode", "ask_to_confirm"),
                ("basis_kind", "in_person"),
                ("basis", "paper form at the market stall"),
            ],
        )
        .await;
    page_saying(answer, 422, &sentence).await;
    let work = tempfile::tempdir().unwrap();
    let file = work.path().join("phones.csv");
    std::fs::write(&file, rows).unwrap();
    let out = crate::process::hundred()
        .current_dir(work.path())
        .env("HUNDRED_DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .args([
            "import",
            file.to_str().unwrap(),
            "--basis",
            "paper form at the market stall",
        ])
        .output()
        .expect("run hundred import");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(&sentence), "{sentence}\n{stderr}");
    assert_eq!(app.count("subscribers").await, 0);
}

async fn lifting_a_complaint_is_refused_alike_by_the_api_and_the_admin_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let owner = app.owner().await;
    let id = confirmed_email(&app, &token, "bob@example.com").await;
    execute(
        &app,
        "UPDATE subscribers SET status = 'complained' WHERE email = 'bob@example.com'",
    )
    .await;
    let sentence = ReviewError::Complained.to_string();

    let answer = app
        .api_json(
            reqwest::Method::POST,
            &format!("/subscribers/{id}/lift-bounce"),
            &token,
            &serde_json::json!({ "reason": "I think it was a mistake" }),
        )
        .await;
    assert_eq!(answer.status(), 409);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"], sentence.as_str(), "{body}");

    let answer = owner
        .post_form(
            &format!("/admin/subscribers/{id}/lift-bounce"),
            &[("reason", "I think it was a mistake")],
        )
        .await;
    let page = page_saying(answer, 409, &sentence).await;
    assert!(page.contains("Log out"), "in the admin layout");
}

async fn an_invalid_address_is_refused_alike_by_the_api_and_the_signup_forms(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let sentence = SubscriberEmail::parse("not-an-address")
        .unwrap_err()
        .to_string();

    let answer = add_subscriber(
        &app,
        &token,
        &serde_json::json!({ "email": "not-an-address" }),
    )
    .await;
    assert_eq!(answer.status(), 422);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"], sentence.as_str(), "{body}");
    assert_eq!(body["field"], "email", "{body}");

    let answer = app
        .post_subscribe_json(&serde_json::json!({ "email": "not-an-address" }))
        .await;
    assert_eq!(answer.status(), 422);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"], sentence.as_str(), "{body}");

    let page = app.get("/subscribe").await.text().await.unwrap();
    let shown = hidden_value(&page, "form_token").expect("the page carries a form token");
    let answer = app
        .post_subscribe_form(&[
            ("email", "not-an-address"),
            ("website", ""),
            ("form_token", &shown),
        ])
        .await;
    page_saying(answer, 400, &sentence).await;
    assert_eq!(app.count("subscribers").await, 0);
}

async fn a_bad_time_to_answer_is_refused_alike_by_the_api_and_the_admin_tool(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let owner = app.owner().await;
    let sentence = PermissionError::Days.to_string();

    let answer = app
        .api_json(
            reqwest::Method::POST,
            "/repermission",
            &token,
            &serde_json::json!({ "answer_within_days": 0 }),
        )
        .await;
    assert_eq!(answer.status(), 422);
    let body: serde_json::Value = answer.json().await.unwrap();
    assert_eq!(body["error"], sentence.as_str(), "{body}");
    assert_eq!(body["field"], "answer_within_days", "{body}");

    for typed in ["0", "a week"] {
        let answer = owner
            .post_form(
                "/admin/tools/repermission/ask",
                &[("answer_within_days", typed)],
            )
            .await;
        page_saying(answer, 422, &sentence).await;
    }
}

async fn a_token_without_a_name_is_refused_alike_on_the_page_and_the_command_line(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let sentence = TokenError::Name.to_string();

    let answer = owner.post_form("/admin/tokens", &[("name", "  ")]).await;
    assert_eq!(answer.status(), 200);
    let page = answer.text().await.unwrap();
    assert!(page.contains(&sentence), "{sentence}");
    assert!(page.contains("None yet"), "no token was made");

    let work = tempfile::tempdir().unwrap();
    let out = crate::process::hundred()
        .current_dir(work.path())
        .env("HUNDRED_DATABASE_URL", &app.database_url)
        .env("RUST_LOG", "warn")
        .args(["token", "create", "--name", "two\nlines"])
        .output()
        .expect("run hundred token create");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains(&sentence), "{sentence}\n{stderr}");
    assert!(out.stdout.is_empty(), "no token printed");
    assert!(owner.page("/admin/tokens").await.contains("None yet"));
}
