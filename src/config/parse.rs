//! Reading the settings whose parsing takes more than a line: each function reads its
//! variables through `get` (unset and blank are alike) and names the variable in its error.

use std::net::SocketAddr;
use std::time::Duration;

use super::{
    ConfigError, DEFAULT_APPLE_PROXY_RANGES, DkimSettings, ImapSettings, RetryPolicy, Secret,
    TlsFiles, default_public_url, parse_public_url, positive, redact_url,
};

/// Looks a variable up; `None` when it is unset or blank.
pub(super) type Get<'a> = &'a dyn Fn(&str) -> Option<String>;

pub(super) fn database_url(get: Get) -> Result<String, ConfigError> {
    let database_url =
        get("HUNDRED_DATABASE_URL").unwrap_or_else(|| "sqlite://data/hundred.db".into());
    if !(database_url.starts_with("sqlite:")
        || database_url.starts_with("postgres:")
        || database_url.starts_with("postgresql:"))
    {
        return Err(ConfigError::new(
            "HUNDRED_DATABASE_URL",
            format!(
                "'{}' is not supported; use sqlite://path/to/file.db or postgres://user@host/db",
                redact_url(&database_url)
            ),
        ));
    }
    Ok(database_url)
}

pub(super) fn smtp_url(get: Get) -> Result<Option<Secret>, ConfigError> {
    let smtp_url = match get("HUNDRED_SMTP_URL") {
        None => None,
        Some(url) => {
            super::SmtpSettings::from_url(&url)
                .map_err(|problem| ConfigError::new("HUNDRED_SMTP_URL", problem))?;
            Some(Secret::new(url))
        }
    };
    Ok(smtp_url)
}

pub(super) fn secret_key(get: Get) -> Result<Option<Secret>, ConfigError> {
    let secret_key = match get("HUNDRED_SECRET_KEY") {
        Some(key) if key.len() < 32 => {
            return Err(ConfigError::new(
                "HUNDRED_SECRET_KEY",
                "must be at least 32 characters (unset it to have one generated and stored)",
            ));
        }
        other => other.map(Secret::new),
    };
    Ok(secret_key)
}

pub(super) fn inbound_smtp_listen(get: Get) -> Result<Option<SocketAddr>, ConfigError> {
    let inbound_smtp_listen = get("HUNDRED_INBOUND_SMTP_LISTEN")
        .map(|raw| {
            raw.trim().parse::<SocketAddr>().map_err(|_| {
                ConfigError::new(
                    "HUNDRED_INBOUND_SMTP_LISTEN",
                    format!("'{raw}' is not an address like 0.0.0.0:2525"),
                )
            })
        })
        .transpose()?;
    Ok(inbound_smtp_listen)
}

pub(super) fn trusted_authserv_id(get: Get) -> Result<Option<String>, ConfigError> {
    let trusted_authserv_id = get("HUNDRED_TRUSTED_AUTHSERV_ID")
            .map(|raw| {
                let id = raw.trim();
                if id.contains(|c: char| c.is_whitespace() || c == ';' || c.is_control()) {
                    Err(ConfigError::new(
                        "HUNDRED_TRUSTED_AUTHSERV_ID",
                        format!(
                            "'{id}' is not an authserv-id: write the one name your mail server puts first in its Authentication-Results, like mx.example.com"
                        ),
                    ))
                } else {
                    Ok(id.to_string())
                }
            })
            .transpose()?;
    Ok(trusted_authserv_id)
}

pub(super) fn inbound_tls(get: Get) -> Result<Option<TlsFiles>, ConfigError> {
    let inbound_tls = match (
        get("HUNDRED_INBOUND_TLS_CERT"),
        get("HUNDRED_INBOUND_TLS_KEY"),
    ) {
        (None, None) => None,
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert_file: cert.trim().into(),
            key_file: key.trim().into(),
        }),
        (cert, _) => {
            return Err(ConfigError::new(
                if cert.is_none() {
                    "HUNDRED_INBOUND_TLS_CERT"
                } else {
                    "HUNDRED_INBOUND_TLS_KEY"
                },
                "STARTTLS needs HUNDRED_INBOUND_TLS_CERT and HUNDRED_INBOUND_TLS_KEY together",
            ));
        }
    };
    Ok(inbound_tls)
}

pub(super) fn shutdown_grace(get: Get) -> Result<Duration, ConfigError> {
    let shutdown_grace = Duration::from_secs(
        positive(
            "HUNDRED_SHUTDOWN_GRACE_SECONDS",
            get("HUNDRED_SHUTDOWN_GRACE_SECONDS"),
            30,
        )?
        .into(),
    );
    if shutdown_grace > Duration::from_secs(3600) {
        return Err(ConfigError::new(
            "HUNDRED_SHUTDOWN_GRACE_SECONDS",
            "must be at most 3600",
        ));
    }
    Ok(shutdown_grace)
}

pub(super) fn retry(get: Get) -> Result<RetryPolicy, ConfigError> {
    let retry = RetryPolicy {
        base: Duration::from_millis(
            positive(
                "HUNDRED_RETRY_BASE_MS",
                get("HUNDRED_RETRY_BASE_MS"),
                10_000,
            )?
            .into(),
        ),
        max_delay: Duration::from_secs(3600),
        max_attempts: positive("HUNDRED_MAX_ATTEMPTS", get("HUNDRED_MAX_ATTEMPTS"), 8)?,
    };
    if retry.base > Duration::from_secs(15) {
        return Err(ConfigError::new(
            "HUNDRED_RETRY_BASE_MS",
            "must be at most 15000, so the first retry comes within 30 seconds",
        ));
    }
    Ok(retry)
}

pub(super) fn trust_proxy_headers(get: Get) -> Result<bool, ConfigError> {
    let trust_proxy_headers = match get("HUNDRED_TRUST_PROXY").as_deref() {
        None | Some("0" | "false" | "no") => false,
        Some("1" | "true" | "yes") => true,
        Some(other) => {
            return Err(ConfigError::new(
                "HUNDRED_TRUST_PROXY",
                format!("'{other}' is not true or false"),
            ));
        }
    };
    Ok(trust_proxy_headers)
}

pub(super) fn dkim(get: Get) -> Result<Option<DkimSettings>, ConfigError> {
    let dkim = match (
        get("HUNDRED_DKIM_DOMAIN"),
        get("HUNDRED_DKIM_SELECTOR"),
        get("HUNDRED_DKIM_KEY_FILE"),
    ) {
        (None, None, None) => None,
        (Some(domain), Some(selector), Some(key_file)) => Some(DkimSettings {
            domain,
            selector,
            key_file: key_file.into(),
        }),
        (domain, selector, _) => {
            let missing = if domain.is_none() {
                "HUNDRED_DKIM_DOMAIN"
            } else if selector.is_none() {
                "HUNDRED_DKIM_SELECTOR"
            } else {
                "HUNDRED_DKIM_KEY_FILE"
            };
            return Err(ConfigError::new(
                missing,
                "DKIM signing needs HUNDRED_DKIM_DOMAIN, HUNDRED_DKIM_SELECTOR and HUNDRED_DKIM_KEY_FILE together",
            ));
        }
    };
    Ok(dkim)
}

pub(super) fn apple_proxy_ranges(get: Get) -> Result<Vec<ipnet::IpNet>, ConfigError> {
    let apple_proxy_ranges = get("HUNDRED_APPLE_PROXY_RANGES")
        .unwrap_or_else(|| DEFAULT_APPLE_PROXY_RANGES.to_string())
        .split(',')
        .map(str::trim)
        .filter(|range| !range.is_empty())
        .map(|range| {
            range.parse::<ipnet::IpNet>().map_err(|_| {
                ConfigError::new(
                    "HUNDRED_APPLE_PROXY_RANGES",
                    format!("'{range}' is not an address range like 17.0.0.0/8"),
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(apple_proxy_ranges)
}

pub(super) fn instance_id(get: Get, port: u16) -> Result<String, ConfigError> {
    let instance_id = get("HUNDRED_INSTANCE_ID").unwrap_or_else(|| {
        let host = std::env::var("HOSTNAME")
            .ok()
            .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
            .map(|h| h.trim().to_string())
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "hundred".into());
        format!("{host}:{}", port)
    });
    if instance_id.len() > 100 || instance_id.chars().any(|c| c.is_control() || c == '/') {
        return Err(ConfigError::new(
            "HUNDRED_INSTANCE_ID",
            "must be one line of at most 100 characters without '/'",
        ));
    }
    Ok(instance_id)
}

pub(super) fn listen_and_public_url(get: Get) -> Result<(SocketAddr, url::Url), ConfigError> {
    let listen_raw = get("HUNDRED_LISTEN").unwrap_or_else(|| "127.0.0.1:8080".into());
    let listen = listen_raw.parse::<SocketAddr>().map_err(|_| {
        ConfigError::new(
            "HUNDRED_LISTEN",
            format!("'{listen_raw}' is not an address like 127.0.0.1:8080"),
        )
    })?;

    let public_raw = get("HUNDRED_PUBLIC_URL").unwrap_or_else(|| default_public_url(listen));
    let public_url = parse_public_url(&public_raw)?;
    Ok((listen, public_url))
}

pub(super) fn inbound_smtp_limits(get: Get) -> Result<(usize, usize), ConfigError> {
    let inbound_smtp_max_connections = positive(
        "HUNDRED_INBOUND_SMTP_MAX_CONNECTIONS",
        get("HUNDRED_INBOUND_SMTP_MAX_CONNECTIONS"),
        64,
    )? as usize;
    let inbound_smtp_max_per_client = positive(
        "HUNDRED_INBOUND_SMTP_MAX_PER_CLIENT",
        get("HUNDRED_INBOUND_SMTP_MAX_PER_CLIENT"),
        8,
    )? as usize;
    Ok((inbound_smtp_max_connections, inbound_smtp_max_per_client))
}

pub(super) fn imap(get: Get) -> Result<(Option<ImapSettings>, Duration), ConfigError> {
    let imap = get("HUNDRED_IMAP_URL")
        .map(|raw| {
            ImapSettings::from_url(&raw)
                .map_err(|problem| ConfigError::new("HUNDRED_IMAP_URL", problem))
        })
        .transpose()?;
    let imap_poll_interval = Duration::from_secs(
        positive(
            "HUNDRED_IMAP_POLL_SECONDS",
            get("HUNDRED_IMAP_POLL_SECONDS"),
            60,
        )?
        .into(),
    );
    Ok((imap, imap_poll_interval))
}
