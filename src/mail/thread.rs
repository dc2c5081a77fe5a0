//! Answering a message so it threads under it: the subject ("Re: …", never "Re: Re: …")
//! and the `In-Reply-To` and `References` headers, from Message-IDs that came in from
//! outside and so are checked before they go into a header.

/// How many Message-IDs an answer's `References` keeps: the thread's first and the latest
/// (RFC 5322 §3.6.4 allows trimming; mail clients need the first and the last).
pub const MAX_REFERENCES: usize = 20;
const MAX_MESSAGE_ID_CHARS: usize = 250;
const MAX_SUBJECT_CHARS: usize = 250;

/// The subject of an answer to a message with subject `theirs`, else to a message about
/// `fallback` (the campaign it answered): one line, "Re: " once.
pub fn answer_subject(theirs: Option<&str>, fallback: &str) -> String {
    let one_line = |text: &str| -> String {
        text.split(|c: char| c.is_control())
            .flat_map(str::split_whitespace)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let theirs = theirs.map(one_line).filter(|s| !s.is_empty());
    let subject = theirs.unwrap_or_else(|| one_line(fallback));
    let subject: String = subject.chars().take(MAX_SUBJECT_CHARS).collect();
    if is_reply_subject(&subject) {
        subject
    } else if subject.is_empty() {
        "Re: your message".to_string()
    } else {
        format!("Re: {subject}")
    }
}

/// "Re: x", "RE:x", "re : x", "Aw: x" (German), "Sv: x" (Nordic): already an answer's.
fn is_reply_subject(subject: &str) -> bool {
    let Some((prefix, _)) = subject.split_once(':') else {
        return false;
    };
    let prefix = prefix.trim().to_ascii_lowercase();
    matches!(prefix.as_str(), "re" | "aw" | "sv" | "antw" | "réf" | "ref")
}

/// A Message-ID as it may go into a header: `<…>` around printable ASCII with no spaces,
/// brackets or line breaks, of a sensible length.
pub fn is_valid_message_id(id: &str) -> bool {
    let Some(inner) = id.strip_prefix('<').and_then(|rest| rest.strip_suffix('>')) else {
        return false;
    };
    !inner.is_empty()
        && id.len() <= MAX_MESSAGE_ID_CHARS
        && inner
            .chars()
            .all(|c| c.is_ascii_graphic() && c != '<' && c != '>')
}

/// The threading headers of an answer to the message `message_id` whose own `References`
/// were `references` (space-separated): `In-Reply-To` its id, `References` its references
/// plus its id. Ids that are not valid are left out; without a valid id of its own the
/// answer is not threaded (it still reaches the person).
pub fn threading(
    message_id: Option<&str>,
    references: Option<&str>,
) -> (Option<String>, Vec<String>) {
    let Some(id) = message_id.filter(|id| is_valid_message_id(id)) else {
        return (None, Vec::new());
    };
    let mut chain: Vec<String> = references
        .unwrap_or_default()
        .split_whitespace()
        .filter(|r| is_valid_message_id(r) && *r != id)
        .map(str::to_string)
        .collect();
    chain.push(id.to_string());
    if chain.len() > MAX_REFERENCES {
        let latest = chain.split_off(chain.len() - (MAX_REFERENCES - 1));
        chain.truncate(1);
        chain.extend(latest);
    }
    (Some(id.to_string()), chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_says_re_once() {
        assert_eq!(
            answer_subject(Some("Saturday market"), "x"),
            "Re: Saturday market"
        );
        assert_eq!(
            answer_subject(Some("Re: Saturday market"), "x"),
            "Re: Saturday market"
        );
        assert_eq!(answer_subject(Some("RE:Saturday"), "x"), "RE:Saturday");
        assert_eq!(answer_subject(Some("Aw: Markt"), "x"), "Aw: Markt");
        assert_eq!(
            answer_subject(Some("Regarding bread"), "x"),
            "Re: Regarding bread"
        );
        assert_eq!(
            answer_subject(None, "Saturday market"),
            "Re: Saturday market"
        );
        assert_eq!(answer_subject(Some("  "), ""), "Re: your message");
        assert_eq!(
            answer_subject(Some("Hi\r\nBcc: someone@example.com"), "x"),
            "Re: Hi Bcc: someone@example.com"
        );
    }

    #[test]
    fn only_well_formed_ids_go_into_headers() {
        assert!(is_valid_message_id("<abc.123@example.com>"));
        assert!(!is_valid_message_id("abc@example.com"));
        assert!(!is_valid_message_id("<>"));
        assert!(!is_valid_message_id("<a b@example.com>"));
        assert!(!is_valid_message_id(
            "<a@example.com>\r\nBcc: x@example.com"
        ));
        assert!(!is_valid_message_id("<a<b@example.com>"));
        assert!(!is_valid_message_id("<é@example.com>"));
        assert!(!is_valid_message_id(&format!(
            "<{}@example.com>",
            "a".repeat(300)
        )));
    }

    #[test]
    fn the_answer_threads_under_the_reply() {
        let (in_reply_to, references) = threading(
            Some("<reply@them.example>"),
            Some("<first@us.example> <bad id> <second@us.example>"),
        );
        assert_eq!(in_reply_to.as_deref(), Some("<reply@them.example>"));
        assert_eq!(
            references,
            [
                "<first@us.example>",
                "<second@us.example>",
                "<reply@them.example>"
            ]
        );
        assert_eq!(threading(Some("not an id"), Some("<a@b>")), (None, vec![]));
        let long: Vec<String> = (0..30).map(|i| format!("<r{i}@x.example>")).collect();
        let (_, references) = threading(Some("<last@x.example>"), Some(&long.join(" ")));
        assert_eq!(references.len(), MAX_REFERENCES);
        assert_eq!(references[0], "<r0@x.example>");
        assert_eq!(references[MAX_REFERENCES - 1], "<last@x.example>");
        assert_eq!(references[MAX_REFERENCES - 2], "<r29@x.example>");
    }
}
