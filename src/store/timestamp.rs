//! One timestamp type for both backends: `TIMESTAMPTZ` on Postgres, INTEGER milliseconds
//! since the epoch on SQLite (exact, sortable and compared with plain `<`, unlike text).

use sqlx::encode::IsNull;
use sqlx::error::BoxDynError;
use sqlx::postgres::{PgTypeInfo, PgValueRef};
use sqlx::sqlite::{SqliteTypeInfo, SqliteValueRef};
use sqlx::{Database, Decode, Encode, Postgres, Sqlite, Type};
use time::OffsetDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub OffsetDateTime);

impl Timestamp {
    pub fn now() -> Self {
        Self::from(OffsetDateTime::now_utc())
    }

    /// Rounds up to the next whole millisecond, for times that must not come early
    /// (a scheduled send).
    pub fn not_before(time: OffsetDateTime) -> Self {
        let truncated = Self::from(time);
        if truncated.0 < time {
            Self::from(time + time::Duration::milliseconds(1))
        } else {
            truncated
        }
    }

    pub(crate) fn unix_millis(self) -> i64 {
        (self.0.unix_timestamp_nanos() / 1_000_000) as i64
    }

    fn from_unix_millis(ms: i64) -> Result<Self, BoxDynError> {
        let time = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)?;
        Ok(Self(time))
    }
}

impl From<OffsetDateTime> for Timestamp {
    /// Truncates to whole milliseconds, so a value reads back exactly as it was written on
    /// both backends.
    fn from(time: OffsetDateTime) -> Self {
        let ms = time.unix_timestamp_nanos() / 1_000_000;
        Self(
            OffsetDateTime::from_unix_timestamp_nanos(ms * 1_000_000)
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        )
    }
}

impl From<Timestamp> for OffsetDateTime {
    fn from(ts: Timestamp) -> Self {
        ts.0
    }
}

impl Type<Sqlite> for Timestamp {
    fn type_info() -> SqliteTypeInfo {
        <i64 as Type<Sqlite>>::type_info()
    }
    fn compatible(ty: &SqliteTypeInfo) -> bool {
        <i64 as Type<Sqlite>>::compatible(ty)
    }
}

impl Encode<'_, Sqlite> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Sqlite as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <i64 as Encode<Sqlite>>::encode(self.unix_millis(), buf)
    }
}

impl<'r> Decode<'r, Sqlite> for Timestamp {
    fn decode(value: SqliteValueRef<'r>) -> Result<Self, BoxDynError> {
        Self::from_unix_millis(<i64 as Decode<Sqlite>>::decode(value)?)
    }
}

impl Type<Postgres> for Timestamp {
    fn type_info() -> PgTypeInfo {
        <OffsetDateTime as Type<Postgres>>::type_info()
    }
    fn compatible(ty: &PgTypeInfo) -> bool {
        <OffsetDateTime as Type<Postgres>>::compatible(ty)
    }
}

impl Encode<'_, Postgres> for Timestamp {
    fn encode_by_ref(
        &self,
        buf: &mut <Postgres as Database>::ArgumentBuffer,
    ) -> Result<IsNull, BoxDynError> {
        <OffsetDateTime as Encode<Postgres>>::encode_by_ref(&self.0, buf)
    }
}

impl<'r> Decode<'r, Postgres> for Timestamp {
    fn decode(value: PgValueRef<'r>) -> Result<Self, BoxDynError> {
        Ok(Self(<OffsetDateTime as Decode<Postgres>>::decode(value)?))
    }
}

/// In JSON: RFC 3339 in UTC, as every other time the API shows.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = self
            .0
            .format(&time::format_description::well_known::Rfc3339)
            .map_err(serde::ser::Error::custom)?;
        serializer.serialize_str(&text)
    }
}
