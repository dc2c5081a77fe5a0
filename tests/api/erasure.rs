//! Erasure erases: a subscriber who signed up, clicked a link made from their address,
//! replied, was answered, was refused by a mail server and bounced is erased (through the
//! API, and through the owner's button), and then no table, found from the schema itself,
//! holds their address, their name or a value of theirs; the campaigns' figures stay, other
//! people's mail stays with only the naming blanked, and the address cannot be added back.

use std::time::{Duration, Instant};

use reqwest::Method;
use sqlx::Row as _;

use crate::fixtures::{
    IPHONE, assert_contains, confirmed, each, fetch, header, patch, receive, send_to_everyone,
    tracking_urls, with_inbound,
};
use crate::helpers::{Backend, Options, OwnerClient, TestApp, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    erasing_through_the_api_leaves_no_trace_and_keeps_the_figures,
    erasing_with_the_owners_button_leaves_no_trace_and_keeps_the_figures,
);

const EMAIL: &str = "Zebulon.Quixote@Erasure-Test.example";
const NAME: &str = "Zébulon Quixote";
const MEMBER: &str = "ZQ-88231";
/// What no table may hold after the erasure, in any case: the local part (and with it the
/// address in any encoding, since letters are never encoded), the name (with and without
/// its accent), the member number.
const TRACES: [&str; 4] = ["zebulon", "zébulon", "quixote", "88231"];

/// The account link: personal, made from the address, a value only the subscriber has
/// (their member number) and one others share (their city).
const BODY: &str = "Hello {{ subscriber.name | default(value=\"friend\") }}!\n\n\
See [your account](https://shop.example/account?email={{ subscriber.email }}\
&member={{ subscriber.attributes.member | default(value=\"none\") }}\
&city={{ subscriber.attributes.city | default(value=\"none\") }}) \
and [the menu](https://bakery.example/menu).";
/// His account link once he is erased: the city is everyone's in Paris, so it stays.
const ERASED_LINK: &str = "https://shop.example/account?email=(erased)&member=(erased)&city=Paris";

async fn app(backend: Backend) -> TestApp {
    spawn_app_with(backend, with_inbound(Options::default())).await
}

/// Everything the scenario left for the checks after the erasure.
struct Story {
    token: String,
    owner: OwnerClient,
    zebulon: String,
    ann: String,
    cat: String,
    account_link: String,
    first: String,
    second: String,
    before_first: serde_json::Value,
    before_second: serde_json::Value,
}

/// The whole life of a subscriber, as they and the owner would live it.
async fn live_a_life(app: &TestApp) -> Story {
    let token = app.api_token().await;
    let owner = app.owner().await;

    // Zebulon signs up on the hosted page and confirms; the welcome is refused once by a
    // busy server that quotes his address, then delivered.
    let signed = app.subscribe_via_page(EMAIL, NAME).await;
    assert_eq!(signed.status(), 200);
    let confirmation = app.smtp.wait_for(EMAIL, 1).await;
    let confirm = confirmation[0]
        .link_starting_with(&app.url("/confirm/"))
        .expect("a confirm link");
    app.smtp
        .answer(EMAIL, 450, &format!("4.2.1 <{EMAIL}>: mailbox busy"), 1);
    assert_eq!(app.post_empty(&confirm).await.status(), 200);
    app.smtp.wait_for(EMAIL, 2).await;
    assert_eq!(app.smtp.refusals(EMAIL), 1);
    let listed = app.api_get("/subscribers?limit=100", &token).await;
    let zebulon = listed["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"].as_str().unwrap().eq_ignore_ascii_case(EMAIL))
        .unwrap_or_else(|| panic!("Zebulon is listed: {listed}"))["id"]
        .as_str()
        .unwrap()
        .to_string();
    let updated = patch(
        app,
        &token,
        &format!("/subscribers/{zebulon}"),
        serde_json::json!({ "attributes": { "member": MEMBER, "city": "Paris" } }),
    )
    .await;
    assert!(updated.status().is_success(), "{}", updated.status());
    let ann = confirmed(
        app,
        &token,
        "ann@example.com",
        Some("Ann Baker"),
        serde_json::json!({ "member": "AB-10001", "city": "Paris" }),
    )
    .await;
    // Cat was referred by him.
    let cat = confirmed(
        app,
        &token,
        "cat@example.com",
        None,
        serde_json::json!({ "city": "Paris", "referred_by": EMAIL.to_lowercase() }),
    )
    .await;

    // A campaign with his personal link; he clicks it.
    let first = send_to_everyone(app, &token, "Your bakery account", BODY).await;
    let copy_for = |address: &str| {
        app.smtp
            .messages_to(address)
            .into_iter()
            .find(|m| m.subject() == "Your bakery account")
            .expect("a copy of the campaign")
    };
    let copy = copy_for(EMAIL);
    let account_link = tracking_urls(&copy.html(), "c")[0].clone();
    let clicked = fetch(&account_link, IPHONE).await;
    assert_eq!(clicked.status(), 302);
    let location = header(&clicked, "location").to_lowercase();
    assert_eq!(
        location,
        // A placeholder's value in an address is percent-encoded (`@` is `%40`).
        format!(
            "https://shop.example/account?email={}&member={MEMBER}&city=Paris",
            EMAIL.replace('@', "%40")
        )
        .to_lowercase()
    );
    let anns_link = tracking_urls(&copy_for("ann@example.com").html(), "c")[0].clone();
    assert_eq!(fetch(&anns_link, IPHONE).await.status(), 302);
    wait_until(app, &token, &first, |c| c["engagement"]["raw_clicks"] == 2).await;

    // He replies; Ann replies too, naming him; the owner answers him.
    let copy_id = copy.header("Message-ID").unwrap();
    let his = receive(
        app,
        &format!(
            "From: {NAME} <{EMAIL}>\nTo: Bakery <replies@bakery.example>\nSubject: Re: Your bakery account\n\
             Message-ID: <zq-reply-1@mail.example>\nIn-Reply-To: {copy_id}\nContent-Type: text/plain\n\n\
             Thank you! {NAME}, member {MEMBER}\n"
        ),
    )
    .await;
    assert_eq!(his["kind"], "reply", "{his}");
    assert_eq!(his["subscriber_id"], zebulon.as_str(), "{his}");
    let anns_copy = copy_for("ann@example.com").header("Message-ID").unwrap();
    let hers = receive(
        app,
        &format!(
            "From: Ann Baker <ann@example.com>\nTo: Bakery <replies@bakery.example>\nSubject: Re: Your bakery account\n\
             Message-ID: <ann-reply-1@mail.example>\nIn-Reply-To: {anns_copy}\nContent-Type: text/plain\n\n\
             Please say hello to {NAME} ({EMAIL}) from me.\n"
        ),
    )
    .await;
    assert_eq!(hers["subscriber_id"], ann.as_str(), "{hers}");
    answer_their_reply(
        &owner,
        &zebulon,
        &format!("Dear {NAME}, see you on Saturday."),
    )
    .await;
    app.smtp.wait_for(EMAIL, 4).await;
    // The owner answers Ann too, and notes who she knows, both naming him.
    let shouted = NAME.to_uppercase();
    answer_their_reply(&owner, &ann, &format!("Thanks Ann, I will tell {shouted}.")).await;
    app.smtp.wait_for("ann@example.com", 2).await;
    let noted = owner
        .post_form(
            &format!("/admin/subscribers/{ann}/note"),
            &[("note", &format!("Neighbour of {NAME} ({EMAIL})."))],
        )
        .await;
    assert_eq!(noted.status(), 303);

    // A second campaign, which his mail server refuses, quoting his address.
    app.smtp.answer(
        EMAIL,
        550,
        &format!("5.1.1 <{EMAIL}>: Recipient address rejected: User unknown"),
        10,
    );
    let second = send_to_everyone(app, &token, "Saturday market", "Fresh bread.").await;
    let report = app.api_get(&format!("/campaigns/{second}"), &token).await;
    assert_eq!(report["deliveries"]["failed"], 1, "{report}");
    assert!(
        report["failures"][0]["smtp_reply"]
            .as_str()
            .unwrap()
            .contains(EMAIL),
        "{report}"
    );

    // Mail from his address tied to nothing, a stranger's about him, a bounce of his copy
    // of the first campaign, and a bounce that only names his address.
    receive(
        app,
        &format!(
            "From: {EMAIL}\nTo: Bakery <replies@bakery.example>\nSubject: A question from {NAME}\n\
             Message-ID: <zq-question@mail.example>\nContent-Type: text/plain\n\nDo you deliver?\n"
        ),
    )
    .await;
    let stranger = receive(
        app,
        &format!(
            "From: neighbour@elsewhere.example\nTo: Bakery <replies@bakery.example>\nSubject: About {NAME}\n\
             Message-ID: <neighbour-1@elsewhere.example>\nContent-Type: text/plain\n\n\
             {NAME} ({EMAIL}) asked me to tell you he loves the rye.\n"
        ),
    )
    .await;
    assert_eq!(stranger["kind"], "reply", "{stranger}");
    let bounce = receive(
        app,
        &format!(
            "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\nTo: bounces@bakery.example\n\
             Subject: Undelivered Mail Returned to Sender\nMessage-ID: <dsn-zq-1@mx.example.com>\n\
             Auto-Submitted: auto-replied\nMIME-Version: 1.0\n\
             Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\n\n\
             --b1\nContent-Type: text/plain\n\nYour message could not be delivered to {EMAIL}.\n\n\
             --b1\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx.example.com\n\n\
             Final-Recipient: rfc822; {EMAIL}\nAction: failed\nStatus: 5.1.1\n\
             Diagnostic-Code: smtp; 550 5.1.1 <{EMAIL}>: Recipient address rejected: User unknown\n\n\
             --b1\nContent-Type: text/rfc822-headers\n\nFrom: Bakery <news@bakery.example>\nTo: {EMAIL}\n\
             Subject: Your bakery account\nMessage-ID: {copy_id}\n\n--b1--\n"
        ),
    )
    .await;
    assert_eq!(bounce["kind"], "hard_bounce", "{bounce}");
    assert_eq!(bounce["campaign_id"], first.as_str(), "{bounce}");
    receive(
        app,
        &format!(
            "From: MAILER-DAEMON@mx.example.net\nTo: replies@bakery.example\nSubject: Delivery failure\n\
             Message-ID: <dsn-2@mx.example.net>\nX-Failed-Recipients: {EMAIL}\nContent-Type: text/plain\n\n\
             550 5.1.1 <{EMAIL}>: user unknown\n"
        ),
    )
    .await;

    // Everything is there before: the dump finds him in many places.
    let found = traces_in(app).await;
    for table in [
        "subscribers",
        "outbound_messages",
        "campaign_links",
        "deliveries",
        "inbound_messages",
        "answers",
    ] {
        assert!(
            found.iter().any(|(t, _)| t == table),
            "before the erasure {table} names him: {found:?}"
        );
    }
    let before_first = app.api_get(&format!("/campaigns/{first}"), &token).await;
    let before_second = app.api_get(&format!("/campaigns/{second}"), &token).await;
    Story {
        token,
        owner,
        zebulon,
        ann,
        cat,
        account_link,
        first,
        second,
        before_first,
        before_second,
    }
}

/// The owner answers the first reply on a subscriber's page.
async fn answer_their_reply(owner: &OwnerClient, subscriber: &str, body: &str) {
    let path = format!("/admin/subscribers/{subscriber}");
    let page = owner.page(&path).await;
    let marker = "id=\"reply-";
    let start = page.find(marker).expect("a reply on their page") + marker.len();
    let reply_id = &page[start..start + page[start..].find('"').unwrap()];
    let answered = owner
        .post_form(
            &format!("{path}/replies/{reply_id}/answer"),
            &[("body", body)],
        )
        .await;
    assert_eq!(answered.status(), 303);
}

/// Polls a campaign until `done` holds.
async fn wait_until(
    app: &TestApp,
    token: &str,
    id: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let campaign = app.api_get(&format!("/campaigns/{id}"), token).await;
        if done(&campaign) {
            return;
        }
        assert!(Instant::now() < deadline, "never happened: {campaign}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The rows holding a trace of Zebulon, as `(table, row as text)`.
async fn traces_in(app: &TestApp) -> Vec<(String, String)> {
    rows_holding(app, &TRACES).await
}

/// Every value of every column of every table, as text, found from the schema itself (a
/// table added later is searched too): `(table, row as text)` for the rows holding any of
/// `traces` (lower-case), in any case.
async fn rows_holding(app: &TestApp, traces: &[&str]) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = Vec::new();
    match app.backend {
        Backend::Sqlite => {
            let pool = sqlx::SqlitePool::connect(&app.database_url).await.unwrap();
            let tables: Vec<String> =
                sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            for table in tables {
                let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT name FROM pragma_table_info('{table}')"
                )))
                .fetch_all(&pool)
                .await
                .unwrap();
                let select = columns
                    .iter()
                    .map(|c| format!("CAST(\"{c}\" AS TEXT)"))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!("SELECT {select} FROM \"{table}\"");
                for row in sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(&pool)
                    .await
                    .unwrap()
                {
                    // Bytes, whatever the column holds (text, or a UUID's blob).
                    let values: Vec<String> = (0..row.len())
                        .map(|i| {
                            row.try_get_unchecked::<Option<Vec<u8>>, _>(i)
                                .unwrap()
                                .map(|v| String::from_utf8_lossy(&v).into_owned())
                                .unwrap_or_default()
                        })
                        .collect();
                    rows.push((table.clone(), values.join(" | ")));
                }
            }
            pool.close().await;
        }
        Backend::Postgres => {
            let pool = sqlx::PgPool::connect(&app.database_url).await.unwrap();
            let tables: Vec<String> = sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
            )
            .fetch_all(&pool)
            .await
            .unwrap();
            for table in tables {
                let values: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                    "SELECT t::text FROM \"{table}\" t"
                )))
                .fetch_all(&pool)
                .await
                .unwrap();
                rows.extend(values.into_iter().map(|v| (table.clone(), v)));
            }
            pool.close().await;
        }
    }
    assert!(
        rows.iter().any(|(t, _)| t == "erased_addresses") || rows.len() > 20,
        "the dump read the database: {rows:?}"
    );
    rows.into_iter()
        .filter(|(_, row)| {
            let row = row.to_lowercase();
            traces.iter().any(|trace| row.contains(trace))
        })
        .collect()
}

/// What must hold once he is erased, however it was done.
async fn nothing_of_him_is_left(app: &TestApp, story: &Story) {
    let Story { token, zebulon, .. } = story;

    // The whole database: not a trace, apart from the one-way hash (which holds none).
    let found = traces_in(app).await;
    assert!(found.is_empty(), "after the erasure: {found:#?}");
    assert_eq!(app.count("erased_addresses").await, 1);
    assert_eq!(app.count("subscribers").await, 2, "Ann and Cat stay");
    // His opens and clicks stay, no longer his: none names anyone who is gone.
    let (orphans, his): (i64, i64) = crate::with_pool!(&app.database_url, |pool| {
        let orphans = sqlx::query_scalar(
            "SELECT COUNT(*) FROM events WHERE subscriber_id IS NOT NULL \
             AND subscriber_id NOT IN (SELECT id FROM subscribers)",
        )
        .fetch_one(&pool)
        .await
        .unwrap();
        let his = sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE subscriber_id IS NULL")
            .fetch_one(&pool)
            .await
            .unwrap();
        (orphans, his)
    });
    assert_eq!(orphans, 0, "no event names an erased person");
    assert!(his > 0, "his opens and clicks are still counted");

    // He is gone for the owner; adding him back is refused as before.
    let gone = app
        .api_call(Method::GET, &format!("/subscribers/{zebulon}"), token)
        .await;
    assert_eq!(gone.status(), 404);
    let again = app
        .api_json(Method::POST, "/subscribers", token, &serde_json::json!({ "email": EMAIL.to_lowercase(), "status": "confirmed", "consent": "asked" }))
        .await;
    assert_eq!(again.status(), 409);
    assert!(again.text().await.unwrap().contains("erased"));

    // The figures stay: every copy, open, click, bounce; his reply goes with him.
    let first = app
        .api_get(&format!("/campaigns/{}", story.first), token)
        .await;
    let before = &story.before_first;
    assert_eq!(first["deliveries"], before["deliveries"]);
    for figure in [
        "delivered",
        "human_opens",
        "machine_opens",
        "human_clicks",
        "scanner_clicks",
        "raw_opens",
        "raw_clicks",
        "engaged",
        "auto_replies",
        "hard_bounces",
        "soft_bounces",
        "complaints",
    ] {
        assert_eq!(
            first["engagement"][figure], before["engagement"][figure],
            "{figure}: {first}"
        );
    }
    assert_eq!(before["engagement"]["hard_bounces"], 1);
    assert_eq!(before["engagement"]["replies"], 2);
    assert_eq!(first["engagement"]["replies"], 1, "Ann's reply stays");
    // The links: his personal one keeps its click, without his address.
    let clicks = |c: &serde_json::Value| -> Vec<i64> {
        c["engagement"]["links"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["human_clicks"].as_i64().unwrap() + l["scanner_clicks"].as_i64().unwrap())
            .collect()
    };
    assert_eq!(clicks(&first), clicks(before));
    let urls = each(&first["engagement"]["links"], "url");
    assert!(urls.contains(&ERASED_LINK), "{urls:?}");
    assert!(urls.contains(
        &"https://shop.example/account?email=ann%40example.com&member=AB-10001&city=Paris"
    ));
    assert!(urls.contains(&"https://bakery.example/menu"));
    // The refused copy: still counted as failed, the server's words without his address.
    let second = app
        .api_get(&format!("/campaigns/{}", story.second), token)
        .await;
    assert_eq!(second["deliveries"], story.before_second["deliveries"]);
    let failure = &second["failures"][0];
    assert_eq!(failure["email"], serde_json::Value::Null);
    assert!(
        failure["smtp_reply"]
            .as_str()
            .unwrap()
            .contains("5.1.1 <(erased)>: Recipient address rejected: User unknown"),
        "{second}"
    );

    // Ann's reply, the owner's answer to her and note on her stay, with only the naming
    // of him blanked.
    let ann = app
        .api_get(&format!("/subscribers/{}", story.ann), token)
        .await
        .to_string();
    assert_contains(&ann, "Please say hello to (erased) ((erased)) from me.", "");
    assert!(ann.contains("Thanks Ann, I will tell (erased)."), "{ann}");
    let export = app
        .api_get(&format!("/subscribers/{}/export", story.ann), token)
        .await;
    assert_eq!(export["note"], "Neighbour of (erased) ((erased)).");
    let cat = app
        .api_get(&format!("/subscribers/{}", story.cat), token)
        .await;
    assert_eq!(
        cat["attributes"],
        serde_json::json!({ "city": "Paris", "referred_by": "(erased)" })
    );

    // The owner's pages name him nowhere; the stranger's mail is still on the dashboard.
    for page in [
        "/admin".to_string(),
        "/admin/subscribers".to_string(),
        format!("/admin/campaigns/{}", story.first),
        format!("/admin/campaigns/{}", story.second),
    ] {
        let text = story.owner.page(&page).await.to_lowercase();
        for trace in TRACES {
            assert!(!text.contains(trace), "{page} shows {trace}: {text}");
        }
    }
    let dashboard = story.owner.page("/admin").await;
    assert!(dashboard.contains("asked me to tell you he loves the rye"));

    // His old link still leads somewhere, and no longer to his address.
    let clicked = fetch(&story.account_link, IPHONE).await;
    assert_eq!(clicked.status(), 302);
    assert_eq!(clicked.headers()["location"], ERASED_LINK);
}

async fn erasing_through_the_api_leaves_no_trace_and_keeps_the_figures(backend: Backend) {
    let app = app(backend).await;
    let story = live_a_life(&app).await;
    let erased = app
        .api_call(
            Method::DELETE,
            &format!("/subscribers/{}", story.zebulon),
            &story.token,
        )
        .await;
    assert_eq!(erased.status(), 204);
    nothing_of_him_is_left(&app, &story).await;

    // Ann is erased too: her account link now reads like his, and the two become one
    // link with both their clicks.
    let links = |c: &serde_json::Value| c["engagement"]["links"].as_array().unwrap().clone();
    let clicks = |links: &[serde_json::Value]| -> i64 {
        links
            .iter()
            .map(|l| l["human_clicks"].as_i64().unwrap() + l["scanner_clicks"].as_i64().unwrap())
            .sum()
    };
    // His click after the erasure is stored first (the writer stores events a moment later).
    wait_until(&app, &story.token, &story.first, |c| {
        c["engagement"]["raw_clicks"] == 3
    })
    .await;
    let before = app
        .api_get(&format!("/campaigns/{}", story.first), &story.token)
        .await;
    let erased = app
        .api_call(
            Method::DELETE,
            &format!("/subscribers/{}", story.ann),
            &story.token,
        )
        .await;
    assert_eq!(erased.status(), 204);
    let after = app
        .api_get(&format!("/campaigns/{}", story.first), &story.token)
        .await;
    assert_eq!(links(&after).len(), links(&before).len() - 1, "{after}");
    assert_eq!(clicks(&links(&after)), clicks(&links(&before)));
    assert_eq!(
        after["engagement"]["raw_clicks"],
        before["engagement"]["raw_clicks"]
    );
    let after_links = links(&after);
    let erased_links: Vec<&str> = after_links
        .iter()
        .map(|l| l["url"].as_str().unwrap())
        .filter(|url| url.contains("(erased)"))
        .collect();
    assert_eq!(erased_links, [ERASED_LINK]);
    let found = rows_holding(
        &app,
        &[
            "zebulon",
            "quixote",
            "88231",
            "ann@",
            "ann baker",
            "ab-10001",
        ],
    )
    .await;
    assert!(found.is_empty(), "after both erasures: {found:#?}");
}

async fn erasing_with_the_owners_button_leaves_no_trace_and_keeps_the_figures(backend: Backend) {
    let app = app(backend).await;
    let story = live_a_life(&app).await;
    let path = format!("/admin/subscribers/{}/erase", story.zebulon);
    let confirm = story.owner.page(&path).await;
    assert!(confirm.contains(&format!("Erase {NAME}?")), "{confirm}");
    let erased = story.owner.post_form(&path, &[("confirm", "yes")]).await;
    assert_eq!(erased.status(), 303);
    assert_eq!(
        erased.headers()["location"],
        "/admin/subscribers?notice=erased"
    );
    nothing_of_him_is_left(&app, &story).await;
}
