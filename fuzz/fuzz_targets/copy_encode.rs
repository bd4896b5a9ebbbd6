//! The COPY encoder: a chunk of rows in the parameter wire format (`wire::inp`, as
//! `lib/params.js` writes it), read with `types::value::read_list` and encoded with
//! `types::binary::write_field` into binary COPY tuples, exactly as `CopyFrom::write_rows`
//! does (that method needs a live COPY sink, so its loop is repeated here).
//!
//! Input: byte 0 = column count - 1 (mod 4), then per column the type's OID (u32 LE; a type
//! copyFrom supports, `binary::supported`, built-in or from common/mod.rs; other numbers pick
//! one of those), the rest = the rows chunk (u32 LE row count, then per row: u32 LE value
//! count and the tagged values).
//!
//! Must not panic. Oracles: every tuple written is well framed (i16 field count, then
//! per field an i32 length that matches its bytes), and every value written decodes again
//! with `types::decode::decode` (what copyFrom writes, the server must be able to read).
#![no_main]

mod common;

use bytes::{BufMut, BytesMut};
use ferropg::core::copy_from::CopyTarget;
use ferropg::core::types::binary::write_field;
use ferropg::core::types::decode::decode;
use ferropg::core::types::value::read_list;
use ferropg::core::types::TypeOptions;
use ferropg::core::wire::{Reader, Writer};
use libfuzzer_sys::fuzz_target;
use tokio_postgres::types::Type;

/// Checks one tuple written at `row`: the field count, then length-prefixed fields, each of
/// which decodes as its column's type.
fn check_tuple(row: &[u8], types: &[Type]) {
    assert_eq!(
        i16::from_be_bytes([row[0], row[1]]) as usize,
        types.len(),
        "tuple field count"
    );
    let mut p = 2;
    for ty in types {
        let len = i32::from_be_bytes(row[p..p + 4].try_into().unwrap());
        p += 4;
        let value = if len < 0 {
            assert_eq!(len, -1, "a NULL field is written as length -1");
            None
        } else {
            let v = &row[p..p + len as usize];
            p += len as usize;
            Some(v)
        };
        let mut w = Writer::default();
        if let Err(e) = decode(ty, value, &TypeOptions::default(), &mut w) {
            panic!(
                "copyFrom wrote a {} value its own decoder rejects: {e}; bytes {:02x?}",
                ty.name(),
                value.unwrap_or_default()
            );
        }
    }
    assert_eq!(p, row.len(), "tuple length");
}

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let ncols = (n % 4) as usize + 1;
    if rest.len() < 4 * ncols {
        return;
    }
    let (oids, rows) = rest.split_at(4 * ncols);
    let types: Vec<Type> = oids
        .chunks(4)
        .map(|b| common::copy_by_oid(u32::from_le_bytes([b[0], b[1], b[2], b[3]])).clone())
        .collect();
    let names: Vec<String> = (0..ncols).map(|i| format!("c{i}")).collect();
    let target = CopyTarget::new(Some("s"), "t", names, types)
        .unwrap_or_else(|e| panic!("a supported type was refused: {e}"));

    // CopyFrom::write_rows, without the sink.
    let mut buf = BytesMut::new();
    let mut r = Reader::new(rows);
    let Ok(count) = r.u32() else {
        return;
    };
    for _ in 0..count {
        let Ok(values) = read_list(&mut r) else {
            return;
        };
        if values.len() != ncols {
            return;
        }
        let row_start = buf.len();
        buf.put_i16(ncols as i16);
        let mut ok = true;
        for (v, ty) in values.iter().zip(&target.types) {
            if write_field(v, ty, &mut buf).is_err() {
                buf.truncate(row_start);
                ok = false;
                break;
            }
        }
        if !ok {
            return;
        }
        check_tuple(&buf[row_start..], &target.types);
    }
});
