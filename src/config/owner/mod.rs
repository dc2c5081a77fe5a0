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

use super::SignupLimits;
use crate::domain::Language;
use crate::templates::editable::OwnerTemplates;
pub use brand::{Brand, LOGO_MAX_HEIGHT, LOGO_MAX_WIDTH, Logo, ShownLogo};
pub use table::OWNER_SETTINGS;

mod brand;
mod table;

/// The default accent colour: buttons, links and the header of mail and pages.
pub const DEFAULT_ACCENT_COLOR: &str = "#0b57d0";
pub(super) const DEFAULT_FROM: &str = "Newsletter <newsletter@localhost>";

/// What the owner decides about their list, as the workers use it.
#[derive(Clone, Debug, PartialEq)]
pub struct OwnerSettings {
    /// The list's name; `None`: the From name, or "Newsletter".
    pub list_name: Option<String>,
    pub from: Mailbox,
    pub reply_to: Option<Mailbox>,
    /// The postal address commercial mail must carry (CAN-SPAM); shown in every footer.
    pub postal_address: Option<String>,
    /// The language readers are addressed in: the public pages, the system messages, the
    /// default layout's footer, dates.
    pub language: Language,
    /// The consent text as the owner wrote it; `None`: the shipped one, in the list's
    /// language (see [`OwnerSettings::consent_text`]).
    pub consent_text: Option<String>,
    /// `#rrggbb`.
    pub accent_color: String,
    /// The logo, a media id.
    pub logo: Option<Uuid>,
    /// Open pixels and click tracking for everyone (it can also be off per subscriber).
    pub tracking: bool,
    /// Whether a new campaign goes into the public archive once sent (its own box decides).
    pub archive_public: bool,
    /// Whether the archive asks search engines not to index it.
    pub archive_noindex: bool,
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
            // A constant, checked by the tests that start from the defaults.
            from: DEFAULT_FROM
                .parse()
                .expect("the default From is an address"),
            reply_to: None,
            postal_address: None,
            language: Language::En,
            consent_text: None,
            accent_color: DEFAULT_ACCENT_COLOR.to_string(),
            logo: None,
            tracking: true,
            archive_public: true,
            archive_noindex: false,
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

    /// The consent text the signup form shows and every consent records: the owner's, or
    /// the shipped one in the list's language.
    pub fn consent_text(&self) -> String {
        self.consent_text
            .clone()
            .unwrap_or_else(|| crate::i18n::text(self.language, "consent-default", &[]))
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
    /// One of the languages hundred ships.
    Language,
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
    let mut table =
        String::from("| setting (API key) | variable that fixes it | meaning |\n|---|---|---|\n");
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
    /// The image `settings.logo` names, if it is one that was uploaded.
    pub logo_image: Option<Logo>,
    /// The owner's versions of the layouts, system messages and page words.
    pub templates: Arc<OwnerTemplates>,
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
