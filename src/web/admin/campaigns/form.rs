//! The compose form as the owner filled it in: read from the posted fields (kept exactly as
//! typed, so a page shown again after a mistake loses nothing), turned into a draft, with
//! each problem attached to its field.

use serde::Serialize;
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};
use uuid::Uuid;

use crate::domain::{AudienceError, BodyFormat, SubscriberEmail, Tier, audience_tiers};
use crate::store::{CampaignDraft, CampaignRecord};

/// What the owner pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Intent {
    Save,
    Preview,
    /// Save, then send a test copy.
    Test,
    /// Save, then go to the confirmation page.
    Review,
}

/// The compose form's fields, as typed.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ComposeForm {
    pub subject: String,
    pub preheader: String,
    pub body: String,
    pub format: String,
    pub layout: String,
    /// `everyone` or `tiers`.
    pub audience: String,
    pub tiers: Vec<String>,
    /// A subscriber's id, or empty for the sample person.
    pub preview_as: String,
    pub test_to: String,
    /// `now` or `later`.
    pub send_when: String,
    /// A `datetime-local` value: `2026-12-01T09:00`.
    pub send_at: String,
    /// The offset from UTC the time is in: `+01:00`; empty is UTC.
    pub send_offset: String,
    /// In the public archive once it went out (the box posts `0` then, ticked, `1`).
    pub public: bool,
    #[serde(skip)]
    pub intent: Option<Intent>,
}

/// The fields a problem can be shown next to.
const FIELDS: [&str; 9] = [
    "subject",
    "preheader",
    "body",
    "format",
    "layout",
    "audience",
    "preview_as",
    "test_to",
    "send_at",
];

/// A problem per field, shown next to it (the first one found for each). Serialised with
/// every field present (`null` when fine), so templates can test any of them.
#[derive(Debug, Clone, Default)]
pub struct FieldErrors(Vec<(&'static str, String)>);

impl FieldErrors {
    pub fn one(field: &str, message: String) -> Self {
        let mut errors = Self::default();
        errors.set(field, message);
        errors
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(name, _)| *name == field)
            .map(|(_, message)| message.as_str())
    }

    /// Files a problem under the field it names (anything else goes with the body, where a
    /// template's problems show), unless that field has one already.
    pub fn set(&mut self, field: &str, message: String) {
        let field = FIELDS
            .into_iter()
            .find(|name| *name == field)
            .unwrap_or("body");
        if self.get(field).is_none() {
            self.0.push((field, message));
        }
    }
}

impl Serialize for FieldErrors {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap as _;
        let mut map = serializer.serialize_map(Some(FIELDS.len()))?;
        for field in FIELDS {
            map.serialize_entry(field, &self.get(field))?;
        }
        map.end()
    }
}

/// The longest value a field keeps (a body of a few hundred kilobytes is already long).
const MAX_FIELD_BYTES: usize = 1024 * 1024;

impl ComposeForm {
    /// The form of a new campaign: Markdown, the default layout, everyone confirmed, a test
    /// to the owner, sent now, in the archive as the `archive_public` setting says.
    pub fn new_campaign(owner_email: &str, public: bool) -> Self {
        Self {
            public,
            format: BodyFormat::Markdown.as_str().into(),
            layout: "default".into(),
            audience: "everyone".into(),
            test_to: owner_email.into(),
            send_when: "now".into(),
            ..Self::default()
        }
    }

    /// The form showing a saved draft.
    pub fn of_campaign(record: &CampaignRecord, owner_email: &str) -> Self {
        let tiers = record.audience();
        Self {
            subject: record.subject.clone(),
            preheader: record.preheader.clone().unwrap_or_default(),
            body: record.body.clone(),
            format: record.format.clone(),
            layout: record.layout.clone(),
            audience: if tiers.is_some() { "tiers" } else { "everyone" }.into(),
            tiers: tiers
                .unwrap_or_default()
                .iter()
                .map(|t| t.as_str().to_string())
                .collect(),
            ..Self::new_campaign(owner_email, record.public)
        }
    }

    /// Reads the posted fields (`application/x-www-form-urlencoded`); unknown ones are
    /// ignored, missing ones are empty.
    pub fn parse(body: &[u8]) -> Self {
        let mut form = Self::default();
        for (key, value) in url::form_urlencoded::parse(body) {
            let mut value = value.into_owned();
            if value.len() > MAX_FIELD_BYTES {
                let mut end = MAX_FIELD_BYTES;
                while !value.is_char_boundary(end) {
                    end -= 1;
                }
                value.truncate(end);
            }
            match key.as_ref() {
                "subject" => form.subject = value,
                "preheader" => form.preheader = value,
                "body" => form.body = value,
                "format" => form.format = value,
                "layout" => form.layout = value,
                "audience" => form.audience = value,
                "tier" if form.tiers.len() < Tier::ALL.len() * 2 => form.tiers.push(value),
                "preview_as" => form.preview_as = value,
                "test_to" => form.test_to = value,
                "send_when" => form.send_when = value,
                "send_at" => form.send_at = value,
                "send_offset" => form.send_offset = value,
                "public" => form.public = value == "1",
                "action" => {
                    form.intent = match value.as_str() {
                        "preview" => Some(Intent::Preview),
                        "test" => Some(Intent::Test),
                        "review" => Some(Intent::Review),
                        _ => Some(Intent::Save),
                    }
                }
                _ => {}
            }
        }
        form
    }

    /// The audience chosen: `None` for everyone confirmed.
    pub fn audience_tiers(&self) -> Result<Option<Vec<Tier>>, String> {
        if self.audience != "tiers" {
            return Ok(None);
        }
        audience_tiers(&self.tiers)
            .map(Some)
            .map_err(|err| match err {
                AudienceError::NoTiers => {
                    "Choose at least one tier, or send to everyone confirmed.".to_string()
                }
                other => capitalised(&other.to_string()),
            })
    }

    /// The draft the form describes, or the problems with its fields (the content itself
    /// is checked when it is compiled).
    pub fn draft(&self) -> Result<CampaignDraft, FieldErrors> {
        let mut errors = FieldErrors::default();
        let format = BodyFormat::parse(&self.format).unwrap_or_else(|| {
            errors.set("format", "Choose Markdown or HTML.".into());
            BodyFormat::Markdown
        });
        let audience = self.audience_tiers().unwrap_or_else(|message| {
            errors.set("audience", message);
            None
        });
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(CampaignDraft {
            subject: self.subject.clone(),
            body: self.body.clone(),
            format,
            preheader: (!self.preheader.trim().is_empty()).then(|| self.preheader.clone()),
            layout: self.layout.clone(),
            audience,
            public: self.public,
        })
    }

    /// The subscriber to preview as; `None`: the sample person.
    pub fn preview_subscriber(&self) -> Result<Option<Uuid>, String> {
        let raw = self.preview_as.trim();
        if raw.is_empty() {
            return Ok(None);
        }
        Uuid::parse_str(raw)
            .map(Some)
            .map_err(|_| "There is no such subscriber; choose another.".to_string())
    }

    /// Where the test copy goes.
    pub fn test_address(&self) -> Result<SubscriberEmail, String> {
        SubscriberEmail::parse(&self.test_to).map_err(|err| err.to_string())
    }

    /// When to send: `None` for now.
    pub fn schedule(&self, now: OffsetDateTime) -> Result<Option<OffsetDateTime>, String> {
        if self.send_when != "later" {
            return Ok(None);
        }
        parse_schedule(&self.send_at, &self.send_offset, now).map(Some)
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str()),
        None => String::new(),
    }
}

const MINUTES: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]");
const SECONDS: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");

/// A `datetime-local` value in the given offset from UTC (empty, `Z` or `UTC`: UTC), which
/// must be in the future.
pub fn parse_schedule(
    local: &str,
    offset: &str,
    now: OffsetDateTime,
) -> Result<OffsetDateTime, String> {
    let local = local.trim();
    if local.is_empty() {
        return Err("Choose the date and time to send it, or send it now.".into());
    }
    let time = PrimitiveDateTime::parse(local, MINUTES)
        .or_else(|_| PrimitiveDateTime::parse(local, SECONDS))
        .map_err(|_| "Write the date and time like 2026-12-01T09:00.".to_string())?;
    let offset = parse_offset(offset)
        .ok_or_else(|| "Write the offset from UTC like +01:00 or -05:00.".to_string())?;
    let at = time.assume_offset(offset);
    if at <= now {
        return Err("That time has passed; choose a later one, or send it now.".into());
    }
    Ok(at)
}

/// `+01:00`, `-0530`, `+2`; empty, `Z` and `UTC` are UTC.
fn parse_offset(raw: &str) -> Option<UtcOffset> {
    let raw = raw.trim();
    if raw.is_empty() || raw.eq_ignore_ascii_case("z") || raw.eq_ignore_ascii_case("utc") {
        return Some(UtcOffset::UTC);
    }
    let (sign, rest) = match raw.as_bytes().first()? {
        b'+' => (1, &raw[1..]),
        b'-' => (-1, &raw[1..]),
        _ => return None,
    };
    let (hours, minutes) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 && rest.is_ascii() => rest.split_at(2),
        None => (rest, "0"),
    };
    let digits = |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(hours) || !digits(minutes) {
        return None;
    }
    let hours: i8 = hours.parse().ok()?;
    let minutes: i8 = minutes.parse().ok()?;
    if hours > 14 || minutes > 59 {
        return None;
    }
    UtcOffset::from_hms(sign * hours, sign * minutes, 0).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2026-11-26 09:00 UTC);

    #[test]
    fn a_schedule_is_read_in_its_offset_and_must_be_ahead() {
        assert_eq!(
            parse_schedule("2026-12-01T09:00", "", NOW),
            Ok(datetime!(2026-12-01 09:00 UTC))
        );
        assert_eq!(
            parse_schedule("2026-12-01T09:00:30", "+01:00", NOW),
            Ok(datetime!(2026-12-01 08:00:30 UTC))
        );
        assert_eq!(
            parse_schedule("2026-12-01T09:00", "-0530", NOW),
            Ok(datetime!(2026-12-01 14:30 UTC))
        );
        assert!(
            parse_schedule("2026-11-26T08:59", "UTC", NOW)
                .unwrap_err()
                .contains("passed")
        );
        assert!(parse_schedule("", "", NOW).is_err());
        assert!(parse_schedule("tomorrow", "", NOW).is_err());
        assert!(
            parse_schedule("2026-12-01T09:00", "+25:00", NOW)
                .unwrap_err()
                .contains("offset")
        );
        assert!(parse_schedule("2026-12-01T09:00", "Europe/Paris", NOW).is_err());
    }

    #[test]
    fn the_form_keeps_what_was_typed_and_names_bad_fields() {
        let form = ComposeForm::parse(
            b"subject=%3Cb%3EHi%3C%2Fb%3E&body=Hello&format=markdown&layout=default\
              &audience=tiers&tier=core&tier=vip&action=preview",
        );
        assert_eq!(form.subject, "<b>Hi</b>");
        assert_eq!(form.intent, Some(Intent::Preview));
        let errors = form.draft().unwrap_err();
        assert!(
            errors
                .get("audience")
                .unwrap()
                .contains("'vip' is not a tier")
        );

        let none = ComposeForm::parse(b"audience=tiers&body=x");
        let errors = none.draft().unwrap_err();
        assert!(errors.get("audience").unwrap().contains("at least one"));
        let shown = serde_json::to_value(&errors).unwrap();
        assert_eq!(shown["subject"], serde_json::Value::Null);
        assert!(shown["audience"].is_string());

        let everyone = ComposeForm::parse(b"audience=everyone&tier=core&format=html&preheader=+");
        let draft = everyone.draft().unwrap();
        assert_eq!(draft.audience, None);
        assert_eq!(draft.preheader, None);
        assert_eq!(draft.format, BodyFormat::Html);
    }
}
