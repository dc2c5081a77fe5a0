//! Receiving one inbound message, from whichever door it came through (the webhook, the
//! SMTP listener, IMAP): read it, find what it answers, store it once, and apply it (a hard
//! bounce or a complaint stops all mail to that subscriber).
//!
//! Matching, in order: a signed token in a recipient address (`local+TOKEN@domain`, the
//! reply or bounce address of one copy), then the Message-IDs it refers to (In-Reply-To
//! and References; for a bounce or complaint, the returned message's own Message-ID), then
//! an address (a bounce's failed recipient; a reply's sender). What cannot be matched is
//! kept, unmatched, never dropped.

use uuid::Uuid;

use super::{InboundKind, InboundMessage, parse};
use crate::domain::SubscriberEmail;
use crate::signing::{Signer, TokenPurpose};
use crate::store::{InboundOutcome, Match, NewInbound, Store, Timestamp};

/// What receiving a message did, for the caller (and the webhook's answer).
#[derive(Debug, Clone, serde::Serialize)]
pub struct Received {
    /// reply, auto_reply, hard_bounce, soft_bounce or complaint.
    pub kind: &'static str,
    pub subscriber_id: Option<Uuid>,
    pub campaign_id: Option<Uuid>,
    /// How it was matched; `None`: kept unmatched.
    pub matched_by: Option<&'static str>,
    /// The same Message-ID was received before; nothing new was stored.
    pub duplicate: bool,
    /// `bounced` or `complained` when this message stopped mail to the subscriber.
    pub suppressed: Option<&'static str>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReceiveError {
    #[error("not an email message: {0}")]
    NotMail(String),
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

pub async fn receive(store: &Store, signer: &Signer, raw: &[u8]) -> Result<Received, ReceiveError> {
    let message = parse(raw).map_err(|err| ReceiveError::NotMail(err.to_string()))?;
    let matched = find_match(store, signer, &message).await?;
    let record = to_record(&message, matched.clone());
    let outcome = store.record_inbound(&record).await?;
    if outcome != InboundOutcome::Duplicate {
        tracing::info!(
            kind = record.kind,
            matched_by = matched.matched_by.unwrap_or("nothing"),
            "inbound message received"
        );
    }
    Ok(Received {
        kind: record.kind,
        subscriber_id: matched.subscriber_id,
        campaign_id: matched.campaign_id,
        matched_by: matched.matched_by,
        duplicate: outcome == InboundOutcome::Duplicate,
        suppressed: match outcome {
            InboundOutcome::Suppressed(status) => Some(status),
            _ => None,
        },
    })
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

fn to_record(message: &InboundMessage, matched: Match) -> NewInbound {
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
