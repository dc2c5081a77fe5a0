//! Our own pool of SMTP connections, kept open across messages.
//!
//! lettre's pooled transport connects with Nagle's algorithm on, and writes the closing
//! `.` of each message as a separate small segment: every message then waits for the
//! peer's delayed ACK (~40 ms). We open the TCP connections ourselves with `TCP_NODELAY`
//! (plain, STARTTLS, or implicit TLS over the same socket) and hand them to lettre's
//! `AsyncSmtpConnection`, which speaks the protocol.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Mechanism;
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use super::SendError;
use crate::config::{SmtpSettings, SmtpTls};

/// How long one SMTP command may take before the connection is given up.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle connections older than this are closed rather than reused (servers drop them).
const MAX_IDLE: Duration = Duration::from_secs(50);

struct IdleConnection {
    connection: AsyncSmtpConnection,
    since: Instant,
}

/// A bounded pool of open SMTP connections.
pub struct SmtpPool {
    settings: SmtpSettings,
    idle: Mutex<Vec<IdleConnection>>,
    permits: Semaphore,
    /// How many permits there are: the owner's connection count, followed as it changes.
    limit: std::sync::Mutex<usize>,
    implicit_tls: Option<tokio_rustls::TlsConnector>,
}

impl SmtpPool {
    pub fn new(settings: SmtpSettings, max_connections: usize) -> anyhow::Result<Arc<Self>> {
        let implicit_tls = (settings.tls == SmtpTls::Implicit)
            .then(tls_connector)
            .transpose()?;
        Ok(Arc::new(Self {
            settings,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max_connections.max(1)),
            limit: std::sync::Mutex::new(max_connections.max(1)),
            implicit_tls,
        }))
    }

    /// Holds at most `connections` at once from now on: more permits at once, fewer as
    /// the connections in use come back.
    pub fn follow_limit(self: &Arc<Self>, connections: usize) {
        let wanted = connections.max(1);
        let Ok(mut limit) = self.limit.lock() else {
            return;
        };
        if wanted > *limit {
            self.permits.add_permits(wanted - *limit);
        } else if wanted < *limit {
            let fewer = u32::try_from(*limit - wanted).unwrap_or(u32::MAX);
            let pool = self.clone();
            tokio::spawn(async move {
                if let Ok(permits) = pool.permits.acquire_many(fewer).await {
                    permits.forget();
                }
            });
        }
        *limit = wanted;
    }

    /// Sends one message on a pooled connection. A connection that turns out to be dead
    /// before the message was handed over is replaced once.
    pub async fn send(&self, envelope: &Envelope, message: &[u8]) -> Result<String, SendError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SendError::Transient("the SMTP pool is closed".into()))?;
        if let Some(mut idle) = self.take_idle() {
            match tokio::time::timeout(COMMAND_TIMEOUT * 2, idle.send(envelope, message)).await {
                Ok(Ok(response)) => {
                    self.put_back(idle);
                    return Ok(response_text(&response));
                }
                // The server answered (4xx, 5xx): that answer stands.
                Ok(Err(err)) if err.is_response() || err.is_permanent() || err.is_transient() => {
                    return Err(classify(&err));
                }
                // The idle connection had died; the message was not accepted. Retry below.
                Ok(Err(_)) | Err(_) => {}
            }
        }
        let mut connection = self.connect().await?;
        match tokio::time::timeout(COMMAND_TIMEOUT * 2, connection.send(envelope, message)).await {
            Ok(Ok(response)) => {
                self.put_back(connection);
                Ok(response_text(&response))
            }
            Ok(Err(err)) => Err(classify(&err)),
            Err(_) => Err(SendError::Transient(
                "the SMTP server did not answer in time".into(),
            )),
        }
    }

    fn take_idle(&self) -> Option<AsyncSmtpConnection> {
        let mut idle = self.idle.lock().ok()?;
        while let Some(candidate) = idle.pop() {
            if candidate.since.elapsed() < MAX_IDLE && !candidate.connection.has_broken() {
                return Some(candidate.connection);
            }
        }
        None
    }

    fn put_back(&self, connection: AsyncSmtpConnection) {
        if connection.has_broken() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(IdleConnection {
                connection,
                since: Instant::now(),
            });
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let connecting = async {
            let settings = &self.settings;
            let tcp = TcpStream::connect((settings.host.as_str(), settings.port))
                .await
                .map_err(|err| {
                    SendError::Transient(format!(
                        "connecting to {}:{}: {err}",
                        settings.host, settings.port
                    ))
                })?;
            tcp.set_nodelay(true)
                .map_err(|err| SendError::Transient(format!("setting TCP_NODELAY: {err}")))?;
            let stream: Box<dyn AsyncTokioStream> = match &self.implicit_tls {
                Some(connector) => {
                    let name = rustls::pki_types::ServerName::try_from(settings.host.clone())
                        .map_err(|err| {
                            SendError::Permanent(format!("invalid TLS server name: {err}"))
                        })?;
                    let tls = connector
                        .connect(name, tcp)
                        .await
                        .map_err(|err| SendError::Transient(format!("TLS handshake: {err}")))?;
                    Box::new(TlsStream(tls))
                }
                None => Box::new(tcp),
            };
            let mut connection =
                AsyncSmtpConnection::connect_with_transport(stream, &settings.hello)
                    .await
                    .map_err(|err| classify(&err))?;
            let starttls = match settings.tls {
                SmtpTls::StartTls => true,
                SmtpTls::Opportunistic => connection.can_starttls(),
                SmtpTls::None | SmtpTls::Implicit => false,
            };
            if starttls {
                let parameters = TlsParameters::new(settings.host.clone())
                    .map_err(|err| SendError::Permanent(format!("TLS set-up: {err}")))?;
                connection
                    .starttls(parameters, &settings.hello)
                    .await
                    .map_err(|err| classify(&err))?;
            }
            if let Some(credentials) = &settings.credentials {
                connection
                    .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await
                    .map_err(|err| classify(&err))?;
            }
            Ok(connection)
        };
        tokio::time::timeout(COMMAND_TIMEOUT, connecting)
            .await
            .map_err(|_| SendError::Transient("connecting to the SMTP server timed out".into()))?
    }
}

fn response_text(response: &lettre::transport::smtp::response::Response) -> String {
    let mut text = response.code().to_string();
    for line in response.message() {
        text.push(' ');
        text.push_str(line);
    }
    text
}

/// 5xx is permanent; everything else (4xx, lost connections, timeouts) is worth a retry.
fn classify(err: &lettre::transport::smtp::Error) -> SendError {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    if err.is_permanent() {
        SendError::Permanent(text)
    } else {
        SendError::Transient(text)
    }
}

fn tls_connector() -> anyhow::Result<tokio_rustls::TlsConnector> {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if roots.is_empty() {
        anyhow::bail!(
            "HUNDRED_SMTP_URL: smtps:// needs the system's CA certificates (install ca-certificates)"
        );
    }
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(tokio_rustls::TlsConnector::from(Arc::new(config)))
}

/// A TLS stream lettre can drive (it needs the peer address too).
#[derive(Debug)]
struct TlsStream(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for TlsStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for TlsStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for TlsStream {
    fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}
