//! The places an erasure looks in, one step each, inside the erasure's transaction.

use anyhow::Context as _;
use sqlx::Row as _;
use sqlx::types::Json;
use sqlx::{Database, Decode, Encode, Executor, FromRow, IntoArguments, Type};
use uuid::Uuid;

use super::{Fate, MIN_VALUE_CHARS, Person, Search, fate, like_pattern, mentioning, redact_all};
use crate::domain::{SubscriberEmail, Traces};
use crate::store::dialect::Dialect;

/// A row's key and its text columns.
type TextRow<K> = (K, Vec<Option<String>>);

/// One erasure under way: the subscriber, on the erasure's connection.
pub(super) struct Erasure<'t, DB: Database> {
    conn: &'t mut DB::Connection,
    id: Uuid,
}

impl<'t, DB: Dialect> Erasure<'t, DB>
where
    for<'c> &'c mut DB::Connection: Executor<'c, Database = DB>,
    DB::Arguments: IntoArguments<DB>,
    usize: sqlx::ColumnIndex<DB::Row>,
    Uuid: for<'e> Encode<'e, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    i64: for<'e> Encode<'e, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    String: for<'e> Encode<'e, DB> + for<'r> Decode<'r, DB> + Type<DB>,
    for<'e> &'e str: Encode<'e, DB> + Type<DB>,
    Option<String>: for<'e> Encode<'e, DB> + Type<DB>,
    Option<Json<serde_json::Value>>: for<'e> Encode<'e, DB> + Type<DB>,
    for<'r> (i64,): FromRow<'r, DB::Row>,
    for<'r> (Uuid, String): FromRow<'r, DB::Row>,
{
    pub(super) fn new(conn: &'t mut DB::Connection, id: Uuid) -> Self {
        Self { conn, id }
    }

    /// A statement's rows as (key, text columns), the key first.
    async fn text_rows<K>(
        &mut self,
        query: sqlx::query::Query<'_, DB, DB::Arguments>,
        what: &str,
    ) -> anyhow::Result<Vec<TextRow<K>>>
    where
        K: for<'r> Decode<'r, DB> + Type<DB>,
    {
        let rows = query
            .fetch_all(&mut *self.conn)
            .await
            .with_context(|| format!("finding {what}"))?;
        let mut found = Vec::with_capacity(rows.len());
        for row in rows {
            let key: K = row.try_get(0).with_context(|| format!("reading {what}"))?;
            let mut texts = Vec::with_capacity(row.len().saturating_sub(1));
            for column in 1..row.len() {
                texts.push(
                    row.try_get::<Option<String>, _>(column)
                        .with_context(|| format!("reading {what}"))?,
                );
            }
            found.push((key, texts));
        }
        Ok(found)
    }

    /// Rows of `table` (key column first) whose text columns may name the person, with
    /// `extra` SQL conditions binding `$1` to the person's id.
    async fn rows_naming<K>(
        &mut self,
        table: &str,
        columns: &[&str],
        extra: &str,
        traces: &Traces,
        what: &str,
    ) -> anyhow::Result<Vec<TextRow<K>>>
    where
        K: for<'r> Decode<'r, DB> + Type<DB>,
    {
        let patterns: Vec<String> = traces.forms().map(like_pattern).collect();
        let sql = format!(
            "SELECT {} FROM {table} WHERE {extra} AND {}",
            columns.join(", "),
            mentioning(&columns[1..], 2, patterns.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(self.id);
        for pattern in patterns {
            query = query.bind(pattern);
        }
        self.text_rows(query, what).await
    }

    /// Writes redacted `texts` back into `columns` of the row of `table` with id `key`.
    async fn blank<K>(
        &mut self,
        table: &str,
        key: K,
        columns: &[&str],
        texts: &[Option<String>],
        what: &str,
    ) -> anyhow::Result<()>
    where
        K: for<'e> Encode<'e, DB> + Type<DB> + Send,
    {
        let set: Vec<String> = columns
            .iter()
            .enumerate()
            .map(|(i, column)| format!("{column} = ${}", i + 2))
            .collect();
        let sql = format!("UPDATE {table} SET {} WHERE id = $1", set.join(", "));
        let query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(key);
        let query = texts.iter().fold(query, |query, text| query.bind(text));
        query
            .execute(&mut *self.conn)
            .await
            .with_context(|| format!("blanking {what}"))
            .map(|_| ())
    }

    /// What to look for, and where.
    pub(super) async fn search(
        &mut self,
        person: &Person,
        parsed: Option<&SubscriberEmail>,
    ) -> anyhow::Result<Search> {
        let mut address = Traces::default().address(&person.email);
        if let Some(parsed) = parsed {
            address = address.address(parsed.ascii());
        }
        let name = person.name.as_deref().map(str::trim).unwrap_or_default();
        let local_part = person
            .email
            .rsplit_once('@')
            .map(|(local, _)| local)
            .unwrap_or_default();
        let own = address.clone().word(name).word(local_part);
        let everywhere = if name.split_whitespace().nth(1).is_some() {
            address.clone().word(name)
        } else {
            address.clone()
        };
        let mut links = address.clone();
        if !name.is_empty() {
            let same_name: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM subscribers WHERE id <> $1 AND lower(name) = lower($2)",
            )
            .bind(self.id)
            .bind(name)
            .fetch_one(&mut *self.conn)
            .await
            .context("checking whether another subscriber has the same name")?;
            if same_name == 0 {
                links = links.word(name);
            }
        }
        for (key, value) in person.attributes.0.as_object().into_iter().flatten() {
            let text = match value {
                serde_json::Value::String(s) => s.trim().to_string(),
                serde_json::Value::Number(n) => n.to_string(),
                _ => continue,
            };
            if text.chars().count() < MIN_VALUE_CHARS {
                continue;
            }
            let shared: i64 = sqlx::query_scalar(DB::OTHERS_WITH_VALUE)
                .bind(self.id)
                .bind(key.as_str())
                .bind(value.to_string())
                .fetch_one(&mut *self.conn)
                .await
                .context("checking whether another subscriber shares a value")?;
            if shared == 0 {
                links = links.word(&text);
            }
        }
        Ok(Search {
            own,
            everywhere,
            address,
            links,
        })
    }

    /// Personalised links of the campaigns they received. A link written in the campaign
    /// itself is everyone's and stays, whatever it says.
    pub(super) async fn links(&mut self, search: &Search) -> anyhow::Result<()> {
        let found = self
            .rows_naming::<i64>(
                "campaign_links",
                &["id", "url"],
                "campaign_id IN (SELECT campaign_id FROM deliveries WHERE subscriber_id = $1)",
                &search.links,
                "personalised links",
            )
            .await?;
        for (link, texts) in found {
            let Some(url) = texts[0].as_deref() else {
                continue;
            };
            let campaign: Option<(Uuid, String)> = sqlx::query_as(
                "SELECT c.id, c.body FROM campaign_links l JOIN campaigns c ON c.id = l.campaign_id WHERE l.id = $1",
            )
            .bind(link)
            .fetch_optional(&mut *self.conn)
            .await
            .context("reading the campaign of a link")?;
            let Some((campaign, body)) = campaign else {
                continue;
            };
            if body.contains(url) || body.contains(&url.replace('&', "&amp;")) {
                continue;
            }
            let Some(clean) = search.links.redact_url(url) else {
                continue;
            };
            let same: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM campaign_links WHERE campaign_id = $1 AND url = $2",
            )
            .bind(campaign)
            .bind(&clean)
            .fetch_optional(&mut *self.conn)
            .await
            .context("looking for an erased link like it")?;
            match same {
                // Another erased person's link: one row, their clicks together.
                Some(same) => {
                    sqlx::query("UPDATE events SET link_id = $2 WHERE link_id = $1")
                        .bind(link)
                        .bind(same)
                        .execute(&mut *self.conn)
                        .await
                        .context("moving clicks to the erased link")?;
                    sqlx::query("DELETE FROM campaign_links WHERE id = $1")
                        .bind(link)
                        .execute(&mut *self.conn)
                        .await
                        .context("removing a personalised link")?;
                }
                None => {
                    self.blank(
                        "campaign_links",
                        link,
                        &["url"],
                        &[Some(clean)],
                        "a personalised link",
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// Their copies stay counted; what the SMTP server said about them goes.
    pub(super) async fn smtp_replies(&mut self, search: &Search) -> anyhow::Result<()> {
        let replies = self.text_rows::<Uuid>(sqlx::query("SELECT id, smtp_reply FROM deliveries WHERE subscriber_id = $1 AND smtp_reply IS NOT NULL").bind(self.id), "the SMTP replies of their copies").await?;
        for (delivery, texts) in replies {
            let (clean, changed) = redact_all(&search.own, &texts);
            if changed {
                self.blank(
                    "deliveries",
                    delivery,
                    &["smtp_reply"],
                    &clean,
                    "an SMTP reply",
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Mail that came back, theirs or naming them. Their replies go, and so does anything
    /// of theirs no campaign counts; bounces, complaints and automatic replies a campaign
    /// counts stay, anonymous.
    pub(super) async fn inbound(&mut self, search: &Search) -> anyhow::Result<()> {
        sqlx::query(
            "DELETE FROM inbound_messages WHERE subscriber_id = $1 AND (kind = 'reply' OR campaign_id IS NULL)",
        )
        .bind(self.id)
        .execute(&mut *self.conn)
        .await
        .context("removing their mail")?;
        const INBOUND: [&str; 11] = [
            "id",
            "kind",
            "CASE WHEN subscriber_id IS NULL THEN 'unmatched' ELSE 'matched' END",
            "CASE WHEN campaign_id IS NULL THEN 'none' ELSE 'counted' END",
            "from_address",
            "subject",
            "text",
            "status",
            "detail",
            "reference_ids",
            "message_id",
        ];
        let theirs = self
            .text_rows::<i64>(
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM inbound_messages WHERE subscriber_id = $1",
                    INBOUND.join(", ")
                )))
                .bind(self.id),
                "their counted mail",
            )
            .await?;
        let others = self
            .rows_naming::<i64>(
                "inbound_messages",
                &INBOUND,
                "(subscriber_id IS NULL OR subscriber_id <> $1)",
                &search.everywhere,
                "mail naming them",
            )
            .await?;
        for (message, texts, tied) in theirs
            .into_iter()
            .map(|(m, t)| (m, t, true))
            .chain(others.into_iter().map(|(m, t)| (m, t, false)))
        {
            let text = |i: usize| texts[i].as_deref().unwrap_or_default();
            let (kind, unmatched, counted) =
                (text(0), text(1) == "unmatched", text(2) == "counted");
            let from_them = search.address.found_in(text(3));
            match fate(kind, tied, from_them, unmatched, counted) {
                Fate::Blanked => {
                    let (mut clean, changed) = redact_all(&search.everywhere, &texts[3..]);
                    if changed {
                        // A Message-ID cannot be redacted in part: it goes if it names them.
                        clean[6] = texts[9].clone().filter(|m| !search.everywhere.found_in(m));
                        self.blank(
                            "inbound_messages",
                            message,
                            &INBOUND[4..],
                            &clean,
                            "their name in someone else's mail",
                        )
                        .await?;
                    }
                }
                Fate::Removed => {
                    sqlx::query("DELETE FROM inbound_messages WHERE id = $1")
                        .bind(message)
                        .execute(&mut *self.conn)
                        .await
                        .context("removing mail from or about them")?;
                }
                Fate::Anonymous => self.keep_anonymous(message, kind, &texts, search).await?,
            }
        }
        Ok(())
    }

    /// A bounce, complaint or automatic reply of theirs a campaign counts: kept for the
    /// count, without the person.
    async fn keep_anonymous(
        &mut self,
        message: i64,
        kind: &str,
        texts: &[Option<String>],
        search: &Search,
    ) -> anyhow::Result<()> {
        let (clean, _) = redact_all(&search.own, &texts[3..]);
        let diagnostic = matches!(kind, "hard_bounce" | "soft_bounce")
            .then(|| clean[2].clone())
            .flatten();
        let message_id = texts[9].clone().filter(|m| !search.own.found_in(m));
        sqlx::query(
            "UPDATE inbound_messages SET subscriber_id = NULL, from_address = NULL, \
             subject = NULL, text = $2, status = $3, detail = $4, reference_ids = $5, \
             message_id = $6 WHERE id = $1",
        )
        .bind(message)
        .bind(&diagnostic)
        .bind(&clean[3])
        .bind(&clean[4])
        .bind(&clean[5])
        .bind(&message_id)
        .execute(&mut *self.conn)
        .await
        .context("keeping a bounce without the person")?;
        Ok(())
    }

    /// System mail to their address not tied to them goes; errors naming them are
    /// blanked. (Mail tied to them goes with them, in `erase`.)
    pub(super) async fn system_mail(&mut self, search: &Search) -> anyhow::Result<()> {
        let queued = self
            .rows_naming::<Uuid>(
                "outbound_messages",
                &["id", "recipient", "last_error"],
                "(subscriber_id IS NULL OR subscriber_id <> $1)",
                &search.everywhere,
                "system mail naming them",
            )
            .await?;
        for (message, texts) in queued {
            if search
                .address
                .found_in(texts[0].as_deref().unwrap_or_default())
            {
                sqlx::query("DELETE FROM outbound_messages WHERE id = $1")
                    .bind(message)
                    .execute(&mut *self.conn)
                    .await
                    .context("removing mail to their address")?;
            } else if let (clean, true) = redact_all(&search.everywhere, &texts[1..]) {
                self.blank(
                    "outbound_messages",
                    message,
                    &["last_error"],
                    &clean,
                    "their address in a sending error",
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Other people's rows that name them: notes, values (a "referred by"), consent
    /// details, answers.
    pub(super) async fn others(&mut self, search: &Search) -> anyhow::Result<()> {
        let noted = self
            .rows_naming::<Uuid>(
                "subscribers",
                &["id", "note", "stated_consent", "CAST(attributes AS TEXT)"],
                "id <> $1",
                &search.everywhere,
                "other subscribers naming them",
            )
            .await?;
        for (other, texts) in noted {
            let (clean, _) = redact_all(&search.everywhere, &texts);
            // `(erased)` replaces text inside JSON strings, so the values stay JSON; if
            // they somehow did not, they are left as they were rather than lost.
            let attributes = clean[2]
                .as_deref()
                .and_then(|json| serde_json::from_str::<serde_json::Value>(json).ok());
            sqlx::query(
                "UPDATE subscribers SET note = $2, stated_consent = $3, \
                 attributes = COALESCE($4, attributes) WHERE id = $1",
            )
            .bind(other)
            .bind(&clean[0])
            .bind(&clean[1])
            .bind(attributes.map(Json))
            .execute(&mut *self.conn)
            .await
            .context("blanking their name in another subscriber's note or values")?;
        }
        let consent = self
            .rows_naming::<i64>(
                "consent_events",
                &["id", "detail", "source"],
                "subscriber_id <> $1",
                &search.everywhere,
                "consent details naming them",
            )
            .await?;
        for (event, texts) in consent {
            let (clean, _) = redact_all(&search.everywhere, &texts);
            self.blank(
                "consent_events",
                event,
                &["detail", "source"],
                &clean,
                "their name in a consent detail",
            )
            .await?;
        }
        let answers = self
            .rows_naming::<Uuid>(
                "answers",
                &["id", "subject", "body", "in_reply_to", "reference_ids"],
                "subscriber_id <> $1",
                &search.everywhere,
                "answers naming them",
            )
            .await?;
        for (answer, texts) in answers {
            let (mut clean, _) = redact_all(&search.everywhere, &texts);
            // An answer always has a subject and a body, if only an empty one.
            for required in &mut clean[..2] {
                required.get_or_insert_default();
            }
            self.blank(
                "answers",
                answer,
                &["subject", "body", "in_reply_to", "reference_ids"],
                &clean,
                "their name in an answer to someone else",
            )
            .await?;
        }
        Ok(())
    }
}
