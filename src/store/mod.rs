//! Storage: one `Store` in front of a SQLite or a Postgres pool, chosen by URL scheme.
//!
//! Every query is written once (`$1` placeholders work on both). The `with_pool!` macro
//! runs one body against whichever pool is configured; where the dialects differ, the
//! body asks the seam in `dialect.rs` for the piece that differs (a list of ids, a batch
//! of rows, how to claim rows, a cast), implemented once per backend.
//!
//! Layer: below the engine's work (mail, inbound, tracking, lists) and the use cases. It
//! may import domain, config and signing only; it must not import mail, inbound,
//! tracking, lists, actions, web, app or cli. A new query goes in the file about its data.

mod api_tokens;
mod archive;
mod campaigns;
mod conversation;
mod deliveries;
mod dialect;
mod engagement;
mod erasure;
mod events;
mod inbound;
mod lists;
mod media;
mod outbox;
mod owners;
mod permission;
mod reader;
mod reports;
mod review;
mod settings;
mod subscribers;
mod templates;
mod timestamp;

use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

pub use api_tokens::ApiTokenRecord;
pub use campaigns::{
    CampaignChange, CampaignDraft, CampaignError, CampaignListing, CampaignRecord, DeliveryCounts,
    FailedDelivery, Start,
};
pub use conversation::{AnswerMail, AnswerOutcome, NewAnswer, ReplyToAnswer};
pub use deliveries::{ClaimedDelivery, SentCopy};
pub use engagement::{
    CampaignInterest, EngagementSummary, RankedSubscriber, SubscriberFilter, SubscriberOrder,
    SubscriberPage, TierCount,
};
pub use events::{
    CampaignEngagement, DeliveryFacts, LinkClicks, NewEvent, ScannerBurst, StoredClick,
    TimelineEntry,
};
pub use inbound::{InboundEntry, InboundOutcome, Match, NewInbound, RecentReply};
pub use lists::{ExportedSubscriber, ImportCandidate, ImportOutcome, ImportTerms};
pub use media::{MediaDeletion, MediaFile, MediaRecord, MediaUse, NewMedia};
pub use outbox::{ClaimedMessage, MessageKind, OutboundState};
pub use owners::{OwnerAccount, OwnerError, OwnerSession, constant_time_eq, secret_hash};
pub use permission::{ANSWER_DAYS, DEFAULT_ANSWER_DAYS, KeepOutcome, PermissionSummary, answer_by};
pub use reader::{CopyOf, CopyToReader};
pub use reports::{CampaignMailKind, CampaignReport, InboundCounts, REPORT_FAILURES, Unsubscriber};
pub use review::{GenuineOutcome, LiftOutcome, ReviewDecision, ReviewOutcome};
pub use subscribers::{
    ConfirmOutcome, NewSubscriber, SignupOutcome, SignupRequest, StoreError, UnsubscribeOutcome,
};
pub use templates::{NewVersion, TemplateVersion, owner_templates, saved_of};
pub use timestamp::Timestamp;

/// Runs a write until it succeeds, at most `tries` times, waiting longer after each
/// failure. Each failure is logged as `what`; when every try failed, with `consequence`,
/// and the answer is `None`.
pub async fn retrying<T, Fut>(
    tries: u32,
    what: &str,
    consequence: &str,
    mut write: impl FnMut() -> Fut,
) -> Option<T>
where
    Fut: Future<Output = anyhow::Result<T>>,
{
    for attempt in 1..=tries {
        match write().await {
            Ok(done) => return Some(done),
            Err(err) if attempt < tries => {
                tracing::warn!(error = %format!("{err:#}"), "{what}; trying again");
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            Err(err) => tracing::error!(error = %format!("{err:#}"), "{what}; {consequence}"),
        }
    }
    None
}

/// Runs `$body` with `$pool` bound to the concrete pool of whichever backend is in use
/// (and, in the second form, `$db` naming its database, a `dialect::Dialect`). A macro
/// because the body is type-checked once per backend: the same code, two concrete types,
/// with none of the bounds generic sqlx code would have to spell out.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite($pool) => $body,
            $crate::store::Backend::Postgres($pool) => $body,
        }
    };
    ($store:expr, $pool:ident, $db:ident => $body:expr) => {
        match &$store.backend {
            $crate::store::Backend::Sqlite($pool) => {
                #[allow(dead_code)]
                type $db = ::sqlx::Sqlite;
                $body
            }
            $crate::store::Backend::Postgres($pool) => {
                #[allow(dead_code)]
                type $db = ::sqlx::Postgres;
                $body
            }
        }
    };
}
pub(crate) use with_pool;

/// Starts a transaction that will write. SQLite takes the write lock up front
/// (`BEGIN IMMEDIATE`), so two writers wait for each other instead of one failing with
/// "database is locked" when it upgrades a read lock.
pub(crate) trait BeginWrite {
    type Db: sqlx::Database;
    fn begin_write(
        &self,
    ) -> impl Future<Output = sqlx::Result<sqlx::Transaction<'static, Self::Db>>> + Send;
}

// Both begin on their own task. If the caller's future is dropped while `BEGIN` is in
// flight (a visitor closing the tab), sqlx can hand the connection back to the pool still
// inside the transaction, and whatever borrows it next runs invisibly inside that
// transaction. On its own task the begin always completes; an unwanted transaction is then
// dropped, which rolls it back before the connection is reused.

impl BeginWrite for SqlitePool {
    type Db = sqlx::Sqlite;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        let pool = self.clone();
        tokio::spawn(async move { pool.begin_with("BEGIN IMMEDIATE").await })
            .await
            .map_err(|err| sqlx::Error::Io(std::io::Error::other(err)))?
    }
}

impl BeginWrite for PgPool {
    type Db = sqlx::Postgres;
    async fn begin_write(&self) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        let pool = self.clone();
        tokio::spawn(async move { pool.begin().await })
            .await
            .map_err(|err| sqlx::Error::Io(std::io::Error::other(err)))?
    }
}

#[derive(Clone, Debug)]
pub enum Backend {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) backend: Backend,
    /// The half-life human signals are weighed with (`f64` bits), shared by every clone so
    /// a change of the owner's setting reaches them all (see `set_engagement_model`).
    pub(crate) half_life_bits: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Store {
    /// Connects to the database named by `url`: `sqlite://path` (folder and file created,
    /// WAL mode) or `postgres://…`. Any other scheme is refused with a message naming both.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let backend = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .with_context(|| "HUNDRED_DATABASE_URL is not a valid sqlite:// URL")?;
            if let Some(parent) = options.get_filename().parent()
                && !parent.as_os_str().is_empty()
            {
                std::fs::create_dir_all(parent).with_context(|| {
                    format!("could not create the database folder {}", parent.display())
                })?;
            }
            let options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(10));
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .connect_with(options)
                .await
                .context("could not open the SQLite database")?;
            Backend::Sqlite(pool)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let mut options = PgConnectOptions::from_str(url)
                .with_context(|| "HUNDRED_DATABASE_URL is not a valid postgres:// URL")?;
            // TLS to a server on the same machine protects nothing and costs a handshake per
            // connection (most of the start-up time); an explicit sslmode still wins.
            let host = options.get_host().to_string();
            let loopback = host == "localhost"
                || host.starts_with('/')
                || host
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if loopback && !url.contains("sslmode=") {
                options = options.ssl_mode(sqlx::postgres::PgSslMode::Disable);
            }
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .context("could not connect to Postgres")?;
            Backend::Postgres(pool)
        } else {
            anyhow::bail!(
                "HUNDRED_DATABASE_URL: unsupported scheme; use sqlite://path/to/file.db or postgres://user@host/db"
            );
        };
        Ok(Self {
            backend,
            half_life_bits: std::sync::Arc::new(std::sync::atomic::AtomicU64::new(
                crate::domain::EngagementModel::default()
                    .half_life_days
                    .to_bits(),
            )),
        })
    }

    /// Brings the schema up to date. Safe to run from several instances at once.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.backend {
            Backend::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await,
            Backend::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await,
        }
        .context("running database migrations")
    }

    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite(_) => "sqlite",
            Backend::Postgres(_) => "postgres",
        }
    }

    /// True when the database answers a trivial query within a second.
    pub async fn is_healthy(&self) -> bool {
        let probe = async {
            with_pool!(self, pool => sqlx::query("SELECT 1").execute(pool).await.map(|_| ()))
        };
        matches!(
            tokio::time::timeout(Duration::from_secs(1), probe).await,
            Ok(Ok(()))
        )
    }

    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await)
    }
}
