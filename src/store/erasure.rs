//! Erasing a subscriber: their rows go, and their address and name go from every row that
//! stays, in one transaction; the counts the owner's reports rest on stay, without the
//! person. A one-way hash of the address is kept so that an import never adds it back.
//!
//! Per place (see README, "What erasure removes"):
//! - gone with the person: consent history, engagement, re-permission requests, system mail
//!   to them (queued or sent), the owner's answers to them, their replies, and mail from or
//!   about their address that no campaign counts;
//! - kept without the person: their copies of campaigns (delivered, opened, clicked: the
//!   report's figures), with the SMTP server's reply blanked where it named them; a bounce,
//!   complaint or automatic reply a campaign counts, with nothing left of who sent it or
//!   what it said beyond a bounce's diagnostic, blanked too; a personalised link (a URL made
//!   from their address, name or one of their values), rewritten with `(erased)` in place;
//! - blanked wherever else they are named: other people's mail, notes and values, other
//!   system mail's errors, the owner's answers to others, consent details.

use anyhow::Context as _;
use sqlx::Row as _;
use sqlx::types::Json;
use uuid::Uuid;

use super::subscribers::erased_hash;
use super::{Backend, BeginWrite as _, Store, Timestamp, with_pool};
use crate::domain::{SubscriberEmail, Traces};

/// The least an attribute value must have to be looked for in links: shorter values are
/// shared by too many (a plan, a size) to say who someone is.
const MIN_VALUE_CHARS: usize = 3;

#[derive(sqlx::FromRow)]
struct Person {
    email: String,
    name: Option<String>,
    attributes: Json<serde_json::Value>,
}

/// What to look for, and where.
struct Search {
    /// Rows tied to the person (their copies, their bounces): address, name, local part.
    own: Traces,
    /// Every other row: the address, and the name if it is a full name (one word, "Bob",
    /// would blank every "Bob" in everyone's mail).
    everywhere: Traces,
    /// The address alone, to tell mail from them.
    address: Traces,
    /// Links of campaigns they received: the address, and the name and values of theirs no
    /// other subscriber shares (a link made from a shared value is everyone's).
    links: Traces,
}

/// `%form%` for `LIKE … ESCAPE '\'`.
fn like_pattern(form: &str) -> String {
    let escaped = form
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// `(lower(a) LIKE $n ESCAPE '\' OR …)` for every column and every pattern, the patterns
/// bound from `$first` on.
fn mentioning(columns: &[&str], first: usize, patterns: usize) -> String {
    let mut clauses = Vec::with_capacity(columns.len() * patterns);
    for n in first..first + patterns {
        for column in columns {
            clauses.push(format!("lower({column}) LIKE ${n} ESCAPE '\\'"));
        }
    }
    if clauses.is_empty() {
        return "FALSE".to_string();
    }
    format!("({})", clauses.join(" OR "))
}

/// A statement's rows as (key, text columns), the key first.
macro_rules! text_rows {
    ($tx:ident, $key:ty, $query:expr, $what:literal) => {{
        let rows = $query
            .fetch_all(&mut *$tx)
            .await
            .context(concat!("finding ", $what))?;
        let mut found: Vec<($key, Vec<Option<String>>)> = Vec::with_capacity(rows.len());
        for row in rows {
            let key: $key = row.try_get(0).context(concat!("reading ", $what))?;
            let mut texts = Vec::with_capacity(row.len().saturating_sub(1));
            for column in 1..row.len() {
                texts.push(
                    row.try_get::<Option<String>, _>(column)
                        .context(concat!("reading ", $what))?,
                );
            }
            found.push((key, texts));
        }
        found
    }};
}

/// Rows of `$table` (key column first) whose text columns may name the person, with
/// `$extra` SQL conditions binding `$1` to `$id`.
macro_rules! rows_naming {
    ($tx:ident, $key:ty, $table:literal, $columns:expr, $extra:literal, $id:expr, $traces:expr, $what:literal) => {{
        let columns: &[&str] = $columns;
        let patterns: Vec<String> = $traces.forms().map(like_pattern).collect();
        let sql = format!(
            "SELECT {} FROM {} WHERE {} AND {}",
            columns.join(", "),
            $table,
            $extra,
            mentioning(&columns[1..], 2, patterns.len())
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind($id);
        for pattern in patterns {
            query = query.bind(pattern);
        }
        text_rows!($tx, $key, query, $what)
    }};
}

/// What becomes of a message that came back and is theirs or names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Their reply, or mail from or about them that no campaign counts.
    Removed,
    /// A bounce, complaint or automatic reply of theirs a campaign counts: the row stays for
    /// the count, with nothing of who sent it or what it said but a bounce's diagnostic.
    Anonymous,
    /// Someone else's mail that names them: only the naming goes.
    Blanked,
}

/// `tied`: matched to them; `from_them`: their address in From; `unmatched`: matched to
/// nobody (a bounce or complaint nobody could place is about whoever it names); `counted`:
/// a campaign's report counts it.
fn fate(kind: &str, tied: bool, from_them: bool, unmatched: bool, counted: bool) -> Fate {
    let about_them = unmatched && kind != "reply";
    if !(tied || from_them || about_them) {
        Fate::Blanked
    } else if kind == "reply" || !counted {
        Fate::Removed
    } else {
        Fate::Anonymous
    }
}

/// Each text redacted with `traces`, and whether any changed.
fn redact_all(traces: &Traces, texts: &[Option<String>]) -> (Vec<Option<String>>, bool) {
    let mut changed = false;
    let redacted = texts
        .iter()
        .map(|text| {
            text.as_deref().map(|t| match traces.redact(t) {
                Some(clean) => {
                    changed = true;
                    clean
                }
                None => t.to_string(),
            })
        })
        .collect();
    (redacted, changed)
}

impl Store {
    /// Erases a subscriber (see the module's comment for what goes and what stays).
    /// Returns false when there was no such subscriber.
    pub async fn erase(&self, id: Uuid, now: Timestamp) -> anyhow::Result<bool> {
        // Whether another subscriber holds the same value under the same name.
        let value_shared = match &self.backend {
            Backend::Postgres(_) => {
                "SELECT COUNT(*) FROM subscribers WHERE id <> $1 AND attributes -> $2 = $3::jsonb"
            }
            Backend::Sqlite(_) => {
                "SELECT COUNT(*) FROM subscribers s, json_each(s.attributes) j \
                 WHERE s.id <> $1 AND j.key = $2 AND json_quote(j.value) = $3"
            }
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let person: Option<Person> =
                sqlx::query_as("SELECT email, name, attributes FROM subscribers WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("reading the subscriber to erase")?;
            let Some(person) = person else { return Ok(false) };
            let parsed = SubscriberEmail::parse(&person.email).ok();

            let mut address = Traces::default().address(&person.email);
            if let Some(parsed) = &parsed {
                address = address.address(parsed.ascii());
            }
            let name = person.name.as_deref().map(str::trim).unwrap_or_default();
            let local_part = person.email.rsplit_once('@').map(|(local, _)| local).unwrap_or_default();
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
                .bind(id)
                .bind(name)
                .fetch_one(&mut *tx)
                .await
                .context("checking whether another subscriber has the same name")?;
                if same_name == 0 {
                    links = links.word(name);
                }
            }
            if let Some(values) = person.attributes.0.as_object() {
                for (key, value) in values {
                    let text = match value {
                        serde_json::Value::String(s) => s.trim().to_string(),
                        serde_json::Value::Number(n) => n.to_string(),
                        _ => continue,
                    };
                    if text.chars().count() < MIN_VALUE_CHARS {
                        continue;
                    }
                    let shared: i64 = sqlx::query_scalar(value_shared)
                        .bind(id)
                        .bind(key)
                        .bind(value.to_string())
                        .fetch_one(&mut *tx)
                        .await
                        .context("checking whether another subscriber shares a value")?;
                    if shared == 0 {
                        links = links.word(&text);
                    }
                }
            }
            let search = Search { own, everywhere, address, links };

            // Personalised links of the campaigns they received. A link written in the
            // campaign itself is everyone's and stays, whatever it says.
            let found = rows_naming!(
                tx, i64, "campaign_links", &["id", "url"],
                "campaign_id IN (SELECT campaign_id FROM deliveries WHERE subscriber_id = $1)",
                id, search.links, "personalised links"
            );
            for (link, texts) in found {
                let Some(url) = texts[0].as_deref() else { continue };
                let campaign: Option<(Uuid, String)> = sqlx::query_as(
                    "SELECT c.id, c.body FROM campaign_links l JOIN campaigns c ON c.id = l.campaign_id WHERE l.id = $1",
                )
                .bind(link)
                .fetch_optional(&mut *tx)
                .await
                .context("reading the campaign of a link")?;
                let Some((campaign, body)) = campaign else { continue };
                if body.contains(url) || body.contains(&url.replace('&', "&amp;")) {
                    continue;
                }
                let Some(clean) = search.links.redact_url(url) else { continue };
                let same: Option<i64> = sqlx::query_scalar(
                    "SELECT id FROM campaign_links WHERE campaign_id = $1 AND url = $2",
                )
                .bind(campaign)
                .bind(&clean)
                .fetch_optional(&mut *tx)
                .await
                .context("looking for an erased link like it")?;
                match same {
                    // Another erased person's link: one row, their clicks together.
                    Some(same) => {
                        sqlx::query("UPDATE events SET link_id = $2 WHERE link_id = $1")
                            .bind(link)
                            .bind(same)
                            .execute(&mut *tx)
                            .await
                            .context("moving clicks to the erased link")?;
                        sqlx::query("DELETE FROM campaign_links WHERE id = $1")
                            .bind(link)
                            .execute(&mut *tx)
                            .await
                            .context("removing a personalised link")?;
                    }
                    None => {
                        sqlx::query("UPDATE campaign_links SET url = $2 WHERE id = $1")
                            .bind(link)
                            .bind(&clean)
                            .execute(&mut *tx)
                            .await
                            .context("blanking a personalised link")?;
                    }
                }
            }

            // Their copies stay counted; what the SMTP server said about them goes.
            let replies = text_rows!(
                tx, Uuid,
                sqlx::query("SELECT id, smtp_reply FROM deliveries WHERE subscriber_id = $1 AND smtp_reply IS NOT NULL").bind(id),
                "the SMTP replies of their copies"
            );
            for (delivery, texts) in replies {
                let (clean, changed) = redact_all(&search.own, &texts);
                if changed {
                    sqlx::query("UPDATE deliveries SET smtp_reply = $2 WHERE id = $1")
                        .bind(delivery)
                        .bind(&clean[0])
                        .execute(&mut *tx)
                        .await
                        .context("blanking an SMTP reply")?;
                }
            }

            // Mail that came back. Their replies go, and so does anything of theirs no
            // campaign counts; bounces, complaints and automatic replies a campaign counts
            // stay, anonymous.
            sqlx::query(
                "DELETE FROM inbound_messages WHERE subscriber_id = $1 AND (kind = 'reply' OR campaign_id IS NULL)",
            )
            .bind(id)
            .execute(&mut *tx)
            .await
            .context("removing their mail")?;
            const INBOUND: [&str; 11] = [
                "id", "kind", "CASE WHEN subscriber_id IS NULL THEN 'unmatched' ELSE 'matched' END",
                "CASE WHEN campaign_id IS NULL THEN 'none' ELSE 'counted' END", "from_address",
                "subject", "text", "status", "detail", "reference_ids", "message_id",
            ];
            let theirs = text_rows!(
                tx, i64,
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "SELECT {} FROM inbound_messages WHERE subscriber_id = $1",
                    INBOUND.join(", ")
                ))).bind(id),
                "their counted mail"
            );
            let others = rows_naming!(
                tx, i64, "inbound_messages", &INBOUND,
                "(subscriber_id IS NULL OR subscriber_id <> $1)",
                id, search.everywhere, "mail naming them"
            );
            for (message, texts, tied) in theirs
                .into_iter()
                .map(|(m, t)| (m, t, true))
                .chain(others.into_iter().map(|(m, t)| (m, t, false)))
            {
                let text = |i: usize| texts[i].as_deref().unwrap_or_default();
                let (kind, unmatched, counted) = (text(0), text(1) == "unmatched", text(2) == "counted");
                let from_them = search.address.found_in(text(3));
                match fate(kind, tied, from_them, unmatched, counted) {
                    Fate::Blanked => {
                        let (clean, changed) = redact_all(&search.everywhere, &texts[3..]);
                        if changed {
                            let message_id = texts[9].clone().filter(|m| !search.everywhere.found_in(m));
                            sqlx::query(
                                "UPDATE inbound_messages SET from_address = $2, subject = $3, text = $4, \
                                 status = $5, detail = $6, reference_ids = $7, message_id = $8 WHERE id = $1",
                            )
                            .bind(message)
                            .bind(&clean[0])
                            .bind(&clean[1])
                            .bind(&clean[2])
                            .bind(&clean[3])
                            .bind(&clean[4])
                            .bind(&clean[5])
                            .bind(&message_id)
                            .execute(&mut *tx)
                            .await
                            .context("blanking their name in someone else's mail")?;
                        }
                    }
                    Fate::Removed => {
                        sqlx::query("DELETE FROM inbound_messages WHERE id = $1")
                            .bind(message)
                            .execute(&mut *tx)
                            .await
                            .context("removing mail from or about them")?;
                    }
                    Fate::Anonymous => {
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
                        .execute(&mut *tx)
                        .await
                        .context("keeping a bounce without the person")?;
                    }
                }
            }

            // System mail to their address not tied to them goes; errors naming them are
            // blanked. (Mail tied to them goes with them, below.)
            let queued = rows_naming!(
                tx, Uuid, "outbound_messages", &["id", "recipient", "last_error"],
                "(subscriber_id IS NULL OR subscriber_id <> $1)",
                id, search.everywhere, "system mail naming them"
            );
            for (message, texts) in queued {
                if search.address.found_in(texts[0].as_deref().unwrap_or_default()) {
                    sqlx::query("DELETE FROM outbound_messages WHERE id = $1")
                        .bind(message)
                        .execute(&mut *tx)
                        .await
                        .context("removing mail to their address")?;
                } else if let (clean, true) = redact_all(&search.everywhere, &texts[1..]) {
                    sqlx::query("UPDATE outbound_messages SET last_error = $2 WHERE id = $1")
                        .bind(message)
                        .bind(&clean[0])
                        .execute(&mut *tx)
                        .await
                        .context("blanking their address in a sending error")?;
                }
            }

            // Other people's rows that name them: notes, values (a "referred by"), consent
            // details, answers.
            let noted = rows_naming!(
                tx, Uuid, "subscribers",
                &["id", "note", "stated_consent", "CAST(attributes AS TEXT)"], "id <> $1",
                id, search.everywhere, "other subscribers naming them"
            );
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
                .execute(&mut *tx)
                .await
                .context("blanking their name in another subscriber's note or values")?;
            }
            let consent = rows_naming!(
                tx, i64, "consent_events", &["id", "detail", "source"], "subscriber_id <> $1",
                id, search.everywhere, "consent details naming them"
            );
            for (event, texts) in consent {
                let (clean, _) = redact_all(&search.everywhere, &texts);
                sqlx::query("UPDATE consent_events SET detail = $2, source = $3 WHERE id = $1")
                    .bind(event)
                    .bind(&clean[0])
                    .bind(&clean[1])
                    .execute(&mut *tx)
                    .await
                    .context("blanking their name in a consent detail")?;
            }
            let answers = rows_naming!(
                tx, Uuid, "answers", &["id", "subject", "body", "in_reply_to", "reference_ids"],
                "subscriber_id <> $1", id, search.everywhere, "answers naming them"
            );
            for (answer, texts) in answers {
                let (clean, _) = redact_all(&search.everywhere, &texts);
                sqlx::query(
                    "UPDATE answers SET subject = $2, body = $3, in_reply_to = $4, reference_ids = $5 WHERE id = $1",
                )
                .bind(answer)
                .bind(clean[0].as_deref().unwrap_or_default())
                .bind(clean[1].as_deref().unwrap_or_default())
                .bind(&clean[2])
                .bind(&clean[3])
                .execute(&mut *tx)
                .await
                .context("blanking their name in an answer to someone else")?;
            }

            // The person: their row, and with it (by the schema's cascades) their consent
            // history, engagement, re-permission requests, system mail and the owner's
            // answers; their copies and clicks stay, no longer theirs.
            sqlx::query("DELETE FROM subscribers WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .context("erasing the subscriber")?;
            if let Some(parsed) = &parsed {
                sqlx::query(
                    "INSERT INTO erased_addresses (email_hash, erased_at) VALUES ($1, $2) \
                     ON CONFLICT (email_hash) DO NOTHING",
                )
                .bind(erased_hash(parsed))
                .bind(now)
                .execute(&mut *tx)
                .await
                .context("keeping the erased address's hash")?;
            }
            tx.commit().await.context("committing the erasure")?;
            Ok(true)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn their_replies_go_counted_bounces_stay_others_mail_is_blanked() {
        // Theirs (matched to them): replies go; what a campaign counts stays, anonymous.
        assert_eq!(fate("reply", true, true, false, true), Fate::Removed);
        assert_eq!(
            fate("hard_bounce", true, false, false, true),
            Fate::Anonymous
        );
        assert_eq!(fate("auto_reply", true, true, false, true), Fate::Anonymous);
        assert_eq!(fate("complaint", true, false, false, false), Fate::Removed);
        // From their address, matched to nobody: gone.
        assert_eq!(fate("reply", false, true, true, false), Fate::Removed);
        // A bounce nobody could place that names them is about them.
        assert_eq!(
            fate("hard_bounce", false, false, true, false),
            Fate::Removed
        );
        // Someone else's mail that names them: kept, blanked.
        assert_eq!(fate("reply", false, false, true, false), Fate::Blanked);
        assert_eq!(
            fate("hard_bounce", false, false, false, true),
            Fate::Blanked
        );
    }

    #[test]
    fn patterns_escape_like_wildcards() {
        assert_eq!(like_pattern("a_b%c\\d"), "%a\\_b\\%c\\\\d%");
        assert_eq!(mentioning(&["a", "b"], 2, 0), "FALSE");
        assert_eq!(
            mentioning(&["a"], 2, 2),
            "(lower(a) LIKE $2 ESCAPE '\\' OR lower(a) LIKE $3 ESCAPE '\\')"
        );
    }
}
