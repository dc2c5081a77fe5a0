//! Receiving one inbound message, from whichever door it came through (the webhook, the
//! SMTP listener, IMAP): read it, find what it answers, store it once, and apply it (a hard
//! bounce or a complaint stops all mail to that subscriber).
//!
//! Matching, in order: a signed token in a recipient address (`local+TOKEN@domain`, the
//! reply or bounce address of one copy), then the Message-IDs it refers to (In-Reply-To
//! and References; for a bounce or complaint, the returned message's own Message-ID), then
//! an address (a bounce's failed recipient; a reply's sender). What cannot be matched is
//! kept, unmatched, never dropped.
//!
//! Only our own mail changes a subscriber: a token or one of our Message-IDs proves the
//! message answers a copy we sent. Anyone can write an address, so a bounce or complaint
//! matched by an address alone waits for the owner ("Needs review"), and a reply matched by
//! its From address alone is kept as unverified and counts for nothing, unless a receiving
//! server the owner trusts vouches for the sender (`Authentication-Results`).

use uuid::Uuid;

use super::{InboundKind, InboundMessage, authentication, headers, parse};
use crate::domain::SubscriberEmail;
use crate::signing::{Signer, TokenPurpose};
use crate::store::{InboundOutcome, Match, NewInbound, Store, Timestamp};

/// What receiving a message did, for the caller (and the webhook's answer).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Received {
    /// The stored message's number (what `/api/v1/inbound/{id}/…` takes); `null` for a
    /// duplicate.
    pub id: Option<i64>,
    /// reply, auto_reply, hard_bounce, soft_bounce or complaint.
    pub kind: &'static str,
    pub subscriber_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    /// How it was matched; `None`: kept unmatched.
    pub matched_by: Option<&'static str>,
    /// What ties it to the subscriber beyond an address anyone could write: `token`,
    /// `message-id` or `authentication`; `None`: nothing does, so it changes nothing
    /// (a reply is kept as unverified, a bounce or complaint waits for the owner).
    pub proof: Option<&'static str>,
    /// The same Message-ID was received before; nothing new was stored.
    pub duplicate: bool,
    /// `bounced` or `complained` when this message stopped mail to the subscriber.
    pub suppressed: Option<&'static str>,
    /// `pending` when it would stop mail to a subscriber but is tied to them by an address
    /// only: it waits for the owner ("Needs review").
    pub review: Option<&'static str>,
    /// The further recipients a failure notice names, each stored and judged on its own.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub others: Vec<ReceivedRecipient>,
}

/// One further recipient of a failure notice naming several.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReceivedRecipient {
    pub id: Option<i64>,
    pub kind: &'static str,
    pub subscriber_id: Option<Uuid>,
    pub review: Option<&'static str>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("not an email message: {0}")]
    NotMail(String),
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// Where inbound mail is taken in, whichever door it came through: the store, the key
/// that signs reply and bounce tokens, and the owner's trusted receiving server.
#[derive(Clone)]
pub struct Inbox {
    store: Store,
    signer: Signer,
    trusted_authserv_id: Option<std::sync::Arc<str>>,
}

impl Inbox {
    pub fn new(store: Store, signer: Signer, trusted_authserv_id: Option<String>) -> Self {
        Self {
            store,
            signer,
            trusted_authserv_id: trusted_authserv_id.map(Into::into),
        }
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Reads, matches, stores and applies one raw message (see [`receive`]).
    pub async fn receive(&self, raw: &[u8]) -> Result<Received, ReceiveError> {
        self.receive_delivered(raw, &[]).await
    }

    /// Like [`Inbox::receive`], for a message whose envelope named these recipients (the
    /// SMTP listener's `RCPT TO`): a bounce sent to our VERP address carries its token
    /// there, whatever its headers say.
    pub async fn receive_delivered(
        &self,
        raw: &[u8],
        envelope: &[String],
    ) -> Result<Received, ReceiveError> {
        receive(
            &self.store,
            &self.signer,
            self.trusted_authserv_id.as_deref(),
            raw,
            envelope,
        )
        .await
    }
}

/// Reads, matches and stores one message. `trusted_authserv_id` is the authserv-id of the
/// owner's receiving server (`HUNDRED_TRUSTED_AUTHSERV_ID`), whose DKIM or DMARC pass
/// verifies a reply matched by its From address alone.
pub async fn receive(
    store: &Store,
    signer: &Signer,
    trusted_authserv_id: Option<&str>,
    raw: &[u8],
    envelope: &[String],
) -> Result<Received, ReceiveError> {
    let mut message = parse(raw).map_err(|err| ReceiveError::NotMail(err.to_string()))?;
    // The envelope's recipients first: what the sending server was told, not what the
    // message's writer put in its headers.
    let delivered: Vec<String> = envelope
        .iter()
        .filter_map(|address| headers::normalize_address(address.trim_matches(['<', '>'])))
        .filter(|address| !message.recipients.contains(address))
        .collect();
    message.recipients.splice(0..0, delivered);
    let matched = find_match(store, signer, &message).await?;
    let mut proof = proof_of(matched.matched_by);
    if proof.is_none()
        && matches!(message.kind, InboundKind::Reply { .. })
        && matched.subscriber_id.is_some()
        && let (Some(trusted), Some(from)) = (trusted_authserv_id, message.from.as_deref())
        && let Some(how) =
            authentication::sender_verified(&message.authentication_results, trusted, from)
    {
        proof = Some("authentication");
        tracing::debug!(how, "a reply's sender was verified by the trusted server");
    }
    let record = to_record(&message, matched.clone(), proof);
    let outcome = store.record_inbound(&record).await?;
    let duplicate = outcome == InboundOutcome::Duplicate;
    if !duplicate {
        tracing::info!(
            kind = record.kind,
            matched_by = matched.matched_by.unwrap_or("nothing"),
            proof = proof.unwrap_or("none"),
            "inbound message received"
        );
    }
    let others = if duplicate {
        Vec::new()
    } else {
        receive_others(store, &message, &record).await?
    };
    Ok(Received {
        id: outcome.id(),
        kind: record.kind,
        subscriber_id: matched.subscriber_id,
        campaign_id: matched.campaign_id,
        matched_by: matched.matched_by,
        proof,
        duplicate,
        suppressed: match outcome {
            InboundOutcome::Suppressed(_, status) => Some(status),
            _ => None,
        },
        review: matches!(outcome, InboundOutcome::NeedsReview(_)).then_some("pending"),
        others,
    })
}

/// What a match by this route proves: a signed token or one of our Message-IDs ties the
/// message to a copy we sent; an address alone proves nothing.
fn proof_of(matched_by: Option<&'static str>) -> Option<&'static str> {
    match matched_by? {
        "reply token" | "bounce token" => Some("token"),
        "In-Reply-To" | "returned Message-ID" => Some("message-id"),
        _ => None,
    }
}

/// Stores the further recipients of a notice naming several, one row each, matched by
/// their address (so each waits for the owner before it changes anything).
async fn receive_others(
    store: &Store,
    message: &InboundMessage,
    first: &NewInbound,
) -> anyhow::Result<Vec<ReceivedRecipient>> {
    let InboundKind::Bounce { others, .. } = &message.kind else {
        return Ok(Vec::new());
    };
    let mut received = Vec::with_capacity(others.len());
    for other in others {
        let subscriber = match SubscriberEmail::parse(&other.recipient) {
            Ok(email) => store.subscriber_id_by_email_key(&email.key()).await?,
            Err(_) => None,
        };
        let record = NewInbound {
            kind: if other.hard {
                "hard_bounce"
            } else {
                "soft_bounce"
            },
            matched: Match {
                subscriber_id: subscriber,
                matched_by: subscriber.map(|_| "recipient address"),
                ..Match::default()
            },
            // The first row holds the notice's Message-ID (and so its duplicate check).
            message_id: None,
            proof: None,
            text: other.diagnostic.clone(),
            status: other.status.clone(),
            ..first.clone()
        };
        let outcome = store.record_inbound(&record).await?;
        received.push(ReceivedRecipient {
            id: outcome.id(),
            kind: record.kind,
            subscriber_id: subscriber,
            review: matches!(outcome, InboundOutcome::NeedsReview(_)).then_some("pending"),
        });
    }
    Ok(received)
}

fn kind_name(kind: &InboundKind) -> &'static str {
    match kind {
        InboundKind::Reply { .. } => "reply",
        InboundKind::AutoReply { .. } => "auto_reply",
        InboundKind::Bounce { hard: true, .. } => "hard_bounce",
        InboundKind::Bounce { hard: false, .. } => "soft_bounce",
        InboundKind::Complaint { .. } => "complaint",
    }
}

async fn find_match(
    store: &Store,
    signer: &Signer,
    message: &InboundMessage,
) -> anyhow::Result<Match> {
    // 1. A signed token in a recipient address names the very copy.
    for address in &message.recipients {
        let Some(token) = address_token(address) else {
            continue;
        };
        for (purpose, how) in [
            (TokenPurpose::Reply, "reply token"),
            (TokenPurpose::Bounce, "bounce token"),
        ] {
            if let Ok(id) = signer.verify_address_token(purpose, token) {
                let found = store.match_message(id).await?;
                if found.subscriber_id.is_some() || found.delivery_id.is_some() {
                    return Ok(Match {
                        matched_by: Some(how),
                        ..found
                    });
                }
            }
        }
    }
    // 2. The Message-IDs it refers to.
    let (returned_id, failed_address) = match &message.kind {
        InboundKind::Bounce {
            original_message_id,
            recipient,
            ..
        }
        | InboundKind::Complaint {
            original_message_id,
            recipient,
            ..
        } => (original_message_id.clone(), recipient.clone()),
        _ => (None, None),
    };
    if let Some(id) = returned_id {
        let found = store.match_message_ids(&[id]).await?;
        if found.delivery_id.is_some() {
            return Ok(Match {
                matched_by: Some("returned Message-ID"),
                ..found
            });
        }
    }
    let referred: Vec<String> = message
        .in_reply_to
        .iter()
        .chain(message.references.iter().rev())
        .cloned()
        .collect();
    let found = store.match_message_ids(&referred).await?;
    if found.delivery_id.is_some() {
        return Ok(Match {
            matched_by: Some("In-Reply-To"),
            ..found
        });
    }
    // 3. An address: a bounce's failed recipient, or a reply's sender. (A bounce's or a
    //    complaint's From is the mail system that sent it, never the subscriber.)
    let (address, how) = match &message.kind {
        InboundKind::Bounce { .. } | InboundKind::Complaint { .. } => {
            (failed_address, "recipient address")
        }
        _ => (message.from.clone(), "From address"),
    };
    if let Some(address) = address
        && let Ok(email) = SubscriberEmail::parse(&address)
        && let Some(subscriber) = store.subscriber_id_by_email_key(&email.key()).await?
    {
        return Ok(Match {
            subscriber_id: Some(subscriber),
            matched_by: Some(how),
            ..Match::default()
        });
    }
    Ok(Match::default())
}

/// The `TOKEN` of `local+TOKEN@domain`.
fn address_token(address: &str) -> Option<&str> {
    let local = address.rsplit_once('@')?.0;
    let token = local.rsplit_once('+')?.1;
    (!token.is_empty()).then_some(token)
}

fn to_record(message: &InboundMessage, matched: Match, proof: Option<&'static str>) -> NewInbound {
    let (text, status, detail) = match &message.kind {
        InboundKind::Reply { text } => (Some(text.clone()), None, None),
        InboundKind::AutoReply { reason } => (None, None, Some(reason.clone())),
        InboundKind::Bounce {
            status, diagnostic, ..
        } => (diagnostic.clone(), status.clone(), None),
        InboundKind::Complaint { feedback_type, .. } => (None, None, feedback_type.clone()),
    };
    NewInbound {
        kind: kind_name(&message.kind),
        matched,
        proof,
        message_id: message.message_id.clone(),
        references: message.references.clone(),
        from_address: message.from.clone(),
        subject: message.subject.clone(),
        sent_at: message.date.map(Timestamp::from),
        text,
        status,
        detail,
        received_at: Timestamp::now(),
    }
}

#[cfg(test)]
mod tests {
    use super::address_token;

    #[test]
    fn finds_the_token_of_a_tagged_address() {
        assert_eq!(address_token("replies+abc123@news.example"), Some("abc123"));
        assert_eq!(address_token("a+b+tok@x.example"), Some("tok"));
        assert_eq!(address_token("plain@x.example"), None);
        assert_eq!(address_token("trailing+@x.example"), None);
        assert_eq!(address_token("no-at-sign+tok"), None);
    }
}
