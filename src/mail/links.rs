//! Finding the links of a message's HTML: the `href` of each tag, read as a browser reads
//! it, so text that merely looks like an attribute (`href="https://…"` typed as a name) is
//! never taken for a link, registered, or rewritten.

/// A link found in HTML: where its URL sits in the source, and the URL itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundLink {
    pub start: usize,
    pub end: usize,
    pub url: String,
}

/// Elements whose content is text up to their end tag, where a `<` opens nothing.
const RAW_TEXT: [&str; 4] = ["script", "style", "textarea", "title"];

/// Every `href` attribute of a tag whose value is an http(s) URL, unescaped. Text, comments
/// and the content of `<style>` and the like are skipped.
pub fn trackable_links(html: &str) -> Vec<FoundLink> {
    let bytes = html.as_bytes();
    let lower = html.to_ascii_lowercase();
    let mut links = Vec::new();
    let mut at = 0;
    while let Some(found) = html[at..].find('<') {
        let open = at + found;
        if lower[open..].starts_with("<!--") {
            at = lower[open + 4..]
                .find("-->")
                .map_or(html.len(), |end| open + 4 + end + 3);
            continue;
        }
        let name_start = open + 1;
        if !bytes.get(name_start).is_some_and(u8::is_ascii_alphabetic) {
            // `</…>`, `<!DOCTYPE …>` and a `<` in text hold no link.
            at = name_start;
            continue;
        }
        let name_end = name_start
            + bytes[name_start..]
                .iter()
                .position(|b| b.is_ascii_whitespace() || matches!(b, b'/' | b'>'))
                .unwrap_or(bytes.len() - name_start);
        let name = &lower[name_start..name_end];
        at = read_attributes(html, name_end, &mut links);
        if RAW_TEXT.contains(&name) {
            let close = format!("</{name}");
            at = lower[at..].find(&close).map_or(html.len(), |end| at + end);
        }
    }
    links
}

/// Reads a tag's attributes from `at`, adding each trackable `href`, and returns where the
/// tag ends.
fn read_attributes(html: &str, mut at: usize, links: &mut Vec<FoundLink>) -> usize {
    let bytes = html.as_bytes();
    let skip_space = |mut i: usize| {
        while bytes.get(i).is_some_and(u8::is_ascii_whitespace) {
            i += 1;
        }
        i
    };
    loop {
        at = skip_space(at);
        match bytes.get(at) {
            None => return html.len(),
            Some(b'>') => return at + 1,
            Some(b'/') => {
                at += 1;
                continue;
            }
            Some(_) => {}
        }
        let name_start = at;
        while bytes
            .get(at)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'/' | b'>' | b'='))
        {
            at += 1;
        }
        // An attribute name always has a character, even a stray `=` (HTML reads it so).
        if at == name_start {
            at += 1;
        }
        let is_href = html[name_start..at].eq_ignore_ascii_case("href");
        let after_name = skip_space(at);
        if bytes.get(after_name) != Some(&b'=') {
            continue;
        }
        at = skip_space(after_name + 1);
        let (value_start, value_end, next) = match bytes.get(at) {
            Some(quote @ (b'"' | b'\'')) => {
                let start = at + 1;
                match html[start..].find(char::from(*quote)) {
                    Some(len) => (start, start + len, start + len + 1),
                    None => return html.len(),
                }
            }
            _ => {
                let start = at;
                let mut end = at;
                while bytes
                    .get(end)
                    .is_some_and(|b| !b.is_ascii_whitespace() && *b != b'>')
                {
                    end += 1;
                }
                (start, end, end)
            }
        };
        at = next;
        if is_href {
            let url = unescape_attribute(&html[value_start..value_end]);
            let lower_url = url.to_ascii_lowercase();
            if lower_url.starts_with("http://") || lower_url.starts_with("https://") {
                links.push(FoundLink {
                    start: value_start,
                    end: value_end,
                    url,
                });
            }
        }
    }
}

fn unescape_attribute(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urls(html: &str) -> Vec<String> {
        trackable_links(html).into_iter().map(|l| l.url).collect()
    }

    #[test]
    fn finds_links_in_either_quote_style() {
        let html = r#"<a href="https://a.example/x?a=1&amp;b=2">a</a> <A HREF='http://b.example'>b</A> <a href="mailto:x@y.z">m</a> <a class=x href=https://c.example/y>c</a>"#;
        assert_eq!(
            urls(html),
            vec![
                "https://a.example/x?a=1&b=2",
                "http://b.example",
                "https://c.example/y"
            ]
        );
    }

    #[test]
    fn text_that_looks_like_an_attribute_is_no_link() {
        let html = concat!(
            r#"<p>Hello href="https://evil.example/a" and href='https://evil.example/b'</p>"#,
            r#"<p title="href='https://evil.example/c'" data-href="https://evil.example/d">x</p>"#,
            r#"<!-- <a href="https://evil.example/e"> --><style>a[href="https://evil.example/f"]{}</style>"#,
            r#"<p>1 < 2 href="https://evil.example/g"</p><a href="https://ok.example/">ok</a>"#,
        );
        assert_eq!(urls(html), vec!["https://ok.example/"]);
        let link = &trackable_links(html)[0];
        assert_eq!(&html[link.start..link.end], "https://ok.example/");
    }
}
