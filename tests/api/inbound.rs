//! Mail that comes back, through `POST /inbound/mime`: replies matched by In-Reply-To or by
//! the reply token alone, the same reply twice stored once, an automatic reply that is not
//! interest, a hard bounce and a complaint that stop all mail, and mail nobody can place.

use crate::fixtures::{
    REPLY_TO, SECRET, bare_address, confirmed_email, confirmed_people, free_port, post_mail,
    receive, send_to_everyone, smtp_session, with_inbound,
};
use crate::helpers::{Backend, Options, TestApp, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    replies_bounces_and_complaints_reach_the_right_subscriber,
    the_webhook_wants_its_secret_and_real_mail,
    every_corpus_message_ends_in_its_labelled_state,
    a_reply_through_the_smtp_listener_is_matched_by_its_token
);

async fn app_with_inbound(backend: Backend) -> TestApp {
    spawn_app_with(backend, with_inbound(Options::default())).await
}

/// The text stored for the inbound message with this Message-ID.
async fn stored_text(app: &TestApp, message_id: &str) -> String {
    let sql = "SELECT text FROM inbound_messages WHERE message_id = $1";
    crate::with_pool!(&app.database_url, |pool| {
        sqlx::query_scalar(sql)
            .bind(message_id)
            .fetch_one(&pool)
            .await
            .unwrap()
    })
}

async fn status_of(app: &TestApp, token: &str, id: &str) -> String {
    app.api_get(&format!("/subscribers/{id}"), token).await["status"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn replies_bounces_and_complaints_reach_the_right_subscriber(backend: Backend) {
    let app = app_with_inbound(backend).await;
    let token = app.api_token().await;
    let ids = confirmed_people(&app, &token, &["ann", "bob", "cat", "dan", "eve"]).await;
    let campaign_id =
        &send_to_everyone(&app, &token, "Saturday market", "Fresh bread on Saturday.").await;
    let copy = |who: &str| {
        app.smtp
            .messages_to(&format!("{who}@example.com"))
            .remove(0)
    };
    let message_id = |who: &str| copy(who).header("Message-ID").unwrap();

    // A reply that quotes the newsletter, sent twice by a nervous mail client.
    let ann_reply = format!(
        "From: Ann <ann@example.com>
To: Bakery <replies@bakery.example>
Subject: Re: Saturday market
Message-ID: <reply-1@example.com>
In-Reply-To: {}
Date: Thu, 26 Nov 2026 09:00:00 +0000
Content-Type: text/plain; charset=utf-8

Lovely, I will come by on Saturday!

On Wed, 25 Nov 2026 at 10:00, Bakery <news@bakery.example> wrote:
> Fresh bread on Saturday.
",
        message_id("ann")
    );
    let first = receive(&app, &ann_reply).await;
    assert_eq!(first["kind"], "reply", "{first}");
    assert_eq!(first["matched_by"], "In-Reply-To", "{first}");
    assert_eq!(first["subscriber_id"], ids["ann"].as_str());
    assert_eq!(first["campaign_id"], campaign_id.as_str());
    assert_eq!(first["duplicate"], false);
    let again = receive(&app, &ann_reply).await;
    assert_eq!(again["duplicate"], true, "the same Message-ID is one reply");
    let stored = stored_text(&app, "<reply-1@example.com>").await;
    assert_eq!(
        stored, "Lovely, I will come by on Saturday!",
        "the quote is trimmed"
    );
    // Ann's story: consent, the copy delivered, her reply with its text.
    let ann = app
        .api_get(&format!("/subscribers/{}", ids["ann"]), &token)
        .await;
    let timeline = ann["timeline"].as_array().unwrap();
    let kinds: Vec<&str> = timeline
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    let delivered = kinds.iter().position(|k| *k == "delivered").unwrap();
    let replied = kinds.iter().position(|k| *k == "reply").unwrap();
    assert!(delivered < replied, "{kinds:?}");
    assert_eq!(timeline[delivered]["subject"], "Saturday market");
    assert_eq!(
        timeline[replied]["text"],
        "Lovely, I will come by on Saturday!"
    );

    // A reply from another address, matched by the token in the reply address alone.
    let eve_reply_to = copy("eve").header("Reply-To").unwrap();
    let eve_address = bare_address(&eve_reply_to);
    assert!(eve_address.starts_with("replies+"), "{eve_address}");
    let eve = receive(
        &app,
        &format!(
            "From: Eve at work <eve.smith@work.example>
To: {eve_address}
Subject: Re: Saturday market
Message-ID: <reply-2@work.example>
Content-Type: text/plain

Can I order a rye loaf?
"
        ),
    )
    .await;
    assert_eq!(eve["kind"], "reply", "{eve}");
    assert_eq!(eve["matched_by"], "reply token", "{eve}");
    assert_eq!(eve["subscriber_id"], ids["eve"].as_str());

    // An out-of-office answer: recorded, never interest.
    let dan = receive(
        &app,
        &format!(
            "From: dan@example.com
To: Bakery <replies@bakery.example>
Subject: Automatic reply: Saturday market
Auto-Submitted: auto-replied
Message-ID: <ooo-1@example.com>
In-Reply-To: {}
Content-Type: text/plain

I am out of the office until Monday.
",
            message_id("dan")
        ),
    )
    .await;
    assert_eq!(dan["kind"], "auto_reply", "{dan}");
    assert_eq!(dan["subscriber_id"], ids["dan"].as_str());

    // A hard bounce (RFC 3464) for Bob: he is never mailed again.
    let bob = receive(
        &app,
        &format!(
            "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: bounces@bakery.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-1@mx.example.com>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"

--b1
Content-Type: text/plain

Your message could not be delivered to bob@example.com: no such user.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; bob@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <bob@example.com>: Recipient address rejected: User unknown

--b1
Content-Type: text/rfc822-headers

From: Bakery <news@bakery.example>
To: bob@example.com
Subject: Saturday market
Message-ID: {}

--b1--
",
            message_id("bob")
        ),
    )
    .await;
    assert_eq!(bob["kind"], "hard_bounce", "{bob}");
    assert_eq!(bob["matched_by"], "returned Message-ID", "{bob}");
    assert_eq!(bob["suppressed"], "bounced");
    assert_eq!(status_of(&app, &token, &ids["bob"]).await, "bounced");

    // A spam complaint (ARF) for Cat.
    let cat = receive(
        &app,
        &format!(
            "From: feedback@isp.example
To: abuse@bakery.example
Subject: Abuse report
Message-ID: <arf-1@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary=\"b2\"

--b2
Content-Type: text/plain

This is an email abuse report.

--b2
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ISP-FBL/1.0
Version: 1
Original-Rcpt-To: cat@example.com

--b2
Content-Type: message/rfc822

From: Bakery <news@bakery.example>
To: cat@example.com
Subject: Saturday market
Message-ID: {}

Fresh bread on Saturday.
--b2--
",
            message_id("cat")
        ),
    )
    .await;
    assert_eq!(cat["kind"], "complaint", "{cat}");
    assert_eq!(cat["suppressed"], "complained");
    assert_eq!(status_of(&app, &token, &ids["cat"]).await, "complained");

    // Mail nobody can place is kept, unmatched.
    let stranger = receive(
        &app,
        "From: someone@elsewhere.example
To: Bakery <replies@bakery.example>
Subject: Hello
Message-ID: <stranger-1@elsewhere.example>
Content-Type: text/plain

Do you deliver?
",
    )
    .await;
    assert_eq!(stranger["kind"], "reply");
    assert!(stranger["matched_by"].is_null(), "{stranger}");
    assert_eq!(app.count("inbound_messages").await, 6);

    let report = app
        .api_get(&format!("/campaigns/{campaign_id}"), &token)
        .await;
    let engagement = &report["engagement"];
    assert_eq!(engagement["replies"], 2, "{engagement}");
    assert_eq!(engagement["auto_replies"], 1, "{engagement}");
    assert_eq!(engagement["hard_bounces"], 1, "{engagement}");
    assert_eq!(engagement["complaints"], 1, "{engagement}");

    // The next campaign skips the bounced and the complaining.
    let next_id = send_to_everyone(&app, &token, "Next week", "Cakes.").await;
    let done = app.api_get(&format!("/campaigns/{next_id}"), &token).await;
    assert_eq!(done["deliveries"]["sent"], 3, "{done}");
    for who in ["bob", "cat"] {
        assert!(
            app.smtp
                .messages_to(&format!("{who}@example.com"))
                .iter()
                .all(|m| m.subject() != "Next week"),
            "{who} is not mailed again"
        );
    }
}

async fn the_webhook_wants_its_secret_and_real_mail(backend: Backend) {
    let app = app_with_inbound(backend).await;
    let mail = "From: a@example.com\nSubject: hi\nMessage-ID: <x@example.com>\n\nhello\n";
    for secret in ["", "wrong-secret"] {
        let refused = post_mail(&app, mail, secret).await;
        assert_eq!(refused.status(), 401, "secret {secret:?}");
    }
    let unsigned = app
        .client
        .post(app.url("/inbound/mime"))
        .body(mail)
        .send()
        .await
        .unwrap();
    assert_eq!(unsigned.status(), 401);
    assert_eq!(app.count("inbound_messages").await, 0);
    for junk in ["", "\u{0}\u{1}\u{2} not mail at all"] {
        let refused = post_mail(&app, junk, SECRET).await;
        assert_eq!(refused.status(), 422, "{junk:?}");
    }
    // Larger than a form may be, smaller than the 10 MB a message may be.
    let big = format!(
        "From: a@example.com\nSubject: big\nMessage-ID: <big@example.com>\n\n{}\n",
        "A long letter. ".repeat(100_000)
    );
    let taken = post_mail(&app, &big, SECRET).await;
    assert_eq!(taken.status(), 200);
    let too_big = format!("From: a@example.com\n\n{}", "x".repeat(11 * 1024 * 1024));
    assert_eq!(status_of_early_answer(&app, too_big.as_bytes()).await, 413);
}

/// Posts `body` to the webhook over a plain connection, reading the answer while it is
/// still being written: a server refuses an oversized message before taking all of it and
/// may close the connection on the rest, which a careful mail relay (or curl) reads
/// anyway. The status of the answer.
async fn status_of_early_answer(app: &TestApp, body: &[u8]) -> u16 {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let address = app.address.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST /inbound/mime HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {SECRET}\r\n\
         Content-Type: message/rfc822\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let body = body.to_vec();
    let writing = tokio::spawn(async move {
        // The server may stop reading once it has refused: the rest cannot be written.
        let _ = writer.write_all(head.as_bytes()).await;
        let _ = writer.write_all(&body).await;
    });
    let mut answer = Vec::new();
    let mut chunk = [0u8; 1024];
    while !answer.windows(2).any(|w| w == b"\r\n") {
        match reader.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&chunk[..n]),
        }
    }
    writing.abort();
    let status_line = String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in the answer: {status_line:?}"))
}

/// Every labelled real-world message of `tests/corpus/inbound`, posted to the webhook with
/// a confirmed subscriber at its labelled recipient: a hard bounce or a complaint waits for
/// the owner's review (only the address ties it), and once applied leaves them bounced or
/// complained; one soft bounce leaves them confirmed; automatic replies and replies are
/// read as such.
async fn every_corpus_message_ends_in_its_labelled_state(backend: Backend) {
    let app = app_with_inbound(backend).await;
    let token = app.api_token().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus/inbound");
    let labels = std::fs::read_to_string(dir.join("labels.tsv")).unwrap();
    let mut wrong = Vec::new();
    let mut subscribers: std::collections::HashMap<String, String> =
        std::collections::HashMap::new();
    let mut worst: std::collections::HashMap<String, u8> = std::collections::HashMap::new();
    for line in labels.lines().skip(1) {
        let columns: Vec<&str> = line.split('\t').collect();
        let (file, label, recipient) = (columns[0], columns[1], columns[2]);
        // Some addresses appear in several samples: one subscriber each, whose status can
        // only get worse (a complaint outranks a bounce, which outranks nothing).
        let subscriber = if recipient == "-" {
            None
        } else if let Some(id) = subscribers.get(recipient) {
            Some(id.clone())
        } else {
            let response = app
                .api_json(reqwest::Method::POST, "/subscribers", &token, &serde_json::json!({ "email": recipient, "status": "confirmed", "consent": "test" }))
        .await;
            assert_eq!(response.status(), 201, "{file}: {recipient}");
            let json: serde_json::Value = response.json().await.unwrap();
            let id = json["id"].as_str().unwrap().to_string();
            subscribers.insert(recipient.to_string(), id.clone());
            Some(id)
        };
        let raw = std::fs::read(dir.join(file)).unwrap();
        let response = app
            .client
            .post(app.url("/inbound/mime"))
            .bearer_auth(SECRET)
            .body(raw)
            .send()
            .await
            .unwrap();
        if response.status() != 200 {
            wrong.push(format!("{file}: HTTP {}", response.status()));
            continue;
        }
        let received: serde_json::Value = response.json().await.unwrap();
        let expected_kind = match label {
            "bounce-hard" => "hard_bounce",
            "bounce-soft" => "soft_bounce",
            "complaint" => "complaint",
            "auto-reply" => "auto_reply",
            _ => "reply",
        };
        if received["kind"] != expected_kind {
            wrong.push(format!(
                "{file}: read as {}, labelled {label}",
                received["kind"]
            ));
        }
        // The corpus is other people's mail: nothing of ours ties it to the subscriber, so a
        // hard bounce or complaint waits for the owner, who applies it here.
        if let Some(id) = &subscriber
            && received["review"] == "pending"
        {
            let before = ["confirmed", "bounced", "complained"]
                [usize::from(worst.get(recipient).copied().unwrap_or(0))];
            assert_eq!(
                status_of(&app, &token, id).await,
                before,
                "{file}: nothing changes before the owner's review"
            );
            let number = received["id"].as_i64().unwrap();
            let applied = app
                .api_post(&format!("/inbound/{number}/apply"), &token)
                .await;
            assert_eq!(applied.status(), 200, "{file}");
        }
        if let Some(id) = subscriber {
            let rank = match label {
                "complaint" => 2,
                "bounce-hard" => 1,
                _ => 0,
            };
            let seen = worst.entry(recipient.to_string()).or_insert(0);
            *seen = (*seen).max(rank);
            let expected_status = ["confirmed", "bounced", "complained"][usize::from(*seen)];
            let status = status_of(&app, &token, &id).await;
            if status != expected_status {
                wrong.push(format!(
                    "{file}: {recipient} is {status}, should be {expected_status} (matched by {})",
                    received["matched_by"]
                ));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

async fn a_reply_through_the_smtp_listener_is_matched_by_its_token(backend: Backend) {
    let port = free_port();
    let app = spawn_app_with(
        backend,
        Options::default()
            .env("HUNDRED_REPLY_TO", REPLY_TO)
            .env("HUNDRED_INBOUND_SMTP_LISTEN", &port.to_string()),
    )
    .await;
    let token = app.api_token().await;
    confirmed_email(&app, &token, "fay@example.com").await;
    let id = send_to_everyone(&app, &token, "Saturday market", "Fresh bread.").await;
    let reply_to = app.smtp.messages_to("fay@example.com")[0]
        .header("Reply-To")
        .unwrap();
    let tagged = bare_address(&reply_to);

    // Fay answers from her phone, from another address, with no In-Reply-To: the token in
    // the address she wrote to is all there is.
    let message = format!(
        "From: Fay <fay.phone@mobile.example>\r\nTo: {tagged}\r\nSubject: Re: Saturday market\r\n\
         Message-ID: <smtp-reply-1@mobile.example>\r\n\r\nSave me a sourdough, please!\r\n."
    );
    let lines = vec![
        "EHLO mobile.example".to_string(),
        "MAIL FROM:<fay.phone@mobile.example>".to_string(),
        "RCPT TO:<relay-me@elsewhere.example>".to_string(),
        format!("RCPT TO:<{tagged}>"),
        "DATA".to_string(),
        message,
        "QUIT".to_string(),
    ];
    let replies = tokio::task::spawn_blocking(move || smtp_session(port, &lines))
        .await
        .unwrap();
    assert!(replies[2].starts_with("550"), "no relaying: {}", replies[2]);
    assert!(replies[3].starts_with("250"), "{}", replies[3]);
    assert!(
        replies[5].starts_with("250"),
        "stored, then accepted: {}",
        replies[5]
    );

    let stored = stored_text(&app, "<smtp-reply-1@mobile.example>").await;
    assert_eq!(stored, "Save me a sourdough, please!");
    let report = app.api_get(&format!("/campaigns/{id}"), &token).await;
    assert_eq!(
        report["engagement"]["replies"], 1,
        "{}",
        report["engagement"]
    );
}
