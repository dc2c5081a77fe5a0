//! The list's language (the setting `language`, or `HUNDRED_LANGUAGE`): a reader lives the
//! whole double opt-in in German, pages and mail alike; French and Spanish readers get
//! their pages and mail in theirs, campaigns included; the owner switches it in the app
//! without a restart; the owner's pages stay English.

use crate::fixtures::{assert_contains, confirmed_email, only_copy, send_to_everyone};
use crate::helpers::{Backend, Captured, Options, TestApp, form_action, spawn_app, spawn_app_with};
use crate::on_both_databases;

on_both_databases!(
    in_german_a_reader_signs_up_confirms_and_leaves_in_german,
    in_french_the_signup_page_and_a_campaign_are_french,
    in_spanish_the_confirmation_and_a_broken_link_are_spanish,
    the_owner_switches_the_language_in_the_app_without_a_restart,
);

async fn app_in(backend: Backend, language: &str) -> TestApp {
    spawn_app_with(
        backend,
        Options::default().env("HUNDRED_LANGUAGE", language),
    )
    .await
}

/// A public page: its status, and that it declares `language`.
async fn page_in(response: reqwest::Response, status: u16, language: &str) -> String {
    assert_eq!(response.status(), status);
    let page = response.text().await.unwrap();
    assert_contains(
        &page,
        &format!("<html lang=\"{language}\">"),
        "the page says its language",
    );
    page
}

/// A message: sent in `language`, saying so in its header and in its HTML.
fn mail_in(mail: &Captured, language: &str) {
    assert_eq!(
        mail.header("Content-Language").as_deref(),
        Some(language),
        "{}",
        mail.raw_headers()
    );
    assert_contains(
        &mail.html(),
        &format!("<html lang=\"{language}\">"),
        "the HTML part says its language",
    );
}

async fn in_german_a_reader_signs_up_confirms_and_leaves_in_german(backend: Backend) {
    let app = app_in(backend, "de").await;

    // The signup page, and a refusal on it.
    let page = page_in(app.get("/subscribe").await, 200, "de").await;
    for words in [
        "<title>Corner Bakery News abonnieren</title>",
        "Hinterlassen Sie Ihre Adresse",
        "<label for=\"email\">E-Mail-Adresse</label>",
        "<span class=\"optional\">(optional)</span>",
        "Ja, ich möchte den Newsletter per E-Mail erhalten.",
        "<button type=\"submit\">Abonnieren</button>",
    ] {
        assert_contains(&page, words, "the German signup page");
    }
    let refused = app
        .post_subscribe_form(&[("email", "anna.example.com")])
        .await;
    let refused = page_in(refused, 400, "de").await;
    assert_contains(
        &refused,
        "Eine E-Mail-Adresse braucht genau ein @ zwischen Name und Domain",
        "the refusal in German",
    );

    // Signing up: the thank-you page and the confirmation, in German.
    let thanks = app
        .subscribe_via_page("anna@example.com", "Anna Weber")
        .await;
    let thanks = page_in(thanks, 200, "de").await;
    assert_contains(&thanks, "<h1>Fast geschafft</h1>", "");
    assert_contains(&thanks, "Sehen Sie in Ihrem Posteingang nach", "");
    let confirmation = app.smtp.wait_for("anna@example.com", 1).await.remove(0);
    mail_in(&confirmation, "de");
    assert_eq!(
        confirmation.subject(),
        "Bitte bestätigen Sie Ihr Abonnement von Corner Bakery News"
    );
    let text = confirmation.text();
    for words in [
        "Hallo Anna Weber,",
        "Bitte bestätigen Sie, dass Sie Corner Bakery News an **anna@example.com** erhalten möchten.",
        "Der Link ist 7 Tage lang gültig.",
        "Dem haben Sie zugestimmt: „Ja, ich möchte den Newsletter per E-Mail erhalten.",
    ] {
        assert_contains(&text, words, "the German confirmation");
    }
    assert_contains(
        &confirmation.html(),
        "an <strong>anna@example.com</strong> erhalten möchten.",
        "",
    );
    assert_contains(&confirmation.html(), ">Abonnement bestätigen</a>", "");

    // Confirming: the page with the button, then the confirmed page and the welcome.
    let link = confirmation
        .link_starting_with(&app.url("/confirm/"))
        .unwrap();
    let page = page_in(app.get(&link).await, 200, "de").await;
    assert_contains(&page, "<h1>Bestätigen Sie Ihr Abonnement</h1>", "");
    assert_contains(
        &page,
        "<button type=\"submit\">Ja, jetzt abonnieren</button>",
        "",
    );
    let confirmed = app.post_empty(&app.url(&form_action(&page).unwrap())).await;
    let confirmed = page_in(confirmed, 200, "de").await;
    assert_contains(&confirmed, "<h1>Ihr Abonnement ist bestätigt</h1>", "");
    assert_contains(&confirmed, "Eine Willkommensnachricht ist auf dem Weg", "");
    let welcome = app.smtp.wait_for("anna@example.com", 2).await.remove(1);
    mail_in(&welcome, "de");
    assert_eq!(welcome.subject(), "Willkommen bei Corner Bakery News");
    let text = welcome.text();
    assert_contains(&text, "Sie haben Corner Bakery News abonniert.", "");
    assert_contains(&text, "Mit einem Klick abmelden: ", "");
    assert_contains(
        &welcome.html(),
        "Sie erhalten Corner Bakery News, weil Sie sich mit anna@example.com angemeldet haben.",
        "",
    );

    // Leaving: the page with the button, then the unsubscribed page.
    let unsubscribe = welcome
        .link_starting_with(&app.url("/unsubscribe/"))
        .unwrap();
    let page = page_in(app.get(&unsubscribe).await, 200, "de").await;
    assert_contains(
        &page,
        "<p>Corner Bakery News nicht mehr an <strong>anna@example.com</strong> schicken?</p>",
        "",
    );
    assert_contains(&page, "<button type=\"submit\">Abmelden</button>", "");
    let left = app.post_empty(&app.url(&form_action(&page).unwrap())).await;
    let left = page_in(left, 200, "de").await;
    assert_contains(&left, "<h1>Sie sind abgemeldet</h1>", "");
    assert_contains(
        &left,
        "<strong>anna@example.com</strong> erhält Corner Bakery News nicht mehr.",
        "",
    );
    assert_contains(
        &left,
        "<button type=\"submit\">Wieder anmelden</button>",
        "",
    );

    // A website's script gets its answers in German too.
    let refused = app
        .post_subscribe_json(&serde_json::json!({ "email": "anna.example.com" }))
        .await;
    assert_eq!(refused.status(), 422);
    let refused: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(refused["field"], "email");
    assert!(
        refused["error"]
            .as_str()
            .unwrap()
            .starts_with("Eine E-Mail-Adresse braucht genau ein @"),
        "{refused}"
    );
    let thanks = app
        .post_subscribe_json(&serde_json::json!({ "email": "jonas@example.com" }))
        .await;
    let thanks: serde_json::Value = thanks.json().await.unwrap();
    assert!(
        thanks["message"]
            .as_str()
            .unwrap()
            .starts_with("Vielen Dank!"),
        "{thanks}"
    );

    // The owner's pages stay English; the form they put on their website is German.
    let login = page_in(app.get("/admin/login").await, 200, "en").await;
    assert_contains(&login, "<h1>Log in</h1>", "");
    let owner = app.owner().await;
    let tools = owner.page("/admin/tools/form").await;
    assert_contains(&tools, "<html lang=\"en\">", "the owner's page");
    assert_contains(
        &tools,
        "<label for=\"hundred-email\">E-Mail-Adresse</label>",
        "the form's preview",
    );
    assert_contains(
        &tools,
        "&lt;button type=&quot;submit&quot;&gt;Corner Bakery News abonnieren&lt;/button&gt;",
        "the form to copy",
    );
    assert_contains(&tools, "Wird gesendet…", "the script's words");
}

async fn in_french_the_signup_page_and_a_campaign_are_french(backend: Backend) {
    let app = app_in(backend, "fr").await;
    let page = page_in(app.get("/subscribe").await, 200, "fr").await;
    assert_contains(&page, "<h1>S’abonner à Corner Bakery News</h1>", "");
    assert_contains(&page, "<label for=\"email\">Adresse e-mail</label>", "");
    assert_contains(&page, "<span class=\"optional\">(facultatif)</span>", "");

    // A campaign's own words are the owner's; the layout around them speaks French.
    let token = app.api_token().await;
    confirmed_email(&app, &token, "claire@example.com").await;
    send_to_everyone(
        &app,
        &token,
        "Le pain du samedi",
        "Le seigle est de retour.",
    )
    .await;
    let copy = only_copy(&app, "claire@example.com");
    mail_in(&copy, "fr");
    assert_contains(
        &copy.html(),
        "Vous recevez Corner Bakery News suite à votre inscription avec l’adresse claire@example.com.",
        "the French footer",
    );
    assert_contains(&copy.html(), ">Se désabonner en un clic</a>", "");
    let text = copy.text();
    assert_contains(&text, "Le seigle est de retour.", "");
    assert_contains(&text, "Se désabonner en un clic\u{a0}: ", "");
    assert_contains(
        &text,
        "Ou répondez simplement\u{a0}: chaque réponse est lue par une personne.",
        "",
    );
    let unsubscribe = copy.link_starting_with(&app.url("/unsubscribe/")).unwrap();
    let page = page_in(app.get(&unsubscribe).await, 200, "fr").await;
    assert_contains(
        &page,
        "Ne plus envoyer Corner Bakery News à <strong>claire@example.com</strong>\u{a0}?",
        "",
    );
}

async fn in_spanish_the_confirmation_and_a_broken_link_are_spanish(backend: Backend) {
    let app = app_in(backend, "es").await;
    let response = app
        .post_subscribe_json(&serde_json::json!({ "email": "lucia@example.com" }))
        .await;
    assert_eq!(response.status(), 200);
    let confirmation = app.smtp.wait_for("lucia@example.com", 1).await.remove(0);
    mail_in(&confirmation, "es");
    assert_eq!(
        confirmation.subject(),
        "Confirme su suscripción a Corner Bakery News"
    );
    let text = confirmation.text();
    assert_eq!(
        greeting(&text),
        Some("Hola:"),
        "no name, so no name: {text}"
    );
    assert_contains(&text, "El enlace es válido durante 7 días.", "");
    assert_contains(
        &text,
        "Lo que ha aceptado: «Sí, quiero recibir el boletín",
        "",
    );
    let link = confirmation
        .link_starting_with(&app.url("/confirm/"))
        .unwrap();
    let page = page_in(app.get(&link).await, 200, "es").await;
    assert_contains(&page, "<h1>Confirme su suscripción</h1>", "");

    // A link cut short when it was copied: said in Spanish, with the way forward.
    let cut = &link[..link.len() - 6];
    let page = page_in(app.get(cut).await, 404, "es").await;
    assert_contains(
        &page,
        "<h1>Este enlace no es válido (o ya no lo es).</h1>",
        "",
    );
    assert_contains(&page, "<a href=\"/subscribe\">Volver a suscribirse</a>", "");
    let page = page_in(app.get("/unsubscribe/not-a-token").await, 404, "es").await;
    assert_contains(
        &page,
        "No hemos reconocido este enlace para darse de baja",
        "",
    );
}

async fn the_owner_switches_the_language_in_the_app_without_a_restart(backend: Backend) {
    let app = spawn_app(backend).await;
    let token = app.api_token().await;
    let settings = app.api_get("/settings", &token).await;
    assert_eq!(settings["language"], "en");
    let page = page_in(app.get("/subscribe").await, 200, "en").await;
    assert_contains(&page, "Yes, send me the newsletter by email.", "");

    // Through the API: a language hundred does not speak is refused, naming the field.
    let refused = app
        .api_json(
            reqwest::Method::PATCH,
            "/settings",
            &token,
            &serde_json::json!({ "language": "nl" }),
        )
        .await;
    assert_eq!(refused.status(), 422);
    let refused: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(refused["field"], "language");
    let changed = app
        .api_json(
            reqwest::Method::PATCH,
            "/settings",
            &token,
            &serde_json::json!({ "language": "es" }),
        )
        .await;
    assert_eq!(changed.status(), 200);
    let changed: serde_json::Value = changed.json().await.unwrap();
    assert_eq!(changed["language"], "es");
    assert!(
        changed["consent_text"]
            .as_str()
            .unwrap()
            .starts_with("Sí, quiero recibir el boletín"),
        "the shipped consent text follows the language: {changed}"
    );
    let page = page_in(app.get("/subscribe").await, 200, "es").await;
    assert_contains(&page, "<h1>Suscribirse a Corner Bakery News</h1>", "");
    assert_contains(
        &page,
        "Sí, quiero recibir el boletín por correo electrónico.",
        "",
    );

    // On the settings page: a select naming each language in itself; saving the form as
    // shown, with German chosen, makes everything German, the consent text included.
    let owner = app.owner().await;
    let settings_page = owner.page("/admin/settings").await;
    assert_contains(
        &settings_page,
        "<option value=\"de\" lang=\"de\">Deutsch</option>",
        "",
    );
    assert_contains(
        &settings_page,
        "<option value=\"es\" lang=\"es\" selected>Español</option>",
        "",
    );
    let consent_shown = "Sí, quiero recibir el boletín por correo electrónico. Puedo darme de baja en cualquier momento con el enlace que incluye cada mensaje.";
    let saved = owner
        .post_form(
            "/admin/settings",
            &[("language", "de"), ("consent_text", consent_shown)],
        )
        .await;
    assert_eq!(saved.status(), 303);
    let page = page_in(app.get("/subscribe").await, 200, "de").await;
    assert_contains(
        &page,
        "Ja, ich möchte den Newsletter per E-Mail erhalten.",
        "",
    );
    app.subscribe_via_page("jonas@example.com", "").await;
    let confirmation = app.smtp.wait_for("jonas@example.com", 1).await.remove(0);
    mail_in(&confirmation, "de");
    assert_eq!(greeting(&confirmation.text()), Some("Hallo,"));
}

/// A system message's greeting: the first line of its text part after the list's name
/// (the layout's header).
fn greeting(text: &str) -> Option<&str> {
    text.lines().filter(|line| !line.trim().is_empty()).nth(1)
}
