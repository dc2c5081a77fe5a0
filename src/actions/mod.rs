//! What the owner and the readers do, one function per use case: add a subscriber,
//! confirm, unsubscribe, erase; create, update, preview, test, send, schedule, pause, resume
//! and cancel a campaign; import; re-permission; answer a reply; receive inbound mail.
//!
//! The layers, top to bottom: `web` (API, admin pages, public pages) and `cli` extract their
//! input, call one function here and answer in their own form; the functions here own the
//! checks (a refusal reads the same on every face) and the wake-ups of the workers; below
//! them `mail`, `inbound`, `tracking` and `lists` do the work, `store` keeps it, and
//! `domain` holds the plain types and rules every layer shares. Nothing here knows HTTP or
//! a terminal; nothing below imports from here.
//!
//! One use case has its door below this layer: receiving inbound mail is
//! `Services::inbox()` → `inbound::receive::Inbox::receive`, for the webhook, the SMTP
//! listener and the IMAP poller alike. The listener and the poller live in `inbound` and
//! must not import upward, so the shared door is the `Inbox`, not a function here.

pub mod accounts;
pub mod archive;
pub mod lists;
pub mod media;
pub mod own_page;
pub mod permission;
pub mod readers;
pub mod replies;
pub mod review;
pub mod settings;
pub mod subscribers;
pub mod templates;

pub mod campaigns;

use std::sync::Arc;

use tokio::sync::Notify;

use crate::config::{Config, Current, LiveSettings};
use crate::mail::{CampaignSender, Composer, Mailer, QueueWorker, Transport};
use crate::signing::Signer;
use crate::store::Store;
use crate::templates::Templates;

/// What every use case needs: the configuration, the migrated store, the shared signing
/// key, the templates, the mail transport, and the bells that wake the workers. One copy is
/// shared by the server's handlers; the CLI builds its own (its bells wake nobody: a
/// running `serve` finds the work when it next looks).
#[derive(Clone)]
pub struct Services {
    pub config: Arc<Config>,
    pub store: Store,
    pub signer: Signer,
    pub templates: Arc<Templates>,
    pub composer: Composer,
    /// Where mail goes (for test sends; everything else goes through the queues).
    pub transport: Transport,
    /// The owner's settings in effect, reloaded when any instance saves them.
    pub live: LiveSettings,
    /// Wakes the sender worker when a message has been queued.
    pub wake_sender: Arc<Notify>,
    /// Wakes the campaign sender when a campaign starts or resumes.
    pub wake_campaigns: Arc<Notify>,
}

impl Services {
    /// The owner's settings in effect now (with the consent text's version).
    pub fn settings(&self) -> Arc<Current> {
        self.live.get()
    }

    /// Where inbound mail is taken in (the webhook, the SMTP listener, IMAP).
    pub fn inbox(&self) -> crate::inbound::receive::Inbox {
        crate::inbound::receive::Inbox::new(
            self.store.clone(),
            self.signer.clone(),
            self.config.trusted_authserv_id.clone(),
        )
    }

    /// What a sender woken by `wake` sends with.
    fn mailer(&self, wake: &Arc<Notify>) -> Mailer {
        Mailer {
            store: self.store.clone(),
            transport: self.transport.clone(),
            composer: self.composer.clone(),
            wake: wake.clone(),
        }
    }

    /// The sender worker, woken by `wake_sender`.
    pub fn queue_worker(&self) -> QueueWorker {
        QueueWorker::new(self.mailer(&self.wake_sender), &self.config)
    }

    /// A campaign sender woken by `wake_campaigns`.
    pub fn campaign_sender(&self) -> CampaignSender {
        CampaignSender::new(
            self.mailer(&self.wake_campaigns),
            self.config.clone(),
            self.signer.clone(),
        )
    }

    /// Tells the sender worker a message is waiting in the queue.
    pub fn message_queued(&self) {
        self.wake_sender.notify_one();
    }

    /// Tells the campaign sender a campaign has copies to send.
    pub fn campaign_started(&self) {
        self.wake_campaigns.notify_waiters();
    }
}

/// Runs `work` on its own task and waits for it. A handler future is dropped when the
/// client disconnects; work spawned this way still finishes (commits or rolls back) instead
/// of being cut off in the middle of a transaction.
pub(crate) async fn to_completion<T: Send + 'static>(
    work: impl Future<Output = anyhow::Result<T>> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::spawn(work)
        .await
        .map_err(|err| anyhow::anyhow!("the request's work did not finish: {err}"))?
}
