//! The writes: recomputing subscribers' engagement rows from what they did.
//!
//! Whatever records a human signal (the tracking writer, an inbound reply, a keep-me
//! answer) refreshes the subscriber's row in the same transaction, from the per-copy first
//! open/click/reply times in `deliveries` and the replies in `inbound_messages`: bounded by
//! the campaigns a person was sent, however many times they reopen one.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use anyhow::Context as _;
use time::OffsetDateTime;
use uuid::Uuid;

use super::super::dialect::{Dialect, Rows};
use super::super::{Store, Timestamp, with_pool};
use crate::domain::{CopySignals, EngagementModel, Figures};

const HALF_LIFE_KEY: &str = "engagement_half_life_days";

/// Recomputing subscribers' engagement inside the caller's transaction, on either database.
pub(crate) trait RefreshEngagement {
    async fn refresh_engagement(
        &mut self,
        model: &EngagementModel,
        ids: &[Uuid],
    ) -> anyhow::Result<()>;
}

impl RefreshEngagement for sqlx::PgConnection {
    async fn refresh_engagement(
        &mut self,
        model: &EngagementModel,
        ids: &[Uuid],
    ) -> anyhow::Result<()> {
        refresh::<sqlx::Postgres>(self, model, ids).await
    }
}

impl RefreshEngagement for sqlx::SqliteConnection {
    async fn refresh_engagement(
        &mut self,
        model: &EngagementModel,
        ids: &[Uuid],
    ) -> anyhow::Result<()> {
        refresh::<sqlx::Sqlite>(self, model, ids).await
    }
}

type CopyRow = (Uuid, Timestamp, Option<Timestamp>, Option<Timestamp>);

/// Recomputes the engagement rows of these subscribers on `conn`.
async fn refresh<DB: Dialect>(
    conn: &mut DB::Connection,
    model: &EngagementModel,
    ids: &[Uuid],
) -> anyhow::Result<()>
where
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
    for<'r> CopyRow: sqlx::FromRow<'r, DB::Row>,
    for<'r> (Uuid, Timestamp): sqlx::FromRow<'r, DB::Row>,
{
    if ids.is_empty() {
        return Ok(());
    }
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    DB::lock_engagement(&mut *conn, &ids).await?;
    let in_ids = DB::in_ids(1);
    let copies: Vec<CopyRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT subscriber_id, created_at, opened_at, clicked_at FROM deliveries \
         WHERE subscriber_id {in_ids}"
    )))
    .bind(DB::ids(&ids))
    .fetch_all(&mut *conn)
    .await
    .context("reading the copies of engaged subscribers")?;
    let replies: Vec<(Uuid, Timestamp)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT subscriber_id, received_at FROM inbound_messages \
         WHERE kind = 'reply' AND proof IS NOT NULL AND subscriber_id {in_ids}"
    )))
    .bind(DB::ids(&ids))
    .fetch_all(&mut *conn)
    .await
    .context("reading the replies of engaged subscribers")?;
    let kept: Vec<(Uuid, Timestamp)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT subscriber_id, kept_at FROM permission_requests \
         WHERE kept_at IS NOT NULL AND subscriber_id {in_ids}"
    )))
    .bind(DB::ids(&ids))
    .fetch_all(&mut *conn)
    .await
    .context("reading the keep-me answers of engaged subscribers")?;
    let figures = figures_of(model, &ids, copies, replies, kept);
    let rows = figure_rows(&figures);
    let sql = format!(
        "INSERT INTO engagement (subscriber_id, rank, opens, clicks, replies, last_open_at, \
         last_click_at, last_reply_at, last_signal_at, campaigns, campaigns_since_signal, \
         last_kept_at) SELECT * FROM {} WHERE true \
         ON CONFLICT (subscriber_id) DO UPDATE SET rank = excluded.rank, opens = excluded.opens, \
         clicks = excluded.clicks, replies = excluded.replies, last_open_at = excluded.last_open_at, \
         last_click_at = excluded.last_click_at, last_reply_at = excluded.last_reply_at, \
         last_signal_at = excluded.last_signal_at, campaigns = excluded.campaigns, \
         campaigns_since_signal = excluded.campaigns_since_signal, last_kept_at = excluded.last_kept_at",
        DB::rows(&rows, 1, "f")
    );
    DB::bind_rows(sqlx::query(sqlx::AssertSqlSafe(sql)), rows)
        .execute(&mut *conn)
        .await
        .context("storing engagement")?;
    Ok(())
}

/// The engagement rows to store, as a batch.
fn figure_rows(rows: &[(Uuid, Figures)]) -> Rows {
    let time = |f: fn(&Figures) -> Option<OffsetDateTime>| {
        rows.iter().map(move |(_, x)| f(x).map(Timestamp))
    };
    let count = |f: fn(&Figures) -> i64| rows.iter().map(move |(_, x)| f(x));
    Rows::new()
        .uuids("subscriber_id", rows.iter().map(|(id, _)| *id))
        .floats("rank", rows.iter().map(|(_, f)| f.rank))
        .ints("opens", count(|f| f.opens))
        .ints("clicks", count(|f| f.clicks))
        .ints("replies", count(|f| f.replies))
        .times("last_open_at", time(|f| f.last_open_at))
        .times("last_click_at", time(|f| f.last_click_at))
        .times("last_reply_at", time(|f| f.last_reply_at))
        .times("last_signal_at", time(|f| f.last_signal_at))
        .ints("campaigns", count(|f| f.campaigns))
        .ints(
            "campaigns_since_signal",
            count(|f| f.campaigns_since_signal),
        )
        .times("last_kept_at", time(|f| f.last_kept_at))
}

/// Weighs each subscriber's copies and replies.
fn figures_of(
    model: &EngagementModel,
    ids: &[Uuid],
    copies: Vec<CopyRow>,
    replies: Vec<(Uuid, Timestamp)>,
    kept: Vec<(Uuid, Timestamp)>,
) -> Vec<(Uuid, Figures)> {
    let mut sent: HashMap<Uuid, Vec<CopySignals>> = HashMap::new();
    for (subscriber, sent_at, opened_at, clicked_at) in copies {
        sent.entry(subscriber).or_default().push(CopySignals {
            sent_at: sent_at.0,
            opened_at: opened_at.map(|t| t.0),
            clicked_at: clicked_at.map(|t| t.0),
        });
    }
    let by_subscriber = |rows: Vec<(Uuid, Timestamp)>| {
        let mut map: HashMap<Uuid, Vec<OffsetDateTime>> = HashMap::new();
        for (subscriber, at) in rows {
            map.entry(subscriber).or_default().push(at.0);
        }
        map
    };
    let written = by_subscriber(replies);
    let answered = by_subscriber(kept);
    ids.iter()
        .map(|&id| {
            let copies = sent.get(&id).map(Vec::as_slice).unwrap_or_default();
            let replies = written.get(&id).map(Vec::as_slice).unwrap_or_default();
            let kept = answered.get(&id).map(Vec::as_slice).unwrap_or_default();
            (id, model.figures(copies, replies, kept))
        })
        .collect()
}

impl Store {
    pub fn with_engagement_model(self, model: EngagementModel) -> Self {
        self.set_engagement_model(model);
        self
    }

    /// Weighs with `model` from now on, in every clone of this store.
    pub fn set_engagement_model(&self, model: EngagementModel) {
        self.half_life_bits
            .store(model.half_life_days.to_bits(), Ordering::Relaxed);
    }

    pub fn engagement_model(&self) -> EngagementModel {
        EngagementModel {
            half_life_days: f64::from_bits(self.half_life_bits.load(Ordering::Relaxed)),
        }
    }

    /// Recomputes every subscriber's engagement when the half-life it was computed with is
    /// not the configured one (or it never was computed). Returns whether it did.
    pub async fn ensure_engagement_model(&self) -> anyhow::Result<bool> {
        let wanted = self.engagement_model().half_life_days.to_string();
        let stored: Option<String> = with_pool!(self, pool => sqlx::query_scalar(
            "SELECT value FROM settings WHERE key = $1",
        )
        .bind(HALF_LIFE_KEY)
        .fetch_optional(pool)
        .await
        .context("reading the engagement half-life")?);
        if stored.as_deref() == Some(wanted.as_str()) {
            return Ok(false);
        }
        self.rebuild_engagement().await?;
        self.recredit_pauses().await?;
        with_pool!(self, pool => sqlx::query(
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(HALF_LIFE_KEY)
        .bind(&wanted)
        .execute(pool)
        .await
        .map(|_| ())
        .context("storing the engagement half-life")?);
        Ok(true)
    }

    /// Recomputes every subscriber's engagement from their copies and replies.
    pub async fn rebuild_engagement(&self) -> anyhow::Result<()> {
        const CHUNK: usize = 2000;
        let ids: Vec<Uuid> = with_pool!(self, pool => sqlx::query_scalar("SELECT id FROM subscribers")
            .fetch_all(pool)
            .await
            .context("listing subscribers")?);
        for chunk in ids.chunks(CHUNK) {
            self.refresh_engagement(chunk).await?;
        }
        Ok(())
    }

    /// Recomputes these subscribers' engagement, in a transaction of its own.
    pub async fn refresh_engagement(&self, ids: &[Uuid]) -> anyhow::Result<()> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await.context("starting a transaction")?;
            tx.refresh_engagement(&self.engagement_model(), ids).await?;
            tx.commit().await.context("committing engagement")
        })
    }
}
