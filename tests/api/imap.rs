//! Replies kept in the business's own mailbox (`HUNDRED_IMAP_URL`), against a real dovecot:
//! each test starts a private dovecot on free loopback ports, with its own configuration,
//! users and maildir in a temporary folder, so tests share nothing and need no system set-up
//! beyond the installed package (`.ci/run` installs `dovecot-imapd`).
//!
//! A reply in the mailbox reaches the subscriber's timeline, whether the owner opened it
//! first or not, and the poller changes no flags; the same reply again, what is not mail and
//! what is too big are passed and stored never (or once); the first poll reads what is
//! unread and what is recent, not years of read mail; a wrong password is logged without
//! the password while the service stays healthy; imaps:// and STARTTLS both work.

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_imap::types::Flag;
use futures::TryStreamExt as _;

use crate::fixtures::{confirmed_email, free_port};
use crate::helpers::{Backend, Options, TestApp, settle, spawn_app_with};
use crate::on_both_databases;
use crate::process::{address_in, hundred, start_serving, stop};

on_both_databases!(
    a_reply_in_the_mailbox_reaches_the_timeline_once_read_or_not,
    the_first_poll_reads_unread_and_recent_mail_only,
);

const USER: &str = "bakery";
/// Spaces, `@`, `/` and `%` in the password: the URL carries it percent-encoded.
const PASSWORD: &str = "s3cret p@ss/w%rd";
const PASSWORD_IN_URL: &str = "s3cret%20p%40ss%2Fw%25rd";

/// A private dovecot: IMAP with STARTTLS on one port, imaps on another, one user, its
/// maildir, and a certificate for `localhost` signed by a CA of its own (`ca_file`).
pub(crate) struct Dovecot {
    process: Child,
    dir: tempfile::TempDir,
    imap: SocketAddr,
    imaps: SocketAddr,
}

impl Dovecot {
    pub(crate) fn start() -> Self {
        let binary = ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"]
            .into_iter()
            .map(PathBuf::from)
            .find(|path| path.exists())
            .expect(
                "dovecot is not installed, and the IMAP tests need it: \
                 apt-get install dovecot-imapd (.ci/run installs it)",
            );
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path();
        // Mail is written as the package's `dovecot` user (dovecot refuses root for mail).
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(root, std::fs::Permissions::from_mode(0o755)).unwrap();
        for folder in ["run", "state", "mail"] {
            std::fs::create_dir(root.join(folder)).unwrap();
        }
        std::fs::set_permissions(root.join("mail"), std::fs::Permissions::from_mode(0o1777))
            .unwrap();
        std::fs::write(
            root.join("users"),
            format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n"),
        )
        .unwrap();
        make_certificates(root);
        let (imap, imaps) = (free_port(), free_port());
        let root_name = root.display();
        let config = format!(
            "base_dir = {root_name}/run
state_dir = {root_name}/state
instance_name = hundred-test-{imap_port}
log_path = {root_name}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root_name}/server.pem
ssl_key = <{root_name}/server.key
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 1 secs
first_valid_uid = 1
mail_location = maildir:{root_name}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root_name}/users
}}
userdb {{
  driver = static
  args = uid=dovecot gid=dovecot home={root_name}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = {imaps_port}
  }}
}}
",
            imap_port = imap.port(),
            imaps_port = imaps.port(),
        );
        std::fs::write(root.join("dovecot.conf"), config).unwrap();
        let mut process = Command::new(binary)
            .arg("-F")
            .arg("-c")
            .arg(root.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dovecot");
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(imap).is_err()
            || std::net::TcpStream::connect(imaps).is_err()
        {
            let exited = process.try_wait().unwrap();
            if exited.is_some() || Instant::now() > deadline {
                let log = std::fs::read_to_string(root.join("dovecot.log")).unwrap_or_default();
                panic!("dovecot did not start ({exited:?}):\n{log}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Self {
            process,
            dir,
            imap,
            imaps,
        }
    }

    /// The CA the server's certificate is signed by, for `SSL_CERT_FILE`.
    fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A client for the test's own looks into the mailbox.
    async fn session(&self) -> async_imap::Session<tokio::net::TcpStream> {
        let tcp = tokio::net::TcpStream::connect(self.imap).await.unwrap();
        let mut client = async_imap::Client::new(tcp);
        client.read_response().await.unwrap().unwrap();
        let mut session = client
            .login(USER, PASSWORD)
            .await
            .map_err(|(e, _)| e)
            .unwrap();
        session.select("INBOX").await.unwrap();
        session
    }

    /// Puts a message into INBOX, unread, as a mail server delivering it would.
    pub(crate) async fn append(&self, raw: &str) {
        self.append_as(raw, None, None).await;
    }

    /// Puts a message into INBOX with flags (`(\Seen)`: the owner has opened it) and an
    /// arrival date (`"01-Jan-2020 10:00:00 +0000"`, quoted as IMAP wants).
    async fn append_as(&self, raw: &str, flags: Option<&str>, arrived: Option<&str>) {
        let mut session = self.session().await;
        session
            .append("INBOX", flags, arrived, raw.replace('\n', "\r\n"))
            .await
            .unwrap();
        session.logout().await.unwrap();
    }

    /// Each message's UID and whether it is marked read, in UID order.
    async fn read_flags(&self) -> Vec<(u32, bool)> {
        let mut session = self.session().await;
        let fetched: Vec<_> = session
            .uid_fetch("1:*", "(UID FLAGS)")
            .await
            .unwrap()
            .try_collect()
            .await
            .unwrap();
        let mut flags: Vec<(u32, bool)> = fetched
            .iter()
            .filter_map(|f| Some((f.uid?, f.flags().any(|flag| flag == Flag::Seen))))
            .collect();
        flags.sort_unstable();
        session.logout().await.unwrap();
        flags
    }

    /// Waits until hundred has read the mailbox up to message `uid` (what it keeps in its
    /// database).
    async fn wait_read_up_to(&self, app: &TestApp, uid: u32) {
        let store = hundred::store::Store::connect(&app.database_url)
            .await
            .unwrap();
        let key = format!(
            "imap_read_up_to:{USER}@127.0.0.1:{}/INBOX",
            self.imap.port()
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let kept = store.setting(&key).await.unwrap();
            if kept
                .as_deref()
                .and_then(|kept| kept.split_once(':'))
                .is_some_and(|(_, read)| read.parse::<u32>().unwrap() >= uid)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "expected the mailbox read up to UID {uid}, have {kept:?}\n{}",
                std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        if let Ok(pid) = i32::try_from(self.process.id()) {
            // SIGTERM lets dovecot's master stop its own children.
            unsafe { libc::kill(pid, libc::SIGTERM) };
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while matches!(self.process.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

/// A CA and a server certificate for `localhost` signed by it, with openssl.
fn make_certificates(dir: &Path) {
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let steps: [&[&str]; 3] = [
        &[
            &["req", "-x509"],
            &ec[..],
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=hundred test CA",
            ],
        ]
        .concat(),
        &[
            &["req"],
            &ec[..],
            &[
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
                "-subj",
                "/CN=localhost",
            ],
        ]
        .concat(),
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.pem",
            "-days",
            "2",
            "-extfile",
            "server.ext",
        ],
    ];
    for args in steps {
        let output = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl makes the test certificates");
        assert!(
            output.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

fn reply(message_id: &str, in_reply_to: &str) -> String {
    format!(
        "From: Ann <ann@example.com>
To: Corner Bakery <news@bakery.example>
Subject: Re: Saturday market
Message-ID: {message_id}
In-Reply-To: {in_reply_to}
Date: Thu, 26 Nov 2026 09:00:00 +0000
Content-Type: text/plain; charset=utf-8

Lovely, I will come by on Saturday!

On Wed, 25 Nov 2026 at 10:00, Corner Bakery <news@bakery.example> wrote:
> Fresh bread on Saturday.
"
    )
}

const NOT_MAIL: &str = "just a line of text, nothing like a mail message\n";

/// The `HUNDRED_IMAP_URL` of `dovecot`'s INBOX (plain IMAP on loopback).
pub(crate) fn imap_url(dovecot: &Dovecot) -> String {
    format!(
        "imap://{USER}:{PASSWORD_IN_URL}@127.0.0.1:{}/INBOX?tls=none",
        dovecot.imap.port()
    )
}

/// hundred polling `dovecot`'s INBOX every second.
async fn polling(backend: Backend, dovecot: &Dovecot) -> TestApp {
    spawn_app_with(
        backend,
        Options::default()
            .env("HUNDRED_IMAP_URL", &imap_url(dovecot))
            .env("HUNDRED_IMAP_POLL_SECONDS", "1"),
    )
    .await
}

async fn a_reply_in_the_mailbox_reaches_the_timeline_once_read_or_not(backend: Backend) {
    let dovecot = Dovecot::start();
    let app = polling(backend, &dovecot).await;
    let token = app.api_token().await;
    let ann = confirmed_email(&app, &token, "ann@example.com").await;
    let campaign = app
        .create_campaign(
            &token,
            serde_json::json!({ "subject": "Saturday market", "body": "Fresh bread on Saturday." }),
        )
        .await;
    let campaign_id = campaign["id"].as_str().unwrap();
    app.send_campaign_now(&token, campaign_id).await;
    app.wait_for_campaign(&token, campaign_id, "sent").await;
    let sent_id = app.smtp.messages_to("ann@example.com")[0]
        .header("Message-ID")
        .unwrap();

    // Ann's reply lands in the bakery's mailbox, and the owner opens it in their mail
    // program before hundred polls.
    dovecot
        .append_as(
            &reply("<imap-reply-1@example.com>", &sent_id),
            Some("(\\Seen)"),
            None,
        )
        .await;
    let deadline = Instant::now() + Duration::from_secs(30);
    let replied = loop {
        let story = app.api_get(&format!("/subscribers/{ann}"), &token).await;
        let timeline = story["timeline"].as_array().unwrap().clone();
        if let Some(reply) = timeline.into_iter().find(|e| e["kind"] == "reply") {
            break reply;
        }
        assert!(
            Instant::now() < deadline,
            "no reply in the timeline: {story}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(replied["text"], "Lovely, I will come by on Saturday!");
    dovecot.wait_read_up_to(&app, 1).await;

    // The same reply again (a second copy delivered), something that is not mail, and a
    // message over the 10 MB limit, all unread: each passed, none stored as a new reply.
    dovecot
        .append(&reply("<imap-reply-1@example.com>", &sent_id))
        .await;
    dovecot.append(NOT_MAIL).await;
    let huge = format!(
        "From: someone@example.com\nSubject: huge\nMessage-ID: <huge@example.com>\n\n{}\n",
        "A very long letter. ".repeat(11 * 1024 * 1024 / 20)
    );
    dovecot.append(&huge).await;
    dovecot.wait_read_up_to(&app, 4).await;
    // A few more polls find nothing new; every message is still there as it was: hundred
    // flags nothing, so what the owner has not opened stays unread for them.
    settle().await;
    assert_eq!(app.count("inbound_messages").await, 1);
    assert_eq!(
        dovecot.read_flags().await,
        vec![(1, true), (2, false), (3, false), (4, false)]
    );
    let report = app
        .api_get(&format!("/campaigns/{campaign_id}"), &token)
        .await;
    assert_eq!(
        report["engagement"]["replies"], 1,
        "{}",
        report["engagement"]
    );
    let story = app.api_get(&format!("/subscribers/{ann}"), &token).await;
    let replies = story["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "reply")
        .count();
    assert_eq!(replies, 1, "{story}");
}

async fn the_first_poll_reads_unread_and_recent_mail_only(backend: Backend) {
    // The mailbox has years of mail before hundred is pointed at it.
    let dovecot = Dovecot::start();
    let letter = |id: &str, subject: &str| {
        format!(
            "From: Someone <someone@example.com>\nTo: shop@bakery.example\nSubject: {subject}\nMessage-ID: <{id}@example.com>\nDate: Wed, 01 Jan 2020 10:00:00 +0000\n\nHello.\n"
        )
    };
    let long_ago = Some("\"01-Jan-2020 10:00:00 +0000\"");
    dovecot
        .append_as(&letter("old-read", "Old, read"), Some("(\\Seen)"), long_ago)
        .await;
    dovecot
        .append_as(&letter("old-unread", "Old, never opened"), None, long_ago)
        .await;
    dovecot
        .append_as(
            &letter("recent-read", "This week, read"),
            Some("(\\Seen)"),
            None,
        )
        .await;

    let app = polling(backend, &dovecot).await;
    dovecot.wait_read_up_to(&app, 3).await;
    settle().await;
    assert_eq!(
        app.count("inbound_messages").await,
        2,
        "the unread one and the recent one; not the old mail already read"
    );

    // From then on, whatever arrives is read, opened by the owner or not.
    dovecot
        .append_as(
            &letter("later-read", "Later, read"),
            Some("(\\Seen)"),
            long_ago,
        )
        .await;
    dovecot.wait_read_up_to(&app, 4).await;
    assert_eq!(app.count("inbound_messages").await, 3);
    assert_eq!(
        dovecot.read_flags().await,
        vec![(1, true), (2, false), (3, true), (4, true)]
    );
}

/// `hundred serve` with its log lines collected; returns the address it listens on.
fn serve_logged(command: Command) -> (Child, String, Arc<Mutex<Vec<String>>>) {
    let (child, stderr) = start_serving(command);
    let lines = Arc::new(Mutex::new(Vec::new()));
    let collected = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            collected.lock().unwrap().push(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let address = loop {
        let found = lines
            .lock()
            .unwrap()
            .iter()
            .find_map(|line| address_in(line));
        if let Some(address) = found {
            break address;
        }
        assert!(Instant::now() < deadline, "hundred reports its address");
        std::thread::sleep(Duration::from_millis(50));
    };
    (child, address, lines)
}

/// Waits for a log line containing every one of `needles`, and returns it.
async fn wait_for_line(lines: &Mutex<Vec<String>>, needles: &[&str]) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(line) = lines
            .lock()
            .unwrap()
            .iter()
            .find(|line| needles.iter().all(|n| line.contains(n)))
        {
            return line.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no log line with {needles:?}:\n{}",
            lines.lock().unwrap().join("\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_logged_without_it_and_tls_works_both_ways() {
    let dovecot = Dovecot::start();
    let workdir = tempfile::tempdir().unwrap();
    let serve = |url: String| {
        let mut command = hundred();
        command
            .current_dir(workdir.path())
            .env("HUNDRED_LISTEN", "127.0.0.1:0")
            .env("HUNDRED_IMAP_URL", url)
            .env("HUNDRED_IMAP_POLL_SECONDS", "1")
            // The test CA is the only one trusted, so TLS is checked for real.
            .env("SSL_CERT_FILE", dovecot.ca_file());
        serve_logged(command)
    };

    // imaps:// with a wrong password: the TLS handshake succeeds, the login fails, and the
    // failure is logged (masked), retried with a longer wait, and harms nothing else.
    let wrong = "wrong-hunter2";
    let (mut child, address, lines) = serve(format!(
        "imaps://{USER}:{wrong}@localhost:{}/INBOX",
        dovecot.imaps.port()
    ));
    let failed = wait_for_line(&lines, &["polling the IMAP mailbox failed", "failures=1"]).await;
    assert!(failed.contains("AUTHENTICATIONFAILED"), "{failed}");
    assert!(
        failed.contains(&format!("logging in as {USER}")),
        "{failed}"
    );
    assert!(failed.contains("imaps://bakery:***@localhost"), "{failed}");
    let again = wait_for_line(&lines, &["failures=2"]).await;
    assert!(again.contains("retry_in_seconds=2"), "{again}");
    let health = reqwest::get(format!("http://{address}/healthz"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let status = stop(&mut child);
    assert!(status.success(), "a clean exit on SIGTERM: {status:?}");
    let log = lines.lock().unwrap().join("\n");
    assert!(!log.contains(wrong), "the password is never logged:\n{log}");

    // imap:// with STARTTLS and the right password: a reply and something that is not
    // mail are both read from the mailbox, the latter passed with a log line.
    dovecot
        .append(&reply("<starttls-1@example.com>", "<unknown@example.com>"))
        .await;
    dovecot.append(NOT_MAIL).await;
    let (mut child, _address, lines) = serve(format!(
        "imap://{USER}:{PASSWORD_IN_URL}@localhost:{}/INBOX",
        dovecot.imap.port()
    ));
    wait_for_line(&lines, &["is not mail", "passed"]).await;
    wait_for_line(&lines, &["stored=1", "not_mail=1"]).await;
    let status = stop(&mut child);
    assert!(status.success(), "a clean exit on SIGTERM: {status:?}");
    let log = lines.lock().unwrap().join("\n");
    assert!(
        !log.contains(PASSWORD) && !log.contains(PASSWORD_IN_URL),
        "{log}"
    );
    assert!(!log.contains("polling the IMAP mailbox failed"), "{log}");
}
