//! The owner's command-line tools: API tokens, campaigns, importing and exporting the list.
//!
//! Layer: the top, beside `web`: each command reads its arguments, calls the use case in
//! `actions` (through `app::prepare`'s `Services`) and prints the answer; a refusal is the
//! use case's own sentence and a non-zero exit.

use std::time::Duration;

use anyhow::Context as _;

use indicatif::{ProgressBar, ProgressStyle};
use time::format_description::well_known::Rfc3339;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::actions::campaigns::{self, CampaignRefusal};
use crate::actions::lists::{ImportError, Upload};
use crate::app::open_store;
use crate::config::Config;
use crate::domain::Tier;
use crate::lists::{ConsentBasis, ImportMode, ImportReport};
use crate::store::{CampaignRecord, Store, SubscriberFilter, SubscriberOrder, Timestamp};

pub async fn token_create(config: Config, name: &str) -> anyhow::Result<()> {
    let services = crate::app::prepare(config).await?;
    let (_, token) = crate::actions::accounts::create_api_token(&services, name).await?;
    println!("{token}");
    Ok(())
}

/// `hundred user create --email E`: an owner account; the password is read from standard
/// input, one line (`echo "$PASSWORD" | hundred user create --email …`), or typed at a
/// prompt without echo when standard input is a terminal.
pub async fn user_create(config: Config, email: &str) -> anyhow::Result<()> {
    use std::io::{BufRead as _, Read as _};
    let mut password = String::new();
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        password = rpassword::prompt_password(format!(
            "Password for {email} (at least {} characters): ",
            crate::actions::accounts::MIN_PASSWORD_CHARS
        ))
        .context("reading the password")?;
    } else {
        std::io::stdin()
            .lock()
            .take(crate::actions::accounts::MAX_PASSWORD_BYTES as u64 + 2)
            .read_line(&mut password)
            .context("reading the password from standard input")?;
    }
    let password = password.strip_suffix('\n').unwrap_or(&password);
    let password = password.strip_suffix('\r').unwrap_or(password);
    let services = crate::app::prepare(config).await?;
    let account = crate::actions::accounts::create_owner(&services, email, password).await?;
    eprintln!(
        "created the owner account {}; log in at {}/admin/login",
        account.email,
        services.config.public_base()
    );
    Ok(())
}

fn parse_campaign_id(raw: &str) -> anyhow::Result<Uuid> {
    Uuid::parse_str(raw.trim())
        .with_context(|| format!("'{raw}' is not a campaign id (see `hundred campaign list`)"))
}

async fn load(store: &Store, id: Uuid) -> anyhow::Result<CampaignRecord> {
    store
        .campaign(id)
        .await?
        .with_context(|| format!("there is no campaign {id} (see `hundred campaign list`)"))
}

/// Starts a draft or scheduled campaign (or follows one already sending) and shows its
/// progress until it is done. This process sends too, beside any running `serve`: the
/// senders share the work through the database. A campaign that cannot go (its templates
/// no longer compile, no one in its audience, already sent) is refused with the sentence
/// the web app shows, and the command fails.
pub async fn campaign_send(config: Config, raw_id: &str) -> anyhow::Result<()> {
    let id = parse_campaign_id(raw_id)?;
    let services = crate::app::prepare(config).await?;
    let store = services.store.clone();
    let record = load(&store, id).await?;
    match campaigns::send(&services, id, None).await {
        Ok(recipients) => eprintln!(
            "Sending \"{}\" to {recipients} confirmed subscribers.",
            record.subject
        ),
        Err(CampaignRefusal::WrongStatus { current, .. }) if current == "sending" => {
            eprintln!("\"{}\" is already sending; following it.", record.subject)
        }
        Err(refusal) => return Err(refusal.into()),
    }

    let stop = CancellationToken::new();
    let sender = services.campaign_sender();
    let sending = tokio::spawn(sender.run(stop.clone()));

    let counts = store.delivery_counts(id).await?;
    let bar = ProgressBar::new(counts.total().max(0) as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} sent · {rate} · ETA {eta} · {msg}")
            .map(|style| {
                style.with_key(
                    "rate",
                    |state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                        let _ = write!(w, "{:.0}/s", state.per_sec());
                    },
                )
            })
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    let outcome = loop {
        let counts = store.delivery_counts(id).await?;
        bar.set_length(counts.total().max(0) as u64);
        bar.set_position((counts.sent + counts.failed + counts.skipped).max(0) as u64);
        bar.set_message(format!(
            "{} failed, {} skipped",
            counts.failed, counts.skipped
        ));
        let status = store.campaign_status(id).await?.unwrap_or_default();
        if matches!(status.as_str(), "sent" | "cancelled" | "paused") {
            break status;
        }
        tokio::select! {
            _ = &mut interrupted => break "interrupted".to_string(),
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
    };
    bar.finish();
    stop.cancel();
    let _ = sending.await;
    if outcome == "interrupted" {
        eprintln!(
            "Stopped following. The campaign goes on with `hundred serve` or another `hundred campaign send {id}`."
        );
    }
    print_report(&store, id).await
}

pub async fn campaign_list(config: Config) -> anyhow::Result<()> {
    let store = open_store(&config).await?;
    let campaigns = store.campaigns().await?;
    if campaigns.is_empty() {
        println!("No campaigns yet.");
        return Ok(());
    }
    println!(
        "{:<36}  {:<9}  {:>6}  {:>6}  {:<16}  subject",
        "id", "status", "sent", "total", "created"
    );
    for campaign in campaigns {
        let counts = store.delivery_counts(campaign.id).await?;
        println!(
            "{:<36}  {:<9}  {:>6}  {:>6}  {:<16}  {}",
            campaign.id,
            campaign.status,
            counts.sent,
            counts.total(),
            short_time(campaign.created_at),
            campaign.subject.chars().take(60).collect::<String>(),
        );
    }
    Ok(())
}

pub async fn campaign_report(config: Config, raw_id: &str) -> anyhow::Result<()> {
    let id = parse_campaign_id(raw_id)?;
    let store = open_store(&config).await?;
    print_report(&store, id).await
}

/// The list's headline, its tiers, and the most engaged subscribers as a table.
pub async fn engagement(config: Config, tier: Option<&str>, limit: u32) -> anyhow::Result<()> {
    let tier = tier
        .map(|raw| {
            Tier::parse(raw.trim()).with_context(|| {
                format!("'{raw}' is not a tier; use core, engaged, new, quiet, dormant or gone")
            })
        })
        .transpose()?;
    let limit = limit.clamp(1, 1000);
    let store = open_store(&config).await?;
    let now = time::OffsetDateTime::now_utc();
    let summary = store.engagement_summary(now).await?;
    println!(
        "{} engaged of {} confirmed",
        summary.engaged, summary.confirmed
    );
    let tiers: Vec<String> = summary
        .tiers
        .iter()
        .map(|t| format!("{} {}", t.tier.as_str(), t.count))
        .collect();
    println!("{}", tiers.join(" · "));
    let filter = SubscriberFilter {
        status: None,
        tier,
        order: SubscriberOrder::Engagement,
    };
    let page = store.subscribers(filter, i64::from(limit), 0, now).await?;
    if page.subscribers.is_empty() {
        println!(
            "\nNo subscribers{}.",
            tier.map(|t| format!(" in the {} tier", t.as_str()))
                .unwrap_or_default()
        );
        return Ok(());
    }
    println!();
    println!(
        "{:>6}  {:<8}  {:<32}  {:<20}  why",
        "score", "tier", "email", "name"
    );
    for ranked in &page.subscribers {
        let engagement = &ranked.engagement;
        println!(
            "{:>6.1}  {:<8}  {:<32}  {:<20}  {}",
            engagement.score,
            engagement.tier.as_str(),
            clip(&ranked.subscriber.email, 32),
            clip(ranked.subscriber.name.as_deref().unwrap_or(""), 20),
            engagement.reasons.join("; "),
        );
    }
    if page.total > page.subscribers.len() as i64 {
        println!(
            "… and {} more (--limit to see more)",
            page.total - page.subscribers.len() as i64
        );
    }
    Ok(())
}

/// At most `width` characters, one line, with … where it was cut.
fn clip(text: &str, width: usize) -> String {
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.chars().count() <= width {
        return line;
    }
    let mut clipped: String = line.chars().take(width - 1).collect();
    clipped.push('…');
    clipped
}

async fn print_report(store: &Store, id: Uuid) -> anyhow::Result<()> {
    let campaign = load(store, id).await?;
    let counts = store.delivery_counts(id).await?;
    println!("{}", campaign.subject);
    println!("  status     {}", campaign.status);
    if let Some(at) = campaign.scheduled_at {
        println!("  scheduled  {}", long_time(at));
    }
    if let Some(at) = campaign.started_at {
        println!("  started    {}", long_time(at));
    }
    if let Some(late) = campaign.late_by_seconds {
        println!("  went late  started {late} s after its time (the service was not running)");
    }
    if let Some(at) = campaign.finished_at {
        println!("  finished   {}", long_time(at));
    }
    println!(
        "  recipients {}: {} sent, {} failed, {} skipped, {} queued",
        counts.total(),
        counts.sent,
        counts.failed,
        counts.skipped,
        counts.queued
    );
    if counts.resumed_after_crash > 0 {
        println!(
            "  {} deliveries were taken over from a sender that stopped unexpectedly; each may have reached its recipient twice",
            counts.resumed_after_crash
        );
    }
    let failures = store.failed_deliveries(id, 50).await?;
    if !failures.is_empty() {
        println!("  failures:");
        for failure in failures {
            println!(
                "    {}  after {} attempt(s): {}",
                failure.email.as_deref().unwrap_or("(erased)"),
                failure.attempts,
                failure.smtp_reply.as_deref().unwrap_or("")
            );
        }
    }
    Ok(())
}

fn long_time(ts: Timestamp) -> String {
    ts.0.format(&Rfc3339).unwrap_or_default()
}

fn short_time(ts: Timestamp) -> String {
    long_time(ts)
        .chars()
        .take(16)
        .collect::<String>()
        .replace('T', " ")
}

/// `hundred import FILE.csv --basis "…" [--basis-kind K] [--confirmed]`: the same import as
/// the web app's, with a progress bar, then the report. Fails (after the report) when rows
/// were rejected or the import stopped early, so a script notices.
pub async fn import(
    config: Config,
    path: &std::path::Path,
    basis: &str,
    basis_kind: Option<&str>,
    confirmed: bool,
) -> anyhow::Result<()> {
    let basis_kind = basis_kind.unwrap_or("other");
    // Checked before the file is read, so a mistyped flag does not wait for a large file.
    ConsentBasis::parse(Some(basis_kind), Some(basis))
        .map_err(|err| import_refused(path, ImportError::Basis(err)))?;
    let size = std::fs::metadata(path)
        .with_context(|| format!("could not read {}", path.display()))?
        .len();
    let too_large = format!(
        "{} is {} MB; at most {} MB can be imported at once: split it",
        path.display(),
        size / (1024 * 1024),
        crate::lists::MAX_CLI_FILE_BYTES / (1024 * 1024)
    );
    if size > crate::lists::MAX_CLI_FILE_BYTES {
        anyhow::bail!("{too_large}");
    }
    let bytes =
        std::fs::read(path).with_context(|| format!("could not read {}", path.display()))?;
    let services = crate::app::prepare(config).await?;
    let upload = Upload {
        mode: if confirmed {
            ImportMode::AlreadyConfirmed
        } else {
            ImportMode::AskToConfirm
        },
        basis_kind: Some(basis_kind),
        basis: Some(basis),
        file: Some(bytes.into()),
        limit: (
            usize::try_from(crate::lists::MAX_CLI_FILE_BYTES).unwrap_or(usize::MAX),
            &too_large,
        ),
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows · ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let progress = bar.clone();
    let report = crate::actions::lists::import(&services, upload, move |done, total| {
        progress.set_length(total as u64);
        progress.set_position(done as u64);
    })
    .await
    .map_err(|err| import_refused(path, err))?;
    bar.finish_and_clear();
    print_import_report(&path.display().to_string(), &report);
    if let Some(stopped) = &report.stopped {
        anyhow::bail!("{stopped}");
    }
    if !report.rejected.is_empty() {
        anyhow::bail!(
            "rejected rows: {}; fix them and import them again",
            report.rejected.len()
        );
    }
    Ok(())
}

/// An import's refusal in the words every face uses, with what the command line adds: which
/// file, which flags.
fn import_refused(path: &std::path::Path, err: ImportError) -> anyhow::Error {
    match err {
        ImportError::Unexpected(err) => err,
        ImportError::Basis(err) => anyhow::anyhow!(
            "--basis / --basis-kind: {err} (--basis-kind is one of signup_form, in_person, asked_by_message, other)"
        ),
        err => anyhow::anyhow!("{}: {err}", path.display()),
    }
}

/// Skipped rows listed one by one, at most; every one is counted.
const LISTED_SKIPPED: usize = 50;

fn print_import_report(source: &str, report: &ImportReport) {
    println!("{source}: {} rows", report.rows);
    let added = match report.mode {
        ImportMode::AskToConfirm => {
            "each sent a confirmation message (queued: `hundred serve` sends them)"
        }
        ImportMode::AlreadyConfirmed => "as confirmed subscribers; no message sent",
    };
    println!("  {} added, {added}", report.added);
    println!("  {} skipped", report.skipped.len());
    for reason in &report.skipped_by_reason {
        println!("      {} {}", reason.count, reason.reason);
    }
    println!("  {} rejected", report.rejected.len());
    for note in &report.notes {
        println!("note: {note}");
    }
    if !report.rejected.is_empty() {
        println!("\nRejected rows:");
        for row in &report.rejected {
            println!(
                "  line {:<6} {:<32}  {}",
                row.line,
                clip(&row.email, 32),
                row.reason
            );
        }
    }
    if !report.skipped.is_empty() {
        println!("\nSkipped rows:");
        for row in report.skipped.iter().take(LISTED_SKIPPED) {
            println!(
                "  line {:<6} {:<32}  {}",
                row.line,
                clip(&row.email, 32),
                row.why
            );
        }
        if report.skipped.len() > LISTED_SKIPPED {
            println!("  … and {} more", report.skipped.len() - LISTED_SKIPPED);
        }
    }
}

/// `hundred export`: every subscriber as CSV on standard output.
pub async fn export(config: Config) -> anyhow::Result<()> {
    use futures::TryStreamExt as _;
    use std::io::Write as _;
    let services = crate::app::prepare(config).await?;
    let chunks = crate::actions::lists::export(&services, false);
    let mut chunks = std::pin::pin!(chunks);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    while let Some(chunk) = chunks.try_next().await? {
        match out.write_all(&chunk) {
            // The reader went away (`hundred export | head`): nothing more to do.
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
            other => other.context("writing the export")?,
        }
    }
    match out.flush() {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("writing the export"),
    }
}
