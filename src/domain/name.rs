//! A subscriber's name as they typed it: one line, bounded, safe to put in a header.

const MAX_NAME_CHARS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("That name is too long (at most 100 characters).")]
    TooLong,
    #[error("Names can't contain line breaks or control characters.")]
    ControlCharacters,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriberName(String);

impl SubscriberName {
    /// Parses an optional name: blank means no name.
    pub fn parse_optional(raw: Option<&str>) -> Result<Option<Self>, NameError> {
        let Some(raw) = raw else { return Ok(None) };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        // A line break in a name is how header injection starts; refuse it outright.
        if trimmed.chars().any(char::is_control) {
            return Err(NameError::ControlCharacters);
        }
        if trimmed.chars().count() > MAX_NAME_CHARS {
            return Err(NameError::TooLong);
        }
        Ok(Some(Self(trimmed.to_string())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SubscriberName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn blank_is_no_name() {
        assert_eq!(SubscriberName::parse_optional(None), Ok(None));
        assert_eq!(SubscriberName::parse_optional(Some("  ")), Ok(None));
    }

    #[test]
    fn refuses_header_injection() {
        assert_eq!(
            SubscriberName::parse_optional(Some("Bob\r\nBcc: x@example.com")),
            Err(NameError::ControlCharacters)
        );
    }

    #[test]
    fn keeps_markup_as_text() {
        let name = SubscriberName::parse_optional(Some(" <b>Zoë</b> "))
            .unwrap()
            .unwrap();
        assert_eq!(name.as_str(), "<b>Zoë</b>");
    }

    proptest! {
        #[test]
        fn accepted_names_are_one_bounded_line(raw in "\\PC{0,150}|[\\x00-\\x7f]{0,150}") {
            if let Ok(Some(name)) = SubscriberName::parse_optional(Some(&raw)) {
                prop_assert!(!name.as_str().chars().any(char::is_control));
                prop_assert!(name.as_str().chars().count() <= MAX_NAME_CHARS);
            }
        }
    }
}
