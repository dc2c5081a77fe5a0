//! Configuration from the environment (and a `.env` file), checked once at start-up.
//!
//! Every value is parsed here, so a bad one stops start-up with one line naming the
//! variable and what is wrong with it, instead of failing later on a request.
//!
//! Which settings there are (their variables, defaults, meanings, and how the settings page
//! shows them, secrets masked) is declared once, in [`SETTINGS`]; README's configuration
//! table is checked against it, and reading a variable not declared there fails in tests.
//!
//! Layer: the bottom, beside domain. Config yields plain values only (paths, checked URLs,
//! numbers): it imports domain and nothing else of the crate. What is built from the values
//! (the DKIM signer, the STARTTLS certificate, the transport, the IMAP poller) is built at
//! start-up in `app`, by the module that uses it; their failures are still reported as a
//! [`ConfigError`] naming the variable.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use lettre::message::Mailbox;
use url::Url;

mod owner;
mod parse;
mod servers;
mod settings;
pub use owner::{
    Brand, Current, DEFAULT_ACCENT_COLOR, Field, LOGO_MAX_HEIGHT, LOGO_MAX_WIDTH, LiveSettings,
    Logo, OWNER_SETTINGS, OwnerSetting, OwnerSettings, SettingProblem, ShownLogo,
    owner_markdown_table,
};
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
#[derive(Clone, Debug, PartialEq)]
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
    pub retry: RetryPolicy,
    pub trust_proxy_headers: bool,
    /// Envelope sender for bounces; each message gets `local+TOKEN@domain` (VERP).
    pub bounce_address: Option<lettre::Address>,
    /// DKIM signing; the key file is read when the signer is built at start-up.
    pub dkim: Option<DkimSettings>,
    /// Addresses Apple Mail Privacy Protection fetches images from: opens from there are
    /// machine opens.
    pub apple_proxy_ranges: Vec<ipnet::IpNet>,
    /// Names this instance's sender workers; a restarted instance takes over at once the
    /// work its previous run left leased.
    pub instance_id: String,
    /// The authserv-id of the owner's own receiving mail server: its
    /// `Authentication-Results` (a DMARC or DKIM pass for the From domain) verify a reply
    /// matched by its From address alone. Unset: only tokens and our Message-IDs do.
    pub trusted_authserv_id: Option<String>,
    /// The owner's settings as the environment gives them (defaults where unset): what
    /// start-up copies into the database on the first start, and what the CLI uses.
    pub owner: OwnerSettings,
    /// The owner's settings a variable fixes: key → variable.
    pub fixed: BTreeMap<&'static str, &'static str>,
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
        let (owner, fixed) = owner_from_env(&get)?;
        let secret_key = parse::secret_key(&get)?;
        let inbound_secret = get("HUNDRED_INBOUND_SECRET").map(Secret::new);
        let inbound_smtp_listen = parse::inbound_smtp_listen(&get)?;
        let trusted_authserv_id = parse::trusted_authserv_id(&get)?;
        let (inbound_smtp_max_connections, inbound_smtp_max_per_client) =
            parse::inbound_smtp_limits(&get)?;
        let inbound_tls = parse::inbound_tls(&get)?;
        let shutdown_grace = parse::shutdown_grace(&get)?;
        let (imap, imap_poll_interval) = parse::imap(&get)?;
        let retry = parse::retry(&get)?;
        let trust_proxy_headers = parse::trust_proxy_headers(&get)?;
        let bounce_address = get("HUNDRED_BOUNCE_ADDRESS")
            .map(|raw| parse_mailbox("HUNDRED_BOUNCE_ADDRESS", &raw).map(|mb| mb.email))
            .transpose()?;
        let dkim = parse::dkim(&get)?;
        let apple_proxy_ranges = parse::apple_proxy_ranges(&get)?;
        let instance_id = parse::instance_id(&get, listen.port())?;

        Ok(Self {
            bounce_address,
            dkim,
            apple_proxy_ranges,
            instance_id,
            trusted_authserv_id,
            database_url,
            listen,
            public_url,
            smtp_url,
            outbox_dir,
            secret_key,
            inbound_secret,
            inbound_smtp_listen,
            inbound_smtp_max_connections,
            inbound_smtp_max_per_client,
            inbound_tls,
            shutdown_grace,
            imap,
            imap_poll_interval,
            retry,
            trust_proxy_headers,
            owner,
            fixed,
        })
    }

    /// The public base URL without a trailing slash, for building links.
    pub fn public_base(&self) -> &str {
        self.public_url.as_str().trim_end_matches('/')
    }

    /// The domain our Message-IDs and List-Id live on, as the environment gives it (the
    /// running service reads the owner's live settings instead).
    pub fn sending_domain(&self) -> &str {
        self.owner.sending_domain()
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

/// The owner's settings the environment sets, each through [`OwnerSetting::write`], the
/// same check the settings page and the API make; a variable set fixes its setting.
#[allow(clippy::type_complexity)]
fn owner_from_env(
    get: parse::Get,
) -> Result<(OwnerSettings, BTreeMap<&'static str, &'static str>), ConfigError> {
    let mut owner = OwnerSettings::default();
    let mut fixed = BTreeMap::new();
    for setting in OWNER_SETTINGS {
        let Some(variable) = setting.variable else {
            continue;
        };
        if let Some(raw) = get(variable) {
            (setting.write)(&mut owner, Some(raw.trim()))
                .map_err(|problem| ConfigError::new(variable, problem))?;
            fixed.insert(setting.key, variable);
        }
    }
    Ok((owner, fixed))
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
mod tests;
