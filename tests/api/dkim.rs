//! DKIM signatures checked by an independent verifier (mail-auth), with the public key
//! served from a DNS cache the test fills, as a receiving server would look it up.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::Instant;

use mail_auth::common::parse::TxtRecordParser;
use mail_auth::common::verify::DomainKey;
use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator, ResolverCache, Txt};

use crate::helpers::{Backend, Options, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(rsa_signatures_verify, ed25519_signatures_verify);

/// A DNS answer cache holding the one TXT record the test publishes.
struct Dns(Mutex<HashMap<String, Txt>>);

impl ResolverCache<String, Txt> for Dns {
    fn get<Q>(&self, name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().get(name).cloned()
    }
    fn remove<Q>(&self, name: &Q) -> Option<Txt>
    where
        String: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.0.lock().unwrap().remove(name)
    }
    fn insert(&self, key: String, value: Txt, _valid_until: Instant) {
        self.0.lock().unwrap().insert(key, value);
    }
}

const REQUIRED: [&str; 7] = [
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "list-unsubscribe",
    "list-unsubscribe-post",
];

async fn signatures_verify(backend: Backend, key_file: &str, record: String) {
    let key_path = format!("{}/tests/fixtures/{key_file}", env!("CARGO_MANIFEST_DIR"));
    let app = spawn_app_with(
        backend,
        Options::default()
            .env("HUNDRED_DKIM_DOMAIN", "bakery.example")
            .env("HUNDRED_DKIM_SELECTOR", "s2026")
            .env("HUNDRED_DKIM_KEY_FILE", &key_path),
    )
    .await;
    let token = app.api_token().await;
    // A welcome (transactional) and a campaign copy, both signed.
    app.confirmed_subscriber("signed@example.com").await;
    let campaign = app.create_campaign(&token, serde_json::json!({ "subject": "Signed news", "body": "Hello [there](https://bakery.example/)" })).await;
    let id = campaign["id"].as_str().unwrap();
    app.send_campaign_now(&token, id).await;
    app.wait_for_campaign(&token, id, "sent").await;

    let dns = Dns(Mutex::new(HashMap::new()));
    let key = DomainKey::parse(record.as_bytes()).expect("the test's DNS record parses");
    dns.insert(
        "s2026._domainkey.bakery.example.".to_string(),
        Txt::from(key),
        Instant::now(),
    );
    let verifier = MessageAuthenticator::new_cloudflare().unwrap();
    let mail = app.smtp.wait_for("signed@example.com", 3).await;
    assert_eq!(mail.len(), 3, "confirmation, welcome, campaign");
    for message in &mail {
        let parsed =
            AuthenticatedMessage::parse(&message.data).expect("mail-auth parses the message");
        let results = verifier
            .verify_dkim(mail_auth::Parameters::new(&parsed).with_txt_cache(&dns))
            .await;
        assert_eq!(results.len(), 1, "one signature on {}", message.subject());
        assert_eq!(
            results[0].result(),
            &DkimResult::Pass,
            "{}: {:?}",
            message.subject(),
            results[0].result()
        );
        let signature = results[0].signature().unwrap();
        assert_eq!(signature.d, "bakery.example");
        let signed: Vec<String> = signature.h.iter().map(|h| h.to_ascii_lowercase()).collect();
        let list_message = message.header("List-Unsubscribe").is_some();
        for header in REQUIRED
            .iter()
            .filter(|h| list_message || !h.starts_with("list-"))
        {
            assert!(
                signed.iter().any(|s| s == header),
                "{header} is signed: {signed:?}"
            );
        }
    }

    // A message changed in transit does not pass: a header, or the body.
    let campaign_copy = mail.iter().find(|m| m.subject() == "Signed news").unwrap();
    let original = String::from_utf8_lossy(&campaign_copy.data).to_string();
    assert!(original.contains("Subject: Signed news\r\n"));
    for tampered in [
        original.replace("Subject: Signed news\r\n", "Subject: Signed nevvs\r\n"),
        original.replace("Hello", "Hullo"),
    ] {
        assert_ne!(tampered, original);
        let parsed = AuthenticatedMessage::parse(tampered.as_bytes()).unwrap();
        let results = verifier
            .verify_dkim(mail_auth::Parameters::new(&parsed).with_txt_cache(&dns))
            .await;
        assert_ne!(results[0].result(), &DkimResult::Pass);
    }
}

/// Signs with the test key of `algorithm` (`tests/fixtures/dkim-{algorithm}.pem`) and
/// publishes its public half as the DKIM record.
async fn signatures_of_the_key_verify(backend: Backend, algorithm: &str) {
    let public = std::fs::read_to_string(format!(
        "{}/tests/fixtures/dkim-{algorithm}.pub.b64",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    signatures_verify(
        backend,
        &format!("dkim-{algorithm}.pem"),
        format!("v=DKIM1; k={algorithm}; p={}", public.trim()),
    )
    .await;
}

async fn rsa_signatures_verify(backend: Backend) {
    signatures_of_the_key_verify(backend, "rsa").await;
}

async fn ed25519_signatures_verify(backend: Backend) {
    signatures_of_the_key_verify(backend, "ed25519").await;
}
