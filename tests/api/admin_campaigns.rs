//! Campaigns in the owner's web app, used as the owner would: the list, the compose form
//! (GET it, POST it with the CSRF token), the live preview as a chosen subscriber, the
//! audience size, a test copy over SMTP, the confirmation page before anything is sent,
//! scheduling, and the report with its progress and genuine numbers after real opens,
//! clicks and a reply.

use std::time::{Duration, Instant};

use crate::fixtures::{
    DESKTOP, HOURS, IPHONE, MENU, assert_contains, confirmed_email, confirmed_named,
    confirmed_people, engagement_app, fetch, header, receive, tracking_urls,
};
use crate::helpers::{
    Backend, OWNER_EMAIL, Options, OwnerClient, hidden_value, settle, spawn_app, spawn_app_with,
};
use crate::on_both_databases;

on_both_databases!(
    a_draft_is_composed_previewed_and_tested_through_the_forms,
    the_audience_size_follows_the_chosen_tiers,
    nothing_is_sent_before_the_confirmation_and_the_report_shows_genuine_numbers,
    a_scheduled_send_is_shown_as_scheduled,
    a_send_in_progress_is_followed_paused_resumed_and_cancelled,
    bad_input_is_explained_next_to_its_field,
    the_campaign_list_pages_fifty_at_a_time,
);

const XSS_SUBJECT: &str = "<script>alert(1)</script> Fresh rye";

/// The compose form's fields as a browser sends them after the owner filled in `filled`
/// over the new-campaign form's defaults (read from the page itself).
async fn filled_form(owner: &OwnerClient, filled: &[(&str, &str)]) -> Vec<(String, String)> {
    let page = owner.page("/admin/campaigns/new").await;
    assert!(page.contains("<h1>New campaign</h1>"), "{page}");
    assert!(
        page.contains(&format!(
            "name=\"test_to\" type=\"email\" maxlength=\"254\" value=\"{OWNER_EMAIL}\""
        )),
        "a test goes to the owner unless they say otherwise"
    );
    assert!(page.contains("<option value=\"markdown\" selected>Markdown</option>"));
    let mut fields: Vec<(String, String)> = [
        ("subject", ""),
        ("preheader", ""),
        ("body", ""),
        ("format", "markdown"),
        ("layout", "default"),
        ("audience", "everyone"),
        ("preview_as", ""),
        ("test_to", OWNER_EMAIL),
        ("send_when", "now"),
        ("send_at", ""),
        ("send_offset", ""),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (key, value) in filled {
        match fields.iter_mut().find(|(k, _)| k == key && *key != "tier") {
            Some(field) => field.1 = value.to_string(),
            None => fields.push((key.to_string(), value.to_string())),
        }
    }
    fields
}

async fn post(owner: &OwnerClient, path: &str, fields: &[(String, String)]) -> reqwest::Response {
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    owner.post_form(path, &fields).await
}

fn location(response: &reqwest::Response) -> String {
    response.headers()["location"].to_str().unwrap().to_string()
}

/// The campaign id in `/admin/campaigns/{id}/…`.
fn campaign_id(path: &str) -> String {
    path.trim_start_matches("/admin/campaigns/")
        .split(['/', '?'])
        .next()
        .unwrap()
        .to_string()
}

/// Saves a new draft through the form and returns its id.
async fn save_draft(owner: &OwnerClient, filled: &[(&str, &str)]) -> String {
    let mut fields = filled_form(owner, filled).await;
    fields.push(("action".into(), "save".into()));
    let saved = post(owner, "/admin/campaigns/new", &fields).await;
    assert_eq!(saved.status(), 303, "{}", saved.text().await.unwrap());
    let to = location(&saved);
    assert!(to.ends_with("/edit?saved=1"), "{to}");
    campaign_id(&to)
}

/// The live preview's endpoint, called as the compose script calls it.
async fn preview_json(
    owner: &OwnerClient,
    fields: &[(String, String)],
) -> (u16, serde_json::Value) {
    let response = owner
        .post_as_written(
            "/admin/campaigns/preview",
            &[("x-csrf-token", owner.csrf.as_str())],
            fields,
        )
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

/// Reloads `path` until it contains every one of `wanted`, and returns it.
async fn page_when(owner: &OwnerClient, path: &str, wanted: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let page = owner.page(path).await;
        if wanted.iter().all(|w| page.contains(w)) {
            return page;
        }
        assert!(
            Instant::now() < deadline,
            "{path} never showed {wanted:?}:\n{page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn a_draft_is_composed_previewed_and_tested_through_the_forms(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let token = app.api_token().await;
    let ann = confirmed_named(&app, &token, "ann@example.com", "Ann").await;

    let empty = owner.page("/admin/campaigns").await;
    assert!(empty.contains("No campaigns yet"));
    assert!(empty.contains("href=\"/admin/campaigns/new\""));

    // The compose page's preview shows the campaign's images from their own sites (the
    // frame takes the page's policy); every other admin page loads images from here only.
    let policy =
        |response: &reqwest::Response| header(response, "content-security-policy").to_string();
    let compose = owner.get("/admin/campaigns/new").await;
    assert!(
        policy(&compose).contains("img-src 'self' data: https: http:;"),
        "{}",
        policy(&compose)
    );
    assert!(policy(&compose).contains("script-src 'self';"));
    for path in ["/admin", "/admin/campaigns", "/admin/subscribers"] {
        let other = owner.get(path).await;
        assert!(policy(&other).contains("img-src 'self' data:;"), "{path}");
    }

    let body = "Hello {{ subscriber.name | default(value=\"friend\") }}!\n\nThe rye is back. See [the menu](https://bakery.example/menu).";
    let id = save_draft(&owner, &[("subject", XSS_SUBJECT), ("body", body)]).await;

    // The draft, as saved, with the owner's markup shown as text everywhere.
    let edit = owner
        .page(&format!("/admin/campaigns/{id}/edit?saved=1"))
        .await;
    assert!(edit.contains("Draft saved."));
    assert!(edit.contains("&lt;script&gt;alert(1)&lt;/script&gt; Fresh rye"));
    assert_contains(&edit, "The rye is back.", "the body is in the textarea");
    assert!(edit.contains(&format!("<option value=\"{ann}\">ann@example.com</option>")));
    let list = owner.page("/admin/campaigns").await;
    assert!(list.contains(&format!(
        "href=\"/admin/campaigns/{id}\">&lt;script&gt;alert(1)"
    )));
    assert!(list.contains(">Draft</span>"));
    let report = owner.page(&format!("/admin/campaigns/{id}")).await;
    assert!(report.contains("<h1 class=\"subject-cell\">&lt;script&gt;alert(1)"));
    for page in [&edit, &list, &report] {
        assert!(!page.contains("<script>alert(1)"), "{page}");
    }

    // The live preview as Ann, and as the sample person.
    let mut fields = filled_form(&owner, &[("subject", XSS_SUBJECT), ("body", body)]).await;
    fields.retain(|(k, _)| k != "preview_as");
    fields.push(("preview_as".into(), ann.clone()));
    let (status, copy) = preview_json(&owner, &fields).await;
    assert_eq!(status, 200, "{copy}");
    assert_eq!(
        copy["subject"], XSS_SUBJECT,
        "the subject as text, unchanged"
    );
    let html = copy["html"].as_str().unwrap();
    assert!(html.contains("Hello Ann!"), "{html}");
    assert_contains(html, "&lt;script&gt;alert(1)", "escaped in the HTML");
    assert!(!html.contains("<script>alert(1)"), "{html}");
    assert_contains(
        html,
        "href=\"https://bakery.example/menu\"",
        "untracked links",
    );
    assert!(!html.contains("/t/o/"), "no open pixel in a preview");
    assert!(copy["text"].as_str().unwrap().contains("Hello Ann!"));
    fields.retain(|(k, _)| k != "preview_as");
    let (_, sample) = preview_json(&owner, &fields).await;
    assert!(sample["text"].as_str().unwrap().contains("Hello friend!"));
    let preview_calls_need_the_token = owner
        .post_as_written("/admin/campaigns/preview", &[], &fields)
        .await;
    assert_eq!(preview_calls_need_the_token.status(), 403);

    // Without JavaScript, the Preview button renders the same on the server.
    let mut fields = filled_form(&owner, &[("subject", XSS_SUBJECT), ("body", body)]).await;
    fields.retain(|(k, _)| k != "preview_as");
    fields.push(("preview_as".into(), ann.clone()));
    fields.push(("action".into(), "preview".into()));
    let shown = post(&owner, &format!("/admin/campaigns/{id}/edit"), &fields).await;
    assert_eq!(shown.status(), 200);
    let shown = shown.text().await.unwrap();
    assert_contains(
        &shown,
        "<iframe id=\"preview-html\" sandbox title=",
        "no scripts in the frame",
    );
    assert_contains(
        &shown,
        "Hello Ann!&lt;/p&gt;",
        "the HTML sits escaped in srcdoc",
    );
    let text = &shown[shown
        .find("<pre id=\"preview-text\">")
        .expect("the text version")..];
    assert!(
        text[..text.find("</pre>").unwrap()].contains("Hello Ann!"),
        "{shown}"
    );
    assert!(!shown.contains("<script>alert(1)"));

    // A test copy to the owner, over SMTP, with a notice; no subscriber gets anything.
    let mut fields = filled_form(&owner, &[("subject", XSS_SUBJECT), ("body", body)]).await;
    fields.push(("action".into(), "test".into()));
    let tested = post(&owner, &format!("/admin/campaigns/{id}/edit"), &fields).await;
    assert_eq!(tested.status(), 200);
    let tested = tested.text().await.unwrap();
    assert!(
        tested.contains(&format!(
            "a test copy went to {OWNER_EMAIL}. The mail server answered: 250"
        )),
        "{tested}"
    );
    let test = app.smtp.wait_for(OWNER_EMAIL, 1).await;
    assert_eq!(test[0].subject(), format!("[Test] {XSS_SUBJECT}"));
    assert!(test[0].text().contains("Hello friend!"));
    settle().await;
    assert!(app.smtp.messages_to("ann@example.com").is_empty());
    assert_eq!(app.count("deliveries").await, 0);
}

async fn the_audience_size_follows_the_chosen_tiers(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let token = app.api_token().await;
    confirmed_people(&app, &token, &["ann", "ben"]).await;
    // Someone who has not confirmed is nobody's audience.
    app.signup_and_get_confirm_link("pending@example.com").await;

    let size = |query: &'static str| {
        let owner = &owner;
        async move {
            let response = owner
                .get(&format!("/admin/campaigns/audience?{query}"))
                .await;
            let status = response.status().as_u16();
            (status, response.json::<serde_json::Value>().await.unwrap())
        }
    };
    let (status, everyone) = size("audience=everyone").await;
    assert_eq!(status, 200);
    assert_eq!(everyone["size"], 2);
    assert_eq!(everyone["sentence"], "all 2 confirmed subscribers");
    // Both joined just now: they are new, not core.
    let (_, new) = size("audience=tiers&tier=core&tier=new").await;
    assert_eq!(new["size"], 2);
    assert_eq!(
        new["sentence"],
        "2 confirmed subscribers in the core and new tiers"
    );
    let (_, core) = size("audience=tiers&tier=core").await;
    assert_eq!(core["size"], 0);
    let (status, unknown) = size("audience=tiers&tier=vip").await;
    assert_eq!(status, 422);
    assert!(
        unknown["error"]
            .as_str()
            .unwrap()
            .contains("'vip' is not a tier")
    );
    let (status, none) = size("audience=tiers").await;
    assert_eq!(status, 422);
    assert!(
        none["error"]
            .as_str()
            .unwrap()
            .contains("at least one tier")
    );

    // Without JavaScript the size shows once the draft is saved.
    let id = save_draft(
        &owner,
        &[
            ("subject", "Tiers"),
            ("body", "Hi"),
            ("audience", "tiers"),
            ("tier", "engaged"),
            ("tier", "new"),
        ],
    )
    .await;
    let edit = owner.page(&format!("/admin/campaigns/{id}/edit")).await;
    assert!(
        edit.contains(
            "It would reach 2 confirmed subscribers in the engaged and new tiers right now."
        ),
        "{edit}"
    );
    assert!(edit.contains("value=\"tiers\" checked"));
    assert!(edit.contains("value=\"new\" checked"));
    assert!(!edit.contains("value=\"core\" checked"));
}

async fn nothing_is_sent_before_the_confirmation_and_the_report_shows_genuine_numbers(
    backend: Backend,
) {
    let app = engagement_app(backend, "2").await;
    let owner = app.owner().await;
    let token = app.api_token().await;
    let ids = confirmed_people(&app, &token, &["ann", "ben", "cat", "dan", "eve"]).await;
    app.signup_and_get_confirm_link("pending@example.com").await;

    let body = format!("See [the menu]({MENU}) and [our hours]({HOURS}).");
    let mut fields = filled_form(
        &owner,
        &[
            ("subject", "Saturday market"),
            ("body", &body),
            ("audience", "tiers"),
            ("tier", "core"),
            ("tier", "new"),
        ],
    )
    .await;
    fields.push(("action".into(), "review".into()));
    let review = post(&owner, "/admin/campaigns/new", &fields).await;
    assert_eq!(review.status(), 303);
    let confirm_path = location(&review);
    let id = campaign_id(&confirm_path);
    assert_eq!(confirm_path, format!("/admin/campaigns/{id}/send"));

    // The confirmation page names the audience in words and number; it sends nothing.
    let confirm = owner.page(&confirm_path).await;
    assert!(
        confirm.contains(
            "Send “Saturday market” to 5 confirmed subscribers in the core and new tiers?"
        ),
        "{confirm}"
    );
    assert!(confirm.contains(&format!("action=\"/admin/campaigns/{id}/send\"")));
    settle().await;
    assert_eq!(app.count("deliveries").await, 0);
    assert!(app.smtp.messages_to("ann@example.com").is_empty());
    assert!(
        owner
            .page("/admin/campaigns")
            .await
            .contains(">Draft</span>")
    );

    // Its button starts the send; Eve's mailbox does not exist.
    app.smtp.answer(
        "eve@example.com",
        550,
        "5.1.1 No such mailbox here",
        usize::MAX,
    );
    // A draft edited after the page was shown is not sent: the page comes back, as it is now.
    let version = hidden_value(&confirm, "version").expect("the page names the draft it shows");
    let stale = owner
        .post_form(&confirm_path, &[("confirm", "yes"), ("version", "1")])
        .await;
    assert_eq!(stale.status(), 409);
    assert!(
        stale
            .text()
            .await
            .unwrap()
            .contains("The draft changed after this page was shown")
    );
    assert_eq!(app.count("deliveries").await, 0);
    let sent = owner
        .post_form(&confirm_path, &[("confirm", "yes"), ("version", &version)])
        .await;
    assert_eq!(sent.status(), 303);
    assert_eq!(location(&sent), format!("/admin/campaigns/{id}"));
    for who in ["ann", "ben", "cat", "dan"] {
        app.smtp.wait_for(&format!("{who}@example.com"), 1).await;
    }
    assert!(
        app.smtp.messages_to("pending@example.com").len() <= 1,
        "only the confirmation"
    );

    // At delivery: a privacy proxy fetches Ben's pixel, a scanner follows Dan's links.
    let copy = |who: &str| app.smtp.messages_to(&format!("{who}@example.com"))[0].html();
    assert_eq!(
        fetch(&tracking_urls(&copy("ben"), "o")[0], "Mozilla/5.0")
            .await
            .status(),
        200
    );
    for link in tracking_urls(&copy("dan"), "c") {
        assert_eq!(fetch(&link, DESKTOP).await.status(), 302);
    }

    // The progress endpoint and the report: finished.
    let deadline = Instant::now() + Duration::from_secs(20);
    let progress = loop {
        let progress: serde_json::Value = owner
            .get(&format!("/admin/campaigns/{id}/progress"))
            .await
            .json()
            .await
            .unwrap();
        if progress["status"] == "sent" {
            break progress;
        }
        assert!(Instant::now() < deadline, "{progress}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(progress["total"], 5);
    assert_eq!(progress["sent"], 4);
    assert_eq!(progress["remaining"], 0);
    assert_eq!(progress["failed"], 1);
    assert_eq!(progress["percent"], 100);
    let report = owner.page(&format!("/admin/campaigns/{id}")).await;
    assert!(report.contains(">Sent</span>"));
    assert_contains(&report, "<span data-field=\"percent\">100</span>% done", "");
    assert!(report.contains("<span data-field=\"sent\">4</span> sent"));
    assert!(report.contains("<span data-field=\"failed\">1</span> failed"));
    assert_contains(
        &report,
        "5.1.1 No such mailbox here",
        "the failure with the server's reply",
    );
    assert!(!report.contains("progress.js"), "nothing to poll once sent");

    // Later, people: Ann opens, Cat clicks the menu, Ann replies.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(
        fetch(&tracking_urls(&copy("ann"), "o")[0], IPHONE)
            .await
            .status(),
        200
    );
    assert_eq!(
        fetch(&tracking_urls(&copy("cat"), "c")[0], IPHONE)
            .await
            .status(),
        302
    );
    let reply = format!(
        "From: Ann <ann@example.com>
To: Bakery <replies@bakery.example>
Subject: Re: Saturday market
Message-ID: <admin-report-reply@example.com>
In-Reply-To: {}
Content-Type: text/plain

Save me a rye loaf, please!
I'll come at nine.

On Thu, Bakery wrote:
> See the menu
",
        app.smtp.messages_to("ann@example.com")[0]
            .header("Message-ID")
            .unwrap()
    );
    assert_eq!(receive(&app, &reply).await["duplicate"], false);
    // Ben leaves, in one click from his copy.
    let unsubscribe = app.smtp.messages_to("ben@example.com")[0]
        .link_starting_with(&app.url("/unsubscribe/"))
        .expect("an unsubscribe link");
    assert_eq!(app.post_empty(&unsubscribe).await.status(), 200);

    // The genuine numbers as the owner sees them.
    let report = page_when(
        &owner,
        &format!("/admin/campaigns/{id}"),
        &[
            "id=\"engaged\">2<",
            "id=\"human-opens\">2<",
            "id=\"human-clicks\">1<",
            "id=\"replies\">1<",
        ],
    )
    .await;
    assert!(report.contains("id=\"delivered\">4<"), "{report}");
    assert_contains(&report, "id=\"machine-opens\">1<", "Ben's proxy");
    assert_contains(&report, "id=\"scanner-clicks\">1<", "Dan's scanner");
    assert!(report.contains("(50%)"));
    assert!(report.contains("id=\"unsubscribes\">1<"), "{report}");
    assert!(report.contains(&format!(
        "<a href=\"/admin/subscribers/{}\">ben@example.com</a>",
        ids["ben"]
    )));
    let menu_row = format!(
        "<td class=\"url\">{}</td><td class=\"num\">1</td><td class=\"num\">1</td>",
        MENU.replace('&', "&amp;")
    );
    assert!(report.contains(&menu_row), "{menu_row} in {report}");
    let hours_row = format!(
        "<td class=\"url\">{}</td><td class=\"num\">0</td><td class=\"num\">1</td>",
        HOURS
    );
    assert!(report.contains(&hours_row), "{report}");
    assert!(report.contains(&format!(
        "<a href=\"/admin/subscribers/{}\">ann@example.com</a>",
        ids["ann"]
    )));
    assert_contains(
        &report,
        "Save me a rye loaf, please!\nI&#39;ll come at nine.",
        "",
    );
    assert!(
        !report.contains("&gt; See the menu"),
        "the quote is trimmed"
    );

    let list = owner.page("/admin/campaigns").await;
    assert!(list.contains(">Sent</span>"));
    assert_contains(&list, "2 / 4 <span class=\"muted\">(50%)</span>", "");
}

async fn a_scheduled_send_is_shown_as_scheduled(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let token = app.api_token().await;
    confirmed_email(&app, &token, "ann@example.com").await;

    // 09:30 at +02:00 two days from now is 07:30 UTC.
    let day = time::OffsetDateTime::now_utc().date() + time::Duration::days(2);
    let local = format!("{day}T09:30");
    let expected = format!(
        "{} {} {}, 07:30 UTC",
        day.day(),
        &format!("{:?}", day.month())[..3],
        day.year()
    );
    let mut fields = filled_form(
        &owner,
        &[
            ("subject", "Next week"),
            ("body", "Soon."),
            ("send_when", "later"),
            ("send_at", &local),
            ("send_offset", "+02:00"),
        ],
    )
    .await;
    fields.push(("action".into(), "review".into()));
    let review = post(&owner, "/admin/campaigns/new", &fields).await;
    assert_eq!(review.status(), 303);
    let confirm_path = location(&review);
    let id = campaign_id(&confirm_path);
    assert!(confirm_path.starts_with(&format!("/admin/campaigns/{id}/send?at=")));
    let confirm = owner.page(&confirm_path).await;
    assert!(
        confirm.contains(&format!(
            "Schedule “Next week” for {expected}, to everyone confirmed?"
        )),
        "{confirm}"
    );
    assert!(confirm.contains("Right now that is the 1 confirmed subscriber."));
    let at = hidden_value(&confirm, "at").expect("the time rides along");
    let scheduled = owner
        .post_form(
            &format!("/admin/campaigns/{id}/send"),
            &[
                ("confirm", "yes"),
                ("at", &at),
                ("version", &hidden_value(&confirm, "version").unwrap()),
            ],
        )
        .await;
    assert_eq!(scheduled.status(), 303);

    let report = owner.page(&format!("/admin/campaigns/{id}")).await;
    assert!(report.contains(">Scheduled</span>"));
    assert!(
        report.contains(&format!("Scheduled for {expected}.")),
        "{report}"
    );
    assert!(report.contains(&format!("action=\"/admin/campaigns/{id}/cancel\"")));
    let list = owner.page("/admin/campaigns").await;
    assert!(
        list.contains(&format!("Scheduled for {expected}")),
        "{list}"
    );
    assert_eq!(app.count("deliveries").await, 0);
    // A scheduled campaign is no longer edited: its page is the report.
    let edit = owner.get(&format!("/admin/campaigns/{id}/edit")).await;
    assert_eq!(edit.status(), 303);

    // "Back to draft" unsets the time; pressing it twice is harmless; it can be edited again.
    assert!(report.contains(&format!("action=\"/admin/campaigns/{id}/unschedule\"")));
    for _ in 0..2 {
        let back = owner
            .post_form(&format!("/admin/campaigns/{id}/unschedule"), &[])
            .await;
        assert_eq!(back.status(), 303);
        assert_eq!(location(&back), format!("/admin/campaigns/{id}"));
    }
    let report = owner.page(&format!("/admin/campaigns/{id}")).await;
    assert!(report.contains(">Draft</span>"), "{report}");
    assert_contains(
        &report,
        "This is a draft. It would reach the 1 confirmed subscriber right now.",
        "",
    );
    assert!(!report.contains("Scheduled for"));
    let edit = owner.get(&format!("/admin/campaigns/{id}/edit")).await;
    assert_eq!(edit.status(), 200);
    assert!(
        !owner
            .page("/admin/campaigns")
            .await
            .contains(&format!("Scheduled for {expected}"))
    );

    // A campaign that is not scheduled is explained, not changed.
    let cancelled = owner
        .post_form(&format!("/admin/campaigns/{id}/cancel"), &[])
        .await;
    assert_eq!(cancelled.status(), 303);
    let refused = owner
        .post_form(&format!("/admin/campaigns/{id}/unschedule"), &[])
        .await;
    assert_eq!(refused.status(), 409);
    assert!(refused.text().await.unwrap().contains(
        "This campaign is cancelled now; only a scheduled campaign can be taken back to a draft."
    ));
    assert_eq!(app.count("deliveries").await, 0);
}

async fn bad_input_is_explained_next_to_its_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;

    let attempt = |filled: Vec<(&'static str, &'static str)>, action: &'static str| {
        let owner = &owner;
        async move {
            let mut fields = filled_form(owner, &filled).await;
            fields.push(("action".into(), action.into()));
            let response = post(owner, "/admin/campaigns/new", &fields).await;
            let status = response.status().as_u16();
            (status, response.text().await.unwrap())
        }
    };

    let (status, page) =
        attempt(vec![("subject", "  "), ("body", "Kept *as typed*")], "save").await;
    assert_eq!(status, 422);
    assert!(
        page.contains(
            "<p class=\"field-error\" id=\"subject-error\">A campaign needs a subject.</p>"
        ),
        "{page}"
    );
    assert!(page.contains("aria-invalid=\"true\" aria-describedby=\"subject-error\""));
    assert_contains(&page, ">Kept *as typed*</textarea>", "the body is kept");

    // An offset that is not one, even in letters from far away, is a message, not a crash.
    let (status, page) = attempt(
        vec![
            ("subject", "Later"),
            ("body", "Hello"),
            ("send_when", "later"),
            ("send_at", "2030-01-01T09:00"),
            ("send_offset", "+€1"),
        ],
        "review",
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"send_at-error\">"), "{page}");

    let (status, page) = attempt(
        vec![
            ("subject", "Kept subject"),
            ("body", "Hello {{ subscriber.name "),
        ],
        "preview",
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"body-error\">"), "{page}");
    assert!(page.contains("value=\"Kept subject\""));

    let (status, page) = attempt(
        vec![
            ("subject", "Tiers"),
            ("body", "Hi"),
            ("audience", "tiers"),
            ("tier", "vip"),
        ],
        "save",
    )
    .await;
    assert_eq!(status, 422);
    assert_contains(
        &page,
        "id=\"audience-error\">&#39;vip&#39; is not a tier",
        "",
    );

    let (status, page) = attempt(
        vec![
            ("subject", "Late"),
            ("body", "Hi"),
            ("send_when", "later"),
            ("send_at", "2020-01-01T09:00"),
        ],
        "review",
    )
    .await;
    assert_eq!(status, 422);
    assert_contains(&page, "id=\"send_at-error\">That time has passed", "");
    assert!(page.contains("value=\"2020-01-01T09:00\""));

    let (status, page) = attempt(
        vec![
            ("subject", "Test"),
            ("body", "Hi"),
            ("test_to", "not an address"),
        ],
        "test",
    )
    .await;
    assert_eq!(status, 422);
    assert!(page.contains("id=\"test_to-error\">"), "{page}");
    assert_eq!(app.count("campaigns").await, 0, "nothing was saved");

    // A campaign that does not exist gets a page saying so, in the app's layout.
    for path in [
        "/admin/campaigns/0190a5a8-7e43-7c4b-9d8e-2a4f3c1b2d3e",
        "/admin/campaigns/not-a-campaign",
        "/admin/campaigns/0190a5a8-7e43-7c4b-9d8e-2a4f3c1b2d3e/edit",
        "/admin/campaigns/0190a5a8-7e43-7c4b-9d8e-2a4f3c1b2d3e/send",
    ] {
        let missing = owner.get(path).await;
        assert_eq!(missing.status(), 404, "{path}");
        let page = missing.text().await.unwrap();
        assert!(
            page.contains("No such campaign") && page.contains("Log out"),
            "{page}"
        );
    }
    let progress = owner
        .get("/admin/campaigns/0190a5a8-7e43-7c4b-9d8e-2a4f3c1b2d3e/progress")
        .await;
    assert_eq!(progress.status(), 404);

    // A form posted without the session's CSRF token changes nothing.
    let forged = owner
        .post_as_written(
            "/admin/campaigns/new",
            &[],
            &[
                ("subject", "Forged"),
                ("body", "Hi"),
                ("format", "markdown"),
                ("layout", "default"),
                ("action", "save"),
            ],
        )
        .await;
    assert_eq!(forged.status(), 403);
}

async fn a_send_in_progress_is_followed_paused_resumed_and_cancelled(backend: Backend) {
    // One copy a second, one at a time, to thirty people: the send lasts half a minute, so
    // it is still going whatever a busy machine does to the steps below, and the cancel
    // ends it early.
    let app = spawn_app_with(
        backend,
        Options::default()
            .env("HUNDRED_SEND_RATE", "1")
            .env("HUNDRED_SEND_CONCURRENCY", "1"),
    )
    .await;
    let owner = app.owner().await;
    let token = app.api_token().await;
    for i in 0..30 {
        confirmed_email(&app, &token, &format!("slow{i}@example.com")).await;
    }
    let id = save_draft(&owner, &[("subject", "Slow news"), ("body", "Hello")]).await;
    let confirm = owner.page(&format!("/admin/campaigns/{id}/send")).await;
    let started = owner
        .post_form(
            &format!("/admin/campaigns/{id}/send"),
            &[
                ("confirm", "yes"),
                ("version", &hidden_value(&confirm, "version").unwrap()),
            ],
        )
        .await;
    assert_eq!(started.status(), 303);
    app.smtp.wait_for("slow0@example.com", 1).await;

    // While it sends: the bar with its numbers, the script that keeps it current, a way to
    // refresh without it, and the buttons.
    let report_path = format!("/admin/campaigns/{id}");
    let report = owner.page(&report_path).await;
    assert!(report.contains(">Sending</span>"), "{report}");
    assert!(report.contains("<script src=\"/admin/assets/progress.js\" defer></script>"));
    assert!(report.contains(&format!("<a href=\"{report_path}\">Refresh</a>")));
    assert!(report.contains("<progress id=\"progress-bar\" max=\"30\""));
    assert!(report.contains(&format!("action=\"/admin/campaigns/{id}/pause\"")));
    let progress: serde_json::Value = owner
        .get(&format!("/admin/campaigns/{id}/progress"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(progress["status"], "sending");
    assert_eq!(progress["total"], 30);
    assert!(progress["remaining"].as_i64().unwrap() > 0, "{progress}");
    let script = owner.get("/admin/assets/progress.js").await;
    assert_eq!(script.status(), 200);
    assert!(
        script
            .text()
            .await
            .unwrap()
            .contains("setTimeout(poll, 2000)")
    );
    let list = owner.page("/admin/campaigns").await;
    assert!(list.contains("delivered so far"), "{list}");

    // Pause (pressing twice is harmless), then resume, then cancel the rest.
    for _ in 0..2 {
        let paused = owner
            .post_form(&format!("/admin/campaigns/{id}/pause"), &[])
            .await;
        assert_eq!(paused.status(), 303);
        assert_eq!(location(&paused), report_path);
    }
    let report = owner.page(&report_path).await;
    assert!(report.contains(">Paused</span>"));
    assert!(report.contains(&format!("action=\"/admin/campaigns/{id}/resume\"")));
    assert!(
        !report.contains("progress.js"),
        "nothing moves while paused"
    );
    let resumed = owner
        .post_form(&format!("/admin/campaigns/{id}/resume"), &[])
        .await;
    assert_eq!(resumed.status(), 303);
    assert!(owner.page(&report_path).await.contains(">Sending</span>"));
    let cancelled = owner
        .post_form(&format!("/admin/campaigns/{id}/cancel"), &[])
        .await;
    assert_eq!(cancelled.status(), 303);
    let report = page_when(
        &owner,
        &report_path,
        &[">Cancelled</span>", "skipped (cancelled)"],
    )
    .await;
    assert!(!report.contains(&format!("action=\"/admin/campaigns/{id}/pause\"")));
    let again = owner
        .post_form(&format!("/admin/campaigns/{id}/resume"), &[])
        .await;
    assert_eq!(again.status(), 409);
    assert!(
        again
            .text()
            .await
            .unwrap()
            .contains("This campaign is cancelled now; only a paused campaign can be resumed."),
    );
}

async fn the_campaign_list_pages_fifty_at_a_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let token = app.api_token().await;
    assert!(
        owner
            .page("/admin/campaigns")
            .await
            .contains("No campaigns yet.")
    );
    for i in 1..=51 {
        app.create_campaign(
            &token,
            serde_json::json!({ "subject": format!("Letter number {i}."), "body": "Hi" }),
        )
        .await;
    }

    // Newest first: the first page has the 50 newest and a way to the older one.
    let first = owner.page("/admin/campaigns").await;
    assert_eq!(first.matches("class=\"subject-cell\"><a href=").count(), 50);
    assert!(first.contains(">Letter number 51.</a>"));
    assert!(first.contains(">Letter number 2.</a>"));
    assert!(!first.contains(">Letter number 1.</a>"));
    assert!(first.contains("Page 1 of 2"));
    assert!(first.contains("<a href=\"/admin/campaigns?page=2\" rel=\"next\">Older 50 →</a>"));
    assert!(!first.contains("rel=\"prev\""));

    let second = owner.page("/admin/campaigns?page=2").await;
    assert_eq!(second.matches("class=\"subject-cell\"><a href=").count(), 1);
    assert!(second.contains(">Letter number 1.</a>"));
    assert!(second.contains("Page 2 of 2"));
    assert!(second.contains("<a href=\"/admin/campaigns\" rel=\"prev\">← Newer 50</a>"));
    assert!(!second.contains("rel=\"next\""));

    // Past the end, and a page that is not a number, are explained.
    let beyond = owner.page("/admin/campaigns?page=7").await;
    assert_contains(
        &beyond,
        "There are 51 campaigns, fewer than this page would start at.",
        "",
    );
    for bad in ["0", "two", "-1", "99999999999999999999"] {
        let answer = owner.get(&format!("/admin/campaigns?page={bad}")).await;
        assert_eq!(answer.status(), 400, "{bad}");
        assert!(
            answer
                .text()
                .await
                .unwrap()
                .contains(&format!("“{bad}” is not a page number"))
        );
    }
}
