//! Outgoing mail: composing messages from templates, the transport (SMTP or the .eml
//! outbox), and the worker that drains the durable queue.
//!
//! Layer: the engine's work (with inbound, tracking, lists and accounts), below the use
//! cases. It may import store, domain, config, signing, templates, and tracking (for the
//! hidden link); it must not import actions, web, app or cli, and store, domain and config
//! must not import it. Link extraction lives in `links`, used by `render` and `text` alike.

pub mod campaign_sender;
pub mod compose;
pub mod dkim;
pub mod draft;
pub mod links;
mod list_id;
pub mod placeholders;
pub mod render;
pub mod smtp;
pub mod system;
pub mod text;
pub mod thread;
pub mod transport;
pub mod web_copy;
pub mod worker;

pub use campaign_sender::CampaignSender;
pub use compose::Composer;
pub use transport::{SendError, Transport};
pub use worker::QueueWorker;

mod pace;
use pace::{SendPace, resize};

/// What both senders (the queue worker and the campaign sender) send with: the store, the
/// transport, the composer, and the bell that wakes the sender when there is work.
pub struct Mailer {
    pub store: crate::store::Store,
    pub transport: Transport,
    pub composer: Composer,
    pub wake: std::sync::Arc<tokio::sync::Notify>,
}

/// Exponential backoff with jitter: the first retry comes between `base` and `2 × base`,
/// each later one waits four times as long, up to `max_delay`.
pub fn retry_delay(policy: &crate::config::RetryPolicy, attempts: u32) -> std::time::Duration {
    use rand::Rng as _;
    let factor = 4u32.saturating_pow(attempts.saturating_sub(1));
    let delay = policy.base.saturating_mul(factor).min(policy.max_delay);
    let jitter = rand::rng().random_range(0.0..1.0);
    delay + delay.mul_f64(jitter)
}

/// The name a worker holds its leases under: the instance and a fresh id, so a restarted
/// process never mistakes the claims of its previous life, or another's, for its own.
fn worker_id(config: &crate::config::Config, work: &str) -> String {
    format!(
        "{}/{work}-{}",
        config.instance_id,
        uuid::Uuid::new_v4().simple()
    )
}

/// A claim that failed is logged and counts as nothing claimed: the worker tries again
/// on its next turn, and rows it could not see stay queued.
fn claimed_or_nothing<T>(claimed: anyhow::Result<Vec<T>>, what: &str) -> Vec<T> {
    claimed.unwrap_or_else(|err| {
        tracing::warn!(error = %format!("{err:#}"), "could not claim {what}; retrying shortly");
        Vec::new()
    })
}

/// Recording a send changes nothing once this worker's lease ran out: the row may be
/// another worker's by then, so this one leaves it and only says so.
fn note_lost_lease(held: bool) {
    if !held {
        tracing::warn!("lease lost before the send was recorded");
    }
}
