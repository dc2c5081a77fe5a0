//! A real headless Chromium driven over WebDriver: `chromedriver` started on a free
//! loopback port and killed (with every browser process it started) when the test ends,
//! even if it panics; and a `Browser` with one helper per thing a person does on a page.

use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::error::CmdError;
use fantoccini::key::Key;
use fantoccini::wd::{Capabilities, TimeoutConfiguration, WebDriverCompatibleCommand};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

/// The browser and its driver; override with `HUNDRED_TEST_CHROMIUM` / `HUNDRED_TEST_CHROMEDRIVER`.
fn chromium_binary() -> String {
    std::env::var("HUNDRED_TEST_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into())
}

fn chromedriver_binary() -> String {
    std::env::var("HUNDRED_TEST_CHROMEDRIVER").unwrap_or_else(|_| "/usr/bin/chromedriver".into())
}

/// The phone every page is also looked at on (CSS pixels).
pub const PHONE: (u32, u32) = (390, 844);

/// How long a page may take to appear after a click or a navigation.
const PAGE_TIMEOUT: Duration = Duration::from_secs(20);

/// The desktop viewport every page is looked at in, and its screenshots' size.
pub const DESKTOP: (u32, u32) = (1280, 800);

/// A running `chromedriver`, in its own process group so that dropping this kills the
/// driver and every Chromium process it started, whatever state the test is in.
pub struct ChromeDriver {
    child: Child,
    pub url: String,
}

impl ChromeDriver {
    pub async fn start() -> Self {
        let mut last_error = String::new();
        // The port was free a moment ago; if another process took it since, try another.
        for _ in 0..3 {
            let port = free_port();
            let child = Command::new(chromedriver_binary())
                .arg(format!("--port={port}"))
                .arg("--silent")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .unwrap_or_else(|err| {
                    panic!(
                        "could not start {} ({err}); install chromium and chromium-driver",
                        chromedriver_binary()
                    )
                });
            // From here on the guard owns the process: a panic below still kills it.
            let mut driver = Self {
                child,
                url: format!("http://127.0.0.1:{port}/"),
            };
            match driver.wait_until_ready().await {
                Ok(()) => return driver,
                Err(err) => last_error = err,
            }
        }
        panic!("chromedriver did not start: {last_error}");
    }

    /// Polls `GET /status` until the driver says it is ready.
    async fn wait_until_ready(&mut self) -> Result<(), String> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .build()
            .unwrap();
        let status_url = format!("{}status", self.url);
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(exit) = self.child.try_wait().map_err(|e| e.to_string())? {
                return Err(format!("chromedriver exited with {exit}"));
            }
            if let Ok(response) = http.get(&status_url).send().await
                && let Ok(status) = response.json::<Value>().await
                && status["value"]["ready"] == json!(true)
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(format!("no answer on {status_url} within 20 s"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for ChromeDriver {
    fn drop(&mut self) {
        let group = i32::try_from(self.child.id()).expect("a process id fits in i32");
        // SAFETY: kill(2) with a negative pid signals the process group the driver leads
        // (it was started with process_group(0)); it touches no memory of ours.
        unsafe {
            libc::kill(-group, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A Chrome DevTools Protocol command sent through chromedriver's `goog/cdp/execute`, for
/// what WebDriver cannot do: a phone-sized viewport and the dark colour scheme.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _request_url: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.cmd, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

/// One headless Chromium session, and where its screenshots go.
pub struct Browser {
    pub client: Client,
    /// Screenshot names start with this, e.g. `browser-sqlite`.
    label: String,
    shots: Vec<PathBuf>,
    /// When the page on screen arrived; the signup form's fill time counts from here.
    pub loaded_at: Instant,
    /// Messages saved as HTML files, to be opened like a mail client shows them.
    mail_dir: tempfile::TempDir,
    // Dropped after `client`: the profile directory outlives the browser using it.
    _profile: tempfile::TempDir,
    _driver: ChromeDriver,
}

impl Browser {
    pub async fn start(label: &str) -> Self {
        let driver = ChromeDriver::start().await;
        let profile = tempfile::tempdir().expect("a temporary browser profile");
        let args = [
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            "--disable-background-networking".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--no-first-run".into(),
            "--lang=en-US".into(),
            format!("--window-size={},{}", DESKTOP.0, DESKTOP.1),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities: Capabilities = serde_json::from_value(json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": chromium_binary(), "args": args },
            // Leave an unexpected alert open, so `assert_no_alert` would see it.
            "unhandledPromptBehavior": "ignore",
        }))
        .unwrap();
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&driver.url)
            .await
            .expect("a Chromium session through chromedriver");
        client
            .update_timeouts(TimeoutConfiguration::new(
                // axe-core on a long page, with the cores shared, can take a while.
                Some(Duration::from_secs(60)),
                Some(PAGE_TIMEOUT),
                Some(Duration::ZERO),
            ))
            .await
            .unwrap();
        let browser = Self {
            client,
            label: label.to_string(),
            shots: Vec::new(),
            loaded_at: Instant::now(),
            mail_dir: tempfile::tempdir().expect("a temporary directory for messages"),
            _profile: profile,
            _driver: driver,
        };
        browser.desktop().await;
        browser
    }

    /// Ends the session (the browser quits); the driver goes when `self` is dropped.
    pub async fn close(self) -> Vec<PathBuf> {
        let shots = self.shots.clone();
        let _ = self.client.clone().close().await;
        shots
    }

    /// Opens a URL as if typed into the address bar.
    pub async fn open(&mut self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
        self.wait_for_document().await;
    }

    /// Shows the HTML part of a message, as a mail client would, from a local file.
    pub async fn open_mail(&mut self, html: &str, name: &str) {
        let path = self.mail_dir.path().join(format!("{name}.html"));
        std::fs::write(&path, html).unwrap();
        self.open(&format!("file://{}", path.display())).await;
    }

    /// Clicks the visible link with this text, waits for the page it leads to, and returns
    /// where it pointed.
    pub async fn follow_link(&mut self, text: &str) -> String {
        let link = self.visible("a", "link", text).await;
        let href = link
            .attr("href")
            .await
            .unwrap()
            .expect("the link has an href");
        self.mark_document().await;
        link.click()
            .await
            .unwrap_or_else(|e| panic!("click {text:?}: {e}"));
        self.wait_for_document().await;
        href
    }

    pub async fn url(&self) -> String {
        self.client.current_url().await.unwrap().to_string()
    }

    pub async fn path(&self) -> String {
        self.client.current_url().await.unwrap().path().to_string()
    }

    pub async fn title(&self) -> String {
        self.client.title().await.unwrap()
    }

    /// The text a person can see on the page (hidden elements excluded).
    pub async fn visible_text(&self) -> String {
        self.find("body").await.text().await.unwrap()
    }

    pub async fn heading(&self) -> String {
        self.find("h1").await.text().await.unwrap()
    }

    pub async fn find(&self, css: &str) -> Element {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css}: {e}"))
    }

    pub async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Runs a script in the page and returns its result.
    pub async fn js(&self, script: &str) -> Value {
        self.client
            .execute(script, Vec::new())
            .await
            .unwrap_or_else(|e| panic!("script {script}: {e}"))
    }

    /// The `tag` element (a link, a button) a person finds by its text, asserting they can
    /// see it; `what` names it in the messages.
    async fn visible(&self, tag: &str, what: &str, text: &str) -> Element {
        let xpath = format!("//{tag}[normalize-space(.)='{text}']");
        let element = self
            .client
            .find(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no {what} {text:?}: {e}"));
        assert!(
            element.is_displayed().await.unwrap(),
            "the {what} {text:?} is visible"
        );
        element
    }

    /// The button a person would find by its label; it must be visible and enabled.
    pub async fn button(&self, label: &str) -> Element {
        let button = self.visible("button", "button labelled", label).await;
        assert!(
            button.is_enabled().await.unwrap(),
            "the {label:?} button is enabled"
        );
        button
    }

    /// Clicks a button and waits for the page it leads to.
    pub async fn press(&mut self, label: &str) {
        let button = self.button(label).await;
        self.mark_document().await;
        button
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {label:?}: {e}"));
        self.wait_for_document().await;
    }

    /// Clicks a button that must not lead anywhere (the browser refuses the form).
    pub async fn press_and_stay(&mut self, label: &str) {
        let button = self.button(label).await;
        self.mark_document().await;
        button.click().await.unwrap();
        tokio::time::sleep(Duration::from_millis(800)).await;
        assert_eq!(
            self.js("return document.documentElement.hasAttribute('data-left-behind')")
                .await,
            json!(true),
            "pressing {label:?} must not leave the page"
        );
        self.js("document.documentElement.removeAttribute('data-left-behind')")
            .await;
    }

    /// Types into a field a key at a time, at a person's pace.
    pub async fn type_into(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.click().await.unwrap();
        field.send_keys(&Key::End.to_string()).await.unwrap();
        for key in text.chars() {
            field.send_keys(&key.to_string()).await.unwrap();
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
    }

    pub async fn clear(&self, css: &str) {
        self.find(css).await.clear().await.unwrap();
    }

    /// The current value of a form field.
    pub async fn value(&self, css: &str) -> String {
        self.find(css)
            .await
            .prop("value")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Fails if a JavaScript dialog (alert, confirm, prompt) is open.
    pub async fn assert_no_alert(&self) {
        match self.client.get_alert_text().await {
            Err(err) if err.is_no_such_alert() => {}
            Ok(text) => panic!("a dialog is open: {text:?}"),
            Err(err) => panic!("asking for a dialog failed: {err}"),
        }
    }

    /// Saves a PNG of what is on screen as `target/screenshots/{label}-{NN}-{name}.png`.
    pub async fn screenshot(&mut self, name: &str) {
        let png = self.client.screenshot().await.unwrap();
        let dir = screenshot_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!(
            "{}-{:02}-{name}.png",
            self.label,
            self.shots.len() + 1
        ));
        std::fs::write(&path, png).unwrap();
        self.shots.push(path);
    }

    /// Looks at the page as a phone would (a `width`×`height` CSS-pixel screen, 2× pixels,
    /// touch, the meta viewport honoured) until `desktop` is called.
    pub async fn phone(&self, width: u32, height: u32) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 2, "mobile": true }),
        )
        .await;
    }

    /// Looks at the page in a desktop window's viewport (`DESKTOP`, 1× pixels), whatever
    /// room the headless window leaves for browser chrome.
    pub async fn desktop(&self) {
        self.cdp(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": DESKTOP.0, "height": DESKTOP.1, "deviceScaleFactor": 1, "mobile": false }),
        )
        .await;
    }

    /// Switches `prefers-color-scheme` between dark and light.
    pub async fn dark_mode(&self, dark: bool) {
        let value = if dark { "dark" } else { "light" };
        self.cdp(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": value }] }),
        )
        .await;
    }

    /// Presses a button whose answer is a file to save (an attachment): the page stays, and
    /// the file lands in a fresh directory. The saved file's contents.
    pub async fn download_by(&self, label: &str) -> Vec<u8> {
        let folder = tempfile::tempdir().expect("a directory for downloads");
        self.cdp(
            "Browser.setDownloadBehavior",
            json!({ "behavior": "allow", "downloadPath": folder.path().display().to_string() }),
        )
        .await;
        self.button(label).await.click().await.unwrap();
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            let done = std::fs::read_dir(folder.path())
                .unwrap()
                .flatten()
                .map(|entry| entry.path())
                .find(|path| path.extension().is_none_or(|ext| ext != "crdownload"));
            if let Some(path) = done {
                return std::fs::read(path).unwrap();
            }
            assert!(
                Instant::now() < deadline,
                "pressing {label:?} saved no file"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn cdp(&self, cmd: &'static str, params: Value) {
        self.client
            .issue_cmd(Cdp { cmd, params })
            .await
            .unwrap_or_else(|e| panic!("{cmd}: {e}"));
    }

    /// Marks the document on screen, so `wait_for_document` can tell when it was replaced.
    async fn mark_document(&self) {
        self.js("document.documentElement.setAttribute('data-left-behind', '')")
            .await;
    }

    /// Waits until the marked document is gone and the new one has loaded.
    async fn wait_for_document(&mut self) {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            let ready = self
                .client
                .execute(
                    "return document.readyState === 'complete' \
                     && !document.documentElement.hasAttribute('data-left-behind')",
                    Vec::new(),
                )
                .await;
            match ready {
                Ok(Value::Bool(true)) => break,
                // A script can fail while one document is replaced by the next.
                Ok(_) | Err(CmdError::Standard(_)) => {}
                Err(err) => panic!("waiting for the next page: {err}"),
            }
            assert!(
                Instant::now() < deadline,
                "no new page within {PAGE_TIMEOUT:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.loaded_at = Instant::now();
    }
}

/// `target/screenshots` (or under `CARGO_TARGET_DIR`).
pub fn screenshot_dir() -> PathBuf {
    target_dir().join("screenshots")
}

/// `target/` (or `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}
