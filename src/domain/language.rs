//! The language readers are addressed in: the public pages, the system messages and the
//! footer of the default email layout. The words themselves live in `locales/` (see
//! `crate::i18n`); this is only which languages there are.

use std::fmt;
use std::str::FromStr;

/// A language hundred ships its reader-facing words in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Language {
    #[default]
    En,
    De,
    Fr,
    Es,
}

impl Language {
    /// Every language, in the order a select box lists them.
    pub const ALL: [Language; 4] = [Self::En, Self::De, Self::Fr, Self::Es];

    /// The ISO 639-1 code: the folder under `locales/`, `lang="…"` on pages and
    /// `Content-Language` on mail.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::De => "de",
            Self::Fr => "fr",
            Self::Es => "es",
        }
    }

    /// The language's name in itself, for a select box.
    pub fn name(self) -> &'static str {
        match self {
            Self::En => "English",
            Self::De => "Deutsch",
            Self::Fr => "Français",
            Self::Es => "Español",
        }
    }

    /// `en`, `de`, `fr` or `es` (any case, surrounding spaces ignored).
    pub fn parse(raw: &str) -> Result<Self, LanguageError> {
        let code = raw.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|language| language.code() == code)
            .ok_or(LanguageError)
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Language {
    type Err = LanguageError;
    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

/// A language hundred does not ship.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("is not one of en (English), de (Deutsch), fr (Français), es (Español)")]
pub struct LanguageError;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_read_back_as_their_language() {
        for language in Language::ALL {
            assert_eq!(Language::parse(language.code()), Ok(language));
        }
        assert_eq!(Language::parse(" DE "), Ok(Language::De));
        assert_eq!(Language::parse("de-AT"), Err(LanguageError));
        assert_eq!(Language::parse(""), Err(LanguageError));
        assert_eq!(Language::Fr.name(), "Français");
    }
}
