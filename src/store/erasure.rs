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

mod places;

use anyhow::Context as _;
use sqlx::types::Json;
use uuid::Uuid;

use super::subscribers::erased_hash;
use super::{BeginWrite as _, Store, Timestamp, with_pool};
use crate::domain::{SubscriberEmail, Traces};
use places::Erasure;

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
    /// Erases a subscriber (see the module's comment for what goes and what stays),
    /// saying whether the person asked for it themselves (on their own page): the owner's
    /// pages count those, without any address. Returns false when there was no such
    /// subscriber.
    pub async fn erase_as(
        &self,
        id: Uuid,
        now: Timestamp,
        by_person: bool,
    ) -> anyhow::Result<bool> {
        with_pool!(self, pool, Db => {
            let mut tx = pool.begin_write().await.context("starting a transaction")?;
            let person: Option<Person> =
                sqlx::query_as("SELECT email, name, attributes FROM subscribers WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *tx)
                    .await
                    .context("reading the subscriber to erase")?;
            let Some(person) = person else { return Ok(false) };
            let parsed = SubscriberEmail::parse(&person.email).ok();
            let mut erasure = Erasure::<Db>::new(&mut tx, id);
            let search = erasure.search(&person, parsed.as_ref()).await?;
            erasure.links(&search).await?;
            erasure.smtp_replies(&search).await?;
            erasure.inbound(&search).await?;
            erasure.system_mail(&search).await?;
            erasure.others(&search).await?;

            // The person: their row, and with it (by the schema's cascades) their consent
            // history, engagement, re-permission requests, system mail and the owner's
            // answers; their copies and clicks stay, no longer theirs.
            // Their opens and clicks stay for the campaigns' counts, no longer theirs (the
            // events table has no foreign keys to do it).
            sqlx::query("UPDATE events SET subscriber_id = NULL WHERE subscriber_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .context("taking the person off their opens and clicks")?;
            sqlx::query("DELETE FROM subscribers WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .context("erasing the subscriber")?;
            if let Some(parsed) = &parsed {
                sqlx::query(
                    "INSERT INTO erased_addresses (email_hash, erased_at, by_person) VALUES ($1, $2, $3) \
                     ON CONFLICT (email_hash) DO UPDATE SET erased_at = excluded.erased_at, \
                     by_person = excluded.by_person",
                )
                .bind(erased_hash(parsed))
                .bind(now)
                .bind(by_person)
                .execute(&mut *tx)
                .await
                .context("keeping the erased address's hash")?;
            }
            tx.commit().await.context("committing the erasure")?;
            Ok(true)
        })
    }

    /// How many people erased themselves from their own page.
    pub async fn erased_by_people(&self) -> anyhow::Result<i64> {
        with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM erased_addresses WHERE by_person = TRUE",
        )
        .fetch_one(pool)
        .await
        .context("counting erasures asked for by the people"))
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
