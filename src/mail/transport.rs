//! Where messages go: an SMTP relay (plain, STARTTLS or implicit TLS, pooled), or, with no
//! relay configured, `.eml` files in the outbox folder.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use lettre::address::Envelope;
use lettre::transport::smtp::PoolConfig;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

/// How a send failed, which decides whether it is retried.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SendError {
    /// 4xx, a lost connection, a full disk: try again later.
    #[error("temporary failure: {0}")]
    Transient(String),
    /// 5xx: the server refused the message for good.
    #[error("permanent failure: {0}")]
    Permanent(String),
}

#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(PathBuf),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp(_) => f.write_str("Transport::Smtp"),
            Self::Outbox(dir) => write!(f, "Transport::Outbox({})", dir.display()),
        }
    }
}

/// Checks an SMTP URL at start-up, so a typo is reported then, not at the first send.
pub fn check_smtp_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("smtp://") || url.starts_with("smtps://")) {
        return Err("must start with smtp:// or smtps://".into());
    }
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map(|_| ())
        .map_err(|err| format!("not a usable SMTP URL: {err}"))
}

impl Transport {
    pub fn smtp(url: &str, connections: usize) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .context("HUNDRED_SMTP_URL is not a usable SMTP URL")?
            .timeout(Some(Duration::from_secs(30)))
            .pool_config(PoolConfig::new().max_size(connections as u32))
            .build();
        Ok(Self::Smtp(transport))
    }

    pub fn outbox(dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("could not create the outbox folder {}", dir.display()))?;
        Ok(Self::Outbox(dir))
    }

    /// Sends one formatted message. `file_stem` names the .eml file in the outbox.
    pub async fn send(
        &self,
        envelope: &Envelope,
        message: &[u8],
        file_stem: &str,
    ) -> Result<(), SendError> {
        match self {
            Self::Smtp(smtp) => smtp
                .send_raw(envelope, message)
                .await
                .map(|_| ())
                .map_err(|err| {
                    let text = smtp_error_text(&err);
                    if err.is_permanent() {
                        SendError::Permanent(text)
                    } else {
                        SendError::Transient(text)
                    }
                }),
            Self::Outbox(dir) => write_eml(dir, message, file_stem)
                .await
                .map_err(|err| SendError::Transient(format!("writing to the outbox: {err}"))),
        }
    }
}

/// The server's reply, as the owner will want to read it.
fn smtp_error_text(err: &lettre::transport::smtp::Error) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Writes the message under a temporary name and renames it, so a reader of the outbox
/// never sees half a message.
async fn write_eml(dir: &std::path::Path, message: &[u8], file_stem: &str) -> std::io::Result<()> {
    let safe_stem: String = file_stem
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let temp = dir.join(format!(".{safe_stem}.tmp"));
    let target = dir.join(format!("{safe_stem}.eml"));
    tokio::fs::write(&temp, message).await?;
    tokio::fs::rename(&temp, &target).await
}
