//! What identifies a person in stored text (their address, their name, a value of theirs),
//! in the forms it takes there, and how to find and blank it: used by erasure.
//!
//! Matching ignores case (for every letter whose lower case is one letter of the same
//! size, which is all of them in practice). An address is found anywhere, even inside other text (it
//! cannot be part of anything else); a name or attribute value only as a whole word, so that
//! erasing "Al" does not touch "sale". Every form a template or a mail server may write is
//! tried: as typed, percent-encoded (`bob%40example.com`, with or without `.` and `-`
//! encoded), and form-encoded (`Zebulon+Quixote`).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

/// What replaces a trace: says something was there, names nobody.
pub const ERASED: &str = "(erased)";

/// Percent-encoding of everything but RFC 3986's unreserved characters.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The traces of one person to look for.
#[derive(Debug, Clone, Default)]
pub struct Traces {
    /// Lower-case forms of their address, found anywhere.
    anywhere: Vec<String>,
    /// Lower-case forms of names and values, found as whole words.
    words: Vec<String>,
}

impl Traces {
    /// Looks for this address in every form it takes.
    pub fn address(mut self, address: &str) -> Self {
        for form in forms(address) {
            push_new(&mut self.anywhere, form);
        }
        self
    }

    /// Looks for this name or value as a whole word, in every form it takes. Blank values
    /// and single characters are ignored: they would match everywhere and identify nobody.
    pub fn word(mut self, value: &str) -> Self {
        let value = value.trim();
        if value.chars().count() < 2 {
            return self;
        }
        for form in forms(value) {
            push_new(&mut self.words, form);
        }
        self
    }

    pub fn is_empty(&self) -> bool {
        self.anywhere.is_empty() && self.words.is_empty()
    }

    /// Every form looked for, lower-case: a superset search (SQL `LIKE`) finds the rows that
    /// may hold a trace, and `redact` decides.
    pub fn forms(&self) -> impl Iterator<Item = &str> {
        self.anywhere.iter().chain(&self.words).map(String::as_str)
    }

    /// Whether the text holds a trace.
    pub fn found_in(&self, text: &str) -> bool {
        !self.places(text).is_empty()
    }

    /// The text with every trace replaced by `ERASED`; `None` when there was none.
    pub fn redact(&self, text: &str) -> Option<String> {
        let places = self.places(text);
        if places.is_empty() {
            return None;
        }
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for (start, end) in places {
            out.push_str(&text[last..start]);
            out.push_str(ERASED);
            last = end;
        }
        out.push_str(&text[last..]);
        Some(out)
    }

    /// A URL with every trace replaced, also those only seen once the URL is decoded
    /// (`bob%40example%2Ecom` written by hand); `None` when there was none.
    pub fn redact_url(&self, url: &str) -> Option<String> {
        let redacted = self.redact(url);
        let current = redacted.as_deref().unwrap_or(url);
        let decoded = percent_decode_str(current).decode_utf8_lossy();
        match self.redact(&decoded) {
            Some(clean) => Some(clean.replace(' ', "%20")),
            None => redacted,
        }
    }

    /// Where traces are, as sorted, non-overlapping byte ranges.
    fn places(&self, text: &str) -> Vec<(usize, usize)> {
        // Folding keeps every byte where it is, so ranges found in `lower` are ranges of
        // `text`, on character boundaries.
        let lower = fold(text);
        let mut found = Vec::new();
        for form in &self.anywhere {
            found.extend(
                lower
                    .match_indices(form.as_str())
                    .map(|(at, m)| (at, at + m.len())),
            );
        }
        for form in &self.words {
            found.extend(
                lower
                    .match_indices(form.as_str())
                    .map(|(at, m)| (at, at + m.len()))
                    .filter(|&(start, end)| {
                        let before = lower[..start].chars().next_back();
                        let after = lower[end..].chars().next();
                        !before.is_some_and(char::is_alphanumeric)
                            && !after.is_some_and(char::is_alphanumeric)
                    }),
            );
        }
        found.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(found.len());
        for (start, end) in found {
            match merged.last_mut() {
                Some(last) if start <= last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }
}

/// Lower case, letter by letter, where that keeps each letter's size in bytes (so a
/// position in the folded text is the same position in the original).
fn fold(text: &str) -> String {
    text.chars()
        .map(|c| {
            let mut lower = c.to_lowercase();
            match (lower.next(), lower.next()) {
                (Some(l), None) if l.len_utf8() == c.len_utf8() => l,
                _ => c,
            }
        })
        .collect()
}

/// How a form is put in lower case.
type Lower = fn(&str) -> String;

/// A value as typed and as URLs and forms encode it, folded. Also lower-cased in ASCII
/// only, as SQLite's `lower()` does, from the value as typed and in capitals, so that a
/// database search there finds "Élodie" and "ÉLODIE" too ("zÉlodie" after `lower()`).
fn forms(value: &str) -> Vec<String> {
    let mut forms = Vec::new();
    let ascii_lower: Lower = |s| s.to_ascii_lowercase();
    let lower: [(String, Lower); 3] = [
        (fold(value), fold),
        (value.to_ascii_lowercase(), ascii_lower),
        (value.to_uppercase().to_ascii_lowercase(), ascii_lower),
    ];
    for (plain, lower) in lower {
        let component = utf8_percent_encode(&plain, COMPONENT).to_string();
        let strict = utf8_percent_encode(&plain, NON_ALPHANUMERIC).to_string();
        let form_encoded = component.replace("%20", "+");
        for form in [plain, component, strict, form_encoded] {
            push_new(&mut forms, lower(&form));
        }
    }
    forms
}

fn push_new(list: &mut Vec<String>, value: String) {
    if !value.is_empty() && !list.contains(&value) {
        list.push(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bob() -> Traces {
        Traces::default()
            .address("Bob.Q+news@Example.com")
            .word("Zebulon Quixote")
    }

    #[test]
    fn an_address_goes_in_any_case_and_encoding() {
        let traces = bob();
        assert_eq!(
            traces
                .redact("550 5.1.1 <BOB.Q+NEWS@example.com>: user unknown")
                .unwrap(),
            "550 5.1.1 <(erased)>: user unknown"
        );
        assert_eq!(
            traces
                .redact("https://shop.example/p?e=bob.q%2Bnews%40example.com&x=1")
                .unwrap(),
            "https://shop.example/p?e=(erased)&x=1"
        );
        assert_eq!(
            traces
                .redact("https://shop.example/p?e=bob%2Eq%2Bnews%40example%2Ecom")
                .unwrap(),
            "https://shop.example/p?e=(erased)"
        );
        assert_eq!(
            traces
                .redact_url("https://shop.example/p?e=bob.q%2bnews%40example%2Ecom")
                .unwrap(),
            "https://shop.example/p?e=(erased)"
        );
        assert_eq!(traces.redact("nothing of theirs here"), None);
    }

    #[test]
    fn a_name_goes_only_as_a_whole_word() {
        let traces = bob();
        assert_eq!(
            traces.redact("Thanks, zebulon quixote!").unwrap(),
            "Thanks, (erased)!"
        );
        assert_eq!(
            traces
                .redact("?n=Zebulon+Quixote&m=Zebulon%20Quixote")
                .unwrap(),
            "?n=(erased)&m=(erased)"
        );
        let al = Traces::default().word("Al");
        assert_eq!(al.redact("a sale for all"), None);
        assert_eq!(al.redact("Hi Al, ").unwrap(), "Hi (erased), ");
        assert!(Traces::default().word(" x ").is_empty());
    }

    #[test]
    fn overlapping_traces_become_one_and_other_text_stays_exact() {
        let traces = Traces::default()
            .address("zq@example.com")
            .word("zq")
            .word("Zoë Quist");
        assert_eq!(
            traces.redact("Für zq@example.com — Zoë Quist").unwrap(),
            "Für (erased) — (erased)"
        );
        assert!(traces.found_in("ZQ"));
        assert_eq!(
            traces.redact("ZOË QUIST, zoë quist").unwrap(),
            "(erased), (erased)"
        );
        assert!(traces.forms().any(|f| f == "zq%40example.com"));
        // For SQLite's ASCII-only lower(): the name as typed, with its capitals kept.
        assert!(traces.forms().any(|f| f == "zoë quist"));
        let capital = Traces::default().word("Élodie");
        assert!(capital.forms().any(|f| f == "élodie"));
        assert!(capital.forms().any(|f| f == "Élodie"));
        assert!(
            capital
                .forms()
                .any(|f| f == "Élodie".to_uppercase().to_ascii_lowercase())
        );
    }
}
