//! Reading subscriber files: encodings, delimiters, headers and the rows refused.

use super::*;
use proptest::prelude::*;

#[test]
fn reads_bom_crlf_quotes_and_any_column_order() {
    let file = read(
            b"\xEF\xBB\xBFName,City,EMAIL\r\n\"Lee, Ann\",Leeds,ann@example.com\r\n\r\nBob,,bob@example.com\r\n",
        )
        .unwrap();
    assert_eq!(file.total_rows, 2);
    assert_eq!(file.rows.len(), 2);
    let ann = &file.rows[0];
    assert_eq!(ann.line, 2);
    assert_eq!(ann.email.as_str(), "ann@example.com");
    assert_eq!(ann.name.as_ref().unwrap().as_str(), "Lee, Ann");
    assert_eq!(ann.attributes, serde_json::json!({ "City": "Leeds" }));
    assert_eq!(file.rows[1].line, 4, "line numbers count the blank line");
    assert_eq!(file.rows[1].attributes, serde_json::json!({}));
}

#[test]
fn reads_semicolons_and_tabs() {
    let file = read(b"email;name\nann@example.com;Ann\n").unwrap();
    assert_eq!(file.rows[0].name.as_ref().unwrap().as_str(), "Ann");
    let file = read(b"email\tname\nann@example.com\tAnn, Lee\n").unwrap();
    assert_eq!(file.rows[0].name.as_ref().unwrap().as_str(), "Ann, Lee");
}

#[test]
fn rejects_rows_with_their_line_and_reason() {
    let long_name = "x".repeat(101);
    let text = format!(
        "email,name\nnot-an-address,A\nok@example.com,{long_name}\na@example.com,A,extra\nb@example.com,Zo?\n"
    );
    let mut bytes = text.into_bytes();
    // Latin-1 "ë" on the last row: not UTF-8.
    let at = bytes.len() - 2;
    bytes[at] = 0xEB;
    let file = read(&bytes).unwrap();
    assert!(file.rows.is_empty());
    let reasons: Vec<(u64, &str)> = file
        .rejected
        .iter()
        .map(|r| (r.line, r.reason.as_str()))
        .collect();
    assert!(
        reasons[0].0 == 2 && reasons[0].1.starts_with("invalid address"),
        "{reasons:?}"
    );
    assert!(
        reasons[1].0 == 3 && reasons[1].1.contains("too long"),
        "{reasons:?}"
    );
    assert!(
        reasons[2].0 == 4 && reasons[2].1.starts_with("too many columns"),
        "{reasons:?}"
    );
    assert!(
        reasons[3].0 == 5 && reasons[3].1.starts_with("bad encoding"),
        "{reasons:?}"
    );
}

#[test]
fn control_characters_in_attributes_are_refused() {
    let file = read(b"email,note\na@example.com,bell\x07\nb@example.com,\"two\nlines\"\n").unwrap();
    assert_eq!(file.rejected.len(), 1, "{:?}", file.rejected);
    assert!(file.rejected[0].reason.contains("control characters"));
    assert_eq!(
        file.rows[0].attributes,
        serde_json::json!({ "note": "two\nlines" })
    );
    let file = read(b"email,attributes\na@example.com,\"{\"\"x\"\":\"\"\\u0000\"\"}\"\n").unwrap();
    assert!(
        file.rejected[0].reason.contains("NUL"),
        "{:?}",
        file.rejected
    );
}

#[test]
fn counts_a_repeated_address_once() {
    let file = read(b"email\nAnn@example.com\nann@EXAMPLE.com\n").unwrap();
    assert_eq!(file.rows.len(), 1);
    assert_eq!(file.duplicates.len(), 1);
    assert_eq!(file.duplicates[0].first_line, 2);
    assert_eq!(file.duplicates[0].line, 3);
}

#[test]
fn refuses_what_is_not_a_subscriber_file() {
    assert_eq!(read(b"").unwrap_err(), FileError::Empty);
    assert_eq!(read(b"\xEF\xBB\xBF \r\n").unwrap_err(), FileError::Empty);
    assert!(
        matches!(read(b"name,phone\nAnn,1\n"), Err(FileError::NoEmailColumn(cols)) if cols.contains("phone"))
    );
    assert_eq!(read(b"PK\x03\x04rest").unwrap_err(), FileError::Spreadsheet);
    assert_eq!(
        read(b"email,Email\n").unwrap_err(),
        FileError::DuplicateColumn("Email".into())
    );
    assert_eq!(read(b"email\n\n").unwrap_err(), FileError::NoRows);
    let wide = vec!["c"; MAX_COLUMNS + 1].join(",");
    assert!(matches!(
        read(format!("email,{wide}\n").as_bytes()),
        Err(FileError::TooManyColumns(_))
    ));
}

#[test]
fn our_export_reads_back() {
    let file = read(
            b"email,name,status,tier,score,signed_up,confirmed,last_human_activity,attributes\n\
              ann@example.com,'=Ann,confirmed,core,9.1,2026-01-01T00:00:00Z,,,\"{\"\"city\"\":\"\"Leeds\"\"}\"\n",
        )
        .unwrap();
    let ann = &file.rows[0];
    assert_eq!(ann.name.as_ref().unwrap().as_str(), "=Ann");
    assert_eq!(ann.attributes, serde_json::json!({ "city": "Leeds" }));
    assert!(
        file.notes.iter().any(|n| n.contains("status")),
        "{:?}",
        file.notes
    );
}

proptest! {
    #[test]
    fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = read(&bytes);
    }

    #[test]
    fn never_panics_on_text(text in "(email|name|x)[,;\t](\\PC|\n|\"|,){0,200}") {
        let _ = read(text.as_bytes());
    }
}
