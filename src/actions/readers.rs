//! What a reader does: sign up (double opt-in: a confirmation message, nothing more, until
//! they press its button), confirm, unsubscribe by a link or one click, sign up again after
//! leaving, and answer a re-permission request with "keep me".
//!
//! Every accepted signup gets the same answer, whether the address is new, pending,
//! confirmed or unsubscribed, so nobody can learn who is on the list.

use time::OffsetDateTime;
use uuid::Uuid;

use super::Services;
use super::subscribers::{SubscriberError, parse_person};
use crate::domain::{SignupSource, Subscriber, SubscriberEmail, SubscriberName, UnsubscribeMethod};
use crate::signing::{TokenError, TokenPurpose};
use crate::store::{ConfirmOutcome, KeepOutcome, SignupOutcome, SignupRequest, Timestamp};

/// A hosted-form token older than this is refused; the visitor just submits again.
const FORM_TOKEN_MAX_AGE: time::Duration = time::Duration::days(1);

/// Why a signup was not taken.
#[derive(Debug, thiserror::Error)]
pub enum SignupError {
    /// The hidden field only bots fill in was filled in.
    #[error("This signup could not be accepted.")]
    Bot,
    /// The hosted form came back too fast or too late; the words say which.
    #[error("{0}")]
    FormTime(FillTime),
    /// The address or the name cannot be taken; `field` names it.
    #[error("{message}")]
    Invalid {
        field: &'static str,
        message: String,
    },
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

/// What was wrong with the time the hosted form took to fill in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FillTime {
    /// Its token is missing, not ours, or carries no time.
    #[error("Please check the form and press the button again.")]
    Unproven,
    #[error("That was quicker than we expected. Please check the form and press the button again.")]
    TooQuick,
    #[error("This page was open a long time. Please press the button again.")]
    TooOld,
}

/// Where a signup came from, as far as the checks go.
#[derive(Debug, Clone, Copy)]
pub enum SignupForm<'a> {
    /// `POST /subscribe` with JSON (a website's script).
    Json,
    /// Our hosted page, with the token that says when it was shown.
    Hosted { shown: &'a str },
    /// A website's own HTML form.
    Website,
    /// The form under an issue in the public archive, with the token that says when the
    /// page was shown.
    Archive { shown: &'a str },
}

/// A signup as the visitor sent it.
#[derive(Debug)]
pub struct Signup<'a> {
    pub email: Option<&'a str>,
    pub name: Option<&'a str>,
    /// The honeypot: hidden from people, filled by bots.
    pub website: Option<&'a str>,
    pub form: SignupForm<'a>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// Checks a signup and records it; a confirmation is queued (and the sender woken) unless
/// one went out recently or the address needs none.
pub async fn sign_up(services: &Services, signup: Signup<'_>) -> Result<(), SignupError> {
    if signup.website.is_some_and(|v| !v.trim().is_empty()) {
        tracing::info!("signup refused: honeypot filled");
        return Err(SignupError::Bot);
    }
    let source = match signup.form {
        SignupForm::Json => SignupSource::Json,
        SignupForm::Website => SignupSource::WebsiteForm,
        SignupForm::Hosted { shown } => {
            check_fill_time(services, shown)?;
            SignupSource::HostedForm
        }
        SignupForm::Archive { shown } => {
            check_fill_time(services, shown)?;
            SignupSource::Archive
        }
    };
    let (email, name) = parse_person(signup.email, signup.name).map_err(|err| match err {
        SubscriberError::Invalid { field, message } => SignupError::Invalid { field, message },
        other => SignupError::Unexpected(anyhow::anyhow!("{other}")),
    })?;
    record(services, email, name, source, signup.ip, signup.user_agent).await?;
    Ok(())
}

/// The hosted form refuses submissions faster than a person can type, and pages left open
/// for a day.
fn check_fill_time(services: &Services, token: &str) -> Result<(), SignupError> {
    let again = SignupError::FormTime(FillTime::Unproven);
    let Ok(claims) = services.signer.verify(TokenPurpose::FormShown, token) else {
        return Err(again);
    };
    let Some(shown) = claims.time else {
        return Err(again);
    };
    let elapsed = OffsetDateTime::now_utc() - shown;
    let min_fill = services.settings().signup.min_fill_time;
    if elapsed < time::Duration::try_from(min_fill).unwrap_or_default() {
        return Err(SignupError::FormTime(FillTime::TooQuick));
    }
    if elapsed > FORM_TOKEN_MAX_AGE {
        return Err(SignupError::FormTime(FillTime::TooOld));
    }
    Ok(())
}

/// Records the signup and, when it queued a confirmation, wakes the sender.
async fn record(
    services: &Services,
    email: SubscriberEmail,
    name: Option<SubscriberName>,
    source: SignupSource,
    ip: Option<String>,
    user_agent: Option<String>,
) -> anyhow::Result<()> {
    let request = SignupRequest {
        email,
        name,
        source,
        ip,
        user_agent,
        consent_text_version: services.settings().consent_version.clone(),
        now: Timestamp::now(),
        resend_after: time::Duration::try_from(services.settings().signup.confirmation_interval)
            .unwrap_or(time::Duration::minutes(10)),
        message_domain: services.settings().sending_domain().to_string(),
    };
    // Wholly recorded with its confirmation queued, or not at all, even if the visitor's
    // connection drops meanwhile.
    let store = services.store.clone();
    let outcome = super::to_completion(async move { store.signup(&request).await }).await?;
    tracing::info!(source = source.as_str(), outcome = ?outcome, "signup");
    if matches!(
        outcome,
        SignupOutcome::Created | SignupOutcome::ConfirmationQueued
    ) {
        services.message_queued();
    }
    Ok(())
}

/// Why a link from one of our messages did nothing.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    #[error("This link has expired.")]
    Expired,
    #[error("This link isn't valid (any more).")]
    Invalid,
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
}

impl From<TokenError> for LinkError {
    fn from(err: TokenError) -> Self {
        match err {
            TokenError::Expired => Self::Expired,
            TokenError::Invalid => Self::Invalid,
        }
    }
}

/// The subscriber an unsubscribe or keep link names, for the page with its button.
pub async fn subscriber_of_link(
    services: &Services,
    purpose: TokenPurpose,
    token: &str,
) -> Result<Subscriber, LinkError> {
    let claims = services
        .signer
        .verify(purpose, token)
        .map_err(|_| LinkError::Invalid)?;
    services
        .store
        .subscriber(claims.subject)
        .await?
        .ok_or(LinkError::Invalid)
}

/// Whether a confirmation link can still be used (for the page with its button).
pub fn check_confirm_link(services: &Services, token: &str) -> Result<(), LinkError> {
    services
        .signer
        .verify_unexpired(TokenPurpose::Confirm, token, OffsetDateTime::now_utc())?;
    Ok(())
}

/// The button in the confirmation message: pending becomes confirmed (and the welcome, if
/// any, is queued). Confirming twice is fine; a link of someone who left since is not.
pub async fn confirm(
    services: &Services,
    token: &str,
    ip: Option<String>,
) -> Result<(), LinkError> {
    let claims = services.signer.verify_unexpired(
        TokenPurpose::Confirm,
        token,
        OffsetDateTime::now_utc(),
    )?;
    let (store, domain) = (
        services.store.clone(),
        services.settings().sending_domain().to_string(),
    );
    let outcome = super::to_completion(async move {
        store
            .confirm(claims.subject, ip.as_deref(), Timestamp::now(), &domain)
            .await
    })
    .await?;
    match outcome {
        ConfirmOutcome::Confirmed => {
            tracing::info!(subscriber = %claims.subject, "subscriber confirmed");
            services.message_queued();
            Ok(())
        }
        ConfirmOutcome::AlreadyConfirmed => Ok(()),
        ConfirmOutcome::NotPending | ConfirmOutcome::Unknown => Err(LinkError::Invalid),
    }
}

/// The unsubscribe link (or a mail client's one-click request): the address that left.
pub async fn unsubscribe(
    services: &Services,
    token: &str,
    method: UnsubscribeMethod,
    ip: Option<String>,
) -> Result<String, LinkError> {
    let claims = services
        .signer
        .verify(TokenPurpose::Unsubscribe, token)
        .map_err(|_| LinkError::Invalid)?;
    super::subscribers::unsubscribe(services, claims.subject, method, ip)
        .await
        .map_err(|err| match err {
            SubscriberError::Unexpected(err) => LinkError::Unexpected(err),
            _ => LinkError::Invalid,
        })
}

/// "Changed your mind?" after unsubscribing: double opt-in again, exactly as a new signup.
pub async fn resubscribe(
    services: &Services,
    token: &str,
    ip: Option<String>,
    user_agent: Option<String>,
) -> Result<(), LinkError> {
    let subscriber = subscriber_of_link(services, TokenPurpose::Unsubscribe, token).await?;
    let email = SubscriberEmail::parse(&subscriber.email).map_err(|_| LinkError::Invalid)?;
    let name = subscriber
        .name
        .as_deref()
        .and_then(|n| SubscriberName::parse_optional(Some(n)).ok().flatten());
    record(
        services,
        email,
        name,
        SignupSource::HostedForm,
        ip,
        user_agent,
    )
    .await?;
    Ok(())
}

/// What "keep me" did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    /// On the list, and now known to want it (also when answered before).
    Kept { email: String },
    /// No longer on the list: nothing to keep.
    NotSubscribed { email: String },
}

/// The re-permission message's "keep me" button.
pub async fn keep(services: &Services, token: &str, ip: Option<String>) -> Result<Kept, LinkError> {
    let claims = services
        .signer
        .verify(TokenPurpose::Keep, token)
        .map_err(|_| LinkError::Invalid)?;
    let subscriber: Uuid = claims.subject;
    let store = services.store.clone();
    let outcome = super::to_completion(async move {
        store
            .keep_subscriber(subscriber, ip.as_deref(), Timestamp::now())
            .await
    })
    .await?;
    match outcome {
        KeepOutcome::Kept { email } => {
            tracing::info!(%subscriber, "kept after a re-permission request");
            Ok(Kept::Kept { email })
        }
        KeepOutcome::NotSubscribed { email } => Ok(Kept::NotSubscribed { email }),
        KeepOutcome::Unknown => Err(LinkError::Invalid),
    }
}
