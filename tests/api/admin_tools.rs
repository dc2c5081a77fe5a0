//! The list tools and settings pages, as the owner uses them: importing a CSV file (and
//! the report of what it did), downloading the list, the signup form for a website,
//! re-permission, the settings with their secrets masked and a test message; and
//! `hundred import` / `hundred export` on the command line.

use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};

use crate::fixtures::{
    assert_contains, confirmed_email, confirmed_named, confirmed_people, free_port, header,
    send_to_everyone,
};
use crate::helpers::{
    Backend, OWNER_EMAIL, Options, OwnerClient, TestApp, TestSmtp, fresh_database, settle,
    spawn_app, spawn_app_with,
};
use crate::on_both_databases;

on_both_databases!(
    an_import_adds_skips_and_rejects_row_by_row,
    a_confirmed_import_of_ten_thousand_rows_sends_nothing_and_exports,
    an_import_that_cannot_be_read_is_refused_with_a_reason,
    the_signup_form_page_shows_escaped_snippets_that_work,
    the_repermission_page_asks_and_unsubscribes_after_confirming,
    the_settings_page_masks_secrets,
    the_settings_page_sends_a_test_message_and_shows_refusals,
    hundred_import_and_export_on_the_command_line,
);

const BASIS: &str = "signed up at the shop counter, 2025 paper form";

/// Posts the import form as the browser does (multipart, with the file).
async fn upload(
    owner: &OwnerClient,
    file_name: &str,
    csv: Vec<u8>,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = Form::new()
        .text("csrf", owner.csrf.clone())
        .part("file", Part::bytes(csv).file_name(file_name.to_string()));
    for (key, value) in fields {
        form = form.text(key.to_string(), value.to_string());
    }
    owner
        .http
        .post(owner.url("/admin/tools/import"))
        .multipart(form)
        .send()
        .await
        .expect("POST /admin/tools/import")
}

/// A subscriber's JSON from the API list, found by address.
async fn by_email(app: &TestApp, token: &str, email: &str) -> serde_json::Value {
    let list = app.api_get("/subscribers?limit=1000", token).await;
    list["subscribers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == email)
        .unwrap_or_else(|| panic!("{email} is on the list"))
        .clone()
}

fn count_in(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\" class=\"num\">");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{id} in {page}"))
        + marker.len();
    page[start..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect()
}

async fn an_import_adds_skips_and_rejects_row_by_row(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let token = app.api_token().await;
    // Carol is on the list; Uma unsubscribed; Erin was erased at her request.
    confirmed_named(&app, &token, "carol@example.com", "Carol").await;
    let welcome = app.confirmed_subscriber("uma@example.com").await;
    let leave = welcome
        .link_starting_with(&app.url("/unsubscribe/"))
        .expect("an unsubscribe link");
    assert_eq!(app.post_empty(&leave).await.status(), 200);
    let erin = confirmed_email(&app, &token, "erin@example.com").await;
    let erased = app
        .api_call(
            reqwest::Method::DELETE,
            &format!("/subscribers/{erin}"),
            &token,
        )
        .await;
    assert_eq!(erased.status(), 204);

    // A spreadsheet's export: byte order mark, CRLF, columns in its own order and case.
    let mut csv = b"\xEF\xBB\xBFName,EMAIL,City,Favourite bread\r\n".to_vec();
    csv.extend_from_slice(
        b"\"Lee, Ann\",ann@example.com,Leeds,Rye\r\n\
          Bob,bob@example.com,,\r\n\
          Nobody,not-an-address,,\r\n",
    );
    csv.extend_from_slice(format!("{},long@example.com,,\r\n", "x".repeat(101)).as_bytes());
    csv.extend_from_slice(
        b"Ann again,ANN@example.com,,\r\n\
          Erin,erin@example.com,,\r\n\
          Uma,uma@example.com,,\r\n\
          Carol,carol@example.com,,\r\n\
          Dan,dan@example.com,York,Sourdough,extra\r\n\
          Zo\xEB,zoe@example.com,,\r\n",
    );
    let answer = upload(
        &owner,
        "customers.csv",
        csv,
        &[
            ("mode", "ask_to_confirm"),
            ("basis_kind", "in_person"),
            ("basis", BASIS),
        ],
    )
    .await;
    assert_eq!(answer.status(), 200);
    let report = answer.text().await.unwrap();
    assert_contains(&report, "10 rows read from customers.csv", "");
    assert_eq!(count_in(&report, "added-count"), "2", "{report}");
    assert_eq!(count_in(&report, "skipped-count"), "4", "{report}");
    assert_eq!(count_in(&report, "rejected-count"), "4", "{report}");
    for rejected in [
        "<td class=\"num\">4</td><td>not-an-address</td><td>invalid address",
        "<td class=\"num\">5</td><td>long@example.com</td><td>name: That name is too long",
        "<td class=\"num\">10</td><td>dan@example.com</td><td>too many columns",
        "<td class=\"num\">11</td><td>zoe@example.com</td><td>bad encoding",
    ] {
        assert!(report.contains(rejected), "{rejected} in {report}");
    }
    for skipped in [
        "<td class=\"num\">6</td><td>ANN@example.com</td><td>the same address as line 2",
        "<td class=\"num\">7</td><td>erin@example.com</td><td>erased at their request",
        "<td class=\"num\">8</td><td>uma@example.com</td><td>unsubscribed earlier",
        "<td class=\"num\">9</td><td>carol@example.com</td><td>already on the list",
    ] {
        assert!(report.contains(skipped), "{skipped} in {report}");
    }

    // The new ones are pending, each with the usual confirmation, and their consent record
    // says how they came.
    let ann = by_email(&app, &token, "ann@example.com").await;
    assert_eq!(ann["status"], "pending");
    assert_eq!(ann["name"], "Lee, Ann");
    assert_eq!(
        ann["attributes"],
        serde_json::json!({ "City": "Leeds", "Favourite bread": "Rye" })
    );
    assert_eq!(ann["consent"]["source"], "import");
    let history = app
        .api_get(
            &format!("/subscribers/{}/export", ann["id"].as_str().unwrap()),
            &token,
        )
        .await["consent_history"]
        .clone();
    assert_eq!(history[0]["kind"], "added", "{history}");
    let detail = history[0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("imported") && detail.contains(BASIS),
        "{detail}"
    );
    let bob = by_email(&app, &token, "bob@example.com").await;
    assert_eq!(bob["attributes"], serde_json::json!({}));
    let mail = app.smtp.wait_for("ann@example.com", 1).await;
    assert!(
        mail[0].subject().starts_with("Please confirm"),
        "{}",
        mail[0].subject()
    );
    app.smtp.wait_for("bob@example.com", 1).await;
    let confirm = mail[0].link_starting_with(&app.url("/confirm/")).unwrap();
    assert_eq!(app.post_empty(&confirm).await.status(), 200);
    assert_eq!(
        by_email(&app, &token, "ann@example.com").await["status"],
        "confirmed"
    );

    // Nobody skipped was changed or mailed.
    settle().await;
    assert_eq!(
        by_email(&app, &token, "uma@example.com").await["status"],
        "unsubscribed"
    );
    assert_eq!(
        app.smtp.messages_to("uma@example.com").len(),
        2,
        "confirmation and welcome only"
    );
    assert_eq!(
        by_email(&app, &token, "carol@example.com").await["name"],
        "Carol"
    );
    assert!(app.smtp.messages_to("carol@example.com").is_empty());
    assert!(app.smtp.messages_to("erin@example.com").is_empty());
    assert_eq!(app.count("subscribers").await, 4, "Carol, Uma, Ann and Bob");
}

async fn a_confirmed_import_of_ten_thousand_rows_sends_nothing_and_exports(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let token = app.api_token().await;
    let mut csv = String::from("email;name;plan\n");
    for i in 0..10_000 {
        csv.push_str(&format!("p{i}@example.com;Person {i};gold\n"));
    }
    // Pasted rather than uploaded, semicolon-separated.
    let started = Instant::now();
    let answer = owner
        .post_form(
            "/admin/tools/import",
            &[
                ("csv", &csv),
                ("mode", "already_confirmed"),
                ("basis_kind", "signup_form"),
                ("basis", "double opt-in on our old newsletter service, 2023"),
            ],
        )
        .await;
    let took = started.elapsed();
    assert_eq!(answer.status(), 200);
    let report = answer.text().await.unwrap();
    assert_eq!(count_in(&report, "added-count"), "10000", "{report}");
    assert_eq!(count_in(&report, "rejected-count"), "0");
    assert!(report.contains("As confirmed subscribers; no message was sent."));
    assert!(took < Duration::from_secs(20), "10,000 rows took {took:?}");

    let list = app
        .api_get("/subscribers?status=confirmed&limit=1", &token)
        .await;
    assert_eq!(list["total"], 10_000);
    let one = by_email(&app, &token, "p9999@example.com").await;
    assert!(
        one["consent"]["stated_consent"]
            .as_str()
            .is_some_and(|s| s.contains("old newsletter service")),
        "{one}"
    );
    let history = app
        .api_get(
            &format!("/subscribers/{}/export", one["id"].as_str().unwrap()),
            &token,
        )
        .await["consent_history"]
        .clone();
    assert_eq!(history[0]["kind"], "added_confirmed", "{history}");
    assert!(
        history[0]["detail"]
            .as_str()
            .is_some_and(|d| d.contains("as already confirmed")
                && d.contains("double opt-in on our old newsletter service, 2023")),
        "{history}"
    );
    settle().await;
    assert!(
        app.smtp.messages().is_empty(),
        "no confirmation for confirmed imports"
    );

    // The download has every one of them.
    let download = owner.get("/admin/tools/export.csv").await;
    assert_eq!(download.status(), 200);
    assert_eq!(
        download.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    assert!(
        header(&download, "content-disposition").starts_with("attachment; filename=\"subscribers-")
    );
    let body = download.text().await.unwrap();
    let mut lines = body.lines();
    assert_eq!(
        lines.next().unwrap(),
        "\u{feff}email,name,status,tier,score,signed_up,confirmed,last_human_activity,attributes"
    );
    assert_eq!(lines.count(), 10_000);
    let row = body
        .lines()
        .find(|l| l.starts_with("p9999@example.com,"))
        .expect("the last row is there");
    assert!(
        row.starts_with("p9999@example.com,Person 9999,confirmed,new,0.0,"),
        "{row}"
    );
    assert!(row.ends_with(",,\"{\"\"plan\"\":\"\"gold\"\"}\""), "{row}");
}

async fn an_import_that_cannot_be_read_is_refused_with_a_reason(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let fields = [
        ("mode", "ask_to_confirm"),
        ("basis_kind", "in_person"),
        ("basis", BASIS),
    ];
    let answer = upload(
        &owner,
        "phones.csv",
        b"name,phone\nAnn,0123\n".to_vec(),
        &fields,
    )
    .await;
    assert_eq!(answer.status(), 422);
    let page = answer.text().await.unwrap();
    assert!(page.contains("one of them must be called email"), "{page}");
    assert!(page.contains("“phone”"), "{page}");
    assert!(
        page.contains(&format!("value=\"{BASIS}\"")),
        "the form keeps what was typed"
    );

    let answer = upload(
        &owner,
        "people.csv",
        b"email\nann@example.com\n".to_vec(),
        &[
            ("mode", "ask_to_confirm"),
            ("basis_kind", "in_person"),
            ("basis", " "),
        ],
    )
    .await;
    assert_eq!(answer.status(), 422);
    assert!(
        answer
            .text()
            .await
            .unwrap()
            .contains("Say in a few words how and when")
    );

    let answer = upload(&owner, "", Vec::new(), &fields).await;
    assert_eq!(answer.status(), 422);
    assert!(answer.text().await.unwrap().contains("Choose a CSV file"));

    // A file over the 10 MB limit is refused on a page that says what to do, whether the
    // browser gives its length up front or streams it.
    let mut big = b"email,name\n".to_vec();
    while big.len() <= 10 * 1024 * 1024 {
        big.extend_from_slice(b"someone.with.a.long.address@example.com,Someone\n");
    }
    let answer = upload(&owner, "big.csv", big.clone(), &fields).await;
    assert_eq!(answer.status(), 413);
    assert!(header(&answer, "content-type").starts_with("text/html"));
    let page = answer.text().await.unwrap();
    assert!(page.contains("<h1>That is too large</h1>"), "{page}");
    assert!(page.contains("over the 10 MB a form here takes"), "{page}");
    assert!(page.contains("Log out"), "in the app's layout");
    let chunks = big
        .chunks(64 * 1024)
        .map(|chunk| Ok::<_, std::io::Error>(chunk.to_vec()))
        .collect::<Vec<_>>();
    let boundary = "hundred-test-boundary";
    let mut head = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n\r\n",
        owner.csrf
    )
    .into_bytes();
    head.shrink_to_fit();
    let streamed = owner
        .http
        .post(owner.url("/admin/tools/import"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(reqwest::Body::wrap_stream(futures::stream::iter(
            std::iter::once(Ok(head)).chain(chunks),
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(streamed.status(), 413);
    assert!(streamed.text().await.unwrap().contains("That is too large"));
    assert_eq!(app.count("subscribers").await, 0);

    // Without the session's CSRF token, nothing is read at all.
    let form = Form::new()
        .text("mode", "already_confirmed")
        .text("basis_kind", "in_person")
        .text("basis", BASIS)
        .part(
            "file",
            Part::bytes(b"email\nann@example.com\n".to_vec()).file_name("a.csv"),
        );
    let forged = owner
        .http
        .post(owner.url("/admin/tools/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(app.count("subscribers").await, 0);
}

async fn the_signup_form_page_shows_escaped_snippets_that_work(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    // A browser sends the real Origin with the admin forms (under `no-referrer` it would
    // send `Origin: null`, which the CSRF layer refuses).
    let response = owner.get("/admin/tools/form").await;
    assert_eq!(response.headers()["referrer-policy"], "same-origin");
    let page = owner.page("/admin/tools/form").await;
    let action = format!(
        "&lt;form method=&quot;post&quot; action=&quot;{}&quot;&gt;",
        app.url("/subscribe")
    );
    assert!(page.contains(&action), "{page}");
    for escaped in [
        "name=&quot;email&quot;",
        "name=&quot;name&quot;",
        "name=&quot;website&quot; tabindex=&quot;-1&quot;",
        "&lt;script&gt;",
        "&lt;p&gt;Yes, send me the newsletter by email.",
        "&quot;Content-Type&quot;: &quot;application/json&quot;",
    ] {
        assert!(page.contains(escaped), "{escaped} in {page}");
    }
    // The preview is the form itself, posting to this server.
    assert_contains(&page, "<form method=\"post\" action=\"/subscribe\">", "");
    assert!(
        !page.contains("<script>"),
        "no inline script on the admin page"
    );

    // What the snippet sends is what /subscribe takes, from a website of any origin.
    let answer = app
        .client
        .post(app.url("/subscribe"))
        .header("origin", "https://bakery.example")
        .form(&[
            ("email", "walk-in@example.com"),
            ("name", "Walk In"),
            ("website", ""),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    app.smtp.wait_for("walk-in@example.com", 1).await;
    let answer = app
        .client
        .post(app.url("/subscribe"))
        .header("origin", "https://bakery.example")
        .json(&serde_json::json!({ "email": "scripted@example.com", "name": "", "website": "" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    assert_eq!(answer.headers()["access-control-allow-origin"], "*");
    let body: serde_json::Value = answer.json().await.unwrap();
    assert!(body["message"].as_str().unwrap().starts_with("Thanks!"));
}

async fn the_repermission_page_asks_and_unsubscribes_after_confirming(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let token = app.api_token().await;
    confirmed_people(&app, &token, &["dora", "kim"]).await;
    // They joined long ago, and five campaigns since went unopened.
    app.move_back(
        "subscribers",
        &["created_at", "signed_up_at", "confirmed_at"],
        200,
    )
    .await;
    for week in 1..=5 {
        send_to_everyone(&app, &token, &format!("Week {week}"), "Fresh bread.").await;
    }
    let page = owner.page("/admin/tools/repermission").await;
    assert_eq!(count_in(&page, "dormant-count"), "2", "{page}");
    assert_contains(
        &page,
        "<span id=\"to-ask-count\">2</span> not asked yet",
        "",
    );
    assert!(page.contains("href=\"/admin/tools/repermission/ask\""));

    // The confirmation step names the number; only its POST asks.
    let confirm = owner.page("/admin/tools/repermission/ask").await;
    assert_contains(
        &confirm,
        "<strong id=\"confirm-count\">2</strong> dormant subscribers",
        "",
    );
    assert_eq!(app.count("permission_requests").await, 0);
    let asked = owner
        .post_form(
            "/admin/tools/repermission/ask",
            &[("answer_within_days", "10")],
        )
        .await;
    assert_eq!(asked.status(), 303);
    let back = asked.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(back, "/admin/tools/repermission?asked=2");
    let page = owner.page(&back).await;
    assert!(page.contains("Asked 2 dormant subscribers."), "{page}");
    assert_eq!(count_in(&page, "waiting-count"), "2");
    for who in ["dora", "kim"] {
        let address = format!("{who}@example.com");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !app
            .smtp
            .messages_to(&address)
            .iter()
            .any(|m| m.subject() == "Do you still want Corner Bakery News?")
        {
            assert!(Instant::now() < deadline, "{who} was never asked");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    let refused = owner
        .post_form(
            "/admin/tools/repermission/ask",
            &[("answer_within_days", "365")],
        )
        .await;
    assert_eq!(refused.status(), 422);

    // Before the time is up there is nobody to unsubscribe; eleven days later, both.
    let early = owner.page("/admin/tools/repermission/unsubscribe").await;
    assert!(early.contains("Nobody to unsubscribe"), "{early}");
    app.move_back("permission_requests", &["asked_at", "answer_by"], 11)
        .await;
    let page = owner.page("/admin/tools/repermission").await;
    assert_eq!(count_in(&page, "unanswered-count"), "2", "{page}");
    let confirm = owner.page("/admin/tools/repermission/unsubscribe").await;
    assert_contains(
        &confirm,
        "Unsubscribe <strong id=\"confirm-count\">2</strong> subscribers",
        "",
    );
    let done = owner
        .post_form("/admin/tools/repermission/unsubscribe", &[])
        .await;
    assert_eq!(done.status(), 303);
    let page = owner
        .page(done.headers()["location"].to_str().unwrap())
        .await;
    assert_contains(&page, "Unsubscribed 2 subscribers who did not answer.", "");
    assert_contains(&page, "<span id=\"unsubscribed-count\">2</span>", "");
    assert_eq!(
        by_email(&app, &token, "dora@example.com").await["status"],
        "unsubscribed"
    );
}

async fn the_settings_page_masks_secrets(backend: Backend) {
    let smtp = TestSmtp::start();
    let key_file = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dkim-rsa.pem");
    let app = spawn_app_with(
        backend,
        Options::default()
            .sending_to(&smtp)
            .env(
                "HUNDRED_SMTP_URL",
                &format!("smtp://shop:smtp-pass-4711@{}", smtp.address),
            )
            .env("HUNDRED_INBOUND_SECRET", "inbound-secret-0815")
            .env(
                "HUNDRED_SECRET_KEY",
                "secret-key-2d8f0c6e91b34a7f9e0d1c2b3a4f5e6d",
            )
            .env(
                "HUNDRED_IMAP_URL",
                "imap://shop:imap-pass-9876@127.0.0.1:9/INBOX?tls=none",
            )
            .env("HUNDRED_DKIM_DOMAIN", "bakery.example")
            .env("HUNDRED_DKIM_SELECTOR", "s1")
            .env("HUNDRED_DKIM_KEY_FILE", key_file),
    )
    .await;
    let owner = app.owner().await;
    let page = owner.page("/admin/settings").await;
    let key = std::fs::read_to_string(key_file).unwrap();
    let key_line = key.lines().nth(3).unwrap();
    for secret in [
        "smtp-pass-4711",
        "inbound-secret-0815",
        "secret-key-2d8f0c6e",
        "imap-pass-9876",
        "PRIVATE KEY",
        key_line,
    ] {
        assert!(
            !page.contains(secret),
            "{secret} shows on the settings page"
        );
    }
    assert!(
        page.contains(&format!("smtp://shop:***@{}", smtp.address)),
        "{page}"
    );
    assert!(page.contains("s1._domainkey.bakery.example"), "{page}");
    assert!(page.contains("set (hidden)"), "{page}");
    assert!(page.contains("Corner Bakery News"), "{page}");

    // This server offers no login: the test says so, and still shows no password.
    let answer = owner
        .post_form("/admin/settings/test-message", &[("to", OWNER_EMAIL)])
        .await;
    assert_eq!(answer.status(), 200);
    let page = answer.text().await.unwrap();
    assert!(page.contains("Not sent."), "{page}");
    assert_contains(
        &page,
        "Check the user name and password in HUNDRED_SMTP_URL",
        "",
    );
    assert!(!page.contains("smtp-pass-4711"));
}

async fn the_settings_page_sends_a_test_message_and_shows_refusals(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let page = owner.page("/admin/settings").await;
    assert!(
        page.contains(&format!("value=\"{OWNER_EMAIL}\"")),
        "the owner's address by default"
    );

    let answer = owner
        .post_form("/admin/settings/test-message", &[("to", OWNER_EMAIL)])
        .await;
    assert_eq!(answer.status(), 200);
    let page = answer.text().await.unwrap();
    assert!(
        page.contains("Sent.") && page.contains("accepted the message"),
        "{page}"
    );
    let mail = app.smtp.wait_for(OWNER_EMAIL, 1).await;
    assert_eq!(mail[0].subject(), "Test message from Corner Bakery News");
    assert!(
        mail[0].text().contains("test message"),
        "{}",
        mail[0].text()
    );
    assert!(mail[0].header("List-Unsubscribe").is_none());

    app.smtp.answer(
        "nobody@bakery.example",
        550,
        "5.1.1 <nobody@bakery.example> No such user",
        1,
    );
    let answer = owner
        .post_form(
            "/admin/settings/test-message",
            &[("to", "nobody@bakery.example")],
        )
        .await;
    let page = answer.text().await.unwrap();
    assert!(
        page.contains("Not sent.") && page.contains("refused"),
        "{page}"
    );
    assert_contains(
        &page,
        "&lt;nobody@bakery.example&gt; No such user",
        "the server's words, escaped",
    );

    let answer = owner
        .post_form(
            "/admin/settings/test-message",
            &[("to", "<b>not an address</b>")],
        )
        .await;
    assert_eq!(answer.status(), 422);
    let page = answer.text().await.unwrap();
    assert!(!page.contains("<b>not an address</b>"));
    assert!(
        page.contains("value=\"&lt;b&gt;not an address&lt;&#x2F;b&gt;\"")
            || page.contains("value=\"&lt;b&gt;not an address&lt;/b&gt;\""),
        "{page}"
    );

    // A mail server that cannot be reached is named, not a crash. (On a loopback address no
    // test listens on: a port freed on 127.0.0.1 could be taken by a test running beside.)
    let port = free_port().port();
    let closed = std::net::SocketAddr::from(([127, 0, 0, 254], port));
    let unreachable = spawn_app_with(
        backend,
        Options {
            smtp_address: Some(closed),
            ..Options::default()
        },
    )
    .await;
    let owner = unreachable.owner().await;
    let answer = owner
        .post_form("/admin/settings/test-message", &[("to", OWNER_EMAIL)])
        .await;
    assert_eq!(answer.status(), 200);
    let page = answer.text().await.unwrap();
    assert!(
        page.contains("Not sent.") && page.contains("could not be sent"),
        "{page}"
    );
    assert!(page.contains(&closed.to_string()), "{page}");
    assert!(page.contains("Check the host and port"), "{page}");
}

async fn hundred_import_and_export_on_the_command_line(backend: Backend) {
    let (database_url, _dir) = fresh_database(backend).await;
    let work = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        crate::process::hundred()
            .current_dir(work.path())
            .env("HUNDRED_DATABASE_URL", &database_url)
            .env("RUST_LOG", "warn")
            .args(args)
            .output()
            .expect("run hundred")
    };
    let people = work.path().join("people.csv");
    std::fs::write(
        &people,
        "email,name,city\r\nann@example.com,Ann,Leeds\r\nbob@example.com,\"Bob, Jr\",\r\nANN@example.com,Ann,\r\nbroken,Nobody,\r\n",
    )
    .unwrap();
    let out = run(&[
        "import",
        people.to_str().unwrap(),
        "--basis",
        "paper form at the market stall",
        "--basis-kind",
        "in_person",
        "--confirmed",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "a rejected row fails the command: {stdout}{stderr}"
    );
    assert_contains(&stdout, "  2 added, as confirmed subscribers", "");
    assert_contains(&stdout, "1 repeated in the file: counted once", "");
    assert!(
        stdout.contains("line 5") && stdout.contains("invalid address"),
        "{stdout}"
    );
    assert!(stderr.contains("rejected rows: 1"), "{stderr}");

    let out = run(&["export"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.starts_with("email,name,status,tier,score,"), "{csv}");
    assert_contains(&csv, "ann@example.com,Ann,confirmed,new,0.0,", "");
    assert_contains(&csv, "bob@example.com,\"Bob, Jr\",confirmed,", "");
    assert!(csv.contains("\"{\"\"city\"\":\"\"Leeds\"\"}\""), "{csv}");

    // The export reads back: everyone is already on the list.
    let exported = work.path().join("export.csv");
    std::fs::write(&exported, &csv).unwrap();
    let out = run(&[
        "import",
        exported.to_str().unwrap(),
        "--basis",
        "our own export",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("  0 added") && stdout.contains("2 already on the list"),
        "{stdout}"
    );
    assert_contains(
        &stdout,
        "were not imported",
        "the computed columns are named",
    );

    let out = run(&["import", people.to_str().unwrap()]);
    assert!(!out.status.success(), "--basis is required");
}
