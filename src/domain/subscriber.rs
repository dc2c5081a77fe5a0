//! A subscriber, their status on the list, and how they consented.

use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

/// Where a subscriber is in the double opt-in lifecycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriberStatus {
    Pending,
    Confirmed,
    Unsubscribed,
    Bounced,
    Complained,
}

impl SubscriberStatus {
    pub const ALL: [Self; 5] = [
        Self::Pending,
        Self::Confirmed,
        Self::Unsubscribed,
        Self::Bounced,
        Self::Complained,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Confirmed => "confirmed",
            Self::Unsubscribed => "unsubscribed",
            Self::Bounced => "bounced",
            Self::Complained => "complained",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == raw)
    }

    /// Bounced and complained addresses are never mailed again, whatever anyone submits.
    pub fn is_suppressed(self) -> bool {
        matches!(self, Self::Bounced | Self::Complained)
    }
}

/// How a subscriber came to be on the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SignupSource {
    /// The hosted page at `/subscribe`.
    HostedForm,
    /// A form on the owner's website posting to `/subscribe`.
    WebsiteForm,
    /// JSON posted to `/subscribe`, usually from a website's script.
    Json,
    /// `POST /api/v1/subscribers`.
    Api,
    /// A CSV import.
    Import,
    /// Added by the owner in the admin pages.
    Admin,
    /// The signup form under an issue in the public archive.
    Archive,
}

impl SignupSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HostedForm => "hosted_form",
            Self::WebsiteForm => "website_form",
            Self::Json => "json",
            Self::Api => "api",
            Self::Import => "import",
            Self::Admin => "admin",
            Self::Archive => "archive",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            Self::HostedForm,
            Self::WebsiteForm,
            Self::Json,
            Self::Api,
            Self::Import,
            Self::Admin,
            Self::Archive,
        ]
        .into_iter()
        .find(|source| source.as_str() == raw)
    }
}

/// How someone left the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UnsubscribeMethod {
    /// The button on the unsubscribe page.
    Page,
    /// A mail client's one-click unsubscribe (RFC 8058).
    OneClick,
    /// Through the API or by the owner.
    Owner,
}

impl UnsubscribeMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Page => "page",
            Self::OneClick => "one_click",
            Self::Owner => "owner",
        }
    }
}

/// The evidence that a person asked to be on the list, and when they left it.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentRecord {
    #[serde(with = "time::serde::rfc3339")]
    pub signed_up_at: OffsetDateTime,
    pub signup_ip: Option<String>,
    pub signup_user_agent: Option<String>,
    pub source: String,
    /// The version of the consent text the person was shown (see `consent_texts`).
    pub consent_text_version: Option<String>,
    /// The text itself, for this version.
    pub consent_text: Option<String>,
    /// For subscribers added as confirmed by the owner: how consent was given.
    pub stated_consent: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub confirmed_at: Option<OffsetDateTime>,
    pub confirmed_ip: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub unsubscribed_at: Option<OffsetDateTime>,
    pub unsubscribe_method: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Subscriber {
    pub id: Uuid,
    pub email: String,
    pub name: Option<String>,
    pub status: SubscriberStatus,
    pub attributes: serde_json::Value,
    /// Whether opens and clicks are tracked for this person.
    pub tracking: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub consent: ConsentRecord,
}
