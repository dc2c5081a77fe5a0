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
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, AsyncTokioStream, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use url::Url;

use super::SendError;

/// How long one SMTP command may take before the connection is given up.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// Idle connections older than this are closed rather than reused (servers drop them).
const MAX_IDLE: Duration = Duration::from_secs(50);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain SMTP; STARTTLS is not attempted.
    None,
    /// STARTTLS is required (`?tls=required`).
    StartTls,
    /// STARTTLS when the server offers it (`?tls=opportunistic`).
    Opportunistic,
    /// TLS from the first byte (`smtps://`).
    Implicit,
}

/// Where and how to connect, parsed from `HUNDRED_SMTP_URL`.
#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    credentials: Option<Credentials>,
    hello: ClientId,
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &self.tls)
            .field(
                "credentials",
                &self.credentials.as_ref().map(|_| "[redacted]"),
            )
            .finish()
    }
}

impl SmtpSettings {
    /// `smtp://[user:pass@]host[:port][?tls=required|opportunistic|none]` or `smtps://…`.
    /// A user name and password need TLS unless the server is on this machine or the URL
    /// says `tls=none`.
    pub fn from_url(raw: &str) -> Result<Self, String> {
        let url = Url::parse(raw).map_err(|err| format!("not a URL: {err}"))?;
        let tls_param = url
            .query_pairs()
            .find(|(key, _)| key == "tls")
            .map(|(_, value)| value.into_owned());
        let (tls, default_port) = match (url.scheme(), tls_param.as_deref()) {
            ("smtp", None | Some("none")) => (TlsMode::None, 25),
            ("smtp", Some("required")) => (TlsMode::StartTls, 587),
            ("smtp", Some("opportunistic")) => (TlsMode::Opportunistic, 587),
            ("smtps", None | Some("required")) => (TlsMode::Implicit, 465),
            ("smtp" | "smtps", Some(other)) => {
                return Err(format!(
                    "tls={other} is not one of required, opportunistic, none"
                ));
            }
            _ => return Err("must start with smtp:// or smtps://".into()),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("has no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        let credentials = if url.username().is_empty() {
            None
        } else {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| "the user name or password is not valid UTF-8".to_string())
            };
            Some(Credentials::new(
                decode(url.username())?,
                decode(url.password().unwrap_or_default())?,
            ))
        };
        if credentials.is_some()
            && !credentials_stay_private(tls, tls_param.as_deref() == Some("none"), &host)
        {
            return Err(format!(
                "the user name and password would cross the network to {host} unencrypted; \
                 add ?tls=required (STARTTLS) or use smtps://, or write ?tls=none to accept that"
            ));
        }
        let hello = match url.path().trim_start_matches('/') {
            "" => ClientId::default(),
            name => ClientId::Domain(name.to_string()),
        };
        Ok(Self {
            port: url.port().unwrap_or(default_port),
            host,
            tls,
            credentials,
            hello,
        })
    }
}

/// Whether a password sent to `host` with `tls` stays off the network in clear: always
/// with STARTTLS required or implicit TLS, and to this machine (loopback) in any case.
/// Opportunistic STARTTLS is not enough (whoever sits in between can hide the offer), and
/// plain SMTP to another machine only when the owner wrote `tls=none` to say so.
fn credentials_stay_private(tls: TlsMode, written_none: bool, host: &str) -> bool {
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host.eq_ignore_ascii_case("localhost.")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    match tls {
        TlsMode::StartTls | TlsMode::Implicit => true,
        TlsMode::None => loopback || written_none,
        TlsMode::Opportunistic => loopback,
    }
}

struct IdleConnection {
    connection: AsyncSmtpConnection,
    since: Instant,
}

/// A bounded pool of open SMTP connections.
pub struct SmtpPool {
    settings: SmtpSettings,
    idle: Mutex<Vec<IdleConnection>>,
    permits: Semaphore,
    implicit_tls: Option<tokio_rustls::TlsConnector>,
}

impl SmtpPool {
    pub fn new(settings: SmtpSettings, max_connections: usize) -> anyhow::Result<Arc<Self>> {
        let implicit_tls = (settings.tls == TlsMode::Implicit)
            .then(tls_connector)
            .transpose()?;
        Ok(Arc::new(Self {
            settings,
            idle: Mutex::new(Vec::new()),
            permits: Semaphore::new(max_connections.max(1)),
            implicit_tls,
        }))
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
                TlsMode::StartTls => true,
                TlsMode::Opportunistic => connection.can_starttls(),
                TlsMode::None | TlsMode::Implicit => false,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_form_of_smtp_url() {
        let plain = SmtpSettings::from_url("smtp://127.0.0.1:2525").unwrap();
        assert_eq!(
            (plain.host.as_str(), plain.port, plain.tls),
            ("127.0.0.1", 2525, TlsMode::None)
        );
        assert!(plain.credentials.is_none());
        let starttls =
            SmtpSettings::from_url("smtp://me%40x.com:p%3Ass@mail.example.com?tls=required")
                .unwrap();
        assert_eq!((starttls.port, starttls.tls), (587, TlsMode::StartTls));
        assert!(starttls.credentials.is_some());
        let implicit = SmtpSettings::from_url("smtps://mail.example.com").unwrap();
        assert_eq!((implicit.port, implicit.tls), (465, TlsMode::Implicit));
        assert!(
            !format!("{starttls:?}").contains("p:ss"),
            "credentials are not printed"
        );
        for bad in [
            "http://x",
            "smtp://",
            "smtp://host?tls=sometimes",
            "not a url",
        ] {
            assert!(SmtpSettings::from_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_password_never_crosses_the_network_in_clear() {
        for refused in [
            "smtp://me:hunter2@mail.example.com:587",
            "smtp://me:hunter2@mail.example.com?tls=opportunistic",
            "smtp://me:hunter2@192.0.2.7:25",
            "smtp://me:hunter2@[2001:db8::1]:25",
            "smtp://me@mail.example.com",
        ] {
            let err = SmtpSettings::from_url(refused).unwrap_err();
            assert!(err.contains("tls=required"), "{refused}: {err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        for allowed in [
            "smtp://me:hunter2@mail.example.com?tls=required",
            "smtps://me:hunter2@mail.example.com",
            "smtp://me:hunter2@mail.example.com?tls=none",
            "smtp://me:hunter2@127.0.0.1:2525",
            "smtp://me:hunter2@127.8.9.10:2525?tls=opportunistic",
            "smtp://me:hunter2@[::1]:2525",
            "smtp://me:hunter2@LocalHost:2525",
            "smtp://mail.example.com:25",
        ] {
            assert!(SmtpSettings::from_url(allowed).is_ok(), "{allowed}");
        }
    }
}
