//! The owner's subscriber pages, as the owner sees them: the table sorted, filtered,
//! searched and paged; one person's page with their score and its reasons, their consent,
//! their timeline (a person's open and software's drawn differently), their replies in
//! full; a note; unsubscribing, exporting and erasing them; tracking switched off for one
//! person; answering a reply, threaded, and the answer in the timeline; everything a
//! subscriber wrote shown escaped; bad input explained.

use std::time::{Duration, Instant};

use crate::fixtures::{
    DESKTOP, IPHONE, MENU, add_subscriber, assert_contains, confirmed_email, confirmed_named, each,
    engagement_app, fetch, only_copy, receive, send_to_everyone, tracking_urls,
};
use crate::helpers::{Backend, OwnerClient, TestApp};
use crate::on_both_databases;

on_both_databases!(
    the_table_sorts_filters_searches_and_pages,
    bad_list_parameters_are_explained,
    a_subscriber_page_tells_their_story_and_the_owner_answers,
    the_owner_unsubscribes_exports_and_erases,
    with_tracking_off_their_copy_has_no_pixel_and_plain_links,
    unknown_subscribers_and_forms_without_a_token_are_refused,
);

const SCRIPT: &str = "<script>alert(1)</script>";
const ESCAPED_SCRIPT: &str = "&lt;script&gt;alert(1)&lt;/script&gt;";

/// Where `needle` first appears in `page` (it must).
fn at(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("{needle} is not on the page"))
}

/// Asserts these appear in the page in this order.
fn in_order(page: &str, needles: &[&str]) {
    let places: Vec<usize> = needles.iter().map(|n| at(page, n)).collect();
    assert!(
        places.windows(2).all(|w| w[0] < w[1]),
        "expected {needles:?} in that order, found them at {places:?}"
    );
}

/// The page, once it contains `needle` (events are stored a moment after they happen).
async fn page_with(owner: &OwnerClient, path: &str, needle: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let page = owner.page(path).await;
        if page.contains(needle) {
            return page;
        }
        assert!(
            Instant::now() < deadline,
            "{needle} never showed on {path}: {page}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A person's reply to `copy`, through the webhook.
async fn reply_to(
    app: &TestApp,
    from: &str,
    copy: &crate::helpers::Captured,
    id: &str,
    text: &str,
) {
    let copy_id = copy.header("Message-ID").unwrap();
    let raw = format!(
        "From: {from}\nTo: Bakery <replies@bakery.example>\nSubject: Re: Saturday market\n\
         Message-ID: <{id}>\nIn-Reply-To: {copy_id}\nReferences: <thread-start@example.com> {copy_id}\n\
         Content-Type: text/plain; charset=utf-8\n\n{text}\n"
    );
    let stored = receive(app, &raw).await;
    assert_eq!(stored["kind"], "reply", "{stored}");
}

/// The value after `marker` in the page, up to the next `<`.
fn value_after<'a>(page: &'a str, marker: &str) -> &'a str {
    let start = at(page, marker) + marker.len();
    let end = page[start..].find('<').unwrap() + start;
    &page[start..end]
}

async fn the_table_sorts_filters_searches_and_pages(backend: Backend) {
    let app = engagement_app(backend, "2").await;
    let token = app.api_token().await;
    let owner = app.owner().await;

    // Three who will care, and one who will not.
    for (email, name) in [
        ("opener@example.com", "Olga Opener"),
        ("clicker@example.com", "Carl Clicker"),
        ("replier@example.com", "Rita Replier"),
        ("silent@example.com", "Sam Silent"),
    ] {
        confirmed_named(&app, &token, email, name).await;
    }
    send_to_everyone(
        &app,
        &token,
        "Saturday market",
        &format!("See [the menu]({MENU})."),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let pixel = &tracking_urls(&only_copy(&app, "opener@example.com").html(), "o")[0];
    assert_eq!(fetch(pixel, IPHONE).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let link = &tracking_urls(&only_copy(&app, "clicker@example.com").html(), "c")[0];
    assert_eq!(fetch(link, DESKTOP).await.status(), 302);
    tokio::time::sleep(Duration::from_millis(50)).await;
    reply_to(
        &app,
        "Rita Replier <replier@example.com>",
        &only_copy(&app, "replier@example.com"),
        "rita-1@example.com",
        "Save me a rye loaf!",
    )
    .await;

    // Then a crowd who joined later: 56 more, named so they sort around the others, two
    // pending and one who left.
    for i in 0..53 {
        let email = format!("reader{i:02}@example.com");
        let name = format!("Reader {i:02}");
        confirmed_named(&app, &token, &email, &name).await;
    }
    confirmed_named(&app, &token, "zed@example.com", "Zed Zimmer").await;
    for email in ["pending1@example.com", "pending2@example.com"] {
        let added = add_subscriber(
            &app,
            &token,
            &serde_json::json!({ "email": email, "name": "Pat Pending" }),
        )
        .await;
        assert_eq!(added.status(), 201);
    }
    let leaver = confirmed_named(&app, &token, "leaver@example.com", "Lee Leaver").await;
    let left = owner
        .post_form(&format!("/admin/subscribers/{leaver}/unsubscribe"), &[])
        .await;
    assert_eq!(left.status(), 303);
    let total = 4 + 53 + 1 + 2 + 1;

    // Most engaged first, by default: the reply outweighs the click, the click the open.
    page_with(&owner, "/admin/subscribers?tier=engaged", "of 2 matching").await;
    let page = owner.page("/admin/subscribers").await;
    in_order(&page, &["Rita Replier", "Carl Clicker", "Olga Opener"]);
    assert!(
        page.contains(&format!("Showing 1–50 of {total} subscribers.")),
        "{page}"
    );
    assert!(page.contains("replied once"), "reasons in words: {page}");
    assert!(page.contains("tier tier-core"));
    assert!(page.contains("aria-sort=\"descending\""));
    // Least engaged first: the replier is nowhere near the top.
    let least = owner
        .page("/admin/subscribers?sort=engagement&dir=asc")
        .await;
    assert!(!least.contains("Rita Replier"), "{least}");

    // By most recent human activity: the reply came last, the open first.
    let recent = owner.page("/admin/subscribers?sort=activity").await;
    in_order(&recent, &["Rita Replier", "Carl Clicker", "Olga Opener"]);
    assert!(recent.contains("today"), "last activity in words");
    assert!(recent.contains("never"));

    // By name, both ways; by signup date, both ways.
    let by_name = owner.page("/admin/subscribers?sort=name").await;
    in_order(
        &by_name,
        &[
            "Carl Clicker",
            "Lee Leaver",
            "Olga Opener",
            "Pat Pending",
            "Reader 00",
            "Reader 01",
        ],
    );
    assert!(!by_name.contains("Zed Zimmer"), "Z is on the second page");
    let by_name_down = owner.page("/admin/subscribers?sort=name&dir=desc").await;
    in_order(
        &by_name_down,
        &["Zed Zimmer", "Sam Silent", "Rita Replier", "Reader 52"],
    );
    let newest = owner.page("/admin/subscribers?sort=signup").await;
    in_order(
        &newest,
        &[
            "leaver@example.com",
            "pending2@example.com",
            "zed@example.com",
        ],
    );
    let oldest = owner.page("/admin/subscribers?sort=signup&dir=asc").await;
    in_order(
        &oldest,
        &[
            "opener@example.com",
            "clicker@example.com",
            "replier@example.com",
        ],
    );

    // Search: any case, in the name or the address; `%` and `_` are plain characters.
    let found = owner.page("/admin/subscribers?q=ZIMM").await;
    assert!(found.contains("Zed Zimmer"));
    assert_contains(&found, "Showing 1–1 of 1 matching subscribers.", "");
    let found = owner.page("/admin/subscribers?q=READER0").await;
    assert!(found.contains("of 10 matching"), "{found}");
    assert_contains(
        &found,
        "value=\"READER0\"",
        "the search box keeps the search",
    );
    let nothing = owner.page("/admin/subscribers?q=%25").await;
    assert!(nothing.contains("No subscribers match."), "{nothing}");

    // Tiers and statuses.
    let core = owner.page("/admin/subscribers?tier=core").await;
    assert!(
        core.contains("Rita Replier") && core.contains("of 1 matching"),
        "{core}"
    );
    let engaged = owner.page("/admin/subscribers?tier=engaged").await;
    assert!(engaged.contains("Carl Clicker") && engaged.contains("Olga Opener"));
    assert!(engaged.contains("of 2 matching"), "{engaged}");
    let gone = owner.page("/admin/subscribers?tier=gone").await;
    assert!(gone.contains("Lee Leaver") && gone.contains("of 1 matching"));
    let pending = owner
        .page("/admin/subscribers?status=pending&sort=name")
        .await;
    assert!(pending.contains("pending1@example.com") && pending.contains("pending2@example.com"));
    assert!(pending.contains("of 2 matching"), "{pending}");
    assert!(pending.contains("<option value=\"pending\" selected>"));
    let unsubscribed = owner.page("/admin/subscribers?status=unsubscribed").await;
    assert!(unsubscribed.contains("Lee Leaver") && unsubscribed.contains("of 1 matching"));
    let both = owner
        .page("/admin/subscribers?status=confirmed&tier=engaged&q=carl")
        .await;
    assert!(
        both.contains("Carl Clicker") && both.contains("of 1 matching"),
        "{both}"
    );

    // Pages of 50, the links keeping the view.
    assert_contains(
        &by_name,
        "href=\"/admin/subscribers?sort=name&amp;page=2\"",
        "",
    );
    let second = owner.page("/admin/subscribers?sort=name&page=2").await;
    assert!(
        second.contains(&format!("Showing 51–{total} of {total} subscribers.")),
        "{second}"
    );
    assert!(second.contains("Zed Zimmer"));
    assert_contains(
        &second,
        "href=\"/admin/subscribers?sort=name\" rel=\"prev\"",
        "",
    );
    assert!(!second.contains("rel=\"next\""));
    let past = owner.page("/admin/subscribers?page=9").await;
    assert!(past.contains("past the end of the list"), "{past}");

    // Each row leads to the person's page.
    let rita = app
        .api_get("/subscribers?sort=engagement&limit=1", &token)
        .await["subscribers"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(page.contains(&format!("href=\"/admin/subscribers/{rita}\"")));
}

async fn bad_list_parameters_are_explained(backend: Backend) {
    let app = engagement_app(backend, "2").await;
    let owner = app.owner().await;
    for (query, expected) in [
        ("tier=vip", "There is no tier “vip”"),
        ("status=gone", "There is no status “gone”"),
        ("sort=shoe", "cannot be sorted by “shoe”"),
        ("dir=sideways", "not a direction"),
        ("page=0", "not a page number"),
        ("page=-3", "not a page number"),
        ("page=abc", "not a page number"),
        ("page=99999999999999999999", "not a page number"),
        ("tier=%3Cscript%3Ealert(1)%3C%2Fscript%3E", ESCAPED_SCRIPT),
    ] {
        let response = owner.get(&format!("/admin/subscribers?{query}")).await;
        assert_eq!(response.status(), 400, "{query}");
        let page = response.text().await.unwrap();
        assert!(page.contains(expected), "{query}: {page}");
        assert!(!page.contains(SCRIPT));
        assert!(page.contains("Show every subscriber"));
    }
    let long = format!("/admin/subscribers?q={}", "a".repeat(201));
    assert_eq!(owner.get(&long).await.status(), 400);
    // Empty values are no filter at all.
    let page = owner
        .page("/admin/subscribers?q=&tier=&status=&sort=&dir=&page=")
        .await;
    assert!(page.contains("No subscribers yet."), "{page}");
    // Letters beyond ASCII, as typed, are found on both databases.
    let token = app.api_token().await;
    confirmed_named(&app, &token, "emile@example.com", "Émile Zola").await;
    let found = owner.page("/admin/subscribers?q=%C3%89mile").await;
    assert!(found.contains("Émile Zola"), "{found}");
}

async fn a_subscriber_page_tells_their_story_and_the_owner_answers(backend: Backend) {
    let app = engagement_app(backend, "2").await;
    let token = app.api_token().await;
    let owner = app.owner().await;
    let name = format!("Bob {SCRIPT} <b>Baker</b>");
    let bob = confirmed_named(&app, &token, "bob@example.com", &name).await;
    confirmed_email(&app, &token, "ann@example.com").await;
    send_to_everyone(
        &app,
        &token,
        "Saturday market",
        &format!("See [the menu]({MENU})."),
    )
    .await;
    let copy = only_copy(&app, "bob@example.com");

    // Software fetches the pixel at once; later Bob opens it and replies.
    let pixel = &tracking_urls(&copy.html(), "o")[0];
    assert_eq!(fetch(pixel, "Mozilla/5.0").await.status(), 200);
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    assert_eq!(fetch(pixel, IPHONE).await.status(), 200);
    let words = format!("Save me a rye loaf! {SCRIPT} <b>please</b>\nSecond line, kept.");
    reply_to(
        &app,
        "Bob <bob@example.com>",
        &copy,
        "bob-reply-1@example.com",
        &words,
    )
    .await;

    let path = format!("/admin/subscribers/{bob}");
    let page = page_with(&owner, &path, "Opened by software").await;
    let page = if page.contains("a person</span>") {
        page
    } else {
        page_with(&owner, &path, "a person</span>").await
    };
    // Who, how much they care and why.
    assert!(page.contains("bob@example.com"));
    assert!(!page.contains(SCRIPT), "nothing they wrote runs: {page}");
    assert!(
        page.contains(&format!("Bob {ESCAPED_SCRIPT} &lt;b&gt;Baker&lt;/b&gt;")),
        "{page}"
    );
    let score: f64 = value_after(&page, "id=\"score\">").parse().unwrap();
    assert!(score >= 10.0, "a reply and an open: {score}");
    assert!(page.contains("tier tier-core"));
    assert!(page.contains("<li>replied once, last today</li>"), "{page}");
    assert_contains(&page, "<li>opened 1 campaign, last today</li>", "");
    // Their consent.
    assert_contains(&page, "asked at the counter", "stated consent");
    assert!(page.contains("Confirmed"));
    assert!(page.contains("Added by you as confirmed"));
    // The timeline: delivered, software's open, Bob's open, his reply in full.
    in_order(
        &page,
        &[
            "Delivered",
            "Opened by software",
            "<strong>Opened</strong><span class=\"who-did\">a person</span>",
            "Replied",
        ],
    );
    assert!(page.contains("class=\"machine\""));
    let said = format!("Save me a rye loaf! {ESCAPED_SCRIPT} &lt;b&gt;please&lt;/b&gt;");
    in_order(&page, &[said.as_str(), "Second line, kept."]);
    assert!(page.contains("Answer this reply"));

    // The list shows the name escaped too.
    let list = owner.page("/admin/subscribers").await;
    assert!(!list.contains(SCRIPT));
    assert!(list.contains(&format!("Bob {ESCAPED_SCRIPT}")));

    // A private note, saved and shown (escaped).
    let saved = owner
        .post_form(
            &format!("{path}/note"),
            &[("note", "Wants rye on Saturdays. <i>VIP</i>")],
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(
        saved.headers()["location"],
        format!("{path}?notice=note#note")
    );
    let page = owner.page(&format!("{path}?notice=note")).await;
    assert!(page.contains("Note saved."));
    assert_contains(
        &page,
        "Wants rye on Saturdays. &lt;i&gt;VIP&lt;/i&gt;</textarea>",
        "",
    );
    let too_long = owner
        .post_form(&format!("{path}/note"), &[("note", &"x".repeat(10_001))])
        .await;
    assert_eq!(too_long.status(), 400);
    assert!(
        too_long
            .text()
            .await
            .unwrap()
            .contains("at most 10000 characters")
    );

    // Answering: an empty answer is refused, a real one goes out threaded.
    let reply_id = {
        let marker = "id=\"reply-";
        value_after(&page, marker)
            .split('"')
            .next()
            .unwrap()
            .to_string()
    };
    let answer_path = format!("{path}/replies/{reply_id}/answer");
    let empty = owner.post_form(&answer_path, &[("body", "  \n ")]).await;
    assert_eq!(empty.status(), 400);
    assert!(
        empty
            .text()
            .await
            .unwrap()
            .contains("Write your answer first.")
    );
    let answer = "Of course, Bob! One rye loaf, kept for you.\nSee you Saturday.";
    let sent = owner.post_form(&answer_path, &[("body", answer)]).await;
    assert_eq!(sent.status(), 303);
    assert_eq!(
        sent.headers()["location"],
        format!("{path}?notice=answered#reply-{reply_id}")
    );
    let mail = app.smtp.wait_for("bob@example.com", 2).await;
    let answered = mail.last().unwrap();
    assert_eq!(answered.rcpt_to, vec!["bob@example.com".to_string()]);
    assert!(answered.header("To").unwrap().contains("<bob@example.com>"));
    assert!(
        answered
            .header("From")
            .unwrap()
            .contains("news@bakery.example")
    );
    assert_eq!(answered.subject(), "Re: Saturday market", "no second Re:");
    assert_eq!(
        answered.header("In-Reply-To").unwrap(),
        "<bob-reply-1@example.com>"
    );
    let copy_id = copy.header("Message-ID").unwrap();
    assert_eq!(
        answered
            .header("References")
            .unwrap()
            .split_whitespace()
            .collect::<Vec<_>>(),
        vec![
            "<thread-start@example.com>",
            copy_id.as_str(),
            "<bob-reply-1@example.com>"
        ]
    );
    assert!(answered.text().contains("One rye loaf, kept for you."));
    assert!(
        answered.header("List-Unsubscribe").is_none(),
        "a personal answer"
    );
    let reply_to_header = answered.header("Reply-To").unwrap();
    assert!(reply_to_header.contains("replies+"), "{reply_to_header}");

    // The answer joins the conversation, after the reply.
    let page = page_with(&owner, &format!("{path}?notice=answered"), "You answered").await;
    assert!(page.contains("Your answer is on its way."));
    in_order(
        &page,
        &[
            "Replied",
            "Save me a rye loaf!",
            "You answered",
            "Of course, Bob!",
        ],
    );

    // Bob answers back, to the tagged address only: it is his again.
    let tagged = reply_to_header
        .rsplit_once('<')
        .map(|(_, a)| a.trim_end_matches('>').to_string())
        .unwrap_or(reply_to_header.clone());
    let back = receive(
        &app,
        &format!(
            "From: <bob.phone@mobile.example>\nTo: {tagged}\nSubject: Re: Saturday market\n\
             Message-ID: <bob-reply-2@mobile.example>\n\nThank you!\n"
        ),
    )
    .await;
    assert_eq!(back["matched_by"], "reply token", "{back}");
    assert_eq!(back["subscriber_id"], bob.as_str());
    let page = page_with(&owner, &path, "Thank you!").await;
    in_order(&page, &["You answered", "Thank you!"]);
}

async fn the_owner_unsubscribes_exports_and_erases(backend: Backend) {
    let app = engagement_app(backend, "2").await;
    let token = app.api_token().await;
    let owner = app.owner().await;
    let id = confirmed_named(&app, &token, "carol@example.com", "Carol").await;
    let path = format!("/admin/subscribers/{id}");
    owner
        .post_form(&format!("{path}/note"), &[("note", "Met at the market")])
        .await;

    // Unsubscribe: at once, and in the consent history as the owner's doing.
    let page = owner.page(&path).await;
    assert!(page.contains("Unsubscribe them"));
    let done = owner.post_form(&format!("{path}/unsubscribe"), &[]).await;
    assert_eq!(done.status(), 303);
    let page = owner.page(&format!("{path}?notice=unsubscribed")).await;
    assert!(page.contains("Unsubscribed. They get no more campaigns"));
    assert_contains(&page, "<dd id=\"status\">unsubscribed</dd>", "");
    assert!(page.contains("Unsubscribed how</dt>"));
    let timeline = &page[at(&page, "id=\"timeline\"")..];
    let unsubscribed = &timeline[at(timeline, "<strong>Unsubscribed</strong>")..];
    assert_contains(unsubscribed, "<div class=\"muted\">by you</div>", "");
    assert!(
        !page.contains("Unsubscribe them"),
        "nothing more to unsubscribe"
    );
    let api = app.api_get(&format!("/subscribers/{id}"), &token).await;
    assert_eq!(api["status"], "unsubscribed");

    // Export: the API's export, as a download.
    let export = owner.get(&format!("{path}/export")).await;
    assert_eq!(export.status(), 200);
    assert_eq!(export.headers()["content-type"], "application/json");
    assert_eq!(
        export.headers()["content-disposition"],
        format!(
            "attachment; filename=\"subscriber-{}.json\"",
            id.replace('-', "")
        )
    );
    let exported: serde_json::Value = export.json().await.unwrap();
    let from_api = app
        .api_get(&format!("/subscribers/{id}/export"), &token)
        .await;
    assert_eq!(exported, from_api);
    assert_eq!(exported["subscriber"]["email"], "carol@example.com");
    assert_eq!(exported["note"], "Met at the market");
    let kinds = each(&exported["consent_history"], "kind");
    assert_eq!(kinds, ["added_confirmed", "unsubscribe"]);

    // Erase: a confirmation first; then gone, with a notice on the list.
    let confirm = owner.page(&format!("{path}/erase")).await;
    assert!(confirm.contains("Erase Carol?"), "{confirm}");
    assert!(confirm.contains("cannot be undone"));
    let unconfirmed = owner.post_form(&format!("{path}/erase"), &[]).await;
    assert_eq!(unconfirmed.status(), 303);
    assert_eq!(unconfirmed.headers()["location"], format!("{path}/erase"));
    assert_eq!(app.count("subscribers").await, 1);
    let erased = owner
        .post_form(&format!("{path}/erase"), &[("confirm", "yes")])
        .await;
    assert_eq!(erased.status(), 303);
    assert_eq!(
        erased.headers()["location"],
        "/admin/subscribers?notice=erased"
    );
    let list = owner.page("/admin/subscribers?notice=erased").await;
    assert!(list.contains("The subscriber was erased"));
    assert!(!list.contains("carol@example.com"));
    assert_eq!(app.count("subscribers").await, 0);
    let gone = owner.get(&path).await;
    assert_eq!(gone.status(), 404);
    assert!(gone.text().await.unwrap().contains("No such subscriber"));
    let api = app
        .api_call(reqwest::Method::GET, &format!("/subscribers/{id}"), &token)
        .await;
    assert_eq!(api.status(), 404);
}

async fn with_tracking_off_their_copy_has_no_pixel_and_plain_links(backend: Backend) {
    let app = engagement_app(backend, "2").await;
    let token = app.api_token().await;
    let owner = app.owner().await;
    let private = confirmed_email(&app, &token, "private@example.com").await;
    confirmed_email(&app, &token, "tracked@example.com").await;
    let path = format!("/admin/subscribers/{private}");
    assert!(
        owner
            .page(&path)
            .await
            .contains("Tracking is <strong>on</strong>")
    );
    let off = owner
        .post_form(&format!("{path}/tracking"), &[("tracking", "off")])
        .await;
    assert_eq!(off.status(), 303);
    let page = owner.page(&format!("{path}?notice=tracking-off")).await;
    assert!(page.contains("Tracking is <strong>off</strong>"), "{page}");
    assert!(page.contains("Tracking is off for them: their next copies"));
    let bad = owner
        .post_form(&format!("{path}/tracking"), &[("tracking", "maybe")])
        .await;
    assert_eq!(bad.status(), 400);

    send_to_everyone(
        &app,
        &token,
        "Saturday market",
        &format!("See [the menu]({MENU})."),
    )
    .await;
    let untracked = only_copy(&app, "private@example.com").html();
    assert!(!untracked.contains("/t/o/"), "no pixel: {untracked}");
    assert!(
        !untracked.contains("/t/c/"),
        "no wrapped or hidden links: {untracked}"
    );
    assert_contains(&untracked, "href=\"https://bakery.example/menu?day=mon", "");
    let tracked = only_copy(&app, "tracked@example.com").html();
    assert!(tracked.contains("/t/o/"));
    assert!(tracked.contains("/t/c/"));
    assert!(!tracked.contains("href=\"https://bakery.example/menu"));

    // And back on.
    let on = owner
        .post_form(&format!("{path}/tracking"), &[("tracking", "on")])
        .await;
    assert_eq!(on.status(), 303);
    assert!(
        owner
            .page(&path)
            .await
            .contains("Tracking is <strong>on</strong>")
    );
}

async fn unknown_subscribers_and_forms_without_a_token_are_refused(backend: Backend) {
    let app = engagement_app(backend, "2").await;
    let token = app.api_token().await;
    let owner = app.owner().await;
    let id = confirmed_email(&app, &token, "dan@example.com").await;
    for path in [
        "/admin/subscribers/not-a-uuid".to_string(),
        "/admin/subscribers/0190a5a8-7e43-7c4b-9d8e-2a4f3c1b2d3e".to_string(),
        "/admin/subscribers/0190a5a8-7e43-7c4b-9d8e-2a4f3c1b2d3e/erase".to_string(),
        "/admin/subscribers/%3Cscript%3E/export".to_string(),
    ] {
        let response = owner.get(&path).await;
        assert_eq!(response.status(), 404, "{path}");
        let page = response.text().await.unwrap();
        assert!(page.contains("No such subscriber"), "{path}: {page}");
        assert!(page.contains("<nav class=\"menu\""), "in the admin layout");
    }
    // Answering a reply that is not theirs (or not there).
    let missing = owner
        .post_form(
            &format!("/admin/subscribers/{id}/replies/12345/answer"),
            &[("body", "Hi")],
        )
        .await;
    assert_eq!(missing.status(), 404);
    let malformed = owner
        .post_form(
            &format!("/admin/subscribers/{id}/replies/abc/answer"),
            &[("body", "Hi")],
        )
        .await;
    assert_eq!(malformed.status(), 404);
    // A form without the session's CSRF token changes nothing.
    let forged = owner
        .post_as_written(
            &format!("/admin/subscribers/{id}/unsubscribe"),
            &[],
            &[("csrf", "forged")],
        )
        .await;
    assert_eq!(forged.status(), 403);
    let api = app.api_get(&format!("/subscribers/{id}"), &token).await;
    assert_eq!(api["status"], "confirmed");
}
