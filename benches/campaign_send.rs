//! Campaign throughput: hundred sending N personalised messages to a local SMTP sink,
//! against a bare lettre loop sending N pre-rendered messages of the same size over the
//! same number of connections with TCP_NODELAY, in the same run.
//!
//! `benches/campaign.sh` starts postfix's smtp-sink and runs this; by hand:
//! `BENCH_SMTP=127.0.0.1:2525 BENCH_DATABASE=sqlite:///tmp/b.db cargo bench --bench campaign_send`
//!
//! Settings (environment): BENCH_SMTP (host:port of the sink), BENCH_DATABASE (a fresh
//! database URL), BENCH_MESSAGES (10000), BENCH_CONCURRENCY (8).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hundred::Config;
use hundred::app::prepare;
use hundred::domain::{BodyFormat, SignupSource, SubscriberEmail, SubscriberName};
use hundred::store::{CampaignDraft, NewSubscriber, Start, Timestamp};
use lettre::address::Envelope;
use lettre::transport::smtp::client::AsyncSmtpConnection;
use lettre::transport::smtp::extension::ClientId;
use tokio_util::sync::CancellationToken;

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

/// Peak resident memory of this process so far, in MB.
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// CPU time (user and system) this process has used so far, in seconds.
fn cpu_seconds() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a whole rusage into the pointer it is given.
    let usage = unsafe {
        libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr());
        usage.assume_init()
    };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

const BODY: &str = "# Hello {{ subscriber.name | default(value=\"friend\") }}!\n\n\
This week at the bakery in {{ subscriber.attributes.city | default(value=\"town\") }}: \
rye, spelt and a new **sourdough**. Come by before noon, they go fast.\n\n\
* Monday: [rye](https://bakery.example/rye?day=mon)\n\
* Wednesday: [spelt](https://bakery.example/spelt?day=wed)\n\
* Friday: [sourdough](https://bakery.example/sourdough?day=fri)\n\n\
See you soon,  \nthe Corner Bakery";

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    hundred::app::install_crypto_provider();
    if std::env::var("BENCH_LOG").is_ok() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_env("BENCH_LOG"))
            .with_writer(std::io::stderr)
            .init();
    }
    let smtp = env("BENCH_SMTP", "127.0.0.1:2525");
    let database = env("BENCH_DATABASE", "sqlite:///tmp/hundred-bench-campaign.db");
    let messages: usize = env("BENCH_MESSAGES", "10000").parse()?;
    let concurrency: usize = env("BENCH_CONCURRENCY", "8").parse()?;

    let mut settings = std::collections::HashMap::new();
    for (k, v) in [
        ("HUNDRED_DATABASE_URL", database.as_str()),
        ("HUNDRED_SMTP_URL", &format!("smtp://{smtp}")),
        ("HUNDRED_FROM", "Corner Bakery <news@bakery.example>"),
        ("HUNDRED_PUBLIC_URL", "https://news.bakery.example"),
        ("HUNDRED_SEND_RATE", "1000000"),
        ("HUNDRED_SEND_CONCURRENCY", &concurrency.to_string()),
        ("HUNDRED_INSTANCE_ID", "bench"),
    ] {
        settings.insert(k.to_string(), v.to_string());
    }
    let config = Config::from_map(&settings)?;
    let services = prepare(config).await?;
    let store = services.store.clone();

    eprintln!("adding {messages} confirmed subscribers ...");
    let now = Timestamp::now();
    for i in 0..messages {
        let subscriber = NewSubscriber {
            email: SubscriberEmail::parse(&format!("reader{i}@example.com"))
                .map_err(anyhow::Error::msg)?,
            name: SubscriberName::parse_optional(Some(&format!("Reader {i}")))
                .map_err(anyhow::Error::msg)?,
            attributes: serde_json::json!({ "city": if i % 2 == 0 { "Lyon" } else { "Porto" } }),
            source: SignupSource::Import,
            stated_consent: Some("benchmark".into()),
            now,
            message_domain: "bakery.example".into(),
        };
        store
            .add_subscriber(&subscriber)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let draft = CampaignDraft {
        subject: "This week's bread, {{ subscriber.name | default(value=\"friend\") }}".into(),
        body: BODY.into(),
        format: BodyFormat::Markdown,
        preheader: Some("Rye, spelt and sourdough".into()),
        layout: "default".into(),
        audience: None,
        public: false,
    };
    let campaign = store.create_campaign(&draft, Timestamp::now()).await?;
    let rss_before = rss_mb();

    eprintln!(
        "hundred: sending {messages} personalised messages over {concurrency} connections ..."
    );
    let started = Instant::now();
    let cpu_before = cpu_seconds();
    store
        .start_campaign(campaign, Timestamp::now(), "bakery.example", Start::Now)
        .await?;
    let stop = CancellationToken::new();
    let sender = services.campaign_sender();
    let task = tokio::spawn(sender.run(stop.clone()));
    loop {
        if store.campaign_status(campaign).await?.as_deref() == Some("sent") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let hundred_elapsed = started.elapsed();
    let hundred_cpu = cpu_seconds() - cpu_before;
    stop.cancel();
    let _ = task.await;
    let counts = store.delivery_counts(campaign).await?;
    let peak = peak_rss_mb();
    anyhow::ensure!(
        counts.sent as usize == messages,
        "only {} of {messages} sent: {counts:?}",
        counts.sent
    );
    let hundred_rate = messages as f64 / hundred_elapsed.as_secs_f64();

    // One of the copies hundred sent, rendered again, is the baseline's message.
    let per_copy;
    let sample = {
        use hundred::mail::compose::Recipient;
        use hundred::mail::render::{
            CampaignContent, CompiledCampaign, CopySettings, RecipientData, Tracking,
        };
        let compiled = CompiledCampaign::compile(
            &CampaignContent {
                subject: draft.subject.clone(),
                body: draft.body.clone(),
                format: draft.format,
                preheader: draft.preheader.clone(),
                layout: draft.layout.clone(),
            },
            &services
                .composer
                .layout(&draft.layout)
                .ok_or_else(|| anyhow::anyhow!("no layout"))?,
            &services.composer.look(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let data = RecipientData {
            name: Some("Reader 1".into()),
            email: "reader1@example.com".into(),
            attributes: serde_json::json!({ "city": "Porto" }),
        };
        let links = compiled
            .links_for(&data)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let links = links
            .into_iter()
            .enumerate()
            .map(|(i, url)| (url, i as i64 + 1))
            .collect();
        let id = uuid::Uuid::new_v4();
        let click = |link: i64| {
            services
                .signer
                .sign_value(hundred::signing::TokenPurpose::Click, id, link)
        };
        let composer = services.composer.clone();
        let unsubscribe = composer.unsubscribe_url(id);
        let render = |data: &RecipientData| {
            compiled
                .render(
                    data,
                    &CopySettings {
                        unsubscribe_url: &unsubscribe,
                        tracking: Some(Tracking {
                            public_base: services.config.public_base(),
                            open_token: Some(services.signer.sign_value(
                                hundred::signing::TokenPurpose::Open,
                                id,
                                0,
                            )),
                            click_token: &click,
                            links: &links,
                        }),
                        reader: Some(composer.reader_links(id, id)),
                    },
                )
                .map_err(|e| anyhow::anyhow!("{e}"))
        };
        let copy = render(&data)?;
        let recipient = Recipient {
            id,
            message: id,
            address: "reader1@example.com".into(),
            name: Some("Reader 1".into()),
        };
        // The CPU cost of one personalised copy (render and compose), on one thread.
        let rounds = messages.min(2000);
        let timer = Instant::now();
        for i in 0..rounds {
            let copy = render(&RecipientData {
                name: Some(format!("Reader {i}")),
                ..data.clone()
            })?;
            std::hint::black_box(composer.campaign(
                &recipient,
                &format!("<{}@bakery.example>", id.simple()),
                &copy,
            )?);
        }
        per_copy = timer.elapsed() / rounds as u32;
        composer
            .campaign(
                &recipient,
                &format!("<{}@bakery.example>", id.simple()),
                &copy,
            )?
            .bytes
    };
    eprintln!(
        "baseline: bare lettre loop, {messages} messages of {} bytes over {concurrency} connections ...",
        sample.len()
    );
    let cpu_before = cpu_seconds();
    let baseline_elapsed = baseline(&smtp, messages, concurrency, &sample).await?;
    let baseline_cpu = cpu_seconds() - cpu_before;
    let baseline_rate = messages as f64 / baseline_elapsed.as_secs_f64();

    println!("messages                 {messages}");
    println!("connections              {concurrency}");
    println!(
        "hundred                  {hundred_rate:.0} msg/s ({:.2} s)",
        hundred_elapsed.as_secs_f64()
    );
    println!(
        "baseline (lettre, NODELAY) {baseline_rate:.0} msg/s ({:.2} s)",
        baseline_elapsed.as_secs_f64()
    );
    println!(
        "ratio                    {:.2}",
        hundred_rate / baseline_rate
    );
    println!(
        "hundred's CPU time       {:.0} µs per message ({:.0} % of one core)",
        hundred_cpu / messages as f64 * 1e6,
        hundred_cpu / hundred_elapsed.as_secs_f64() * 100.0
    );
    println!(
        "baseline's CPU time      {:.0} µs per message ({:.0} % of one core)",
        baseline_cpu / messages as f64 * 1e6,
        baseline_cpu / baseline_elapsed.as_secs_f64() * 100.0
    );
    println!(
        "render + compose         {:.0} µs per copy on one thread",
        per_copy.as_secs_f64() * 1e6
    );
    println!("RSS before sending       {rss_before:.1} MB");
    println!("peak RSS (whole run)     {peak:.1} MB");
    Ok(())
}

/// One connection per worker, TCP_NODELAY, each sending its share of pre-rendered messages.
async fn baseline(
    smtp: &str,
    messages: usize,
    concurrency: usize,
    message: &[u8],
) -> anyhow::Result<Duration> {
    let message = Arc::new(message.to_vec());
    let started = Instant::now();
    let mut workers = Vec::new();
    for worker in 0..concurrency {
        let smtp = smtp.to_string();
        let message = message.clone();
        let share = messages / concurrency + usize::from(worker < messages % concurrency);
        workers.push(tokio::spawn(async move {
            let tcp = tokio::net::TcpStream::connect(&smtp).await?;
            tcp.set_nodelay(true)?;
            let mut connection =
                AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &ClientId::default())
                    .await?;
            for i in 0..share {
                let envelope = Envelope::new(
                    Some("news@bakery.example".parse()?),
                    vec![format!("reader{worker}-{i}@example.com").parse()?],
                )?;
                connection.send(&envelope, &message).await?;
            }
            connection.quit().await?;
            anyhow::Ok(())
        }));
    }
    for worker in workers {
        worker.await??;
    }
    Ok(started.elapsed())
}
