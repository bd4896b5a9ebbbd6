//! The binary COPY OUT reader (`copyOutRows`, `core::copy::parse_tuples`): a stream of binary
//! COPY data, as a server (or a broken one) sends it, decoded into result blocks for columns of
//! any types, arriving in pieces of any size.
//!
//! Input: byte 0 = column count - 1 (mod 4), then a u32 LE OID per column (as in `decode`),
//! then one byte of options (bits 0-1 int8 mode, 2 numeric, 3 date, 4 timestamp), one byte
//! that sets the size of the pieces the stream arrives in (1 + its value), then the stream.
//!
//! Must not panic; malformed data comes back as `Err`. The output must stay proportionate to
//! the input (see `max_out` in `decode`), and every byte given must be consumed or still be
//! waiting for the rest of its tuple.
#![no_main]

mod common;

use ferropg::core::copy::{parse_tuples, RowsState};
use ferropg::core::wire::Writer;
use libfuzzer_sys::fuzz_target;
use tokio_postgres::types::Type;

fn max_out(input: usize) -> usize {
    (input / 8 + 1) * 200_000 + 4096
}

fuzz_target!(|data: &[u8]| {
    let Some(&first) = data.first() else { return };
    let ncols = (first % 4) as usize + 1;
    let head = 1 + 4 * ncols + 2;
    if data.len() < head {
        return;
    }
    let columns: Vec<&Type> = (0..ncols)
        .map(|i| {
            let b = &data[1 + 4 * i..5 + 4 * i];
            common::by_oid(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        })
        .collect();
    let flags = data[head - 2];
    let piece = data[head - 1] as usize + 1;
    let opts = common::type_options(flags);
    let stream = &data[head..];
    let mut st = RowsState::default();
    let mut w = Writer::default();
    let mut rows = 0u32;
    let mut consumed = 0usize;
    for chunk in stream.chunks(piece) {
        st.pending.extend_from_slice(chunk);
        match parse_tuples(&mut st, &columns, &opts, &mut w, &mut rows, 64 * 1024) {
            Ok(n) => consumed += n,
            Err(_) => return,
        }
        assert!(
            w.buf.len() <= max_out(data.len()),
            "{} bytes of output for {} of input",
            w.buf.len(),
            data.len()
        );
    }
    // Whatever was not consumed is still there, waiting for the rest of its tuple.
    assert_eq!(consumed + st.pending.len(), stream.len());
});
