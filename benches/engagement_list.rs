//! The engagement-sorted subscriber list with 10,000 subscribers and a million events,
//! timed through the real HTTP API of a running hundred, against the plain newest-first
//! list measured in the same run; then the owner's pages (dashboard, the subscriber table
//! sorted by engagement, a subscriber's page) with a logged-in session.
//!
//! `benches/engagement.sh` runs it on SQLite and Postgres; by hand:
//! `BENCH_DATABASE=sqlite:///tmp/e.db cargo bench --bench engagement_list`
//!
//! Settings (environment): BENCH_DATABASE (a fresh database URL), BENCH_SUBSCRIBERS
//! (10000), BENCH_CAMPAIGNS (50), BENCH_RUNS (40).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use hundred::store::Store;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// What the running service keeps per campaign: copies delivered (counted when a send
/// finishes) and recipients engaged (counted as their copies are first opened).
const FINISH_CAMPAIGNS: &str = "UPDATE campaigns SET \
     delivered = (SELECT COUNT(*) FROM deliveries d WHERE d.campaign_id = campaigns.id AND d.state = 'sent'), \
     engaged = (SELECT COUNT(opened_at) FROM deliveries d WHERE d.campaign_id = campaigns.id)";

/// Subscribers, campaigns, a copy of each campaign for each subscriber, and about a million
/// opens and clicks, a third of them human, spread over the last year.
const SQLITE_SEED: &[&str] = &[
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $1) \
     INSERT INTO subscribers (id, email, email_key, name, status, created_at, updated_at, signed_up_at, \
     signup_source, stated_consent, confirmed_at) \
     SELECT randomblob(16), 'reader' || i || '@example.com', 'reader' || i || '@example.com', \
     'Reader ' || i, CASE WHEN i % 50 = 0 THEN 'unsubscribed' ELSE 'confirmed' END, \
     $3 - 400 * 86400000 + i * 1000, $3, $3 - 400 * 86400000, 'import', 'benchmark', \
     $3 - 400 * 86400000 + i * 1000 FROM n",
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
     INSERT INTO campaigns (id, subject, body, format, layout, status, started_at, finished_at, created_at, updated_at) \
     SELECT randomblob(16), 'Campaign ' || i, 'Hello', 'markdown', 'default', 'sent', \
     $3 - ($2 - i + 1) * 7 * 86400000, $3 - ($2 - i + 1) * 7 * 86400000, $3, $3 FROM n",
    "INSERT INTO deliveries (id, campaign_id, subscriber_id, state, attempts, next_attempt_at, message_id, sent_at, created_at) \
     SELECT randomblob(16), c.id, s.id, 'sent', 1, c.started_at, '<' || lower(hex(randomblob(16))) || '@bench>', \
     c.started_at, c.started_at FROM campaigns c CROSS JOIN subscribers s WHERE s.status = 'confirmed'",
    "INSERT INTO events (delivery_id, campaign_id, subscriber_id, kind, verdict, reason, at) \
     SELECT id, campaign_id, subscriber_id, 'open', \
     CASE WHEN abs(random()) % 3 = 0 THEN 'human' ELSE 'machine' END, 'benchmark', sent_at + 3600000 \
     FROM deliveries",
    "INSERT INTO events (delivery_id, campaign_id, subscriber_id, kind, verdict, reason, at) \
     SELECT id, campaign_id, subscriber_id, CASE WHEN abs(random()) % 4 = 0 THEN 'click' ELSE 'open' END, \
     CASE WHEN abs(random()) % 3 = 0 THEN 'human' ELSE 'machine' END, 'benchmark', sent_at + 7200000 \
     FROM deliveries",
    "UPDATE deliveries SET \
     opened_at = (SELECT MIN(e.at) FROM events e WHERE e.delivery_id = deliveries.id AND e.verdict = 'human'), \
     clicked_at = (SELECT MIN(e.at) FROM events e WHERE e.delivery_id = deliveries.id AND e.verdict = 'human' AND e.kind = 'click')",
    FINISH_CAMPAIGNS,
    // A reply from every 20th subscriber to each of the last five campaigns.
    "INSERT INTO inbound_messages (received_at, kind, subscriber_id, delivery_id, campaign_id, matched_by, \
     message_id, from_address, subject, text) \
     SELECT d.sent_at + 10800000, 'reply', d.subscriber_id, d.id, d.campaign_id, 'reply token', \
     '<reply-' || lower(hex(d.id)) || '@bench>', s.email, 'Re: ' || c.subject, \
     'Thank you! Save me a loaf of rye on Saturday, and could you tell me more about the sourdough class?' \
     FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id JOIN campaigns c ON c.id = d.campaign_id \
     WHERE s.rowid % 20 = 0 AND c.started_at >= $3 - 35 * 86400000",
    "ANALYZE",
];

const POSTGRES_SEED: &[&str] = &[
    "INSERT INTO subscribers (id, email, email_key, name, status, created_at, updated_at, signed_up_at, \
     signup_source, stated_consent, confirmed_at) \
     SELECT gen_random_uuid(), 'reader' || i || '@example.com', 'reader' || i || '@example.com', \
     'Reader ' || i, CASE WHEN i % 50 = 0 THEN 'unsubscribed' ELSE 'confirmed' END, \
     $3 - interval '400 days' + i * interval '1 second', $3, $3 - interval '400 days', 'import', 'benchmark', \
     $3 - interval '400 days' + i * interval '1 second' FROM generate_series(1, $1::int) i WHERE $2::int > 0",
    "INSERT INTO campaigns (id, subject, body, format, layout, status, started_at, finished_at, created_at, updated_at) \
     SELECT gen_random_uuid(), 'Campaign ' || i, 'Hello', 'markdown', 'default', 'sent', \
     $3 - ($2::int - i + 1) * interval '7 days', $3 - ($2::int - i + 1) * interval '7 days', $3, $3 \
     FROM generate_series(1, $2::int) i WHERE $1::int > 0",
    "INSERT INTO deliveries (id, campaign_id, subscriber_id, state, attempts, next_attempt_at, message_id, sent_at, created_at) \
     SELECT gen_random_uuid(), c.id, s.id, 'sent', 1, c.started_at, '<' || gen_random_uuid() || '@bench>', \
     c.started_at, c.started_at FROM campaigns c CROSS JOIN subscribers s WHERE s.status = 'confirmed'",
    "INSERT INTO events (delivery_id, campaign_id, subscriber_id, kind, verdict, reason, at) \
     SELECT id, campaign_id, subscriber_id, 'open', \
     CASE WHEN random() < 0.33 THEN 'human' ELSE 'machine' END, 'benchmark', sent_at + interval '1 hour' \
     FROM deliveries",
    "INSERT INTO events (delivery_id, campaign_id, subscriber_id, kind, verdict, reason, at) \
     SELECT id, campaign_id, subscriber_id, CASE WHEN random() < 0.25 THEN 'click' ELSE 'open' END, \
     CASE WHEN random() < 0.33 THEN 'human' ELSE 'machine' END, 'benchmark', sent_at + interval '2 hours' \
     FROM deliveries",
    "UPDATE deliveries d SET opened_at = f.opened, clicked_at = f.clicked FROM \
     (SELECT delivery_id, MIN(at) AS opened, MIN(at) FILTER (WHERE kind = 'click') AS clicked \
      FROM events WHERE verdict = 'human' GROUP BY delivery_id) f WHERE d.id = f.delivery_id",
    FINISH_CAMPAIGNS,
    "INSERT INTO inbound_messages (received_at, kind, subscriber_id, delivery_id, campaign_id, matched_by, \
     message_id, from_address, subject, text) \
     SELECT d.sent_at + interval '3 hours', 'reply', d.subscriber_id, d.id, d.campaign_id, 'reply token', \
     '<reply-' || d.id || '@bench>', s.email, 'Re: ' || c.subject, \
     'Thank you! Save me a loaf of rye on Saturday, and could you tell me more about the sourdough class?' \
     FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id JOIN campaigns c ON c.id = d.campaign_id \
     WHERE abs(hashtext(s.id::text)) % 20 = 0 AND c.started_at >= $3 - interval '35 days' AND $1::int > 0 AND $2::int > 0",
    "VACUUM ANALYZE",
];

async fn seed(url: &str, subscribers: i64, campaigns: i64) -> anyhow::Result<()> {
    let now = time::OffsetDateTime::now_utc();
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await?;
        let millis = (now.unix_timestamp_nanos() / 1_000_000) as i64;
        for statement in SQLITE_SEED {
            let query = sqlx::query(sqlx::AssertSqlSafe(*statement));
            let query = if statement.contains("$3") {
                query.bind(subscribers).bind(campaigns).bind(millis)
            } else {
                query
            };
            query.execute(&pool).await?;
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(url).await?;
        for statement in POSTGRES_SEED {
            let query = sqlx::query(sqlx::AssertSqlSafe(*statement));
            let query = if statement.contains("$3") {
                query.bind(subscribers).bind(campaigns).bind(now)
            } else {
                query
            };
            query.execute(&pool).await?;
        }
        pool.close().await;
    }
    Ok(())
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[at].as_secs_f64() * 1000.0
}

/// Sends `request` 3 times to warm up, then `runs` times; prints and returns the p50 (ms).
/// Every answer must be 200 with a body.
async fn time_requests(
    name: &str,
    path: &str,
    runs: usize,
    request: impl Fn() -> reqwest::RequestBuilder,
) -> anyhow::Result<f64> {
    let mut times = Vec::with_capacity(runs);
    for run in 0..runs + 3 {
        let started = Instant::now();
        let response = request().send().await?;
        anyhow::ensure!(
            response.status() == reqwest::StatusCode::OK,
            "{path}: {}",
            response.status()
        );
        let body = response.bytes().await?;
        anyhow::ensure!(!body.is_empty(), "{path}: empty");
        if run >= 3 {
            times.push(started.elapsed());
        }
    }
    times.sort();
    let (p50, p99) = (percentile(&times, 0.5), percentile(&times, 0.99));
    println!("bench.{name}.p50_ms {p50:.1}");
    println!("bench.{name}.p99_ms {p99:.1}");
    Ok(p50)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    hundred::app::install_crypto_provider();
    let database = env(
        "BENCH_DATABASE",
        "sqlite:///tmp/hundred-bench-engagement.db",
    );
    let subscribers: i64 = env("BENCH_SUBSCRIBERS", "10000").parse()?;
    let campaigns: i64 = env("BENCH_CAMPAIGNS", "50").parse()?;
    let runs: usize = env("BENCH_RUNS", "40").parse()?;

    let store = Store::connect(&database).await?;
    store.migrate().await?;
    eprintln!("seeding {subscribers} subscribers, {campaigns} campaigns ...");
    let started = Instant::now();
    seed(&database, subscribers, campaigns).await?;
    eprintln!("seeded in {:.1} s", started.elapsed().as_secs_f64());
    let events: i64 = match &database {
        url if url.starts_with("sqlite:") => {
            let pool = sqlx::SqlitePool::connect(url).await?;
            sqlx::query_scalar("SELECT COUNT(*) FROM events")
                .fetch_one(&pool)
                .await?
        }
        url => {
            let pool = sqlx::PgPool::connect(url).await?;
            sqlx::query_scalar("SELECT COUNT(*) FROM events")
                .fetch_one(&pool)
                .await?
        }
    };
    let token = store.create_api_token("bench").await?;
    // The owner, logged in: a session made as the login page makes one.
    let owner = store
        .create_owner(
            "owner@bakery.example",
            &hundred::actions::accounts::hash_password("bench password".into()).await?,
        )
        .await?;
    let session = hundred::actions::accounts::random_secret();
    let expires = time::OffsetDateTime::now_utc() + time::Duration::days(1);
    store
        .create_session(owner.id, &session, "csrf", expires.into())
        .await?;
    // A subscriber with a long story: the most engaged one, with replies.
    let page = store
        .subscribers(
            hundred::store::SubscriberFilter {
                status: None,
                tier: None,
                order: hundred::store::SubscriberOrder::Engagement,
            },
            1,
            0,
            time::OffsetDateTime::now_utc(),
        )
        .await?;
    let top = page
        .subscribers
        .first()
        .map(|s| s.subscriber.id)
        .ok_or_else(|| anyhow::anyhow!("no subscribers"))?;
    store.close().await;

    let mut settings = HashMap::new();
    for (k, v) in [
        ("HUNDRED_DATABASE_URL", database.as_str()),
        ("HUNDRED_FROM", "Corner Bakery <news@bakery.example>"),
        ("HUNDRED_PUBLIC_URL", "https://news.bakery.example"),
        ("HUNDRED_INSTANCE_ID", "bench"),
    ] {
        settings.insert(k.to_string(), v.to_string());
    }
    let config = hundred::Config::from_map(&settings)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = format!("http://{}", listener.local_addr()?);
    // Start-up computes every subscriber's engagement (no half-life stored yet).
    let started = Instant::now();
    let app = hundred::Application::build_on(config, listener).await?;
    let rebuild = started.elapsed();
    tokio::spawn(app.run_until(std::future::pending()));
    let client = reqwest::Client::new();

    println!(
        "bench.database {}",
        if database.starts_with("sqlite:") {
            "sqlite"
        } else {
            "postgres"
        }
    );
    println!("bench.subscribers {subscribers}");
    println!("bench.events {events}");
    println!("bench.rebuild_s {:.2}", rebuild.as_secs_f64());
    let cases = [
        ("newest_first_baseline", "/api/v1/subscribers?limit=50"),
        (
            "engagement_first_page",
            "/api/v1/subscribers?sort=engagement&limit=50",
        ),
        (
            "engagement_page_100",
            "/api/v1/subscribers?sort=engagement&limit=50&offset=5000",
        ),
        (
            "engagement_tier_quiet",
            "/api/v1/subscribers?sort=engagement&tier=quiet&limit=50",
        ),
        ("summary", "/api/v1/engagement"),
    ];
    let mut p50s = HashMap::new();
    for (name, path) in cases {
        let request = || client.get(format!("{address}{path}")).bearer_auth(&token);
        p50s.insert(name, time_requests(name, path, runs, request).await?);
    }
    println!(
        "bench.engagement_first_page.ratio_to_baseline {:.2}",
        p50s["engagement_first_page"] / p50s["newest_first_baseline"]
    );

    // The owner's pages, with the session cookie.
    let subscriber_page = format!("/admin/subscribers/{top}");
    let pages = [
        ("login_page_baseline", "/admin/login"),
        ("admin_dashboard", "/admin"),
        (
            "admin_subscribers_by_engagement",
            "/admin/subscribers?sort=engagement",
        ),
        ("admin_subscriber_page", subscriber_page.as_str()),
    ];
    for (name, path) in pages {
        let request = || {
            client
                .get(format!("{address}{path}"))
                .header("cookie", format!("hundred_session={session}"))
        };
        time_requests(name, path, runs, request).await?;
    }
    Ok(())
}
