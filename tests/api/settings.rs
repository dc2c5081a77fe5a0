//! The owner's settings in the app: changed through the API and the settings page, taking
//! effect without a restart (on a second instance sharing the database too), refused with
//! the field and a sentence when bad, and fixed by their variable when it is set.

use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::helpers::{Backend, Options, TestApp, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    a_change_takes_effect_without_a_restart,
    every_bad_value_is_refused_with_its_field_and_nothing_is_saved,
    a_set_variable_fixes_its_setting,
    the_settings_page_saves_and_shows_what_was_wrong,
    a_second_instance_follows_within_seconds,
    the_first_start_copies_the_variables_into_the_database,
    the_dashboard_asks_for_the_postal_address_until_it_is_set,
    the_postal_address_is_in_every_footer,
);

/// An app whose list name is not fixed by its variable.
async fn app_with_free_settings(backend: Backend) -> TestApp {
    spawn_app_with(backend, Options::default().env("HUNDRED_LIST_NAME", "")).await
}

async fn patch(app: &TestApp, token: &str, body: serde_json::Value) -> reqwest::Response {
    app.api_json(Method::PATCH, "/settings", token, &body).await
}

async fn a_change_takes_effect_without_a_restart(backend: Backend) {
    let app = app_with_free_settings(backend).await;
    let token = app.api_token().await;
    let before = app.api_get("/settings", &token).await;
    assert_eq!(before["list_name"], serde_json::Value::Null);
    assert_eq!(before["tracking"], true);
    assert_eq!(before["accent_color"], "#0b57d0");

    let response = patch(
        &app,
        &token,
        json!({
            "list_name": "Rye & Crumb",
            "postal_address": "1 Mill Lane\nRyeton",
            "accent_color": "#AA3300",
            "send_rate": 20,
            "tracking": false,
        }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let after: serde_json::Value = response.json().await.unwrap();
    assert_eq!(after["list_name"], "Rye & Crumb");
    assert_eq!(after["postal_address"], "1 Mill Lane\nRyeton");
    assert_eq!(after["accent_color"], "#aa3300");
    assert_eq!(after["send_rate"], 20.0);
    assert_eq!(after["tracking"], false);

    // The signup page and the confirmation mail say the new name at once.
    let page = app.get("/subscribe").await.text().await.unwrap();
    assert!(page.contains("Subscribe to Rye &amp; Crumb"), "{page}");
    app.subscribe_via_page("reader@example.com", "Reader").await;
    let mail = app.smtp.wait_for("reader@example.com", 1).await;
    assert_eq!(
        mail[0].subject(),
        "Please confirm your subscription to Rye & Crumb"
    );

    // Back to the default with null.
    let response = patch(&app, &token, json!({ "list_name": null })).await;
    assert_eq!(response.status(), 200);
    let page = app.get("/subscribe").await.text().await.unwrap();
    assert!(
        page.contains("Subscribe to Corner Bakery"),
        "the From name again: {page}"
    );
}

async fn every_bad_value_is_refused_with_its_field_and_nothing_is_saved(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options::default()
            .env("HUNDRED_LIST_NAME", "")
            .env("HUNDRED_SIGNUP_MIN_FILL_SECONDS", ""),
    )
    .await;
    let token = app.api_token().await;
    // Every setting but From (fixed by the test set-up; refused in the test below).
    let bad = [
        ("list_name", json!("two\nlines")),
        ("reply_to", json!("not an address")),
        ("postal_address", json!("1\n2\n3\n4\n5\n6")),
        ("language", json!("nl")),
        ("consent_text", json!("x".repeat(1001))),
        ("accent_color", json!("blue")),
        ("logo", json!("not-a-media-id")),
        ("tracking", json!("sometimes")),
        ("machine_window_seconds", json!(-1)),
        ("engagement_half_life_days", json!(0)),
        ("send_rate", json!("fast")),
        ("send_concurrency", json!(0)),
        ("signup_burst", json!(0)),
        ("signup_per_minute", json!(100000)),
        ("signup_min_fill_seconds", json!(6)),
        ("confirmation_interval_seconds", json!(1.5)),
        ("unsubscribe_mailto", json!("nobody")),
    ];
    for (key, value) in bad {
        // A good change beside the bad one: neither is saved.
        let response = patch(&app, &token, json!({ "list_name": "Changed", key: value })).await;
        assert_eq!(response.status(), 422, "{key} = {value}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["field"], key, "{body}");
        let sentence = body["error"].as_str().unwrap();
        assert!(sentence.ends_with('.') && sentence.len() > 20, "{sentence}");
    }
    let settings = app.api_get("/settings", &token).await;
    assert_eq!(
        settings["list_name"],
        serde_json::Value::Null,
        "nothing was saved"
    );

    let unknown = patch(&app, &token, json!({ "colour": "#000000" })).await;
    assert_eq!(unknown.status(), 400);
    let body: serde_json::Value = unknown.json().await.unwrap();
    assert_eq!(body["error"], "There is no setting called 'colour'.");
    let not_an_object = patch(&app, &token, json!(["list_name"])).await;
    assert_eq!(not_an_object.status(), 400);
}

async fn a_set_variable_fixes_its_setting(backend: Backend) {
    // The test set-up sets HUNDRED_FROM.
    let app = app_with_free_settings(backend).await;
    let token = app.api_token().await;
    let settings = app.api_get("/settings", &token).await;
    assert_eq!(settings["fixed"]["from"], "HUNDRED_FROM");
    assert_eq!(settings["from"], "Corner Bakery <news@bakery.example>");
    let response = patch(
        &app,
        &token,
        json!({ "from": "Other <other@example.com>", "list_name": "Changed" }),
    )
    .await;
    assert_eq!(response.status(), 409);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(
        body["error"],
        "From is fixed by the environment variable HUNDRED_FROM: change it there."
    );
    let settings = app.api_get("/settings", &token).await;
    assert_eq!(
        settings["list_name"],
        serde_json::Value::Null,
        "nothing was saved"
    );

    let owner = app.owner().await;
    let page = owner.page("/admin/settings").await;
    assert!(
        page.contains("Fixed by the environment variable <code>HUNDRED_FROM</code>"),
        "{page}"
    );
}

async fn the_settings_page_saves_and_shows_what_was_wrong(backend: Backend) {
    let app = app_with_free_settings(backend).await;
    let owner = app.owner().await;
    let page = owner.page("/admin/settings").await;
    assert!(page.contains("name=\"list_name\""), "{page}");

    let saved = owner
        .post_form(
            "/admin/settings",
            &[
                ("list_name", "Crumbs Weekly"),
                ("postal_address", "2 Oven Road"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(saved.headers()["location"], "/admin/settings?saved=1");
    let page = owner.page("/admin/settings?saved=1").await;
    assert!(page.contains("Settings saved."), "{page}");
    assert!(page.contains("value=\"Crumbs Weekly\""), "{page}");
    assert!(page.contains(">2 Oven Road</textarea>"), "{page}");

    let refused = owner
        .post_form(
            "/admin/settings",
            &[("list_name", "Not Saved"), ("accent_color", "purple")],
        )
        .await;
    assert_eq!(refused.status(), 422);
    let page = refused.text().await.unwrap();
    assert!(
        page.contains("Accent colour: &#39;purple&#39; is not a colour like #0b57d0."),
        "{page}"
    );
    assert!(page.contains("Nothing was saved."), "{page}");
    assert!(
        page.contains("value=\"purple\""),
        "what was typed stays: {page}"
    );
    let subscribe = app.get("/subscribe").await.text().await.unwrap();
    assert!(
        subscribe.contains("Subscribe to Crumbs Weekly"),
        "{subscribe}"
    );

    // Without the CSRF token nothing is saved.
    let forged = owner
        .post_as_written("/admin/settings", &[], &[("list_name", "Forged")])
        .await;
    assert_eq!(forged.status(), 403);
}

async fn a_second_instance_follows_within_seconds(backend: Backend) {
    let first = app_with_free_settings(backend).await;
    let second = spawn_app_with(
        backend,
        Options {
            database_url: Some(first.database_url.clone()),
            ..Options::default()
        }
        .env("HUNDRED_LIST_NAME", ""),
    )
    .await;
    let token = first.api_token().await;
    let response = patch(&first, &token, json!({ "list_name": "Shared Loaf" })).await;
    assert_eq!(response.status(), 200);
    let started = Instant::now();
    loop {
        let page = second.get("/subscribe").await.text().await.unwrap();
        if page.contains("Subscribe to Shared Loaf") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the second instance still shows the old name after 5 s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    second
        .subscribe_via_page("second@example.com", "Second")
        .await;
    let mail = second.smtp.wait_for("second@example.com", 1).await;
    assert_eq!(
        mail[0].subject(),
        "Please confirm your subscription to Shared Loaf"
    );
}

async fn the_first_start_copies_the_variables_into_the_database(backend: Backend) {
    let first = spawn_app_with(backend, Options::default().env("HUNDRED_SEND_RATE", "7")).await;
    let token = first.api_token().await;
    assert_eq!(
        first.api_get("/settings", &token).await["fixed"]["send_rate"],
        "HUNDRED_SEND_RATE"
    );
    // Started later without the variable: the copied value stays, and it is free.
    let later = spawn_app_with(
        backend,
        Options {
            database_url: Some(first.database_url.clone()),
            ..Options::default()
        },
    )
    .await;
    let settings = later.api_get("/settings", &token).await;
    assert_eq!(settings["send_rate"], 7.0);
    assert!(settings["fixed"].get("send_rate").is_none(), "{settings}");
    let response = patch(&later, &token, json!({ "send_rate": 9 })).await;
    assert_eq!(response.status(), 200);
}

async fn the_dashboard_asks_for_the_postal_address_until_it_is_set(backend: Backend) {
    let app = app_with_free_settings(backend).await;
    let owner = app.owner().await;
    let page = owner.page("/admin").await;
    assert!(page.contains("Your postal address is not set."), "{page}");
    let saved = owner
        .post_form("/admin/settings", &[("postal_address", "3 Flour Street")])
        .await;
    assert_eq!(saved.status(), 303);
    let page = owner.page("/admin").await;
    assert!(!page.contains("Your postal address is not set."), "{page}");
}

async fn the_postal_address_is_in_every_footer(backend: Backend) {
    let app = app_with_free_settings(backend).await;
    let token = app.api_token().await;
    let response = patch(
        &app,
        &token,
        json!({ "postal_address": "Corner Bakery\n1 Mill Lane <Ryeton>" }),
    )
    .await;
    assert_eq!(response.status(), 200);

    // The welcome (a system message) and a campaign copy carry it, in HTML and in text.
    let welcome = app.confirmed_subscriber("reader@example.com").await;
    assert!(
        welcome
            .html()
            .contains("Corner Bakery<br>1 Mill Lane &lt;Ryeton&gt;"),
        "{}",
        welcome.html()
    );
    assert!(
        welcome
            .text()
            .replace("\r\n", "\n")
            .contains("Corner Bakery\n1 Mill Lane <Ryeton>"),
        "{}",
        welcome.text()
    );
    crate::fixtures::send_to_everyone(&app, &token, "Fresh rye", "Out of the oven.").await;
    let copies = app.smtp.wait_for("reader@example.com", 3).await;
    let copy = copies
        .iter()
        .find(|mail| mail.subject() == "Fresh rye")
        .expect("the campaign copy");
    assert!(
        copy.html()
            .contains("Corner Bakery<br>1 Mill Lane &lt;Ryeton&gt;"),
        "{}",
        copy.html()
    );
    assert!(
        copy.text().contains("1 Mill Lane <Ryeton>"),
        "{}",
        copy.text()
    );
}
