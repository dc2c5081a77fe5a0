//! Stopping: between messages, mid-message and at the end of the grace period; and many
//! sessions at once within bounded memory.

use super::*;

/// A session of a listener being stopped.
fn stoppable(keeper: &Keeper) -> (Session, CancellationToken, CancellationToken) {
    let (stop, hard_stop) = (CancellationToken::new(), CancellationToken::new());
    let settings = settings(Limits::default());
    let memory = Arc::new(Semaphore::new(settings.limits.message_memory / 1024));
    let session = Session::on_listener(
        settings,
        Arc::new(keeper.clone()),
        memory,
        None,
        (stop.clone(), hard_stop.clone()),
        None,
    );
    (session, stop, hard_stop)
}

#[tokio::test]
async fn a_stop_between_messages_closes_at_once_and_mid_message_lets_it_finish() {
    let keeper = Keeper::default();
    let (session, stop, _) = stoppable(&keeper);
    let mut idle = greeted(session).await;
    stop.cancel();
    assert!(idle.reply().await.starts_with("421 4.3.2"));
    idle.closed().await;

    let (session, stop, _) = stoppable(&keeper);
    let mut busy = greeted(session).await;
    busy.expect("MAIL FROM:<fay@example.com>", "250").await;
    stop.cancel();
    busy.expect("RCPT TO:<replies@bakery.example>", "250").await;
    busy.expect("DATA", "354").await;
    busy.send(MESSAGE).await;
    busy.send(b"\r\n.\r\n").await;
    assert!(
        busy.reply().await.starts_with("250"),
        "the message under way is taken"
    );
    assert!(
        busy.reply().await.starts_with("421 4.3.2"),
        "then the session ends"
    );
    busy.closed().await;
    assert_eq!(keeper.messages().len(), 1);
}

#[tokio::test]
async fn the_end_of_the_grace_period_cuts_a_message_off_with_421() {
    let keeper = Keeper::default();
    let (session, stop, hard_stop) = stoppable(&keeper);
    let mut client = greeted(session).await;
    client.expect("MAIL FROM:<fay@example.com>", "250").await;
    client
        .expect("RCPT TO:<replies@bakery.example>", "250")
        .await;
    client.expect("DATA", "354").await;
    client.send(b"From: fay@example.com\r\n").await;
    stop.cancel();
    hard_stop.cancel();
    assert!(client.reply().await.starts_with("421 4.3.2"));
    client.closed().await;
    assert!(keeper.messages().is_empty());
}

#[tokio::test]
async fn messages_at_once_share_a_bounded_memory() {
    let keeper = Keeper::default();
    let limits = Limits {
        message_bytes: 200 * 1024,
        message_memory: 256 * 1024,
        ..Limits::default()
    };
    let settings = settings(limits);
    let memory = Arc::new(Semaphore::new(256));
    let session = || {
        Session::on_listener(
            settings.clone(),
            Arc::new(keeper.clone()),
            memory.clone(),
            None,
            (CancellationToken::new(), CancellationToken::new()),
            None,
        )
    };
    let mut first = greeted(session()).await;
    let mut second = greeted(session()).await;
    for client in [&mut first, &mut second] {
        client.expect("MAIL FROM:<a@example.com>", "250").await;
        client.expect("RCPT TO:<r@bakery.example>", "250").await;
        client.expect("DATA", "354").await;
        client.send(&vec![b'x'; 150 * 1024]).await;
        // Its session has read it all before the next one starts.
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    second.send(b"\r\n.\r\n").await;
    assert!(
        second.reply().await.starts_with("452 4.3.1"),
        "no room left for it"
    );
    first.send(b"\r\n.\r\n").await;
    assert!(first.reply().await.starts_with("250"));
    assert!(second.mail(MESSAGE).await.starts_with("250"), "room again");
}
