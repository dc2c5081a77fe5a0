//! Trimming a reply down to what the person wrote.
//!
//! Mail clients quote the earlier message in a few ways:
//!
//! - `> ` before each quoted line, introduced by an attribution line ("On Mon, 2 Apr 2012,
//!   Bob <bob@example.com> wrote:", "Le … a écrit :", "… schrieb:"), which may be wrapped
//!   over up to four lines; Gmail, Apple Mail, Thunderbird, K-9, and HTML blockquotes once
//!   converted to text;
//! - a separator and the earlier message unmarked below it: Outlook's
//!   "-----Original Message-----", Yahoo's "----- Original Message -----", or a header block
//!   ("From: … Sent: … To: … Subject: …", often after a line of underscores).
//!
//! Quoted lines and attributions are removed wherever they are, so text written below the
//! quote (bottom posting) is kept; a separator or header block ends the reply. A signature
//! block (`-- ` line) that ends the message is removed; one the client placed between the
//! new text and the quote, as Sparrow does, is part of what was sent and stays.

use super::headers::clip_to;
use super::text::MAX_TEXT_BYTES;

/// Most lines of a reply we look at.
const MAX_LINES: usize = 10_000;

/// Most lines an attribution is wrapped over.
const MAX_ATTRIBUTION_LINES: usize = 4;

/// Most non-blank lines after a `-- ` line for it to count as a signature.
const MAX_SIGNATURE_LINES: usize = 10;

/// `text` without quoted earlier messages, attribution lines and a trailing signature;
/// blank lines at either end removed, runs of blank lines made one.
pub fn trim_reply(text: &str) -> String {
    let text = clip_to(text, MAX_TEXT_BYTES);
    let lines: Vec<&str> = text.lines().take(MAX_LINES).collect();
    let end = earlier_message_start(&lines).unwrap_or(lines.len());
    let lines = &lines[..end];
    let end = trailing_signature_start(lines).unwrap_or(lines.len());
    let lines = &lines[..end];

    let mut kept: Vec<&str> = Vec::new();
    for (i, &line) in lines.iter().enumerate() {
        if is_quoted(line) {
            continue;
        }
        if line.trim().is_empty() {
            kept.push(line);
            continue;
        }
        let quote_follows = lines[i + 1..]
            .iter()
            .find(|l| !l.trim().is_empty())
            .is_some_and(|l| is_quoted(l));
        if quote_follows && is_bare_attribution(line) {
            continue;
        }
        if is_attribution_end(line) {
            // The attribution's earlier lines were kept before its last line showed it.
            let start = attribution_start(lines, i);
            kept.truncate(kept.len().saturating_sub(i - start));
            if quote_follows {
                continue;
            }
            // An attribution over unmarked text: the rest is the earlier message.
            break;
        }
        kept.push(line);
    }
    tidy(&kept)
}

/// True for a line of a quoted message (`>`, possibly indented).
fn is_quoted(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// True when `line` ends an attribution: "… wrote:" and its translations, or a line
/// that opens like one and has the verb inside ("Am 13.05.2026 um 09:05 schrieb Anna:",
/// "Op … schreef …:", "Den … skrev …:").
fn is_attribution_end(line: &str) -> bool {
    const ENDINGS: [&str; 25] = [
        "wrote:",
        "writes:",
        "a écrit:",
        "a ecrit:",
        "schrieb:",
        "geschrieben:",
        "escribió:",
        "escribio:",
        "escreveu:",
        "ha scritto:",
        "scrisse:",
        "schreef:",
        "geschreven:",
        "skrev:",
        "kirjoitti:",
        "napisał:",
        "napisal:",
        "napsal:",
        "pisze:",
        "написал:",
        "написал(а):",
        "yazdı:",
        "写道:",
        "寫道:",
        "のメッセージ:",
    ];
    const VERBS: [&str; 9] = [
        "wrote",
        "schrieb",
        "schreef",
        "skrev",
        "escribió",
        "escreveu",
        "pisze",
        "napisał",
        "kirjoitti",
    ];
    let line = line.trim();
    if line.len() > 400 || !(line.ends_with(':') || line.ends_with('：')) {
        return false;
    }
    // "a écrit :" (French puts a space before the colon), full-width colons.
    let normalized = line.to_lowercase().replace('：', ":").replace(" :", ":");
    ENDINGS.iter().any(|e| normalized.ends_with(e))
        || (opens_attribution(line) && VERBS.iter().any(|v| normalized.contains(&format!(" {v} "))))
}

/// True when `line` opens like an attribution: "On …", "Le …", "Am …", "El …", …
fn opens_attribution(line: &str) -> bool {
    const OPENINGS: [&str; 16] = [
        "on ",
        "le ",
        "am ",
        "el ",
        "il ",
        "em ",
        "op ",
        "den ",
        "dne ",
        "w dniu",
        "på ",
        "pe ",
        "в ",
        "el día",
        "il giorno",
        "op di",
    ];
    let lower = line.trim_start().to_lowercase();
    OPENINGS.iter().any(|o| lower.starts_with(o))
}

/// True for the verb-less attribution some clients write right above a quote, such as
/// Gmail's "2013/7/20 Ann Example <ann@example.org>": an address and a date, on a short
/// line. Only asked of the line just above quoted lines.
fn is_bare_attribution(line: &str) -> bool {
    let line = line.trim();
    let has_year = line
        .as_bytes()
        .windows(4)
        .any(|w| w.iter().all(u8::is_ascii_digit) && (w[0] == b'1' || w[0] == b'2'));
    line.len() <= 200 && line.contains('@') && has_year
}

/// Where the attribution ending at line `end` starts: the nearest of the few lines above
/// it (stopping at a blank or quoted line) that opens like one ("On …", "Le …", "Am …"),
/// else `end` itself.
fn attribution_start(lines: &[&str], end: usize) -> usize {
    if opens_attribution(lines[end]) {
        return end;
    }
    for start in (end.saturating_sub(MAX_ATTRIBUTION_LINES - 1)..end).rev() {
        let line = lines[start];
        if line.trim().is_empty() || is_quoted(line) {
            break;
        }
        if opens_attribution(line) {
            return start;
        }
    }
    end
}

/// Where an unmarked earlier message starts: a separator line ("-----Original Message-----"
/// and its translations, "Begin forwarded message:") or an Outlook-style header block,
/// together with the blank and rule lines just above it.
fn earlier_message_start(lines: &[&str]) -> Option<usize> {
    let start = (0..lines.len()).find(|&i| is_separator(lines[i]) || header_block_at(lines, i))?;
    let mut start = start;
    while start > 0 && (lines[start - 1].trim().is_empty() || is_rule(lines[start - 1])) {
        start -= 1;
    }
    Some(start)
}

/// "-----Original Message-----", "----- Original Message -----", "-------- Message
/// d'origine --------", "Begin forwarded message:", …
fn is_separator(line: &str) -> bool {
    const NAMES: [&str; 10] = [
        "original message",
        "ursprüngliche nachricht",
        "message d'origine",
        "mensaje original",
        "messaggio originale",
        "oorspronkelijk bericht",
        "originalmeddelande",
        "mensagem original",
        "forwarded message",
        "weitergeleitete nachricht",
    ];
    let trimmed = line.trim();
    if trimmed.len() > 200 {
        return false;
    }
    let lower = trimmed.to_lowercase();
    let ruled = trimmed.starts_with(['-', '_', '=', '*']) && trimmed.len() > 6;
    (ruled && NAMES.iter().any(|n| lower.contains(n)))
        || lower.starts_with("begin forwarded message")
}

/// A line of only rule characters: "________________________________", "-----", or the
/// box-drawing line an HTML `<hr>` becomes.
fn is_rule(line: &str) -> bool {
    let trimmed = line.trim();
    trimmed.chars().count() >= 5
        && trimmed
            .chars()
            .all(|c| matches!(c, '-' | '_' | '=' | '*' | '─' | '━'))
}

/// True when an Outlook-style header block starts at line `i`: a "From:" line followed,
/// within the next few lines, by a "Sent:"/"Date:" line and a "To:"/"Subject:" line (in
/// the languages Outlook is commonly used in).
fn header_block_at(lines: &[&str], i: usize) -> bool {
    const FROM: [&str; 8] = ["from", "von", "de", "da", "van", "od", "från", "fra"];
    const SENT: [&str; 13] = [
        "sent",
        "date",
        "gesendet",
        "datum",
        "envoyé",
        "envoye",
        "date d'envoi",
        "enviado",
        "fecha",
        "inviato",
        "data",
        "verzonden",
        "skickat",
    ];
    const TO_OR_SUBJECT: [&str; 16] = [
        "to",
        "subject",
        "an",
        "betreff",
        "à",
        "a",
        "objet",
        "para",
        "asunto",
        "oggetto",
        "aan",
        "onderwerp",
        "till",
        "ämne",
        "til",
        "emne",
    ];
    if !is_header_line(lines[i], &FROM) {
        return false;
    }
    let window = &lines[i + 1..lines.len().min(i + 6)];
    window.iter().any(|l| is_header_line(l, &SENT))
        && window.iter().any(|l| is_header_line(l, &TO_OR_SUBJECT))
}

/// True when `line` is "Name: …" for one of `names` (allowing "Name :", and `*Name:*` as
/// rich text renders it).
fn is_header_line(line: &str, names: &[&str]) -> bool {
    let line = line.trim_start().trim_start_matches('*');
    let Some((name, _)) = line.split_once(':') else {
        return false;
    };
    if name.len() > 20 {
        return false;
    }
    let name = name.trim().trim_end_matches('*').to_lowercase();
    names.contains(&name.as_str())
}

/// Where a signature that ends the message starts: the last `-- ` (or `--`) line, when
/// only a few lines follow it and none of them is quoted or an attribution (then the
/// signature sits between the new text and the quote, and is kept).
fn trailing_signature_start(lines: &[&str]) -> Option<usize> {
    let start = lines.iter().rposition(|l| l.trim_end() == "--")?;
    let after = &lines[start + 1..];
    let text_lines = after.iter().filter(|l| !l.trim().is_empty()).count();
    let quote_follows = after.iter().any(|l| is_quoted(l) || is_attribution_end(l));
    (text_lines <= MAX_SIGNATURE_LINES && !quote_follows).then_some(start)
}

/// Lines joined, trailing spaces removed, blank lines at the ends dropped and runs of
/// them made one.
fn tidy(lines: &[&str]) -> String {
    let mut out = String::new();
    let mut blank_run = false;
    for line in lines {
        let line = line.trim_end();
        if line.is_empty() {
            blank_run = !out.is_empty();
            continue;
        }
        if blank_run {
            out.push('\n');
            blank_run = false;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replies as mail programs write them: (what, the reply as sent, what is kept of it).
    const REPLIES: &[(&str, &str, &str)] = &[
        (
            "gmail style attribution and quote are removed",
            "Hello\n\nOn Mon, Apr 2, 2012 at 6:26 PM, Megan One <xxx@gmail.com> wrote:\n\n> Hi\n",
            "Hello",
        ),
        (
            "gmail style attribution and quote are removed (wrapped)",
            "Sure, it works.\n\nOn Thu, Jun 20, 2013 at 4:18 PM, matt via Meta <\ninfo@example.org> wrote:\n\n> question\n>\n",
            "Sure, it works.",
        ),
        (
            "apple and iphone style",
            "Hello\n\nSent from my iPhone\n\nOn Apr 3, 2012, at 4:19 PM, bob <bob@example.com> wrote:\n\n> Hi",
            "Hello\n\nSent from my iPhone",
        ),
        (
            "attributions with the verb inside or none (german)",
            "Hallo,\n\nhier ist meine Antwort.\n\nAm 13.05.2026 um 09:05 schrieb Anna Beispiel:\n> Alter Text.\n",
            "Hallo,\n\nhier ist meine Antwort.",
        ),
        (
            "attributions with the verb inside or none (dutch)",
            "Prima!\nOp 1 jan. 2024 om 12:00 schreef Anna <anna@example.org>:\n> Oud\n",
            "Prima!",
        ),
        (
            "attributions with the verb inside or none (gmail)",
            "It works now.\n\n\n2013/7/20 sam via Meta <info@example.org>\n\n> sam replied\n>\n",
            "It works now.",
        ),
        (
            "attributions with the verb inside or none (list)",
            "Here is my reply with a list:\n\n- one\n- two\n",
            "Here is my reply with a list:\n\n- one\n- two",
        ),
        (
            "french attribution over three lines",
            "C'est super !\nLe 4 janv. 2016 19:03, \"Neil\"\n<info@example.org>\na écrit :\n\n> Discourse c'est top !\n",
            "C'est super !",
        ),
        (
            "outlook original message and header blocks (aol)",
            "Hello\n\n\n\n-----Original Message-----\nFrom: bob <bob@example.com>\nSent: Mon, Apr 2, 2012 5:49 pm\nSubject: Test\n\nHi\n",
            "Hello",
        ),
        (
            "outlook original message and header blocks (outlook)",
            "This is a reply from Outlook!\n________________________________________\nFrom: Discourse <info@example.org>\nSent: Thursday, 28 January 2016 8:16 p.m.\nTo: Someone\nSubject: (no subject)\n\nLorem ipsum.\n",
            "This is a reply from Outlook!",
        ),
        (
            "outlook original message and header blocks (german)",
            "Danke!\n\nVon: Liste <liste@example.org>\nGesendet: Montag, 1. Januar 2024 12:00\nAn: Ich\nBetreff: Neuigkeiten\n\nAlter Text\n",
            "Danke!",
        ),
        (
            "bottom posting keeps the text below the quote",
            "On 04/02/2012 06:26 PM, Megan One wrote:\n> Hi\nHello\n",
            "Hello",
        ),
        (
            "bottom posting keeps the text below the quote (interleaved)",
            "> First question?\nFirst answer.\n\n> Second question?\nSecond answer.\n",
            "First answer.\n\nSecond answer.",
        ),
        (
            "a closing signature goes one before the quote stays (closing)",
            "Thanks\n\n-- \nJane Doe\nExample Inc.\n",
            "Thanks",
        ),
        (
            "a closing signature goes one before the quote stays (k9)",
            "alright\n\nBob schrieb:\n>quoted\n>more\n\n--\nSent from my phone with K-9 Mail.\n",
            "alright",
        ),
        (
            "a closing signature goes one before the quote stays (sparrow)",
            "Hello\n\n-- \nxxx\nSent with Sparrow\n\n\nOn Tuesday, April 3, 2012 at 4:55 PM, xxx wrote:\n\n> Hello\n",
            "Hello\n\n--\nxxx\nSent with Sparrow",
        ),
        (
            "an attribution over unmarked text ends the reply",
            "Yes please.\n\nOn Mon, 1 Jan 2024, News <news@example.org> wrote:\nThis week's issue...\n",
            "Yes please.",
        ),
        (
            "plain text is left alone",
            "  \nJust a note.\n\n\n\nBye\n  ",
            "Just a note.\n\nBye",
        ),
        ("plain text is left alone", "", ""),
    ];

    #[test]
    fn each_reply_keeps_only_what_its_sender_wrote() {
        for (what, mail, reply) in REPLIES {
            assert_eq!(trim_reply(mail), *reply, "{what}");
        }
    }
}
