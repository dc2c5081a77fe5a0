//! Every page against axe-core's WCAG 2.1 A and AA rules, in the browser that shows it: at
//! desktop width, at phone width and in dark mode, failing with what to fix.
//!
//! axe-core comes from npm (`npm install --prefix target/axe axe-core@4`, as `.ci/run`
//! does); `HUNDRED_TEST_AXE` may point at another `axe.min.js`. It is handed to the page
//! through WebDriver's execute-script, which Chromium runs outside the page's
//! Content-Security-Policy, so the app's CSP stays as strict in tests as in production.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::driver::{Browser, PHONE, target_dir};
use crate::helpers::{Backend, spawn_app};

/// The WCAG 2.1 A and AA rules every page must pass.
const WCAG_21_AA: [&str; 4] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"];

/// How many of a rule's failing elements a report shows.
const NODES_SHOWN: usize = 3;

/// Where `axe.min.js` is read from.
fn axe_path() -> PathBuf {
    std::env::var_os("HUNDRED_TEST_AXE")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("axe/node_modules/axe-core/axe.min.js"))
}

/// axe-core's source, read once for every test in this binary; a panic says how to get it.
fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = axe_path();
        std::fs::read_to_string(&path).unwrap_or_else(|err| {
            panic!(
                "axe-core is missing: cannot read {} ({err}). Install it with \
                 `npm install --prefix target/axe axe-core@4` (as .ci/run does), or point \
                 HUNDRED_TEST_AXE at an axe.min.js",
                path.display()
            )
        })
    })
}

/// Runs axe on the document and answers `{ version, violations: [...] }` or `{ error }`.
const RUN_AXE: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, {
  runOnly: { type: 'tag', values: arguments[0] },
  // The one frame on our pages is the composer's preview of the message itself, which is
  // mail, not page; axe, injected into this document only, could not look inside it anyway.
  iframes: false,
  resultTypes: ['violations'],
}).then(
  (results) => done({
    version: axe.version,
    violations: results.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      helpUrl: v.helpUrl,
      nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, summary: n.failureSummary })),
    })),
  }),
  (error) => done({ error: String((error && error.stack) || error) }),
);
"#;

impl Browser {
    /// The page on screen passes axe-core's WCAG 2.1 AA rules, as it looks right now;
    /// `what` names the page and the view in the failure.
    pub async fn assert_accessible(&self, what: &str) {
        let (version, violations) = self.wcag_violations(what).await;
        if !violations.is_empty() {
            panic!("{}", describe(what, &version, &violations));
        }
    }

    /// The page on screen passes at desktop width, at phone width and in dark mode; the
    /// browser is back at desktop width in light mode afterwards.
    pub async fn assert_accessible_everywhere(&self, what: &str) {
        self.assert_accessible(&format!("{what} (desktop)")).await;
        self.phone(PHONE.0, PHONE.1).await;
        self.assert_accessible(&format!("{what} (phone, {} px)", PHONE.0))
            .await;
        self.desktop().await;
        self.dark_mode(true).await;
        self.assert_accessible(&format!("{what} (dark mode)")).await;
        self.dark_mode(false).await;
    }

    /// axe-core's version, and the rules of WCAG 2.1 AA the page on screen breaks.
    async fn wcag_violations(&self, what: &str) -> (String, Vec<Value>) {
        // Each new document needs its own copy of axe.
        if self.js("return typeof window.axe").await != json!("object") {
            let loaded = self
                .js(&format!("{}\nreturn typeof window.axe;", axe_source()))
                .await;
            assert_eq!(loaded, json!("object"), "axe-core did not load on {what}");
        }
        let answer = self
            .client
            .execute_async(RUN_AXE, vec![json!(WCAG_21_AA)])
            .await
            .unwrap_or_else(|e| panic!("running axe-core on {what}: {e}"));
        if let Some(error) = answer.get("error") {
            panic!("axe-core failed on {what}: {error}");
        }
        let version = answer["version"].as_str().unwrap_or("?").to_string();
        let violations = answer["violations"].as_array().cloned().unwrap_or_default();
        (version, violations)
    }
}

/// One paragraph per broken rule: what it wants, and where on the page it fails.
fn describe(what: &str, version: &str, violations: &[Value]) -> String {
    let mut report = format!(
        "{what} fails {} WCAG 2.1 AA rule(s) of axe-core {version}:\n",
        violations.len(),
    );
    for rule in violations {
        let nodes = rule["nodes"].as_array().cloned().unwrap_or_default();
        let _ = writeln!(
            report,
            "\n- {} ({}): {} [{}]",
            rule["id"].as_str().unwrap_or("?"),
            rule["impact"].as_str().unwrap_or("?"),
            rule["help"].as_str().unwrap_or("?"),
            rule["helpUrl"].as_str().unwrap_or(""),
        );
        for node in nodes.iter().take(NODES_SHOWN) {
            let _ = writeln!(
                report,
                "    at {}\n      {}\n      {}",
                node["target"],
                node["html"].as_str().unwrap_or(""),
                node["summary"]
                    .as_str()
                    .unwrap_or("")
                    .replace('\n', "\n      "),
            );
        }
        if nodes.len() > NODES_SHOWN {
            let _ = writeln!(report, "    and {} more", nodes.len() - NODES_SHOWN);
        }
    }
    report
}

/// The check can fail: on a real page, under the app's own Content-Security-Policy, axe
/// finds text too faint to read and a field without a label that a script slipped in.
/// (No database plays a part here, so this runs on SQLite only.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs chromium and chromium-driver (installed by .ci/run)"]
async fn the_accessibility_check_sees_what_is_wrong() {
    let app = spawn_app(Backend::Sqlite).await;
    let mut browser = Browser::start("axe-self-check").await;
    browser.open(&app.url("/subscribe")).await;
    browser.assert_accessible("the signup page").await;

    browser
        .js("document.querySelector('main').insertAdjacentHTML('beforeend', \
             '<p id=\"faint\" style=\"color:#ddd\">Hard to read</p><input id=\"nameless\" type=\"text\">')")
        .await;
    let (_, violations) = browser.wcag_violations("the spoiled signup page").await;
    let report = describe("the spoiled signup page", "", &violations);
    for (rule, element) in [("color-contrast", "#faint"), ("label", "#nameless")] {
        let found = violations.iter().any(|v| {
            v["id"] == rule
                && v["nodes"]
                    .as_array()
                    .is_some_and(|nodes| nodes.iter().any(|n| n["target"] == json!([element])))
        });
        assert!(found, "axe reports {rule} at {element}: {report}");
    }
    assert!(
        report.contains("Hard to read") && report.contains("Fix any of the following"),
        "the report shows the element and what to fix: {report}"
    );
    browser.close().await;
}
