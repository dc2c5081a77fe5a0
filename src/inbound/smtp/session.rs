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

use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, sleep_until, timeout};
use tokio_util::sync::CancellationToken;

use super::clients::Ticket;
use super::commands::{self, Conversation, Step, one_line};
use super::tls::InboundTls;
use super::wire::{Data, DataReader, Line, LineReader};
use super::{MessageSink, Settings, Stored};

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
                Event::Line(line) => {
                    commands::answer(&self.settings, self.tls.is_some(), &line, &mut talk)
                }
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
                    let recipients = talk.transaction.take().unwrap_or_default();
                    if !self
                        .send(&mut io, "354 End data with <CR><LF>.<CR><LF>\r\n")
                        .await
                    {
                        return Ended::Closed;
                    }
                    match self.data(&mut io, recipients).await {
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

    /// Reads one message's data after 354, and stores it with its envelope recipients.
    async fn data<S>(&self, io: &mut BufReader<S>, recipients: Vec<String>) -> Answer
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
            Data::Message(message) => self.store(message, recipients, room).await,
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
    async fn store(
        &self,
        message: Vec<u8>,
        recipients: Vec<String>,
        room: Option<OwnedSemaphorePermit>,
    ) -> Answer {
        let sink = self.sink.clone();
        let storing = tokio::spawn(async move {
            let _room = room;
            sink.store(message, recipients).await
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
