//! The public archive as a visitor, a feed reader and the owner use it: what went out and is
//! public is there (and in the feed) for anyone, with nothing of any subscriber; what is
//! private, unknown or taken out answers 404; signing up under an issue is recorded as
//! coming from the archive.

use reqwest::Method;

use crate::fixtures::confirmed;
use crate::helpers::{Backend, TestApp, assert_contains, hidden_value, spawn_app, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    an_issue_is_read_by_anyone_without_anything_of_its_readers,
    the_feed_is_atom_a_reader_can_follow,
    private_unknown_and_taken_out_issues_are_not_found,
    signing_up_under_an_issue_is_recorded_as_from_the_archive,
    the_archive_can_ask_search_engines_to_keep_out,
    the_archive_pages_and_the_owners_default_decides,
    the_owner_sees_and_changes_what_is_public,
);

/// What a reader has that nobody else may see: their name, an attribute, their address.
const NAME: &str = "Annabel Quist";
const CITY: &str = "Lindenhof-Süd";
const EMAIL: &str = "annabel@example.com";

const BODY: &str = "Hello {{ subscriber.name | default(value=\"friend\") }} from \
{{ subscriber.attributes.city | default(value=\"your town\") }}!\n\n\
Rye is back on Friday. [Order a loaf](https://bakery.example/order?kind=rye).\n\n\
Written to {{ subscriber.email }}.";

/// A campaign sent to one reader who has a name and a city; (campaign id, the copy's
/// unsubscribe token).
async fn sent_to_annabel(app: &TestApp, token: &str, input: serde_json::Value) -> (String, String) {
    confirmed(
        app,
        token,
        EMAIL,
        Some(NAME),
        serde_json::json!({ "city": CITY }),
    )
    .await;
    let id = send(app, token, input).await;
    let copy = app.smtp.wait_for(EMAIL, 1).await.remove(0);
    assert_contains(&copy.text(), NAME, "the copy itself is personal");
    let unsubscribe = copy
        .link_starting_with(&app.url("/unsubscribe/"))
        .expect("the copy has an unsubscribe link");
    let token = unsubscribe.rsplit('/').next().unwrap().to_string();
    (id, token)
}

/// Creates and sends a campaign; its id, once it went out.
async fn send(app: &TestApp, token: &str, input: serde_json::Value) -> String {
    let campaign = app.create_campaign(token, input).await;
    let id = campaign["id"].as_str().unwrap().to_string();
    app.send_campaign_now(token, &id).await;
    app.wait_for_campaign(token, &id, "sent").await;
    id
}

fn rye() -> serde_json::Value {
    serde_json::json!({
        "subject": "Rye is back!",
        "preheader": "Fresh from the oven on Friday",
        "body": BODY,
    })
}

/// `PATCH` through the API with `body`; the answer, unchecked.
async fn patch(
    app: &TestApp,
    token: &str,
    path: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    app.api_json(Method::PATCH, path, token, body).await
}

async fn page(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let response = app.get(path).await;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (status, headers, response.text().await.unwrap())
}

/// Nothing of the reader is in `text`: not their name, city, address or unsubscribe token.
fn nothing_personal(text: &str, unsubscribe_token: &str, what: &str) {
    for secret in [
        NAME,
        "Annabel",
        CITY,
        EMAIL,
        unsubscribe_token,
        "/t/o/",
        "/t/c/",
    ] {
        assert!(!text.contains(secret), "{what} shows {secret:?}:\n{text}");
    }
}

async fn an_issue_is_read_by_anyone_without_anything_of_its_readers(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let (id, unsubscribe_token) = sent_to_annabel(&app, &token, rye()).await;

    let (status, _, list) = page(&app, "/archive").await;
    assert_eq!(status, 200, "{list}");
    assert_contains(&list, "Rye is back!", "the archive lists the issue");
    assert_contains(&list, "Fresh from the oven on Friday", "with its preheader");
    assert_contains(
        &list,
        "href=\"/archive/rye-is-back\"",
        "linking to its page",
    );
    nothing_personal(&list, &unsubscribe_token, "the archive's list");

    let (status, headers, issue) = page(&app, "/archive/rye-is-back").await;
    assert_eq!(status, 200, "{issue}");
    assert_contains(
        &issue,
        "Hello friend from your town!",
        "placeholders take their defaults",
    );
    assert_contains(
        &issue,
        "href=\"https://bakery.example/order?kind=rye\"",
        "a link goes straight where the author pointed it",
    );
    assert_contains(
        &issue,
        "Written to .",
        "the address is empty for nobody in particular",
    );
    nothing_personal(&issue, &unsubscribe_token, "the issue's page");
    assert!(
        !issue.contains("/unsubscribe/"),
        "no unsubscribe link:\n{issue}"
    );
    // Shared, it shows its title and description; search engines know its one address.
    let url = app.url("/archive/rye-is-back");
    for tag in [
        format!("<link rel=\"canonical\" href=\"{url}\">"),
        "<meta property=\"og:title\" content=\"Rye is back!\">".to_string(),
        "<meta property=\"og:description\" content=\"Fresh from the oven on Friday\">".to_string(),
        format!("<meta property=\"og:url\" content=\"{url}\">"),
        "<meta name=\"twitter:card\" content=\"summary\">".to_string(),
        format!(
            "<link rel=\"alternate\" type=\"application/atom+xml\" title=\"Corner Bakery News\" href=\"{}\">",
            app.url("/archive/feed.xml")
        ),
    ] {
        assert_contains(&issue, &tag, "the page's head");
    }
    assert!(
        !issue.contains("name=\"robots\""),
        "indexed by default:\n{issue}"
    );
    // Under it, the signup form, marked as the archive's.
    assert_eq!(hidden_value(&issue, "from").as_deref(), Some("archive"));
    assert!(hidden_value(&issue, "form_token").is_some(), "{issue}");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("img-src 'self' data: https:"), "{policy}");

    // The owner sees where it is, through the API.
    let campaign = app.api_get(&format!("/campaigns/{id}"), &token).await;
    assert_eq!(campaign["public"], true);
    assert_eq!(campaign["archive_url"], url.as_str());
}

async fn the_feed_is_atom_a_reader_can_follow(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let (first, unsubscribe_token) = sent_to_annabel(&app, &token, rye()).await;
    let second = send(
        &app,
        &token,
        serde_json::json!({ "subject": "Spelt & honey", "body": "Our **spelt** loaf, {{ subscriber.name | default(value=\"friend\") }}." }),
    )
    .await;

    let response = app.get("/archive/feed.xml").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    let xml = response.text().await.unwrap();
    nothing_personal(&xml, &unsubscribe_token, "the feed");
    let feed = feed_rs::parser::parse(xml.as_bytes()).expect("the feed parses");
    assert_eq!(feed.feed_type, feed_rs::model::FeedType::Atom);
    assert_eq!(feed.title.unwrap().content, "Corner Bakery News");
    assert_eq!(feed.id, app.url("/archive"));
    let self_link = feed.links.iter().find(|l| l.rel.as_deref() == Some("self"));
    assert_eq!(
        self_link.map(|l| l.href.as_str()),
        Some(app.url("/archive/feed.xml").as_str())
    );
    // Newest first: the spelt issue, then the rye one.
    let ids: Vec<&str> = feed.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(
        ids,
        [format!("urn:uuid:{second}"), format!("urn:uuid:{first}")]
    );
    let updated = feed.updated.expect("the feed says when it changed");
    let spelt = &feed.entries[0];
    assert_eq!(spelt.title.as_ref().unwrap().content, "Spelt & honey");
    assert_eq!(
        spelt.updated,
        Some(updated),
        "the feed changed with its newest entry"
    );
    assert!(spelt.published.is_some());
    assert_eq!(spelt.links[0].href, app.url("/archive/spelt-honey"));
    let content = spelt.content.as_ref().and_then(|c| c.body.clone()).unwrap();
    assert_contains(
        &content,
        "<strong>spelt</strong> loaf, friend.",
        "the full content",
    );
    let rye = &feed.entries[1];
    assert_eq!(rye.links[0].href, app.url("/archive/rye-is-back"));
    assert!(rye.updated.unwrap() <= updated);
    assert_eq!(
        rye.summary.as_ref().unwrap().content,
        "Fresh from the oven on Friday"
    );
    let rye_content = rye.content.as_ref().and_then(|c| c.body.clone()).unwrap();
    assert_contains(
        &rye_content,
        "Hello friend from your town!",
        "the full content",
    );
    assert_contains(
        &rye_content,
        "https://bakery.example/order?kind=rye",
        "links as written",
    );
    // Every page of the archive points feed readers at it.
    let (_, _, list) = page(&app, "/archive").await;
    assert_contains(
        &list,
        "type=\"application/atom+xml\"",
        "the list links the feed",
    );
}

async fn private_unknown_and_taken_out_issues_are_not_found(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    confirmed(&app, &token, "bo@example.com", None, serde_json::json!({})).await;
    let private = send(
        &app,
        &token,
        serde_json::json!({ "subject": "Members only", "body": "Just for you.", "public": false }),
    )
    .await;
    let public = send(
        &app,
        &token,
        serde_json::json!({ "subject": "For everyone", "body": "Come by." }),
    )
    .await;
    let draft = app
        .create_campaign(
            &token,
            serde_json::json!({ "subject": "Not yet", "body": "Soon.", "public": true }),
        )
        .await;
    assert_eq!(draft["public"], true);
    assert_eq!(draft["archive_url"], serde_json::Value::Null);

    let campaign = app.api_get(&format!("/campaigns/{private}"), &token).await;
    assert_eq!(campaign["public"], false);
    assert_eq!(campaign["archive_url"], serde_json::Value::Null);
    for path in [
        "/archive/members-only",
        "/archive/not-yet",
        "/archive/no-such-issue",
        "/archive/..%2F..%2Fetc%2Fpasswd",
        "/archive/%00",
        "/archive/UPPER",
    ] {
        let (status, _, body) = page(&app, path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert_contains(&body, "Not in the archive", path);
        assert_contains(&body, "href=\"/archive\"", "the way back to the list");
    }
    let (_, _, list) = page(&app, "/archive").await;
    assert!(
        !list.contains("Members only") && !list.contains("Not yet"),
        "{list}"
    );
    assert_contains(&list, "For everyone", "the public one is there");
    let feed = app.get("/archive/feed.xml").await.text().await.unwrap();
    assert!(!feed.contains("Members only") && !feed.contains("Not yet"));

    // Taken out after it went out: 404 from then on, and out of the feed.
    assert_eq!(page(&app, "/archive/for-everyone").await.0, 200);
    let taken_out = patch(
        &app,
        &token,
        &format!("/campaigns/{public}"),
        &serde_json::json!({ "public": false }),
    )
    .await;
    assert_eq!(taken_out.status(), 200);
    let json: serde_json::Value = taken_out.json().await.unwrap();
    assert_eq!(json["public"], false);
    assert_eq!(json["status"], "sent");
    assert_eq!(page(&app, "/archive/for-everyone").await.0, 404);
    let feed = app.get("/archive/feed.xml").await.text().await.unwrap();
    assert!(!feed.contains("For everyone"), "{feed}");
    // Put back, at the same address.
    let put_back = patch(
        &app,
        &token,
        &format!("/campaigns/{public}"),
        &serde_json::json!({ "public": true }),
    )
    .await;
    assert_eq!(put_back.status(), 200);
    assert_eq!(page(&app, "/archive/for-everyone").await.0, 200);
    // What went out cannot be rewritten with it.
    let rewritten = patch(
        &app,
        &token,
        &format!("/campaigns/{public}"),
        &serde_json::json!({ "public": true, "subject": "Changed" }),
    )
    .await;
    assert_eq!(rewritten.status(), 409);
    // And `public` must be true or false.
    let bad = patch(
        &app,
        &token,
        &format!("/campaigns/{public}"),
        &serde_json::json!({ "public": "yes" }),
    )
    .await;
    assert_eq!(bad.status(), 400);
    assert_eq!(page(&app, "/archive/for-everyone").await.0, 200);
}

async fn signing_up_under_an_issue_is_recorded_as_from_the_archive(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    confirmed(&app, &token, "bo@example.com", None, serde_json::json!({})).await;
    send(&app, &token, rye()).await;
    let (_, _, issue) = page(&app, "/archive/rye-is-back").await;
    let form_token = hidden_value(&issue, "form_token").unwrap();
    let thanks = app
        .post_subscribe_form(&[
            ("email", "cleo@example.com"),
            ("name", "Cleo"),
            ("website", ""),
            ("form_token", &form_token),
            ("from", "archive"),
        ])
        .await;
    assert_eq!(thanks.status(), 200);
    assert_contains(
        &thanks.text().await.unwrap(),
        "Almost there",
        "the thank-you page",
    );
    // The same double opt-in: nothing until confirmed.
    let confirmation = app.smtp.wait_for("cleo@example.com", 1).await.remove(0);
    let link = confirmation
        .link_starting_with(&app.url("/confirm/"))
        .unwrap();
    assert_eq!(app.post_empty(&link).await.status(), 200);
    let list = app.api_get("/subscribers?status=confirmed", &token).await;
    let cleo = list["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == "cleo@example.com")
        .expect("Cleo is confirmed")
        .clone();
    let record = app
        .api_get(
            &format!("/subscribers/{}", cleo["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(record["consent"]["source"], "archive", "{record}");

    // A refusal shows the form again, still the archive's.
    let (_, _, issue) = page(&app, "/archive/rye-is-back").await;
    let form_token = hidden_value(&issue, "form_token").unwrap();
    let refused = app
        .post_subscribe_form(&[
            ("email", "not-an-address"),
            ("form_token", &form_token),
            ("from", "archive"),
        ])
        .await;
    assert_eq!(refused.status(), 400);
    let again = refused.text().await.unwrap();
    assert_eq!(hidden_value(&again, "from").as_deref(), Some("archive"));
}

async fn the_archive_can_ask_search_engines_to_keep_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    confirmed(&app, &token, "bo@example.com", None, serde_json::json!({})).await;
    send(&app, &token, rye()).await;
    for path in ["/archive", "/archive/rye-is-back", "/archive/feed.xml"] {
        let (status, headers, body) = page(&app, path).await;
        assert_eq!(status, 200);
        assert!(headers.get("x-robots-tag").is_none(), "{path}");
        assert!(!body.contains("noindex"), "{path}: {body}");
    }
    // The signup page is not the archive: it stays out of search engines.
    let (_, _, signup) = page(&app, "/subscribe").await;
    assert_contains(
        &signup,
        "<meta name=\"robots\" content=\"noindex\">",
        "signup",
    );

    let changed = patch(
        &app,
        &token,
        "/settings",
        &serde_json::json!({ "archive_noindex": true }),
    )
    .await;
    assert_eq!(changed.status(), 200);
    for path in [
        "/archive",
        "/archive/rye-is-back",
        "/archive/feed.xml",
        "/archive/gone",
    ] {
        let (_, headers, body) = page(&app, path).await;
        assert_eq!(headers["x-robots-tag"], "noindex", "{path}");
        if path != "/archive/feed.xml" {
            assert_contains(&body, "<meta name=\"robots\" content=\"noindex\">", path);
        }
    }
}

async fn the_archive_pages_and_the_owners_default_decides(backend: Backend) {
    // Twenty-one issues: a page and one more.
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    confirmed(&app, &token, "bo@example.com", None, serde_json::json!({})).await;
    for n in 1..=21 {
        send(
            &app,
            &token,
            serde_json::json!({ "subject": format!("Week {n}"), "body": "Bread." }),
        )
        .await;
    }
    let (status, _, first) = page(&app, "/archive").await;
    assert_eq!(status, 200);
    assert_contains(&first, "href=\"/archive/week-21\"", "the newest first");
    assert_contains(&first, "href=\"/archive/week-2\"", "twenty on a page");
    assert!(!first.contains("href=\"/archive/week-1\""), "{first}");
    assert_contains(&first, "Page 1 of 2", "the pages");
    assert_contains(&first, "href=\"/archive?page=2\"", "the way to the older");
    let (status, _, second) = page(&app, "/archive?page=2").await;
    assert_eq!(status, 200);
    assert_contains(
        &second,
        "href=\"/archive/week-1\"",
        "the oldest on page two",
    );
    assert_contains(
        &second,
        &format!(
            "<link rel=\"canonical\" href=\"{}\">",
            app.url("/archive?page=2")
        ),
        "its own address",
    );
    assert_eq!(page(&app, "/archive?page=3").await.0, 404);
    // A page that is not a number is the first.
    let (status, _, odd) = page(&app, "/archive?page=x%27").await;
    assert_eq!(status, 200);
    assert_contains(&odd, "href=\"/archive/week-21\"", "the first page");
    // The feed holds the twenty newest.
    let xml = app.get("/archive/feed.xml").await.text().await.unwrap();
    let feed = feed_rs::parser::parse(xml.as_bytes()).unwrap();
    assert_eq!(feed.entries.len(), 20);

    // The owner's default: off, a new campaign stays out unless it says otherwise.
    let changed = patch(
        &app,
        &token,
        "/settings",
        &serde_json::json!({ "archive_public": false }),
    )
    .await;
    assert_eq!(changed.status(), 200);
    let quiet = app
        .create_campaign(
            &token,
            serde_json::json!({ "subject": "Quiet", "body": "x" }),
        )
        .await;
    assert_eq!(quiet["public"], false);
    let loud = app
        .create_campaign(
            &token,
            serde_json::json!({ "subject": "Loud", "body": "x", "public": true }),
        )
        .await;
    assert_eq!(loud["public"], true);
}

async fn the_owner_sees_and_changes_what_is_public(backend: Backend) {
    let app = spawn_app_with(backend, Default::default()).await;
    let token = app.api_token().await;
    let owner = app.owner().await;
    confirmed(&app, &token, "bo@example.com", None, serde_json::json!({})).await;
    let id = send(&app, &token, rye()).await;

    let list = owner.page("/admin/campaigns").await;
    assert_contains(
        &list,
        "href=\"/archive/rye-is-back\"",
        "the list links the public page",
    );
    let dashboard = owner.page("/admin").await;
    assert_contains(
        &dashboard,
        "href=\"/archive\"",
        "the dashboard links the archive",
    );
    let snippet = owner.page("/admin/tools/form").await;
    assert_contains(
        &snippet,
        &format!("&lt;a href=&quot;{}&quot;&gt;", app.url("/archive")),
        "the snippet page offers a link to copy",
    );

    // The report's button takes it out, then puts it back.
    let report = owner.page(&format!("/admin/campaigns/{id}")).await;
    assert_contains(&report, "Take it out of the archive", "the report's button");
    let out = owner
        .post_form(
            &format!("/admin/campaigns/{id}/archive"),
            &[("public", "0")],
        )
        .await;
    assert_eq!(out.status(), 303);
    assert_eq!(page(&app, "/archive/rye-is-back").await.0, 404);
    let report = owner.page(&format!("/admin/campaigns/{id}")).await;
    assert_contains(
        &report,
        "Show it in the archive",
        "the button now puts it back",
    );
    let list = owner.page("/admin/campaigns").await;
    assert!(!list.contains("href=\"/archive/rye-is-back\""), "{list}");
    owner
        .post_form(
            &format!("/admin/campaigns/{id}/archive"),
            &[("public", "1")],
        )
        .await;
    assert_eq!(page(&app, "/archive/rye-is-back").await.0, 200);
    // A GET changes nothing.
    let get = owner
        .get(&format!("/admin/campaigns/{id}/archive?public=0"))
        .await;
    assert_eq!(get.status(), 405);
    assert_eq!(page(&app, "/archive/rye-is-back").await.0, 200);

    // The composer's box, cleared, keeps a new campaign out.
    let form = owner.page("/admin/campaigns/new").await;
    assert_contains(
        &form,
        "name=\"public\" value=\"1\" id=\"public\" aria-describedby=\"public-hint\" checked",
        "ticked by default",
    );
    let saved = owner
        .post_form(
            "/admin/campaigns/new",
            &[
                ("subject", "Staff news"),
                ("body", "Inside only."),
                ("format", "markdown"),
                ("layout", "default"),
                ("audience", "everyone"),
                ("public", "0"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    let campaigns = app.api_get("/campaigns", &token).await;
    let staff = campaigns["campaigns"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["subject"] == "Staff news")
        .expect("the draft is saved")
        .clone();
    assert_eq!(staff["public"], false, "{staff}");
}
