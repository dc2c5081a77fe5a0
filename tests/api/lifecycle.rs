//! The whole double opt-in lifecycle, as a visitor lives it.

use crate::helpers::{Backend, form_action, settle, spawn_app};
use crate::on_both_databases;

on_both_databases!(
    signup_confirm_welcome_and_one_click_unsubscribe,
    a_returning_unsubscriber_goes_through_double_opt_in_again,
    forged_and_expired_links_get_a_friendly_page,
    instances_sharing_a_database_accept_each_others_links,
);

async fn signup_confirm_welcome_and_one_click_unsubscribe(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;

    // The visitor fills in the hosted form.
    let response = app.subscribe_via_page("ann@example.com", "Ann Baker").await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Check your inbox"), "{page}");

    // The confirmation arrives: multipart, text first, with a link to the confirm page.
    let confirmation = app.smtp.wait_for("ann@example.com", 1).await.remove(0);
    assert_eq!(
        confirmation.subject(),
        "Please confirm your subscription to Corner Bakery News"
    );
    let parsed = confirmation.parsed();
    assert_eq!(
        parsed.from().unwrap().first().unwrap().address().unwrap(),
        "news@bakery.example"
    );
    let to = parsed.to().unwrap().first().unwrap();
    assert_eq!(to.address().unwrap(), "ann@example.com");
    assert_eq!(to.name().unwrap(), "Ann Baker");
    let raw = String::from_utf8_lossy(&confirmation.data).to_string();
    let text_at = raw.find("Content-Type: text/plain").expect("a text part");
    let html_at = raw.find("Content-Type: text/html").expect("an HTML part");
    assert!(text_at < html_at, "text/plain comes before text/html");
    assert!(
        confirmation.header("List-Unsubscribe").is_none(),
        "not on the list yet"
    );
    assert!(
        confirmation.mail_from.contains("news@bakery.example"),
        "envelope sender: {}",
        confirmation.mail_from
    );
    let link = confirmation
        .link_starting_with(&app.url("/confirm/"))
        .expect("confirm link");
    assert!(
        confirmation.html().contains(&link),
        "the HTML part has the same link"
    );

    // A link scanner fetching the link (GET and HEAD) changes nothing.
    let page = app.get(&link).await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("Yes, subscribe me"));
    assert_eq!(app.head(&link).await.status(), 200);
    settle().await;
    let subscriber = first_subscriber(&app, &token).await;
    assert_eq!(subscriber["status"], "pending");
    assert_eq!(
        app.smtp.messages_to("ann@example.com").len(),
        1,
        "no welcome before the button"
    );

    // The button confirms.
    let action = form_action(&page).expect("the page has a form");
    let confirmed = app.post_empty(&app.url(&action)).await;
    assert_eq!(confirmed.status(), 200);
    assert!(
        confirmed
            .text()
            .await
            .unwrap()
            .contains("You're subscribed")
    );
    // Pressing it again is harmless.
    assert_eq!(app.post_empty(&app.url(&action)).await.status(), 200);

    // The welcome arrives with every header a list message carries.
    let mail = app.smtp.wait_for("ann@example.com", 2).await;
    settle().await;
    assert_eq!(
        app.smtp.messages_to("ann@example.com").len(),
        2,
        "one welcome, however often confirmed"
    );
    let welcome = &mail[1];
    assert_eq!(welcome.subject(), "Welcome to Corner Bakery News");
    let list_unsubscribe = welcome
        .header("List-Unsubscribe")
        .expect("List-Unsubscribe");
    assert!(
        list_unsubscribe.starts_with(&format!("<{}", app.url("/unsubscribe/"))),
        "{list_unsubscribe}"
    );
    assert_eq!(
        welcome.header("List-Unsubscribe-Post").unwrap(),
        "List-Unsubscribe=One-Click"
    );
    assert_eq!(
        welcome.header("List-Id").unwrap(),
        "\"Corner Bakery News\" <corner-bakery-news.bakery.example>"
    );
    let welcome_id = welcome.parsed().message_id().unwrap().to_string();
    let confirmation_id = mail[0].parsed().message_id().unwrap().to_string();
    assert!(welcome_id.ends_with("@bakery.example"));
    assert_ne!(welcome_id, confirmation_id);
    let unsubscribe_url = list_unsubscribe
        .trim_start_matches('<')
        .split('>')
        .next()
        .unwrap()
        .to_string();
    assert!(
        welcome.text().contains(&unsubscribe_url),
        "a visible unsubscribe link in the text"
    );
    assert!(
        welcome.html().contains(&unsubscribe_url),
        "a visible unsubscribe link in the HTML"
    );

    // The consent record says how Ann joined.
    let subscriber = first_subscriber(&app, &token).await;
    assert_eq!(subscriber["status"], "confirmed");
    assert_eq!(subscriber["name"], "Ann Baker");
    let consent = &subscriber["consent"];
    assert_eq!(consent["source"], "hosted_form");
    assert_eq!(consent["signup_ip"], "127.0.0.1");
    assert_eq!(consent["confirmed_ip"], "127.0.0.1");
    assert!(consent["confirmed_at"].is_string());
    assert!(
        consent["consent_text"]
            .as_str()
            .unwrap()
            .contains("unsubscribe at any time")
    );
    assert_eq!(consent["consent_text_version"].as_str().unwrap().len(), 12);

    // The mail client's one-click unsubscribe: a POST with the RFC 8058 body.
    let response = app
        .client
        .post(&unsubscribe_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "2xx, never a redirect");
    assert!(response.headers().get("location").is_none());
    let subscriber = first_subscriber(&app, &token).await;
    assert_eq!(subscriber["status"], "unsubscribed");
    assert_eq!(subscriber["consent"]["unsubscribe_method"], "one_click");
    assert!(subscriber["consent"]["unsubscribed_at"].is_string());

    // Idempotent, and the page says so and offers to come back.
    let again = app
        .client
        .post(&unsubscribe_url)
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 200);
    assert!(again.text().await.unwrap().contains("Subscribe again"));
    let page = app.get(&unsubscribe_url).await.text().await.unwrap();
    assert!(page.contains("already unsubscribed"), "{page}");
}

async fn first_subscriber(app: &crate::helpers::TestApp, token: &str) -> serde_json::Value {
    let list: serde_json::Value = app.api_get("/subscribers", token).await;
    let id = list["subscribers"][0]["id"]
        .as_str()
        .expect("a subscriber")
        .to_string();
    app.api_get(&format!("/subscribers/{id}"), token).await
}

async fn a_returning_unsubscriber_goes_through_double_opt_in_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let welcome = app.confirmed_subscriber("cara@example.com").await;
    let unsubscribe_url = welcome
        .link_starting_with(&app.url("/unsubscribe/"))
        .unwrap();

    // The page's button unsubscribes, then offers to subscribe again.
    let page = app.get(&unsubscribe_url).await.text().await.unwrap();
    let action = form_action(&page).unwrap();
    let response = app.post_empty(&app.url(&action)).await;
    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("You're unsubscribed"));
    let subscriber = first_subscriber(&app, &token).await;
    assert_eq!(subscriber["consent"]["unsubscribe_method"], "page");

    let resubscribe = form_action(&page).expect("a resubscribe button");
    let response = app.post_empty(&app.url(&resubscribe)).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("Check your inbox"));

    // Pending again, with a new confirmation; not confirmed until the button is pressed.
    let mail = app.smtp.wait_for("cara@example.com", 3).await;
    assert!(mail[2].subject().starts_with("Please confirm"));
    let subscriber = first_subscriber(&app, &token).await;
    assert_eq!(subscriber["status"], "pending");
    assert!(subscriber["consent"]["confirmed_at"].is_null());

    let link = mail[2].link_starting_with(&app.url("/confirm/")).unwrap();
    assert_eq!(app.post_empty(&link).await.status(), 200);
    assert_eq!(first_subscriber(&app, &token).await["status"], "confirmed");
}

async fn forged_and_expired_links_get_a_friendly_page(backend: Backend) {
    let secret = "a test secret key that is long enough";
    let app = crate::helpers::spawn_app_with(
        backend,
        crate::helpers::Options::default().env("HUNDRED_SECRET_KEY", secret),
    )
    .await;
    let link = app.signup_and_get_confirm_link("dan@example.com").await;
    let token = link.rsplit('/').next().unwrap();

    // A forged token: a changed character.
    let mut forged: Vec<char> = token.chars().collect();
    forged[10] = if forged[10] == 'A' { 'B' } else { 'A' };
    let forged: String = forged.into_iter().collect();
    for path in [
        format!("/confirm/{forged}"),
        "/confirm/nonsense".to_string(),
        format!("/unsubscribe/{forged}"),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status(), 404, "{path}");
        let page = response.text().await.unwrap();
        if path.starts_with("/confirm/") {
            assert!(page.contains("Sign up again"), "{page}");
        } else {
            // Someone trying to leave is told how else to leave, not offered to join.
            assert!(page.contains("reply to one of them"), "{page}");
            assert!(!page.contains("Sign up again"), "{page}");
        }
        let response = app.post_empty(&app.url(&path)).await;
        assert_eq!(response.status(), 404);
        assert!(response.headers().get("location").is_none());
    }

    // An expired one, signed with the right key but a week and a day old.
    let signer = hundred::signing::Signer::new(secret.as_bytes());
    let claims = signer
        .verify(hundred::signing::TokenPurpose::Confirm, token)
        .unwrap();
    let long_ago = time::OffsetDateTime::now_utc() - time::Duration::days(8);
    let expired = signer.confirm_token(claims.subject, long_ago, time::Duration::days(7));
    let response = app.get(&format!("/confirm/{expired}")).await;
    assert_eq!(response.status(), 410);
    assert!(response.text().await.unwrap().contains("expired"));
    assert_eq!(
        app.post_empty(&app.url(&format!("/confirm/{expired}")))
            .await
            .status(),
        410
    );

    // A confirm token is not an unsubscribe token.
    assert_eq!(
        app.get(&format!("/unsubscribe/{token}")).await.status(),
        404
    );
    // The real link still works.
    assert_eq!(app.post_empty(&link).await.status(), 200);
}

async fn instances_sharing_a_database_accept_each_others_links(backend: Backend) {
    // No HUNDRED_SECRET_KEY: the first instance generates one and stores it; the second,
    // started on the same database, must sign and verify alike.
    let first = spawn_app(backend).await;
    let link = first
        .signup_and_get_confirm_link("shared@example.com")
        .await;
    let second = crate::helpers::spawn_app_with(
        backend,
        crate::helpers::Options {
            database_url: Some(first.database_url.clone()),
            ..Default::default()
        },
    )
    .await;
    let token = link.rsplit('/').next().unwrap();
    let response = second
        .post_empty(&second.url(&format!("/confirm/{token}")))
        .await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("You're subscribed"));
    // The welcome goes out through whichever instance claims it, exactly once.
    let both = || {
        first.smtp.messages_to("shared@example.com").len()
            + second.smtp.messages_to("shared@example.com").len()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    while both() < 2 {
        assert!(std::time::Instant::now() < deadline, "no welcome");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    settle().await;
    assert_eq!(both(), 2, "one confirmation and one welcome in all");
}
