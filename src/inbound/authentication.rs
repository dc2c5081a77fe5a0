//! Reading `Authentication-Results` (RFC 8601): whether a server the owner trusts saw the
//! sender's domain pass DMARC or DKIM.
//!
//! Anybody can write such a header into a message, so only fields carrying the authserv-id
//! of the owner's own receiving server (`HUNDRED_TRUSTED_AUTHSERV_ID`) are read: a border
//! server removes fields that claim its id before adding its own (RFC 8601, section 5), so
//! what remains with that id is its word. A pass counts when the domain it speaks for is
//! the From domain: DMARC's `header.from`, or DKIM's signing domain (`header.d`, else the
//! domain of `header.i`) equal to the From domain or a parent of it (DMARC's relaxed
//! alignment). A `dmarc=fail` for the From domain in a trusted field outweighs any pass.

/// At most this many fields are read, each at most this long.
pub(super) const MAX_FIELDS: usize = 32;
pub(super) const MAX_FIELD_BYTES: usize = 8 * 1024;

/// One method's result in an `Authentication-Results` field: `dkim=pass header.d=x.example`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct MethodResult {
    method: String,
    result: String,
    /// `ptype.property` → value, lowercased names (`header.d`, `header.from`, `smtp.mailfrom`).
    properties: Vec<(String, String)>,
}

/// One `Authentication-Results` field.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AuthenticationResults {
    authserv_id: String,
    results: Vec<MethodResult>,
}

/// How a trusted server vouched for the sender, in words: `DMARC pass` or `DKIM pass`.
/// `fields` are the raw values of the message's `Authentication-Results` fields, topmost
/// first; `from` is the bare From address.
pub fn sender_verified(fields: &[String], trusted_id: &str, from: &str) -> Option<&'static str> {
    let trusted_id = trusted_id.trim();
    if trusted_id.is_empty() {
        return None;
    }
    let from_domain = from
        .rsplit_once('@')?
        .1
        .trim_end_matches('.')
        .to_lowercase();
    if from_domain.is_empty() {
        return None;
    }
    let trusted: Vec<AuthenticationResults> = fields
        .iter()
        .filter_map(|field| parse(field))
        .filter(|field| field.authserv_id.eq_ignore_ascii_case(trusted_id))
        .collect();
    let all = || trusted.iter().flat_map(|field| field.results.iter());
    let dmarc_for_from = |result: &MethodResult| {
        result.method == "dmarc"
            && result
                .property("header.from")
                .is_some_and(|d| same_domain(d, &from_domain))
    };
    if all().any(|r| dmarc_for_from(r) && r.result != "pass") {
        return None;
    }
    if all().any(|r| dmarc_for_from(r) && r.result == "pass") {
        return Some("DMARC pass");
    }
    let dkim_aligned = |result: &MethodResult| {
        let signer = result.property("header.d").map(str::to_string).or_else(|| {
            result
                .property("header.i")
                .and_then(|i| i.rsplit_once('@').map(|(_, domain)| domain.to_string()))
        });
        signer.is_some_and(|d| aligned(&d, &from_domain))
    };
    all()
        .any(|r| r.method == "dkim" && r.result == "pass" && dkim_aligned(r))
        .then_some("DKIM pass")
}

impl MethodResult {
    fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

fn same_domain(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// The signing domain is the From domain or one of its parents (not a bare top-level
/// domain): `news.example.com` is aligned with a signature by `example.com`.
fn aligned(signer: &str, from_domain: &str) -> bool {
    let signer = signer.trim_end_matches('.').to_lowercase();
    if signer.is_empty() || !signer.contains('.') {
        return false;
    }
    from_domain == signer || from_domain.ends_with(&format!(".{signer}"))
}

/// Reads one field's value. `None` for what does not look like one.
fn parse(value: &str) -> Option<AuthenticationResults> {
    let value = value.get(..MAX_FIELD_BYTES).unwrap_or(value);
    let clean = without_comments(value);
    let mut parts = split_outside_quotes(&clean, ';').into_iter();
    // `authserv-id [version]`
    let authserv_id = parts.next()?.split_whitespace().next()?.to_string();
    let mut results = Vec::new();
    for part in parts {
        let mut words = split_outside_quotes(&part, ' ')
            .into_iter()
            .flat_map(|w| split_outside_quotes(&w, '\t'))
            .flat_map(|w| split_outside_quotes(&w, '\n'))
            .map(|w| w.trim().to_string())
            .filter(|w| !w.is_empty());
        let Some(first) = words.next() else {
            continue;
        };
        let Some((method, result)) = first.split_once('=') else {
            continue;
        };
        // `dkim/1=pass`: the method's version is not needed.
        let method = method.split('/').next().unwrap_or(method).trim();
        let properties = words
            .filter_map(|word| {
                let (key, value) = word.split_once('=')?;
                key.contains('.').then(|| {
                    (
                        key.trim().to_ascii_lowercase(),
                        unquote(value.trim()).to_string(),
                    )
                })
            })
            .collect();
        results.push(MethodResult {
            method: method.to_ascii_lowercase(),
            result: unquote(result.trim()).to_ascii_lowercase(),
            properties,
        });
    }
    Some(AuthenticationResults {
        authserv_id,
        results,
    })
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// The value with `(comments)` (which may nest) left out, quoted strings kept.
fn without_comments(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in value.chars() {
        if escaped {
            escaped = false;
            if depth == 0 {
                out.push(c);
            }
            continue;
        }
        match c {
            '\\' => {
                escaped = true;
                if depth == 0 {
                    out.push(c);
                }
            }
            '"' if depth == 0 => {
                quoted = !quoted;
                out.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

fn split_outside_quotes(value: &str, separator: char) -> Vec<String> {
    let mut parts = vec![String::new()];
    let mut quoted = false;
    for c in value.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c == separator && !quoted {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push(c);
        }
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(values: &[&str]) -> Vec<String> {
        values.iter().map(|v| v.to_string()).collect()
    }

    /// What our own server, mx.bakery.example, says of fan@mail.example in these fields.
    fn verdict(fields: &[String]) -> Option<&'static str> {
        sender_verified(fields, "mx.bakery.example", "fan@mail.example")
    }

    #[test]
    fn a_trusted_dmarc_pass_for_the_from_domain_verifies() {
        let ar = fields(&[
            "mx.bakery.example;\r\n spf=pass smtp.mailfrom=fan@mail.example;\r\n \
             dkim=pass (2048-bit key) header.d=mail.example header.i=@mail.example;\r\n \
             dmarc=pass (p=reject dis=none) header.from=mail.example",
        ]);
        assert_eq!(verdict(&ar), Some("DMARC pass"));
        assert_eq!(
            sender_verified(&ar, "MX.Bakery.Example", "fan@MAIL.example"),
            Some("DMARC pass")
        );
    }

    #[test]
    fn another_servers_word_counts_for_nothing() {
        let ar = fields(&[
            "evil.example; dkim=pass header.d=mail.example; dmarc=pass header.from=mail.example",
        ]);
        assert_eq!(verdict(&ar), None);
        assert_eq!(sender_verified(&ar, "", "fan@mail.example"), None);
    }

    #[test]
    fn a_pass_for_another_domain_does_not_verify_this_one() {
        let ar = fields(&[
            "mx.bakery.example; dkim=pass header.d=evil.example; dmarc=pass header.from=evil.example",
        ]);
        assert_eq!(verdict(&ar), None);
        // A top-level domain is no signing domain to align with.
        let ar = fields(&["mx.bakery.example; dkim=pass header.d=example"]);
        assert_eq!(verdict(&ar), None);
    }

    #[test]
    fn an_aligned_dkim_pass_verifies_without_dmarc() {
        let ar = fields(&["mx.bakery.example 1; dkim=pass header.d=example.com"]);
        assert_eq!(
            sender_verified(&ar, "mx.bakery.example", "fan@news.example.com"),
            Some("DKIM pass")
        );
        let ar = fields(&["mx.bakery.example; dkim=pass header.i=\"@news.example.com\""]);
        assert_eq!(
            sender_verified(&ar, "mx.bakery.example", "fan@news.example.com"),
            Some("DKIM pass")
        );
        let ar = fields(&["mx.bakery.example; dkim=pass header.d=badexample.com"]);
        assert_eq!(
            sender_verified(&ar, "mx.bakery.example", "fan@example.com"),
            None
        );
    }

    #[test]
    fn failures_and_none_do_not_verify() {
        for ar in [
            "mx.bakery.example; none",
            "mx.bakery.example; dkim=fail header.d=mail.example",
            "mx.bakery.example; dkim=neutral header.d=mail.example",
            "mx.bakery.example; dmarc=fail header.from=mail.example; dkim=pass header.d=mail.example",
            "mx.bakery.example; spf=pass smtp.mailfrom=mail.example",
            "",
            ";;;==;",
        ] {
            assert_eq!(
                sender_verified(&fields(&[ar]), "mx.bakery.example", "fan@mail.example"),
                None,
                "{ar}"
            );
        }
    }

    #[test]
    fn comments_and_quotes_do_not_confuse_the_reading() {
        let ar = fields(&[
            "mx.bakery.example (looks like \"dmarc=pass header.from=mail.example\"); dkim=fail (bad; really) header.d=mail.example",
        ]);
        assert_eq!(verdict(&ar), None);
        let ar = fields(&[
            "mx.bakery.example; dmarc=pass (p=none (nested)) header.from=\"mail.example\"",
        ]);
        assert_eq!(verdict(&ar), Some("DMARC pass"));
    }

    #[test]
    fn a_trusted_dmarc_fail_outweighs_a_pass_in_another_field() {
        let ar = fields(&[
            "mx.bakery.example; dmarc=fail header.from=mail.example",
            "mx.bakery.example; dmarc=pass header.from=mail.example",
        ]);
        assert_eq!(verdict(&ar), None);
    }
}
