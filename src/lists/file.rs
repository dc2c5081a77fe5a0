//! Reading a CSV file of subscribers: a header row naming the columns (`email` required,
//! `name` optional, in any order and any case; every other column becomes an attribute),
//! then one subscriber per row.
//!
//! A file the owner exported from elsewhere arrives in many shapes: with a UTF-8 byte order
//! mark, CRLF line ends, quoted fields, semicolons instead of commas (spreadsheets in many
//! locales). All of those are read. A row that cannot be used is set aside with its line
//! number and the reason, and the rest go on; only a file that cannot be read at all (no
//! `email` column, not text) is refused whole.

use std::collections::HashMap;

use serde::Serialize;

use crate::domain::{SubscriberEmail, SubscriberName};

/// The most columns a file may have.
pub const MAX_COLUMNS: usize = 50;
/// The longest attribute value, in characters.
pub const MAX_VALUE_CHARS: usize = 1000;
/// The most JSON a subscriber's attributes may take (as for the API).
pub const MAX_ATTRIBUTES_BYTES: usize = 16 * 1024;

/// Whether a column is one of our own export's that hundred computes (all but email, name
/// and attributes): read back, it would only be a stale copy, so an import leaves it out
/// rather than making it an attribute.
fn is_computed_column(column: &str) -> bool {
    !matches!(column, "email" | "name" | "attributes") && super::export::HEADER.contains(&column)
}

/// Why a whole file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("The file is empty.")]
    Empty,
    #[error(
        "This looks like an Excel workbook, not a CSV file. In your spreadsheet, use Save As (or Download) and choose “CSV UTF-8”."
    )]
    Spreadsheet,
    #[error("The first row is not UTF-8 text. Save the file as “CSV UTF-8” and try again.")]
    NotText,
    #[error(
        "The first row must name the columns, and one of them must be called email. The first row has: {0}."
    )]
    NoEmailColumn(String),
    #[error("The header row names the column “{0}” twice.")]
    DuplicateColumn(String),
    #[error("The file has {0} columns; at most {MAX_COLUMNS} can be imported.")]
    TooManyColumns(usize),
    #[error("The file has a header row but no subscribers under it.")]
    NoRows,
    #[error("The file could not be read past line {line}: {problem}")]
    Unreadable { line: u64, problem: String },
}

/// One subscriber read from the file.
#[derive(Debug, Clone)]
pub struct FileRow {
    /// Where the row starts in the file (the header is line 1).
    pub line: u64,
    pub email: SubscriberEmail,
    pub name: Option<SubscriberName>,
    /// The other columns: a JSON object of strings (empty values left out).
    pub attributes: serde_json::Value,
}

/// A row that could not be used, and why.
#[derive(Debug, Clone, Serialize)]
pub struct RejectedRow {
    pub line: u64,
    /// What the email column held (cut short), to help find the row.
    pub email: String,
    pub reason: String,
}

/// A row whose address an earlier row already had: counted once.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicateRow {
    pub line: u64,
    pub email: String,
    pub first_line: u64,
}

/// Everything read from a file.
#[derive(Debug, Clone, Default)]
pub struct SubscriberFile {
    /// The rows to import, each address once, in file order.
    pub rows: Vec<FileRow>,
    pub rejected: Vec<RejectedRow>,
    pub duplicates: Vec<DuplicateRow>,
    /// Data rows in the file (blank lines not counted).
    pub total_rows: usize,
    /// What the owner should know about the columns (ones left out, and why).
    pub notes: Vec<String>,
}

/// What each column of the file is.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Column {
    Email,
    Name,
    /// Our own export's attributes column: a JSON object.
    AttributesJson,
    Attribute(String),
    Ignored,
}

/// Reads a whole file. Never panics on any input.
pub fn read(bytes: &[u8]) -> Result<SubscriberFile, FileError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(FileError::Empty);
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(FileError::Spreadsheet);
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(bytes))
        .from_reader(bytes);
    let mut record = csv::ByteRecord::new();
    let mut file = SubscriberFile::default();

    let header = loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => return Err(FileError::Empty),
            Ok(true) if is_blank(&record) => continue,
            Ok(true) => break record.clone(),
            Err(err) => return Err(unreadable(&err)),
        }
    };
    let columns = columns(&header, &mut file.notes)?;

    let mut first_seen: HashMap<String, u64> = HashMap::new();
    let mut lines = LineCounter::default();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) if is_blank(&record) => continue,
            Ok(true) => {}
            Err(err) => return Err(unreadable(&err)),
        }
        file.total_rows += 1;
        let line = lines.line_at(bytes, record.position().map_or(0, csv::Position::byte));
        let row = match read_row(&record, &columns, line) {
            Ok(row) => row,
            Err(rejected) => {
                file.rejected.push(rejected);
                continue;
            }
        };
        match first_seen.get(&row.email.key()) {
            Some(&first_line) => file.duplicates.push(DuplicateRow {
                line,
                email: row.email.to_string(),
                first_line,
            }),
            None => {
                first_seen.insert(row.email.key(), line);
                file.rows.push(row);
            }
        }
    }
    if file.total_rows == 0 {
        return Err(FileError::NoRows);
    }
    Ok(file)
}

/// The line a record starts on. (The reader's own line count is off by one after a CRLF,
/// so lines are counted here from the record's byte offset.)
#[derive(Default)]
struct LineCounter {
    offset: usize,
    /// Line breaks before `offset`.
    breaks: u64,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], offset: u64) -> u64 {
        let mut start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        // A record's offset can point at the line break that ended the one before.
        while start < bytes.len() && matches!(bytes[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= self.offset {
            self.breaks += bytes[self.offset..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.offset = start;
        }
        self.breaks + 1
    }
}

/// Comma, semicolon or tab: whichever the header row has most of outside quotes.
fn delimiter(bytes: &[u8]) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for &byte in bytes {
        if byte == b'\n' && !quoted {
            break;
        }
        if byte == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(entry) = counts.iter_mut().find(|(d, _)| *d == byte) {
            entry.1 += 1;
        }
    }
    // Ties go to the comma, which is listed first.
    counts
        .iter()
        .fold(
            (b',', 0),
            |best, &(d, n)| if n > best.1 { (d, n) } else { best },
        )
        .0
}

fn is_blank(record: &csv::ByteRecord) -> bool {
    record
        .iter()
        .all(|field| field.iter().all(u8::is_ascii_whitespace))
}

fn unreadable(err: &csv::Error) -> FileError {
    FileError::Unreadable {
        line: err.position().map_or(0, csv::Position::line),
        problem: err.to_string(),
    }
}

/// Names each column from the header row.
fn columns(header: &csv::ByteRecord, notes: &mut Vec<String>) -> Result<Vec<Column>, FileError> {
    if header.len() > MAX_COLUMNS {
        return Err(FileError::TooManyColumns(header.len()));
    }
    let names: Vec<String> = header
        .iter()
        .map(|raw| {
            std::str::from_utf8(raw)
                .map(|name| name.trim().to_string())
                .map_err(|_| FileError::NotText)
        })
        .collect::<Result<_, _>>()?;
    let mut columns = Vec::with_capacity(names.len());
    let mut seen: Vec<String> = Vec::new();
    let mut computed = Vec::new();
    for (index, name) in names.iter().enumerate() {
        let lower = name.to_lowercase();
        if !lower.is_empty() && seen.contains(&lower) {
            return Err(FileError::DuplicateColumn(name.clone()));
        }
        seen.push(lower.clone());
        let column = match lower.as_str() {
            "email" | "e-mail" | "email address" | "e-mail address" | "email_address" => {
                Column::Email
            }
            "name" => Column::Name,
            "attributes" => Column::AttributesJson,
            "" => {
                notes.push(format!(
                    "Column {} has no name in the header row; its values were left out.",
                    index + 1
                ));
                Column::Ignored
            }
            other if is_computed_column(other) => {
                computed.push(name.clone());
                Column::Ignored
            }
            _ if name.chars().count() > 100 || name.chars().any(char::is_control) => {
                notes.push(format!(
                    "Column {} has a name that is too long or not one line; its values were left out.",
                    index + 1
                ));
                Column::Ignored
            }
            _ => Column::Attribute(name.clone()),
        };
        columns.push(column);
    }
    if !columns.contains(&Column::Email) {
        let found: Vec<String> = names
            .iter()
            .take(10)
            .map(|n| format!("“{}”", clip(n, 40)))
            .collect();
        return Err(FileError::NoEmailColumn(found.join(", ")));
    }
    if !computed.is_empty() {
        notes.push(format!(
            "The columns {} are figures hundred works out for itself; they were not imported.",
            computed.join(", ")
        ));
    }
    Ok(columns)
}

/// One data row, or why it cannot be imported.
fn read_row(
    record: &csv::ByteRecord,
    columns: &[Column],
    line: u64,
) -> Result<FileRow, RejectedRow> {
    let email_index = columns
        .iter()
        .position(|c| *c == Column::Email)
        .unwrap_or(0);
    let raw_email = record
        .get(email_index)
        .map(|raw| clip(&String::from_utf8_lossy(raw), 80))
        .unwrap_or_default();
    let reject = |reason: String| RejectedRow {
        line,
        email: raw_email.trim().to_string(),
        reason,
    };
    if record.len() > columns.len() {
        return Err(reject(format!(
            "too many columns: this row has {} values, the header names {} columns (a value that contains the separator needs quotes around it)",
            record.len(),
            columns.len()
        )));
    }
    let mut fields = Vec::with_capacity(record.len());
    for raw in record.iter() {
        let text = std::str::from_utf8(raw).map_err(|_| {
            reject("bad encoding: this row is not UTF-8 text (save the file as “CSV UTF-8”)".into())
        })?;
        fields.push(unescape_formula(text.trim()));
    }
    let mut email = None;
    let mut name = None;
    let mut attributes = serde_json::Map::new();
    for (column, value) in columns.iter().zip(fields) {
        match column {
            Column::Email => email = Some(value),
            Column::Name => name = Some(value),
            Column::Attribute(key) if !value.is_empty() => {
                if value
                    .chars()
                    .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
                {
                    return Err(reject(format!(
                        "the value in the column “{}” contains control characters",
                        clip(key, 40)
                    )));
                }
                if value.chars().count() > MAX_VALUE_CHARS {
                    return Err(reject(format!(
                        "the value in the column “{}” is too long (at most {MAX_VALUE_CHARS} characters)",
                        clip(key, 40)
                    )));
                }
                attributes.insert(key.clone(), serde_json::Value::String(value.to_string()));
            }
            Column::AttributesJson if !value.is_empty() => {
                match serde_json::from_str::<serde_json::Value>(value) {
                    Ok(serde_json::Value::Object(object)) => attributes.extend(object),
                    _ => {
                        return Err(reject(
                            "the attributes column must hold a JSON object, like {\"city\": \"Leeds\"}".into(),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    let email = SubscriberEmail::parse(email.unwrap_or_default())
        .map_err(|err| reject(format!("invalid address: {err}")))?;
    let name =
        SubscriberName::parse_optional(name).map_err(|err| reject(format!("name: {err}")))?;
    let attributes = serde_json::Value::Object(attributes);
    // Postgres cannot store a NUL character in JSON; nobody means one.
    if has_nul(&attributes) {
        return Err(reject("the attributes contain a NUL character".into()));
    }
    if attributes.to_string().len() > MAX_ATTRIBUTES_BYTES {
        return Err(reject(
            "the other columns hold too much for one subscriber (at most 16 KiB)".into(),
        ));
    }
    Ok(FileRow {
        line,
        email,
        name,
        attributes,
    })
}

fn has_nul(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::String(text) => text.contains('\0'),
        serde_json::Value::Array(items) => items.iter().any(has_nul),
        serde_json::Value::Object(map) => map.iter().any(|(k, v)| k.contains('\0') || has_nul(v)),
        _ => false,
    }
}

/// Our export writes a value that a spreadsheet would run as a formula with a `'` in
/// front (`'=SUM(…)`); reading it back takes that mark off again.
fn unescape_formula(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => value,
    }
}

fn clip(text: &str, chars: usize) -> String {
    let mut clipped: String = text.chars().take(chars).collect();
    if text.chars().count() > chars {
        clipped.push('…');
    }
    clipped
}

#[cfg(test)]
mod tests;
