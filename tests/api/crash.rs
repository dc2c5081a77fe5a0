//! Exactly once across crashes and instances, with the real binary: `kill -9` in the
//! middle of a send, restart, count the copies each recipient got; two instances sending
//! one campaign together; a shutdown stores every open it answered.

use std::collections::HashMap;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use crate::helpers::{Backend, TestSmtp, fresh_database};
use crate::on_both_databases;
use crate::process::{hundred, printed, serve, stop};

on_both_databases!(
    kill_9_mid_send_then_restart_delivers_every_copy_once,
    two_instances_send_one_campaign_together,
    opens_recorded_before_a_shutdown_are_all_stored
);

struct Deployment {
    database_url: String,
    smtp: TestSmtp,
    token: String,
    _dir: Option<tempfile::TempDir>,
}

impl Deployment {
    async fn new(backend: Backend) -> Self {
        let (database_url, dir) = fresh_database(backend).await;
        let smtp = TestSmtp::start();
        let token = printed(hundred().env("HUNDRED_DATABASE_URL", &database_url).args([
            "token",
            "create",
            "--name",
            "crash-test",
        ]));
        Self {
            database_url,
            smtp,
            token,
            _dir: dir,
        }
    }

    fn command(&self, instance: &str) -> Command {
        let mut command = hundred();
        command
            .env("HUNDRED_DATABASE_URL", &self.database_url)
            .env("HUNDRED_LISTEN", "127.0.0.1:0")
            // The path names the client in EHLO, so the relay can tell the instances apart.
            .env(
                "HUNDRED_SMTP_URL",
                format!("smtp://{}/{instance}", self.smtp.address),
            )
            .env("HUNDRED_FROM", "Bakery <news@bakery.example>")
            .env("HUNDRED_SEND_CONCURRENCY", "4")
            .env("HUNDRED_SEND_RATE", "1000")
            .env("HUNDRED_INSTANCE_ID", instance);
        command
    }

    async fn post(&self, address: &str, path: &str, body: serde_json::Value) -> serde_json::Value {
        let response = reqwest::Client::new()
            .post(format!("http://{address}/api/v1{path}"))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    async fn get(&self, address: &str, path: &str) -> serde_json::Value {
        reqwest::Client::new()
            .get(format!("http://{address}/api/v1{path}"))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    /// `count` confirmed subscribers and a campaign for them, sent now; returns its id.
    async fn start_campaign(&self, address: &str, count: usize) -> String {
        for i in 0..count {
            self.post(
                address,
                "/subscribers",
                serde_json::json!({ "email": format!("r{i}@example.com"), "status": "confirmed", "consent": "test" }),
            )
            .await;
        }
        let campaign = self
            .post(
                address,
                "/campaigns",
                serde_json::json!({ "subject": "Crash test", "body": "Hello" }),
            )
            .await;
        let id = campaign["id"].as_str().unwrap().to_string();
        self.post(
            address,
            &format!("/campaigns/{id}/send"),
            serde_json::json!({}),
        )
        .await;
        id
    }

    fn copies(&self, count: usize) -> HashMap<String, usize> {
        (0..count)
            .map(|i| {
                let address = format!("r{i}@example.com");
                let copies = self
                    .smtp
                    .messages_to(&address)
                    .iter()
                    .filter(|m| m.subject() == "Crash test")
                    .count();
                (address, copies)
            })
            .collect()
    }

    async fn wait_until_sent(&self, address: &str, id: &str) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let report = self.get(address, &format!("/campaigns/{id}")).await;
            if report["status"] == "sent" {
                return report;
            }
            assert!(
                Instant::now() < deadline,
                "the campaign did not finish: {report}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn kill_9(child: &mut Child) {
    let _ = Command::new("kill")
        .arg("-KILL")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
}

async fn kill_9_mid_send_then_restart_delivers_every_copy_once(backend: Backend) {
    const RECIPIENTS: usize = 80;
    let deployment = Deployment::new(backend).await;
    // A slow relay: 40 ms before it accepts each message's data.
    deployment.smtp.slow_down(Duration::from_millis(40));
    let (mut first, address) = serve(deployment.command("crash-test"));
    let id = deployment.start_campaign(&address, RECIPIENTS).await;

    // Kill it without warning somewhere in the middle of the send.
    let deadline = Instant::now() + Duration::from_secs(30);
    while deployment.smtp.messages().len() < RECIPIENTS / 3 {
        assert!(Instant::now() < deadline, "the send never got going");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    kill_9(&mut first);
    let at_crash = deployment.smtp.messages().len();
    assert!(
        at_crash < RECIPIENTS,
        "killed mid-send ({at_crash} of {RECIPIENTS} delivered)"
    );

    // Restart: the same instance takes over what it left in flight at once.
    let restarted = Instant::now();
    let (mut second, address) = serve(deployment.command("crash-test"));
    while deployment.smtp.messages().len() == at_crash {
        assert!(
            restarted.elapsed() < Duration::from_secs(30),
            "sending never resumed"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let resumed_after = restarted.elapsed();
    let report = deployment.wait_until_sent(&address, &id).await;
    stop(&mut second);

    let copies = deployment.copies(RECIPIENTS);
    let missing: Vec<_> = copies
        .iter()
        .filter(|(_, n)| **n == 0)
        .map(|(a, _)| a.clone())
        .collect();
    let duplicates: usize = copies.values().map(|n| n.saturating_sub(1)).sum();
    eprintln!(
        "kill -9 after {at_crash}/{RECIPIENTS}; sending resumed {resumed_after:?} after restart; \
         {duplicates} duplicate(s); {} deliveries taken over",
        report["deliveries"]["resumed_after_crash"]
    );
    assert!(missing.is_empty(), "nobody is skipped: {missing:?}");
    assert_eq!(report["deliveries"]["sent"], RECIPIENTS as i64, "{report}");
    // A copy can only be doubled if the crash fell between the relay's acceptance and our
    // commit; the report counts every delivery that was taken over after a crash, which
    // bounds the duplicates.
    let taken_over = report["deliveries"]["resumed_after_crash"]
        .as_u64()
        .unwrap() as usize;
    assert!(
        duplicates <= taken_over,
        "{duplicates} duplicates but only {taken_over} taken over"
    );
    assert!(
        duplicates <= 8,
        "at most two copies in flight per SMTP connection (4 connections): {duplicates}"
    );
}

async fn two_instances_send_one_campaign_together(backend: Backend) {
    const RECIPIENTS: usize = 120;
    let deployment = Deployment::new(backend).await;
    // Slow enough (about 0.9 s in all) that the second instance, which only hears of the
    // campaign at its next look at the queue (every 0.5 s), arrives while it is going out.
    deployment.smtp.slow_down(Duration::from_millis(30));
    let (mut one, address_one) = serve(deployment.command("instance-one"));
    let (mut two, address_two) = serve(deployment.command("instance-two"));
    let id = deployment.start_campaign(&address_one, RECIPIENTS).await;
    let report = deployment.wait_until_sent(&address_two, &id).await;
    stop(&mut one);
    stop(&mut two);
    assert_eq!(report["deliveries"]["sent"], RECIPIENTS as i64, "{report}");
    let copies = deployment.copies(RECIPIENTS);
    assert!(
        copies.values().all(|n| *n == 1),
        "each recipient exactly once: {copies:?}"
    );
    // Both instances took part: each announces itself in EHLO.
    let senders: std::collections::HashSet<String> = deployment
        .smtp
        .messages()
        .into_iter()
        .map(|m| m.helo)
        .collect();
    assert!(
        senders.contains("instance-one") && senders.contains("instance-two"),
        "{senders:?}"
    );
}

async fn opens_recorded_before_a_shutdown_are_all_stored(backend: Backend) {
    const OPENS: usize = 300;
    let deployment = Deployment::new(backend).await;
    let (mut server, address) = serve(deployment.command("events"));
    let id = deployment.start_campaign(&address, 1).await;
    deployment.wait_until_sent(&address, &id).await;
    let html = deployment.smtp.messages()[0].html();
    let at = html.find("/t/o/").expect("the copy has an open pixel");
    // The copy names the default public URL; this instance listens on a port of its own.
    let pixel = format!(
        "http://{address}{}",
        &html[at..at + html[at..].find('"').unwrap()]
    );

    // The database is busy (another writer holds the events table), so answered opens
    // pile up in the queue; then the service is told to stop. It must still store them
    // all once the database is free, before it exits.
    let blocker = Blocker::hold_events(&deployment.database_url).await;
    let client = reqwest::Client::new();
    let mut opens = tokio::task::JoinSet::new();
    for _ in 0..OPENS {
        let (client, pixel) = (client.clone(), pixel.clone());
        opens.spawn(async move {
            client
                .get(&pixel)
                .header(
                    "user-agent",
                    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Thunderbird/128.0",
                )
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
    }
    while let Some(status) = opens.join_next().await {
        assert_eq!(
            status.unwrap().unwrap(),
            200,
            "the pixel does not wait for the database"
        );
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(server.id().to_string())
        .status();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        server.try_wait().unwrap().is_none(),
        "hundred exited with events still unstored"
    );
    blocker.release().await;
    stop(&mut server);

    let (mut again, address) = serve(deployment.command("events"));
    let report = deployment.get(&address, &format!("/campaigns/{id}")).await;
    stop(&mut again);
    assert_eq!(
        report["engagement"]["raw_opens"], OPENS as i64,
        "{}",
        report["engagement"]
    );
}

/// Another writer holding the events table, as a long report or a migration would.
enum Blocker {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Blocker {
    async fn hold_events(database_url: &str) -> Self {
        if database_url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(database_url).await.unwrap();
            let mut connection = pool.acquire().await.unwrap();
            sqlx::query("BEGIN IMMEDIATE")
                .execute(&mut *connection)
                .await
                .unwrap();
            Self::Sqlite(connection)
        } else {
            let pool = sqlx::PgPool::connect(database_url).await.unwrap();
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE")
                .execute(&mut *tx)
                .await
                .unwrap();
            Self::Postgres(tx)
        }
    }

    async fn release(self) {
        match self {
            Self::Sqlite(mut connection) => {
                sqlx::query("COMMIT")
                    .execute(&mut *connection)
                    .await
                    .unwrap();
            }
            Self::Postgres(tx) => tx.commit().await.unwrap(),
        }
    }
}
