//! The whole list as CSV, a page of subscribers at a time, so a large list never sits in
//! memory at once: for the download in the web app and for `hundred export`.
//!
//! The file reads back with `hundred import` (the computed columns are left out then,
//! the attributes column becomes attributes again).

use axum::body::Bytes;
use futures::Stream;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::store::{ExportedSubscriber, Store};

/// Subscribers read per query.
pub const PAGE_ROWS: i64 = 1000;

pub const HEADER: [&str; 9] = [
    "email",
    "name",
    "status",
    "tier",
    "score",
    "signed_up",
    "confirmed",
    "last_human_activity",
    "attributes",
];

/// The CSV, chunk by chunk: the header row, then one chunk per page of subscribers. With
/// `byte_order_mark`, the file starts with one, which spreadsheets need to read UTF-8.
pub fn csv_chunks(
    store: Store,
    now: OffsetDateTime,
    byte_order_mark: bool,
) -> impl Stream<Item = anyhow::Result<Bytes>> + Send + 'static {
    enum Next {
        Header,
        After(Option<Uuid>),
        Done,
    }
    futures::stream::try_unfold(Next::Header, move |next| {
        let store = store.clone();
        async move {
            match next {
                Next::Header => {
                    let mut chunk = if byte_order_mark {
                        b"\xEF\xBB\xBF".to_vec()
                    } else {
                        Vec::new()
                    };
                    chunk.extend(write_rows(std::iter::once(
                        HEADER.iter().map(|h| h.to_string()).collect(),
                    ))?);
                    Ok(Some((Bytes::from(chunk), Next::After(None))))
                }
                Next::After(after) => {
                    let page = store.export_page(after, PAGE_ROWS, now).await?;
                    let Some(last) = page.last().map(|s| s.id) else {
                        return Ok(None);
                    };
                    let more = page.len() as i64 == PAGE_ROWS;
                    let chunk = write_rows(page.iter().map(fields))?;
                    let next = if more {
                        Next::After(Some(last))
                    } else {
                        Next::Done
                    };
                    Ok(Some((Bytes::from(chunk), next)))
                }
                Next::Done => Ok(None),
            }
        }
    })
}

fn write_rows(rows: impl Iterator<Item = Vec<String>>) -> anyhow::Result<Vec<u8>> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        writer.write_record(&row)?;
    }
    writer
        .into_inner()
        .map_err(|err| anyhow::anyhow!("writing CSV: {}", err.error()))
}

fn fields(subscriber: &ExportedSubscriber) -> Vec<String> {
    let time =
        |t: Option<OffsetDateTime>| t.and_then(|t| t.format(&Rfc3339).ok()).unwrap_or_default();
    vec![
        defuse(&subscriber.email),
        defuse(subscriber.name.as_deref().unwrap_or_default()),
        subscriber.status.clone(),
        subscriber.tier.clone(),
        format!("{:.1}", subscriber.score),
        time(Some(subscriber.signed_up_at)),
        time(subscriber.confirmed_at),
        time(subscriber.last_human_activity),
        subscriber.attributes.to_string(),
    ]
}

/// A value a spreadsheet would run as a formula (`=…`, `+…`, `-…`, `@…`) gets a `'` in
/// front, so a subscriber's name can never become one in the owner's spreadsheet.
fn defuse(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused_and_read_back() {
        assert_eq!(defuse("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(defuse("Ann"), "Ann");
        let csv = write_rows(std::iter::once(vec![
            "ann@example.com".to_string(),
            defuse("=1+1"),
        ]))
        .unwrap();
        let file =
            crate::lists::file::read(&[b"email,name\r\n".as_slice(), &csv].concat()).unwrap();
        assert_eq!(file.rows[0].name.as_ref().unwrap().as_str(), "=1+1");
    }
}
