//! The public archive's reads and writes: the campaigns that went out and are marked
//! public, newest first, one of them by its slug, whether a campaign is public, and the
//! slugs themselves (given once, kept after).

use anyhow::Context as _;
use uuid::Uuid;

use super::campaigns::COLUMNS;
use super::{CampaignRecord, Store, with_pool};
use crate::domain::{nth_slug, slug_of};

/// What the archive shows: sent, public, with its address.
const SHOWN: &str = "public = TRUE AND status = 'sent' AND slug IS NOT NULL";

impl Store {
    /// The public campaigns that went out, newest first (`limit` from `offset`), and how
    /// many there are.
    pub async fn archive(
        &self,
        limit: i64,
        offset: i64,
    ) -> anyhow::Result<(i64, Vec<CampaignRecord>)> {
        let count = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM campaigns WHERE {SHOWN}"));
        let page = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM campaigns WHERE {SHOWN} \
             ORDER BY finished_at DESC, id DESC LIMIT $1 OFFSET $2"
        ));
        with_pool!(self, pool => {
            let total: i64 = sqlx::query_scalar(count)
                .fetch_one(pool)
                .await
                .context("counting the archive")?;
            let campaigns = sqlx::query_as::<_, CampaignRecord>(page)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await
                .context("reading the archive")?;
            Ok((total, campaigns))
        })
    }

    /// The public campaign that went out with this slug.
    pub async fn archived(&self, slug: &str) -> anyhow::Result<Option<CampaignRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM campaigns WHERE {SHOWN} AND slug = $1"
        ));
        with_pool!(self, pool => sqlx::query_as::<_, CampaignRecord>(sql)
            .bind(slug)
            .fetch_optional(pool)
            .await
            .context("reading an archived campaign"))
    }

    /// Campaigns that went out (or started to) and have no slug yet: id and subject.
    pub async fn campaigns_without_slug(&self) -> anyhow::Result<Vec<(Uuid, String)>> {
        with_pool!(self, pool => sqlx::query_as::<_, (Uuid, String)>(
            "SELECT id, subject FROM campaigns WHERE slug IS NULL AND started_at IS NOT NULL \
             ORDER BY started_at, id",
        )
        .fetch_all(pool)
        .await
        .context("finding campaigns without a slug"))
    }

    /// Gives every campaign that started going out and has no address yet its address: its
    /// subject's slug, numbered where another campaign has that one. The sender calls it
    /// whenever it looks for finished campaigns, so an address is there before anyone asks.
    pub async fn give_slugs(&self) -> anyhow::Result<()> {
        for (id, subject) in self.campaigns_without_slug().await? {
            let base = slug_of(&subject);
            let mut given = false;
            for n in 1..=1000 {
                if self.give_slug(id, &nth_slug(&base, n)).await? {
                    given = true;
                    break;
                }
            }
            if !given {
                // A thousand campaigns of one subject: the id, which no other has.
                self.give_slug(id, &format!("{base}-{}", id.simple()))
                    .await?;
            }
        }
        Ok(())
    }

    /// Gives `campaign` the slug `slug` unless it has one; `false` when another campaign
    /// has that slug already (try the next).
    pub async fn give_slug(&self, campaign: Uuid, slug: &str) -> anyhow::Result<bool> {
        let done: Result<(), sqlx::Error> = with_pool!(self, pool => sqlx::query(
            "UPDATE campaigns SET slug = $2 WHERE id = $1 AND slug IS NULL",
        )
        .bind(campaign)
        .bind(slug)
        .execute(pool)
        .await
        .map(|_| ()));
        match done {
            Ok(()) => Ok(true),
            Err(sqlx::Error::Database(err)) if err.is_unique_violation() => Ok(false),
            Err(err) => Err(anyhow::Error::from(err).context("giving a campaign its slug")),
        }
    }

    /// Shows the campaign in the archive, or takes it out; `false`: no such campaign.
    pub async fn set_public(&self, campaign: Uuid, public: bool) -> anyhow::Result<bool> {
        with_pool!(self, pool => Ok(sqlx::query("UPDATE campaigns SET public = $2 WHERE id = $1")
            .bind(campaign)
            .bind(public)
            .execute(pool)
            .await
            .context("changing whether a campaign is public")?
            .rows_affected()
            == 1))
    }
}
