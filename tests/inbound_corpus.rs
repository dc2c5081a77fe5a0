//! Every message of the labelled inbound corpus through `hundred::inbound::parse`.
//!
//! The corpus is vendored in `tests/corpus/inbound` (real messages from public test suites,
//! with their sources and licenses in `tests/corpus/README.md`): `*.eml` files and
//! `labels.tsv` (file, kind, recipient, status, reply_text, source, license; `-` where a
//! column does not apply). `HUNDRED_INBOUND_CORPUS` points the test at another folder of
//! the same shape (a held-back set). Every mismatch is collected and reported at once.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use hundred::inbound::{InboundKind, parse};

const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/corpus/inbound");

struct Label {
    kind: String,
    recipient: Option<String>,
    status: Option<String>,
    reply_text: Option<String>,
}

fn labels(dir: &Path) -> BTreeMap<String, Label> {
    let path = dir.join("labels.tsv");
    let tsv =
        fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let given = |v: &str| (v != "-" && !v.is_empty()).then(|| v.to_string());
    tsv.lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let columns: Vec<&str> = line.split('\t').collect();
            assert!(columns.len() >= 5, "labels.tsv: short line {line:?}");
            let label = Label {
                kind: columns[1].to_string(),
                recipient: given(columns[2]),
                status: given(columns[3]),
                reply_text: given(columns[4]),
            };
            (columns[0].to_string(), label)
        })
        .collect()
}

/// Runs of whitespace made one space, ends trimmed.
fn normalize(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn kind_name(kind: &InboundKind) -> &'static str {
    match kind {
        InboundKind::Bounce { hard: true, .. } => "bounce-hard",
        InboundKind::Bounce { hard: false, .. } => "bounce-soft",
        InboundKind::Complaint { .. } => "complaint",
        InboundKind::AutoReply { .. } => "auto-reply",
        InboundKind::Reply { .. } => "reply",
    }
}

/// The lines of the earlier message a reply quotes, as the raw text body shows them: the
/// `>` lines, and whatever follows an Outlook-style "Original Message" separator. Only
/// lines long enough to be told apart from the new text count.
fn quoted_lines(raw: &[u8]) -> Vec<String> {
    let Some(message) = mail_parser::MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    let body = message
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let mut quoted = Vec::new();
    let mut below_separator = false;
    for line in body.lines() {
        let trimmed = line.trim();
        let lower = trimmed.to_lowercase();
        if trimmed.starts_with("---") && lower.contains("original message") {
            below_separator = true;
            continue;
        }
        let content = if let Some(q) = trimmed.strip_prefix('>') {
            q.trim_start_matches(['>', ' ']).trim()
        } else if below_separator {
            trimmed
        } else {
            continue;
        };
        if content.chars().count() >= 12 {
            quoted.push(normalize(content));
        }
    }
    quoted
}

fn check(file: &str, raw: &[u8], label: &Label, problems: &mut Vec<String>) {
    let parsed = match parse(raw) {
        Ok(parsed) => parsed,
        Err(e) => {
            problems.push(format!("{file}: not parsed: {e}"));
            return;
        }
    };
    let kind = kind_name(&parsed.kind);
    if kind != label.kind {
        problems.push(format!(
            "{file}: kind {kind}, labelled {} ({:?})",
            label.kind, parsed.kind
        ));
    }
    let (recipient, status) = match &parsed.kind {
        InboundKind::Bounce {
            recipient, status, ..
        } => (recipient.clone(), status.clone()),
        InboundKind::Complaint { recipient, .. } => (recipient.clone(), None),
        _ => (None, None),
    };
    if let Some(expected) = &label.recipient
        && !recipient
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case(expected))
    {
        problems.push(format!(
            "{file}: recipient {recipient:?}, labelled {expected}"
        ));
    }
    if let Some(expected) = &label.status
        && status.as_deref() != Some(expected.as_str())
    {
        problems.push(format!("{file}: status {status:?}, labelled {expected}"));
    }
    if let Some(expected) = &label.reply_text {
        let InboundKind::Reply { text } = &parsed.kind else {
            return; // the kind mismatch is already reported
        };
        let got = normalize(text);
        if !got.contains(&normalize(expected)) {
            problems.push(format!("{file}: reply text {got:?} lacks {expected:?}"));
        }
        let quoting = |line: &str| {
            let line = line.trim();
            line.starts_with('>')
                || line.ends_with("wrote:")
                || (line.starts_with("---") && line.to_lowercase().contains("original message"))
        };
        if text.lines().any(quoting) {
            problems.push(format!("{file}: reply text keeps quoting: {got:?}"));
        }
        for quoted in quoted_lines(raw) {
            if got.contains(&quoted) && !normalize(expected).contains(&quoted) {
                problems.push(format!("{file}: reply text keeps the quoted {quoted:?}"));
            }
        }
    }
}

#[test]
fn every_labelled_message_is_read_as_labelled() {
    let dir = std::env::var_os("HUNDRED_INBOUND_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(CORPUS));
    assert!(
        dir.is_dir(),
        "the inbound corpus is missing: expected {} with *.eml files and labels.tsv",
        dir.display()
    );
    let labels = labels(&dir);
    let mut files: Vec<String> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".eml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *.eml files in {}", dir.display());

    let mut problems = Vec::new();
    for file in labels.keys().filter(|f| !files.contains(f)) {
        problems.push(format!("{file}: labelled but missing"));
    }
    let mut checked = 0;
    for file in &files {
        let Some(label) = labels.get(file) else {
            problems.push(format!("{file}: no label in labels.tsv"));
            continue;
        };
        let raw = fs::read(dir.join(file)).unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
        check(file, &raw, label, &mut problems);
        checked += 1;
    }
    assert!(
        problems.is_empty(),
        "{} problem(s) in {checked} labelled messages:\n{}",
        problems.len(),
        problems.join("\n")
    );
}
