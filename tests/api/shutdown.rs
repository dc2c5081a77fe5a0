//! A stop is bounded, with the real binary and a short grace period
//! (`HUNDRED_SHUTDOWN_GRACE_SECONDS`): SIGTERM in the middle of a message to the SMTP
//! listener lets it finish, says 421 to the rest and closes the port; a send stuck on a
//! slow relay is cut off at the end of the grace, and the mail stays queued for the next
//! start, which sends it once.

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use crate::helpers::{Backend, TestSmtp, fresh_database};
use crate::on_both_databases;
use crate::process::{hundred, serve, sign_up_at, stop};
use crate::smtp_listener::{greeted, listening_binary, reply_message, stored};

on_both_databases!(
    sigterm_mid_message_finishes_it_and_says_421_to_the_rest,
    a_stop_cut_short_keeps_the_mail_queued_for_the_next_start
);

const GRACE_SECONDS: u64 = 3;

fn terminate(child: &Child) -> Instant {
    let signalled = Instant::now();
    let status = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .unwrap();
    assert!(status.success());
    signalled
}

/// Waits for the process to end; how long after `since` it did.
async fn exited(child: &mut Child, since: Instant) -> (std::process::ExitStatus, Duration) {
    let give_up = since + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status, since.elapsed());
        }
        if Instant::now() > give_up {
            let _ = child.kill();
            panic!("hundred did not stop within 30 s of SIGTERM");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn sigterm_mid_message_finishes_it_and_says_421_to_the_rest(backend: Backend) {
    let (mut command, database_url, smtp, _dirs) = listening_binary(backend).await;
    command.env("HUNDRED_SHUTDOWN_GRACE_SECONDS", GRACE_SECONDS.to_string());
    let (mut child, _) = serve(command);
    let ip = |last: u8| std::net::IpAddr::from([127, 0, 6, last]);

    // Fay is half way through her message; Gus has said EHLO and nothing since; a third
    // client started a message and will never finish it.
    let message = reply_message("finished-after-sigterm@mobile.example");
    let (first_half, second_half) = message.split_at(message.len() / 2);
    let mut fay = greeted(ip(1), smtp).await;
    fay.start_message().await;
    fay.send(first_half.as_bytes()).await;
    let mut gus = greeted(ip(2), smtp).await;
    let mut stuck = greeted(ip(3), smtp).await;
    stuck.start_message().await;
    stuck.send(b"From: stuck@example.com\r\n").await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let signalled = terminate(&child);
    let reply = gus.reply().await;
    assert!(reply.starts_with("421 4.3.2"), "between messages: {reply}");
    assert!(signalled.elapsed() < Duration::from_secs(1), "at once");
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        TcpStream::connect(smtp).await.is_err(),
        "the port is closed to new connections"
    );

    fay.send(second_half.as_bytes()).await;
    fay.send(b".\r\n").await;
    let reply = fay.reply().await;
    assert!(reply.starts_with("250"), "her message is taken: {reply}");
    let reply = fay.reply().await;
    assert!(
        reply.starts_with("421 4.3.2"),
        "then the session ends: {reply}"
    );

    let reply = stuck.reply().await;
    let cut_off = signalled.elapsed();
    assert!(reply.starts_with("421 4.3.2"), "{reply}");
    assert!(
        cut_off >= Duration::from_secs(GRACE_SECONDS - 2)
            && cut_off <= Duration::from_secs(GRACE_SECONDS),
        "cut off at the end of the grace, after {cut_off:?}"
    );
    let (status, took) = exited(&mut child, signalled).await;
    assert!(status.success(), "{status:?}");
    assert!(
        took < Duration::from_secs(GRACE_SECONDS) + Duration::from_millis(900),
        "the process ended {took:?} after SIGTERM"
    );
    assert_eq!(
        stored(&database_url, "finished-after-sigterm@mobile.example").await,
        1
    );
}

/// The state of every outgoing message (confirmations and the like).
async fn outgoing_states(database_url: &str) -> Vec<String> {
    let sql = "SELECT state FROM outbound_messages ORDER BY created_at";
    crate::with_pool!(database_url, |pool| {
        sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap()
    })
}

async fn a_stop_cut_short_keeps_the_mail_queued_for_the_next_start(backend: Backend) {
    const GRACE_SECONDS: u64 = 2;
    const STORE_CLOSE: Duration = Duration::from_secs(5);
    let (database_url, _dir) = fresh_database(backend).await;
    let workdir = tempfile::tempdir().unwrap();
    let relay = TestSmtp::start();
    // The relay takes a minute over each message; it says when it was handed one.
    relay.slow_down(Duration::from_secs(60));
    relay.answer("ann@example.com", 250, "2.1.5 OK", usize::MAX);
    let command = || {
        let mut command = hundred();
        command
            .current_dir(workdir.path())
            .env("HUNDRED_DATABASE_URL", &database_url)
            .env("HUNDRED_LISTEN", "127.0.0.1:0")
            .env("HUNDRED_SMTP_URL", format!("smtp://{}", relay.address))
            .env("HUNDRED_FROM", "Bakery <news@bakery.example>")
            .env("HUNDRED_INSTANCE_ID", "shutdown-test")
            .env("HUNDRED_SHUTDOWN_GRACE_SECONDS", GRACE_SECONDS.to_string());
        command
    };
    let (mut child, address) = serve(command());
    sign_up_at(&format!("http://{address}"), "ann@example.com").await;
    let deadline = Instant::now() + Duration::from_secs(20);
    while relay.refusals("ann@example.com") == 0 {
        assert!(
            Instant::now() < deadline,
            "the confirmation never reached the relay"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // The send is stuck on the relay: the stop cuts it off at the end of the grace.
    let signalled = terminate(&child);
    let (status, took) = exited(&mut child, signalled).await;
    assert!(status.success(), "{status:?}");
    assert!(
        took >= Duration::from_secs(GRACE_SECONDS)
            && took < Duration::from_secs(GRACE_SECONDS) + STORE_CLOSE,
        "stopped {took:?} after SIGTERM"
    );
    assert_eq!(
        outgoing_states(&database_url).await,
        ["queued"],
        "still queued"
    );
    assert!(relay.messages().is_empty());

    relay.slow_down(Duration::ZERO);
    let (mut again, _) = serve(command());
    relay.wait_for("ann@example.com", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop(&mut again);
    assert_eq!(relay.messages_to("ann@example.com").len(), 1, "sent once");
    assert_eq!(outgoing_states(&database_url).await, ["sent"]);
}
