//! `copyFrom`: JS rows written to a table with binary COPY.
//!
//! The column list and types of a (schema, table, columns) target are looked up once per
//! connection (one `SELECT ... LIMIT 0`, cached); rows arrive from JS in chunks in the parameter
//! wire format and are encoded in a single pass into one buffer that is sent to the server
//! whenever it reaches 512 KiB. A value that does not fit aborts the COPY (CopyFail): the error
//! names the row, the column and the expected type, and the table keeps nothing of the COPY.

use std::sync::Arc;

use bytes::{BufMut, BytesMut};
use tokio::sync::Mutex;
use tokio_postgres::types::Type;

use crate::core::copy::CopyIn;
use crate::core::error::{Code, Error, Result};
use crate::core::types::binary::{supported, write_field};
use crate::core::types::parse_datetime::zoneless_timestamptz;
use crate::core::types::value::{read_list, JsValue};
use crate::core::wire::Reader;

/// Flush threshold of the COPY buffer.
pub const FLUSH_AT: usize = 512 * 1024;

const HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

/// What a COPY writes to: the quoted target and its columns' names and types.
pub struct CopyTarget {
    pub copy_sql: String,
    pub names: Vec<String>,
    pub types: Vec<Type>,
}

/// `"name"` with embedded quotes doubled.
pub fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The lookup statement for a target; its result columns give names and types.
pub fn lookup_sql(schema: Option<&str>, table: &str, columns: Option<&[String]>) -> String {
    let target = match schema {
        Some(s) => format!("{}.{}", quote_ident(s), quote_ident(table)),
        None => quote_ident(table),
    };
    let cols = match columns {
        Some(c) if !c.is_empty() => c
            .iter()
            .map(|c| quote_ident(c))
            .collect::<Vec<_>>()
            .join(", "),
        _ => "*".to_string(),
    };
    format!("SELECT {cols} FROM {target} LIMIT 0")
}

impl CopyTarget {
    pub fn new(
        schema: Option<&str>,
        table: &str,
        names: Vec<String>,
        types: Vec<Type>,
    ) -> Result<CopyTarget> {
        if let Some((n, t)) = names.iter().zip(&types).find(|(_, t)| !supported(t)) {
            return Err(Error::driver(
                Code::UnsupportedType,
                format!("copyFrom cannot write column \"{n}\" of type {}: use copyIn with a text or csv COPY", t.name()),
            ));
        }
        let target = match schema {
            Some(s) => format!("{}.{}", quote_ident(s), quote_ident(table)),
            None => quote_ident(table),
        };
        let cols = names
            .iter()
            .map(|n| quote_ident(n))
            .collect::<Vec<_>>()
            .join(", ");
        Ok(CopyTarget {
            copy_sql: format!("COPY {target} ({cols}) FROM STDIN (FORMAT binary)"),
            names,
            types,
        })
    }
}

/// A running copyFrom.
pub struct CopyFrom {
    target: Arc<CopyTarget>,
    sink: CopyIn,
    buf: Mutex<BytesMut>,
    /// The target's cache key on its connection.
    pub key: String,
    /// The session's TimeZone when it is not UTC (see [`utc_zone`]): a timestamptz string
    /// without an offset is then refused.
    zone: Option<String>,
}

/// Whether the TimeZone the server reported is UTC by another name. Binary COPY takes
/// timestamptz as an instant, so a wall clock without an offset must be placed in a zone by
/// the driver: only in one of these is that the zone the server would use (INSERT reads
/// such a string in the session's TimeZone).
pub fn utc_zone(zone: &str) -> bool {
    const UTC: &[&str] = &[
        "UTC",
        "Etc/UTC",
        "GMT",
        "Etc/GMT",
        "Z",
        "UCT",
        "Etc/UCT",
        "Zulu",
        "Etc/Zulu",
        "Universal",
        "Etc/Universal",
        "GMT0",
        "Etc/GMT0",
        "Greenwich",
        "Etc/Greenwich",
    ];
    UTC.iter().any(|z| z.eq_ignore_ascii_case(zone.trim()))
}

/// Why a chunk of rows was not written: a row that could not be encoded (its index, and the
/// message naming column and type), or the connection failing while the buffer was sent
/// (`index` None: no row is at fault).
pub struct RowError {
    pub index: Option<usize>,
    pub error: Error,
}

impl CopyFrom {
    /// A copyFrom into `target` through `sink`; `zone` is the session's TimeZone as the
    /// server reported it (None: not reported, so not known to be UTC).
    pub fn new(
        target: Arc<CopyTarget>,
        sink: CopyIn,
        key: String,
        zone: Option<String>,
    ) -> CopyFrom {
        let mut buf = BytesMut::with_capacity(FLUSH_AT + 64 * 1024);
        buf.put_slice(HEADER);
        CopyFrom {
            target,
            sink,
            buf: Mutex::new(buf),
            key,
            zone: match zone {
                Some(z) if utc_zone(&z) => None,
                Some(z) => Some(z),
                None => Some("unknown (the server did not report it)".into()),
            },
        }
    }

    /// Why `v` (of column `ty`) cannot be written in this session: a timestamptz string
    /// without an offset, when the session's TimeZone is not UTC.
    fn zone_error(&self, v: &JsValue<'_>, ty: &Type) -> Option<String> {
        let zone = self.zone.as_deref()?;
        let (at, s) = zoneless_timestamptz(v, ty)?;
        Some(format!(
            "{at}the timestamptz '{s}' has no zone offset, and the session's TimeZone is \
             {zone}, not UTC (INSERT reads it in that zone; copyFrom, with binary COPY, \
             cannot): give an offset ('Z', '+02:00') or a Date"
        ))
    }

    pub fn names(&self) -> &[String] {
        &self.target.names
    }

    /// Encodes a chunk of rows (u32 count, then parameter lists); `base` is the index of the
    /// chunk's first row. On a bad row the COPY is aborted and the row is reported.
    pub async fn write_rows(&self, rows: &[u8], base: usize) -> std::result::Result<(), RowError> {
        let fail = |index, error| RowError {
            index: Some(index),
            error,
        };
        let mut buf = self.buf.lock().await;
        let mut r = Reader::new(rows);
        let n = r.u32().map_err(|m| fail(base, Error::param(m)))? as usize;
        let ncols = self.target.types.len();
        for i in 0..n {
            let index = base + i;
            let values = read_list(&mut r).map_err(|m| fail(index, Error::param(m)))?;
            if values.len() != ncols {
                self.sink.abort().await;
                return Err(fail(
                    index,
                    Error::param(format!("has {} values for {ncols} columns", values.len())),
                ));
            }
            let row_start = buf.len();
            buf.put_i16(ncols as i16);
            for ((v, ty), name) in values
                .iter()
                .zip(&self.target.types)
                .zip(&self.target.names)
            {
                let written = write_field(v, ty, &mut buf)
                    .and_then(|()| self.zone_error(v, ty).map_or(Ok(()), Err));
                if let Err(m) = written {
                    buf.truncate(row_start);
                    drop(buf);
                    self.sink.abort().await;
                    return Err(fail(index, Error::param(format!("column \"{name}\": {m}"))));
                }
            }
            if buf.len() >= FLUSH_AT {
                let data = buf.split().freeze();
                self.sink
                    .write(data)
                    .await
                    .map_err(|error| RowError { index: None, error })?;
            }
        }
        Ok(())
    }

    /// Sends the rest and the trailer; returns the number of rows copied.
    pub async fn finish(&self) -> Result<u64> {
        let data = {
            let mut buf = self.buf.lock().await;
            buf.put_i16(-1);
            buf.split().freeze()
        };
        self.sink.write(data).await?;
        self.sink.finish().await
    }

    pub async fn abort(&self) {
        self.sink.abort().await;
    }

    /// Resolves with the error when the server ends the COPY early or the connection is lost
    /// (see [`CopyIn::watch`]); None once it was finished or aborted.
    pub async fn watch(&self) -> Option<Error> {
        self.sink.watch().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(
            lookup_sql(Some("s"), "t", Some(&["a".to_string(), "B c".to_string()])),
            "SELECT \"a\", \"B c\" FROM \"s\".\"t\" LIMIT 0"
        );
        assert_eq!(lookup_sql(None, "t", None), "SELECT * FROM \"t\" LIMIT 0");
    }
}
