//! Configuration from the environment (and a `.env` file), checked once at start-up.
//!
//! Every value is parsed here, so a bad one stops start-up with one line naming the
//! variable and what is wrong with it, instead of failing later on a request.
//!
//! Which settings there are (their variables, defaults, meanings, and how the settings page
//! shows them, secrets masked) is declared once, in [`SETTINGS`]; README's configuration
//! table is checked against it, and reading a variable not declared there fails in tests.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use url::Url;

mod parse;
mod servers;
mod settings;
pub use servers::{ImapSettings, ImapTls, SmtpSettings, SmtpTls};
pub use settings::{SETTINGS, Setting, markdown_table};

/// A configuration value that could not be used, named by its variable.
#[derive(Debug, thiserror::Error)]
#[error("{variable}: {problem}")]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl ConfigError {
    pub fn new(variable: &'static str, problem: impl Into<String>) -> Self {
        Self {
            variable,
            problem: problem.into(),
        }
    }
}

/// A secret that never shows up in logs or `Debug` output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Limits that protect the public signup form from bots and subscription bombing.
#[derive(Clone, Debug)]
pub struct SignupLimits {
    /// Signups one IP address may make in a burst before it gets 429.
    pub burst_per_ip: u32,
    /// How many more signups per minute an IP address earns back after a burst.
    pub per_ip_per_minute: u32,
    /// The hosted form refuses submissions made faster than this after it was shown.
    pub min_fill_time: Duration,
    /// At most one confirmation message per address in this interval.
    pub confirmation_interval: Duration,
}

/// How the durable outgoing-mail queue retries.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// The first retry happens between `base` and `2 × base` after a failure; later ones
    /// back off exponentially from there.
    pub base: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// After this many attempts a message is marked failed.
    pub max_attempts: u32,
}

/// Who signs with DKIM, and the key file; `mail::dkim::DkimSigner` is built from it at
/// start-up (the key is read then, so config stays plain values).
#[derive(Clone, Debug)]
pub struct DkimSettings {
    pub domain: String,
    pub selector: String,
    pub key_file: PathBuf,
}

/// The PEM files the SMTP listener offers with STARTTLS; `inbound::smtp::InboundTls` reads
/// them at start-up.
#[derive(Clone, Debug)]
pub struct TlsFiles {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

#[derive(Clone, Debug)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    pub public_url: Url,
    pub smtp_url: Option<Secret>,
    pub outbox_dir: PathBuf,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    pub list_name: String,
    pub unsubscribe_mailto: Option<String>,
    pub secret_key: Option<Secret>,
    pub inbound_secret: Option<Secret>,
    /// Where the built-in SMTP listener for replies and bounces listens; off when unset.
    pub inbound_smtp_listen: Option<SocketAddr>,
    /// How many connections that listener holds at once, in all.
    pub inbound_smtp_max_connections: usize,
    /// How many of them one client address (IPv6: one /64) may hold.
    pub inbound_smtp_max_per_client: usize,
    /// The certificate it offers with STARTTLS; no STARTTLS when unset.
    pub inbound_tls: Option<TlsFiles>,
    /// How long a stop waits for work in flight (requests, sends, a message being received)
    /// before cutting it off.
    pub shutdown_grace: Duration,
    /// The mailbox polled for replies and bounces; off when unset. Its password is a
    /// [`Secret`] inside.
    pub imap: Option<ImapSettings>,
    /// How often that mailbox is read.
    pub imap_poll_interval: Duration,
    pub send_rate: f64,
    pub send_concurrency: usize,
    pub signup: SignupLimits,
    pub retry: RetryPolicy,
    pub consent_text: String,
    pub trust_proxy_headers: bool,
    /// Envelope sender for bounces; each message gets `local+TOKEN@domain` (VERP).
    pub bounce_address: Option<lettre::Address>,
    /// DKIM signing; the key file is read when the signer is built at start-up.
    pub dkim: Option<DkimSettings>,
    /// Open pixels and click tracking for everyone (it can also be off per subscriber).
    pub tracking: bool,
    /// Opens and clicks this soon after delivery are machines (prefetching proxies, link
    /// scanners), not people.
    pub machine_window: std::time::Duration,
    /// Addresses Apple Mail Privacy Protection fetches images from: opens from there are
    /// machine opens.
    pub apple_proxy_ranges: Vec<ipnet::IpNet>,
    /// How fast interest fades: a human signal counts half after this many days.
    pub engagement_half_life_days: f64,
    /// Names this instance's sender workers; a restarted instance takes over at once the
    /// work its previous run left leased.
    pub instance_id: String,
    /// The authserv-id of the owner's own receiving mail server: its
    /// `Authentication-Results` (a DMARC or DKIM pass for the From domain) verify a reply
    /// matched by its From address alone. Unset: only tokens and our Message-IDs do.
    pub trusted_authserv_id: Option<String>,
}

pub const DEFAULT_CONSENT_TEXT: &str = "Yes, send me the newsletter by email. \
I can unsubscribe at any time with the link in every message.";

impl Config {
    /// Reads the process environment, after loading `.env` if there is one.
    pub fn from_env() -> Result<Self, ConfigError> {
        // A missing .env is normal; a broken one is worth a clear line.
        if let Err(err) = dotenvy::dotenv()
            && !err.not_found()
        {
            return Err(ConfigError::new(".env", err.to_string()));
        }
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Builds a configuration from explicit values, falling back to the defaults.
    pub fn from_map(values: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_lookup(|name| values.get(name).cloned())
    }

    /// Builds a configuration from `lookup` (a variable's value, if set), in the order of
    /// start-up: the first bad value is the one reported.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &str| {
            // A variable read here is declared in SETTINGS, so README and the settings
            // page know it (a test reads them all).
            debug_assert!(settings::declares(name), "{name} is not in SETTINGS");
            lookup(name).filter(|value| !value.trim().is_empty())
        };

        let database_url = parse::database_url(&get)?;
        let (listen, public_url) = parse::listen_and_public_url(&get)?;
        let smtp_url = parse::smtp_url(&get)?;
        let outbox_dir =
            PathBuf::from(get("HUNDRED_OUTBOX_DIR").unwrap_or_else(|| "data/outbox".into()));
        let from = parse_mailbox(
            "HUNDRED_FROM",
            &get("HUNDRED_FROM").unwrap_or_else(|| "Newsletter <newsletter@localhost>".into()),
        )?;
        let reply_to = get("HUNDRED_REPLY_TO")
            .map(|raw| parse_mailbox("HUNDRED_REPLY_TO", &raw))
            .transpose()?;
        let list_name = parse::list_name(&get, &from)?;
        let unsubscribe_mailto = get("HUNDRED_UNSUBSCRIBE_MAILTO")
            .map(|raw| {
                parse_mailbox("HUNDRED_UNSUBSCRIBE_MAILTO", &raw).map(|mb| mb.email.to_string())
            })
            .transpose()?;
        let secret_key = parse::secret_key(&get)?;
        let inbound_secret = get("HUNDRED_INBOUND_SECRET").map(Secret::new);
        let inbound_smtp_listen = parse::inbound_smtp_listen(&get)?;
        let trusted_authserv_id = parse::trusted_authserv_id(&get)?;
        let (inbound_smtp_max_connections, inbound_smtp_max_per_client) =
            parse::inbound_smtp_limits(&get)?;
        let inbound_tls = parse::inbound_tls(&get)?;
        let shutdown_grace = parse::shutdown_grace(&get)?;
        let (imap, imap_poll_interval) = parse::imap(&get)?;
        let (send_rate, send_concurrency) = parse::sending(&get)?;
        let signup = parse::signup(&get)?;
        let retry = parse::retry(&get)?;
        let consent_text =
            get("HUNDRED_CONSENT_TEXT").unwrap_or_else(|| DEFAULT_CONSENT_TEXT.to_string());
        let trust_proxy_headers = parse::trust_proxy_headers(&get)?;
        let bounce_address = get("HUNDRED_BOUNCE_ADDRESS")
            .map(|raw| parse_mailbox("HUNDRED_BOUNCE_ADDRESS", &raw).map(|mb| mb.email))
            .transpose()?;
        let dkim = parse::dkim(&get)?;
        let tracking = parse::tracking(&get)?;
        let machine_window = std::time::Duration::from_secs(parse_number::<u64>(
            "HUNDRED_MACHINE_WINDOW_SECONDS",
            get("HUNDRED_MACHINE_WINDOW_SECONDS"),
            10,
        )?);
        let engagement_half_life_days = parse::engagement_half_life_days(&get)?;
        let apple_proxy_ranges = parse::apple_proxy_ranges(&get)?;
        let instance_id = parse::instance_id(&get, listen.port())?;

        Ok(Self {
            bounce_address,
            dkim,
            tracking,
            machine_window,
            apple_proxy_ranges,
            engagement_half_life_days,
            instance_id,
            trusted_authserv_id,
            database_url,
            listen,
            public_url,
            smtp_url,
            outbox_dir,
            from,
            reply_to,
            list_name,
            unsubscribe_mailto,
            secret_key,
            inbound_secret,
            inbound_smtp_listen,
            inbound_smtp_max_connections,
            inbound_smtp_max_per_client,
            inbound_tls,
            shutdown_grace,
            imap,
            imap_poll_interval,
            send_rate,
            send_concurrency,
            signup,
            retry,
            consent_text,
            trust_proxy_headers,
        })
    }

    /// The public base URL without a trailing slash, for building links.
    pub fn public_base(&self) -> &str {
        self.public_url.as_str().trim_end_matches('/')
    }

    /// The domain our Message-IDs and List-Id live on: the From address's domain.
    pub fn sending_domain(&self) -> &str {
        self.from.email.domain()
    }

    /// The effective configuration, one row per setting of [`SETTINGS`] (its variables,
    /// its value), with every secret masked (the SMTP, IMAP and database passwords, the
    /// secret key, the inbound secret, the DKIM and STARTTLS keys): for the settings page.
    pub fn masked_summary(&self) -> Vec<(String, String)> {
        SETTINGS
            .iter()
            .filter_map(|setting| {
                let summary = setting.summary?;
                Some((setting.label(), summary(self)))
            })
            .collect()
    }
}

/// Hides the secrets in a URL: the password (`postgres://user:pass@host/db`) and any query
/// value that could be one (`?password=…`, `sslpassword`, `token`, `secret`, `key`).
pub fn redact_url(raw: &str) -> String {
    let Ok(mut url) = Url::parse(raw) else {
        return "(unparseable URL)".into();
    };
    if url.password().is_some() && url.set_password(Some("***")).is_err() {
        return "(hidden: the URL holds a password)".into();
    }
    if url.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let lower = key.to_lowercase();
                let secret = ["pass", "secret", "token", "key"]
                    .iter()
                    .any(|word| lower.contains(word));
                let value = if secret {
                    "***".into()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    url.to_string()
}

/// The public URL when none is set: where a browser on this machine reaches
/// `HUNDRED_LISTEN`, so someone who only changes the port still gets working links. An
/// address that listens everywhere (`0.0.0.0`, `[::]`) is reached on loopback. Port 0 (any
/// free port, known only once listening) cannot be written in advance: 8080 stands in.
fn default_public_url(listen: SocketAddr) -> String {
    let port = match listen.port() {
        0 => 8080,
        port => port,
    };
    match listen.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => format!("http://127.0.0.1:{port}"),
        IpAddr::V4(ip) => format!("http://{ip}:{port}"),
        IpAddr::V6(ip) if ip.is_unspecified() => format!("http://[::1]:{port}"),
        IpAddr::V6(ip) => format!("http://[{ip}]:{port}"),
    }
}

fn parse_public_url(raw: &str) -> Result<Url, ConfigError> {
    let url = Url::parse(raw).map_err(|err| {
        ConfigError::new("HUNDRED_PUBLIC_URL", format!("'{raw}' is not a URL: {err}"))
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(ConfigError::new(
            "HUNDRED_PUBLIC_URL",
            format!("'{raw}' must be an http:// or https:// URL with a host"),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(ConfigError::new(
            "HUNDRED_PUBLIC_URL",
            "must not carry a query or a fragment",
        ));
    }
    Ok(url)
}

fn parse_mailbox(variable: &'static str, raw: &str) -> Result<Mailbox, ConfigError> {
    raw.parse::<Mailbox>().map_err(|err| {
        ConfigError::new(
            variable,
            format!("'{raw}' is not an address like 'Name <name@example.com>': {err}"),
        )
    })
}

/// Apple's own network, from which Mail Privacy Protection's proxies fetch images.
const DEFAULT_APPLE_PROXY_RANGES: &str = "17.0.0.0/8";

fn parse_number<T: std::str::FromStr>(
    variable: &'static str,
    raw: Option<String>,
    default: T,
) -> Result<T, ConfigError> {
    match raw {
        None => Ok(default),
        Some(raw) => raw
            .trim()
            .parse::<T>()
            .map_err(|_| ConfigError::new(variable, format!("'{raw}' is not a number"))),
    }
}

fn positive(variable: &'static str, raw: Option<String>, default: u32) -> Result<u32, ConfigError> {
    let value = parse_number::<u32>(variable, raw, default)?;
    if value == 0 {
        return Err(ConfigError::new(variable, "must be greater than 0"));
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_map(&map)
    }

    #[test]
    fn defaults_work_on_a_fresh_machine() {
        let config = with(&[]).expect("defaults are valid");
        assert_eq!(config.database_url, "sqlite://data/hundred.db");
        assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
        assert!(config.smtp_url.is_none());
        assert_eq!(config.sending_domain(), "localhost");
    }

    #[test]
    fn the_public_url_follows_the_listen_address() {
        let public = |listen: &str| {
            with(&[("HUNDRED_LISTEN", listen)])
                .unwrap()
                .public_base()
                .to_string()
        };
        assert_eq!(public("127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(public("127.0.0.1:9090"), "http://127.0.0.1:9090");
        assert_eq!(public("192.0.2.10:80"), "http://192.0.2.10");
        assert_eq!(public("0.0.0.0:9090"), "http://127.0.0.1:9090");
        assert_eq!(public("[::]:9090"), "http://[::1]:9090");
        assert_eq!(public("[2001:db8::5]:9090"), "http://[2001:db8::5]:9090");
        assert_eq!(public("127.0.0.1:0"), "http://127.0.0.1:8080");
        let set = with(&[
            ("HUNDRED_LISTEN", "0.0.0.0:9090"),
            ("HUNDRED_PUBLIC_URL", "https://news.example"),
        ])
        .unwrap();
        assert_eq!(set.public_base(), "https://news.example", "a set URL wins");
    }

    #[test]
    fn a_password_for_a_distant_smtp_server_needs_tls() {
        let err =
            with(&[("HUNDRED_SMTP_URL", "smtp://me:hunter2@mail.example.com:587")]).unwrap_err();
        assert_eq!(err.variable, "HUNDRED_SMTP_URL");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        assert!(with(&[("HUNDRED_SMTP_URL", "smtp://me:hunter2@127.0.0.1:2525")]).is_ok());
    }

    #[test]
    fn a_bad_value_names_its_variable() {
        let err = with(&[("HUNDRED_LISTEN", "nowhere")]).unwrap_err();
        assert_eq!(err.variable, "HUNDRED_LISTEN");
        let err = with(&[("HUNDRED_DATABASE_URL", "mysql://x")]).unwrap_err();
        assert!(err.to_string().starts_with("HUNDRED_DATABASE_URL:"));
        assert!(err.to_string().contains("sqlite://") && err.to_string().contains("postgres://"));
        let err = with(&[("HUNDRED_SMTP_URL", "ftp://x")]).unwrap_err();
        assert_eq!(err.variable, "HUNDRED_SMTP_URL");
        let err = with(&[("HUNDRED_FROM", "not an address")]).unwrap_err();
        assert_eq!(err.variable, "HUNDRED_FROM");
        let err = with(&[("HUNDRED_SIGNUP_MIN_FILL_SECONDS", "30")]).unwrap_err();
        assert_eq!(err.variable, "HUNDRED_SIGNUP_MIN_FILL_SECONDS");
        let err = with(&[("HUNDRED_IMAP_URL", "pop3://me:hunter2@mail.example.com")]).unwrap_err();
        assert_eq!(err.variable, "HUNDRED_IMAP_URL");
        assert!(!err.to_string().contains("hunter2"), "{err}");
        for seconds in ["0", "soon"] {
            let err = with(&[("HUNDRED_IMAP_POLL_SECONDS", seconds)]).unwrap_err();
            assert_eq!(err.variable, "HUNDRED_IMAP_POLL_SECONDS");
        }
    }

    #[test]
    fn dkim_needs_all_three_settings_and_a_readable_key() {
        let err = with(&[("HUNDRED_DKIM_DOMAIN", "bakery.example")]).unwrap_err();
        assert_eq!(err.variable, "HUNDRED_DKIM_SELECTOR");
        let err = with(&[
            ("HUNDRED_DKIM_DOMAIN", "bakery.example"),
            ("HUNDRED_DKIM_SELECTOR", "s1"),
            ("HUNDRED_DKIM_KEY_FILE", "/nonexistent/key.pem"),
        ])
        .unwrap_err();
        assert_eq!(err.variable, "HUNDRED_DKIM_KEY_FILE");
        assert!(err.problem.contains("/nonexistent/key.pem"));
        let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dkim-rsa.pem");
        let config = with(&[
            ("HUNDRED_DKIM_DOMAIN", "bakery.example"),
            ("HUNDRED_DKIM_SELECTOR", "s1"),
            ("HUNDRED_DKIM_KEY_FILE", key),
        ])
        .unwrap();
        assert!(
            !format!("{config:?}").contains("PRIVATE"),
            "the key is never printed"
        );
    }

    #[test]
    fn secrets_are_masked() {
        let config = with(&[
            (
                "HUNDRED_SMTP_URL",
                "smtp://me:hunter2@mail.example.com:587?tls=required",
            ),
            ("HUNDRED_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
            (
                "HUNDRED_IMAP_URL",
                "imaps://shop:hunter2@imap.example.com/INBOX",
            ),
        ])
        .unwrap();
        let summary = format!("{:?} {:?}", config.masked_summary(), config);
        assert!(!summary.contains("hunter2"));
        assert!(!summary.contains("0123456789abcdef0123456789abcdef"));
    }

    #[test]
    fn every_secret_is_masked_in_the_summary() {
        let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dkim-rsa.pem");
        let values = [
            (
                "HUNDRED_DATABASE_URL",
                "postgres://shop:dbsecret1@db.example/news?sslpassword=dbsecret2&application_name=hundred",
            ),
            (
                "HUNDRED_SMTP_URL",
                "smtps://me%40x:smtp%2Fsecret@mail.example.com",
            ),
            ("HUNDRED_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
            ("HUNDRED_INBOUND_SECRET", "inbound-secret-value"),
            (
                "HUNDRED_IMAP_URL",
                "imaps://shop:imapsecret@imap.example.com/INBOX",
            ),
            ("HUNDRED_DKIM_DOMAIN", "bakery.example"),
            ("HUNDRED_DKIM_SELECTOR", "s1"),
            ("HUNDRED_DKIM_KEY_FILE", key),
        ];
        // A new secret setting gets a value here, so its masking is tested (STARTTLS's
        // key needs a certificate to go with it: tests/api/smtp_listener.rs sets one).
        for setting in SETTINGS.iter().filter(|setting| setting.secret) {
            assert!(
                setting.variables.contains(&"HUNDRED_INBOUND_TLS_CERT")
                    || values.iter().any(|(v, _)| setting.variables.contains(v)),
                "secret {:?} is not tested here",
                setting.variables
            );
        }
        let config = with(&values).unwrap();
        let summary = format!("{:?}", config.masked_summary());
        for secret in [
            "dbsecret1",
            "dbsecret2",
            "smtp%2Fsecret",
            "smtp/secret",
            "0123456789abcdef",
            "inbound-secret-value",
            "imapsecret",
            "PRIVATE",
        ] {
            assert!(!summary.contains(secret), "{secret} in {summary}");
        }
        assert!(summary.contains("application_name=hundred"), "{summary}");
        assert!(
            summary.contains("s1._domainkey.bakery.example"),
            "{summary}"
        );
        assert!(summary.contains("mail.example.com"), "{summary}");
    }

    #[test]
    fn the_smtp_listener_limits_and_the_grace_have_defaults_and_checked_values() {
        let config = with(&[]).unwrap();
        assert_eq!(config.inbound_smtp_max_connections, 64);
        assert_eq!(config.inbound_smtp_max_per_client, 8);
        assert!(config.inbound_tls.is_none());
        assert_eq!(config.shutdown_grace, Duration::from_secs(30));
        let config = with(&[
            ("HUNDRED_INBOUND_SMTP_MAX_CONNECTIONS", "200"),
            ("HUNDRED_INBOUND_SMTP_MAX_PER_CLIENT", "2"),
            ("HUNDRED_SHUTDOWN_GRACE_SECONDS", "5"),
        ])
        .unwrap();
        assert_eq!(config.inbound_smtp_max_connections, 200);
        assert_eq!(config.inbound_smtp_max_per_client, 2);
        assert_eq!(config.shutdown_grace, Duration::from_secs(5));
        for (variable, value) in [
            ("HUNDRED_INBOUND_SMTP_MAX_CONNECTIONS", "0"),
            ("HUNDRED_INBOUND_SMTP_MAX_PER_CLIENT", "many"),
            ("HUNDRED_SHUTDOWN_GRACE_SECONDS", "0"),
            ("HUNDRED_SHUTDOWN_GRACE_SECONDS", "86400"),
            ("HUNDRED_INBOUND_TLS_KEY", "/some/key.pem"),
        ] {
            let err = with(&[(variable, value)]).unwrap_err();
            let expected = if variable == "HUNDRED_INBOUND_TLS_KEY" {
                "HUNDRED_INBOUND_TLS_CERT"
            } else {
                variable
            };
            assert_eq!(err.variable, expected, "{variable}={value}");
        }
    }
}
