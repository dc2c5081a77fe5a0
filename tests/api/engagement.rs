//! Genuine interest, person by person: one subscriber per behaviour, a campaign, what each
//! of them does with it, and then the engagement order, tiers, reasons and headline that
//! the owner sees, a campaign for chosen tiers, and the same figures recomputed from
//! scratch by an instance with another half-life.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::header::LOCATION;

use crate::fixtures::{
    DESKTOP, HOURS, IPHONE, MENU, address, bare_address, confirmed_people, each, engagement_when,
    fetch, free_port, only_copy, receive, send_to_everyone, smtp_session, tracking_urls,
    with_inbound,
};
use crate::helpers::{Backend, Options, TestApp, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    the_engagement_order_is_replier_clicker_opener_then_machines,
    bad_engagement_queries_are_refused,
    dormant_subscribers_are_asked_and_only_the_owner_unsubscribes_them
);

const PEOPLE: [&str; 12] = [
    "apple",
    "scanner",
    "gateway",
    "opener",
    "clicker",
    "replier",
    "texter",
    "away",
    "bouncer",
    "complainer",
    "leaver",
    "silent",
];

fn copy(app: &TestApp, who: &str) -> crate::helpers::Captured {
    only_copy(app, &address(who))
}

async fn the_engagement_order_is_replier_clicker_opener_then_machines(backend: Backend) {
    let smtp_in = free_port();
    let app = spawn_app_with(
        backend,
        with_inbound(Options::default())
            .env("HUNDRED_MACHINE_WINDOW_SECONDS", "2")
            .env("HUNDRED_INBOUND_SMTP_LISTEN", &smtp_in.to_string()),
    )
    .await;
    let token = app.api_token().await;
    let ids = confirmed_people(&app, &token, &PEOPLE).await;
    let campaign = send_to_everyone(
        &app,
        &token,
        "Saturday market",
        &format!("See [the menu]({MENU}) and [our hours]({HOURS})."),
    )
    .await;

    // At delivery: Apple's proxy fetches the pixel, a link scanner follows every link.
    let apple_pixel = &tracking_urls(&copy(&app, "apple").html(), "o")[0];
    assert_eq!(fetch(apple_pixel, "Mozilla/5.0").await.status(), 200);
    for link in tracking_urls(&copy(&app, "scanner").html(), "c") {
        assert_eq!(fetch(&link, DESKTOP).await.status(), 302);
    }

    // Later, people.
    tokio::time::sleep(Duration::from_millis(2_200)).await;
    let opener_pixel = &tracking_urls(&copy(&app, "opener").html(), "o")[0];
    for _ in 0..3 {
        // Reopened three times: kept raw, counted once.
        assert_eq!(fetch(opener_pixel, IPHONE).await.status(), 200);
    }
    let clicker_link = &tracking_urls(&copy(&app, "clicker").html(), "c")[0];
    let followed = fetch(clicker_link, IPHONE).await;
    assert_eq!(followed.status(), 302);
    assert_eq!(
        followed.headers()[LOCATION],
        MENU,
        "the exact URL, query intact"
    );
    // A mail gateway following every link later, with a browser's user agent, one link at a
    // time: the first click may be stored as a person's before the second shows the burst.
    let gateway_links = tracking_urls(&copy(&app, "gateway").html(), "c");
    assert_eq!(fetch(&gateway_links[0], DESKTOP).await.status(), 302);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(fetch(&gateway_links[1], DESKTOP).await.status(), 302);

    // A reply by webhook, delivered twice by a nervous mail client: one reply.
    let reply = format!(
        "From: Replier <replier@example.com>
To: Bakery <replies@bakery.example>
Subject: Re: Saturday market
Message-ID: <engaged-reply-1@example.com>
In-Reply-To: {}
Content-Type: text/plain

Save me a rye loaf, please!

On Thu, Bakery wrote:
> See the menu
",
        copy(&app, "replier").header("Message-ID").unwrap()
    );
    assert_eq!(receive(&app, &reply).await["duplicate"], false);
    assert_eq!(receive(&app, &reply).await["duplicate"], true);

    // A reply through the SMTP listener from another address, matched by its token alone.
    let tagged = bare_address(&copy(&app, "texter").header("Reply-To").unwrap());
    let lines = vec![
        "EHLO phone.example".to_string(),
        "MAIL FROM:<texter.phone@mobile.example>".to_string(),
        format!("RCPT TO:<{tagged}>"),
        "DATA".to_string(),
        format!(
            "From: <texter.phone@mobile.example>\r\nTo: {tagged}\r\nSubject: Re: Saturday market\r\n\
             Message-ID: <engaged-sms-1@mobile.example>\r\n\r\nSee you Saturday!\r\n."
        ),
        "QUIT".to_string(),
    ];
    let replies = tokio::task::spawn_blocking(move || smtp_session(smtp_in, &lines))
        .await
        .unwrap();
    assert!(replies[4].starts_with("250"), "stored: {}", replies[4]);

    // An out-of-office answer, a 5.1.1 bounce and a complaint.
    let away = receive(
        &app,
        &format!(
            "From: away@example.com
To: Bakery <replies@bakery.example>
Subject: Out of office: Saturday market
Auto-Submitted: auto-replied
Message-ID: <engaged-ooo-1@example.com>
In-Reply-To: {}
Content-Type: text/plain

I am away until January.
",
            copy(&app, "away").header("Message-ID").unwrap()
        ),
    )
    .await;
    assert_eq!(away["kind"], "auto_reply", "{away}");
    let bounce = receive(
        &app,
        &format!(
            "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: bounces@bakery.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <engaged-dsn-1@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"

--b1
Content-Type: text/plain

Your message could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; bouncer@example.com
Action: failed
Status: 5.1.1

--b1
Content-Type: text/rfc822-headers

Message-ID: {}

--b1--
",
            copy(&app, "bouncer").header("Message-ID").unwrap()
        ),
    )
    .await;
    assert_eq!(bounce["suppressed"], "bounced", "{bounce}");
    let complaint = receive(
        &app,
        &format!(
            "From: feedback@isp.example
To: abuse@bakery.example
Subject: Abuse report
Message-ID: <engaged-arf-1@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary=\"b2\"

--b2
Content-Type: text/plain

An abuse report.

--b2
Content-Type: message/feedback-report

Feedback-Type: abuse
Version: 1
Original-Rcpt-To: complainer@example.com

--b2
Content-Type: message/rfc822

To: complainer@example.com
Message-ID: {}

Hello
--b2--
",
            copy(&app, "complainer").header("Message-ID").unwrap()
        ),
    )
    .await;
    assert_eq!(complaint["suppressed"], "complained", "{complaint}");

    // One leaves with their mail client's one-click unsubscribe.
    let list_unsubscribe = copy(&app, "leaver").header("List-Unsubscribe").unwrap();
    let one_click = list_unsubscribe
        .split(['<', '>'])
        .find(|part| part.starts_with("http"))
        .unwrap()
        .to_string();
    let left = app
        .client
        .post(&one_click)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(left.status(), 200);

    // Every event stored: 1 Apple open, 3 opener opens, 2 scanner + 1 clicker + 2 gateway.
    let report = engagement_when(&app, &token, &campaign, |e| {
        e["raw_opens"] == 4 && e["raw_clicks"] == 5
    })
    .await;
    assert_eq!(report["human_opens"], 4, "{report}");
    assert_eq!(report["machine_opens"], 1, "{report}");
    assert_eq!(report["human_clicks"], 1, "{report}");
    assert_eq!(report["scanner_clicks"], 2, "{report}");
    assert_eq!(report["replies"], 2, "{report}");
    assert_eq!(report["auto_replies"], 1, "{report}");
    assert_eq!(report["hard_bounces"], 1, "{report}");
    assert_eq!(report["complaints"], 1, "{report}");
    assert_eq!(report["unsubscribes"], 1, "{report}");

    // The owner's view, most engaged first.
    let list = app
        .api_get("/subscribers?sort=engagement&limit=100", &token)
        .await;
    let rows = list["subscribers"].as_array().unwrap();
    let by_email: HashMap<&str, &serde_json::Value> = rows
        .iter()
        .map(|s| (s["email"].as_str().unwrap(), s))
        .collect();
    let at = |who: &str| {
        rows.iter()
            .position(|s| s["email"] == address(who))
            .unwrap()
    };
    let score = |who: &str| by_email[address(who).as_str()]["score"].as_f64().unwrap();
    let tier = |who: &str| {
        by_email[address(who).as_str()]["tier"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let reasons = |who: &str| {
        by_email[address(who).as_str()]["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    let order: Vec<&str> = rows.iter().map(|s| s["email"].as_str().unwrap()).collect();
    assert!(at("replier") < at("clicker"), "{order:?}");
    assert!(at("texter") < at("clicker"), "{order:?}");
    assert!(at("clicker") < at("opener"), "{order:?}");
    for nothing in ["apple", "scanner", "gateway", "away", "silent"] {
        assert!(at("opener") < at(nothing), "{nothing}: {order:?}");
        assert_eq!(score(nothing), 0.0, "{nothing} showed no human interest");
        assert_eq!(
            reasons(nothing),
            [
                "no human open, click or reply in 1 campaign",
                "joined today"
            ],
            "{nothing}"
        );
    }
    assert!(score("replier") > score("clicker"));
    assert!(score("clicker") > score("opener"));
    assert!(score("opener") > 0.0);
    assert!(
        (score("replier") - 11.0).abs() < 0.2,
        "a reply (10) and its open (1): {}",
        score("replier")
    );
    assert!(
        (score("opener") - 1.0).abs() < 0.1,
        "three opens count once"
    );
    assert_eq!(tier("replier"), "core");
    assert_eq!(tier("texter"), "core");
    assert_eq!(tier("clicker"), "engaged");
    assert_eq!(tier("opener"), "engaged");
    assert_eq!(tier("apple"), "new", "one campaign is too soon to judge");
    assert_eq!(tier("bouncer"), "gone");
    assert_eq!(tier("complainer"), "gone");
    assert_eq!(
        reasons("texter"),
        ["replied once, last today", "opened 1 campaign, last today"],
        "a reply says the copy was read"
    );
    assert_eq!(
        reasons("clicker"),
        [
            "clicked in 1 campaign, last today",
            "opened 1 campaign, last today"
        ]
    );
    assert_eq!(reasons("bouncer")[0], "their address bounces");

    // One subscriber's page says the same.
    let replier = app
        .api_get(&format!("/subscribers/{}", ids["replier"]), &token)
        .await;
    assert_eq!(replier["tier"], "core");
    assert_eq!(replier["score"], by_email["replier@example.com"]["score"]);
    assert!(
        replier["reasons"][0]
            .as_str()
            .unwrap()
            .starts_with("replied once"),
        "{}",
        replier["reasons"]
    );
    assert!(replier["last_human_activity_at"].is_string());

    // Filtered by tier.
    let core = app
        .api_get("/subscribers?sort=engagement&tier=core", &token)
        .await;
    let mut core_emails = each(&core["subscribers"], "email");
    core_emails.sort();
    assert_eq!(core_emails, ["replier@example.com", "texter@example.com"]);
    assert_eq!(core["total"], 2);

    // The headline: engaged of confirmed, per tier, and after the campaign.
    let summary = app.api_get("/engagement", &token).await;
    assert_eq!(summary["confirmed"], 9, "{summary}");
    assert_eq!(summary["engaged"], 4, "{summary}");
    let tiers: HashMap<&str, i64> = summary["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["tier"].as_str().unwrap(), t["count"].as_i64().unwrap()))
        .collect();
    assert_eq!(tiers["core"], 2, "{summary}");
    assert_eq!(tiers["engaged"], 2, "{summary}");
    assert_eq!(tiers["new"], 5, "{summary}");
    assert_eq!(tiers["gone"], 3, "{summary}");
    assert_eq!(summary["campaigns"][0]["delivered"], 12, "{summary}");
    assert_eq!(summary["campaigns"][0]["engaged"], 4, "{summary}");
    assert_eq!(
        summary["campaigns"][0]["engaged"], report["human_opens"],
        "the headline and the report count the same copies"
    );

    // A campaign for the core only reaches the two who wrote back.
    let thanks = app
        .create_campaign(
            &token,
            serde_json::json!({
                "subject": "Thank you for writing",
                "body": "A loaf is waiting for you.",
                "audience": { "tiers": ["core"] },
            }),
        )
        .await;
    assert_eq!(thanks["audience"]["tiers"], serde_json::json!(["core"]));
    assert_eq!(thanks["audience"]["size"], 2, "{thanks}");
    let thanks_id = thanks["id"].as_str().unwrap();
    app.send_campaign_now(&token, thanks_id).await;
    let done = app.wait_for_campaign(&token, thanks_id, "sent").await;
    assert_eq!(done["deliveries"]["sent"], 2, "{done}");
    for who in ["replier", "texter"] {
        assert!(
            app.smtp
                .messages_to(&address(who))
                .iter()
                .any(|m| m.subject() == "Thank you for writing")
        );
    }
    // The next campaign for everyone skips the bounced and the complaining.
    let next = send_to_everyone(&app, &token, "Next week", "Cakes.").await;
    let next = app.api_get(&format!("/campaigns/{next}"), &token).await;
    assert_eq!(next["deliveries"]["sent"], 9, "{next}");
    assert_eq!(next["engagement"]["unsubscribes"], 0, "{next}");
    let first = app.api_get(&format!("/campaigns/{campaign}"), &token).await;
    assert_eq!(first["engagement"]["unsubscribes"], 1, "the one it lost");
    for who in ["bouncer", "complainer", "leaver"] {
        assert_eq!(app.smtp.messages_to(&address(who)).len(), 1, "{who}");
    }

    // Another instance on the same database with another half-life recomputes every
    // subscriber from their copies and replies: the same people in the same order.
    let other = spawn_app_with(
        backend,
        Options {
            database_url: Some(app.database_url.clone()),
            ..Options::default()
        }
        .env("HUNDRED_ENGAGEMENT_HALF_LIFE_DAYS", "7"),
    )
    .await;
    let recomputed = other
        .api_get("/subscribers?sort=engagement&limit=100", &token)
        .await;
    let again = each(&recomputed["subscribers"], "email");
    assert_eq!(again[..4], order[..4]);
    for row in recomputed["subscribers"].as_array().unwrap() {
        let email = row["email"].as_str().unwrap();
        let before = by_email[email]["score"].as_f64().unwrap();
        let after = row["score"].as_f64().unwrap();
        assert!(
            (before - after).abs() < 0.2,
            "{email}: {before} before, {after} recomputed"
        );
    }
}

async fn bad_engagement_queries_are_refused(backend: Backend) {
    let app = spawn_app_with(backend, Options::default()).await;
    let token = app.api_token().await;
    for query in ["sort=loudest", "tier=vip", "tier=core&sort=", "status=gone"] {
        let path = format!("/subscribers?{query}");
        let response = app.api_call(reqwest::Method::GET, &path, &token).await;
        let ok = query == "tier=core&sort=";
        assert_eq!(response.status().is_success(), ok, "{query}");
        if !ok {
            assert_eq!(response.status(), 422, "{query}");
        }
    }
    for audience in [
        serde_json::json!({ "tiers": [] }),
        serde_json::json!({ "tiers": ["vip"] }),
        serde_json::json!({ "tiers": ["gone"] }),
        serde_json::json!({ "everyone": true }),
    ] {
        let body = serde_json::json!({ "subject": "Hi", "body": "Hello", "audience": audience });
        let response = app
            .api_json(reqwest::Method::POST, "/campaigns", &token, &body)
            .await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert!(status.is_client_error(), "{audience}: {status} {body}");
        assert!(
            body.contains("audience") || body.contains("everyone"),
            "{body}"
        );
    }
    let unauthorised = app.get("/api/v1/engagement").await;
    assert_eq!(unauthorised.status(), 401);
    let empty = app.api_get("/engagement", &token).await;
    assert_eq!(empty["confirmed"], 0);
    assert_eq!(empty["engaged"], 0);
    assert_eq!(empty["campaigns"], serde_json::json!([]));
}

async fn post_api(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Option<serde_json::Value>,
) -> reqwest::Response {
    match body {
        Some(body) => {
            app.api_json(reqwest::Method::POST, path, token, &body)
                .await
        }
        None => app.api_post(path, token).await,
    }
}

async fn tier_counts(app: &TestApp, token: &str) -> HashMap<String, i64> {
    app.api_get("/engagement", token).await["tiers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["tier"].as_str().unwrap().to_string(),
                t["count"].as_i64().unwrap(),
            )
        })
        .collect()
}

async fn dormant_subscribers_are_asked_and_only_the_owner_unsubscribes_them(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options::default().env("HUNDRED_MACHINE_WINDOW_SECONDS", "0"),
    )
    .await;
    let token = app.api_token().await;
    let ids = confirmed_people(&app, &token, &["dora", "kim", "ola"]).await;
    // They joined long ago; five campaigns since, and only Ola ever opened one.
    app.move_back(
        "subscribers",
        &["created_at", "signed_up_at", "confirmed_at"],
        200,
    )
    .await;
    let mut last = String::new();
    for week in 1..=5 {
        last = send_to_everyone(&app, &token, &format!("Week {week}"), "Fresh bread.").await;
    }
    let ola_copy = app
        .smtp
        .messages_to(&address("ola"))
        .into_iter()
        .find(|m| m.subject() == "Week 5")
        .unwrap();
    let pixel = &tracking_urls(&ola_copy.html(), "o")[0];
    assert_eq!(fetch(pixel, IPHONE).await.status(), 200);
    engagement_when(&app, &token, &last, |e| e["human_opens"] == 1).await;
    let tiers = tier_counts(&app, &token).await;
    assert_eq!(tiers["dormant"], 2, "{tiers:?}");
    assert_eq!(tiers["engaged"], 1, "{tiers:?}");
    let dora = app
        .api_get(&format!("/subscribers/{}", ids["dora"]), &token)
        .await;
    assert_eq!(dora["tier"], "dormant");
    assert_eq!(
        dora["reasons"],
        serde_json::json!(["no human open, click or reply in 5 campaigns"])
    );

    // One action asks the dormant: a message with a keep-me button to each of them.
    let asked = post_api(
        &app,
        &token,
        "/repermission",
        Some(serde_json::json!({ "answer_within_days": 10 })),
    )
    .await;
    assert_eq!(asked.status(), 202);
    let asked: serde_json::Value = asked.json().await.unwrap();
    assert_eq!(asked["asked"], 2, "{asked}");
    assert_eq!(asked["requests"]["waiting"], 2, "{asked}");
    let question = |who: &str| {
        let who = who.to_string();
        let smtp = app.smtp.clone();
        async move {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                if let Some(m) = smtp
                    .messages_to(&address(&who))
                    .into_iter()
                    .find(|m| m.subject() == "Do you still want Corner Bakery News?")
                {
                    return m;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "{who} was never asked"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    let kim_question = question("kim").await;
    let dora_question = question("dora").await;
    assert!(kim_question.text().contains("Yes, keep sending it"));
    assert!(kim_question.header("List-Unsubscribe").is_some());
    assert!(
        app.smtp
            .messages_to(&address("ola"))
            .iter()
            .all(|m| !m.subject().starts_with("Do you still")),
        "Ola is not dormant"
    );
    let keep_url = kim_question
        .link_starting_with(&app.url("/keep/"))
        .expect("a keep-me link");

    // A scanner (or Kim) opening the link changes nothing; the button does.
    let page = app.get(&keep_url).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("kim@example.com"), "{page}");
    assert!(page.contains("method=\"post\""), "{page}");
    let summary = app.api_get("/repermission", &token).await;
    assert_eq!(summary["waiting"], 2, "a GET is no answer: {summary}");
    for _ in 0..2 {
        let kept = app.post_empty(&keep_url).await;
        assert_eq!(kept.status(), 200);
        let kept = kept.text().await.unwrap();
        assert!(kept.contains("keep sending"), "{kept}");
    }
    let kim = app
        .api_get(&format!("/subscribers/{}", ids["kim"]), &token)
        .await;
    assert_eq!(kim["status"], "confirmed");
    assert_eq!(kim["tier"], "engaged", "{kim}");
    assert!(
        kim["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r == "asked to keep receiving it, today"),
        "{}",
        kim["reasons"]
    );
    let forged = app.get(&app.url("/keep/not-a-token")).await;
    assert_eq!(forged.status(), 404);

    // Asking again asks nobody new; before the deadline, nobody is unsubscribed.
    let again: serde_json::Value = post_api(&app, &token, "/repermission", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["asked"], 0, "{again}");
    let early: serde_json::Value = post_api(&app, &token, "/repermission/unsubscribe", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(early["unsubscribed"], 0, "{early}");
    assert_eq!(
        app.api_get(&format!("/subscribers/{}", ids["dora"]), &token)
            .await["status"],
        "confirmed",
        "never automatic"
    );

    // Eleven days later the owner unsubscribes those who did not answer, in one action.
    app.move_back("permission_requests", &["asked_at", "answer_by"], 11)
        .await;
    let summary = app.api_get("/repermission", &token).await;
    assert_eq!(summary["unanswered"], 1, "{summary}");
    assert_eq!(summary["kept"], 1, "{summary}");
    let done: serde_json::Value = post_api(&app, &token, "/repermission/unsubscribe", None)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(done["unsubscribed"], 1, "{done}");
    assert_eq!(done["requests"]["unsubscribed"], 1, "{done}");
    assert_eq!(done["requests"]["unanswered"], 0, "{done}");
    let dora = app
        .api_get(&format!("/subscribers/{}", ids["dora"]), &token)
        .await;
    assert_eq!(dora["status"], "unsubscribed");
    assert_eq!(dora["tier"], "gone");
    assert!(
        dora["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "unsubscribe"
                && e["reason"]
                    .as_str()
                    .is_some_and(|d| d.contains("no answer to the re-permission request"))),
        "{}",
        dora["timeline"]
    );
    // Her late answer finds her off the list, and the next campaign skips her.
    let late = app
        .post_empty(
            &dora_question
                .link_starting_with(&app.url("/keep/"))
                .unwrap(),
        )
        .await;
    assert_eq!(late.status(), 200);
    assert!(late.text().await.unwrap().contains("not on the list"));
    let next = send_to_everyone(&app, &token, "Week 6", "Rye.").await;
    let next = app.api_get(&format!("/campaigns/{next}"), &token).await;
    assert_eq!(next["deliveries"]["sent"], 2, "{next}");
}
