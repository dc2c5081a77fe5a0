//! One SMTP conversation, on any byte stream (a TCP connection, the same after STARTTLS, or
//! bytes in memory for the tests and the fuzzer): greet, read capped command lines, answer
//! them (the grammar is `smtp-proto`'s), take the data of each message and hand it to a
//! [`MessageSink`], answering 250 only once it is stored.
//!
//! Every wait is bounded: a command must arrive within the command time, message data may
//! not stall that long, the whole session has a deadline, and storing has its own limit.
//! Between messages a stop of the listener ends the session at once (421); a message under
//! way is finished first, unless the grace period runs out.

use std::sync::Arc;
use std::time::Duration;

use futures::future::BoxFuture;
use smtp_proto::Request;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;

use super::clients::Ticket;
use super::tls::InboundTls;
use super::wire::{Data, DataReader, Line, LineReader};

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
    /// Lowercased domains mail is taken for; empty: any.
    pub domains: Vec<String>,
    pub limits: Limits,
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

/// Where a session hands each message it received.
pub trait MessageSink: Send + Sync + 'static {
    fn store(&self, message: Vec<u8>) -> BoxFuture<'static, Stored>;
}

/// How a conversation on one stream ended.
enum Ended<S> {
    Closed,
    /// The client asked for TLS and was told to go ahead: here is the stream for it, with
    /// anything it sent after STARTTLS in plain text dropped.
    StartTls(S),
}

enum Event {
    Line(Vec<u8>),
    TooLong,
    Closed,
    /// The session ends with this reply.
    End(String),
}

/// The answer to a message's data.
enum Answer {
    Reply(String),
    /// The session ends with this reply.
    Last(String),
    /// The client is gone.
    Gone,
}

enum Step {
    Reply(String),
    Quit,
    StartTls,
    Data,
}

/// Where one conversation stands; STARTTLS starts a new one (RFC 3207).
#[derive(Default)]
struct Conversation {
    secure: bool,
    greeted: bool,
    /// Recipients taken so far, once MAIL FROM was.
    transaction: Option<usize>,
    bad_in_a_row: u32,
}

/// How long a last reply (421, 221) may take to write before the connection is dropped.
const LAST_WORDS: Duration = Duration::from_secs(1);
/// How the memory for message data is counted out: 1 KiB a permit, 64 KiB at a time.
const KIB: usize = 1024;
const ROOM_STEP_KIB: usize = 64;

/// One client's session.
pub struct Session {
    settings: Arc<Settings>,
    sink: Arc<dyn MessageSink>,
    memory: Arc<Semaphore>,
    tls: Option<InboundTls>,
    stop: CancellationToken,
    hard_stop: CancellationToken,
    evict: CancellationToken,
    ticket: Option<Ticket>,
    deadline: Instant,
}

impl Session {
    /// A session of its own, with no listener around it (tests, the fuzzer).
    pub fn new(settings: Arc<Settings>, sink: Arc<dyn MessageSink>) -> Self {
        let memory = Arc::new(Semaphore::new(settings.limits.message_memory / KIB));
        Self::on_listener(
            settings,
            sink,
            memory,
            None,
            (CancellationToken::new(), CancellationToken::new()),
            None,
        )
    }

    /// A session of the listener: its shared memory for messages, its certificate, its
    /// stop (between messages) and hard stop (end of the grace period), and the place the
    /// client holds.
    pub(super) fn on_listener(
        settings: Arc<Settings>,
        sink: Arc<dyn MessageSink>,
        memory: Arc<Semaphore>,
        tls: Option<InboundTls>,
        (stop, hard_stop): (CancellationToken, CancellationToken),
        ticket: Option<Ticket>,
    ) -> Self {
        let deadline = Instant::now() + settings.limits.session_time;
        let evict = ticket
            .as_ref()
            .map_or_else(CancellationToken::new, |ticket| ticket.evict.clone());
        Self {
            settings,
            sink,
            memory,
            tls,
            stop,
            hard_stop,
            evict,
            ticket,
            deadline,
        }
    }

    /// Runs the session to its end, through STARTTLS if the client asks for it.
    pub async fn run<S>(self, stream: S)
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let Ended::StartTls(stream) = self.converse(stream, false).await else {
            return;
        };
        let Some(acceptor) = self.tls.as_ref().map(InboundTls::acceptor) else {
            return;
        };
        let deadline = self
            .deadline
            .min(Instant::now() + self.settings.limits.command_time);
        let handshake = tokio::select! {
            biased;
            _ = self.hard_stop.cancelled() => return,
            _ = sleep_until(deadline) => return,
            handshake = acceptor.accept(stream) => handshake,
        };
        match handshake {
            Ok(stream) => {
                self.converse(stream, true).await;
            }
            Err(err) => tracing::debug!(error = %err, "inbound SMTP: TLS handshake failed"),
        }
    }

    async fn converse<S>(&self, stream: S, secure: bool) -> Ended<S>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        let name = &self.settings.server_name;
        let mut io = BufReader::with_capacity(8 * KIB, stream);
        let mut lines = LineReader::new(self.settings.limits.line_bytes);
        let mut talk = Conversation {
            secure,
            ..Conversation::default()
        };
        // After TLS the client speaks first (EHLO again).
        if !secure
            && !self
                .send(&mut io, &format!("220 {name} ESMTP hundred\r\n"))
                .await
        {
            return Ended::Closed;
        }
        loop {
            let step = match self
                .next_command(&mut io, &mut lines, talk.transaction.is_some())
                .await
            {
                Event::Line(line) => self.command(&line, &mut talk),
                Event::TooLong => Step::Reply("500 5.5.2 Line too long\r\n".into()),
                Event::Closed => return Ended::Closed,
                Event::End(reply) => {
                    self.send_last(&mut io, &reply).await;
                    return Ended::Closed;
                }
            };
            let reply = match step {
                Step::Reply(reply) => reply,
                Step::Quit => {
                    self.send_last(&mut io, &format!("221 2.0.0 {name} closing\r\n"))
                        .await;
                    return Ended::Closed;
                }
                Step::StartTls => {
                    if !self.send(&mut io, "220 2.0.0 Ready to start TLS\r\n").await {
                        return Ended::Closed;
                    }
                    return Ended::StartTls(io.into_inner());
                }
                Step::Data => {
                    talk.transaction = None;
                    if !self
                        .send(&mut io, "354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await
                    {
                        return Ended::Closed;
                    }
                    match self.data(&mut io).await {
                        Answer::Reply(reply) => reply,
                        Answer::Last(reply) => {
                            self.send_last(&mut io, &reply).await;
                            return Ended::Closed;
                        }
                        Answer::Gone => return Ended::Closed,
                    }
                }
            };
            // Every refusal counts: unknown commands, bad syntax, foreign recipients alike.
            talk.bad_in_a_row = if reply.starts_with('5') {
                talk.bad_in_a_row + 1
            } else {
                0
            };
            if !self.send(&mut io, &reply).await {
                return Ended::Closed;
            }
            if talk.bad_in_a_row >= self.settings.limits.bad_commands {
                self.send_last(
                    &mut io,
                    &format!("421 4.7.0 {name} Too many errors, closing\r\n"),
                )
                .await;
                return Ended::Closed;
            }
        }
    }

    /// Waits for the next command line, or for a reason to end the session.
    async fn next_command<S>(
        &self,
        io: &mut BufReader<S>,
        lines: &mut LineReader,
        in_transaction: bool,
    ) -> Event
    where
        S: AsyncRead + Unpin,
    {
        let name = &self.settings.server_name;
        let now = Instant::now();
        let deadline = self.deadline.min(now + self.settings.limits.command_time);
        self.waiting(Some(now));
        let event = tokio::select! {
            biased;
            _ = self.hard_stop.cancelled() => Event::End(self.shutting_down()),
            _ = self.stop.cancelled(), if !in_transaction => Event::End(self.shutting_down()),
            _ = self.evict.cancelled() => Event::End(format!(
                "421 4.7.0 {name} Too many connections, closing this idle one\r\n"
            )),
            _ = sleep_until(deadline) => Event::End(format!(
                "421 4.4.2 {name} Timeout waiting for a command, closing\r\n"
            )),
            line = lines.next(io) => match line {
                Ok(Line::Complete(line)) => Event::Line(line),
                Ok(Line::TooLong) => Event::TooLong,
                Ok(Line::Closed) | Err(_) => Event::Closed,
            },
        };
        self.waiting(None);
        event
    }

    fn waiting(&self, since: Option<Instant>) {
        if let Some(ticket) = &self.ticket {
            ticket.waiting(since.map(Instant::into_std));
        }
    }

    fn shutting_down(&self) -> String {
        format!(
            "421 4.3.2 {} Shutting down, try again later\r\n",
            self.settings.server_name
        )
    }

    /// Answers one command line.
    fn command(&self, line: &[u8], talk: &mut Conversation) -> Step {
        let limits = &self.settings.limits;
        let request = match Request::parse(&mut line.iter()) {
            Ok(request) => request,
            Err(err) => return Step::Reply(parse_error(err)),
        };
        let reply = match request {
            Request::Ehlo { .. } => {
                *talk = Conversation {
                    secure: talk.secure,
                    greeted: true,
                    ..Conversation::default()
                };
                return Step::Reply(self.ehlo(talk.secure));
            }
            Request::Helo { .. } => {
                talk.greeted = true;
                talk.transaction = None;
                return Step::Reply(format!("250 {}\r\n", self.settings.server_name));
            }
            Request::Mail { from } => {
                if !talk.greeted {
                    "503 5.5.1 Say EHLO first\r\n"
                } else if talk.transaction.is_some() {
                    "503 5.5.1 Sender already given\r\n"
                } else if from.size > limits.message_bytes {
                    "552 5.3.4 Message size exceeds the limit of this server\r\n"
                } else {
                    talk.transaction = Some(0);
                    "250 2.1.0 OK\r\n"
                }
            }
            Request::Rcpt { to } => match &mut talk.transaction {
                None => "503 5.5.1 MAIL FROM first\r\n",
                Some(count) if *count >= limits.recipients => "452 4.5.3 Too many recipients\r\n",
                Some(count) => {
                    if self.takes(&to.address) {
                        *count += 1;
                        "250 2.1.5 OK\r\n"
                    } else {
                        "550 5.7.1 This server only takes replies for its own list\r\n"
                    }
                }
            },
            Request::Data => match talk.transaction {
                None => "503 5.5.1 MAIL FROM first\r\n",
                Some(0) => "503 5.5.1 No valid recipients\r\n",
                Some(_) => return Step::Data,
            },
            Request::Rset => {
                talk.transaction = None;
                "250 2.0.0 OK\r\n"
            }
            Request::Noop { .. } => "250 2.0.0 OK\r\n",
            Request::Quit => return Step::Quit,
            Request::Help { .. } => {
                "214 2.0.0 This server takes replies and bounces for its list: EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT\r\n"
            }
            Request::Vrfy { .. } => {
                "252 2.5.2 Cannot verify the address, but will take mail for this list\r\n"
            }
            Request::StartTls if talk.secure => "503 5.5.1 TLS is already on\r\n",
            Request::StartTls if self.tls.is_none() => "502 5.5.1 TLS is not offered here\r\n",
            Request::StartTls => return Step::StartTls,
            Request::Lhlo { .. }
            | Request::Bdat { .. }
            | Request::Auth { .. }
            | Request::Expn { .. }
            | Request::Etrn { .. }
            | Request::Atrn { .. }
            | Request::Burl { .. } => "502 5.5.1 Command not implemented\r\n",
        };
        Step::Reply(reply.into())
    }

    fn ehlo(&self, secure: bool) -> String {
        let mut lines = vec![
            self.settings.server_name.clone(),
            format!("SIZE {}", self.settings.limits.message_bytes),
            "8BITMIME".into(),
            "PIPELINING".into(),
        ];
        if self.tls.is_some() && !secure {
            lines.push("STARTTLS".into());
        }
        lines.push("ENHANCEDSTATUSCODES".into());
        let last = lines.len() - 1;
        lines
            .iter()
            .enumerate()
            .map(|(i, line)| format!("250{}{line}\r\n", if i == last { ' ' } else { '-' }))
            .collect()
    }

    /// Mail is taken for the listener's domains only: it never relays.
    fn takes(&self, address: &str) -> bool {
        let Some((_, domain)) = address.rsplit_once('@') else {
            return false;
        };
        let domains = &self.settings.domains;
        domains.is_empty() || domains.contains(&domain.to_ascii_lowercase())
    }

    /// Reads one message's data after 354, and stores it.
    async fn data<S>(&self, io: &mut BufReader<S>) -> Answer
    where
        S: AsyncRead + Unpin,
    {
        let limits = &self.settings.limits;
        let mut data = DataReader::new(limits.message_bytes);
        let mut room = None;
        loop {
            let deadline = self.deadline.min(Instant::now() + limits.command_time);
            let filled = tokio::select! {
                biased;
                _ = self.hard_stop.cancelled() => return Answer::Last(self.shutting_down()),
                _ = sleep_until(deadline) => return Answer::Last(format!(
                    "421 4.4.2 {} Timeout reading the message, closing\r\n",
                    self.settings.server_name
                )),
                filled = io.fill_buf() => filled,
            };
            let (used, ended) = match filled {
                Ok(bytes) if !bytes.is_empty() => data.feed(bytes),
                _ => return Answer::Gone,
            };
            io.consume(used);
            if !self.make_room(&mut room, data.kept()) {
                data.no_room();
            }
            if ended {
                break;
            }
        }
        match data.finish() {
            Data::TooBig => Answer::Reply("552 5.3.4 Message too big for this server\r\n".into()),
            Data::NoRoom => {
                Answer::Reply("452 4.3.1 Too many messages at once, try again later\r\n".into())
            }
            Data::Message(message) => self.store(message, room).await,
        }
    }

    /// Counts `kept` bytes against the memory all sessions share; false when there is none
    /// left (what was held is given back).
    fn make_room(&self, room: &mut Option<OwnedSemaphorePermit>, kept: usize) -> bool {
        let held = room.as_ref().map_or(0, OwnedSemaphorePermit::num_permits);
        let needed = kept.div_ceil(KIB);
        if needed <= held {
            return true;
        }
        let more = u32::try_from((needed - held).max(ROOM_STEP_KIB)).unwrap_or(u32::MAX);
        match self.memory.clone().try_acquire_many_owned(more) {
            Ok(permit) => {
                match room {
                    Some(held) => held.merge(permit),
                    None => *room = Some(permit),
                }
                true
            }
            Err(_) => {
                *room = None;
                false
            }
        }
    }

    /// Stores on a task of its own, so a client hanging up cannot cut a store half-way.
    async fn store(&self, message: Vec<u8>, room: Option<OwnedSemaphorePermit>) -> Answer {
        let sink = self.sink.clone();
        let storing = tokio::spawn(async move {
            let _room = room;
            sink.store(message).await
        });
        let stored = tokio::select! {
            biased;
            _ = self.hard_stop.cancelled() => return Answer::Last(self.shutting_down()),
            stored = timeout(self.settings.limits.store_time, storing) => stored,
        };
        Answer::Reply(match stored {
            Ok(Ok(Stored::Kept)) => "250 2.0.0 Stored, thank you\r\n".into(),
            Ok(Ok(Stored::NotMail(reason))) => {
                format!("550 5.6.0 Not a message: {}\r\n", one_line(&reason))
            }
            Ok(Ok(Stored::Failed) | Err(_)) => {
                "451 4.3.0 Could not store the message, try again later\r\n".into()
            }
            Err(_) => "451 4.3.0 Storing took too long, try again later\r\n".into(),
        })
    }

    /// Writes a reply; false when the connection is gone, too slow, or the grace is over.
    async fn send<S: AsyncWrite + Unpin>(&self, io: &mut S, reply: &str) -> bool {
        tokio::select! {
            biased;
            _ = self.hard_stop.cancelled() => false,
            written = timeout(self.settings.limits.command_time, write(io, reply)) => {
                matches!(written, Ok(Ok(())))
            }
        }
    }

    /// Writes a last reply, briefly: the session ends whether it got out or not.
    async fn send_last<S: AsyncWrite + Unpin>(&self, io: &mut S, reply: &str) {
        let _ = timeout(LAST_WORDS, async {
            write(io, reply).await?;
            io.shutdown().await
        })
        .await;
    }
}

async fn write<S: AsyncWrite + Unpin>(io: &mut S, reply: &str) -> std::io::Result<()> {
    io.write_all(reply.as_bytes()).await?;
    io.flush().await
}

fn parse_error(err: smtp_proto::Error) -> String {
    use smtp_proto::Error;
    match err {
        Error::UnknownCommand => "500 5.5.2 Command not recognized\r\n".into(),
        Error::InvalidSenderAddress => "501 5.1.7 Bad sender address syntax\r\n".into(),
        Error::InvalidRecipientAddress => "501 5.1.3 Bad recipient address syntax\r\n".into(),
        Error::SyntaxError { syntax } => format!("501 5.5.4 Syntax: {}\r\n", one_line(syntax)),
        Error::InvalidParameter { param } => {
            format!("501 5.5.4 Invalid parameter {}\r\n", one_line(param))
        }
        Error::UnsupportedParameter { .. } => "555 5.5.4 Unsupported parameter\r\n".into(),
        _ => "500 5.5.2 Syntax error\r\n".into(),
    }
}

/// Text for a reply line: printable ASCII only, so nothing can end the line early.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(200)
        .collect()
}
