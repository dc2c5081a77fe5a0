//! Images the owner uploaded (`media`): stored once per distinct content (by the SHA-256 of
//! the stored bytes), listed, served by hash, and deleted unless a campaign that went out
//! shows them or the owner's saved logo setting (`owner.logo` in `settings`) names one. A campaign "uses" an image when its body contains the image's path,
//! `/media/{hash}.`, whatever public URL it was written with.

use anyhow::Context as _;
use uuid::Uuid;

use super::{BeginWrite, Store, Timestamp, with_pool};

/// An image about to be stored: its bytes as they will be served, and what they are.
#[derive(Debug, Clone)]
pub struct NewMedia {
    /// SHA-256 of `data`, lower-case hex.
    pub hash: String,
    pub content_type: &'static str,
    pub ext: &'static str,
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
    pub original_name: Option<String>,
}

/// A stored image, without its bytes.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct MediaRecord {
    pub id: Uuid,
    pub hash: String,
    pub content_type: String,
    pub ext: String,
    pub width: i32,
    pub height: i32,
    pub bytes: i32,
    pub original_name: Option<String>,
    pub created_at: Timestamp,
}

impl MediaRecord {
    /// Where it is served, from the site's root: `/media/{hash}.{ext}`.
    pub fn path(&self) -> String {
        format!("/media/{}.{}", self.hash, self.ext)
    }
}

/// A stored image's bytes and type, as `/media/{hash}.{ext}` serves them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MediaFile {
    pub content_type: String,
    pub data: Vec<u8>,
}

/// A campaign whose body shows an image.
#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct MediaUse {
    pub media_id: Uuid,
    pub campaign_id: Uuid,
    pub subject: String,
    pub status: String,
    /// It has started sending (copies with the image may be in inboxes).
    pub gone_out: bool,
}

/// What deleting an image did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaDeletion {
    Deleted,
    NotFound,
    /// Campaigns that went out show it (their subjects); nothing was deleted.
    InUse(Vec<String>),
    /// It is the list's logo (the owner's setting `logo`); nothing was deleted.
    Logo,
}

const COLUMNS: &str =
    "id, hash, content_type, ext, width, height, bytes, original_name, created_at";

/// Campaigns whose body contains the media row's path (`media` in scope as `m`).
const USED_BY: &str = "c.body LIKE '%/media/' || m.hash || '.%'";

/// The owner's saved logo is the image whose id (as text) is bound as `$2`.
const IS_LOGO: &str =
    "EXISTS (SELECT 1 FROM settings s WHERE s.key = 'owner.logo' AND s.value = $2)";

impl Store {
    /// Stores the image, or finds the one already stored with the same bytes; the record
    /// either way.
    pub async fn add_media(&self, media: &NewMedia) -> anyhow::Result<MediaRecord> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM media WHERE hash = $1"));
        let bytes = i32::try_from(media.data.len()).context("an image of over 2 GB")?;
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("storing an image")?;
            sqlx::query(
                "INSERT INTO media (id, hash, content_type, ext, width, height, bytes, data, \
                 original_name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                 ON CONFLICT (hash) DO NOTHING",
            )
            .bind(Uuid::now_v7())
            .bind(&media.hash)
            .bind(media.content_type)
            .bind(media.ext)
            .bind(i32::try_from(media.width).unwrap_or(i32::MAX))
            .bind(i32::try_from(media.height).unwrap_or(i32::MAX))
            .bind(bytes)
            .bind(&media.data)
            .bind(media.original_name.as_deref())
            .bind(Timestamp::now())
            .execute(&mut *tx)
            .await
            .context("storing an image")?;
            let record = sqlx::query_as::<_, MediaRecord>(sql)
                .bind(&media.hash)
                .fetch_one(&mut *tx)
                .await
                .context("reading the stored image back")?;
            tx.commit().await.context("storing an image")?;
            Ok(record)
        })
    }

    /// Stored images, newest first.
    pub async fn media_list(&self, limit: i64, offset: i64) -> anyhow::Result<Vec<MediaRecord>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM media ORDER BY created_at DESC, id DESC LIMIT $1 OFFSET $2"
        ));
        with_pool!(self, pool => sqlx::query_as::<_, MediaRecord>(sql)
            .bind(limit)
            .bind(offset)
            .fetch_all(pool)
            .await
            .context("listing images"))
    }

    pub async fn media_count(&self) -> anyhow::Result<i64> {
        with_pool!(self, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM media")
            .fetch_one(pool)
            .await
            .context("counting images"))
    }

    /// One stored image, by id.
    pub async fn media(&self, id: Uuid) -> anyhow::Result<Option<MediaRecord>> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM media WHERE id = $1"));
        with_pool!(self, pool => sqlx::query_as::<_, MediaRecord>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await
            .context("reading an image"))
    }

    /// The bytes served at `/media/{hash}.{ext}`, if that names a stored image.
    pub async fn media_file(&self, hash: &str, ext: &str) -> anyhow::Result<Option<MediaFile>> {
        with_pool!(self, pool => sqlx::query_as::<_, MediaFile>(
            "SELECT content_type, data FROM media WHERE hash = $1 AND ext = $2",
        )
        .bind(hash)
        .bind(ext)
        .fetch_optional(pool)
        .await
        .context("reading an image's bytes"))
    }

    /// Every campaign that shows one of the stored images, newest campaign first.
    pub async fn media_uses(&self) -> anyhow::Result<Vec<MediaUse>> {
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT m.id AS media_id, c.id AS campaign_id, c.subject, c.status, \
             c.started_at IS NOT NULL AS gone_out \
             FROM media m JOIN campaigns c ON {USED_BY} \
             ORDER BY c.created_at DESC, c.id DESC"
        ));
        with_pool!(self, pool => sqlx::query_as::<_, MediaUse>(sql)
            .fetch_all(pool)
            .await
            .context("finding where images are used"))
    }

    /// Deletes the image unless a campaign that went out (started sending: sending,
    /// paused, sent, or cancelled part way) shows it, or it is the list's logo.
    pub async fn delete_media(&self, id: Uuid) -> anyhow::Result<MediaDeletion> {
        let delete = sqlx::AssertSqlSafe(format!(
            "DELETE FROM media WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM campaigns c, media m \
             WHERE m.id = $1 AND c.started_at IS NOT NULL AND {USED_BY}) AND NOT {IS_LOGO}"
        ));
        let uses = sqlx::AssertSqlSafe(format!(
            "SELECT c.subject FROM campaigns c, media m WHERE m.id = $1 \
             AND c.started_at IS NOT NULL AND {USED_BY} ORDER BY c.created_at, c.id"
        ));
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("deleting an image")?;
            let deleted = sqlx::query(delete)
                .bind(id)
                .bind(id.to_string())
                .execute(&mut *tx)
                .await
                .context("deleting an image")?
                .rows_affected();
            let outcome = if deleted == 1 {
                MediaDeletion::Deleted
            } else {
                let found: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM media WHERE id = $1")
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await
                    .context("looking for an image")?;
                let subjects = sqlx::query_scalar::<_, String>(uses)
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .context("finding where an image is used")?;
                let logo: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM settings WHERE key = 'owner.logo' AND value = $1",
                )
                .bind(id.to_string())
                .fetch_one(&mut *tx)
                .await
                .context("asking whether an image is the logo")?;
                match found {
                    0 => MediaDeletion::NotFound,
                    _ if subjects.is_empty() && logo > 0 => MediaDeletion::Logo,
                    _ => MediaDeletion::InUse(subjects),
                }
            };
            tx.commit().await.context("deleting an image")?;
            Ok(outcome)
        })
    }
}
