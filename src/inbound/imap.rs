//! IMAP polling for replies and bounces (`HUNDRED_IMAP_URL`), so a small business can keep
//! its replies in its own mailbox: every `HUNDRED_IMAP_POLL_SECONDS` the poller logs in,
//! reads the messages of one mailbox that arrived since it last read it, and receives each
//! exactly as through `POST /inbound/mime`.
//!
//! It goes by UID, not by the `\Seen` flag: what it has read up to (the mailbox's
//! UIDVALIDITY and the highest UID taken) is kept in the database, so a reply the owner
//! already opened in a mail program is still read, and the poller changes no flags (a new
//! reply stays unread for the owner). The first poll of a mailbox (or after its
//! UIDVALIDITY changed) reads what is unread and what arrived in the last
//! [`FIRST_LOOK_BACK_DAYS`] days, not years of old mail.
//!
//! Nothing is lost: a message counts as read only once it is stored (or known already, by
//! its Message-ID); what the store could not take is read again at the next poll, and so is
//! a message without a Message-ID whose mark could not be kept after it was stored. What is
//! not mail, and what is larger than [`MAX_MESSAGE_BYTES`], is passed with a log line rather
//! than tried forever. Nothing is deleted, moved or flagged: the mailbox stays the
//! business's own.
//!
//! A poll that fails (server down, wrong password, database away) is logged, never with the
//! password, and tried again later, waiting twice as long after each failure in a row.

use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use async_imap::{Client, Session};
use futures::TryStreamExt as _;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::MAX_MESSAGE_BYTES;
use super::receive::{Inbox, ReceiveError};
pub use crate::config::{ImapSettings, ImapTls};
use stream::{ImapStream, tls_connector};

mod stream;

/// How long one IMAP command (or connecting, or the TLS handshake) may take.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);
/// How long storing one message may take before it is left for the next poll.
const STORE_TIMEOUT: Duration = Duration::from_secs(30);
/// The longest wait between two polls after failures (unless the interval is longer).
const MAX_BACKOFF: Duration = Duration::from_secs(15 * 60);
/// Sizes are asked for this many messages at once.
const SIZE_BATCH: usize = 100;
/// How far back the first poll of a mailbox looks for messages already read.
pub const FIRST_LOOK_BACK_DAYS: i64 = 30;

/// Where the poller has read up to in one mailbox: what it read stays read even if the
/// mailbox is renumbered, since then UIDVALIDITY changes and the first-poll rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ReadUpTo {
    validity: u32,
    uid: u32,
}

impl ReadUpTo {
    fn parse(kept: &str) -> Option<Self> {
        let (validity, uid) = kept.split_once(':')?;
        Some(Self {
            validity: validity.parse().ok()?,
            uid: uid.parse().ok()?,
        })
    }

    fn kept(self) -> String {
        format!("{}:{}", self.validity, self.uid)
    }
}

/// IMAP's date for SEARCH SINCE: `26-Nov-2026`.
fn imap_date(date: time::Date) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{}-{}-{}",
        date.day(),
        MONTHS[usize::from(u8::from(date.month())) - 1],
        date.year()
    )
}

/// Reads one mailbox now and then and hands what it finds to the [`Inbox`].
pub struct ImapPoller {
    settings: ImapSettings,
    interval: Duration,
    inbox: Inbox,
    tls: Option<tokio_rustls::TlsConnector>,
}

/// What one poll did.
#[derive(Debug, Default)]
struct Round {
    stored: usize,
    duplicates: usize,
    not_mail: usize,
    too_big: usize,
}

impl ImapPoller {
    /// Fails when TLS is wanted and the system has no CA certificates.
    pub fn new(settings: ImapSettings, interval: Duration, inbox: Inbox) -> anyhow::Result<Self> {
        let tls = match settings.tls {
            ImapTls::None => None,
            ImapTls::Implicit | ImapTls::StartTls => Some(tls_connector()?),
        };
        Ok(Self {
            settings,
            interval,
            inbox,
            tls,
        })
    }

    /// Polls until `stop` is cancelled.
    #[tracing::instrument(name = "imap_poller", skip_all, fields(mailbox = %self.settings))]
    pub async fn run(self, stop: CancellationToken) {
        tracing::info!(
            every_seconds = self.interval.as_secs(),
            "polling the IMAP mailbox for replies and bounces"
        );
        let mut failures: u32 = 0;
        loop {
            match self.poll(&stop).await {
                Ok(round) => {
                    if failures > 0 {
                        tracing::info!("the IMAP mailbox answers again");
                    }
                    failures = 0;
                    if round.stored + round.duplicates + round.not_mail + round.too_big > 0 {
                        tracing::info!(
                            stored = round.stored,
                            already_known = round.duplicates,
                            not_mail = round.not_mail,
                            too_big = round.too_big,
                            "read the new messages of the IMAP mailbox"
                        );
                    }
                }
                Err(err) => {
                    failures = failures.saturating_add(1);
                    tracing::warn!(
                        error = %format!("{err:#}"),
                        failures,
                        retry_in_seconds = backoff(self.interval, failures).as_secs(),
                        "polling the IMAP mailbox failed; what was not read yet is read at the next poll"
                    );
                }
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(backoff(self.interval, failures)) => {}
            }
        }
        tracing::info!("IMAP poller stopped");
    }

    /// One poll: connect, log in, read what is new, log out. A stop while connecting
    /// abandons the poll; once reading, it ends between two messages, never between storing
    /// one and keeping the mark.
    async fn poll(&self, stop: &CancellationToken) -> anyhow::Result<Round> {
        let mut session = tokio::select! {
            () = stop.cancelled() => return Ok(Round::default()),
            session = self.connect() => session?,
        };
        let round = self.read_new(&mut session, stop).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), session.logout()).await;
        round
    }

    async fn connect(&self) -> anyhow::Result<Session<ImapStream>> {
        let settings = &self.settings;
        let address = format!("{}:{}", settings.host, settings.port);
        let tcp = within(
            &format!("connecting to {address}"),
            TcpStream::connect((settings.host.as_str(), settings.port)),
        )
        .await?;
        let _ = tcp.set_nodelay(true);
        let stream = match settings.tls {
            ImapTls::Implicit => self.secure(tcp).await?,
            ImapTls::StartTls | ImapTls::None => ImapStream::Plain(tcp),
        };
        let mut client = Client::new(stream);
        within("reading the server's greeting", async {
            client
                .read_response()
                .await?
                .ok_or_else(|| anyhow!("the server closed the connection"))
        })
        .await?;
        if settings.tls == ImapTls::StartTls {
            within(
                "STARTTLS (for a server without it, use imaps:// or ?tls=none)",
                client.run_command_and_check_ok("STARTTLS", None),
            )
            .await?;
            let ImapStream::Plain(tcp) = client.into_inner() else {
                bail!("STARTTLS on a connection that is already secure");
            };
            client = Client::new(self.secure(tcp).await?);
        }
        within(&format!("logging in as {}", settings.user), async {
            client
                .login(&settings.user, settings.password.expose())
                .await
                .map_err(|(err, _client)| err)
        })
        .await
    }

    async fn secure(&self, tcp: TcpStream) -> anyhow::Result<ImapStream> {
        let connector = self
            .tls
            .as_ref()
            .context("TLS was not set up for this mailbox")?;
        let name = rustls::pki_types::ServerName::try_from(self.settings.host.clone())
            .context("the host is not a valid TLS server name")?;
        let tls = within("the TLS handshake", connector.connect(name, tcp)).await?;
        Ok(ImapStream::Tls(Box::new(tls)))
    }

    /// The database key for this mailbox's mark.
    fn mark_key(&self) -> String {
        let settings = &self.settings;
        format!(
            "imap_read_up_to:{}@{}:{}/{}",
            settings.user, settings.host, settings.port, settings.mailbox
        )
    }

    async fn read_new(
        &self,
        session: &mut Session<ImapStream>,
        stop: &CancellationToken,
    ) -> anyhow::Result<Round> {
        let mailbox = &self.settings.mailbox;
        let opened = within(
            &format!("opening the mailbox {mailbox}"),
            session.select(mailbox),
        )
        .await?;
        let validity = opened.uid_validity.unwrap_or(0);
        let key = self.mark_key();
        let mark = self
            .inbox
            .store()
            .setting(&key)
            .await?
            .as_deref()
            .and_then(ReadUpTo::parse)
            .filter(|mark| mark.validity == validity);
        let query = match mark {
            Some(mark) => format!("UID {}:* UNDELETED", mark.uid.saturating_add(1)),
            None => {
                let since = time::OffsetDateTime::now_utc().date()
                    - time::Duration::days(FIRST_LOOK_BACK_DAYS);
                format!("UNDELETED OR UNSEEN SINCE {}", imap_date(since))
            }
        };
        let read_up_to = mark.map_or(0, |mark| mark.uid);
        // `n:*` names the last message even when its UID is below n.
        let mut new: Vec<u32> = within("searching for new messages", session.uid_search(&query))
            .await?
            .into_iter()
            .filter(|uid| *uid > read_up_to)
            .collect();
        new.sort_unstable();
        let mut round = Round::default();
        let mut kept = read_up_to;
        for batch in new.chunks(SIZE_BATCH) {
            let sizes: Vec<(u32, u32)> = within("asking for message sizes", async {
                session
                    .uid_fetch(uid_set(batch), "(UID RFC822.SIZE)")
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?
            .iter()
            .filter_map(|fetch| Some((fetch.uid?, fetch.size?)))
            .collect();
            for &uid in batch {
                if stop.is_cancelled() {
                    return Ok(round);
                }
                // Gone since the search (deleted by someone else): nothing to read.
                if let Some(&(_, size)) = sizes.iter().find(|(id, _)| *id == uid) {
                    self.read_one(session, uid, size, &mut round).await?;
                }
                // The first poll keeps its mark only at its end: stopped part way, the next
                // poll is a first poll again (what it read is known by its Message-ID),
                // rather than a poll from here that would take in the old mail left out.
                if mark.is_some() {
                    self.keep_mark(&key, ReadUpTo { validity, uid }).await?;
                    kept = uid;
                }
            }
        }
        // Everything below UIDNEXT that is not read now is older mail the first poll left,
        // or deleted: from now on only what arrives after this poll is new.
        let last = opened
            .uid_next
            .map(|next| next.saturating_sub(1))
            .unwrap_or(0)
            .max(new.last().copied().unwrap_or(0));
        if last > kept {
            self.keep_mark(
                &key,
                ReadUpTo {
                    validity,
                    uid: last,
                },
            )
            .await?;
        }
        Ok(round)
    }

    /// Keeps the mark, never moving it back (another instance polling the same mailbox
    /// may have read further).
    async fn keep_mark(&self, key: &str, mark: ReadUpTo) -> anyhow::Result<()> {
        let kept = self.inbox.store().setting(key).await?;
        if kept
            .as_deref()
            .and_then(ReadUpTo::parse)
            .is_some_and(|kept| kept.validity == mark.validity && kept.uid >= mark.uid)
        {
            return Ok(());
        }
        self.inbox
            .store()
            .put_setting(key, &mark.kept())
            .await
            .context("keeping what the IMAP poller has read")
    }

    /// Receives one message, or fails when it could not be stored (the error ends this
    /// poll, and the message is read again at the next).
    async fn read_one(
        &self,
        session: &mut Session<ImapStream>,
        uid: u32,
        size: u32,
        round: &mut Round,
    ) -> anyhow::Result<()> {
        let limit = MAX_MESSAGE_BYTES;
        let raw = if usize::try_from(size).map_or(true, |size| size > limit) {
            None
        } else {
            // At most one byte over the limit is fetched, whatever the size said.
            let fetched = within(&format!("fetching message UID {uid}"), async {
                session
                    .uid_fetch(
                        uid.to_string(),
                        format!("(UID BODY.PEEK[]<0.{}>)", limit + 1),
                    )
                    .await?
                    .try_collect::<Vec<_>>()
                    .await
            })
            .await?;
            // No body (the server had it a moment ago): tried again at the next poll, where a
            // message deleted meanwhile is no longer found at all.
            let raw = fetched
                .iter()
                .find(|fetch| fetch.uid == Some(uid))
                .and_then(|fetch| fetch.body())
                .map(<[u8]>::to_vec)
                .ok_or_else(|| {
                    anyhow!(
                        "message UID {uid} came without its body; it is read again at the next poll"
                    )
                })?;
            (raw.len() <= limit).then_some(raw)
        };
        let Some(raw) = raw else {
            tracing::warn!(
                uid,
                bytes = size,
                limit,
                "an IMAP message is larger than the inbound limit; passed, and left in the mailbox"
            );
            round.too_big += 1;
            return Ok(());
        };
        // On its own task, so a slow store is never cut off inside its transaction: past the
        // timeout the poll ends, the store still finishes, and the next poll finds the
        // message known by its Message-ID (or stores it then).
        let inbox = self.inbox.clone();
        let storing = tokio::spawn(async move { inbox.receive(&raw).await });
        let received = tokio::time::timeout(STORE_TIMEOUT, storing)
            .await
            .map_err(|_| {
                anyhow!(
                    "storing message UID {uid} took over {}s; it is read again at the next poll",
                    STORE_TIMEOUT.as_secs()
                )
            })?
            .map_err(|err| {
                anyhow!(
                    "storing message UID {uid} failed: {err}; it is read again at the next poll"
                )
            })?;
        match received {
            Ok(received) if received.duplicate => round.duplicates += 1,
            Ok(_) => round.stored += 1,
            Err(ReceiveError::NotMail(reason)) => {
                tracing::warn!(
                    uid,
                    %reason,
                    "an IMAP message is not mail; passed, and left in the mailbox"
                );
                round.not_mail += 1;
            }
            Err(ReceiveError::Store(err)) => {
                return Err(err.context(format!(
                    "storing message UID {uid}; it is read again at the next poll"
                )));
            }
        }
        Ok(())
    }
}

/// The wait before the next poll: the interval, doubled for each failure in a row after the
/// first, up to a cap (or the interval, if that is longer).
fn backoff(interval: Duration, failures: u32) -> Duration {
    let doubled = interval.saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(16)));
    doubled.min(MAX_BACKOFF.max(interval))
}

/// `1,5,9`: a UID set for one command.
fn uid_set(uids: &[u32]) -> String {
    uids.iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Runs one step with a time limit, saying which step failed.
async fn within<T, E>(step: &str, work: impl Future<Output = Result<T, E>>) -> anyhow::Result<T>
where
    E: Into<anyhow::Error>,
{
    match tokio::time::timeout(COMMAND_TIMEOUT, work).await {
        Ok(done) => done.map_err(Into::into).context(step.to_string()),
        Err(_) => Err(anyhow!(
            "{step}: no answer within {}s",
            COMMAND_TIMEOUT.as_secs()
        )),
    }
}

#[cfg(test)]
mod tests;
