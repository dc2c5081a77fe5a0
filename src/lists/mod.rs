//! The list as a file: importing subscribers from CSV and exporting them, for the web app
//! and the command line alike.

pub mod export;
pub mod file;
pub mod import;

pub use export::csv_chunks;
pub use file::{FileError, SubscriberFile};
pub use import::{BasisKind, ConsentBasis, ImportMode, ImportOptions, ImportReport, import};

/// The largest file the web app takes (its request body limit).
pub const MAX_WEB_FILE_BYTES: usize = crate::web::admin::MAX_ADMIN_BODY_BYTES;
/// The largest file `hundred import` reads.
pub const MAX_CLI_FILE_BYTES: u64 = 100 * 1024 * 1024;
