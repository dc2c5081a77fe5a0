//! Defaults that protect the owner without a second thought: the inbound webhook refuses
//! a stranger from the request's head without waiting for its body, a password for a
//! distant SMTP server never travels unencrypted, and a newcomer who only changes the port
//! gets links (in mail and the setup link) that reach the server.

use std::io::{BufRead as _, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::fixtures::{SECRET, free_port, post_mail};
use crate::helpers::{Backend, Options, TestApp, spawn_app, spawn_app_with};
use crate::on_both_databases;
use crate::process::{first_outbox_mail, hundred, sign_up_at, stop};

on_both_databases!(the_webhook_refuses_a_stranger_before_reading_the_body);

const MESSAGE: &str =
    "From: a@example.com\r\nSubject: hi\r\nMessage-ID: <head-first@example.com>\r\n\r\nhello\r\n";

/// Sends the head of a request announcing a 9 MB message, and the first bytes of it as a
/// slow sender would; returns the status the server answers with within two seconds.
async fn status_before_the_body(app: &TestApp, authorization: Option<&str>) -> u16 {
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let mut head = format!(
        "POST /inbound/mime HTTP/1.1\r\nHost: {address}\r\nContent-Type: message/rfc822\r\nContent-Length: 9000000\r\n"
    );
    if let Some(authorization) = authorization {
        head.push_str(&format!("Authorization: {authorization}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(b"From: a@example.com\r\n").await.unwrap();
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(2), stream.read(&mut answer))
        .await
        .expect("the server answers without waiting for the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..read]);
    answer
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("not an HTTP answer: {answer}"))
}

async fn the_webhook_refuses_a_stranger_before_reading_the_body(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options::default().env("HUNDRED_INBOUND_SECRET", SECRET),
    )
    .await;
    for authorization in [None, Some("Bearer wrong-secret"), Some("Basic abc")] {
        assert_eq!(
            status_before_the_body(&app, authorization).await,
            401,
            "{authorization:?}"
        );
    }
    assert_eq!(app.count("inbound_messages").await, 0);

    // The right secret still gets a real message in, even one sent slowly.
    let address = app.address.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).await.unwrap();
    let head = format!(
        "POST /inbound/mime HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {SECRET}\r\nContent-Type: message/rfc822\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        MESSAGE.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    let (first, rest) = MESSAGE.split_at(20);
    stream.write_all(first.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stream.write_all(rest.as_bytes()).await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(10), stream.read_to_string(&mut answer))
        .await
        .expect("an answer once the message is in")
        .unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let again = post_mail(&app, &MESSAGE.replace("head-first", "second"), SECRET).await;
    assert_eq!(again.status(), 200);

    // With inbound mail off, the answer is 404 at once, whatever the request carries.
    let off = spawn_app(backend).await;
    let bearer = format!("Bearer {SECRET}");
    assert_eq!(status_before_the_body(&off, Some(&bearer)).await, 404);
    assert_eq!(status_before_the_body(&off, None).await, 404);
}

#[test]
fn a_password_for_a_distant_smtp_server_without_tls_stops_start_up() {
    let workdir = tempfile::tempdir().unwrap();
    for url in [
        "smtp://shop:hunter2@mail.example.com:587",
        "smtp://shop:hunter2@mail.example.com:587?tls=opportunistic",
    ] {
        let output = hundred()
            .current_dir(workdir.path())
            .arg("serve")
            .env("HUNDRED_SMTP_URL", url)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{url}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "one line: {stderr}");
        assert!(
            lines[0].starts_with("error: HUNDRED_SMTP_URL: ") && lines[0].contains("tls=required"),
            "{stderr}"
        );
        assert!(!stderr.contains("hunter2"), "the password is never printed");
    }
    assert!(
        !workdir.path().join("data").exists(),
        "refused before anything is created"
    );
}

#[tokio::test]
async fn only_changing_the_port_gives_links_that_work() {
    let workdir = tempfile::tempdir().unwrap();
    let port = free_port().port();
    let base = format!("http://127.0.0.1:{port}");
    let mut child = hundred()
        .current_dir(workdir.path())
        .env("HUNDRED_LISTEN", format!("127.0.0.1:{port}"))
        .arg("serve")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let (mut setup_link, mut listening) = (None, false);
    let deadline = Instant::now() + Duration::from_secs(30);
    while setup_link.is_none() || !listening {
        let line = rx
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("hundred prints its setup link and listens");
        if let Some(at) = line.find("http://")
            && line.contains("/admin/setup/")
        {
            setup_link = Some(line[at..].trim().to_string());
        }
        listening |= line.contains("address=");
    }
    let setup_link = setup_link.unwrap();
    assert!(
        setup_link.starts_with(&format!("{base}/admin/setup/")),
        "{setup_link}"
    );

    let client = reqwest::Client::new();
    let page = client.get(&setup_link).send().await.unwrap();
    assert_eq!(page.status(), 200, "the printed setup link opens");
    sign_up_at(&base, "first@example.com").await;

    let eml = first_outbox_mail(workdir.path()).await;
    let message = mail_parser::MessageParser::default().parse(&eml).unwrap();
    let text = message.body_text(0).unwrap().to_string();
    let start = text
        .find(&format!("{base}/confirm/"))
        .unwrap_or_else(|| panic!("the confirmation links to {base}: {text}"));
    let link: String = text[start..]
        .chars()
        .take_while(|c| !c.is_whitespace() && *c != '>')
        .collect();
    let confirm_page = client.get(&link).send().await.unwrap();
    assert_eq!(confirm_page.status(), 200, "the link in the mail opens");

    let status = stop(&mut child);
    assert!(status.success(), "{status:?}");
}
