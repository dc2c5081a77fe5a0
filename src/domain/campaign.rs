//! A campaign (one newsletter blast) and the state of each delivery.

use serde::Serialize;

use super::Tier;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CampaignStatus {
    Draft,
    Scheduled,
    Sending,
    Paused,
    Sent,
    Cancelled,
}

impl CampaignStatus {
    const ALL: [Self; 6] = [
        Self::Draft,
        Self::Scheduled,
        Self::Sending,
        Self::Paused,
        Self::Sent,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Scheduled => "scheduled",
            Self::Sending => "sending",
            Self::Paused => "paused",
            Self::Sent => "sent",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// How the body is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BodyFormat {
    Markdown,
    Html,
}

impl BodyFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Markdown => "markdown",
            Self::Html => "html",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "markdown" => Some(Self::Markdown),
            "html" => Some(Self::Html),
            _ => None,
        }
    }
}

/// Where one recipient's copy of a campaign is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryState {
    Queued,
    Sent,
    Failed,
    Skipped,
}

impl DeliveryState {
    pub const ALL: [Self; 4] = [Self::Queued, Self::Sent, Self::Failed, Self::Skipped];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Sent => "sent",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == raw)
    }
}

/// Why a list of tier names cannot be a campaign's audience.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudienceError {
    #[error("no tier was chosen")]
    NoTiers,
    #[error(
        "'{0}' is not a tier; tiers are core, engaged, new, quiet, dormant (gone subscribers get no mail)"
    )]
    UnknownTier(String),
    #[error("gone subscribers left the list and get no mail")]
    Gone,
}

/// The tiers a campaign is for, parsed from their names: each once, in the order given.
pub fn audience_tiers<S: AsRef<str>>(names: &[S]) -> Result<Vec<Tier>, AudienceError> {
    if names.is_empty() {
        return Err(AudienceError::NoTiers);
    }
    let mut tiers = Vec::with_capacity(names.len());
    for name in names {
        let name = name.as_ref();
        let tier = Tier::parse(name)
            .ok_or_else(|| AudienceError::UnknownTier(name.chars().take(40).collect()))?;
        if tier == Tier::Gone {
            return Err(AudienceError::Gone);
        }
        if !tiers.contains(&tier) {
            tiers.push(tier);
        }
    }
    Ok(tiers)
}

/// "core", "core and engaged", "core, engaged and new".
fn tier_names(tiers: &[Tier]) -> String {
    let names: Vec<&str> = tiers.iter().map(|t| t.as_str()).collect();
    match names.split_last() {
        None => String::new(),
        Some((last, [])) => (*last).to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

/// Who a campaign is for, in a few words: "everyone confirmed", "the core and engaged
/// tiers".
pub fn audience_label(tiers: Option<&[Tier]>) -> String {
    match tiers {
        None => "everyone confirmed".to_string(),
        Some(tiers) => {
            let plural = if tiers.len() == 1 { "tier" } else { "tiers" };
            format!("the {} {plural}", tier_names(tiers))
        }
    }
}

/// Who a campaign reaches, in words and number: "all 123 confirmed subscribers", "12
/// confirmed subscribers in the core and engaged tiers".
pub fn audience_sentence(tiers: Option<&[Tier]>, size: i64) -> String {
    let people = if size == 1 {
        "confirmed subscriber"
    } else {
        "confirmed subscribers"
    };
    match tiers {
        None if size == 1 => format!("the 1 {people}"),
        None if size > 1 => format!("all {size} {people}"),
        None => format!("{size} {people}"),
        Some(tiers) => format!("{size} {people} in {}", audience_label(Some(tiers))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiers_are_parsed_once_each_and_gone_is_refused() {
        assert_eq!(
            audience_tiers(&["core", "engaged", "core"]),
            Ok(vec![Tier::Core, Tier::Engaged])
        );
        assert_eq!(audience_tiers::<&str>(&[]), Err(AudienceError::NoTiers));
        assert_eq!(audience_tiers(&["gone"]), Err(AudienceError::Gone));
        assert_eq!(
            audience_tiers(&["vip"]),
            Err(AudienceError::UnknownTier("vip".into()))
        );
    }

    #[test]
    fn audiences_read_as_words() {
        assert_eq!(audience_label(None), "everyone confirmed");
        assert_eq!(audience_label(Some(&[Tier::Core])), "the core tier");
        assert_eq!(
            audience_sentence(Some(&[Tier::Core, Tier::Engaged]), 123),
            "123 confirmed subscribers in the core and engaged tiers"
        );
        assert_eq!(
            audience_sentence(Some(&[Tier::Core, Tier::Engaged, Tier::New]), 1),
            "1 confirmed subscriber in the core, engaged and new tiers"
        );
        assert_eq!(audience_sentence(None, 5), "all 5 confirmed subscribers");
        assert_eq!(audience_sentence(None, 1), "the 1 confirmed subscriber");
        assert_eq!(audience_sentence(None, 0), "0 confirmed subscribers");
    }
}
