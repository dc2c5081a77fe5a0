//! The shipped English default layout and system messages, as they go out with the postal
//! address in the footer, score under 1.0 in SpamAssassin's local rules
//! (`spamassassin -L -t`): the confirmation, the welcome, the re-permission question and a
//! campaign, each as the SMTP server received it.
//!
//! Needs `spamassassin` (`.ci/run` installs it), so a plain `cargo test` skips it; run it
//! with `cargo test --test api -- --ignored spam_score`.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use serde_json::json;

use crate::fixtures::{address, confirmed_email, send_to_everyone};
use crate::helpers::{Backend, Captured, Options, TestApp, spawn_app_with};

/// Under this, SpamAssassin's local rules see nothing of note.
const MOST: f64 = 1.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs spamassassin; run with --ignored (.ci/run does)"]
async fn sqlite() {
    the_shipped_messages_score_under_one(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs spamassassin; run with --ignored (.ci/run does)"]
async fn postgres() {
    the_shipped_messages_score_under_one(Backend::Postgres).await
}

/// SpamAssassin's score of `mail` and the rules that fired (its report).
fn score(mail: &Captured) -> (f64, String) {
    let mut child = Command::new("spamassassin")
        .args(["-L", "-t"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spamassassin is installed (apt-get install spamassassin)");
    child.stdin.take().unwrap().write_all(&mail.data).unwrap();
    let out = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&out.stdout).to_string();
    let status = out
        .lines()
        .find(|line| line.starts_with("X-Spam-Status:"))
        .unwrap_or_else(|| panic!("no X-Spam-Status in {out}"));
    let score = status
        .split("score=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no score in {status}"));
    let report = out
        .split("Content analysis details:")
        .nth(1)
        .unwrap_or(&out)
        .chars()
        .take(3000)
        .collect();
    (score, report)
}

/// The first message to `email` whose subject is `subject`, waiting up to 10 s.
async fn message(app: &TestApp, email: &str, subject: &str) -> Captured {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(mail) = app
            .smtp
            .messages_to(email)
            .into_iter()
            .find(|m| m.subject() == subject)
        {
            return mail;
        }
        assert!(Instant::now() < deadline, "no “{subject}” to {email}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn the_shipped_messages_score_under_one(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options::default().env("HUNDRED_MACHINE_WINDOW_SECONDS", "0"),
    )
    .await;
    let token = app.api_token().await;
    let response = app
        .api_json(
            Method::PATCH,
            "/settings",
            &token,
            &json!({ "postal_address": "Corner Bakery\n1 Mill Lane\nRyeton RY1 2AB\nUnited Kingdom" }),
        )
        .await;
    assert_eq!(response.status(), 200);

    // A reader signs up and confirms: the confirmation and the welcome.
    let welcome = app.confirmed_subscriber("ann@example.com").await;
    let confirmation = message(
        &app,
        "ann@example.com",
        "Please confirm your subscription to Corner Bakery News",
    )
    .await;

    // Someone who stopped reading: five campaigns, then the re-permission question.
    confirmed_email(&app, &token, &address("dora")).await;
    app.move_back(
        "subscribers",
        &["created_at", "signed_up_at", "confirmed_at"],
        200,
    )
    .await;
    for week in 1..=5 {
        send_to_everyone(
            &app,
            &token,
            &format!("Rye is back on Thursday (week {week})"),
            "# Rye is back\n\nOur dark rye returns on Thursday morning, baked with flour from the mill down the road. \
             We keep a few loaves aside for readers who ask before noon: just reply to this message.\n\n\
             The winter menu is on [our website](https://bakery.example/menu), with the opening hours for the holidays.\n\n\
             See you at the counter,\n\nMarta",
        )
        .await;
    }
    let campaign = message(&app, &address("dora"), "Rye is back on Thursday (week 5)").await;
    let asked = app
        .api_json(
            Method::POST,
            "/repermission",
            &token,
            &json!({ "answer_within_days": 14 }),
        )
        .await;
    assert_eq!(asked.status(), 202);
    let question = message(
        &app,
        &address("dora"),
        "Do you still want Corner Bakery News?",
    )
    .await;

    let mut scores = Vec::new();
    for (what, mail) in [
        ("confirmation", &confirmation),
        ("welcome", &welcome),
        ("re-permission", &question),
        ("campaign", &campaign),
    ] {
        assert!(
            mail.text().contains("1 Mill Lane") && mail.html().contains("1 Mill Lane"),
            "the postal address in the {what}'s footer"
        );
        let (score, report) = score(mail);
        println!("SpamAssassin: {what} scores {score}{report}");
        assert!(score < MOST, "the {what} scores {score}:\n{report}");
        scores.push(score);
    }
    assert_eq!(scores.len(), 4);
}
