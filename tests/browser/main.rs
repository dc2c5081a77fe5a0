//! Page tests in a real headless Chromium: the hosted signup form, the confirm and
//! unsubscribe pages, and the messages between them, as a visitor sees and uses them.
//!
//! They need `chromium` and `chromium-driver` (Debian packages; `.ci/run` installs them),
//! so they are `#[ignore]`d in a plain `cargo test`. Run them with
//! `cargo test --test browser -- --ignored`; screenshots land in `target/screenshots/`.

// The harness is shared with tests/api; this target uses only part of it.
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod driver;
mod owner;
mod pages;
