//! The seam between the two databases: everything that is written differently on SQLite
//! and on Postgres, and nothing else.
//!
//! Queries are written once. `with_pool!(store, pool, Db => …)` runs one body against
//! whichever pool is configured with `Db` naming its database (`sqlx::Sqlite` or
//! `sqlx::Postgres`), and the body asks `Db` (a `Dialect`) for the few pieces that differ:
//! a list of ids bound as one parameter, a batch of rows bound as a table, how a claim
//! skips rows another worker holds, the locks Postgres needs where SQLite's single writer
//! already serialises, and a cast or two.

use std::fmt::Write as _;
use std::future::Future;

use anyhow::Context as _;
use sqlx::{Database, Encode, Type};
use uuid::Uuid;

use super::Timestamp;

/// A query that values can be bound to (`sqlx::query`, `query_as`, `query_scalar`), so a
/// dialect can bind a batch of rows to whichever the caller built.
pub(crate) trait Bind<DB: Database>: Sized {
    fn bind_value<T>(self, value: T) -> Self
    where
        T: for<'e> Encode<'e, DB> + Type<DB> + Send + 'static;
}

impl<'q, DB: Database> Bind<DB> for sqlx::query::Query<'q, DB, DB::Arguments> {
    fn bind_value<T>(self, value: T) -> Self
    where
        T: for<'e> Encode<'e, DB> + Type<DB> + Send + 'static,
    {
        self.bind(value)
    }
}

impl<'q, DB: Database, O> Bind<DB> for sqlx::query::QueryAs<'q, DB, O, DB::Arguments> {
    fn bind_value<T>(self, value: T) -> Self
    where
        T: for<'e> Encode<'e, DB> + Type<DB> + Send + 'static,
    {
        self.bind(value)
    }
}

impl<'q, DB: Database, O> Bind<DB> for sqlx::query::QueryScalar<'q, DB, O, DB::Arguments> {
    fn bind_value<T>(self, value: T) -> Self
    where
        T: for<'e> Encode<'e, DB> + Type<DB> + Send + 'static,
    {
        self.bind(value)
    }
}

/// One column of a batch of rows.
enum Column {
    Uuid(Vec<Option<Uuid>>),
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Time(Vec<Option<Timestamp>>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::Uuid(v) => v.len(),
            Column::Text(v) => v.len(),
            Column::Int(v) => v.len(),
            Column::Float(v) => v.len(),
            Column::Time(v) => v.len(),
        }
    }
}

/// `Rows`' builders, one a column type: `name: value type => Column variant`.
macro_rules! column_builders {
    ($($method:ident: $value:ty => $variant:ident),* $(,)?) => {$(
        pub(crate) fn $method<T: Into<Option<$value>>>(
            mut self,
            name: &'static str,
            values: impl IntoIterator<Item = T>,
        ) -> Self {
            let values = values.into_iter().map(Into::into).collect();
            self.columns.push((name, Column::$variant(values)));
            self
        }
    )*};
}

/// A batch of rows sent as one statement, whatever their number: the SQL names them as a
/// table (`Dialect::rows`) and the values are bound after every other parameter
/// (`Dialect::bind_rows`). Built a column at a time; every column has one value per row.
#[derive(Default)]
pub(crate) struct Rows {
    columns: Vec<(&'static str, Column)>,
}

impl Rows {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    // One builder a column type: `uuids`, `texts`, `ints`, `floats` and `times` each add a
    // column named `name` with one value (or `None`) a row.
    column_builders!(
        uuids: Uuid => Uuid,
        texts: String => Text,
        ints: i64 => Int,
        floats: f64 => Float,
        times: Timestamp => Time,
    );

    fn len(&self) -> usize {
        self.columns.first().map_or(0, |(_, column)| column.len())
    }

    /// The rows as one JSON array of arrays, for SQLite's `json_each`: ids as hex (read
    /// back with `unhex`), times as milliseconds, as they are stored.
    fn to_json(&self) -> String {
        use serde_json::Value;
        let mut rows = vec![Vec::with_capacity(self.columns.len()); self.len()];
        for (_, column) in &self.columns {
            let values: Vec<Value> = match column {
                Column::Uuid(v) => v
                    .iter()
                    .map(|id| id.map(|id| id.simple().to_string()).into())
                    .collect(),
                Column::Text(v) => v.iter().map(|text| text.clone().into()).collect(),
                Column::Int(v) => v.iter().map(|&n| n.into()).collect(),
                Column::Float(v) => v.iter().map(|&x| x.into()).collect(),
                Column::Time(v) => v
                    .iter()
                    .map(|t| t.map(Timestamp::unix_millis).into())
                    .collect(),
            };
            for (row, value) in rows.iter_mut().zip(values) {
                row.push(value);
            }
        }
        Value::Array(rows.into_iter().map(Value::Array).collect()).to_string()
    }
}

/// What differs between SQLite and Postgres, implemented once for each.
pub(crate) trait Dialect: Database {
    /// Selects by a list of ids bound as parameter `$param`: what follows a column name.
    fn in_ids(param: usize) -> String;
    /// A list of ids as the one parameter `in_ids` reads.
    type Ids: for<'e> Encode<'e, Self> + Type<Self> + Send + 'static;
    fn ids(ids: &[Uuid]) -> Self::Ids;
    /// Selects by a list of texts bound as parameter `$param`, as `in_ids`.
    fn in_texts(param: usize) -> String;
    type Texts: for<'e> Encode<'e, Self> + Type<Self> + Send + 'static;
    fn texts(texts: &[String]) -> Self::Texts;

    /// `rows` as a table named `alias`, its columns named as they were built, read from
    /// the parameters from `$first` on (which must be the statement's last).
    fn rows(rows: &Rows, first: usize, alias: &str) -> String;
    fn bind_rows<Q: Bind<Self>>(query: Q, rows: Rows) -> Q;

    /// Ends a claim's sub-select: Postgres locks the rows and skips those another worker
    /// is claiming; SQLite has one writer at a time, so there is nothing to skip. `of`
    /// names the table to lock when the select joins several.
    fn skip_locked(of: Option<&str>) -> String;
    /// Ends a select of rows this transaction is about to change, so a concurrent one
    /// waits for it (Postgres); SQLite's write transaction holds the whole database.
    const FOR_UPDATE: &'static str;
    /// Joined to a statement whose commit need not wait for the disk (Postgres: the
    /// server keeps it even if hundred dies; SQLite has no such switch).
    const RELAXED_COMMIT: &'static str;
    /// Casts a text expression to the type of a JSON column.
    const AS_JSON: &'static str;
    /// A fresh random id, made by the database.
    const NEW_UUID: &'static str;
    /// Counts the subscribers other than `$1` holding the JSON value `$3` (as text) under
    /// the attribute name `$2`.
    const OTHERS_WITH_VALUE: &'static str;
    /// The id `expr` as 32 lower-case hex digits.
    fn uuid_hex(expr: &str) -> String;
    /// Parameter `$param` where its type must be known to be text (`$1 IS NULL`).
    fn text_param(param: usize) -> String;
    /// Selects by the texts of a JSON array bound as text parameter `$param`.
    fn in_json_texts(param: usize) -> String;
    /// `subscribers.pause_credit` with the days bound as `$param` (a float) added: in
    /// milliseconds on SQLite, an interval on Postgres, so that it adds to a time alike.
    fn pause_credit_plus(param: usize) -> String;
    /// Whether `LOWER` folds every letter (Postgres) or ASCII only (SQLite).
    const LOWER_FOLDS_UNICODE: bool;

    /// Before a transaction refreshes these subscribers' engagement (sorted, distinct):
    /// makes their rows and takes them in one order, so two transactions refreshing one
    /// subscriber do not each drop the other's signal (Postgres, under READ COMMITTED).
    /// SQLite's writer already holds the database.
    fn lock_engagement(
        conn: &mut Self::Connection,
        ids: &[Uuid],
    ) -> impl Future<Output = anyhow::Result<()>> + Send;
}

impl Dialect for sqlx::Sqlite {
    fn in_ids(param: usize) -> String {
        format!("IN (SELECT unhex(value) FROM json_each(${param}))")
    }

    type Ids = String;
    fn ids(ids: &[Uuid]) -> String {
        let hex: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
        serde_json::Value::from(hex).to_string()
    }

    fn in_texts(param: usize) -> String {
        format!("IN (SELECT value FROM json_each(${param}))")
    }

    type Texts = String;
    fn texts(texts: &[String]) -> String {
        serde_json::Value::from(texts.to_vec()).to_string()
    }

    fn rows(rows: &Rows, first: usize, alias: &str) -> String {
        let mut sql = String::from("(SELECT ");
        for (i, (name, column)) in rows.columns.iter().enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            let _ = match column {
                Column::Uuid(_) => write!(sql, "{separator}unhex(value ->> {i}) AS {name}"),
                _ => write!(sql, "{separator}value ->> {i} AS {name}"),
            };
        }
        let _ = write!(sql, " FROM json_each(${first})) AS {alias}");
        sql
    }

    fn bind_rows<Q: Bind<Self>>(query: Q, rows: Rows) -> Q {
        query.bind_value(rows.to_json())
    }

    fn skip_locked(_of: Option<&str>) -> String {
        String::new()
    }
    const FOR_UPDATE: &'static str = "";
    const RELAXED_COMMIT: &'static str = "";
    const AS_JSON: &'static str = "";
    const NEW_UUID: &'static str = "randomblob(16)";
    const OTHERS_WITH_VALUE: &'static str = "SELECT COUNT(*) FROM subscribers s, \
         json_each(s.attributes) j WHERE s.id <> $1 AND j.key = $2 AND json_quote(j.value) = $3";
    fn uuid_hex(expr: &str) -> String {
        format!("lower(hex({expr}))")
    }
    fn text_param(param: usize) -> String {
        format!("${param}")
    }
    fn in_json_texts(param: usize) -> String {
        format!("IN (SELECT value FROM json_each(${param}))")
    }
    fn pause_credit_plus(param: usize) -> String {
        format!("pause_credit + CAST(${param} * 86400000 AS INTEGER)")
    }
    const LOWER_FOLDS_UNICODE: bool = false;

    async fn lock_engagement(
        _conn: &mut sqlx::SqliteConnection,
        _ids: &[Uuid],
    ) -> anyhow::Result<()> {
        Ok(())
    }
}

impl Dialect for sqlx::Postgres {
    fn in_ids(param: usize) -> String {
        format!("= ANY(${param})")
    }

    type Ids = Vec<Uuid>;
    fn ids(ids: &[Uuid]) -> Vec<Uuid> {
        ids.to_vec()
    }

    fn in_texts(param: usize) -> String {
        format!("= ANY(${param})")
    }

    type Texts = Vec<String>;
    fn texts(texts: &[String]) -> Vec<String> {
        texts.to_vec()
    }

    fn rows(rows: &Rows, first: usize, alias: &str) -> String {
        let mut sql = String::from("unnest(");
        for (i, (_, column)) in rows.columns.iter().enumerate() {
            let separator = if i == 0 { "" } else { ", " };
            let kind = match column {
                Column::Uuid(_) => "uuid",
                Column::Text(_) => "text",
                Column::Int(_) => "bigint",
                Column::Float(_) => "float8",
                Column::Time(_) => "timestamptz",
            };
            let _ = write!(sql, "{separator}${}::{kind}[]", first + i);
        }
        let names: Vec<&str> = rows.columns.iter().map(|(name, _)| *name).collect();
        let _ = write!(sql, ") AS {alias} ({})", names.join(", "));
        sql
    }

    fn bind_rows<Q: Bind<Self>>(mut query: Q, rows: Rows) -> Q {
        for (_, column) in rows.columns {
            query = match column {
                Column::Uuid(v) => query.bind_value(v),
                Column::Text(v) => query.bind_value(v),
                Column::Int(v) => query.bind_value(v),
                Column::Float(v) => query.bind_value(v),
                Column::Time(v) => {
                    query.bind_value(v.into_iter().map(|t| t.map(|t| t.0)).collect::<Vec<_>>())
                }
            };
        }
        query
    }

    fn skip_locked(of: Option<&str>) -> String {
        match of {
            Some(table) => format!("FOR UPDATE OF {table} SKIP LOCKED"),
            None => "FOR UPDATE SKIP LOCKED".to_string(),
        }
    }
    const FOR_UPDATE: &'static str = " FOR UPDATE";
    const RELAXED_COMMIT: &'static str =
        " CROSS JOIN (SELECT set_config('synchronous_commit', 'off', true)) AS relaxed";
    const AS_JSON: &'static str = "::jsonb";
    const NEW_UUID: &'static str = "gen_random_uuid()";
    const OTHERS_WITH_VALUE: &'static str =
        "SELECT COUNT(*) FROM subscribers WHERE id <> $1 AND attributes -> $2 = $3::jsonb";
    fn uuid_hex(expr: &str) -> String {
        format!("replace({expr}::text, '-', '')")
    }
    fn text_param(param: usize) -> String {
        format!("${param}::text")
    }
    fn pause_credit_plus(param: usize) -> String {
        format!("pause_credit + ${param}::float8 * INTERVAL '1 day'")
    }
    fn in_json_texts(param: usize) -> String {
        format!("IN (SELECT jsonb_array_elements_text(${param}::jsonb))")
    }
    const LOWER_FOLDS_UNICODE: bool = true;

    async fn lock_engagement(conn: &mut sqlx::PgConnection, ids: &[Uuid]) -> anyhow::Result<()> {
        sqlx::query(
            "INSERT INTO engagement (subscriber_id) SELECT id FROM unnest($1::uuid[]) AS u (id) \
             WHERE EXISTS (SELECT 1 FROM subscribers s WHERE s.id = u.id) \
             ORDER BY id ON CONFLICT (subscriber_id) DO NOTHING",
        )
        .bind(ids)
        .execute(&mut *conn)
        .await
        .context("making room for engagement")?;
        sqlx::query(
            "SELECT subscriber_id FROM engagement WHERE subscriber_id = ANY($1) \
             ORDER BY subscriber_id FOR UPDATE",
        )
        .bind(ids)
        .fetch_all(&mut *conn)
        .await
        .context("locking engagement")?;
        Ok(())
    }
}
