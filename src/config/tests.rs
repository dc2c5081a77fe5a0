//! Reading the configuration: defaults, each variable's checks, and the one-line errors.

use super::*;

fn with(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let map = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_map(&map)
}

#[test]
fn defaults_work_on_a_fresh_machine() {
    let config = with(&[]).expect("defaults are valid");
    assert_eq!(config.database_url, "sqlite://data/hundred.db");
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
    assert!(config.smtp_url.is_none());
    assert_eq!(config.sending_domain(), "localhost");
}

#[test]
fn the_public_url_follows_the_listen_address() {
    let public = |listen: &str| {
        with(&[("HUNDRED_LISTEN", listen)])
            .unwrap()
            .public_base()
            .to_string()
    };
    assert_eq!(public("127.0.0.1:8080"), "http://127.0.0.1:8080");
    assert_eq!(public("127.0.0.1:9090"), "http://127.0.0.1:9090");
    assert_eq!(public("192.0.2.10:80"), "http://192.0.2.10");
    assert_eq!(public("0.0.0.0:9090"), "http://127.0.0.1:9090");
    assert_eq!(public("[::]:9090"), "http://[::1]:9090");
    assert_eq!(public("[2001:db8::5]:9090"), "http://[2001:db8::5]:9090");
    assert_eq!(public("127.0.0.1:0"), "http://127.0.0.1:8080");
    let set = with(&[
        ("HUNDRED_LISTEN", "0.0.0.0:9090"),
        ("HUNDRED_PUBLIC_URL", "https://news.example"),
    ])
    .unwrap();
    assert_eq!(set.public_base(), "https://news.example", "a set URL wins");
}

#[test]
fn a_password_for_a_distant_smtp_server_needs_tls() {
    let err = with(&[("HUNDRED_SMTP_URL", "smtp://me:hunter2@mail.example.com:587")]).unwrap_err();
    assert_eq!(err.variable, "HUNDRED_SMTP_URL");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    assert!(with(&[("HUNDRED_SMTP_URL", "smtp://me:hunter2@127.0.0.1:2525")]).is_ok());
}

#[test]
fn a_bad_value_names_its_variable() {
    let err = with(&[("HUNDRED_LISTEN", "nowhere")]).unwrap_err();
    assert_eq!(err.variable, "HUNDRED_LISTEN");
    let err = with(&[("HUNDRED_DATABASE_URL", "mysql://x")]).unwrap_err();
    assert!(err.to_string().starts_with("HUNDRED_DATABASE_URL:"));
    assert!(err.to_string().contains("sqlite://") && err.to_string().contains("postgres://"));
    let err = with(&[("HUNDRED_SMTP_URL", "ftp://x")]).unwrap_err();
    assert_eq!(err.variable, "HUNDRED_SMTP_URL");
    let err = with(&[("HUNDRED_FROM", "not an address")]).unwrap_err();
    assert_eq!(err.variable, "HUNDRED_FROM");
    let err = with(&[("HUNDRED_SIGNUP_MIN_FILL_SECONDS", "30")]).unwrap_err();
    assert_eq!(err.variable, "HUNDRED_SIGNUP_MIN_FILL_SECONDS");
    let err = with(&[("HUNDRED_IMAP_URL", "pop3://me:hunter2@mail.example.com")]).unwrap_err();
    assert_eq!(err.variable, "HUNDRED_IMAP_URL");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    for seconds in ["0", "soon"] {
        let err = with(&[("HUNDRED_IMAP_POLL_SECONDS", seconds)]).unwrap_err();
        assert_eq!(err.variable, "HUNDRED_IMAP_POLL_SECONDS");
    }
}

#[test]
fn dkim_needs_all_three_settings() {
    let err = with(&[("HUNDRED_DKIM_DOMAIN", "bakery.example")]).unwrap_err();
    assert_eq!(err.variable, "HUNDRED_DKIM_SELECTOR");
    // The key itself is read when the signer is built at start-up (mail::dkim's tests).
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dkim-rsa.pem");
    let config = with(&[
        ("HUNDRED_DKIM_DOMAIN", "bakery.example"),
        ("HUNDRED_DKIM_SELECTOR", "s1"),
        ("HUNDRED_DKIM_KEY_FILE", key),
    ])
    .unwrap();
    assert!(
        !format!("{config:?}").contains("PRIVATE"),
        "the key is never printed"
    );
}

#[test]
fn secrets_are_masked() {
    let config = with(&[
        (
            "HUNDRED_SMTP_URL",
            "smtp://me:hunter2@mail.example.com:587?tls=required",
        ),
        ("HUNDRED_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        (
            "HUNDRED_IMAP_URL",
            "imaps://shop:hunter2@imap.example.com/INBOX",
        ),
    ])
    .unwrap();
    let summary = format!("{:?} {:?}", config.masked_summary(), config);
    assert!(!summary.contains("hunter2"));
    assert!(!summary.contains("0123456789abcdef0123456789abcdef"));
}

#[test]
fn every_secret_is_masked_in_the_summary() {
    let key = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/dkim-rsa.pem");
    let values = [
        (
            "HUNDRED_DATABASE_URL",
            "postgres://shop:dbsecret1@db.example/news?sslpassword=dbsecret2&application_name=hundred",
        ),
        (
            "HUNDRED_SMTP_URL",
            "smtps://me%40x:smtp%2Fsecret@mail.example.com",
        ),
        ("HUNDRED_SECRET_KEY", "0123456789abcdef0123456789abcdef"),
        ("HUNDRED_INBOUND_SECRET", "inbound-secret-value"),
        (
            "HUNDRED_IMAP_URL",
            "imaps://shop:imapsecret@imap.example.com/INBOX",
        ),
        ("HUNDRED_DKIM_DOMAIN", "bakery.example"),
        ("HUNDRED_DKIM_SELECTOR", "s1"),
        ("HUNDRED_DKIM_KEY_FILE", key),
    ];
    // A new secret setting gets a value here, so its masking is tested (STARTTLS's
    // key needs a certificate to go with it: tests/api/smtp_listener.rs sets one).
    for setting in SETTINGS.iter().filter(|setting| setting.secret) {
        assert!(
            setting.variables.contains(&"HUNDRED_INBOUND_TLS_CERT")
                || values.iter().any(|(v, _)| setting.variables.contains(v)),
            "secret {:?} is not tested here",
            setting.variables
        );
    }
    let config = with(&values).unwrap();
    let summary = format!("{:?}", config.masked_summary());
    for secret in [
        "dbsecret1",
        "dbsecret2",
        "smtp%2Fsecret",
        "smtp/secret",
        "0123456789abcdef",
        "inbound-secret-value",
        "imapsecret",
        "PRIVATE",
    ] {
        assert!(!summary.contains(secret), "{secret} in {summary}");
    }
    assert!(summary.contains("application_name=hundred"), "{summary}");
    assert!(
        summary.contains("s1._domainkey.bakery.example"),
        "{summary}"
    );
    assert!(summary.contains("mail.example.com"), "{summary}");
}

#[test]
fn the_smtp_listener_limits_and_the_grace_have_defaults_and_checked_values() {
    let config = with(&[]).unwrap();
    assert_eq!(config.inbound_smtp_max_connections, 64);
    assert_eq!(config.inbound_smtp_max_per_client, 8);
    assert!(config.inbound_tls.is_none());
    assert_eq!(config.shutdown_grace, Duration::from_secs(30));
    let config = with(&[
        ("HUNDRED_INBOUND_SMTP_MAX_CONNECTIONS", "200"),
        ("HUNDRED_INBOUND_SMTP_MAX_PER_CLIENT", "2"),
        ("HUNDRED_SHUTDOWN_GRACE_SECONDS", "5"),
    ])
    .unwrap();
    assert_eq!(config.inbound_smtp_max_connections, 200);
    assert_eq!(config.inbound_smtp_max_per_client, 2);
    assert_eq!(config.shutdown_grace, Duration::from_secs(5));
    for (variable, value) in [
        ("HUNDRED_INBOUND_SMTP_MAX_CONNECTIONS", "0"),
        ("HUNDRED_INBOUND_SMTP_MAX_PER_CLIENT", "many"),
        ("HUNDRED_SHUTDOWN_GRACE_SECONDS", "0"),
        ("HUNDRED_SHUTDOWN_GRACE_SECONDS", "86400"),
        ("HUNDRED_INBOUND_TLS_KEY", "/some/key.pem"),
    ] {
        let err = with(&[(variable, value)]).unwrap_err();
        let expected = if variable == "HUNDRED_INBOUND_TLS_KEY" {
            "HUNDRED_INBOUND_TLS_CERT"
        } else {
            variable
        };
        assert_eq!(err.variable, expected, "{variable}={value}");
    }
}

/// `cargo test --lib print_the_owner_table -- --ignored --nocapture` prints README's table
/// of the settings in the app.
#[test]
#[ignore = "prints README's table of the settings in the app"]
fn print_the_owner_table() {
    print!("{}", owner_markdown_table());
}

#[test]
fn readme_lists_the_settings_in_the_app_as_declared() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("README.md is readable");
    let table = owner_markdown_table();
    assert!(
        readme.contains(&table),
        "README's table of the settings in the app differs from config::OWNER_SETTINGS; \
         paste this into README.md:\n\n{table}"
    );
}

#[test]
fn a_variable_fixes_its_setting_with_the_same_check_as_the_app() {
    let config = with(&[("HUNDRED_SEND_RATE", "12.5"), ("HUNDRED_TRACKING", "off")]).unwrap();
    assert_eq!(config.owner.send_rate, 12.5);
    assert!(!config.owner.tracking);
    assert_eq!(config.fixed.get("send_rate"), Some(&"HUNDRED_SEND_RATE"));
    assert_eq!(config.fixed.get("tracking"), Some(&"HUNDRED_TRACKING"));
    assert!(!config.fixed.contains_key("from"));
    let err = with(&[("HUNDRED_SEND_RATE", "-1")]).unwrap_err();
    assert_eq!(err.variable, "HUNDRED_SEND_RATE");
    let mut settings = OwnerSettings::default();
    assert_eq!(
        settings.set("send_rate", Some("-1")),
        Err(SettingProblem::Invalid(err.problem.clone()))
    );
}

#[test]
fn every_setting_in_the_app_reads_back_what_it_wrote() {
    let mut settings = OwnerSettings::default();
    for (key, raw) in [
        ("list_name", "The Bakery"),
        ("from", "Bakery <news@bakery.example>"),
        ("reply_to", "replies@bakery.example"),
        ("postal_address", "1 Main St\nSpringfield"),
        ("accent_color", "#AA3300"),
        ("tracking", "off"),
        ("machine_window_seconds", "30"),
        ("send_rate", "7"),
        ("signup_min_fill_seconds", "2"),
        ("language", "fr"),
        ("consent_text", "Oui, écrivez-moi."),
    ] {
        settings.set(key, Some(raw)).unwrap();
        let setting = OwnerSetting::named(key).unwrap();
        let text = setting.text(&settings).unwrap();
        let mut again = OwnerSettings::default();
        again.set(key, Some(&text)).unwrap();
        assert_eq!(setting.text(&again), Some(text), "{key}");
    }
    assert_eq!(settings.accent_color, "#aa3300");
    for (key, raw) in [
        ("accent_color", "red"),
        ("signup_min_fill_seconds", "6"),
        ("send_concurrency", "0"),
        ("from", "not an address"),
        ("list_name", "two\nlines"),
        ("logo", "not-a-uuid"),
        ("engagement_half_life_days", "0.5"),
        ("language", "nl"),
    ] {
        assert!(
            matches!(
                settings.set(key, Some(raw)),
                Err(SettingProblem::Invalid(_))
            ),
            "{key} = {raw:?} should be refused"
        );
    }
    assert_eq!(
        settings.set("colour", Some("#000000")),
        Err(SettingProblem::Unknown)
    );
}

#[test]
fn the_language_is_a_setting_and_the_shipped_consent_text_follows_it() {
    use crate::domain::Language;
    assert_eq!(
        crate::i18n::text(Language::En, "consent-default", &[]),
        DEFAULT_CONSENT_TEXT
    );
    let config = with(&[("HUNDRED_LANGUAGE", "de")]).unwrap();
    assert_eq!(config.owner.language, Language::De);
    assert_eq!(config.fixed.get("language"), Some(&"HUNDRED_LANGUAGE"));
    assert!(config.owner.consent_text().starts_with("Ja, ich möchte"));
    let err = with(&[("HUNDRED_LANGUAGE", "nl")]).unwrap_err();
    assert_eq!(err.variable, "HUNDRED_LANGUAGE");
    assert_eq!(
        err.problem,
        "'nl' is not one of en (English), de (Deutsch), fr (Français), es (Español)"
    );

    // The settings form sends back the shipped text it showed: it stays the shipped one,
    // and follows the language. The owner's own words stay theirs.
    let mut settings = OwnerSettings::default();
    assert_eq!(settings.consent_text(), DEFAULT_CONSENT_TEXT);
    settings
        .set("consent_text", Some(DEFAULT_CONSENT_TEXT))
        .unwrap();
    settings.set("language", Some("es")).unwrap();
    assert!(settings.consent_text().starts_with("Sí, quiero recibir"));
    settings
        .set("consent_text", Some("Quiero el pan."))
        .unwrap();
    settings.set("language", Some("fr")).unwrap();
    assert_eq!(settings.consent_text(), "Quiero el pan.");
}
