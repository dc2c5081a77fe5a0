//! The built-in SMTP listener for replies and bounces (`HUNDRED_INBOUND_SMTP_LISTEN`): point
//! the MX of the reply and bounce domain at it, or have your mail server forward to it.
//! Each message is received exactly as through `POST /inbound/mime`. It never relays: it
//! takes mail only for the domains of the reply and bounce addresses (any domain when
//! neither is set), and answers 250 only once the message is stored, so a sending server
//! keeps and retries what could not be stored (451).

use std::net::TcpListener;
use std::sync::Arc;
use std::time::Duration;

use mailin_embedded::response::{INTERNAL_ERROR, OK};
use mailin_embedded::{Handler, Response, Server};

use super::MAX_MESSAGE_BYTES;
use super::receive::{Inbox, ReceiveError};

/// How long storing one message may take before the sender is asked to retry.
const STORE_TIMEOUT: Duration = Duration::from_secs(30);
const THREADS: u32 = 8;

#[derive(Clone)]
struct Receiver {
    inbox: Inbox,
    runtime: tokio::runtime::Handle,
    /// Lowercased domains mail is taken for; empty: any.
    domains: Arc<Vec<String>>,
    data: Vec<u8>,
    too_big: bool,
}

impl Handler for Receiver {
    fn rcpt(&mut self, to: &str) -> Response {
        let domain = to
            .trim_matches(|c| c == '<' || c == '>')
            .rsplit_once('@')
            .map(|(_, domain)| domain.to_ascii_lowercase());
        match domain {
            Some(domain) if self.domains.is_empty() || self.domains.contains(&domain) => OK,
            _ => Response::custom(
                550,
                "5.7.1 This server only takes replies for its own list".into(),
            ),
        }
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        _to: &[String],
    ) -> Response {
        self.data.clear();
        self.too_big = false;
        OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        if self.data.len() + buf.len() > MAX_MESSAGE_BYTES {
            self.too_big = true;
            self.data.clear();
        } else if !self.too_big {
            self.data.extend_from_slice(buf);
        }
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        if self.too_big {
            return Response::custom(552, "5.3.4 Message too big for this server".into());
        }
        let raw = std::mem::take(&mut self.data);
        let inbox = self.inbox.clone();
        let stored = self.runtime.block_on(async move {
            tokio::time::timeout(STORE_TIMEOUT, inbox.receive(&raw)).await
        });
        match stored {
            Ok(Ok(_)) => OK,
            Ok(Err(ReceiveError::NotMail(reason))) => {
                Response::custom(550, format!("5.6.0 Not a message: {reason}"))
            }
            Ok(Err(ReceiveError::Store(err))) => {
                tracing::error!(error = %format!("{err:#}"), "could not store a message from the SMTP listener");
                INTERNAL_ERROR
            }
            Err(_) => INTERNAL_ERROR,
        }
    }
}

/// The listener, bound and ready to run.
pub struct InboundSmtp {
    server: Server<Receiver>,
    address: std::net::SocketAddr,
}

impl InboundSmtp {
    /// Serves on threads of its own until the process ends (a message is either stored
    /// and answered 250, or the sending server keeps it and retries).
    pub fn spawn(self) {
        let address = self.address;
        std::thread::spawn(move || {
            if let Err(err) = self.server.serve() {
                tracing::error!(error = %err, %address, "the inbound SMTP listener stopped");
            }
        });
        tracing::info!(%address, "inbound SMTP listener started");
    }
}

/// Binds the listener now, so a taken port stops start-up with a clear error.
pub fn bind(
    address: std::net::SocketAddr,
    inbox: Inbox,
    domains: Vec<String>,
) -> anyhow::Result<InboundSmtp> {
    use anyhow::Context as _;
    let listener = TcpListener::bind(address)
        .with_context(|| format!("HUNDRED_INBOUND_SMTP_LISTEN: could not listen on {address}"))?;
    let bound = listener
        .local_addr()
        .context("reading the listener's address")?;
    let receiver = Receiver {
        inbox,
        runtime: tokio::runtime::Handle::current(),
        domains: Arc::new(
            domains
                .into_iter()
                .map(|d| d.to_ascii_lowercase())
                .collect(),
        ),
        data: Vec::new(),
        too_big: false,
    };
    let mut server = Server::new(receiver);
    server
        .with_name("hundred")
        .with_num_threads(THREADS)
        .with_tcp_listener(listener);
    Ok(InboundSmtp {
        server,
        address: bound,
    })
}
