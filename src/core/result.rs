//! Writes a query's outcome into one response buffer (see `wire`): column descriptors once,
//! then the rows, then the command and row count; or an error with every server field.

use tokio_postgres::types::{FromSql, Type};
use tokio_postgres::Column;

use crate::core::error::Error;
use crate::core::wire::{status, Writer};

/// A column's raw bytes, whatever its type: rows are decoded by `types::decode`, not by
/// tokio-postgres's typed getters.
pub struct RawCell<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for RawCell<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawCell(Some(raw)))
    }
    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawCell(None))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// Starts an OK response: status, then the columns.
pub fn write_header(w: &mut Writer, columns: &[Column]) {
    w.u8(status::OK);
    write_columns(w, columns);
}

/// The column count, then per column name, type OID, table OID and column number.
pub fn write_columns(w: &mut Writer, columns: &[Column]) {
    w.u16(columns.len() as u16);
    for c in columns {
        w.str(c.name());
        w.u32(c.type_().oid());
        w.u32(c.table_oid().unwrap_or(0));
        w.u16(c.column_id().unwrap_or(0) as u16);
    }
}

/// The error of parameter set `index` of an executeMany batch: `[BATCH_ERROR][u32 index]`,
/// then the error response.
pub fn batch_error_buffer(index: usize, e: &Error) -> Vec<u8> {
    let mut w = Writer::with_capacity(256);
    w.u8(status::BATCH_ERROR);
    w.u32(index as u32);
    w.buf.extend_from_slice(&error_buffer(e));
    w.buf
}

/// An error response.
pub fn error_buffer(e: &Error) -> Vec<u8> {
    let mut w = Writer::with_capacity(256);
    match e {
        Error::Db(d) => {
            w.u8(status::DB_ERROR);
            w.str(&d.message);
            w.str(&d.severity);
            w.str(&d.code);
            for s in [
                d.detail.as_deref(),
                d.hint.as_deref(),
                d.position.map(|p| p.to_string()).as_deref(),
                d.internal_position.map(|p| p.to_string()).as_deref(),
                d.internal_query.as_deref(),
                d.where_.as_deref(),
                d.schema.as_deref(),
                d.table.as_deref(),
                d.column.as_deref(),
                d.data_type.as_deref(),
                d.constraint.as_deref(),
                d.file.as_deref(),
                d.line.map(|p| p.to_string()).as_deref(),
                d.routine.as_deref(),
            ] {
                w.opt_str(s);
            }
        }
        Error::Driver { code, message } => {
            w.u8(status::DRIVER_ERROR);
            w.str(code);
            w.str(message);
        }
    }
    w.buf
}
