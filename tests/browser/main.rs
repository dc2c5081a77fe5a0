//! Page tests in a real headless Chromium: the hosted signup form, the confirm and
//! unsubscribe pages, and the messages between them, as a visitor sees and uses them; the
//! owner's web app likewise. Each page is checked with axe-core against WCAG 2.1 AA.
//!
//! They need `chromium` and `chromium-driver` (Debian packages) and axe-core (npm,
//! `npm install --prefix target/axe axe-core@4`); `.ci/run` installs them. So they are
//! `#[ignore]`d in a plain `cargo test`. Run them with
//! `cargo test --test browser -- --ignored`; screenshots land in `target/screenshots/`.

// The harness is shared with tests/api; this target uses only part of it.
#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod accessibility;
mod brand;
mod driver;
mod images;
mod owner;
mod pages;
mod review;
