//! The test harness: the real application on port 0 with a fresh database (SQLite or
//! Postgres), a real SMTP server on loopback that captures what arrives, and one helper
//! per thing a visitor or the owner does.

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mail_parser::{Message, MessageParser};
use mailin_embedded::response::{self, Response};
use mailin_embedded::{Handler, Server};
use uuid::Uuid;

/// Which database a test runs against. Every test runs on both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `mod NAME { sqlite, postgres }` tests calling `NAME(Backend)`.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::helpers::Backend::Sqlite).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$name($crate::helpers::Backend::Postgres).await
                }
            }
        )*
    };
}

/// Evaluates `$body` with `$pool` connected to the database at `$url`, SQLite or Postgres,
/// and closes the pool after: a query written once for both backends (the pools are of
/// different types, so a function could not take either).
#[macro_export]
macro_rules! with_pool {
    ($url:expr, |$pool:ident| $body:expr) => {{
        let url: &str = $url;
        if url.starts_with("sqlite:") {
            let $pool = sqlx::SqlitePool::connect(url).await.unwrap();
            let out = $body;
            $pool.close().await;
            out
        } else {
            let $pool = sqlx::PgPool::connect(url).await.unwrap();
            let out = $body;
            $pool.close().await;
            out
        }
    }};
}

/// The Postgres server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("HUNDRED_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A fresh, empty database URL for one test.
pub async fn fresh_database(backend: Backend) -> (String, Option<tempfile::TempDir>) {
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/hundred.db", dir.path().display());
            (url, Some(dir))
        }
        Backend::Postgres => {
            use sqlx::Connection as _;
            let admin = postgres_admin_url();
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("Postgres must be reachable at HUNDRED_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/postgres)");
            let name = format!("hundred_test_{}", Uuid::new_v4().simple());
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create test database");
            let mut url = url::Url::parse(&admin).expect("admin URL");
            url.set_path(&format!("/{name}"));
            (url.to_string(), None)
        }
    }
}

/// One message as the SMTP server received it.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The name the client gave in EHLO.
    pub helo: String,
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    pub data: Vec<u8>,
}

impl Captured {
    pub fn parsed(&self) -> Message<'_> {
        MessageParser::default()
            .parse(&self.data)
            .expect("the message parses as RFC 5322")
    }

    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    pub fn html(&self) -> String {
        self.parsed()
            .body_html(0)
            .map(|t| t.to_string())
            .unwrap_or_default()
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }

    /// The raw header block, before the first empty line.
    pub fn raw_headers(&self) -> String {
        let text = String::from_utf8_lossy(&self.data);
        text.split("\r\n\r\n")
            .next()
            .unwrap_or_default()
            .to_string()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.parsed().header_raw(name).map(|v| v.trim().to_string())
    }

    /// The first link in the text part that starts with `prefix`.
    pub fn link_starting_with(&self, prefix: &str) -> Option<String> {
        let text = self.text();
        let start = text.find(prefix)?;
        let link: String = text[start..]
            .chars()
            .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '"')
            .collect();
        Some(link)
    }
}

/// How the server answers RCPT for one address: `code` for the next `remaining` tries
/// (`usize::MAX`: always).
#[derive(Clone, Debug)]
struct Rule {
    address: String,
    code: u16,
    text: String,
    remaining: usize,
    seen: usize,
}

#[derive(Clone)]
struct Capture {
    /// How long the server thinks before accepting each message's data (a slow relay).
    delay: Arc<Mutex<Duration>>,
    rules: Arc<Mutex<Vec<Rule>>>,
    messages: Arc<Mutex<Vec<Captured>>>,
    /// Set by tests that want the server to refuse mail.
    refuse_with: Arc<Mutex<Option<(u16, String)>>>,
    current: Captured,
}

impl Handler for Capture {
    fn helo(&mut self, _ip: std::net::IpAddr, domain: &str) -> Response {
        self.current.helo = domain.to_string();
        response::OK
    }

    fn rcpt(&mut self, to: &str) -> Response {
        if let Some((code, text)) = self.refuse_with.lock().unwrap().clone() {
            return Response::custom(code, text);
        }
        let mut rules = self.rules.lock().unwrap();
        if let Some(rule) = rules
            .iter_mut()
            .find(|r| to.eq_ignore_ascii_case(&r.address) && r.remaining != 0)
        {
            rule.remaining = rule.remaining.saturating_sub(1);
            rule.seen += 1;
            return Response::custom(rule.code, rule.text.clone());
        }
        response::OK
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        let delay = *self.delay.lock().unwrap();
        if !delay.is_zero() {
            std::thread::sleep(delay);
        }
        self.current = Captured {
            helo: self.current.helo.clone(),
            mail_from: from.to_string(),
            rcpt_to: to.to_vec(),
            data: Vec::new(),
        };
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.messages.lock().unwrap().push(self.current.clone());
        response::OK
    }
}

/// A real SMTP server on loopback (mailin-embedded) that keeps every message it accepts.
#[derive(Clone)]
pub struct TestSmtp {
    pub address: SocketAddr,
    delay: Arc<Mutex<Duration>>,
    rules: Arc<Mutex<Vec<Rule>>>,
    messages: Arc<Mutex<Vec<Captured>>>,
    refuse_with: Arc<Mutex<Option<(u16, String)>>>,
}

impl TestSmtp {
    pub fn start() -> Self {
        let listener = StdListener::bind("127.0.0.1:0").expect("bind SMTP port");
        Self::start_on(listener)
    }

    /// Starts on a port that was free a moment ago (for the "server was down" test).
    pub fn start_at(address: SocketAddr) -> Self {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match StdListener::bind(address) {
                Ok(listener) => return Self::start_on(listener),
                Err(err) if Instant::now() > deadline => panic!("could not bind {address}: {err}"),
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    fn start_on(listener: StdListener) -> Self {
        let address = listener.local_addr().expect("SMTP address");
        let messages = Arc::new(Mutex::new(Vec::new()));
        let refuse_with = Arc::new(Mutex::new(None));
        let rules = Arc::new(Mutex::new(Vec::new()));
        let delay = Arc::new(Mutex::new(Duration::ZERO));
        let handler = Capture {
            delay: delay.clone(),
            rules: rules.clone(),
            messages: messages.clone(),
            refuse_with: refuse_with.clone(),
            current: Captured {
                helo: String::new(),
                mail_from: String::new(),
                rcpt_to: Vec::new(),
                data: Vec::new(),
            },
        };
        let mut server = Server::new(handler);
        server
            .with_name("smtp.test")
            .with_num_threads(16)
            .with_tcp_listener(listener);
        std::thread::spawn(move || {
            let _ = server.serve();
        });
        Self {
            address,
            delay,
            rules,
            messages,
            refuse_with,
        }
    }

    /// Makes the server take `delay` before accepting each message's data.
    pub fn slow_down(&self, delay: Duration) {
        *self.delay.lock().unwrap() = delay;
    }

    /// Answers RCPT for `address` with `code` the next `times` times.
    pub fn answer(&self, address: &str, code: u16, text: &str, times: usize) {
        self.rules.lock().unwrap().push(Rule {
            address: address.to_string(),
            code,
            text: text.to_string(),
            remaining: times,
            seen: 0,
        });
    }

    /// How many times the server refused `address` so far.
    pub fn refusals(&self, address: &str) -> usize {
        self.rules
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.address.eq_ignore_ascii_case(address))
            .map(|r| r.seen)
            .sum()
    }

    pub fn refuse_recipients_with(&self, code: u16, text: &str) {
        *self.refuse_with.lock().unwrap() = Some((code, text.to_string()));
    }

    pub fn messages(&self) -> Vec<Captured> {
        self.messages.lock().unwrap().clone()
    }

    pub fn messages_to(&self, address: &str) -> Vec<Captured> {
        self.messages()
            .into_iter()
            .filter(|m| m.rcpt_to.iter().any(|to| to.eq_ignore_ascii_case(address)))
            .collect()
    }

    /// Waits until `count` messages have arrived for `address`, and returns them.
    pub async fn wait_for(&self, address: &str, count: usize) -> Vec<Captured> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let found = self.messages_to(address);
            if found.len() >= count {
                return found;
            }
            if Instant::now() > deadline {
                panic!(
                    "expected {count} message(s) for {address}, got {}",
                    found.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// A running application with its own database and SMTP server.
pub struct TestApp {
    pub address: String,
    pub smtp: TestSmtp,
    pub database_url: String,
    pub backend: Backend,
    /// Follows no redirects, so a test sees exactly what the server answered.
    pub client: reqwest::Client,
    /// The one-time setup link the app printed at start (no owner account yet).
    pub setup_link: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

#[derive(Default)]
pub struct Options {
    pub env: HashMap<String, String>,
    /// Where the app should send mail; defaults to a fresh `TestSmtp`.
    pub smtp: Option<TestSmtp>,
    pub smtp_address: Option<SocketAddr>,
    /// Another instance's database, to run two instances on one database.
    pub database_url: Option<String>,
    /// Variables the harness sets that this app must not have (so the owner can change
    /// their setting in the app).
    pub unset: Vec<String>,
}

impl Options {
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.insert(name.to_string(), value.to_string());
        self
    }

    /// Leaves the harness's `name` unset.
    pub fn unset(mut self, name: &str) -> Self {
        self.unset.push(name.to_string());
        self
    }

    /// Mail goes to this server (shared with the test, or with another app).
    pub fn sending_to(mut self, smtp: &TestSmtp) -> Self {
        self.smtp = Some(smtp.clone());
        self
    }
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, Options::default()).await
}

pub async fn spawn_app_with(backend: Backend, options: Options) -> TestApp {
    let (database_url, dir) = match options.database_url.clone() {
        Some(url) => (url, None),
        None => fresh_database(backend).await,
    };
    let smtp = options.smtp.clone().unwrap_or_else(TestSmtp::start);
    let smtp_address = options.smtp_address.unwrap_or(smtp.address);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind app port");
    let port = listener.local_addr().unwrap().port();
    let address = format!("http://127.0.0.1:{port}");

    let mut env: HashMap<String, String> = [
        ("HUNDRED_DATABASE_URL", database_url.as_str()),
        ("HUNDRED_LISTEN", "127.0.0.1:0"),
        ("HUNDRED_PUBLIC_URL", address.as_str()),
        ("HUNDRED_FROM", "Corner Bakery <news@bakery.example>"),
        ("HUNDRED_LIST_NAME", "Corner Bakery News"),
        ("HUNDRED_SIGNUP_MIN_FILL_SECONDS", "0"),
        ("HUNDRED_RETRY_BASE_MS", "300"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.insert("HUNDRED_SMTP_URL".into(), format!("smtp://{smtp_address}"));
    env.extend(options.env);
    for name in &options.unset {
        env.remove(name);
    }

    let config = hundred::Config::from_map(&env).expect("test configuration is valid");
    let app = hundred::Application::build_on(config, listener)
        .await
        .expect("the application starts");
    let setup_link = app.setup_link().map(str::to_string);
    tokio::spawn(app.run_until(std::future::pending()));

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        // A fresh connection per request: a server that refused a body (413) closes the
        // connection, and a pooled client would reuse it.
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    TestApp {
        address,
        smtp,
        database_url,
        backend,
        client,
        setup_link,
        _dir: dir,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    pub async fn get(&self, path_or_url: &str) -> reqwest::Response {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            self.url(path_or_url)
        };
        self.client.get(url).send().await.expect("GET")
    }

    pub async fn head(&self, url: &str) -> reqwest::Response {
        self.client.head(url).send().await.expect("HEAD")
    }

    pub async fn post_empty(&self, url: &str) -> reqwest::Response {
        self.client.post(url).send().await.expect("POST")
    }

    /// Fills in the hosted form as a person would: fetch the page, keep its hidden token.
    pub async fn subscribe_via_page(&self, email: &str, name: &str) -> reqwest::Response {
        let page = self.get("/subscribe").await.text().await.unwrap();
        let token = hidden_value(&page, "form_token").expect("the page carries a form token");
        self.post_subscribe_form(&[
            ("email", email),
            ("name", name),
            ("website", ""),
            ("form_token", &token),
        ])
        .await
    }

    pub async fn post_subscribe_form(&self, fields: &[(&str, &str)]) -> reqwest::Response {
        Self::subscribe(self.client.post(self.url("/subscribe")).form(fields)).await
    }

    pub async fn post_subscribe_json(&self, body: &serde_json::Value) -> reqwest::Response {
        Self::subscribe(self.client.post(self.url("/subscribe")).json(body)).await
    }

    /// Sends a prepared `POST /subscribe` (form or JSON body).
    async fn subscribe(request: reqwest::RequestBuilder) -> reqwest::Response {
        request.send().await.expect("POST /subscribe")
    }

    /// Creates an API token the way the owner would, through the store the CLI uses.
    pub async fn api_token(&self) -> String {
        let store = hundred::store::Store::connect(&self.database_url)
            .await
            .unwrap();
        store.create_api_token("tests").await.unwrap()
    }

    pub async fn api(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(&format!("/api/v1{path}")))
            .bearer_auth(token)
    }

    /// One API call without a body; its response, whatever the status.
    pub async fn api_call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
    ) -> reqwest::Response {
        let what = format!("{method} {path}");
        self.api(method, path, token)
            .await
            .send()
            .await
            .unwrap_or_else(|err| panic!("{what}: {err}"))
    }

    /// One API call with a JSON body; its response, whatever the status.
    pub async fn api_json(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: &serde_json::Value,
    ) -> reqwest::Response {
        let what = format!("{method} {path}");
        self.api(method, path, token)
            .await
            .json(body)
            .send()
            .await
            .unwrap_or_else(|err| panic!("{what}: {err}"))
    }

    /// `POST /api/v1{path}` with no body, as the owner's script would.
    pub async fn api_post(&self, path: &str, token: &str) -> reqwest::Response {
        self.api_call(reqwest::Method::POST, path, token).await
    }

    /// `GET /api/v1{path}` as JSON (asserting success).
    pub async fn api_get(&self, path: &str, token: &str) -> serde_json::Value {
        let response = self.api_call(reqwest::Method::GET, path, token).await;
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.json().await.expect("a JSON answer")
    }

    /// Creates a campaign through the API and returns its JSON (asserting 201).
    pub async fn create_campaign(&self, token: &str, body: serde_json::Value) -> serde_json::Value {
        let response = self
            .api_json(reqwest::Method::POST, "/campaigns", token, &body)
            .await;
        let status = response.status();
        let json: serde_json::Value = response.json().await.unwrap();
        assert_eq!(status, 201, "{json}");
        json
    }

    /// Sends a campaign now through the API (asserting 202).
    pub async fn send_campaign_now(&self, token: &str, id: &str) {
        let response = self.api_post(&format!("/campaigns/{id}/send"), token).await;
        assert_eq!(response.status(), 202);
    }

    /// Schedules a draft for `after` from now, through the API.
    pub async fn schedule_campaign(&self, token: &str, id: &str, after: time::Duration) {
        let at = (time::OffsetDateTime::now_utc() + after)
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap();
        let path = format!("/campaigns/{id}/send");
        let at = serde_json::json!({ "at": at });
        let response = self
            .api_json(reqwest::Method::POST, &path, token, &at)
            .await;
        assert_eq!(response.status(), 202);
    }

    /// Waits until the campaign's status is `status`, and returns its JSON.
    pub async fn wait_for_campaign(
        &self,
        token: &str,
        id: &str,
        status: &str,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let campaign = self.api_get(&format!("/campaigns/{id}"), token).await;
            if campaign["status"] == status {
                return campaign;
            }
            assert!(
                Instant::now() < deadline,
                "campaign never became {status}: {campaign}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Counts rows with plain SQL, to prove that nothing was stored.
    pub async fn count(&self, table: &str) -> i64 {
        let sql = format!("SELECT COUNT(*) FROM {table}");
        crate::with_pool!(&self.database_url, |pool| {
            sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
                .fetch_one(&pool)
                .await
                .unwrap()
        })
    }

    /// Moves these timestamp columns of `table` back by `days`, to stand in for time
    /// passing (a subscriber who joined months ago, a deadline that went by).
    pub async fn move_back(&self, table: &str, columns: &[&str], days: i64) {
        // SQLite keeps milliseconds since the epoch; Postgres, timestamps.
        let shift = |c: &str| match self.backend {
            Backend::Sqlite => format!("{c} = {c} - {}", days * 86_400_000),
            Backend::Postgres => format!("{c} = {c} - interval '{days} days'"),
        };
        let set = columns.iter().map(|c| shift(c)).collect::<Vec<_>>();
        let sql = format!("UPDATE {table} SET {}", set.join(", "));
        crate::with_pool!(&self.database_url, |pool| {
            let done = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
            done.map(|_| ()).unwrap()
        });
    }

    /// Signs up, waits for the confirmation, and returns its confirm link.
    pub async fn signup_and_get_confirm_link(&self, email: &str) -> String {
        let response = self
            .post_subscribe_json(&serde_json::json!({ "email": email }))
            .await;
        assert_eq!(response.status(), 200);
        let mail = self.smtp.wait_for(email, 1).await;
        mail.last()
            .unwrap()
            .link_starting_with(&self.url("/confirm/"))
            .expect("the confirmation carries a confirm link")
    }

    /// A confirmed subscriber; returns their welcome message.
    pub async fn confirmed_subscriber(&self, email: &str) -> Captured {
        let link = self.signup_and_get_confirm_link(email).await;
        let response = self.post_empty(&link).await;
        assert_eq!(response.status(), 200);
        let mail = self.smtp.wait_for(email, 2).await;
        mail.into_iter()
            .find(|m| m.subject().starts_with("Welcome"))
            .expect("a welcome message")
    }
}

/// The owner's browser in miniature: a cookie jar, no redirects followed, and the CSRF
/// token of the session, added to every form it posts.
pub struct OwnerClient {
    pub app_url: String,
    pub http: reqwest::Client,
    pub csrf: String,
}

pub const OWNER_EMAIL: &str = "owner@bakery.example";
pub const OWNER_PASSWORD: &str = "flour and water and salt";

/// The body of the page at `url` as `http` gets it, whatever its status.
pub async fn text_at(http: &reqwest::Client, url: impl reqwest::IntoUrl) -> String {
    http.get(url).send().await.unwrap().text().await.unwrap()
}

/// Fills in the login form (its token fetched by the same client) and sends it.
pub async fn submit_login(
    login: reqwest::RequestBuilder,
    email: &str,
    password: &str,
    next: &str,
    form_token: &str,
) -> reqwest::Response {
    login
        .form(&[
            ("email", email),
            ("password", password),
            ("next", next),
            ("form_token", form_token),
        ])
        .send()
        .await
        .unwrap()
}

/// Fills in the setup form at `link` (address, password, password again) and sends it.
pub async fn submit_setup(
    http: &reqwest::Client,
    link: &str,
    [email, password, password_again]: [&str; 3],
    form_token: &str,
) -> reqwest::Response {
    http.post(link)
        .form(&[
            ("email", email),
            ("password", password),
            ("password_again", password_again),
            ("form_token", form_token),
        ])
        .send()
        .await
        .unwrap()
}

pub fn cookie_client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

impl TestApp {
    /// Creates the owner account through the setup link and returns their logged-in client.
    pub async fn owner(&self) -> OwnerClient {
        let link = self
            .setup_link
            .clone()
            .expect("a fresh app prints a setup link");
        let http = cookie_client();
        let page = text_at(&http, &link).await;
        let form_token = hidden_value(&page, "form_token").expect("the setup form has a token");
        let created = submit_setup(
            &http,
            &link,
            [OWNER_EMAIL, OWNER_PASSWORD, OWNER_PASSWORD],
            &form_token,
        )
        .await;
        assert_eq!(
            created.status(),
            303,
            "the setup form leads to the dashboard"
        );
        OwnerClient::with_session(self.address.clone(), http).await
    }

    /// Logs in as an existing owner with a fresh client.
    pub async fn log_in(
        &self,
        email: &str,
        password: &str,
    ) -> Result<OwnerClient, reqwest::Response> {
        let http = cookie_client();
        let page = text_at(&http, self.url("/admin/login")).await;
        let form_token = hidden_value(&page, "form_token").expect("the login form has a token");
        let login = http.post(self.url("/admin/login"));
        let answer = submit_login(login, email, password, "/admin", &form_token).await;
        if answer.status() != 303 {
            return Err(answer);
        }
        Ok(OwnerClient::with_session(self.address.clone(), http).await)
    }
}

impl OwnerClient {
    async fn with_session(app_url: String, http: reqwest::Client) -> Self {
        let page = http.get(format!("{app_url}/admin")).send().await.unwrap();
        assert_eq!(page.status(), 200, "logged in, the dashboard shows");
        let page = page.text().await.unwrap();
        let csrf = hidden_value(&page, "csrf").expect("admin pages carry the CSRF token");
        Self {
            app_url,
            http,
            csrf,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.app_url)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("GET")
    }

    /// The page at `path`, which must answer 200.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// Posts a form with the session's CSRF token.
    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        let mut all: Vec<(&str, &str)> = fields.to_vec();
        all.push(("csrf", &self.csrf));
        self.post_as_written(path, &[], &all).await
    }

    /// Posts a form in this session exactly as given: the CSRF token only where the test
    /// puts it (a field or a header), for the refusals and the page's scripts.
    pub async fn post_as_written(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        fields: &(impl serde::Serialize + ?Sized),
    ) -> reqwest::Response {
        let mut request = self.http.post(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.form(fields).send().await.expect("POST")
    }
}

/// The text of the element with this id (tags stripped, whitespace collapsed).
pub fn text_of(page: &str, id: &str) -> String {
    let marker = format!("id=\"{id}\"");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("no #{id} in {page}"));
    let open = page[..start].rfind('<').unwrap();
    let tag: String = page[open + 1..]
        .chars()
        .take_while(|c| c.is_alphanumeric())
        .collect();
    let content = start + page[start..].find('>').unwrap() + 1;
    // The matching end tag, counting nested elements of the same kind.
    let (open_tag, close_tag) = (format!("<{tag}"), format!("</{tag}>"));
    let mut depth = 1;
    let mut at = content;
    let end = loop {
        let next_close = at + page[at..].find(&close_tag).unwrap();
        match page[at..next_close].find(&open_tag) {
            Some(offset) => {
                depth += 1;
                at += offset + open_tag.len();
            }
            None => {
                depth -= 1;
                if depth == 0 {
                    break next_close;
                }
                at = next_close + close_tag.len();
            }
        }
    };
    let mut text = String::new();
    let mut in_tag = false;
    for c in page[content..end].chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                text.push(' ');
            }
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Asserts that `text` contains `needle`; `why` says what the needle stands for, and the
/// text is shown when it is missing.
#[track_caller]
pub fn assert_contains(text: &str, needle: &str, why: &str) {
    assert!(text.contains(needle), "{why}: no {needle:?} in {text}");
}

/// A client that does not follow redirects, so the test sees where a click goes.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub async fn fetch(url: &str, agent: &str) -> reqwest::Response {
    browser()
        .get(url)
        .header(reqwest::header::USER_AGENT, agent)
        .send()
        .await
        .unwrap()
}

/// Every `/t/…` URL in the HTML part, in order, except the hidden link's (`hidden_link`):
/// the ones a person can see.
pub fn tracking_urls(html: &str, kind: &str) -> Vec<String> {
    let marker = format!("/t/{kind}/");
    let mut urls = Vec::new();
    for (at, _) in html.match_indices(&marker) {
        if tag_around(html, at).contains("aria-hidden") {
            continue;
        }
        let start = html[..at].rfind("http").unwrap();
        let end = at + html[at..].find('"').unwrap();
        let url = html[start..end].to_string();
        if !urls.contains(&url) {
            urls.push(url);
        }
    }
    urls
}

/// The tag the text at `at` is in.
pub fn tag_around(html: &str, at: usize) -> &str {
    let start = html[..at].rfind('<').unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

/// The value of a hidden input in a page.
pub fn hidden_value(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = page.find(&marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_string())
}

/// The `action` of the first form in a page.
pub fn form_action(page: &str) -> Option<String> {
    let marker = "<form method=\"post\" action=\"";
    let start = page.find(marker)? + marker.len();
    let end = page[start..].find('"')? + start;
    Some(page[start..end].to_string())
}

/// Waits a little so that a message the app might (wrongly) send has time to arrive.
pub async fn settle() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}
