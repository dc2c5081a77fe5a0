//! The list as a file: importing subscribers from CSV and exporting them, for the web app
//! and the command line alike.
//!
//! Layer: the engine's work (with mail, inbound, tracking and accounts), below the use
//! cases. It may import store and domain; it owns its own size limits (the web side takes
//! its body limit from [`MAX_WEB_FILE_BYTES`]), and must not import actions, web, app or
//! cli.

pub mod export;
pub mod file;
pub mod import;

pub use export::csv_chunks;
pub use file::{FileError, SubscriberFile};
pub use import::{BasisKind, ConsentBasis, ImportMode, ImportOptions, ImportReport, import};

/// The largest file the web app takes; the admin pages' request body limit is this, so an
/// import is refused by lists' own rule, not by a limit set above it.
pub const MAX_WEB_FILE_BYTES: usize = 10 * 1024 * 1024;
/// The largest file `hundred import` reads.
pub const MAX_CLI_FILE_BYTES: u64 = 100 * 1024 * 1024;
