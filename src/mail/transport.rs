//! Where messages go: an SMTP relay (plain, STARTTLS or implicit TLS, pooled), or, with no
//! relay configured, `.eml` files in the outbox folder.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use lettre::address::Envelope;

use super::smtp::SmtpPool;
use crate::config::SmtpSettings;

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
    Smtp(Arc<SmtpPool>),
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

impl Transport {
    pub fn smtp(url: &str, connections: usize) -> anyhow::Result<Self> {
        let settings = SmtpSettings::from_url(url)
            .map_err(|problem| anyhow::anyhow!("HUNDRED_SMTP_URL: {problem}"))?;
        Ok(Self::Smtp(SmtpPool::new(settings, connections)?))
    }

    pub fn outbox(dir: PathBuf) -> anyhow::Result<Self> {
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("could not create the outbox folder {}", dir.display()))?;
        Ok(Self::Outbox(dir))
    }

    /// Follows the owner's connection count (the outbox has no connections).
    pub fn follow_connections(&self, connections: usize) {
        if let Self::Smtp(pool) = self {
            pool.follow_limit(connections);
        }
    }

    /// Sends one formatted message and returns the server's reply. `file_stem` names the
    /// .eml file in the outbox.
    pub async fn send(
        &self,
        envelope: &Envelope,
        message: &[u8],
        file_stem: &str,
    ) -> Result<String, SendError> {
        match self {
            Self::Smtp(pool) => pool.send(envelope, message).await,
            Self::Outbox(dir) => write_eml(dir, message, file_stem)
                .await
                .map(|()| "written to the outbox".to_string())
                .map_err(|err| SendError::Transient(format!("writing to the outbox: {err}"))),
        }
    }
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
