//! A campaign's address in the public archive, made from its subject: lower-case ASCII
//! words joined by dashes ("Rye is back!" → `rye-is-back`, "Müsli & Brot" → `musli-brot`),
//! at most [`MAX_SLUG_CHARS`], and `issue` where the subject has no letters or digits.

/// The longest slug made from a subject (a number may follow it, to keep it unique).
pub const MAX_SLUG_CHARS: usize = 60;

/// The slug `subject` reads as.
pub fn slug_of(subject: &str) -> String {
    let full = slug::slugify(subject);
    let mut cut = String::new();
    for word in full.split('-').filter(|word| !word.is_empty()) {
        let extra = usize::from(!cut.is_empty()) + word.len();
        if cut.len() + extra > MAX_SLUG_CHARS {
            if cut.is_empty() {
                cut = word.chars().take(MAX_SLUG_CHARS).collect();
            }
            break;
        }
        if !cut.is_empty() {
            cut.push('-');
        }
        cut.push_str(word);
    }
    if cut.is_empty() { "issue".into() } else { cut }
}

/// The `n`th slug to try for `base` (from 1): `base`, then `base-2`, `base-3`, …
pub fn nth_slug(base: &str, n: u32) -> String {
    if n <= 1 {
        base.to_string()
    } else {
        format!("{base}-{n}")
    }
}

/// Whether `text` could be a slug (what the archive's address takes before looking it up).
pub fn is_slug(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= MAX_SLUG_CHARS + 11
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subjects_read_as_slugs() {
        assert_eq!(slug_of("Rye is back!"), "rye-is-back");
        assert_eq!(slug_of("Müsli & Brot — Woche 3"), "musli-brot-woche-3");
        assert_eq!(slug_of("🍞🍞"), "bread-bread", "symbols read as words");
        assert_eq!(slug_of("!!! ???"), "issue");
        assert_eq!(slug_of("   "), "issue");
        let long = slug_of(&"sourdough ".repeat(20));
        assert!(
            long.len() <= MAX_SLUG_CHARS && !long.ends_with('-'),
            "{long}"
        );
        assert!(is_slug(&long));
        assert_eq!(nth_slug("rye", 1), "rye");
        assert_eq!(nth_slug("rye", 3), "rye-3");
        assert!(!is_slug("../etc") && !is_slug("Rye") && !is_slug(""));
    }
}
