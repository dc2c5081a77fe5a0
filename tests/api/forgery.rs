//! What an outsider can do by writing to the list's address, through each door inbound mail
//! comes in by (the webhook, the built-in SMTP listener, IMAP): a bounce and a complaint
//! naming a subscriber's address and a reply "from" them, with no token and none of our
//! Message-IDs, change nothing. The bounce and the complaint wait for the owner ("Needs
//! review"), who applies or dismisses them and can lift a bounce that was wrong; the reply
//! is kept as unverified, counts for nothing, and counts once the owner marks it genuine or
//! the owner's own mail server vouches for its sender. A notice naming several recipients
//! speaks for each of them.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::fixtures::{
    assert_contains, confirmed_email, confirmed_named, free_port, post_mail, receive,
    send_to_everyone, smtp_session, with_inbound,
};
use crate::helpers::{Backend, Options, TestApp, spawn_app_with, text_of};
use crate::imap::{Dovecot, imap_url};
use crate::on_both_databases;

on_both_databases!(
    forged_mail_through_the_webhook_changes_nothing,
    forged_mail_through_the_smtp_listener_changes_nothing,
    a_bounce_to_our_verp_address_through_the_smtp_listener_is_ours,
    forged_mail_through_imap_changes_nothing,
    the_owner_applies_dismisses_and_lifts,
    a_trusted_server_vouches_for_a_reply_and_nobody_else_can,
    a_notice_naming_several_recipients_speaks_for_each,
    the_owner_reviews_and_vouches_in_the_web_app,
);

const TRUSTED: &str = "mx.bakery.example";

static FORGED: AtomicUsize = AtomicUsize::new(0);

fn unique() -> usize {
    FORGED.fetch_add(1, Ordering::Relaxed)
}

/// A plain bounce notice an attacker writes: `X-Failed-Recipients` and a 5.1.1 in words.
fn forged_bounce(victim: &str) -> String {
    format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.attacker.example>
To: replies@bakery.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <forged-bounce-{}@attacker.example>
X-Failed-Recipients: {victim}
Content-Type: text/plain

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its recipients.

  {victim}
    550 5.1.1 User unknown
",
        unique()
    )
}

/// A plain-text feedback report naming the victim.
fn forged_complaint(victim: &str) -> String {
    format!(
        "From: abuse@isp.attacker.example
To: replies@bakery.example
Subject: Abuse report
Message-ID: <forged-arf-{}@attacker.example>
Content-Type: text/plain

Feedback-Type: abuse
User-Agent: FBL/1.0
Version: 1
Original-Rcpt-To: {victim}
",
        unique()
    )
}

/// A reply "from" the victim, answering nothing we sent.
fn forged_reply(from: &str, extra_headers: &str) -> String {
    format!(
        "{extra_headers}From: Fan <{from}>
To: replies@bakery.example
Subject: Best newsletter ever
Message-ID: <forged-reply-{}@attacker.example>
Content-Type: text/plain

I read every word. Please count me as your biggest fan!
",
        unique()
    )
}

async fn app_with(backend: Backend, options: Options) -> TestApp {
    spawn_app_with(backend, with_inbound(options)).await
}

/// The three forgeries: a bounce, a complaint and a reply, each naming `victim`.
fn forgeries(victim: &str) -> [String; 3] {
    [
        forged_bounce(victim),
        forged_complaint(victim),
        forged_reply(victim, ""),
    ]
}

/// An app taking inbound mail (through the doors `options` open), its API token, and the
/// id of a confirmed subscriber, victim@example.com.
async fn victim_on(backend: Backend, options: Options) -> (TestApp, String, String) {
    let app = app_with(backend, options).await;
    let token = app.api_token().await;
    let victim = confirmed_email(&app, &token, "victim@example.com").await;
    (app, token, victim)
}

async fn subscriber(app: &TestApp, token: &str, id: &str) -> serde_json::Value {
    app.api_get(&format!("/subscribers/{id}"), token).await
}

/// The victim is as before the attack: confirmed, no score, no reply counted; the reply is
/// in their timeline as unverified, and the bounce and complaint wait for review.
async fn nothing_changed(app: &TestApp, token: &str, victim: &str, victim_email: &str) {
    let person = subscriber(app, token, victim).await;
    assert_eq!(person["status"], "confirmed", "{person}");
    assert_eq!(person["score"].as_f64(), Some(0.0), "{person}");
    assert_ne!(person["tier"], "core", "{person}");
    let reasons = person["reasons"].to_string();
    assert!(!reasons.contains("replied"), "{reasons}");
    let timeline = person["timeline"].as_array().unwrap();
    let reply = timeline
        .iter()
        .find(|e| e["kind"] == "reply")
        .expect("the forged reply is kept in the timeline");
    assert_eq!(reply["verdict"], "unverified", "{reply}");
    for kind in ["hard_bounce", "complaint"] {
        let entry = timeline
            .iter()
            .find(|e| e["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} in {timeline:?}"));
        assert_eq!(entry["verdict"], "pending", "{entry}");
    }

    let waiting = app.api_get("/inbound?review=1", token).await;
    assert_eq!(waiting["waiting_for_review"], 2, "{waiting}");
    let messages = waiting["messages"].as_array().unwrap();
    let mut kinds: Vec<&str> = messages
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(kinds, ["complaint", "hard_bounce"]);
    for message in messages {
        assert_eq!(message["email"], victim_email, "{message}");
        assert_eq!(message["review"], "pending", "{message}");
        assert!(message["proof"].is_null(), "{message}");
    }
    let all = app.api_get("/inbound", token).await;
    let reply = all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["kind"] == "reply")
        .expect("the reply is listed");
    assert!(reply["proof"].is_null(), "{reply}");
    assert_eq!(reply["matched_by"], "From address", "{reply}");

    // The next campaign still reaches them.
    let campaign = app
        .create_campaign(
            token,
            serde_json::json!({ "subject": "Still here", "body": "Rye on Tuesday." }),
        )
        .await;
    let id = campaign["id"].as_str().unwrap();
    app.send_campaign_now(token, id).await;
    app.wait_for_campaign(token, id, "sent").await;
    let copies = app.smtp.wait_for(victim_email, 1).await;
    assert!(copies.iter().any(|m| m.subject() == "Still here"));
}

async fn forged_mail_through_the_webhook_changes_nothing(backend: Backend) {
    let (app, token, victim) = victim_on(backend, Options::default()).await;

    let bounce = receive(&app, &forged_bounce("victim@example.com")).await;
    assert_eq!(bounce["kind"], "hard_bounce", "{bounce}");
    assert_eq!(bounce["matched_by"], "recipient address", "{bounce}");
    assert!(bounce["suppressed"].is_null(), "{bounce}");
    assert!(bounce["proof"].is_null(), "{bounce}");
    assert_eq!(bounce["review"], "pending", "{bounce}");

    let complaint = receive(&app, &forged_complaint("victim@example.com")).await;
    assert_eq!(complaint["kind"], "complaint", "{complaint}");
    assert!(complaint["suppressed"].is_null(), "{complaint}");
    assert_eq!(complaint["review"], "pending", "{complaint}");

    let reply = receive(&app, &forged_reply("victim@example.com", "")).await;
    assert_eq!(reply["kind"], "reply", "{reply}");
    assert_eq!(reply["matched_by"], "From address", "{reply}");
    assert_eq!(reply["subscriber_id"], victim.as_str());
    assert!(reply["proof"].is_null(), "{reply}");
    assert!(reply["review"].is_null(), "{reply}");

    nothing_changed(&app, &token, &victim, "victim@example.com").await;
}

/// Sends one message through the SMTP listener, from the null sender (as bounces come) to
/// the list's reply address; the reply to its data.
async fn through_smtp(listener: SocketAddr, raw: &str) -> String {
    through_smtp_to(listener, "replies@bakery.example", raw).await
}

async fn through_smtp_to(listener: SocketAddr, to: &str, raw: &str) -> String {
    let data = format!("{}\r\n.", raw.replace('\n', "\r\n").trim_end());
    let lines = vec![
        "EHLO mx.example".to_string(),
        "MAIL FROM:<>".to_string(),
        format!("RCPT TO:<{to}>"),
        "DATA".to_string(),
        data,
        "QUIT".to_string(),
    ];
    let replies = tokio::task::spawn_blocking(move || smtp_session(listener, &lines))
        .await
        .unwrap();
    assert!(
        replies[1].starts_with("250") && replies[2].starts_with("250"),
        "{replies:?}"
    );
    replies[replies.len() - 2].clone()
}

async fn forged_mail_through_the_smtp_listener_changes_nothing(backend: Backend) {
    let listener = free_port();
    let (app, token, victim) = victim_on(
        backend,
        Options::default().env("HUNDRED_INBOUND_SMTP_LISTEN", &listener.to_string()),
    )
    .await;
    for raw in forgeries("victim@example.com") {
        let answer = through_smtp(listener, &raw).await;
        assert!(answer.starts_with("250"), "stored: {answer}");
    }
    assert_eq!(app.count("inbound_messages").await, 3);
    nothing_changed(&app, &token, &victim, "victim@example.com").await;
}

/// A mail server returning a copy to the VERP address we sent it from, with a notice whose
/// headers name nothing of ours: the token in the envelope's recipient ties it to the copy.
async fn a_bounce_to_our_verp_address_through_the_smtp_listener_is_ours(backend: Backend) {
    let listener = free_port();
    let (app, token, victim) = victim_on(
        backend,
        Options::default()
            .env("HUNDRED_INBOUND_SMTP_LISTEN", &listener.to_string())
            .env("HUNDRED_BOUNCE_ADDRESS", "bounces@bakery.example"),
    )
    .await;
    send_to_everyone(&app, &token, "Saturday market", "Fresh bread.").await;
    let copy = app.smtp.wait_for("victim@example.com", 1).await.remove(0);
    let verp = copy.mail_from.trim_matches(['<', '>']).to_string();
    assert!(verp.starts_with("bounces+"), "{verp}");
    let notice = forged_bounce("victim@example.com")
        .replace("To: replies@bakery.example", "To: undisclosed-recipients:;");
    let answer = through_smtp_to(listener, &verp, &notice).await;
    assert!(answer.starts_with("250"), "{answer}");
    let person = subscriber(&app, &token, &victim).await;
    assert_eq!(person["status"], "bounced", "{person}");
    let inbound = app.api_get("/inbound", &token).await;
    let bounce = &inbound["messages"][0];
    assert_eq!(bounce["matched_by"], "bounce token", "{bounce}");
    assert_eq!(bounce["proof"], "token", "{bounce}");
}

async fn forged_mail_through_imap_changes_nothing(backend: Backend) {
    let dovecot = Dovecot::start();
    let (app, token, victim) = victim_on(
        backend,
        Options::default()
            .env("HUNDRED_IMAP_URL", &imap_url(&dovecot))
            .env("HUNDRED_IMAP_POLL_SECONDS", "1"),
    )
    .await;
    for raw in forgeries("victim@example.com") {
        dovecot.append(&raw).await;
    }
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.count("inbound_messages").await < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "the poller stores the three messages"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    nothing_changed(&app, &token, &victim, "victim@example.com").await;
}

async fn post_json(
    app: &TestApp,
    token: &str,
    path: &str,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    let response = app
        .api_json(reqwest::Method::POST, path, token, &body)
        .await;
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn the_owner_applies_dismisses_and_lifts(backend: Backend) {
    let app = app_with(backend, Options::default()).await;
    let token = app.api_token().await;
    let ann = confirmed_email(&app, &token, "ann@example.com").await;
    let bob = confirmed_email(&app, &token, "bob@example.com").await;

    let bounce = receive(&app, &forged_bounce("ann@example.com")).await;
    let complaint = receive(&app, &forged_complaint("bob@example.com")).await;
    let (bounce_id, complaint_id) = (
        bounce["id"].as_i64().unwrap(),
        complaint["id"].as_i64().unwrap(),
    );

    // Dismissed: nothing changes, and it leaves the review list.
    let dismissed = app
        .api_post(&format!("/inbound/{complaint_id}/dismiss"), &token)
        .await;
    assert_eq!(dismissed.status(), 200);
    assert_eq!(subscriber(&app, &token, &bob).await["status"], "confirmed");
    // Decided once: a second decision is refused, and says why.
    let again = app
        .api_post(&format!("/inbound/{complaint_id}/apply"), &token)
        .await;
    assert_eq!(again.status(), 409);
    let why: serde_json::Value = again.json().await.unwrap();
    assert!(
        why["error"].as_str().unwrap().contains("not waiting"),
        "{why}"
    );
    for bad in ["0", "-1", "abc", "99999999"] {
        let missing = app.api_post(&format!("/inbound/{bad}/apply"), &token).await;
        assert_eq!(missing.status(), 404, "{bad}");
    }

    // Applied: Ann's address bounced after all; the consent history says the owner did it.
    let applied = app
        .api_post(&format!("/inbound/{bounce_id}/apply"), &token)
        .await;
    assert_eq!(applied.status(), 200);
    let applied: serde_json::Value = applied.json().await.unwrap();
    assert_eq!(applied["suppressed"], "bounced", "{applied}");
    let person = subscriber(&app, &token, &ann).await;
    assert_eq!(person["status"], "bounced");
    assert!(
        person["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "bounced"
                && e["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("applied by the owner")),
        "{person}"
    );
    let waiting = app.api_get("/inbound?review=1", &token).await;
    assert_eq!(waiting["waiting_for_review"], 0, "{waiting}");

    // The bounce was wrong after all: lifted with a reason, she is confirmed again.
    let (status, body) = post_json(
        &app,
        &token,
        &format!("/subscribers/{ann}/lift-bounce"),
        serde_json::json!({}),
    )
    .await;
    assert_eq!(status, 422, "a reason is required: {body}");
    assert_eq!(body["field"], "reason", "{body}");
    for reason in ["two\nlines", &"x".repeat(501)] {
        let (status, _) = post_json(
            &app,
            &token,
            &format!("/subscribers/{ann}/lift-bounce"),
            serde_json::json!({ "reason": reason }),
        )
        .await;
        assert_eq!(status, 422);
    }
    let (status, body) = post_json(
        &app,
        &token,
        &format!("/subscribers/{ann}/lift-bounce"),
        serde_json::json!({ "reason": "She wrote that her mailbox works again" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let person = subscriber(&app, &token, &ann).await;
    assert_eq!(person["status"], "confirmed");
    let lifted = person["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "bounce_lifted")
        .cloned()
        .expect("the lift is in the consent history");
    let why = lifted["reason"].as_str().unwrap();
    assert!(
        why.contains("API token") && why.contains("mailbox works again"),
        "{why}"
    );
    // Nothing to lift twice.
    let (status, _) = post_json(
        &app,
        &token,
        &format!("/subscribers/{ann}/lift-bounce"),
        serde_json::json!({ "reason": "again" }),
    )
    .await;
    assert_eq!(status, 409);

    // A complaint tied to a copy we sent stops mail at once, and the owner cannot lift it.
    send_to_everyone(&app, &token, "Saturday market", "Fresh bread.").await;
    let copy = app.smtp.wait_for("bob@example.com", 1).await.remove(0);
    let real_complaint = format!(
        "From: feedback@isp.example
To: abuse@bakery.example
Subject: Abuse report
Message-ID: <real-arf@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary=\"b\"

--b
Content-Type: message/feedback-report

Feedback-Type: abuse
Version: 1
Original-Rcpt-To: bob@example.com

--b
Content-Type: message/rfc822

From: Bakery <news@bakery.example>
To: bob@example.com
Subject: Saturday market
Message-ID: {}

Fresh bread.
--b--
",
        copy.header("Message-ID").unwrap()
    );
    let real = receive(&app, &real_complaint).await;
    assert_eq!(real["suppressed"], "complained", "{real}");
    assert_eq!(real["proof"], "message-id", "{real}");
    let (status, body) = post_json(
        &app,
        &token,
        &format!("/subscribers/{bob}/lift-bounce"),
        serde_json::json!({ "reason": "I think it was a mistake" }),
    )
    .await;
    assert_eq!(status, 409);
    assert!(
        body["error"].as_str().unwrap().contains("only the person"),
        "{body}"
    );
    assert_eq!(subscriber(&app, &token, &bob).await["status"], "complained");

    // Bob himself signs up again and presses the button in the confirmation: he is back.
    let before = app.smtp.messages_to("bob@example.com").len();
    let signup = app
        .post_subscribe_json(&serde_json::json!({ "email": "bob@example.com" }))
        .await;
    assert_eq!(signup.status(), 200);
    let mail = app.smtp.wait_for("bob@example.com", before + 1).await;
    let link = mail
        .iter()
        .find_map(|m| m.link_starting_with(&app.url("/confirm/")))
        .expect("a confirmation reaches him");
    assert_eq!(
        subscriber(&app, &token, &bob).await["status"],
        "pending",
        "nothing is sent to him but the confirmation until he confirms"
    );
    assert_eq!(app.post_empty(&link).await.status(), 200);
    assert_eq!(subscriber(&app, &token, &bob).await["status"], "confirmed");
}

async fn a_trusted_server_vouches_for_a_reply_and_nobody_else_can(backend: Backend) {
    let app = app_with(
        backend,
        Options::default().env("HUNDRED_TRUSTED_AUTHSERV_ID", TRUSTED),
    )
    .await;
    let token = app.api_token().await;
    let fan = confirmed_email(&app, &token, "fan@example.com").await;
    let other = confirmed_email(&app, &token, "other@example.com").await;

    // Written by the attacker: another server's id, or a pass for another domain.
    for headers in [
        "Authentication-Results: mx.attacker.example; dkim=pass header.d=example.com; dmarc=pass header.from=example.com\n",
        "Authentication-Results: mx.bakery.example; dkim=pass header.d=attacker.example; dmarc=pass header.from=attacker.example\n",
        "Authentication-Results: mx.bakery.example; dmarc=fail header.from=example.com; dkim=pass header.d=example.com\n",
    ] {
        let reply = receive(&app, &forged_reply("fan@example.com", headers)).await;
        assert!(reply["proof"].is_null(), "{headers}: {reply}");
    }
    assert_eq!(
        subscriber(&app, &token, &fan).await["score"].as_f64(),
        Some(0.0)
    );

    // The owner's own mail server saw the sender's domain pass DMARC: it counts.
    let vouched = receive(
        &app,
        &forged_reply(
            "fan@example.com",
            "Authentication-Results: mx.bakery.example;\n spf=pass smtp.mailfrom=example.com;\n dkim=pass (2048-bit key) header.d=example.com;\n dmarc=pass (p=REJECT) header.from=example.com\n",
        ),
    )
    .await;
    assert_eq!(vouched["proof"], "authentication", "{vouched}");
    let person = subscriber(&app, &token, &fan).await;
    assert!(person["score"].as_f64().unwrap() > 0.0, "{person}");
    assert!(
        person["reasons"].to_string().contains("replied"),
        "{person}"
    );

    // The owner vouches for another: it counts from then on, once.
    let unverified = receive(&app, &forged_reply("other@example.com", "")).await;
    assert!(unverified["proof"].is_null());
    assert_eq!(
        subscriber(&app, &token, &other).await["score"].as_f64(),
        Some(0.0)
    );
    let id = unverified["id"].as_i64().unwrap();
    let marked = app
        .api_post(&format!("/inbound/{id}/genuine"), &token)
        .await;
    assert_eq!(marked.status(), 200);
    let person = subscriber(&app, &token, &other).await;
    assert!(person["score"].as_f64().unwrap() > 0.0, "{person}");
    let reply = person["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "reply")
        .cloned()
        .unwrap();
    assert!(reply["verdict"].is_null(), "counted now: {reply}");
    let twice = app
        .api_post(&format!("/inbound/{id}/genuine"), &token)
        .await;
    assert_eq!(twice.status(), 409);
    let vouched_id = vouched["id"].as_i64().unwrap();
    let already = app
        .api_post(&format!("/inbound/{vouched_id}/genuine"), &token)
        .await;
    assert_eq!(already.status(), 409);
    // A bounce is no reply to vouch for.
    let bounce = receive(&app, &forged_bounce("other@example.com")).await;
    let bounce_id = bounce["id"].as_i64().unwrap();
    let refused = app
        .api_post(&format!("/inbound/{bounce_id}/genuine"), &token)
        .await;
    assert_eq!(refused.status(), 404);
    // Without the secret, the webhook takes nothing at all.
    assert_eq!(
        post_mail(&app, &forged_reply("other@example.com", ""), "guess")
            .await
            .status(),
        401
    );
}

async fn a_notice_naming_several_recipients_speaks_for_each(backend: Backend) {
    let app = app_with(backend, Options::default()).await;
    let token = app.api_token().await;
    let ann = confirmed_email(&app, &token, "ann@example.com").await;
    let bob = confirmed_email(&app, &token, "bob@example.com").await;
    let cat = confirmed_email(&app, &token, "cat@example.com").await;
    send_to_everyone(&app, &token, "Saturday market", "Fresh bread.").await;
    let ann_copy = app.smtp.wait_for("ann@example.com", 1).await.remove(0);

    // A report returning Ann's copy (so tied to it) that also names Bob and Cat.
    let report = format!(
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: bounces@bakery.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-several@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"

--b
Content-Type: text/plain

Your message could not be delivered to some recipients.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; ann@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

Final-Recipient: rfc822; bob@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

Final-Recipient: rfc822; cat@example.com
Action: delayed
Status: 4.2.2
Diagnostic-Code: smtp; 452 4.2.2 mailbox full

--b
Content-Type: text/rfc822-headers

From: Bakery <news@bakery.example>
To: ann@example.com
Subject: Saturday market
Message-ID: {}

--b--
",
        ann_copy.header("Message-ID").unwrap()
    );
    let received = receive(&app, &report).await;
    assert_eq!(received["suppressed"], "bounced", "{received}");
    assert_eq!(received["subscriber_id"], ann.as_str());
    let others = received["others"]
        .as_array()
        .expect("the others are listed");
    assert_eq!(others.len(), 2, "{received}");
    let bob_entry = others
        .iter()
        .find(|o| o["subscriber_id"] == bob.as_str())
        .unwrap();
    assert_eq!(bob_entry["kind"], "hard_bounce");
    assert_eq!(
        bob_entry["review"], "pending",
        "only an address ties Bob to it"
    );
    let cat_entry = others
        .iter()
        .find(|o| o["subscriber_id"] == cat.as_str())
        .unwrap();
    assert_eq!(cat_entry["kind"], "soft_bounce");
    assert!(cat_entry["review"].is_null());
    assert_eq!(subscriber(&app, &token, &ann).await["status"], "bounced");
    assert_eq!(subscriber(&app, &token, &bob).await["status"], "confirmed");
    assert_eq!(subscriber(&app, &token, &cat).await["status"], "confirmed");
    // The same report again is one report.
    let again = receive(&app, &report).await;
    assert_eq!(again["duplicate"], true);
    assert_eq!(app.count("inbound_messages").await, 3);

    // A plain notice naming two addresses in X-Failed-Recipients: one review entry each.
    let notice = forged_bounce("ann@example.com, bob@example.com").replace(
        "  ann@example.com, bob@example.com\n",
        "  ann@example.com\n  bob@example.com\n",
    );
    let plain = receive(&app, &notice).await;
    let named: Vec<&str> = std::iter::once(&plain)
        .chain(plain["others"].as_array().unwrap().iter())
        .map(|r| r["subscriber_id"].as_str().unwrap_or_default())
        .collect();
    assert!(named.contains(&bob.as_str()), "{plain}");
    assert_eq!(named.len(), 2, "{plain}");
}

async fn the_owner_reviews_and_vouches_in_the_web_app(backend: Backend) {
    let app = app_with(backend, Options::default()).await;
    let owner = app.owner().await;
    let token = app.api_token().await;
    let ann = confirmed_named(&app, &token, "ann@example.com", "Ann <b>Baker</b>").await;
    receive(&app, &forged_bounce("ann@example.com")).await;
    let reply = receive(&app, &forged_reply("ann@example.com", "")).await;

    // The dashboard lists what waits, with its two buttons.
    let dashboard = owner.page("/admin").await;
    let review = text_of(&dashboard, "review");
    assert!(review.contains("Needs review"), "{review}");
    assert!(review.contains("ann@example.com"), "{review}");
    assert!(review.contains("5.1.1"), "{review}");
    assert_contains(&dashboard, "unverified", "the latest replies mark it");
    let apply_path = dashboard
        .split("action=\"")
        .map(|rest| rest.split('"').next().unwrap())
        .find(|action| action.ends_with("/apply"))
        .expect("an Apply form")
        .to_string();
    let dismiss_path = apply_path.replace("/apply", "/dismiss");

    // Without the CSRF token, nothing happens.
    let forged = owner
        .http
        .post(owner.url(&apply_path))
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), 403);
    assert_eq!(subscriber(&app, &token, &ann).await["status"], "confirmed");

    let dismissed = owner.post_form(&dismiss_path, &[]).await;
    assert_eq!(dismissed.status(), 303);
    let dashboard = owner.page("/admin?notice=dismissed").await;
    assert_contains(&dashboard, "Dismissed: nothing changed", "");
    assert!(
        !dashboard.contains("id=\"review\""),
        "nothing waits any more"
    );
    assert_eq!(subscriber(&app, &token, &ann).await["status"], "confirmed");

    // The subscriber page shows the reply as unverified, with the button to vouch for it.
    let page = owner.page(&format!("/admin/subscribers/{ann}")).await;
    let timeline = text_of(&page, "timeline");
    assert!(timeline.contains("unverified"), "{timeline}");
    assert!(
        timeline.contains("waits") || timeline.contains("dismissed"),
        "{timeline}"
    );
    let reply_id = reply["id"].as_i64().unwrap();
    let marked = owner
        .post_form(&format!("/admin/inbound/{reply_id}/genuine"), &[])
        .await;
    assert_eq!(marked.status(), 303);
    let page = owner
        .page(&format!("/admin/subscribers/{ann}?notice=genuine"))
        .await;
    assert!(page.contains("Marked genuine"), "{page}");
    assert!(!text_of(&page, "timeline").contains("Mark as genuine"));
    assert!(
        subscriber(&app, &token, &ann).await["score"]
            .as_f64()
            .unwrap()
            > 0.0
    );

    // A real bounce later; the owner lifts it from the subscriber page, with a reason.
    let bounce = receive(&app, &forged_bounce("ann@example.com")).await;
    let id = bounce["id"].as_i64().unwrap();
    assert_eq!(
        owner
            .post_form(&format!("/admin/inbound/{id}/apply"), &[])
            .await
            .status(),
        303
    );
    assert_eq!(subscriber(&app, &token, &ann).await["status"], "bounced");
    let page = owner.page(&format!("/admin/subscribers/{ann}")).await;
    assert_contains(
        &page,
        "Lift the bounce",
        "a bounced subscriber can be lifted",
    );
    let empty = owner
        .post_form(
            &format!("/admin/subscribers/{ann}/lift-bounce"),
            &[("reason", "  ")],
        )
        .await;
    assert_eq!(empty.status(), 400);
    assert_eq!(subscriber(&app, &token, &ann).await["status"], "bounced");
    let lifted = owner
        .post_form(
            &format!("/admin/subscribers/{ann}/lift-bounce"),
            &[("reason", "Her mailbox works again")],
        )
        .await;
    assert_eq!(lifted.status(), 303);
    let page = owner
        .page(&format!("/admin/subscribers/{ann}?notice=lifted"))
        .await;
    assert_eq!(text_of(&page, "status"), "confirmed");
    let timeline = text_of(&page, "timeline");
    assert!(timeline.contains("Bounce lifted"), "{timeline}");
    assert!(timeline.contains("Her mailbox works again"), "{timeline}");
    assert!(!page.contains("<b>Baker</b>"), "names are escaped");
}
