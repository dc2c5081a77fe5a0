//! Importing a file of subscribers: on the owner's stated basis, each new address either
//! gets the usual confirmation message (the default) or, only when the owner says they
//! already confirmed, joins as confirmed. Nobody who left the list, bounced, complained or
//! was erased comes back; nobody already on it is changed.
//!
//! The rows go in batches, each its own short transaction, so the database (SQLite's one
//! writer above all) is never held for long. A batch that fails stops the import; what the
//! batches before it did stays done, and the report says where it stopped.

use serde::Serialize;

use super::file::{RejectedRow, SubscriberFile};
use crate::domain::SubscriberStatus;
use crate::store::{ImportCandidate, ImportOutcome, ImportTerms, Store, Timestamp};

/// Rows per transaction.
pub const BATCH_ROWS: usize = 500;
/// The longest stated basis, in characters.
pub const MAX_BASIS_CHARS: usize = 2000;

/// How the people in the file agreed to get the list, in the owner's words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BasisKind {
    /// A signup form elsewhere (another newsletter service, an old website form).
    SignupForm,
    /// On paper or in person (a shop counter, an event).
    InPerson,
    /// They asked by email or message.
    AskedByMessage,
    Other,
}

impl BasisKind {
    pub const ALL: [Self; 4] = [
        Self::SignupForm,
        Self::InPerson,
        Self::AskedByMessage,
        Self::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignupForm => "signup_form",
            Self::InPerson => "in_person",
            Self::AskedByMessage => "asked_by_message",
            Self::Other => "other",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw.trim())
    }

    /// How the choice reads in the form and in the consent history.
    pub fn label(self) -> &'static str {
        match self {
            Self::SignupForm => "signed up through a form elsewhere",
            Self::InPerson => "signed up on paper or in person",
            Self::AskedByMessage => "asked to receive it by email or message",
            Self::Other => "other",
        }
    }
}

/// The owner's statement of consent for a whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentBasis {
    pub kind: BasisKind,
    pub text: String,
}

impl ConsentBasis {
    /// The basis, or what is wrong with it, in words for the form.
    pub fn parse(kind: Option<&str>, text: Option<&str>) -> Result<Self, String> {
        let kind = match kind.map(str::trim) {
            None | Some("") => {
                return Err("Choose how the people in the file agreed to get your list.".into());
            }
            Some(raw) => BasisKind::parse(raw)
                .ok_or_else(|| format!("“{raw}” is not one of the choices for how they agreed."))?,
        };
        let text = text.map(str::trim).unwrap_or_default();
        if text.is_empty() {
            return Err("Say in a few words how and when they agreed, e.g. “signed up at the shop counter, 2025 paper form”. It is kept in each subscriber's consent history.".into());
        }
        if text.chars().count() > MAX_BASIS_CHARS {
            return Err(format!(
                "The description of how they agreed is too long (at most {MAX_BASIS_CHARS} characters)."
            ));
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
        {
            return Err("The description of how they agreed contains control characters.".into());
        }
        Ok(Self {
            kind,
            text: text.to_string(),
        })
    }

    /// The basis as one line of the consent history.
    pub fn describe(&self) -> String {
        let text = self.text.split_whitespace().collect::<Vec<_>>().join(" ");
        match self.kind {
            BasisKind::Other => text,
            kind => format!("{}: {text}", kind.label()),
        }
    }
}

/// Pending with a confirmation message, or confirmed on the owner's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportMode {
    AskToConfirm,
    AlreadyConfirmed,
}

#[derive(Debug, Clone)]
pub struct ImportOptions {
    pub mode: ImportMode,
    pub basis: ConsentBasis,
    /// The domain of our Message-IDs.
    pub message_domain: String,
}

/// A row left out, and why.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedRow {
    pub line: u64,
    pub email: String,
    pub why: String,
}

/// How many rows were left out for one reason.
#[derive(Debug, Clone, Serialize)]
pub struct ReasonCount {
    pub reason: &'static str,
    pub count: usize,
}

/// What an import did, row by row where it matters.
#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub mode: ImportMode,
    /// Data rows in the file.
    pub rows: usize,
    pub added: usize,
    pub skipped: Vec<SkippedRow>,
    pub skipped_by_reason: Vec<ReasonCount>,
    pub rejected: Vec<RejectedRow>,
    pub notes: Vec<String>,
    /// Set when a batch failed: what went wrong and from which line nothing was imported.
    pub stopped: Option<String>,
    /// Rows not looked at because the import stopped.
    pub not_processed: usize,
}

const ALREADY: &str = "already on the list";
const UNSUBSCRIBED: &str = "unsubscribed earlier: not added back";
const BOUNCED: &str = "their address bounced: not added back";
const COMPLAINED: &str = "marked the list as spam: not added back";
const ERASED: &str = "erased at their request: only they can sign up again";
const DUPLICATE: &str = "repeated in the file: counted once";

impl ImportReport {
    fn skip(&mut self, line: u64, email: String, why: String) {
        self.skipped.push(SkippedRow { line, email, why });
    }
}

/// What each imported person's consent history says: the detail of the import, and for
/// people imported as confirmed, the consent the owner states for them.
fn consent_words(options: &ImportOptions) -> (String, Option<String>) {
    let basis = options.basis.describe();
    match options.mode {
        ImportMode::AskToConfirm => (
            format!(
                "imported from a CSV file, confirmation asked; basis stated by the owner: {basis}"
            ),
            None,
        ),
        ImportMode::AlreadyConfirmed => (
            format!(
                "imported from a CSV file as already confirmed; basis stated by the owner: {basis}"
            ),
            Some(format!("imported as already confirmed: {basis}")),
        ),
    }
}

/// Imports what was read from a file. `progress(done, total)` is called after each batch.
/// Never fails: a failure stops the import and is in the report.
pub async fn import(
    store: &Store,
    file: SubscriberFile,
    options: &ImportOptions,
    mut progress: impl FnMut(usize, usize),
) -> ImportReport {
    let mut report = ImportReport {
        mode: options.mode,
        rows: file.total_rows,
        added: 0,
        skipped: Vec::new(),
        skipped_by_reason: Vec::new(),
        rejected: file.rejected,
        notes: file.notes,
        stopped: None,
        not_processed: 0,
    };
    let mut reasons: Vec<ReasonCount> = Vec::new();
    let mut count = |reason: &'static str| match reasons.iter_mut().find(|r| r.reason == reason) {
        Some(entry) => entry.count += 1,
        None => reasons.push(ReasonCount { reason, count: 1 }),
    };

    let (detail, stated) = consent_words(options);
    let total = file.rows.len();
    let mut done = 0;
    progress(done, total);
    for batch in file.rows.chunks(BATCH_ROWS) {
        let candidates: Vec<ImportCandidate> = batch
            .iter()
            .map(|row| ImportCandidate {
                email: row.email.clone(),
                name: row.name.clone(),
                attributes: row.attributes.clone(),
            })
            .collect();
        let terms = ImportTerms {
            stated_consent: stated.as_deref(),
            detail: &detail,
            now: Timestamp::now(),
            message_domain: &options.message_domain,
        };
        let outcomes = match store.import_batch(&candidates, &terms).await {
            Ok(outcomes) => outcomes,
            Err(err) => {
                tracing::error!(error = %format!("{err:#}"), "an import batch failed");
                let from = batch.first().map_or(0, |row| row.line);
                report.not_processed = total - done;
                report.stopped = Some(format!(
                    "The import stopped at line {from}: the database refused the batch starting there ({}). Nothing from line {from} on was imported; everything before it was. Importing the same file again picks up where this stopped: the rows already added show as already on the list.",
                    err.root_cause()
                ));
                break;
            }
        };
        for (row, outcome) in batch.iter().zip(outcomes) {
            let why = match outcome {
                ImportOutcome::Added => {
                    report.added += 1;
                    continue;
                }
                ImportOutcome::AlreadyOnList => ALREADY,
                ImportOutcome::Left(SubscriberStatus::Bounced) => BOUNCED,
                ImportOutcome::Left(SubscriberStatus::Complained) => COMPLAINED,
                ImportOutcome::Left(_) => UNSUBSCRIBED,
                ImportOutcome::Erased => ERASED,
            };
            count(why);
            report.skip(row.line, row.email.to_string(), why.to_string());
        }
        done += batch.len();
        progress(done, total);
        // Let whatever else waits for the database (signups, the sender) go first.
        tokio::task::yield_now().await;
    }
    for duplicate in file.duplicates {
        count(DUPLICATE);
        report.skip(
            duplicate.line,
            duplicate.email,
            format!(
                "the same address as line {}: counted once",
                duplicate.first_line
            ),
        );
    }
    report.skipped.sort_by_key(|row| row.line);
    report.skipped_by_reason = reasons;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_basis_needs_a_choice_and_words() {
        assert!(ConsentBasis::parse(None, Some("paper form")).is_err());
        assert!(ConsentBasis::parse(Some("bribed"), Some("paper form")).is_err());
        assert!(ConsentBasis::parse(Some("in_person"), Some("  ")).is_err());
        assert!(ConsentBasis::parse(Some("in_person"), Some(&"x".repeat(2001))).is_err());
        let basis = ConsentBasis::parse(
            Some("in_person"),
            Some(" shop counter,\r\n 2025 paper form "),
        )
        .unwrap();
        assert_eq!(
            basis.describe(),
            "signed up on paper or in person: shop counter, 2025 paper form"
        );
        let other = ConsentBasis::parse(Some("other"), Some("they asked")).unwrap();
        assert_eq!(other.describe(), "they asked");
    }
}
