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

/// The test `$test(backend)` as `$module::sqlite` and `$module::postgres`, each ignored in a
/// plain `cargo test` (they need Chromium, chromium-driver and axe-core).
macro_rules! in_chromium_on_both_databases {
    ($module:ident, $test:ident) => {
        mod $module {
            use crate::helpers::Backend;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs chromium and chromium-driver (installed by .ci/run)"]
            async fn sqlite() {
                super::$test(Backend::Sqlite).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            #[ignore = "needs chromium and chromium-driver (installed by .ci/run)"]
            async fn postgres() {
                super::$test(Backend::Postgres).await
            }
        }
    };
}

mod accessibility;
mod brand;
mod driver;
mod images;
mod owner;
mod pages;
mod reader;
mod review;
mod story;
