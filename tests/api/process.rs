//! The real binary, as an owner runs it: zero-config `hundred serve`, graceful stop,
//! configuration errors, and `hundred token create`.

use std::io::{BufRead as _, BufReader};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::{Backend, fresh_database};
use crate::on_both_databases;

on_both_databases!(zero_config_serve_writes_the_confirmation_to_the_outbox);

pub fn hundred() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hundred"));
    // Nothing from the developer's environment leaks in.
    for (key, _) in std::env::vars() {
        if key.starts_with("HUNDRED_") {
            command.env_remove(key);
        }
    }
    command.env("RUST_LOG", "info");
    command
}

/// Starts `hundred serve` with its log (standard error) piped, for the caller to read.
pub fn start_serving(mut command: Command) -> (Child, ChildStderr) {
    let mut child = command
        .arg("serve")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("start hundred serve");
    let stderr = child.stderr.take().unwrap();
    (child, stderr)
}

/// The address in a log line like `… address=127.0.0.1:4000 …`.
pub fn address_in(line: &str) -> Option<String> {
    let at = line.find("address=")?;
    Some(
        line[at + 8..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect(),
    )
}

/// Runs `hundred` to the end, asserting it succeeded; what it printed, trimmed.
pub fn printed(command: &mut Command) -> String {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// Asserts that `hundred` refused to start (exit 2) with one line naming `variable`.
pub fn refused_naming(output: &Output, variable: &str) {
    assert_eq!(output.status.code(), Some(2), "{variable}");
    let stderr = String::from_utf8_lossy(&output.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    assert!(
        lines[0].starts_with(&format!("error: {variable}: ")),
        "{stderr}"
    );
}

/// Asserts that `hundred serve`, in `dir` with these settings, refuses to start naming
/// `variable`.
pub fn refuses_to_serve<V: AsRef<std::ffi::OsStr>>(
    dir: &std::path::Path,
    settings: Vec<(&str, V)>,
    variable: &str,
) {
    let mut command = hundred();
    command.current_dir(dir).arg("serve");
    for (name, value) in settings {
        command.env(name, value);
    }
    refused_naming(&command.output().unwrap(), variable);
}

/// Starts `hundred serve` and returns it with the address it reports listening on.
pub fn serve(command: Command) -> (Child, String) {
    let (child, stderr) = start_serving(command);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(address) = address_in(&line) {
                let _ = tx.send(address);
            }
        }
    });
    let address = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("hundred reports its address");
    (child, address)
}

/// Signs `email` up through the public form of a running binary at `base`
/// (`http://host:port`), asserting the form is accepted.
pub async fn sign_up_at(base: &str, email: &str) {
    let response = reqwest::Client::new()
        .post(format!("{base}/subscribe"))
        .form(&[("email", email)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

/// The first message a binary without SMTP wrote to `data/outbox` under `workdir`, waiting
/// up to 15 seconds for it.
pub async fn first_outbox_mail(workdir: &std::path::Path) -> Vec<u8> {
    let outbox = workdir.join("data/outbox");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let file = std::fs::read_dir(&outbox).ok().and_then(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.extension().is_some_and(|x| x == "eml"))
        });
        if let Some(file) = file {
            return std::fs::read(file).unwrap();
        }
        assert!(Instant::now() < deadline, "no .eml in {}", outbox.display());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn stop(child: &mut Child) -> std::process::ExitStatus {
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "hundred did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

async fn zero_config_serve_writes_the_confirmation_to_the_outbox(backend: Backend) {
    let workdir = tempfile::tempdir().unwrap();
    let mut command = hundred();
    command
        .current_dir(workdir.path())
        .env("HUNDRED_LISTEN", "127.0.0.1:0");
    if backend == Backend::Postgres {
        let (url, _) = fresh_database(backend).await;
        command.env("HUNDRED_DATABASE_URL", url);
    }
    let (mut child, address) = serve(command);

    let client = reqwest::Client::new();
    let health = client
        .get(format!("http://{address}/healthz"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    sign_up_at(&format!("http://{address}"), "first@example.com").await;

    let eml = first_outbox_mail(workdir.path()).await;
    let message = mail_parser::MessageParser::default().parse(&eml).unwrap();
    assert_eq!(
        message.subject().unwrap(),
        "Please confirm your subscription to Newsletter"
    );
    assert_eq!(
        message.to().unwrap().first().unwrap().address().unwrap(),
        "first@example.com"
    );
    assert!(
        message
            .body_text(0)
            .unwrap()
            .contains("http://127.0.0.1:8080/confirm/")
    );
    if backend == Backend::Sqlite {
        assert!(
            workdir.path().join("data/hundred.db").exists(),
            "the SQLite file is created"
        );
    }

    let status = stop(&mut child);
    assert!(status.success(), "a clean exit on SIGTERM: {status:?}");
}

#[test]
fn a_bad_setting_stops_start_up_with_one_line_naming_it() {
    for (variable, value) in [
        ("HUNDRED_LISTEN", "not-an-address"),
        ("HUNDRED_DATABASE_URL", "mysql://localhost/db"),
        ("HUNDRED_SMTP_URL", "http://mail.example.com"),
        ("HUNDRED_PUBLIC_URL", "ftp://example.com"),
        ("HUNDRED_SEND_RATE", "fast"),
    ] {
        let output = hundred()
            .arg("serve")
            .env(variable, value)
            .output()
            .unwrap();
        refused_naming(&output, variable);
    }
}

/// The files and URLs the settings name are read at start-up, not when first used: a DKIM
/// key that cannot be used or a malformed mailbox URL stops `serve` as a bad setting does.
#[test]
fn a_key_or_mailbox_that_cannot_be_used_stops_start_up_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a key").unwrap();
    let missing = dir.path().join("missing.pem");
    let dkim = |key_file: &std::path::Path| {
        vec![
            ("HUNDRED_DKIM_DOMAIN", "bakery.example".to_string()),
            ("HUNDRED_DKIM_SELECTOR", "s2026".to_string()),
            ("HUNDRED_DKIM_KEY_FILE", key_file.display().to_string()),
        ]
    };
    for (settings, variable) in [
        (dkim(&junk), "HUNDRED_DKIM_KEY_FILE"),
        (dkim(&missing), "HUNDRED_DKIM_KEY_FILE"),
        (
            vec![("HUNDRED_IMAP_URL", "imaps://mail.example.com/INBOX".into())],
            "HUNDRED_IMAP_URL",
        ),
    ] {
        refuses_to_serve(dir.path(), settings, variable);
    }
}

#[test]
fn settings_in_a_dot_env_file_are_read() {
    let workdir = tempfile::tempdir().unwrap();
    std::fs::write(
        workdir.path().join(".env"),
        "HUNDRED_PUBLIC_URL=mailto:nobody\n",
    )
    .unwrap();
    let output = hundred()
        .current_dir(workdir.path())
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.starts_with("error: HUNDRED_PUBLIC_URL: "),
        "{stderr}"
    );
}

#[tokio::test]
async fn token_create_prints_a_token_the_api_accepts() {
    let workdir = tempfile::tempdir().unwrap();
    let token = printed(
        hundred()
            .current_dir(workdir.path())
            .args(["token", "create", "--name", "website"]),
    );
    assert!(token.starts_with("hundred_") && token.len() > 40);

    let mut command = hundred();
    command
        .current_dir(workdir.path())
        .env("HUNDRED_LISTEN", "127.0.0.1:0");
    let (mut child, address) = serve(command);
    let client = reqwest::Client::new();
    let ok = client
        .get(format!("http://{address}/api/v1/subscribers"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
    let refused = client
        .get(format!("http://{address}/api/v1/subscribers"))
        .bearer_auth("hundred_x")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401);
    stop(&mut child);
}
