//! The built-in SMTP listener for replies and bounces (`HUNDRED_INBOUND_SMTP_LISTEN`): point
//! the MX of the reply and bounce domain at it, or have your mail server forward to it.
//! Each message is received exactly as through `POST /inbound/mime`. It never relays: it
//! takes mail only for the domains of the reply and bounce addresses (any domain when
//! neither is set), and answers 250 only once the message is stored, so a sending server
//! keeps and retries what could not be stored (451).
//!
//! Hostile clients cannot hurt the rest of the process: one task per connection, command
//! lines and messages capped (`session`, `wire`), connections limited in all and per client
//! with the idlest making room when all are taken (`clients`), every wait bounded, and a
//! graceful stop: on SIGTERM it stops accepting at once, lets a message under way finish
//! within the grace period, and says 421 to everyone else. STARTTLS when the owner names a
//! certificate (`tls`).

mod clients;
mod commands;
mod session;
mod tls;
mod wire;

#[cfg(test)]
mod tests;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::future::BoxFuture;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use clients::{ConnectionLimits, EVICTABLE_AFTER};
pub use session::Session;
pub use tls::{InboundTls, TlsProblem};

use super::receive::{Inbox, ReceiveError};
use clients::Clients;

/// After the grace period, how long the sessions still open get to say 421 before the
/// listener is done: give it `grace - CLOSING_TIME` to stay within the grace.
pub const CLOSING_TIME: Duration = Duration::from_secs(1);

/// The bounds of one session.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The longest command line taken, line end included (RFC 5321 asks for 512).
    pub line_bytes: usize,
    /// The largest message taken (announced as SIZE).
    pub message_bytes: usize,
    /// Recipients per message.
    pub recipients: usize,
    /// Refused commands in a row before the session is closed.
    pub bad_commands: u32,
    /// How long a command may take to arrive, and message data may stall.
    pub command_time: Duration,
    /// How long a whole session may last.
    pub session_time: Duration,
    /// How long storing one message may take before the sender is asked to retry.
    pub store_time: Duration,
    /// Message data all sessions together may hold in memory at once.
    pub message_memory: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            line_bytes: 4096,
            message_bytes: crate::inbound::MAX_MESSAGE_BYTES,
            recipients: 100,
            bad_commands: 10,
            command_time: Duration::from_secs(60),
            session_time: Duration::from_secs(600),
            store_time: Duration::from_secs(30),
            message_memory: 4 * crate::inbound::MAX_MESSAGE_BYTES,
        }
    }
}

/// What every session of a listener shares.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The name the server gives in its greeting.
    pub server_name: String,
    /// Lowercased domains mail is taken for, besides the Reply-To's; none at all: any.
    pub domains: Vec<String>,
    /// The owner's settings, whose Reply-To domain is taken for as it is now.
    pub live: Option<crate::config::LiveSettings>,
    pub limits: Limits,
}

impl Settings {
    /// The domains mail is taken for now (empty: any).
    pub fn domains_now(&self) -> Vec<String> {
        let mut domains = self.domains.clone();
        if let Some(reply_to) = self
            .live
            .as_ref()
            .and_then(|live| live.get().reply_to.clone())
        {
            domains.push(reply_to.email.domain().to_ascii_lowercase());
        }
        domains
    }
}

/// What became of a message handed to the sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stored {
    /// Stored: the sender may forget it (250).
    Kept,
    /// Not mail at all, and never will be (550).
    NotMail(String),
    /// Could not be stored now: the sender keeps it and retries (451).
    Failed,
}

/// Where a session hands each message it received, with the recipients its envelope
/// named (`RCPT TO`), where a bounce's VERP token may be found when its headers lack it.
pub trait MessageSink: Send + Sync + 'static {
    fn store(&self, message: Vec<u8>, recipients: Vec<String>) -> BoxFuture<'static, Stored>;
}

/// The store, as a session sees it: each message goes through the inbox, like the webhook.
struct StoreSink {
    inbox: Inbox,
}

impl MessageSink for StoreSink {
    fn store(&self, message: Vec<u8>, recipients: Vec<String>) -> BoxFuture<'static, Stored> {
        let inbox = self.inbox.clone();
        Box::pin(async move {
            match inbox.receive_delivered(&message, &recipients).await {
                Ok(_) => Stored::Kept,
                Err(ReceiveError::NotMail(reason)) => Stored::NotMail(reason),
                Err(ReceiveError::Store(err)) => {
                    tracing::error!(error = %format!("{err:#}"), "could not store a message from the SMTP listener");
                    Stored::Failed
                }
            }
        })
    }
}

/// The listener, bound and ready to run.
pub struct InboundSmtp {
    listener: tokio::net::TcpListener,
    address: SocketAddr,
    settings: Arc<Settings>,
    sink: Arc<dyn MessageSink>,
    clients: Arc<Clients>,
    tls: Option<InboundTls>,
}

/// Binds the listener now, so a taken port stops start-up with a clear error.
pub fn bind(
    address: SocketAddr,
    inbox: Inbox,
    domains: Vec<String>,
    live: crate::config::LiveSettings,
    connections: ConnectionLimits,
    tls: Option<InboundTls>,
) -> anyhow::Result<InboundSmtp> {
    let listener = std::net::TcpListener::bind(address)
        .with_context(|| format!("HUNDRED_INBOUND_SMTP_LISTEN: could not listen on {address}"))?;
    listener
        .set_nonblocking(true)
        .context("setting up the inbound SMTP listener")?;
    let listener = tokio::net::TcpListener::from_std(listener)
        .context("setting up the inbound SMTP listener")?;
    let bound = listener
        .local_addr()
        .context("reading the listener's address")?;
    let domains: Vec<String> = domains
        .into_iter()
        .map(|domain| domain.to_ascii_lowercase())
        .collect();
    let mut settings = Settings {
        server_name: String::new(),
        domains,
        live: Some(live),
        limits: Limits::default(),
    };
    settings.server_name = settings
        .domains_now()
        .first()
        .cloned()
        .unwrap_or_else(|| "hundred".into());
    Ok(InboundSmtp {
        listener,
        address: bound,
        settings: Arc::new(settings),
        sink: Arc::new(StoreSink { inbox }),
        clients: Clients::new(connections),
        tls,
    })
}

impl InboundSmtp {
    pub fn local_addr(&self) -> SocketAddr {
        self.address
    }

    /// Serves until `stop`; then closes the port at once, gives the sessions in the middle
    /// of a message up to `grace` to finish it (the others are told 421 straight away), says
    /// 421 to those still open after that, and returns within `grace + CLOSING_TIME`.
    pub async fn run(self, stop: CancellationToken, grace: Duration) {
        let Self {
            listener,
            address,
            settings,
            sink,
            clients,
            tls,
        } = self;
        let memory = Arc::new(Semaphore::new(settings.limits.message_memory / 1024));
        let hard_stop = CancellationToken::new();
        let sessions = TaskTracker::new();
        // Not `address=`: that is the HTTP listener's line, which scripts and tests read.
        tracing::info!(
            listen = %address,
            starttls = tls.is_some(),
            "inbound SMTP listener started"
        );
        loop {
            let accepted = tokio::select! {
                biased;
                _ = stop.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, mostly: wait a moment rather than spin.
                    tracing::warn!(error = %err, "inbound SMTP: could not accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            };
            match clients.admit(peer.ip(), std::time::Instant::now()) {
                Err(refusal) => {
                    // Said without waiting and without a task: the socket is new and its
                    // buffer empty. Then it is closed.
                    let _ = stream.try_write(refusal.reply());
                    tracing::debug!(client = %peer.ip(), ?refusal, "inbound SMTP: connection refused");
                }
                Ok(ticket) => {
                    let _ = stream.set_nodelay(true);
                    let session = Session::on_listener(
                        settings.clone(),
                        sink.clone(),
                        memory.clone(),
                        tls.clone(),
                        (stop.clone(), hard_stop.clone()),
                        Some(ticket),
                    );
                    sessions.spawn(session.run(stream));
                }
            }
        }
        drop(listener);
        sessions.close();
        tracing::info!(
            sessions = sessions.len(),
            "inbound SMTP listener closed; finishing the messages under way"
        );
        if tokio::time::timeout(grace, sessions.wait()).await.is_err() {
            hard_stop.cancel();
            if tokio::time::timeout(CLOSING_TIME, sessions.wait())
                .await
                .is_err()
            {
                tracing::warn!("inbound SMTP sessions still open after the grace period");
            }
        }
    }
}
