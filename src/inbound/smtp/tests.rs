//! The SMTP session in memory, as a hostile or clumsy client would drive it: every reply
//! checked, every message the store got counted.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, DuplexStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::{Limits, MessageSink, Session, Settings, Stored};

/// Keeps what it is given, answering as told after an optional wait.
#[derive(Clone, Default)]
struct Keeper {
    kept: Arc<Mutex<Vec<Vec<u8>>>>,
    delay: Duration,
    answer: Option<Stored>,
}

impl MessageSink for Keeper {
    fn store(&self, message: Vec<u8>, _recipients: Vec<String>) -> BoxFuture<'static, Stored> {
        let (kept, delay) = (self.kept.clone(), self.delay);
        let answer = self.answer.clone().unwrap_or(Stored::Kept);
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            kept.lock().unwrap().push(message);
            answer
        })
    }
}

impl Keeper {
    fn messages(&self) -> Vec<Vec<u8>> {
        self.kept.lock().unwrap().clone()
    }
}

fn settings(limits: Limits) -> Arc<Settings> {
    Arc::new(Settings {
        server_name: "bakery.example".into(),
        domains: vec!["bakery.example".into()],
        live: None,
        limits,
    })
}

/// A client talking to a session over an in-memory pipe.
struct Client {
    reader: BufReader<tokio::io::ReadHalf<DuplexStream>>,
    writer: tokio::io::WriteHalf<DuplexStream>,
    session: tokio::task::JoinHandle<()>,
}

impl Client {
    fn start(session: Session) -> Self {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let session = tokio::spawn(session.run(server));
        let (reader, writer) = tokio::io::split(client);
        Self {
            reader: BufReader::new(reader),
            writer,
            session,
        }
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.writer.write_all(bytes).await.unwrap();
    }

    /// One whole reply (all its lines); empty once the session closed.
    async fn reply(&mut self) -> String {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).await.unwrap() == 0 {
                return reply;
            }
            reply.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return reply;
            }
        }
    }

    async fn say(&mut self, line: &str) -> String {
        self.send(format!("{line}\r\n").as_bytes()).await;
        self.reply().await
    }

    /// Says `line` and checks that the reply begins with `code`, showing it when not.
    async fn expect(&mut self, line: &str, code: &str) {
        let reply = self.say(line).await;
        assert!(
            reply.starts_with(code),
            "{line}: expected {code}, got {reply}"
        );
    }

    /// EHLO, MAIL, RCPT, DATA and the message; the reply to the data.
    async fn mail(&mut self, message: &[u8]) -> String {
        self.expect("MAIL FROM:<fay@example.com>", "250").await;
        self.expect("RCPT TO:<replies@bakery.example>", "250").await;
        self.expect("DATA", "354").await;
        self.send(message).await;
        self.send(b"\r\n.\r\n").await;
        self.reply().await
    }

    async fn closed(mut self) {
        assert_eq!(self.reply().await, "", "the session closed");
        self.session.await.unwrap();
    }
}

async fn greeted(session: Session) -> Client {
    let mut client = Client::start(session);
    assert!(client.reply().await.starts_with("220 bakery.example"));
    let ehlo = client.say("EHLO mobile.example").await;
    assert!(ehlo.starts_with("250-bakery.example\r\n"), "{ehlo}");
    client
}

const MESSAGE: &[u8] =
    b"From: fay@example.com\r\nSubject: Re: bread\r\n\r\n.Save me one\r\n..two dots";

#[tokio::test]
async fn a_message_is_stored_unstuffed_and_then_answered() {
    let keeper = Keeper::default();
    let mut client = greeted(Session::new(
        settings(Limits::default()),
        Arc::new(keeper.clone()),
    ))
    .await;
    let reply = client.mail(MESSAGE).await;
    assert!(reply.starts_with("250 2.0.0"), "{reply}");
    assert_eq!(
        keeper.messages(),
        vec![
            b"From: fay@example.com\r\nSubject: Re: bread\r\n\r\nSave me one\r\n.two dots\r\n"
                .to_vec()
        ]
    );
    client.expect("QUIT", "221").await;
    client.closed().await;
}

#[tokio::test]
async fn the_ehlo_answer_names_the_size_and_no_starttls_without_a_certificate() {
    let mut client = Client::start(Session::new(
        settings(Limits::default()),
        Arc::new(Keeper::default()),
    ));
    client.reply().await;
    let ehlo = client.say("EHLO x.example").await;
    assert!(ehlo.contains("250-SIZE 10485760\r\n"), "{ehlo}");
    assert!(!ehlo.contains("STARTTLS"), "{ehlo}");
    client.expect("STARTTLS", "502").await;
}

#[tokio::test]
async fn a_line_too_long_is_refused_and_the_session_goes_on() {
    let keeper = Keeper::default();
    let mut client = greeted(Session::new(
        settings(Limits::default()),
        Arc::new(keeper.clone()),
    ))
    .await;
    let mut long = b"MAIL FROM:<".to_vec();
    long.extend(std::iter::repeat_n(b'a', 1_000_000));
    long.extend_from_slice(b"@example.com>\r\n");
    client.send(&long).await;
    assert!(client.reply().await.starts_with("500 5.5.2"));
    assert!(
        client.mail(MESSAGE).await.starts_with("250"),
        "nothing of the long line stayed"
    );
    assert_eq!(keeper.messages().len(), 1);
}

#[tokio::test]
async fn too_many_bad_commands_in_a_row_close_the_session() {
    let mut client = greeted(Session::new(
        settings(Limits::default()),
        Arc::new(Keeper::default()),
    ))
    .await;
    for _ in 0..9 {
        client.expect("HACK THE PLANET", "500").await;
    }
    // A good one resets the count.
    client.expect("NOOP", "250").await;
    for _ in 0..9 {
        client
            .expect("RCPT TO:<victim@elsewhere.example>", "503")
            .await;
    }
    client.expect("VRFY", "501").await;
    assert!(client.reply().await.starts_with("421 4.7.0"));
    client.closed().await;
}

#[tokio::test]
async fn a_message_too_big_is_refused_after_its_end_and_the_next_one_is_taken() {
    let keeper = Keeper::default();
    let limits = Limits {
        message_bytes: 1000,
        ..Limits::default()
    };
    let mut client = greeted(Session::new(settings(limits), Arc::new(keeper.clone()))).await;
    let mut big = MESSAGE.to_vec();
    big.extend(std::iter::repeat_n(b'x', 5000));
    assert!(client.mail(&big).await.starts_with("552 5.3.4"));
    assert!(client.mail(MESSAGE).await.starts_with("250"));
    assert_eq!(keeper.messages().len(), 1);
    // A size announced over the limit is refused at once.
    client
        .expect("MAIL FROM:<a@example.com> SIZE=1001", "552")
        .await;
    client
        .expect("MAIL FROM:<a@example.com> SIZE=1000", "250")
        .await;
}

#[tokio::test]
async fn recipients_are_our_domain_only_and_counted() {
    let limits = Limits {
        recipients: 2,
        ..Limits::default()
    };
    let mut client = greeted(Session::new(settings(limits), Arc::new(Keeper::default()))).await;
    client.expect("DATA", "503").await;
    // Bounces come from <>.
    client.expect("MAIL FROM:<>", "250").await;
    client
        .expect("RCPT TO:<relay@elsewhere.example>", "550 5.7.1")
        .await;
    // No valid recipient yet.
    client.expect("DATA", "503").await;
    client.expect("RCPT TO:<a@BAKERY.example>", "250").await;
    client.expect("RCPT TO:<b@bakery.example>", "250").await;
    client
        .expect("RCPT TO:<c@bakery.example>", "452 4.5.3")
        .await;
    client.expect("MAIL FROM:<x@example.com>", "503").await;
    client.expect("RSET", "250").await;
    client.expect("MAIL FROM:<x@example.com>", "250").await;
}

#[tokio::test]
async fn mail_before_ehlo_and_odd_commands_get_polite_answers() {
    let mut client = Client::start(Session::new(
        settings(Limits::default()),
        Arc::new(Keeper::default()),
    ));
    client.reply().await;
    client.expect("MAIL FROM:<a@example.com>", "503").await;
    client.expect("HELP", "214").await;
    client.expect("VRFY postmaster", "252").await;
    client.expect("EXPN staff", "502").await;
    client.expect("AUTH PLAIN AGFiYw==", "502").await;
    client
        .expect("HELO old.example", "250 bakery.example")
        .await;
    client
        .expect("MAIL FROM:<a@example.com> FOO=bar", "555")
        .await;
}

#[tokio::test]
async fn what_is_not_mail_or_cannot_be_stored_gets_the_right_code() {
    let not_mail = Keeper {
        answer: Some(Stored::NotMail("the message is\r\nempty".into())),
        ..Keeper::default()
    };
    let mut client = greeted(Session::new(
        settings(Limits::default()),
        Arc::new(not_mail),
    ))
    .await;
    let reply = client.mail(b"").await;
    assert_eq!(reply, "550 5.6.0 Not a message: the message is??empty\r\n");

    let failing = Keeper {
        answer: Some(Stored::Failed),
        ..Keeper::default()
    };
    let mut client = greeted(Session::new(settings(Limits::default()), Arc::new(failing))).await;
    assert!(client.mail(MESSAGE).await.starts_with("451"));
}

#[tokio::test(start_paused = true)]
async fn a_store_that_takes_too_long_is_answered_451_and_still_finishes() {
    let slow = Keeper {
        delay: Duration::from_secs(45),
        ..Keeper::default()
    };
    let mut client = greeted(Session::new(
        settings(Limits::default()),
        Arc::new(slow.clone()),
    ))
    .await;
    assert!(client.mail(MESSAGE).await.starts_with("451 4.3.0"));
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert_eq!(slow.messages().len(), 1, "the store was not cut off");
}

#[tokio::test(start_paused = true)]
async fn a_silent_client_is_closed_after_the_command_time() {
    let mut client = Client::start(Session::new(
        settings(Limits::default()),
        Arc::new(Keeper::default()),
    ));
    client.reply().await;
    let started = tokio::time::Instant::now();
    assert!(client.reply().await.starts_with("421 4.4.2"));
    assert_eq!(started.elapsed().as_secs(), 60);
    client.closed().await;
}

#[tokio::test(start_paused = true)]
async fn a_chatty_client_is_closed_at_the_session_deadline() {
    let mut client = greeted(Session::new(
        settings(Limits::default()),
        Arc::new(Keeper::default()),
    ))
    .await;
    let started = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_secs(50)).await;
        let reply = client.say("NOOP").await;
        if reply.starts_with("421") {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(700), "no deadline");
    }
    assert!(started.elapsed() <= Duration::from_secs(650));
}

mod stopping;
