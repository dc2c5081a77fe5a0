//! The `List-Id` header (RFC 2919) of every list message.

/// RFC 2919 `List-Id`: an optional quoted phrase and `<slug.domain>`. The phrase is kept
/// only when it is plain printable ASCII, which needs no encoding.
pub fn list_id(list_name: &str, domain: &str) -> String {
    let slug: String = list_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let slug = if slug.is_empty() {
        "newsletter".to_string()
    } else {
        slug
    };
    let printable = list_name
        .chars()
        .all(|c| c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ');
    if printable && !list_name.trim().is_empty() {
        format!("\"{}\" <{slug}.{domain}>", list_name.trim())
    } else {
        format!("<{slug}.{domain}>")
    }
}

#[cfg(test)]
mod tests {
    use super::list_id;

    #[test]
    fn list_id_is_a_dotted_slug_on_our_domain() {
        assert_eq!(
            list_id("Corner Bakery News", "bakery.example"),
            "\"Corner Bakery News\" <corner-bakery-news.bakery.example>"
        );
        assert_eq!(list_id("Café \"X\"", "example.com"), "<caf-x.example.com>");
        assert_eq!(
            list_id("!!!", "example.com"),
            "\"!!!\" <newsletter.example.com>"
        );
    }
}
