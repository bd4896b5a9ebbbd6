//! The response reader: backend messages framed by postgres_protocol's `Message::parse` (as
//! tokio-postgres's codec frames them: only whole messages are parsed) and classified by
//! `response::Tracker::step`, then handled as the executors handle each event: a
//! RowDescription becomes the result header (`result::write_header`), a DataRow is decoded
//! column by column (`types::decode::decode` and `types::text::decode_text`, as
//! `exec::decode_row_with` does), a tag gives `tag_rows`/`tag_command`, an ErrorResponse
//! becomes an error buffer (`result::error_buffer`).
//!
//! Must not panic; garbage comes back as `Err` (from `Message::parse` or `Tracker::step`).
#![no_main]

use bytes::BytesMut;
use fallible_iterator::FallibleIterator;
use ferropg::core::response::{tag_command, tag_rows, Event, Tracker};
use ferropg::core::result::{error_buffer, write_header, ColumnInfo};
use ferropg::core::types::decode::decode;
use ferropg::core::types::text::decode_text;
use ferropg::core::types::TypeOptions;
use ferropg::core::wire::Writer;
use libfuzzer_sys::fuzz_target;
use postgres_protocol::message::backend::Message;
use tokio_postgres::types::Type;

struct Col {
    name: String,
    type_: Type,
    table_oid: u32,
    column_id: u16,
}

impl ColumnInfo for Col {
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

fuzz_target!(|data: &[u8]| {
    let mut buf = BytesMut::from(data);
    let mut tracker = Tracker::default();
    let mut columns: Vec<Col> = Vec::new();
    let opts = TypeOptions::default();
    let mut w = Writer::default();
    loop {
        // tokio-postgres's codec hands over whole messages only (an incomplete one waits for
        // more bytes); `Message::parse` of an incomplete one reserves its declared length.
        if buf.len() < 5 {
            break;
        }
        let len = u32::from_be_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
        if len >= 4 && buf.len() < len + 1 {
            break;
        }
        let message = match Message::parse(&mut buf) {
            Ok(Some(m)) => m,
            Ok(None) => break,
            Err(_) => break, // garbage: an error, never a panic
        };
        let step = match tracker.step(message) {
            Ok(s) => s,
            Err(e) => {
                let _ = error_buffer(&e);
                break;
            }
        };
        let Some((_index, event)) = step else {
            continue;
        };
        match event {
            Event::Columns(body) => {
                columns.clear();
                let mut fields = body.fields();
                loop {
                    match fields.next() {
                        Ok(Some(f)) => columns.push(Col {
                            name: f.name().to_string(),
                            type_: Type::from_oid(f.type_oid()).unwrap_or(Type::UNKNOWN),
                            table_oid: f.table_oid(),
                            column_id: f.column_id().max(0) as u16,
                        }),
                        Ok(None) => break,
                        Err(_) => {
                            columns.clear();
                            break;
                        }
                    }
                }
                w.buf.clear();
                write_header(&mut w, 0, &columns);
            }
            Event::Row(row) => {
                let raw = row.buffer();
                let mut ranges = row.ranges();
                let mut values = Vec::new();
                let mut ok = true;
                loop {
                    match ranges.next() {
                        Ok(Some(r)) => values.push(r.map(|r| &raw[r])),
                        Ok(None) => break,
                        Err(_) => {
                            ok = false;
                            break;
                        }
                    }
                }
                if ok {
                    for (c, v) in columns.iter().zip(&values) {
                        let _ = decode(&c.type_, *v, &opts, &mut w);
                        let _ = decode_text(&c.type_, *v, &opts, &mut w);
                    }
                }
            }
            Event::Done(tag) => {
                let _ = (tag_rows(&tag), tag_command(&tag));
            }
            Event::Failed(e) => {
                let _ = (e.code(), e.to_string(), error_buffer(&e));
            }
            Event::CopyIn | Event::CopyOut | Event::CopyData(_) => {}
            Event::Ready(status) => {
                let _ = status.name();
                // The request is over: what follows answers the next one.
                tracker = Tracker::default();
            }
        }
        if w.buf.len() > 1 << 20 {
            w.buf.clear();
        }
    }
});
