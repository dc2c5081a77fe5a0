//! The owner's settings: changed on the settings page and through `PATCH /api/v1/settings`,
//! kept in the database, and followed by every instance sharing it.
//!
//! A change is checked whole (every value, with the parser start-up uses for its variable)
//! and saved at once or not at all; the instance that saved it uses it at once, the others
//! within [`FOLLOW_EVERY`] (they compare the stored version). A setting its variable fixes
//! is refused with the variable's name.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::Services;
use crate::config::{
    Config, Current, LiveSettings, Logo, OWNER_SETTINGS, OwnerSetting, OwnerSettings,
};
use crate::domain::EngagementModel;
use crate::store::Store;

/// How often an instance checks whether another one saved the settings.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(2);

/// Why a change was not saved (nothing of it was).
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("There is no setting called '{0}'.")]
    Unknown(String),
    #[error("{label} is fixed by the environment variable {variable}: change it there.")]
    Fixed {
        key: &'static str,
        label: &'static str,
        variable: &'static str,
    },
    #[error("{label}: {problem}.")]
    Invalid {
        key: &'static str,
        label: &'static str,
        problem: String,
    },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl SettingsError {
    /// The setting the refusal is about, for the form field or the API's `field`.
    pub fn key(&self) -> Option<&str> {
        match self {
            Self::Unknown(key) => Some(key),
            Self::Fixed { key, .. } | Self::Invalid { key, .. } => Some(key),
            Self::Unexpected(_) => None,
        }
    }
}

/// One row of the settings as the page and the API show them.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Shown {
    pub key: &'static str,
    pub label: &'static str,
    pub field: crate::config::Field,
    pub value: serde_json::Value,
    /// The value as text for the form (empty: unset).
    pub text: String,
    /// The variable that fixes it, when it is set.
    pub fixed_by: Option<&'static str>,
}

/// Every setting in the app with its value in effect.
pub fn shown(services: &Services) -> Vec<Shown> {
    let current = services.settings();
    OWNER_SETTINGS
        .iter()
        .map(|setting| Shown {
            key: setting.key,
            label: setting.label,
            field: setting.field,
            value: (setting.read)(&current),
            text: setting.text(&current).unwrap_or_default(),
            fixed_by: services.config.fixed.get(setting.key).copied(),
        })
        .collect()
}

/// Checks and saves `changes` (key, text; `None` or blank: back to the default), all or
/// nothing, and puts them in effect on this instance at once.
pub async fn change(
    services: &Services,
    changes: Vec<(String, Option<String>)>,
) -> Result<Arc<Current>, SettingsError> {
    let mut settings = services.settings().settings.clone();
    let mut saved = Vec::with_capacity(changes.len());
    for (key, raw) in &changes {
        let setting =
            OwnerSetting::named(key).ok_or_else(|| SettingsError::Unknown(key.clone()))?;
        if let Some(variable) = services.config.fixed.get(setting.key) {
            return Err(SettingsError::Fixed {
                key: setting.key,
                label: setting.label,
                variable,
            });
        }
        let raw = raw.as_deref().map(str::trim).filter(|raw| !raw.is_empty());
        (setting.write)(&mut settings, raw).map_err(|problem| SettingsError::Invalid {
            key: setting.key,
            label: setting.label,
            problem,
        })?;
        saved.push((
            setting.key,
            setting.text(&settings).filter(|_| raw.is_some()),
        ));
    }
    if saved.iter().any(|(key, _)| *key == "logo") {
        check_logo(&services.store, &settings).await?;
    }
    services.store.save_owner_settings(&saved).await?;
    follow(services.clone()).await?;
    tracing::info!(changed = ?saved.iter().map(|(key, _)| *key).collect::<Vec<_>>(), "settings saved");
    Ok(services.settings())
}

/// A logo must be one of the uploaded images (the Images page, `POST /api/v1/media`).
async fn check_logo(store: &Store, settings: &OwnerSettings) -> Result<(), SettingsError> {
    let Some(id) = settings.logo else {
        return Ok(());
    };
    if store.media(id).await?.is_some() {
        return Ok(());
    }
    Err(SettingsError::Invalid {
        key: "logo",
        label: "Logo",
        problem: format!(
            "there is no uploaded image with the id {id}; add the image on the Images page (or with POST /api/v1/media) and choose it"
        ),
    })
}

/// The image the logo setting names, as the templates show it; `None` when unset or when
/// no such image is stored.
async fn logo_image(store: &Store, settings: &OwnerSettings) -> anyhow::Result<Option<Logo>> {
    let Some(id) = settings.logo else {
        return Ok(None);
    };
    let record = store.media(id).await?;
    if record.is_none() {
        tracing::warn!(logo = %id, "the logo names no stored image; the list name shows instead");
    }
    Ok(record.map(|record| Logo {
        path: record.path(),
        width: u32::try_from(record.width).unwrap_or(0),
        height: u32::try_from(record.height).unwrap_or(0),
    }))
}

/// The settings in effect: the defaults, what the owner saved, what the environment fixes.
pub fn effective(config: &Config, saved: &[(String, String)]) -> OwnerSettings {
    let mut settings = OwnerSettings::default();
    for (key, raw) in saved {
        if config.fixed.contains_key(key.as_str()) {
            continue;
        }
        if let Err(problem) = settings.set(key, Some(raw)) {
            // Saved by a version that took it, or edited by hand: the default stands.
            tracing::warn!(setting = %key, ?problem, "a saved setting cannot be used; its default stands");
        }
    }
    for setting in OWNER_SETTINGS {
        if config.fixed.contains_key(setting.key)
            && let Some(raw) = setting.text(&config.owner)
        {
            let _ = settings.set(setting.key, Some(&raw));
        }
    }
    settings
}

/// Reads the saved settings and puts them in effect if they changed since this instance
/// last looked: registers the consent text's version and recomputes the engagement scores
/// when the half-life changed.
pub async fn follow(services: Services) -> anyhow::Result<()> {
    let (version, saved) = services.store.owner_settings().await?;
    let before = services.settings();
    if version == before.version {
        return Ok(());
    }
    let settings = effective(&services.config, &saved);
    let current = settle(&services.store, settings, version).await?;
    services.live.replace(current);
    if before.engagement_half_life_days != services.settings().engagement_half_life_days {
        recompute_scores(&services.store).await?;
    }
    Ok(())
}

/// What follows from the settings: the consent text's version, the store's half-life,
/// the logo's image.
pub async fn settle(
    store: &Store,
    settings: OwnerSettings,
    version: i64,
) -> anyhow::Result<Current> {
    let consent_version = store
        .register_consent_text(&settings.consent_text())
        .await?;
    store.set_engagement_model(EngagementModel {
        half_life_days: settings.engagement_half_life_days,
    });
    let logo_image = logo_image(store, &settings).await?;
    let templates = Arc::new(crate::store::owner_templates(store).await?);
    Ok(Current {
        settings,
        consent_version,
        version,
        logo_image,
        templates,
    })
}

async fn recompute_scores(store: &Store) -> anyhow::Result<()> {
    if store.ensure_engagement_model().await? {
        tracing::info!(
            half_life_days = store.engagement_model().half_life_days,
            "engagement recomputed with the new half-life"
        );
    }
    Ok(())
}

/// On the first start after the upgrade nothing is saved yet: the variables set today are
/// copied into the database, so the owner finds them on the settings page (they stay fixed
/// while the variables are set).
pub async fn adopt_environment(store: &Store, config: &Config) -> anyhow::Result<()> {
    if store.owner_settings_version().await? != 0 {
        return Ok(());
    }
    let copied: Vec<(&str, Option<String>)> = OWNER_SETTINGS
        .iter()
        .filter(|setting| config.fixed.contains_key(setting.key))
        .map(|setting| (setting.key, setting.text(&config.owner)))
        .collect();
    store.save_owner_settings(&copied).await?;
    Ok(())
}

/// The settings in effect at start-up, after [`adopt_environment`]; the engagement scores
/// are recomputed if they were weighed with another half-life.
pub async fn at_start(store: &Store, config: &Config) -> anyhow::Result<LiveSettings> {
    adopt_environment(store, config).await?;
    let (version, saved) = store.owner_settings().await?;
    let current = settle(store, effective(config, &saved), version).await?;
    recompute_scores(store).await?;
    Ok(LiveSettings::new(current))
}

/// Follows the settings other instances save, every [`FOLLOW_EVERY`], until `stop`.
pub async fn keep_following(services: Services, stop: CancellationToken) {
    let mut tick = tokio::time::interval(FOLLOW_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tick.tick() => {}
        }
        let changed = match services.store.owner_settings_version().await {
            Ok(version) => version != services.settings().version,
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "could not check the settings; trying again");
                false
            }
        };
        if changed && let Err(err) = follow(services.clone()).await {
            tracing::warn!(error = %format!("{err:#}"), "could not follow the saved settings; trying again");
        }
    }
}
