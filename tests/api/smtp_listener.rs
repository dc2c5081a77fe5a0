//! The built-in SMTP listener against hostile clients, as an attacker would try it: a
//! command line of 100 MB (the real binary's memory stays small), 200 silent connections,
//! lines and messages too long, a size announced too big, too many connections from one
//! address, relaying; and STARTTLS with a certificate the owner names. After each attack a
//! real reply still gets in and is stored.

use std::net::{IpAddr, SocketAddr};
use std::process::Command;

use std::time::{Duration, Instant};
use tempfile::TempDir;

use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpSocket, TcpStream};

use crate::fixtures::{REPLY_TO, free_port};
use crate::helpers::{Backend, Options, TestApp, fresh_database, spawn_app_with};
use crate::on_both_databases;
use crate::process::{hundred, refuses_to_serve, serve, stop};

on_both_databases!(
    a_line_of_100_mb_without_a_newline_leaves_the_process_small,
    two_hundred_silent_connections_do_not_keep_a_reply_out,
    hostile_commands_are_refused_and_the_next_message_gets_in,
    starttls_with_the_owners_certificate_starts_the_session_over
);

/// A reply as a person sends it, to the list's reply address, with its own Message-ID.
pub(crate) fn reply_message(message_id: &str) -> String {
    format!(
        "From: Fay <fay@example.com>\r\nTo: replies@bakery.example\r\n\
         Subject: Re: Saturday market\r\nMessage-ID: <{message_id}>\r\n\r\n\
         Save me a sourdough, please!\r\n"
    )
}

/// How many inbound messages with this Message-ID the database holds.
pub(crate) async fn stored(database_url: &str, message_id: &str) -> i64 {
    let sql = "SELECT COUNT(*) FROM inbound_messages WHERE message_id = $1";
    let id = format!("<{message_id}>");
    crate::with_pool!(database_url, |pool| {
        sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(&pool)
            .await
            .unwrap()
    })
}

/// A connection from a loopback address of our choosing (127.0.0.0/8 is all loopback).
pub(crate) async fn connect_from(from: IpAddr, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(SocketAddr::new(from, 0)).unwrap();
    socket.connect(to).await.unwrap()
}

/// An SMTP client, on a plain or a TLS stream.
pub(crate) struct SmtpClient<S> {
    io: BufReader<S>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> SmtpClient<S> {
    pub(crate) fn new(stream: S) -> Self {
        Self {
            io: BufReader::new(stream),
        }
    }

    /// One whole reply; empty when the server closed the connection.
    pub(crate) async fn reply(&mut self) -> String {
        let read = async {
            let mut reply = String::new();
            loop {
                let mut line = String::new();
                match self.io.read_line(&mut line).await {
                    Ok(0) | Err(_) => return reply,
                    Ok(_) => {}
                }
                reply.push_str(&line);
                if line.as_bytes().get(3) != Some(&b'-') {
                    return reply;
                }
            }
        };
        tokio::time::timeout(Duration::from_secs(20), read)
            .await
            .expect("the server answers within 20 s")
    }

    pub(crate) async fn send(&mut self, bytes: &[u8]) {
        self.io.get_mut().write_all(bytes).await.unwrap();
    }

    pub(crate) async fn say(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// MAIL, RCPT and DATA, up to the 354.
    pub(crate) async fn start_message(&mut self) {
        for (line, code) in [
            ("MAIL FROM:<fay@example.com>", "250"),
            ("RCPT TO:<replies@bakery.example>", "250"),
            ("DATA", "354"),
        ] {
            let reply = self.say(line).await;
            assert!(reply.starts_with(code), "{line}: {reply}");
        }
    }

    /// A whole reply message; the server's answer to it.
    pub(crate) async fn send_reply(&mut self, message_id: &str) -> String {
        self.start_message().await;
        self.send(reply_message(message_id).as_bytes()).await;
        self.send(b".\r\n").await;
        self.reply().await
    }

    pub(crate) fn into_inner(self) -> S {
        self.io.into_inner()
    }
}

/// Connected and greeted (220), from `from`.
pub(crate) async fn greeted(from: IpAddr, to: SocketAddr) -> SmtpClient<TcpStream> {
    let mut client = SmtpClient::new(connect_from(from, to).await);
    let greeting = client.reply().await;
    assert!(greeting.starts_with("220 "), "{greeting}");
    assert!(client.say("EHLO mobile.example").await.starts_with("250"));
    client
}

/// Each client's first reply (220 or 421), with the client.
async fn first_words(clients: Vec<SmtpClient<TcpStream>>) -> Vec<(String, SmtpClient<TcpStream>)> {
    let mut replies = Vec::new();
    for mut client in clients {
        let reply = client.reply().await;
        replies.push((reply, client));
    }
    replies
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

async fn app_with_listener(backend: Backend, extra: &[(&str, &str)]) -> (TestApp, SocketAddr) {
    let port = free_port();
    let mut options = Options::default()
        .env("HUNDRED_REPLY_TO", REPLY_TO)
        .env("HUNDRED_INBOUND_SMTP_LISTEN", &port.to_string());
    for (name, value) in extra {
        options = options.env(name, value);
    }
    (spawn_app_with(backend, options).await, port)
}

/// The peak and current resident memory of a process, in KiB.
fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// The real binary on a fresh database, in a fresh working directory, with its SMTP listener
/// on a free port: the command, not started yet, the database's URL, the listener's address
/// and the directories, which must live as long as it runs.
pub(crate) async fn listening_binary(
    backend: Backend,
) -> (Command, String, SocketAddr, (Option<TempDir>, TempDir)) {
    let (database_url, dir) = fresh_database(backend).await;
    let workdir = tempfile::tempdir().unwrap();
    let smtp = free_port();
    let mut command = hundred();
    command
        .current_dir(workdir.path())
        .env("HUNDRED_DATABASE_URL", &database_url)
        .env("HUNDRED_LISTEN", "127.0.0.1:0")
        .env("HUNDRED_REPLY_TO", REPLY_TO)
        .env("HUNDRED_INBOUND_SMTP_LISTEN", smtp.to_string());
    (command, database_url, smtp, (dir, workdir))
}

async fn a_line_of_100_mb_without_a_newline_leaves_the_process_small(backend: Backend) {
    let (command, database_url, smtp, _dirs) = listening_binary(backend).await;
    let (mut child, _) = serve(command);
    let (peak_before, _) = memory_of(child.id());

    // The attacker streams 100 MB with no line end at all, then a line end.
    let attack = tokio::spawn(async move {
        let mut attacker = SmtpClient::new(connect_from(ip("127.0.3.1"), smtp).await);
        assert!(attacker.reply().await.starts_with("220"));
        let chunk = vec![b'A'; 64 * 1024];
        for _ in 0..1600 {
            attacker.send(&chunk).await;
        }
        attacker.send(b"\r\n").await;
        attacker.reply().await
    });
    // Meanwhile, and after, real replies get in.
    let mut fay = greeted(ip("127.0.3.2"), smtp).await;
    let during = fay.send_reply("during-the-100mb-line@mobile.example").await;
    assert!(during.starts_with("250"), "{during}");
    let answer = attack.await.unwrap();
    assert!(answer.starts_with("500 5.5.2"), "{answer}");
    let after = greeted(ip("127.0.3.3"), smtp)
        .await
        .send_reply("after-the-100mb-line@mobile.example")
        .await;
    assert!(after.starts_with("250"), "{after}");

    let (peak, now) = memory_of(child.id());
    stop(&mut child);
    assert!(
        peak < 100 * 1024,
        "peak memory {peak} KiB (before the attack {peak_before} KiB, now {now} KiB)"
    );
    assert_eq!(
        stored(&database_url, "during-the-100mb-line@mobile.example").await,
        1
    );
    assert_eq!(
        stored(&database_url, "after-the-100mb-line@mobile.example").await,
        1
    );
}

async fn two_hundred_silent_connections_do_not_keep_a_reply_out(backend: Backend) {
    let (app, smtp) = app_with_listener(backend, &[]).await;
    // 100 from one address, then 100 from as many others; none says a word.
    let mut one_address = Vec::new();
    for _ in 0..100 {
        one_address.push(SmtpClient::new(connect_from(ip("127.0.0.1"), smtp).await));
    }
    let mut many_addresses = Vec::new();
    for i in 0..100u8 {
        let from = IpAddr::from([127, 0, 1, i + 1]);
        many_addresses.push(SmtpClient::new(connect_from(from, smtp).await));
    }
    let one_address = first_words(one_address).await;
    let greeted = one_address
        .iter()
        .filter(|(r, _)| r.starts_with("220"))
        .count();
    let refused = one_address
        .iter()
        .filter(|(r, _)| r.starts_with("421 4.7.0 Too many connections from your address"))
        .count();
    assert_eq!((greeted, refused), (8, 92), "eight per client address");
    let many_addresses = first_words(many_addresses).await;
    let greeted = many_addresses
        .iter()
        .filter(|(r, _)| r.starts_with("220"))
        .count();
    assert!(greeted >= 56, "the other 56 places were taken: {greeted}");
    for (reply, _) in &many_addresses {
        assert!(
            reply.starts_with("220") || reply.starts_with("421 4.7.0"),
            "{reply}"
        );
    }

    // They have held their places for a while without a word; a real sender comes.
    tokio::time::sleep(hundred::inbound::smtp::EVICTABLE_AFTER + Duration::from_millis(500)).await;
    let started = Instant::now();
    let mut fay = SmtpClient::new(connect_from(ip("127.0.2.1"), smtp).await);
    assert!(fay.reply().await.starts_with("220"));
    assert!(fay.say("EHLO mobile.example").await.starts_with("250"));
    let answer = fay.send_reply("past-the-silent-crowd@mobile.example").await;
    let took = started.elapsed();
    assert!(answer.starts_with("250"), "{answer}");
    assert!(took < Duration::from_secs(1), "took {took:?}");
    assert_eq!(
        stored(&app.database_url, "past-the-silent-crowd@mobile.example").await,
        1
    );

    // The one that made room for her was told so.
    let mut evicted = 0;
    for (_, mut client) in one_address.into_iter().chain(many_addresses) {
        let next = tokio::time::timeout(Duration::from_millis(20), client.reply()).await;
        if next.is_ok_and(|reply| reply.starts_with("421 4.7.0")) {
            evicted += 1;
        }
    }
    assert!(evicted >= 1, "an idle session made room");
}

async fn hostile_commands_are_refused_and_the_next_message_gets_in(backend: Backend) {
    let (app, smtp) =
        app_with_listener(backend, &[("HUNDRED_INBOUND_SMTP_MAX_PER_CLIENT", "2")]).await;
    let mut client = greeted(ip("127.0.4.1"), smtp).await;

    // A command line of 1 MB.
    let mut long = b"MAIL FROM:<".to_vec();
    long.extend(std::iter::repeat_n(b'a', 1024 * 1024));
    long.extend_from_slice(b"@example.com>\r\n");
    client.send(&long).await;
    let reply = client.reply().await;
    assert!(reply.starts_with("500 5.5.2"), "{reply}");

    // A size announced over 10 MB, then relaying.
    let reply = client
        .say("MAIL FROM:<fay@example.com> SIZE=10485761")
        .await;
    assert!(reply.starts_with("552"), "{reply}");
    assert!(
        client
            .say("MAIL FROM:<fay@example.com>")
            .await
            .starts_with("250")
    );
    let reply = client.say("RCPT TO:<victim@elsewhere.example>").await;
    assert!(reply.starts_with("550"), "no relaying: {reply}");
    assert!(client.say("RSET").await.starts_with("250"));

    // 11 MB of data: read to its end, refused, and the session goes on.
    client.start_message().await;
    client
        .send(reply_message("too-big@mobile.example").as_bytes())
        .await;
    let line = format!("{}\r\n", "x".repeat(998));
    for _ in 0..(11 * 1024 * 1024 / line.len()) {
        client.send(line.as_bytes()).await;
    }
    client.send(b".\r\n").await;
    let reply = client.reply().await;
    assert!(reply.starts_with("552 5.3.4"), "{reply}");
    let reply = client.send_reply("after-too-big@mobile.example").await;
    assert!(reply.starts_with("250"), "{reply}");

    // A third connection from the same address, over its limit of two.
    let _second = greeted(ip("127.0.4.1"), smtp).await;
    let mut third = SmtpClient::new(connect_from(ip("127.0.4.1"), smtp).await);
    let reply = third.reply().await;
    assert!(reply.starts_with("421 4.7.0"), "{reply}");
    assert_eq!(third.reply().await, "", "and closed at once");

    assert_eq!(stored(&app.database_url, "too-big@mobile.example").await, 0);
    assert_eq!(
        stored(&app.database_url, "after-too-big@mobile.example").await,
        1
    );
}

/// A self-signed certificate for bakery.example, made by openssl.
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=bakery.example"])
        .args(["-addext", "subjectAltName=DNS:bakery.example"])
        .args(["-addext", "basicConstraints=critical,CA:FALSE"])
        .args(["-addext", "extendedKeyUsage=serverAuth"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stderr(std::process::Stdio::null())
        .status()
        .expect("openssl makes a certificate");
    assert!(status.success());
    (cert, key)
}

async fn starttls_with_the_owners_certificate_starts_the_session_over(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let (app, smtp) = app_with_listener(
        backend,
        &[
            ("HUNDRED_INBOUND_TLS_CERT", cert.to_str().unwrap()),
            ("HUNDRED_INBOUND_TLS_KEY", key.to_str().unwrap()),
        ],
    )
    .await;
    let mut plain = SmtpClient::new(connect_from(ip("127.0.5.1"), smtp).await);
    plain.reply().await;
    let ehlo = plain.say("EHLO mobile.example").await;
    assert!(ehlo.contains("250-STARTTLS\r\n"), "{ehlo}");
    // A command slipped in after STARTTLS in plain text must not survive into TLS.
    plain
        .send(b"STARTTLS\r\nMAIL FROM:<injected@evil.example>\r\n")
        .await;
    assert!(plain.reply().await.starts_with("220 2.0.0"));

    let mut roots = rustls::RootCertStore::empty();
    use rustls::pki_types::pem::PemObject as _;
    for der in rustls::pki_types::CertificateDer::pem_file_iter(&cert).unwrap() {
        roots.add(der.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let name = rustls::pki_types::ServerName::try_from("bakery.example").unwrap();
    let tls = connector.connect(name, plain.into_inner()).await.unwrap();
    let mut secure = SmtpClient::new(tls);

    let reply = secure.say("MAIL FROM:<fay@example.com>").await;
    assert!(
        reply.starts_with("503"),
        "the session started over: EHLO first ({reply})"
    );
    let ehlo = secure.say("EHLO mobile.example").await;
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    let reply = secure.send_reply("over-tls@mobile.example").await;
    assert!(reply.starts_with("250"), "{reply}");
    assert_eq!(
        stored(&app.database_url, "over-tls@mobile.example").await,
        1
    );
}

#[test]
fn a_bad_certificate_stops_start_up_naming_its_variable() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, _) = certificate(dir.path());
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a key").unwrap();
    for (settings, variable) in [
        (
            vec![("HUNDRED_INBOUND_TLS_CERT", cert.clone())],
            "HUNDRED_INBOUND_TLS_KEY",
        ),
        (
            vec![
                ("HUNDRED_INBOUND_TLS_CERT", dir.path().join("missing.pem")),
                ("HUNDRED_INBOUND_TLS_KEY", junk.clone()),
            ],
            "HUNDRED_INBOUND_TLS_CERT",
        ),
        (
            vec![
                ("HUNDRED_INBOUND_TLS_CERT", cert.clone()),
                ("HUNDRED_INBOUND_TLS_KEY", junk.clone()),
            ],
            "HUNDRED_INBOUND_TLS_KEY",
        ),
    ] {
        refuses_to_serve(dir.path(), settings, variable);
    }
}
