//! The settings, declared once: for each one its environment variable(s), its default and
//! meaning (the words of README's configuration table, which a test checks against this
//! table) and how the settings page shows it, secrets masked.
//!
//! Parsing stays in [`super::Config::from_lookup`], because settings depend on each other
//! (the public URL follows the listen address, DKIM needs three variables together); it
//! may read only variables declared here, and a test checks it reads every one of them.

use std::time::Duration;

use super::{Config, redact_url};

/// One row of README's configuration table, and of the settings page.
pub struct Setting {
    /// The variables, more than one when they only work together (DKIM, STARTTLS).
    pub variables: &'static [&'static str],
    /// The default, in README's words (Markdown).
    pub default: &'static str,
    /// Its value, or what it points to, is a password or a key: never shown.
    pub secret: bool,
    /// What it means, in README's words (Markdown).
    pub meaning: &'static str,
    /// The value in effect for the settings page, every secret masked; `None` for a
    /// variable read by someone else (`RUST_LOG`, read by the log filter).
    pub summary: Option<fn(&Config) -> String>,
}

impl Setting {
    /// The variables as the settings page names them: `HUNDRED_A, HUNDRED_B`.
    pub fn label(&self) -> String {
        self.variables.join(", ")
    }

    /// This setting as one row of README's Markdown table.
    pub fn markdown_row(&self) -> String {
        let variables = self
            .variables
            .iter()
            .map(|variable| format!("`{variable}`"))
            .collect::<Vec<_>>()
            .join(", ");
        format!("| {variables} | {} | {} |", self.default, self.meaning)
    }
}

/// README's configuration table, header included, as it must read.
pub fn markdown_table() -> String {
    let mut table = String::from("| variable | default | meaning |\n|---|---|---|\n");
    for setting in SETTINGS {
        table.push_str(&setting.markdown_row());
        table.push('\n');
    }
    table
}

/// Whether `variable` is declared in [`SETTINGS`].
pub fn declares(variable: &str) -> bool {
    SETTINGS
        .iter()
        .any(|setting| setting.variables.contains(&variable))
}

fn hidden(set: bool, unset: &str) -> String {
    if set {
        "set (hidden)".to_string()
    } else {
        unset.to_string()
    }
}

fn or_unset(value: Option<String>, unset: &str) -> String {
    value.unwrap_or_else(|| unset.into())
}

fn seconds(duration: Duration) -> String {
    format!("{} s", duration.as_secs_f64())
}

fn on_off(on: bool) -> String {
    if on { "on" } else { "off" }.to_string()
}

/// Every setting, in README's order.
pub static SETTINGS: &[Setting] = &[
    Setting {
        variables: &["HUNDRED_DATABASE_URL"],
        default: r#"`sqlite://data/hundred.db`"#,
        secret: true,
        meaning: r#"SQLite file (folder and file created, WAL mode) or `postgres://…`"#,
        summary: Some(|c| redact_url(&c.database_url)),
    },
    Setting {
        variables: &["HUNDRED_LISTEN"],
        default: r#"`127.0.0.1:8080`"#,
        secret: false,
        meaning: r#"HTTP listen address"#,
        summary: Some(|c| c.listen.to_string()),
    },
    Setting {
        variables: &["HUNDRED_PUBLIC_URL"],
        default: r#"follows `HUNDRED_LISTEN`: `http://127.0.0.1:8080` by default, `http://127.0.0.1:9090` with `HUNDRED_LISTEN=127.0.0.1:9090`; an address listening everywhere is reached on loopback (`0.0.0.0:9090` → `http://127.0.0.1:9090`, `[::]:9090` → `http://[::1]:9090`); with port 0, `:8080`"#,
        secret: false,
        meaning: r#"base of every link in mail and of the setup link printed at start; set it to the address readers reach (`https://news.example.com`) as soon as anyone but you gets mail"#,
        summary: Some(|c| c.public_url.to_string()),
    },
    Setting {
        variables: &["HUNDRED_SMTP_URL"],
        default: r#"unset: `.eml` files in the outbox"#,
        secret: true,
        meaning: r#"`smtp://[user:pass@]host:port` (add `?tls=required` for STARTTLS, `?tls=opportunistic` for STARTTLS when offered) or `smtps://…`. A user name and password are only sent encrypted: with them, start-up refuses a URL without `?tls=required` or `smtps://` (opportunistic STARTTLS can be stripped by anyone in between), unless the server is on this machine (`localhost`, `127.0.0.0/8`, `::1`) or the URL says `?tls=none` to accept sending them in clear"#,
        summary: Some(|c| {
            or_unset(
                c.smtp_url.as_ref().map(|url| redact_url(url.expose())),
                &format!("unset: .eml files in {}", c.outbox_dir.display()),
            )
        }),
    },
    Setting {
        variables: &["HUNDRED_OUTBOX_DIR"],
        default: r#"`data/outbox`"#,
        secret: false,
        meaning: r#"where `.eml` files go when no SMTP relay is set"#,
        summary: Some(|c| c.outbox_dir.display().to_string()),
    },
    Setting {
        variables: &["HUNDRED_FROM"],
        default: r#"`Newsletter <newsletter@localhost>`"#,
        secret: false,
        meaning: r#"fixes the app setting `from` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_REPLY_TO"],
        default: r#"unset: replies go to From"#,
        secret: false,
        meaning: r#"fixes the app setting `reply_to` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_BOUNCE_ADDRESS"],
        default: r#"unset: the From address"#,
        secret: false,
        meaning: r#"envelope sender; each message gets `local+TOKEN@domain` (VERP), so a bounce names its delivery"#,
        summary: Some(|c| {
            or_unset(
                c.bounce_address.as_ref().map(ToString::to_string),
                "unset: bounces go to From",
            )
        }),
    },
    Setting {
        variables: &[
            "HUNDRED_DKIM_DOMAIN",
            "HUNDRED_DKIM_SELECTOR",
            "HUNDRED_DKIM_KEY_FILE",
        ],
        default: r#"unset: no signing"#,
        secret: true,
        meaning: r#"DKIM signing, all three together. The key: RSA in PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`), Ed25519 in PKCS#8 PEM (`openssl genpkey -algorithm ed25519`), or a base64 Ed25519 seed. Signed: From, To, Subject, Date, Message-ID, Reply-To, List-Unsubscribe, List-Unsubscribe-Post, List-Id, MIME-Version (relaxed/relaxed)"#,
        summary: Some(|c| {
            or_unset(
                c.dkim.as_ref().map(|dkim| {
                    format!(
                        "signing as {}._domainkey.{} (key hidden)",
                        dkim.selector, dkim.domain
                    )
                }),
                "unset: no signing",
            )
        }),
    },
    Setting {
        variables: &["HUNDRED_TRACKING"],
        default: r#"`on`"#,
        secret: false,
        meaning: r#"fixes the app setting `tracking` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_MACHINE_WINDOW_SECONDS"],
        default: r#"`10`"#,
        secret: false,
        meaning: r#"fixes the app setting `machine_window_seconds` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_ENGAGEMENT_HALF_LIFE_DAYS"],
        default: r#"`60`"#,
        secret: false,
        meaning: r#"fixes the app setting `engagement_half_life_days` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_APPLE_PROXY_RANGES"],
        default: r#"`17.0.0.0/8`"#,
        secret: false,
        meaning: r#"comma-separated address ranges of Apple Mail Privacy Protection's proxies; opens from there are machine opens"#,
        summary: Some(|c| {
            c.apple_proxy_ranges
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        }),
    },
    Setting {
        variables: &["HUNDRED_INSTANCE_ID"],
        default: r#"`hostname:port`"#,
        secret: false,
        meaning: r#"names this instance's senders; a restarted instance takes over at once the deliveries its previous run left in flight"#,
        summary: Some(|c| c.instance_id.clone()),
    },
    Setting {
        variables: &["HUNDRED_LIST_NAME"],
        default: r#"the From name"#,
        secret: false,
        meaning: r#"fixes the app setting `list_name` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_LANGUAGE"],
        default: r#"`en`"#,
        secret: false,
        meaning: r#"fixes the app setting `language` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_UNSUBSCRIBE_MAILTO"],
        default: r#"unset"#,
        secret: false,
        meaning: r#"fixes the app setting `unsubscribe_mailto` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_CONSENT_TEXT"],
        default: r#""Yes, send me the newsletter…", in the list's language"#,
        secret: false,
        meaning: r#"fixes the app setting `consent_text` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_SECRET_KEY"],
        default: r#"generated once and stored in the database"#,
        secret: true,
        meaning: r#"key for signed links (at least 32 characters); every instance on one database shares it"#,
        summary: Some(|c| {
            hidden(
                c.secret_key.is_some(),
                "unset: generated once and stored in the database",
            )
        }),
    },
    Setting {
        variables: &["HUNDRED_SEND_RATE"],
        default: r#"`50`"#,
        secret: false,
        meaning: r#"fixes the app setting `send_rate` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_SEND_CONCURRENCY"],
        default: r#"`4`"#,
        secret: false,
        meaning: r#"fixes the app setting `send_concurrency` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_RETRY_BASE_MS"],
        default: r#"`10000`"#,
        secret: false,
        meaning: r#"first retry after a temporary failure comes 1–2× this later (at most 15000); later ones back off ×4, up to an hour"#,
        summary: Some(|c| format!("first retry after {} ms", c.retry.base.as_millis())),
    },
    Setting {
        variables: &["HUNDRED_MAX_ATTEMPTS"],
        default: r#"`8`"#,
        secret: false,
        meaning: r#"attempts before a message is marked failed"#,
        summary: Some(|c| format!("at most {} attempts", c.retry.max_attempts)),
    },
    Setting {
        variables: &["HUNDRED_SIGNUP_BURST"],
        default: r#"`20`"#,
        secret: false,
        meaning: r#"fixes the app setting `signup_burst` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_SIGNUP_PER_MINUTE"],
        default: r#"`10`"#,
        secret: false,
        meaning: r#"fixes the app setting `signup_per_minute` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_SIGNUP_MIN_FILL_SECONDS"],
        default: r#"`3`"#,
        secret: false,
        meaning: r#"fixes the app setting `signup_min_fill_seconds` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_CONFIRMATION_INTERVAL_SECONDS"],
        default: r#"`600`"#,
        secret: false,
        meaning: r#"fixes the app setting `confirmation_interval_seconds` (see "Settings in the app"): set, it wins over what the owner saved, and the settings page shows it as fixed"#,
        summary: None,
    },
    Setting {
        variables: &["HUNDRED_TRUST_PROXY"],
        default: r#"`false`"#,
        secret: false,
        meaning: r#"take the client IP from `X-Forwarded-For` (only behind your own reverse proxy): its last entry, the one your proxy added; what a client writes there itself is ignored"#,
        summary: Some(|c| on_off(c.trust_proxy_headers)),
    },
    Setting {
        variables: &["HUNDRED_INBOUND_SECRET"],
        default: r#"unset: webhook off (404)"#,
        secret: true,
        meaning: r#"bearer secret for `POST /inbound/mime`"#,
        summary: Some(|c| {
            hidden(
                c.inbound_secret.is_some(),
                "unset: the POST /inbound/mime webhook is off",
            )
        }),
    },
    Setting {
        variables: &["HUNDRED_INBOUND_SMTP_LISTEN"],
        default: r#"unset: off"#,
        secret: false,
        meaning: r#"address of the built-in SMTP listener for replies and bounces, e.g. `0.0.0.0:2525`; it takes mail only for the domains of `HUNDRED_REPLY_TO` and `HUNDRED_BOUNCE_ADDRESS` (any, if neither is set), never relays, and answers 250 only once a message is stored (limits below, under "The built-in SMTP listener")"#,
        summary: Some(|c| or_unset(c.inbound_smtp_listen.map(|a| a.to_string()), "unset: off")),
    },
    Setting {
        variables: &["HUNDRED_INBOUND_SMTP_MAX_CONNECTIONS"],
        default: r#"`64`"#,
        secret: false,
        meaning: r#"connections the SMTP listener holds at once; when all are taken, a newcomer takes the place of the session that has waited longest (over 2 s) for a command, else it gets `421 4.7.0`"#,
        summary: Some(|c| format!("{} connections", c.inbound_smtp_max_connections)),
    },
    Setting {
        variables: &["HUNDRED_INBOUND_SMTP_MAX_PER_CLIENT"],
        default: r#"`8`"#,
        secret: false,
        meaning: r#"connections one client address (IPv6: one /64) may hold at once; one more gets `421 4.7.0` and is closed"#,
        summary: Some(|c| format!("{} from one client address", c.inbound_smtp_max_per_client)),
    },
    Setting {
        variables: &["HUNDRED_INBOUND_TLS_CERT", "HUNDRED_INBOUND_TLS_KEY"],
        default: r#"unset: no STARTTLS"#,
        secret: true,
        meaning: r#"PEM files of the certificate chain (leaf first) and its private key (PKCS#8, PKCS#1 or SEC1) the SMTP listener offers with STARTTLS; both or neither; read at start, so a missing file or a key that does not go with the certificate stops start-up with one line naming the variable"#,
        summary: Some(|c| {
            or_unset(
                c.inbound_tls
                    .as_ref()
                    .map(|tls| format!("STARTTLS with {} (key hidden)", tls.cert_file.display())),
                "unset: no STARTTLS",
            )
        }),
    },
    Setting {
        variables: &["HUNDRED_SHUTDOWN_GRACE_SECONDS"],
        default: r#"`30`"#,
        secret: false,
        meaning: r#"how long a stop (SIGTERM, Ctrl-C) waits for work in flight: requests, sends, a message being received; then it is cut off (it stays queued), and the database gets at most 5 s more to close. Keep it 5 s under your supervisor's stop timeout (Docker's default is 10 s: set 5)"#,
        summary: Some(|c| seconds(c.shutdown_grace)),
    },
    Setting {
        variables: &["HUNDRED_TRUSTED_AUTHSERV_ID"],
        default: r#"unset: a reply matched by its From address alone stays unverified"#,
        secret: false,
        meaning: r#"the authserv-id of your own receiving mail server (the first word of the `Authentication-Results` it writes, e.g. `mx.google.com`, `amazonses.com`, or your Postfix's host name): its DMARC or DKIM pass for the From domain verifies a reply that carries no token of ours (below, "Mail that comes back")"#,
        summary: Some(|c| {
            or_unset(
                c.trusted_authserv_id.clone(),
                "unset: a reply matched by its From address alone stays unverified",
            )
        }),
    },
    Setting {
        variables: &["HUNDRED_IMAP_URL"],
        default: r#"unset: off"#,
        secret: true,
        meaning: r#"a mailbox polled for replies and bounces, so they can stay in your own mailbox: `imaps://user:password@host[:port]/MAILBOX` (TLS, port 993) or `imap://…` (STARTTLS required, port 143; add `?tls=none` for no TLS at all, only for a server on the same machine or network). User and password percent-encoded (`@` is `%40`); the mailbox defaults to `INBOX`. Unread messages are received one by one and marked read once stored; nothing is deleted or moved (below)"#,
        summary: Some(|c| or_unset(c.imap.as_ref().map(ToString::to_string), "unset: off")),
    },
    Setting {
        variables: &["HUNDRED_IMAP_POLL_SECONDS"],
        default: r#"`60`"#,
        secret: false,
        meaning: r#"how often that mailbox is read; after a failure (server down, wrong password) the wait doubles each time, up to 15 minutes"#,
        summary: Some(|c| seconds(c.imap_poll_interval)),
    },
    Setting {
        variables: &["RUST_LOG"],
        default: r#"`info`"#,
        secret: false,
        meaning: r#"log filter (`tracing` syntax)"#,
        summary: None,
    },
];

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::collections::BTreeSet;

    use super::*;

    /// README's configuration table as it stands: from its header to the first line that
    /// is not a table row.
    fn readme_table() -> String {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
        let readme = std::fs::read_to_string(path).expect("README.md is readable");
        let mut table = String::new();
        let mut inside = false;
        for line in readme.lines() {
            if line == "| variable | default | meaning |" {
                inside = true;
            }
            if inside {
                if !line.starts_with('|') {
                    break;
                }
                table.push_str(line);
                table.push('\n');
            }
        }
        assert!(!table.is_empty(), "README.md has no configuration table");
        table
    }

    fn variables_in(table: &str) -> BTreeSet<String> {
        table
            .lines()
            .skip(2)
            .filter_map(|row| row.split(" | ").next())
            .flat_map(|cell| cell.trim_start_matches("| ").split(", "))
            .map(|variable| variable.trim_matches('`').to_string())
            .collect()
    }

    #[test]
    fn readme_lists_the_settings_as_declared() {
        let readme = readme_table();
        let expected = markdown_table();
        let (in_readme, declared) = (variables_in(&readme), variables_in(&expected));
        let undeclared: Vec<_> = in_readme.difference(&declared).collect();
        let unlisted: Vec<_> = declared.difference(&in_readme).collect();
        assert!(
            undeclared.is_empty() && unlisted.is_empty(),
            "in README but not in config::SETTINGS: {undeclared:?}; \
             in config::SETTINGS but not in README: {unlisted:?}"
        );
        for (readme_row, expected_row) in readme.lines().zip(expected.lines()) {
            assert_eq!(
                readme_row, expected_row,
                "README's configuration table differs from config::SETTINGS; \
                 paste this table into README.md (or fix SETTINGS):\n\n{expected}"
            );
        }
        assert_eq!(readme, expected, "README's table, then SETTINGS's");
    }

    /// `cargo test --lib print_the_readme_table -- --ignored --nocapture` prints the table
    /// for pasting into README.md.
    #[test]
    #[ignore = "prints README's configuration table"]
    fn print_the_readme_table() {
        print!("{}", markdown_table());
    }

    #[test]
    fn parsing_reads_every_declared_variable() {
        let read = RefCell::new(BTreeSet::new());
        Config::from_lookup(|name| {
            read.borrow_mut().insert(name.to_string());
            None
        })
        .expect("the defaults are valid");
        let declared: BTreeSet<String> = SETTINGS
            .iter()
            .filter(|setting| setting.variables != ["RUST_LOG"])
            .flat_map(|setting| setting.variables.iter().map(ToString::to_string))
            .collect();
        assert_eq!(read.into_inner(), declared);
    }

    #[test]
    fn every_setting_has_words_and_one_row() {
        let mut seen = BTreeSet::new();
        for setting in SETTINGS {
            assert!(!setting.variables.is_empty());
            assert!(!setting.default.is_empty() && !setting.meaning.is_empty());
            for variable in setting.variables {
                assert!(seen.insert(*variable), "{variable} is declared twice");
            }
        }
    }
}
