//! The table of the settings in the app ([`OWNER_SETTINGS`]) and the checks each value
//! goes through, from the environment, the database or the API alike.

use std::time::Duration;

use lettre::message::Mailbox;
use uuid::Uuid;

use super::{DEFAULT_ACCENT_COLOR, DEFAULT_FROM, Field, OwnerSetting};
use crate::domain::{Colour, Language};

fn text(value: &Option<String>) -> serde_json::Value {
    value
        .clone()
        .map_or(serde_json::Value::Null, serde_json::Value::String)
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
    raw.parse::<T>()
        .map_err(|_| format!("'{raw}' is not a number"))
}

fn whole_in(raw: &str, low: u64, high: u64, unit: &str) -> Result<u64, String> {
    let value = number::<u64>(raw)?;
    if !(low..=high).contains(&value) {
        return Err(format!(
            "must be a whole number of {unit} from {low} to {high}"
        ));
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
    Colour::parse(raw)
        .map(|colour| colour.to_string())
        .ok_or_else(|| format!("'{raw}' is not a colour like #0b57d0"))
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
                    let lines: Vec<&str> = raw
                        .lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .collect();
                    if lines.len() > 5 || raw.chars().count() > 300 {
                        return Err("must be at most 5 lines and 300 characters".to_string());
                    }
                    if raw
                        .chars()
                        .any(|c| c.is_control() && c != '\n' && c != '\r')
                    {
                        return Err("must be plain text".to_string());
                    }
                    Ok(lines.join("\n"))
                })
                .transpose()?;
            Ok(())
        },
    },
    OwnerSetting {
        key: "language",
        variable: Some("HUNDRED_LANGUAGE"),
        label: "Language",
        meaning: "the language readers are addressed in: `en`, `de`, `fr` or `es` (the public pages, the system messages, the email footer, dates; see \"Languages\")",
        field: Field::Language,
        read: |s| s.language.code().into(),
        write: |s, raw| {
            s.language = raw
                .map(|raw| Language::parse(raw).map_err(|err| format!("'{raw}' {err}")))
                .transpose()?
                .unwrap_or_default();
            Ok(())
        },
    },
    OwnerSetting {
        key: "consent_text",
        variable: Some("HUNDRED_CONSENT_TEXT"),
        label: "Consent text",
        meaning: "the consent text shown on the signup page; each version is recorded with the consent it was given with; unset: the shipped one, in the list's language",
        field: Field::Lines,
        read: |s| s.consent_text().into(),
        write: |s, raw| {
            if raw.is_some_and(|raw| raw.chars().count() > 1000) {
                return Err("must be at most 1000 characters".into());
            }
            // The shipped text in any language is the default, which follows the language
            // (the settings form sends back the text it showed).
            let shipped = |raw: &str| {
                Language::ALL
                    .into_iter()
                    .any(|language| crate::i18n::text(language, "consent-default", &[]) == raw)
            };
            s.consent_text = raw.filter(|raw| !shipped(raw)).map(str::to_string);
            Ok(())
        },
    },
    OwnerSetting {
        key: "accent_color",
        variable: None,
        label: "Accent colour",
        meaning: "the colour of buttons, links and the header band on the public pages, in the default email layout and in the system messages (`#rrggbb`); made darker for links where it is too light to read on white, and lighter in dark mode where it is too dark",
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
        meaning: "an uploaded image (its media id, one of those on the Images page) shown at the top of the public pages, of the default email layout and of the system messages; unset: the list name in text",
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
        key: "archive_public",
        variable: None,
        label: "New campaigns in the archive",
        meaning: "`on`: a new campaign is shown in the public archive (`/archive`) once it went out, unless its composer's box is cleared; `off`: only those whose box is ticked",
        field: Field::Switch,
        read: |s| s.archive_public.into(),
        write: |s, raw| {
            s.archive_public = raw.map(switch).transpose()?.unwrap_or(true);
            Ok(())
        },
    },
    OwnerSetting {
        key: "archive_noindex",
        variable: None,
        label: "Keep the archive out of search engines",
        meaning: "`on`: the archive's pages and feed ask search engines not to index them (`<meta name=\"robots\">` and `X-Robots-Tag`)",
        field: Field::Switch,
        read: |s| s.archive_noindex.into(),
        write: |s, raw| {
            s.archive_noindex = raw.map(switch).transpose()?.unwrap_or(false);
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
            s.machine_window = Duration::from_secs(
                raw.map(|r| whole_in(r, 0, 3600, "seconds"))
                    .transpose()?
                    .unwrap_or(10),
            );
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
            let days = raw
                .map(number::<f64>)
                .transpose()?
                .unwrap_or(crate::domain::engagement::DEFAULT_HALF_LIFE_DAYS);
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
                return Err(
                    "must be a positive number of messages per second, at most 100000".into(),
                );
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
            s.send_concurrency = raw
                .map(|r| whole_in(r, 1, 256, "connections"))
                .transpose()?
                .unwrap_or(4) as usize;
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
            s.signup.burst_per_ip = raw
                .map(|r| whole_in(r, 1, 10_000, "signups"))
                .transpose()?
                .unwrap_or(20) as u32;
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
            s.signup.per_ip_per_minute = raw
                .map(|r| whole_in(r, 1, 10_000, "signups"))
                .transpose()?
                .unwrap_or(10) as u32;
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
            s.signup.min_fill_time = Duration::from_secs(
                raw.map(|r| whole_in(r, 0, 5, "seconds"))
                    .transpose()?
                    .unwrap_or(3),
            );
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
            s.signup.confirmation_interval = Duration::from_secs(
                raw.map(|r| whole_in(r, 0, 604_800, "seconds"))
                    .transpose()?
                    .unwrap_or(600),
            );
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
            s.unsubscribe_mailto = raw
                .map(|raw| mailbox(raw).map(|mb| mb.email.to_string()))
                .transpose()?;
            Ok(())
        },
    },
];
