//! An email address a subscriber gave us, checked and normalised.

use std::fmt;

/// The longest address SMTP can carry (RFC 5321 path limit less the brackets).
const MAX_ADDRESS_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;
const MAX_LABEL_LEN: usize = 63;

/// Why an address was refused, in words a visitor understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("Please enter an email address.")]
    Empty,
    #[error("That address is too long.")]
    TooLong,
    #[error("An email address needs one @ between a name and a domain, like name@example.com.")]
    MissingAt,
    #[error("The part before the @ isn't valid.")]
    BadLocalPart,
    #[error("The part after the @ doesn't look like a complete domain, such as example.com.")]
    BadDomain,
    #[error("Email addresses can't contain spaces or control characters.")]
    Whitespace,
}

/// A deliverable address: a dot-atom local part and a domain with at least one dot.
///
/// Internationalised domains are accepted and kept in their Unicode form for people to read;
/// the ASCII (punycode) form is what goes on the wire, and its lower-case form is the key
/// that makes `Ann@Example.com` and `ann@example.com` the same subscriber.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct SubscriberEmail {
    display: String,
    ascii: String,
}

impl SubscriberEmail {
    pub fn parse(raw: &str) -> Result<Self, EmailError> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(EmailError::Empty);
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(EmailError::Whitespace);
        }
        if trimmed.len() > MAX_ADDRESS_LEN * 4 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = trimmed.rsplit_once('@').ok_or(EmailError::MissingAt)?;
        if local.is_empty() || domain.is_empty() {
            return Err(EmailError::MissingAt);
        }
        if local.len() > MAX_LOCAL_LEN {
            return Err(EmailError::TooLong);
        }
        if !is_dot_atom(local) {
            return Err(EmailError::BadLocalPart);
        }
        let ascii_domain = normalise_domain(domain)?;
        let unicode_domain = {
            let (unicode, result) = idna::domain_to_unicode(&ascii_domain);
            if result.is_err() {
                return Err(EmailError::BadDomain);
            }
            unicode
        };
        let ascii = format!("{local}@{ascii_domain}");
        if ascii.len() > MAX_ADDRESS_LEN {
            return Err(EmailError::TooLong);
        }
        Ok(Self {
            display: format!("{local}@{unicode_domain}"),
            ascii,
        })
    }

    /// The address as people read it (Unicode domain).
    pub fn as_str(&self) -> &str {
        &self.display
    }

    /// The address as SMTP carries it (ASCII domain).
    pub fn ascii(&self) -> &str {
        &self.ascii
    }

    /// The case-insensitive identity of the address: two addresses with the same key are
    /// the same subscriber.
    pub fn key(&self) -> String {
        self.ascii.to_lowercase()
    }
}

impl fmt::Display for SubscriberEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.display)
    }
}

impl fmt::Debug for SubscriberEmail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SubscriberEmail({})", self.display)
    }
}

impl AsRef<str> for SubscriberEmail {
    fn as_ref(&self) -> &str {
        &self.display
    }
}

/// RFC 5322 dot-atom: atext runs separated by single dots. Quoted local parts are refused;
/// no real subscriber uses them and many relays mishandle them.
fn is_dot_atom(local: &str) -> bool {
    const SPECIALS: &str = "!#$%&'*+-/=?^_`{|}~";
    local.split('.').all(|atom| {
        !atom.is_empty()
            && atom
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || SPECIALS.contains(c))
    })
}

/// Lower-cases and converts the domain to ASCII, then checks it is a plausible public name.
fn normalise_domain(domain: &str) -> Result<String, EmailError> {
    let domain = domain.strip_suffix('.').unwrap_or(domain);
    let ascii = idna::domain_to_ascii_strict(domain).map_err(|_| EmailError::BadDomain)?;
    if ascii.is_empty() || ascii.len() > 253 {
        return Err(EmailError::BadDomain);
    }
    let labels: Vec<&str> = ascii.split('.').collect();
    if labels.len() < 2 {
        return Err(EmailError::BadDomain);
    }
    for label in &labels {
        let valid = !label.is_empty()
            && label.len() <= MAX_LABEL_LEN
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            return Err(EmailError::BadDomain);
        }
    }
    let tld = labels.last().copied().unwrap_or_default();
    if tld.chars().all(|c| c.is_ascii_digit()) {
        // An IP address literal without brackets, like 10.0.0.1.
        return Err(EmailError::BadDomain);
    }
    Ok(ascii.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_ordinary_addresses() {
        for ok in [
            "ann@example.com",
            "  ann.lee+news@mail.example.co.uk ",
            "o'brien@example.ie",
            "x@a.io",
        ] {
            assert!(SubscriberEmail::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn normalises_case_for_identity_but_keeps_the_local_part() {
        let a = SubscriberEmail::parse("Ann@EXAMPLE.com").unwrap();
        let b = SubscriberEmail::parse("ann@example.com").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.as_str(), "Ann@example.com");
    }

    #[test]
    fn accepts_internationalised_domains() {
        let e = SubscriberEmail::parse("jürgen@bücher.de").unwrap_err();
        assert_eq!(
            e,
            EmailError::BadLocalPart,
            "non-ASCII local parts need SMTPUTF8"
        );
        let e = SubscriberEmail::parse("juergen@Bücher.de").unwrap();
        assert_eq!(e.as_str(), "juergen@bücher.de");
        assert_eq!(e.ascii(), "juergen@xn--bcher-kva.de");
    }

    #[test]
    fn refuses_what_is_not_an_address() {
        for (bad, why) in [
            ("", EmailError::Empty),
            ("   ", EmailError::Empty),
            ("ann", EmailError::MissingAt),
            ("@example.com", EmailError::MissingAt),
            ("ann@", EmailError::MissingAt),
            ("ann@localhost", EmailError::BadDomain),
            ("ann@exa mple.com", EmailError::Whitespace),
            ("ann\r\n@example.com", EmailError::Whitespace),
            (
                "ann@example.com\r\nBcc: x@example.com",
                EmailError::Whitespace,
            ),
            ("a..b@example.com", EmailError::BadLocalPart),
            (".ab@example.com", EmailError::BadLocalPart),
            ("a<b>@example.com", EmailError::BadLocalPart),
            ("ann@-example.com", EmailError::BadDomain),
            ("ann@example..com", EmailError::BadDomain),
            ("ann@10.0.0.1", EmailError::BadDomain),
        ] {
            assert_eq!(SubscriberEmail::parse(bad), Err(why), "{bad:?}");
        }
        let long_local = format!("{}@example.com", "a".repeat(65));
        assert_eq!(
            SubscriberEmail::parse(&long_local),
            Err(EmailError::TooLong)
        );
        let long_domain = format!("ann@{}.com", vec!["a".repeat(60); 5].join("."));
        assert!(SubscriberEmail::parse(&long_domain).is_err());
    }

    proptest! {
        #[test]
        fn never_panics(raw in "\\PC{0,300}") {
            let _ = SubscriberEmail::parse(&raw);
        }

        #[test]
        fn generated_valid_addresses_parse_and_round_trip(
            local in "[a-z0-9][a-z0-9._+-]{0,20}[a-z0-9]",
            host in "[a-z][a-z0-9]{0,10}(-[a-z0-9]{1,8})?",
            tld in "[a-z]{2,6}",
        ) {
            prop_assume!(!local.contains(".."));
            let raw = format!("{local}@{host}.{tld}");
            let parsed = SubscriberEmail::parse(&raw).unwrap();
            prop_assert_eq!(parsed.as_str(), raw.as_str());
            let again = SubscriberEmail::parse(parsed.as_str()).unwrap();
            prop_assert_eq!(again.key(), parsed.key());
        }

        #[test]
        fn accepted_addresses_are_safe_to_put_in_a_header(raw in "\\PC{0,80}") {
            if let Ok(parsed) = SubscriberEmail::parse(&raw) {
                prop_assert!(parsed.ascii().len() <= 254);
                prop_assert!(!parsed.ascii().chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ','));
                prop_assert_eq!(parsed.ascii().matches('@').count(), 1);
            }
        }

        #[test]
        fn case_never_changes_identity(raw in "[a-zA-Z]{1,10}@[a-zA-Z]{1,10}\\.[a-zA-Z]{2,4}") {
            let upper = SubscriberEmail::parse(&raw.to_uppercase()).unwrap();
            let lower = SubscriberEmail::parse(&raw.to_lowercase()).unwrap();
            prop_assert_eq!(upper.key(), lower.key());
        }
    }
}
