//! Writes a query's outcome into one response buffer (see `wire`): column descriptors once,
//! then the rows, then the command and row count; or an error with every server field.

use tokio_postgres::types::Type;
use tokio_postgres::Column;

use fallible_iterator::FallibleIterator;
use postgres_protocol::message::backend::RowDescriptionBody;

use crate::core::error::Error;
use crate::core::response::{tag_command, tag_rows};
use crate::core::session::Session;
use crate::core::wire::{status, Writer};

/// What a result needs to know of a column: tokio-postgres's prepared `Column`, or one read
/// from a RowDescription (`exec::Described`).
pub trait ColumnInfo {
    fn name(&self) -> &str;
    fn type_(&self) -> &Type;
    fn table_oid(&self) -> u32;
    fn column_id(&self) -> u16;
}

impl ColumnInfo for Column {
    fn name(&self) -> &str {
        Column::name(self)
    }
    fn type_(&self) -> &Type {
        Column::type_(self)
    }
    fn table_oid(&self) -> u32 {
        Column::table_oid(self).unwrap_or(0)
    }
    fn column_id(&self) -> u16 {
        Column::column_id(self).unwrap_or(0) as u16
    }
}

/// A column read from a RowDescription, its type looked up by OID.
pub struct Described {
    name: String,
    type_: Type,
    table_oid: u32,
    column_id: u16,
}

impl ColumnInfo for Described {
    fn name(&self) -> &str {
        &self.name
    }
    fn type_(&self) -> &Type {
        &self.type_
    }
    fn table_oid(&self) -> u32 {
        self.table_oid
    }
    fn column_id(&self) -> u16 {
        self.column_id
    }
}

/// The columns of a RowDescription. Types other than the built-in ones are looked up (and
/// cached) by tokio-postgres, which takes round trips: only call this once the request that
/// brought the description has been read to its end.
pub async fn describe(
    session: &Session,
    body: &RowDescriptionBody,
) -> crate::core::error::Result<Vec<Described>> {
    let mut fields = body.fields();
    let mut out = Vec::new();
    while let Some(f) = fields.next().map_err(Error::malformed)? {
        out.push(Described {
            name: f.name().to_string(),
            type_: session.client.resolve_type(f.type_oid()).await?,
            table_oid: f.table_oid(),
            column_id: f.column_id().max(0) as u16,
        });
    }
    Ok(out)
}

/// Starts an OK response: status, then the columns (`list`: see [`write_columns`]).
pub fn write_header<C: ColumnInfo>(w: &mut Writer, list: u64, columns: &[C]) {
    w.u8(status::OK);
    write_columns(w, list, columns);
}

/// A running result is handed over in parts of about this size, so that JS builds rows while
/// the server still produces them and the whole result is never buffered twice.
pub const PART_BYTES: usize = 512 * 1024;

/// The response of one statement while its rows arrive: the caller writes each row's values
/// into [`Rows::writer`] and calls [`Rows::row_done`], which hands a full part to a receiver
/// that takes parts.
pub struct Rows {
    w: Writer,
    /// The column list's number (see [`write_columns`]), written again before each part.
    list: u64,
    /// Where the row count of the part being written goes.
    count_at: usize,
    /// Rows in this part, and in the whole result.
    n: u32,
    total: u64,
}

impl Rows {
    /// The response of a statement whose columns are `columns`, numbered `list` (see
    /// [`write_columns`]).
    pub fn new<C: ColumnInfo>(list: u64, columns: &[C]) -> Self {
        let mut rows = Rows {
            w: Writer::with_capacity(256),
            list,
            count_at: 0,
            n: 0,
            total: 0,
        };
        rows.start(columns);
        rows
    }

    fn start<C: ColumnInfo>(&mut self, columns: &[C]) {
        write_header(&mut self.w, self.list, columns);
        self.count_at = self.w.buf.len();
        self.w.u32(0);
        self.n = 0;
    }

    fn seal(&mut self) {
        let at = self.count_at;
        self.w.buf[at..at + 4].copy_from_slice(&self.n.to_le_bytes());
    }

    pub fn writer(&mut self) -> &mut Writer {
        &mut self.w
    }

    /// Counts the row just written; with `parts`, past [`PART_BYTES`], returns the rows so
    /// far as a part (`status::PART`) for the caller to hand over, and starts the next.
    pub fn row_done<C: ColumnInfo>(&mut self, columns: &[C], parts: bool) -> Option<Vec<u8>> {
        self.n += 1;
        self.total += 1;
        if !parts || self.w.buf.len() < PART_BYTES {
            return None;
        }
        self.w.buf[0] = status::PART;
        self.seal();
        let full = std::mem::replace(&mut self.w, Writer::with_capacity(PART_BYTES + 64 * 1024));
        self.start(columns);
        Some(full.buf)
    }

    /// The response: the remaining rows, then `command` and `rowCount` from the statement's
    /// CommandComplete tag (the number of rows when the tag has no count).
    pub fn finish(mut self, tag: &str) -> Vec<u8> {
        self.seal();
        write_command(&mut self.w, tag_command(tag));
        self.w.f64(tag_rows(tag).unwrap_or(self.total) as f64);
        self.w.buf
    }
}

/// A column list: its number `list` (f64) and its length in bytes (u32), then the column
/// count and per column name, type OID, table OID and column number. `list` is the
/// statement's `id()`, which no other statement has, or 0 for columns read from a
/// RowDescription of their own: JS keeps the list it read last and skips one with the same
/// number without reading or comparing it (lib/reader.js `columns`).
pub fn write_columns<C: ColumnInfo>(w: &mut Writer, list: u64, columns: &[C]) {
    // Exact as an f64 up to 2^53 statements.
    w.f64(list as f64);
    let len_at = w.buf.len();
    w.u32(0);
    w.u16(columns.len() as u16);
    for c in columns {
        w.str(c.name());
        w.u32(c.type_().oid());
        w.u32(c.table_oid());
        w.u16(c.column_id());
    }
    let len = (w.buf.len() - len_at - 4) as u32;
    w.buf[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
}

/// The commands most results have, written as `COMMAND_CODE | index` in place of the text's
/// length (lib/wire.js has the same list): JS then makes or compares no string for them.
pub const COMMANDS: [&str; 12] = [
    "SELECT", "INSERT", "UPDATE", "DELETE", "MERGE", "BEGIN", "COMMIT", "ROLLBACK", "SET", "FETCH",
    "COPY", "",
];
/// Marks a command written as its index in [`COMMANDS`] (no text is that long).
pub const COMMAND_CODE: u32 = 0x8000_0000;

/// A result's command (`tag_command`): its code when it is one of [`COMMANDS`], else its
/// text.
pub fn write_command(w: &mut Writer, command: &str) {
    match COMMANDS.iter().position(|c| *c == command) {
        Some(i) => w.u32(COMMAND_CODE | i as u32),
        None => w.str(command),
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
        Error::Driver { code, message, .. } => {
            w.u8(status::DRIVER_ERROR);
            w.str(code.as_str());
            w.str(message);
        }
    }
    w.buf
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::wire::Reader;

    /// Status, the column list (number, length, count: none here), row count: what precedes
    /// the rows.
    fn head(buf: &[u8]) -> (u8, u32) {
        let mut r = Reader::new(buf);
        let st = r.u8().unwrap();
        assert_eq!(r.f64().unwrap(), 0.0);
        assert_eq!(r.u32().unwrap(), 2);
        r.raw(2).unwrap();
        (st, r.u32().unwrap())
    }

    /// Where the rows start: after the status, the column list and the row count.
    const ROWS_AT: usize = 1 + 8 + 4 + 2 + 4;

    #[test]
    fn a_column_list_carries_its_number_and_length_and_commands_their_codes() {
        let mut w = Writer::default();
        let columns = [Described {
            name: "ab".into(),
            type_: Type::INT4,
            table_oid: 7,
            column_id: 3,
        }];
        write_columns(&mut w, 42, &columns);
        let mut r = Reader::new(&w.buf);
        assert_eq!(r.f64().unwrap(), 42.0);
        let len = r.u32().unwrap() as usize;
        assert_eq!(len, w.buf.len() - 12);
        assert_eq!(len, 2 + 4 + 2 + 4 + 4 + 2);
        let mut w = Writer::default();
        write_command(&mut w, "INSERT");
        write_command(&mut w, "CREATE");
        write_command(&mut w, "");
        let mut r = Reader::new(&w.buf);
        assert_eq!(r.u32().unwrap(), COMMAND_CODE | 1);
        assert_eq!(r.str().unwrap(), "CREATE");
        assert_eq!(r.u32().unwrap(), COMMAND_CODE | (COMMANDS.len() as u32 - 1));
    }

    #[test]
    fn rows_go_out_in_parts_and_the_response_counts_the_rest() {
        let mut rows = Rows::new::<Column>(0, &[]);
        let n = 3 * PART_BYTES / 1000 + 10;
        let mut parts = Vec::new();
        for _ in 0..n {
            rows.writer().buf.extend_from_slice(&[7u8; 1000]);
            parts.extend(rows.row_done::<Column>(&[], true));
        }
        assert_eq!(parts.len(), 3);
        let mut seen = 0;
        for p in &parts {
            let (st, count) = head(p);
            assert_eq!(st, status::PART);
            assert_eq!(p.len(), ROWS_AT + count as usize * 1000);
            seen += count as usize;
        }
        // A tag without a count: rowCount is the number of rows.
        let out = rows.finish("FETCH");
        let (st, count) = head(&out);
        assert_eq!(st, status::OK);
        assert_eq!(seen + count as usize, n);
        // Then the command and the rows affected: every row, since the server gave no count.
        let mut r = Reader::new(&out[ROWS_AT + count as usize * 1000..]);
        assert_eq!(r.u32().unwrap(), COMMAND_CODE | 9); // FETCH
        assert_eq!(r.f64().unwrap(), n as f64);
    }

    #[test]
    fn without_parts_the_response_holds_every_row() {
        let mut rows = Rows::new::<Column>(0, &[]);
        for _ in 0..PART_BYTES / 100 + 5 {
            rows.writer().buf.extend_from_slice(&[1u8; 200]);
            assert!(rows.row_done::<Column>(&[], false).is_none());
        }
        let out = rows.finish("INSERT 0 1");
        assert_eq!(head(&out), (status::OK, (PART_BYTES / 100 + 5) as u32));
    }
}
