//! The owner's templates: the system messages, the words of the public pages and the email
//! layouts, edited through `/api/v1/templates` and the admin pages, in effect at once (on
//! a second instance within seconds), checked when saved as sending would check them,
//! every version kept, and back to the shipped text on `DELETE`. A campaign keeps the
//! layout version it went out with.

use reqwest::Method;
use serde_json::json;

use crate::fixtures::{as_read, assert_contains, confirmed_email, confirmed_named, draft};
use crate::helpers::{Backend, Captured, Options, TestApp, spawn_app, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    the_owners_welcome_reaches_the_next_reader_until_it_goes_back_to_the_shipped_one,
    the_owners_words_show_on_the_public_pages_of_every_instance,
    a_layout_missing_what_sending_needs_is_refused_with_the_part_and_the_line,
    a_template_that_fails_for_someone_with_no_name_is_refused,
    a_campaign_keeps_the_layout_version_it_went_out_with,
    the_owner_edits_a_message_in_the_admin_with_a_preview_in_german,
    bad_names_and_bodies_get_a_clear_answer,
);

/// `PUT /api/v1/templates/{name}` with these parts; the answer.
async fn put(
    app: &TestApp,
    token: &str,
    name: &str,
    parts: serde_json::Value,
) -> reqwest::Response {
    app.api_json(Method::PUT, &format!("/templates/{name}"), token, &parts)
        .await
}

/// `PUT` that must succeed; the template as the answer shows it.
async fn save(
    app: &TestApp,
    token: &str,
    name: &str,
    parts: serde_json::Value,
) -> serde_json::Value {
    let response = put(app, token, name, parts).await;
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, 200, "PUT {name}: {body}");
    body
}

/// A 422 answer's JSON (`error`, `field`, `line`).
async fn refused(response: reqwest::Response) -> serde_json::Value {
    let status = response.status();
    let text = response.text().await.unwrap();
    let body: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: {text}"));
    assert_eq!(status, 422, "{body}");
    body
}

/// `PUT` that must be refused; the 422's JSON.
async fn refused_put(
    app: &TestApp,
    token: &str,
    name: &str,
    parts: serde_json::Value,
) -> serde_json::Value {
    refused(put(app, token, name, parts).await).await
}

/// `PUT layout/default` with these parts, which must be refused; the 422's JSON.
async fn refused_layout(app: &TestApp, token: &str, html: &str, text: &str) -> serde_json::Value {
    refused_put(
        app,
        token,
        "layout/default",
        json!({ "html": html, "text": text }),
    )
    .await
}

/// The shipped default layout's parts, as `GET` answers them.
async fn default_layout(app: &TestApp, token: &str) -> (String, String) {
    let layout = app.api_get("/templates/layout/default", token).await;
    (
        layout["parts"]["html"].as_str().unwrap().to_string(),
        layout["parts"]["text"].as_str().unwrap().to_string(),
    )
}

/// Signs `email` up on the hosted page and confirms; the welcome (the second message).
async fn sign_up_and_confirm(app: &TestApp, email: &str, name: &str) -> Captured {
    app.subscribe_via_page(email, name).await;
    let confirmation = app.smtp.wait_for(email, 1).await.remove(0);
    let link = confirmation
        .link_starting_with(&app.url("/confirm/"))
        .expect("a confirm link");
    assert_eq!(app.post_empty(&link).await.status(), 200);
    app.smtp.wait_for(email, 2).await.remove(1)
}

async fn the_owners_welcome_reaches_the_next_reader_until_it_goes_back_to_the_shipped_one(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;

    // As shipped: listed, not customised, no versions.
    let list = app.api_get("/templates", &token).await;
    let names: Vec<&str> = list["templates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for name in [
        "layout/default",
        "message/confirmation",
        "message/welcome",
        "message/repermission",
        "page/subscribe",
        "page/thanks",
        "page/confirmed",
        "page/unsubscribed",
        "page/keep",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let welcome = app.api_get("/templates/message/welcome", &token).await;
    assert_eq!(welcome["customised"], false);
    assert_eq!(welcome["versions"].as_array().unwrap().len(), 0);
    assert!(
        welcome["parts"]["subject"]
            .as_str()
            .unwrap()
            .contains("t(key=")
    );

    // The owner's welcome, with a placeholder and a name that may be missing.
    let saved = save(
        &app,
        &token,
        "message/welcome",
        json!({
            "subject": "Fresh from {{ list_name }}",
            "body": "Dear {{ subscriber.name | default(value=\"neighbour\") }},\n\nThe **rye** is out at seven.",
        }),
    )
    .await;
    assert_eq!(saved["customised"], true);
    assert_eq!(saved["version"], 1);

    let mail = sign_up_and_confirm(&app, "ann@example.com", "Ann").await;
    assert_eq!(mail.subject(), "Fresh from Corner Bakery News");
    let html = mail.html();
    assert_contains(&html, "Dear Ann,", "the owner's words, personalised");
    assert_contains(&html, "<strong>rye</strong>", "Markdown");
    assert_contains(&html, "/unsubscribe/", "the layout's footer around it");
    assert_contains(
        &mail.text(),
        "The **rye** is out at seven.",
        "the text part",
    );

    // Back to the shipped text: a new version saying so, the next reader gets it.
    let response = app
        .api_call(Method::DELETE, "/templates/message/welcome", &token)
        .await;
    assert_eq!(response.status(), 200);
    let reset: serde_json::Value = response.json().await.unwrap();
    assert_eq!(reset["customised"], false);
    let holds: Vec<&str> = reset["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["holds"].as_str().unwrap())
        .collect();
    assert_eq!(
        holds,
        ["shipped", "owner"],
        "every version kept, newest first"
    );

    let mail = sign_up_and_confirm(&app, "bob@example.com", "").await;
    assert_eq!(mail.subject(), "Welcome to Corner Bakery News");
    assert!(!mail.html().contains("rye"), "{}", mail.html());
}

async fn the_owners_words_show_on_the_public_pages_of_every_instance(backend: Backend) {
    let first = spawn_app_with(backend, Options::default().unset("HUNDRED_LIST_NAME")).await;
    let token = first.api_token().await;
    let renamed = first
        .api_json(
            Method::PATCH,
            "/settings",
            &token,
            &json!({ "list_name": "Mill & Loaf" }),
        )
        .await;
    assert_eq!(renamed.status(), 200);
    let second = spawn_app_with(
        backend,
        Options {
            database_url: Some(first.database_url.clone()),
            ..Options::default()
        },
    )
    .await;
    assert!(
        !second
            .get("/subscribe")
            .await
            .text()
            .await
            .unwrap()
            .contains("sourdough"),
        "the shipped words first"
    );

    save(
        &first,
        &token,
        "page/subscribe",
        json!({ "body": "Our **sourdough** news, once a month. <script>alert(1)</script>" }),
    )
    .await;
    save(
        &first,
        &token,
        "page/unsubscribed",
        json!({ "body": "Sorry to see you go, {{ email }}. The door of {{ list_name }} stays open." }),
    )
    .await;

    // This instance at once, the other within 5 s.
    let page = first.get("/subscribe").await.text().await.unwrap();
    assert_contains(
        &page,
        "Our <strong>sourdough</strong> news",
        "the owner's words",
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let page = second.get("/subscribe").await.text().await.unwrap();
        if page.contains("<strong>sourdough</strong>") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the second instance shows the old words after 5 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // An unsubscribe shows the owner's page with the address as text.
    let welcome = first.confirmed_subscriber("zoe@example.com").await;
    let link = welcome
        .link_starting_with(&first.url("/unsubscribe/"))
        .expect("an unsubscribe link");
    let answer = first.post_empty(&link).await;
    let page = as_read(&answer.text().await.unwrap());
    assert_contains(
        &page,
        "Sorry to see you go, zoe@example.com. The door of Mill & Loaf stays open.",
        "the owner's unsubscribed page",
    );
    let _ = second;
}

async fn a_layout_missing_what_sending_needs_is_refused_with_the_part_and_the_line(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let (html, text) = default_layout(&app, &token).await;
    assert!(html.contains("{{ unsubscribe_url }}"), "{html}");

    // Each of these is refused on its part, nothing saved.
    let without_unsubscribe = html.replace("{{ unsubscribe_url }}", "https://bakery.example/");
    let body = refused_layout(&app, &token, &without_unsubscribe, &text).await;
    assert_eq!(body["field"], "html");
    assert_contains(
        body["error"].as_str().unwrap(),
        "the unsubscribe link is missing",
        "why",
    );

    let without_address = text.replace("{{ postal_address }}", "");
    let body = refused_layout(&app, &token, &html, &without_address).await;
    assert_eq!(body["field"], "text");
    assert_contains(
        body["error"].as_str().unwrap(),
        "the postal address is missing",
        "why",
    );

    // The content twice: the line of the second one.
    let twice = format!("{html}\n{{{{ content | safe }}}}\n");
    let second_line = twice.lines().count();
    let body = refused_layout(&app, &token, &twice, &text).await;
    assert_eq!(body["field"], "html");
    assert_eq!(body["line"], second_line, "{body}");
    assert_contains(
        body["error"].as_str().unwrap(),
        "the content shows 2 times",
        "why",
    );

    // The open pixel outside its `if`.
    let pixel = html.replacen(
        "<body",
        "<img src=\"{{ open_pixel_url }}\" alt=\"\"><body",
        1,
    );
    let body = refused_layout(&app, &token, &pixel, &text).await;
    assert_eq!(body["field"], "html");
    assert_contains(body["error"].as_str().unwrap(), "open pixel", "why");

    // A Tera syntax error names its line.
    let broken = html.replacen("<body", "{% if %}\n<body", 1);
    let body = refused_layout(&app, &token, &broken, &text).await;
    assert_eq!(body["field"], "html");
    assert!(body["line"].as_u64().is_some(), "{body}");

    let layout = app.api_get("/templates/layout/default", &token).await;
    assert_eq!(layout["customised"], false, "nothing was saved");
    assert_eq!(layout["versions"].as_array().unwrap().len(), 0);

    // The same layout with all it needs saves, and a confirmation goes out in it.
    let mine = html.replacen("<body", "<body data-mine=\"autumn-colours\"", 1);
    save(
        &app,
        &token,
        "layout/default",
        json!({ "html": mine, "text": text }),
    )
    .await;
    app.subscribe_via_page("cleo@example.com", "Cleo").await;
    let mail = app.smtp.wait_for("cleo@example.com", 1).await;
    assert_contains(
        &mail[0].html(),
        "data-mine=\"autumn-colours\"",
        "the owner's layout",
    );
}

async fn a_template_that_fails_for_someone_with_no_name_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;

    // An attribute not everyone has, with no default: refused on its part and line.
    let body = refused_put(
        &app,
        &token,
        "message/welcome",
        json!({
            "subject": "Welcome",
            "body": "Hello!\n\nSee you in {{ subscriber.attributes.city }}.",
        }),
    )
    .await;
    assert_eq!(body["field"], "body");
    assert_eq!(body["line"], 3, "{body}");
    assert_contains(
        body["error"].as_str().unwrap(),
        "give it a default",
        "the hint",
    );

    // A filter that fails on a missing name.
    let body = refused_put(&app, &token, "message/confirmation", json!({ "subject": "{{ subscriber.name | upper }}, confirm", "body": "[Confirm]({{ confirm_url }})" })).await;
    assert_eq!(body["field"], "subject");

    // Page words are checked too.
    let body = refused_put(
        &app,
        &token,
        "page/thanks",
        json!({ "body": "{{ nobody_knows }}" }),
    )
    .await;
    assert_eq!(body["field"], "body");

    // Nothing was saved: the confirmation still goes out as shipped.
    app.subscribe_via_page("dan@example.com", "").await;
    let mail = app.smtp.wait_for("dan@example.com", 1).await;
    assert!(
        mail[0].subject().contains("confirm"),
        "{}",
        mail[0].subject()
    );
    for name in ["message/welcome", "message/confirmation", "page/thanks"] {
        let template = app.api_get(&format!("/templates/{name}"), &token).await;
        assert_eq!(template["customised"], false, "{name}");
    }
}

async fn a_campaign_keeps_the_layout_version_it_went_out_with(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    confirmed_email(&app, &token, "ann@example.com").await;
    let (html, text) = default_layout(&app, &token).await;
    let autumn = |mark: &str| {
        json!({
            "html": html.replacen("<body", &format!("<body data-layout=\"{mark}\""), 1),
            "text": format!("{mark}\n{text}"),
        })
    };

    // A layout of the owner's own, picked by a campaign.
    save(&app, &token, "layout/autumn", autumn("autumn-one")).await;
    let list = app.api_get("/templates", &token).await;
    assert!(
        list["templates"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "layout/autumn" && t["kind"] == "layout"),
        "{list}"
    );
    let campaign = app
        .create_campaign(
            &token,
            json!({ "subject": "Leaves", "body": "Pumpkin loaf is back.", "layout": "autumn" }),
        )
        .await;
    let id = campaign["id"].as_str().unwrap().to_string();
    let unsent = draft(&app, &token, "Later", "Not yet.").await;
    let response = app
        .api_json(
            Method::PATCH,
            &format!("/campaigns/{unsent}"),
            &token,
            &json!({ "layout": "autumn" }),
        )
        .await;
    assert_eq!(response.status(), 200);

    app.send_campaign_now(&token, &id).await;
    app.wait_for_campaign(&token, &id, "sent").await;
    let copy = app.smtp.messages_to("ann@example.com").remove(0);
    assert_contains(
        &copy.html(),
        "data-layout=\"autumn-one\"",
        "sent in the layout",
    );
    assert_contains(&copy.text(), "autumn-one", "its text part too");

    // The layout changes; the campaign that went out still shows as it was sent.
    save(&app, &token, "layout/autumn", autumn("autumn-two")).await;
    let preview = app
        .api_get(&format!("/campaigns/{id}/preview"), &token)
        .await;
    assert_contains(preview["html"].as_str().unwrap(), "autumn-one", "as sent");
    assert!(!preview["html"].as_str().unwrap().contains("autumn-two"));
    // The owner's report shows it so too.
    let owner = app.owner().await;
    let report = owner.page(&format!("/admin/campaigns/{id}")).await;
    assert_contains(
        &report,
        "In the layout “autumn”, version 1",
        "the report names it",
    );
    assert_contains(&report, "autumn-one", "and shows the copy as sent");
    assert!(
        !report.contains("autumn-two"),
        "not the layout as it is now"
    );
    let later = app
        .api_get(&format!("/campaigns/{unsent}/preview"), &token)
        .await;
    assert_contains(
        later["html"].as_str().unwrap(),
        "autumn-two",
        "a draft: as it stands",
    );

    // Removing it is refused while the draft uses it, then done; gone for new campaigns.
    let response = app
        .api_call(Method::DELETE, "/templates/layout/autumn", &token)
        .await;
    assert_eq!(response.status(), 409);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_contains(body["error"].as_str().unwrap(), "Later", "names the draft");
    let response = app
        .api_json(
            Method::PATCH,
            &format!("/campaigns/{unsent}"),
            &token,
            &json!({ "layout": "default" }),
        )
        .await;
    assert_eq!(response.status(), 200);
    let response = app
        .api_call(Method::DELETE, "/templates/layout/autumn", &token)
        .await;
    assert_eq!(response.status(), 204);
    assert_eq!(
        app.api_call(Method::GET, "/templates/layout/autumn", &token)
            .await
            .status(),
        404
    );
    let preview = app
        .api_get(&format!("/campaigns/{id}/preview"), &token)
        .await;
    assert_contains(
        preview["html"].as_str().unwrap(),
        "autumn-one",
        "still as sent",
    );
    let response = app
        .api_json(
            Method::POST,
            "/campaigns",
            &token,
            &json!({ "subject": "Winter", "body": "Soon.", "layout": "autumn" }),
        )
        .await;
    let body = refused(response).await;
    assert_eq!(body["field"], "layout");
}

async fn the_owner_edits_a_message_in_the_admin_with_a_preview_in_german(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    confirmed_named(&app, &token, "ann@example.com", "Ann").await;
    let owner = app.owner().await;

    let list = owner.page("/admin/templates").await;
    assert_contains(
        &list,
        "href=\"/admin/templates/message/welcome\"",
        "the list links it",
    );
    let editor = owner.page("/admin/templates/message/welcome").await;
    assert_contains(&editor, "id=\"part-body\"", "the body's field");
    assert_contains(
        &editor,
        ">ann@example.com</option>",
        "preview as a subscriber",
    );
    let ann = editor
        .split("<option value=\"")
        .find(|option| option.contains(">ann@example.com<"))
        .and_then(|option| option.split('"').next())
        .expect("Ann's option")
        .to_string();

    // The live preview: the shipped words in German, as Ann; nothing saved.
    let welcome = app.api_get("/templates/message/welcome", &token).await;
    let preview = owner
        .post_as_written(
            "/admin/templates/message/welcome/preview",
            &[("x-csrf-token", owner.csrf.as_str())],
            &[
                ("subject", welcome["parts"]["subject"].as_str().unwrap()),
                ("body", welcome["parts"]["body"].as_str().unwrap()),
                ("preview_as", ann.as_str()),
                ("language", "de"),
            ],
        )
        .await;
    assert_eq!(preview.status(), 200);
    let preview: serde_json::Value = preview.json().await.unwrap();
    assert_contains(preview["subject"].as_str().unwrap(), "Willkommen", "German");
    assert_contains(preview["html"].as_str().unwrap(), "Ann", "as Ann");
    assert_contains(
        preview["html"].as_str().unwrap(),
        "lang=\"de\"",
        "German mail",
    );

    // Without the CSRF token: refused, and so is a save.
    let forged = owner
        .post_as_written(
            "/admin/templates/message/welcome",
            &[],
            &[("subject", "Hacked"), ("body", "Hacked")],
        )
        .await;
    assert_eq!(forged.status(), 403);

    // A broken save shows the page again with what was typed and the line.
    let answer = owner
        .post_form(
            "/admin/templates/message/welcome",
            &[
                ("subject", "Hello"),
                ("body", "Line one\r\n\r\n{% if %}"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(answer.status(), 422);
    let page = as_read(&answer.text().await.unwrap());
    assert_contains(
        &page,
        "id=\"part-body-error\"",
        "the error next to the body",
    );
    assert_contains(&page, "line 3", "with its line");
    assert_contains(&page, "Line one", "what was typed stays");

    // A good save: in effect at once.
    let answer = owner
        .post_form(
            "/admin/templates/message/welcome",
            &[
                ("subject", "Hello from the oven"),
                (
                    "body",
                    "Warm *bread*, {{ subscriber.name | default(value=\"friend\") }}.",
                ),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(answer.status(), 303);
    let page = owner.page("/admin/templates/message/welcome?saved=1").await;
    assert_contains(&page, "your version 1", "in effect");
    let mail = sign_up_and_confirm(&app, "eve@example.com", "Eve").await;
    assert_eq!(mail.subject(), "Hello from the oven");
    assert_contains(
        &mail.html(),
        "Warm <em>bread</em>, Eve.",
        "the owner's words",
    );

    // Going back from the admin.
    let answer = owner
        .post_form("/admin/templates/message/welcome/reset", &[])
        .await;
    assert_eq!(answer.status(), 303);
    let welcome = app.api_get("/templates/message/welcome", &token).await;
    assert_eq!(welcome["customised"], false);

    // A layout of the owner's own, added on the list page; the composer offers it.
    let answer = owner
        .post_form("/admin/templates", &[("name", "Autumn Sale!")])
        .await;
    assert_eq!(answer.status(), 422);
    let page = as_read(&answer.text().await.unwrap());
    assert_contains(&page, "lower-case letters, digits and dashes", "why not");
    assert_contains(&page, "value=\"Autumn Sale!\"", "what was typed stays");
    let answer = owner
        .post_form("/admin/templates", &[("name", "autumn")])
        .await;
    assert_eq!(answer.status(), 303);
    assert_eq!(
        answer.headers()["location"],
        "/admin/templates/layout/autumn?saved=1"
    );
    let answer = owner
        .post_form("/admin/templates", &[("name", "autumn")])
        .await;
    assert_eq!(answer.status(), 422, "there is one of that name");
    let composer = owner.page("/admin/campaigns/new").await;
    assert_contains(
        &composer,
        "<option value=\"autumn\"",
        "the composer offers it",
    );
}

async fn bad_names_and_bodies_get_a_clear_answer(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;

    for name in [
        "message/goodbye",
        "page/secret",
        "layout/Autumn",
        "nothing/here",
    ] {
        let response = app
            .api_call(Method::GET, &format!("/templates/{name}"), &token)
            .await;
        assert_eq!(response.status(), 404, "{name}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_contains(
            body["error"].as_str().unwrap(),
            "There is no template",
            name,
        );
    }
    let response = put(
        &app,
        &token,
        "message/goodbye",
        json!({ "subject": "x", "body": "y" }),
    )
    .await;
    assert_eq!(response.status(), 404);

    // Not JSON, not an object, a part that is not text, a part it lacks or has not.
    let response = app
        .api(Method::PUT, "/templates/page/thanks", &token)
        .await
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let response = put(&app, &token, "page/thanks", json!(["body"])).await;
    assert_eq!(response.status(), 400);
    let body = refused_put(&app, &token, "page/thanks", json!({ "body": 7 })).await;
    assert_eq!(body["field"], "body");
    let body = refused_put(&app, &token, "message/welcome", json!({ "body": "Hi" })).await;
    assert_eq!(body["field"], "subject");
    let body = refused_put(
        &app,
        &token,
        "page/thanks",
        json!({ "body": "Thanks", "subject": "?" }),
    )
    .await;
    assert_eq!(body["field"], "subject");
    let body = refused_put(&app, &token, "page/thanks", json!({ "body": "   " })).await;
    assert_contains(body["error"].as_str().unwrap(), "empty", "an empty part");
    let long = "a".repeat(61 * 1024);
    let body = refused_put(&app, &token, "page/thanks", json!({ "body": long })).await;
    assert_contains(body["error"].as_str().unwrap(), "longer than", "too long");

    // No token: 401.
    let response = app
        .client
        .get(app.url("/api/v1/templates"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    let template = app.api_get("/templates/page/thanks", &token).await;
    assert_eq!(template["customised"], false, "nothing saved");
}
