//! The owner's templates, every saved version (`template_versions`), and the layout version
//! each campaign went out with. A save also counts as a change of the owner's settings
//! (`owner_version`), so every instance picks it up as it picks up the settings.

use anyhow::Context as _;
use uuid::Uuid;

use super::settings::{BUMP_OWNER_VERSION, OWNER_VERSION};
use super::{BeginWrite, Store, Timestamp, with_pool};
use crate::templates::editable::{OwnerTemplates, Parts, Saved, TemplateName};

/// One saved version of a template.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TemplateVersion {
    pub id: i64,
    pub name: String,
    pub version: i32,
    /// Its parts as a JSON object; `None`: the owner removed this layout.
    pub parts: Option<String>,
    /// A copy of the shipped default (a reset, or as a campaign went out with it).
    pub shipped: bool,
    pub saved_at: Timestamp,
}

/// What a new version holds.
#[derive(Debug, Clone, Copy)]
pub enum NewVersion<'a> {
    /// The owner's text (a JSON object of parts).
    Owner(&'a str),
    /// The shipped default, as it reads today (a JSON object of parts).
    Shipped(&'a str),
    /// The owner removed the layout.
    Removed,
}

const COLUMNS: &str = "id, name, version, parts, shipped, saved_at";

impl Store {
    /// The latest version of every template that was ever saved.
    pub async fn latest_templates(&self) -> anyhow::Result<Vec<TemplateVersion>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM template_versions t WHERE version = \
             (SELECT MAX(version) FROM template_versions v WHERE v.name = t.name)"
        ));
        with_pool!(self, pool => sqlx::query_as::<_, TemplateVersion>(sql)
            .fetch_all(pool)
            .await
            .context("reading the templates"))
    }

    /// The versions of `name`, newest first (at most `limit`).
    pub async fn template_versions(
        &self,
        name: &str,
        limit: i64,
    ) -> anyhow::Result<Vec<TemplateVersion>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM template_versions WHERE name = $1 \
             ORDER BY version DESC LIMIT $2"
        ));
        with_pool!(self, pool => sqlx::query_as::<_, TemplateVersion>(sql)
            .bind(name)
            .bind(limit)
            .fetch_all(pool)
            .await
            .context("reading a template's versions"))
    }

    /// The version with this id.
    pub async fn template_version(&self, id: i64) -> anyhow::Result<Option<TemplateVersion>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM template_versions WHERE id = $1"
        ));
        with_pool!(self, pool => sqlx::query_as::<_, TemplateVersion>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await
            .context("reading a template version"))
    }

    /// Saves the next version of `name`. Two saves at once: the second tries again on top.
    pub async fn save_template(
        &self,
        name: &str,
        new: NewVersion<'_>,
    ) -> anyhow::Result<TemplateVersion> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.insert_template_version(name, new).await {
                Ok(saved) => return Ok(saved),
                Err(err) if attempt < 3 => {
                    tracing::debug!(error = %format!("{err:#}"), "saving a template again");
                }
                Err(err) => return Err(err),
            }
        }
    }

    async fn insert_template_version(
        &self,
        name: &str,
        new: NewVersion<'_>,
    ) -> anyhow::Result<TemplateVersion> {
        let (parts, shipped) = match new {
            NewVersion::Owner(parts) => (Some(parts), false),
            NewVersion::Shipped(parts) => (Some(parts), true),
            NewVersion::Removed => (None, false),
        };
        let sql = sqlx::AssertSqlSafe(format!(
            "INSERT INTO template_versions (name, version, parts, shipped, saved_at) \
             VALUES ($1, (SELECT COALESCE(MAX(version), 0) + 1 FROM template_versions \
             WHERE name = $1), $2, $3, $4) RETURNING {COLUMNS}"
        ));
        with_pool!(self, pool => {
            let mut tx = BeginWrite::begin_write(pool).await.context("starting a transaction")?;
            let saved = sqlx::query_as::<_, TemplateVersion>(sql)
                .bind(name)
                .bind(parts)
                .bind(shipped)
                .bind(Timestamp::now())
                .fetch_one(&mut *tx)
                .await
                .context("saving a template version")?;
            sqlx::query(BUMP_OWNER_VERSION)
                .bind(OWNER_VERSION)
                .execute(&mut *tx)
                .await
                .context("counting the save")?;
            tx.commit().await.context("committing the template")?;
            Ok(saved)
        })
    }

    /// Records the layout version `campaign` goes out with, unless one is recorded already;
    /// the one recorded.
    pub async fn pin_layout(&self, campaign: Uuid, version: i64) -> anyhow::Result<Option<i64>> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE campaigns SET layout_version = $2 WHERE id = $1 AND layout_version IS NULL",
            )
            .bind(campaign)
            .bind(version)
            .execute(pool)
            .await
            .context("recording the campaign's layout")?;
            sqlx::query_scalar::<_, Option<i64>>("SELECT layout_version FROM campaigns WHERE id = $1")
                .bind(campaign)
                .fetch_optional(pool)
                .await
                .map(Option::flatten)
                .context("reading the campaign's layout")
        })
    }

    /// The subjects of campaigns not yet sent that use the layout called `layout`.
    pub async fn unsent_campaigns_using(&self, layout: &str) -> anyhow::Result<Vec<String>> {
        with_pool!(self, pool => sqlx::query_scalar::<_, String>(
            "SELECT subject FROM campaigns WHERE layout = $1 AND status IN ('draft', 'scheduled') \
             ORDER BY created_at",
        )
        .bind(layout)
        .fetch_all(pool)
        .await
        .context("finding campaigns that use a layout"))
    }
}

/// A saved version as the templates hold it (`parts` when the row's do not read).
pub fn saved_of(version: TemplateVersion, parts: Parts) -> Saved {
    let parts = version
        .parts
        .as_deref()
        .and_then(|text| serde_json::from_str(text).ok())
        .unwrap_or(parts);
    Saved {
        id: version.id,
        version: i64::from(version.version),
        parts,
        saved_at: version.saved_at.into(),
    }
}

/// The owner's templates as the database holds them: the latest version of each that is
/// the owner's own (not a reset, not a removed layout).
pub async fn owner_templates(store: &Store) -> anyhow::Result<OwnerTemplates> {
    let latest = store.latest_templates().await?;
    Ok(OwnerTemplates::new(latest.into_iter().filter_map(|row| {
        if row.shipped || row.parts.is_none() || TemplateName::parse(&row.name).is_none() {
            return None;
        }
        let name = row.name.clone();
        let readable = row
            .parts
            .as_deref()
            .is_some_and(|text| serde_json::from_str::<Parts>(text).is_ok());
        if !readable {
            tracing::warn!(template = %name, "a saved template does not read; the default stands");
            return None;
        }
        Some((name, saved_of(row, Parts::new())))
    })))
}
