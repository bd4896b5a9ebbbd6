//! The row decoder: one value of any type, as the server sends it in binary format
//! (`types::decode::decode`) or in text format (`types::text::decode_text`, simple protocol),
//! written into the result buffer under any `types` options.
//!
//! Input: byte 0 = options (bits 0-1 int8 mode, 2 numeric, 3 date, 4 timestamp, 5 text
//! format, 6 SQL NULL), bytes 1-4 = the type's OID (u32 LE: any built-in type tokio-postgres
//! knows, or 900000 + n for the enums, domains, composites, arrays and ranges of those, and
//! extension types of common/mod.rs; other numbers pick one of those), the rest = the value.
//!
//! Must not panic; malformed values come back as `Err`. The output must stay proportionate to
//! the input (see MAX_OUT).
#![no_main]

mod common;

use ferropg::core::types::decode::decode;
use ferropg::core::types::text::decode_text;
use ferropg::core::wire::Writer;
use libfuzzer_sys::fuzz_target;

/// The largest output a value may produce: a numeric's binary form can print 131 072
/// integer digits (weight 32 767) and 65 535 fraction digits from 8 bytes, so allow that much
/// per 8 input bytes; anything beyond is an unbounded allocation.
fn max_out(input: usize) -> usize {
    (input / 8 + 1) * 200_000 + 4096
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 5 {
        return;
    }
    let flags = data[0];
    let ty = common::by_oid(u32::from_le_bytes([data[1], data[2], data[3], data[4]]));
    let value = &data[5..];
    let opts = common::type_options(flags);
    let raw = if flags & 64 != 0 { None } else { Some(value) };
    let mut w = Writer::default();
    let _ = if flags & 32 != 0 {
        decode_text(ty, raw, &opts, &mut w)
    } else {
        decode(ty, raw, &opts, &mut w)
    };
    assert!(
        w.buf.len() <= max_out(data.len()),
        "{} bytes of output for {} bytes of {} input",
        w.buf.len(),
        value.len(),
        ty.name()
    );
});
