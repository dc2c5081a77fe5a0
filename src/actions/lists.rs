//! The whole list at once: importing a CSV file of subscribers on the owner's statement of
//! how they agreed (the admin page's upload or pasted rows, and `hundred import`), and
//! exporting it as CSV. The reading and the batches are `crate::lists`; the checks, the
//! wake-up and the one sentence per refusal are here.

use axum::body::Bytes;
use futures::Stream;
use time::OffsetDateTime;

use super::Services;
use crate::lists::{ConsentBasis, FileError, ImportMode, ImportOptions, ImportReport};

/// Why an import did not start. Rows that cannot be used do not stop it: they are in the
/// report.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "Choose what happens to each new address: a confirmation message, or added as already confirmed."
    )]
    NoMode,
    /// The statement of how the people agreed is missing or cannot be kept; the words say
    /// which.
    #[error("{0}")]
    Basis(String),
    #[error("Choose a CSV file, or paste its rows into the box.")]
    NoFile,
    /// Over what this face takes at once; the words say what to do instead.
    #[error("{0}")]
    TooLarge(String),
    /// The file cannot be read at all (no `email` column, not text, …).
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// What happens to each new address, from the form's choice.
pub fn parse_mode(raw: Option<&str>) -> Result<ImportMode, ImportError> {
    match raw.map(str::trim) {
        Some("ask_to_confirm") => Ok(ImportMode::AskToConfirm),
        Some("already_confirmed") => Ok(ImportMode::AlreadyConfirmed),
        _ => Err(ImportError::NoMode),
    }
}

/// A file to import, with the owner's answers.
#[derive(Debug)]
pub struct Upload<'a> {
    pub mode: ImportMode,
    /// How they agreed: `signup_form`, `in_person`, `asked_by_message` or `other`.
    pub basis_kind: Option<&'a str>,
    /// The owner's words for how and when they agreed, kept in each consent history.
    pub basis: Option<&'a str>,
    /// The file as uploaded; `None` or empty when none was given.
    pub file: Option<Bytes>,
    /// The most bytes this face takes, and what to say to a larger file.
    pub limit: (usize, &'a str),
}

/// Imports a file of subscribers: each new address gets a confirmation message (the sender
/// is woken) or joins as confirmed; nobody already on the list, nobody who left, bounced,
/// complained or was erased is changed. `progress(done, total)` follows the batches. The
/// import runs to its end even if the caller stops waiting.
pub async fn import(
    services: &Services,
    upload: Upload<'_>,
    progress: impl FnMut(usize, usize) + Send + 'static,
) -> Result<ImportReport, ImportError> {
    let basis = ConsentBasis::parse(upload.basis_kind, upload.basis).map_err(ImportError::Basis)?;
    let bytes = upload
        .file
        .filter(|file| !file.is_empty())
        .ok_or(ImportError::NoFile)?;
    let (limit, too_large) = upload.limit;
    if bytes.len() > limit {
        return Err(ImportError::TooLarge(too_large.to_string()));
    }
    let file = crate::lists::file::read(&bytes)?;
    let mode = upload.mode;
    let options = ImportOptions {
        mode,
        basis,
        message_domain: services.settings().sending_domain().to_string(),
    };
    let store = services.store.clone();
    let report = super::to_completion(async move {
        Ok(crate::lists::import(&store, file, &options, progress).await)
    })
    .await?;
    tracing::info!(
        added = report.added,
        skipped = report.skipped.len(),
        rejected = report.rejected.len(),
        "subscribers imported"
    );
    if mode == ImportMode::AskToConfirm && report.added > 0 {
        services.message_queued();
    }
    Ok(report)
}

/// The whole list as CSV, a page of subscribers at a time. `for_spreadsheet` starts it
/// with the byte order mark spreadsheets need to read UTF-8.
pub fn export(
    services: &Services,
    for_spreadsheet: bool,
) -> impl Stream<Item = anyhow::Result<Bytes>> + Send + 'static {
    crate::lists::csv_chunks(
        services.store.clone(),
        OffsetDateTime::now_utc(),
        for_spreadsheet,
    )
}
