//! The settings the owner changes in the app (`/admin/settings`, `PATCH /api/v1/settings`),
//! declared once in [`OWNER_SETTINGS`]: for each its JSON key, the environment variable
//! that can fix it, its words for the page and README, and one parser that reads the value
//! whether it comes from the environment, the database or the API.
//!
//! Which value is in effect: the default, replaced by what the owner saved (kept in the
//! database, shared by every instance), replaced by the variable when it is set, which then
//! fixes the setting (the page shows it as fixed, the API answers 409). The live copy every
//! worker reads is [`LiveSettings`]; `actions::settings` saves, reloads and hands it out.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use lettre::message::Mailbox;
use uuid::Uuid;

use super::{DEFAULT_CONSENT_TEXT, SignupLimits};

/// The default accent colour: buttons, links and the header of mail and pages.
pub const DEFAULT_ACCENT_COLOR: &str = "#0b57d0";
const DEFAULT_FROM: &str = "Newsletter <newsletter@localhost>";

/// What the owner decides about their list, as the workers use it.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnerSettings {
    /// The list's name; `None`: the From name, or "Newsletter".
    pub list_name: Option<String>,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    /// The postal address commercial mail must carry (CAN-SPAM); shown in every footer.
    pub postal_address: Option<String>,
    pub consent_text: String,
    /// `#rrggbb`.
    pub accent_color: String,
    /// The logo, a media id.
    pub logo: Option<Uuid>,
    /// Open pixels and click tracking for everyone (it can also be off per subscriber).
    pub tracking: bool,
    /// Opens and clicks this soon after delivery are machines, not people.
    pub machine_window: Duration,
    /// How fast interest fades: a human signal counts half after this many days.
    pub engagement_half_life_days: f64,
    pub send_rate: f64,
    pub send_concurrency: usize,
    pub signup: SignupLimits,
    /// Added to `List-Unsubscribe` as a `mailto:`.
    pub unsubscribe_mailto: Option<String>,
}

impl Default for OwnerSettings {
    fn default() -> Self {
        Self {
            list_name: None,
            from: DEFAULT_FROM.parse().unwrap_or_else(|_| {
                Mailbox::new(None, lettre::Address::new("newsletter", "localhost").unwrap_or_else(|_| unreachable!()))
            }),
            reply_to: None,
            postal_address: None,
            consent_text: DEFAULT_CONSENT_TEXT.to_string(),
            accent_color: DEFAULT_ACCENT_COLOR.to_string(),
            logo: None,
            tracking: true,
            machine_window: Duration::from_secs(10),
            engagement_half_life_days: crate::domain::engagement::DEFAULT_HALF_LIFE_DAYS,
            send_rate: 50.0,
            send_concurrency: 4,
            signup: SignupLimits {
                burst_per_ip: 20,
                per_ip_per_minute: 10,
                min_fill_time: Duration::from_secs(3),
                confirmation_interval: Duration::from_secs(600),
            },
            unsubscribe_mailto: None,
        }
    }
}

impl OwnerSettings {
    /// The list's name: as set, else the From name, else "Newsletter".
    pub fn list_name(&self) -> String {
        self.list_name
            .clone()
            .or_else(|| self.from.name.clone())
            .unwrap_or_else(|| "Newsletter".into())
    }

    /// The domain our Message-IDs and List-Id live on: the From address's domain.
    pub fn sending_domain(&self) -> &str {
        self.from.email.domain()
    }

    /// Sets `key` from its text (`None`: back to the default). The error is a sentence
    /// about the value, for the page, the API and start-up alike.
    pub fn set(&mut self, key: &str, raw: Option<&str>) -> Result<(), SettingProblem> {
        let setting = OwnerSetting::named(key).ok_or(SettingProblem::Unknown)?;
        let raw = raw.map(str::trim).filter(|raw| !raw.is_empty());
        (setting.write)(self, raw).map_err(SettingProblem::Invalid)
    }
}

/// Why a value was not taken.
#[derive(Debug, Clone, PartialEq)]
pub enum SettingProblem {
    /// No such setting.
    Unknown,
    /// The value does not fit; the sentence says why.
    Invalid(String),
}

/// How the settings page shows a setting's field.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Line,
    Lines,
    Number,
    Switch,
    Color,
    Media,
}

/// One setting the owner changes in the app.
pub struct OwnerSetting {
    /// The JSON key (`PATCH /api/v1/settings`) and the form field's name.
    pub key: &'static str,
    /// The variable that fixes it, if one does.
    pub variable: Option<&'static str>,
    /// Its name on the settings page.
    pub label: &'static str,
    /// What it means, in README's words (Markdown).
    pub meaning: &'static str,
    pub field: Field,
    /// Its value as the API shows it.
    pub read: fn(&OwnerSettings) -> serde_json::Value,
    /// Takes its text (`None`: back to the default) or says why not.
    pub write: fn(&mut OwnerSettings, Option<&str>) -> Result<(), String>,
}

impl OwnerSetting {
    pub fn named(key: &str) -> Option<&'static OwnerSetting> {
        OWNER_SETTINGS.iter().find(|setting| setting.key == key)
    }

    /// The value as text, as the form shows it and the database keeps it; `None` when it
    /// has no value (unset).
    pub fn text(&self, settings: &OwnerSettings) -> Option<String> {
        match (self.read)(settings) {
            serde_json::Value::Null => None,
            serde_json::Value::Bool(on) => Some(if on { "on" } else { "off" }.into()),
            serde_json::Value::String(text) => Some(text),
            other => Some(other.to_string()),
        }
    }
}

/// README's table of the settings in the app, header included, as it must read.
pub fn owner_markdown_table() -> String {
    let mut table = String::from("| setting (API key) | variable that fixes it | meaning |\n|---|---|---|\n");
    for setting in OWNER_SETTINGS {
        let variable = setting
            .variable
            .map(|variable| format!("`{variable}`"))
            .unwrap_or_else(|| "none".into());
        table.push_str(&format!(
            "| {} (`{}`) | {variable} | {} |\n",
            setting.label, setting.key, setting.meaning
        ));
    }
    table
}

/// The settings in effect, swapped whole when the owner saves (on any instance).
#[derive(Clone, Debug)]
pub struct LiveSettings(Arc<ArcSwap<Current>>);

/// One snapshot of the owner's settings, with what follows from them.
#[derive(Debug)]
pub struct Current {
    pub settings: OwnerSettings,
    /// The version of the consent text the signup form shows.
    pub consent_version: String,
    /// The database's settings version this snapshot was read at (0: nothing saved yet).
    pub version: i64,
}

impl LiveSettings {
    pub fn new(current: Current) -> Self {
        Self(Arc::new(ArcSwap::from_pointee(current)))
    }

    /// The settings in effect now.
    pub fn get(&self) -> Arc<Current> {
        self.0.load_full()
    }

    pub fn replace(&self, current: Current) {
        self.0.store(Arc::new(current));
    }
}

impl std::ops::Deref for Current {
    type Target = OwnerSettings;
    fn deref(&self) -> &OwnerSettings {
        &self.settings
    }
}

fn text(value: &Option<String>) -> serde_json::Value {
    value.clone().map_or(serde_json::Value::Null, serde_json::Value::String)
}

fn mailbox(raw: &str) -> Result<Mailbox, String> {
    raw.parse::<Mailbox>()
        .map_err(|err| format!("'{raw}' is not an address like 'Name <name@example.com>': {err}"))
}

fn one_line(raw: &str, most: usize) -> Result<String, String> {
    if raw.chars().any(char::is_control) || raw.chars().count() > most {
        return Err(format!("must be one line of at most {most} characters"));
    }
    Ok(raw.to_string())
}

fn number<T: std::str::FromStr>(raw: &str) -> Result<T, String> {
    raw.parse::<T>().map_err(|_| format!("'{raw}' is not a number"))
}

fn whole_in(raw: &str, low: u64, high: u64, unit: &str) -> Result<u64, String> {
    let value = number::<u64>(raw)?;
    if !(low..=high).contains(&value) {
        return Err(format!("must be a whole number of {unit} from {low} to {high}"));
    }
    Ok(value)
}

fn switch(raw: &str) -> Result<bool, String> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(format!("'{raw}' is not on or off")),
    }
}

fn color(raw: &str) -> Result<String, String> {
    let hex = raw.strip_prefix('#').unwrap_or("");
    if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("'{raw}' is not a colour like #0b57d0"));
    }
    Ok(format!("#{}", hex.to_ascii_lowercase()))
}

/// Every setting in the app, in the order of the settings page.
pub static OWNER_SETTINGS: &[OwnerSetting] = &[
    OwnerSetting {
        key: "list_name",
        variable: Some("HUNDRED_LIST_NAME"),
        label: "List name",
        meaning: "the list's name on pages, in mail and in `List-Id`; unset: the From name",
        field: Field::Line,
        read: |s| text(&s.list_name),
        write: |s, raw| {
            s.list_name = raw.map(|raw| one_line(raw, 100)).transpose()?;
            Ok(())
        },
    },
    OwnerSetting {
        key: "from",
        variable: Some("HUNDRED_FROM"),
        label: "From",
        meaning: "From of every message (`Name <address>`); its domain is used for Message-IDs and List-Id",
        field: Field::Line,
        read: |s| s.from.to_string().into(),
        write: |s, raw| {
            s.from = mailbox(raw.unwrap_or(DEFAULT_FROM))?;
            Ok(())
        },
    },
    OwnerSetting {
        key: "reply_to",
        variable: Some("HUNDRED_REPLY_TO"),
        label: "Reply-To",
        meaning: "Reply-To of every message, as `local+TOKEN@domain` with a signed per-message token (so a reply names the message it answers); unset: replies go to From",
        field: Field::Line,
        read: |s| text(&s.reply_to.as_ref().map(ToString::to_string)),
        write: |s, raw| {
            s.reply_to = raw.map(mailbox).transpose()?;
            Ok(())
        },
    },
    OwnerSetting {
        key: "postal_address",
        variable: None,
        label: "Postal address",
        meaning: "the postal address in every message's footer, as the law on commercial mail asks (CAN-SPAM); up to 5 lines",
        field: Field::Lines,
        read: |s| text(&s.postal_address),
        write: |s, raw| {
            s.postal_address = raw
                .map(|raw| {
                    let lines: Vec<&str> = raw.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
                    if lines.len() > 5 || raw.chars().count() > 300 {
                        return Err("must be at most 5 lines and 300 characters".to_string());
                    }
                    if raw.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
                        return Err("must be plain text".to_string());
                    }
                    Ok(lines.join("\n"))
                })
                .transpose()?;
            Ok(())
        },
    },
    OwnerSetting {
        key: "consent_text",
        variable: Some("HUNDRED_CONSENT_TEXT"),
        label: "Consent text",
        meaning: "the consent text shown on the signup page; each version is recorded with the consent it was given with",
        field: Field::Lines,
        read: |s| s.consent_text.clone().into(),
        write: |s, raw| {
            let raw = raw.unwrap_or(DEFAULT_CONSENT_TEXT);
            if raw.chars().count() > 1000 {
                return Err("must be at most 1000 characters".into());
            }
            s.consent_text = raw.to_string();
            Ok(())
        },
    },
    OwnerSetting {
        key: "accent_color",
        variable: None,
        label: "Accent colour",
        meaning: "the colour of buttons, links and headers on the public pages and in mail (`#rrggbb`)",
        field: Field::Color,
        read: |s| s.accent_color.clone().into(),
        write: |s, raw| {
            s.accent_color = color(raw.unwrap_or(DEFAULT_ACCENT_COLOR))?;
            Ok(())
        },
    },
    OwnerSetting {
        key: "logo",
        variable: None,
        label: "Logo",
        meaning: "an uploaded image (its media id) shown at the top of the public pages and of the default email layout",
        field: Field::Media,
        read: |s| text(&s.logo.map(|id| id.to_string())),
        write: |s, raw| {
            s.logo = raw
                .map(|raw| Uuid::parse_str(raw).map_err(|_| format!("'{raw}' is not a media id")))
                .transpose()?;
            Ok(())
        },
    },
    OwnerSetting {
        key: "tracking",
        variable: Some("HUNDRED_TRACKING"),
        label: "Tracking",
        meaning: "`off`: no open pixel and no rewritten links for anyone (it can also be off per subscriber)",
        field: Field::Switch,
        read: |s| s.tracking.into(),
        write: |s, raw| {
            s.tracking = raw.map(switch).transpose()?.unwrap_or(true);
            Ok(())
        },
    },
    OwnerSetting {
        key: "machine_window_seconds",
        variable: Some("HUNDRED_MACHINE_WINDOW_SECONDS"),
        label: "Machine window (seconds)",
        meaning: "opens and clicks this soon after delivery are software (privacy proxies, link scanners); 0–3600",
        field: Field::Number,
        read: |s| s.machine_window.as_secs().into(),
        write: |s, raw| {
            s.machine_window = Duration::from_secs(raw.map(|r| whole_in(r, 0, 3600, "seconds")).transpose()?.unwrap_or(10));
            Ok(())
        },
    },
    OwnerSetting {
        key: "engagement_half_life_days",
        variable: Some("HUNDRED_ENGAGEMENT_HALF_LIFE_DAYS"),
        label: "Score half-life (days)",
        meaning: "a human open, click or reply counts half after this many days (1–3650); changing it recomputes every subscriber's score",
        field: Field::Number,
        read: |s| s.engagement_half_life_days.into(),
        write: |s, raw| {
            let days = raw.map(number::<f64>).transpose()?.unwrap_or(crate::domain::engagement::DEFAULT_HALF_LIFE_DAYS);
            if !(1.0..=3650.0).contains(&days) {
                return Err("must be a number of days from 1 to 3650".into());
            }
            s.engagement_half_life_days = days;
            Ok(())
        },
    },
    OwnerSetting {
        key: "send_rate",
        variable: Some("HUNDRED_SEND_RATE"),
        label: "Send rate (messages per second)",
        meaning: "messages per second, at most",
        field: Field::Number,
        read: |s| s.send_rate.into(),
        write: |s, raw| {
            let rate = raw.map(number::<f64>).transpose()?.unwrap_or(50.0);
            if !(rate > 0.0 && rate <= 100_000.0) {
                return Err("must be a positive number of messages per second, at most 100000".into());
            }
            s.send_rate = rate;
            Ok(())
        },
    },
    OwnerSetting {
        key: "send_concurrency",
        variable: Some("HUNDRED_SEND_CONCURRENCY"),
        label: "SMTP connections",
        meaning: "parallel SMTP connections (1–256)",
        field: Field::Number,
        read: |s| s.send_concurrency.into(),
        write: |s, raw| {
            s.send_concurrency = raw.map(|r| whole_in(r, 1, 256, "connections")).transpose()?.unwrap_or(4) as usize;
            Ok(())
        },
    },
    OwnerSetting {
        key: "signup_burst",
        variable: Some("HUNDRED_SIGNUP_BURST"),
        label: "Signups in a burst, per address",
        meaning: "signups one IP address (IPv6: one /64) may make in a burst before getting 429 (1–10000)",
        field: Field::Number,
        read: |s| s.signup.burst_per_ip.into(),
        write: |s, raw| {
            s.signup.burst_per_ip = raw.map(|r| whole_in(r, 1, 10_000, "signups")).transpose()?.unwrap_or(20) as u32;
            Ok(())
        },
    },
    OwnerSetting {
        key: "signup_per_minute",
        variable: Some("HUNDRED_SIGNUP_PER_MINUTE"),
        label: "Signups per minute, per address",
        meaning: "signups per minute an IP address earns back after a burst (1–10000)",
        field: Field::Number,
        read: |s| s.signup.per_ip_per_minute.into(),
        write: |s, raw| {
            s.signup.per_ip_per_minute = raw.map(|r| whole_in(r, 1, 10_000, "signups")).transpose()?.unwrap_or(10) as u32;
            Ok(())
        },
    },
    OwnerSetting {
        key: "signup_min_fill_seconds",
        variable: Some("HUNDRED_SIGNUP_MIN_FILL_SECONDS"),
        label: "Fastest form fill (seconds)",
        meaning: "the hosted form refuses submissions faster than this (0–5, so a person using autofill is never refused)",
        field: Field::Number,
        read: |s| s.signup.min_fill_time.as_secs().into(),
        write: |s, raw| {
            s.signup.min_fill_time = Duration::from_secs(raw.map(|r| whole_in(r, 0, 5, "seconds")).transpose()?.unwrap_or(3));
            Ok(())
        },
    },
    OwnerSetting {
        key: "confirmation_interval_seconds",
        variable: Some("HUNDRED_CONFIRMATION_INTERVAL_SECONDS"),
        label: "Confirmation resend interval (seconds)",
        meaning: "at most one confirmation message per address in this interval (0–604800)",
        field: Field::Number,
        read: |s| s.signup.confirmation_interval.as_secs().into(),
        write: |s, raw| {
            s.signup.confirmation_interval = Duration::from_secs(raw.map(|r| whole_in(r, 0, 604_800, "seconds")).transpose()?.unwrap_or(600));
            Ok(())
        },
    },
    OwnerSetting {
        key: "unsubscribe_mailto",
        variable: Some("HUNDRED_UNSUBSCRIBE_MAILTO"),
        label: "Unsubscribe address",
        meaning: "an address added to `List-Unsubscribe` as a `mailto:`; unset: none",
        field: Field::Line,
        read: |s| text(&s.unsubscribe_mailto),
        write: |s, raw| {
            s.unsubscribe_mailto = raw.map(|raw| mailbox(raw).map(|mb| mb.email.to_string())).transpose()?;
            Ok(())
        },
    },
];
