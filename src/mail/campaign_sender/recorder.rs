//! Recording sent copies in groups, so the database keeps up with the SMTP server.

use tokio::sync::{mpsc, oneshot};

use crate::store::{SentCopy, Store, retrying};

/// The most copies recorded in one commit.
const RECORD_GROUP: usize = 64;
/// How often writing a group is tried before its copies are left to their leases (and so
/// may be sent again): a database that is briefly unreachable should not cause that.
const RECORD_TRIES: u32 = 3;

/// Records accepted copies for the tasks that sent them, with group commit: one writer
/// commits every copy waiting, and the copies accepted while that commit is in flight wait
/// for the next one. There is no timer: under light load each copy gets its own commit at
/// once; under heavy load one commit records many, which is what keeps the database from
/// falling behind the SMTP server.
#[derive(Clone)]
pub(super) struct Recorder(mpsc::Sender<(SentCopy, oneshot::Sender<bool>)>);

impl Recorder {
    pub(super) fn start(store: Store, worker: String) -> (Self, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(RECORD_GROUP * 4);
        (Self(tx), tokio::spawn(record_groups(store, worker, rx)))
    }

    /// Waits until the copy is committed as sent. False if its lease was lost meanwhile.
    pub(super) async fn record(&self, copy: SentCopy) -> anyhow::Result<bool> {
        let (done, committed) = oneshot::channel();
        self.0
            .send((copy, done))
            .await
            .map_err(|_| anyhow::anyhow!("the recorder of sent copies has stopped"))?;
        committed.await.map_err(|_| {
            anyhow::anyhow!("could not record the copy as sent; its lease will expire")
        })
    }
}

async fn record_groups(
    store: Store,
    worker: String,
    mut queue: mpsc::Receiver<(SentCopy, oneshot::Sender<bool>)>,
) {
    let mut group = Vec::with_capacity(RECORD_GROUP);
    while queue.recv_many(&mut group, RECORD_GROUP).await > 0 {
        let (copies, waiting): (Vec<SentCopy>, Vec<_>) = group.drain(..).unzip();
        let what = format!("could not record {} sent copies", copies.len());
        let recorded = retrying(
            RECORD_TRIES,
            &what,
            "their leases will expire and they may be sent again",
            || store.mark_deliveries_sent(&worker, &copies),
        )
        .await;
        if let Some(recorded) = recorded {
            for (copy, done) in copies.iter().zip(waiting) {
                let _ = done.send(recorded.contains(&copy.id));
            }
        }
    }
}
