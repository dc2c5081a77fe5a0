//! What most tests start from, written once: subscribers the owner added as confirmed, a
//! campaign sent to all of them, the copy one of them received, mail coming back through
//! the webhook, and an app set up to take that mail. The steps are the ones a person or the
//! owner's script would take; a test reads as its story, not as its plumbing.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use reqwest::Method;

use crate::helpers::{Backend, Captured, Options, TestApp, spawn_app_with};

pub(crate) use crate::helpers::{assert_contains, fetch, tracking_urls};

/// The webhook's secret in every test that takes mail back.
pub(crate) const SECRET: &str = "inbound-secret-for-tests-0123456789";
/// Where replies go; the address carries a per-copy token.
pub(crate) const REPLY_TO: &str = "Bakery <replies@bakery.example>";

/// Browsers and links the tracking tests use.
pub(crate) const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148";
pub(crate) const DESKTOP: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36";
pub(crate) const MENU: &str = "https://bakery.example/menu?day=mon&lang=en#top";
pub(crate) const HOURS: &str = "https://bakery.example/hours";

/// `{who}@example.com`: the people of the fixtures are named by their mailbox.
pub(crate) fn address(who: &str) -> String {
    format!("{who}@example.com")
}

/// The address part of a header like `Bakery <replies+TOKEN@bakery.example>`.
pub(crate) fn bare_address(header: &str) -> String {
    header
        .rsplit_once('<')
        .map(|(_, a)| a.trim_end_matches('>').to_string())
        .unwrap_or_else(|| header.to_string())
}

/// A page's text as the owner reads it: the characters the templates escape, put back, so
/// a sentence can be looked for as written.
pub(crate) fn as_read(page: &str) -> String {
    page.replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&#x2F;", "/")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// Asserts that `answer` has this status and a page saying `sentence` (as read); the page.
pub(crate) async fn page_saying(answer: reqwest::Response, status: u16, sentence: &str) -> String {
    assert_eq!(answer.status(), status);
    let page = as_read(&answer.text().await.unwrap());
    assert!(page.contains(sentence), "{sentence}\n{page}");
    page
}

/// The `key` of every entry in a JSON list (`kind` of each consent event, `email` of each
/// subscriber), in order.
pub(crate) fn each<'a>(list: &'a serde_json::Value, key: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|entry| entry[key].as_str().unwrap())
        .collect()
}

/// A response header's value as text.
pub(crate) fn header(
    response: &reqwest::Response,
    name: impl reqwest::header::AsHeaderName,
) -> &str {
    response.headers()[name].to_str().unwrap()
}

/// A loopback address no one listens on (it was free a moment ago), for a listener the app
/// opens itself.
pub(crate) fn free_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

/// These options plus what taking mail back needs: the webhook's secret and a Reply-To.
pub(crate) fn with_inbound(options: Options) -> Options {
    options
        .env("HUNDRED_INBOUND_SECRET", SECRET)
        .env("HUNDRED_REPLY_TO", REPLY_TO)
}

/// An app that takes mail back and judges opens and clicks within `window` seconds of
/// delivery as software's (the window the engagement tests then wait out).
pub(crate) async fn engagement_app(backend: Backend, window: &str) -> TestApp {
    spawn_app_with(
        backend,
        with_inbound(Options::default().env("HUNDRED_MACHINE_WINDOW_SECONDS", window)),
    )
    .await
}

/// A subscriber the owner added through the API as confirmed (asserting 201); their id.
pub(crate) async fn confirmed(
    app: &TestApp,
    token: &str,
    email: &str,
    name: Option<&str>,
    attributes: serde_json::Value,
) -> String {
    let mut body = serde_json::json!({ "email": email, "status": "confirmed", "consent": "asked at the counter", "attributes": attributes });
    if let Some(name) = name {
        body["name"] = name.into();
    }
    let response = add_subscriber(app, token, &body).await;
    assert_eq!(response.status(), 201);
    let json: serde_json::Value = response.json().await.unwrap();
    json["id"].as_str().unwrap().to_string()
}

/// `POST /subscribers`: the owner adding someone through the API; the answer, unchecked.
pub(crate) async fn add_subscriber(
    app: &TestApp,
    token: &str,
    body: &serde_json::Value,
) -> reqwest::Response {
    app.api_json(Method::POST, "/subscribers", token, body)
        .await
}

/// A confirmed subscriber with no name and no attributes; their id.
pub(crate) async fn confirmed_email(app: &TestApp, token: &str, email: &str) -> String {
    confirmed(app, token, email, None, serde_json::json!({})).await
}

/// A confirmed subscriber with this name and no attributes; their id.
pub(crate) async fn confirmed_named(app: &TestApp, token: &str, email: &str, name: &str) -> String {
    confirmed(app, token, email, Some(name), serde_json::json!({})).await
}

/// `{who}@example.com` for each of `people`, confirmed in that order; their ids by name.
pub(crate) async fn confirmed_people<'a>(
    app: &TestApp,
    token: &str,
    people: &[&'a str],
) -> HashMap<&'a str, String> {
    let mut ids = HashMap::new();
    for who in people {
        ids.insert(*who, confirmed_email(app, token, &address(who)).await);
    }
    ids
}

/// `PATCH /api/v1{path}` with this change; the answer, whatever it is.
pub(crate) async fn patch(
    app: &TestApp,
    token: &str,
    path: &str,
    change: serde_json::Value,
) -> reqwest::Response {
    app.api_json(Method::PATCH, path, token, &change).await
}

/// Sends a campaign to every confirmed subscriber and waits until it is sent; its id.
pub(crate) async fn send_to_everyone(
    app: &TestApp,
    token: &str,
    subject: &str,
    body: &str,
) -> String {
    let id = draft(app, token, subject, body).await;
    app.send_campaign_now(token, &id).await;
    app.wait_for_campaign(token, &id, "sent").await;
    id
}

/// Sends a campaign to every confirmed subscriber; its report once it is sent.
pub(crate) async fn sent_report(
    app: &TestApp,
    token: &str,
    subject: &str,
    body: &str,
) -> serde_json::Value {
    let id = draft(app, token, subject, body).await;
    app.send_campaign_now(token, &id).await;
    app.wait_for_campaign(token, &id, "sent").await
}

/// A draft with this subject and body, through the API; its id.
pub(crate) async fn draft(app: &TestApp, token: &str, subject: &str, body: &str) -> String {
    let campaign = app
        .create_campaign(
            token,
            serde_json::json!({ "subject": subject, "body": body }),
        )
        .await;
    campaign["id"].as_str().unwrap().to_string()
}

/// The one copy `email` received (it must be exactly one).
pub(crate) fn only_copy(app: &TestApp, email: &str) -> Captured {
    let mut copies = app.smtp.messages_to(email);
    assert_eq!(copies.len(), 1, "{email} got one copy");
    copies.remove(0)
}

/// The campaign's engagement figures, once `done` holds for them (events are stored a
/// moment after they happen).
pub(crate) async fn engagement_when(
    app: &TestApp,
    token: &str,
    id: &str,
    done: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let campaign = app.api_get(&format!("/campaigns/{id}"), token).await;
        if done(&campaign["engagement"]) {
            return campaign["engagement"].clone();
        }
        assert!(
            Instant::now() < deadline,
            "the events never showed: {}",
            campaign["engagement"]
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Posts a raw message to the inbound webhook with this secret; the answer, whatever it is.
pub(crate) async fn post_mail(app: &TestApp, raw: &str, secret: &str) -> reqwest::Response {
    app.client
        .post(app.url("/inbound/mime"))
        .bearer_auth(secret)
        .header("content-type", "message/rfc822")
        .body(raw.replace('\n', "\r\n"))
        .send()
        .await
        .unwrap()
}

/// Posts a raw message to the inbound webhook (asserting 200); what the app made of it.
pub(crate) async fn receive(app: &TestApp, raw: &str) -> serde_json::Value {
    let response = post_mail(app, raw, SECRET).await;
    let status = response.status();
    let json: serde_json::Value = response.json().await.unwrap();
    assert_eq!(status, 200, "{json}");
    json
}

/// Talks SMTP to `address` line by line (the greeting read first); the reply to each line.
pub(crate) fn smtp_session(address: std::net::SocketAddr, lines: &[String]) -> Vec<String> {
    use std::io::{BufRead, BufReader, Write};
    let stream = std::net::TcpStream::connect(address).unwrap();
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let read_reply = |reader: &mut BufReader<std::net::TcpStream>| {
        let mut reply = String::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            reply.push_str(&line);
            // "250-..." continues, "250 ..." ends a reply.
            if line.len() < 4 || line.as_bytes()[3] != b'-' {
                return reply;
            }
        }
    };
    read_reply(&mut reader);
    let mut replies = Vec::new();
    for line in lines {
        writer.write_all(line.as_bytes()).unwrap();
        writer.write_all(b"\r\n").unwrap();
        replies.push(read_reply(&mut reader));
    }
    replies
}
