//! The parameter encoder: a parameter list in the parameter wire format (`wire::inp`, as
//! `lib/params.js` writes it), read with `types::value::read_params` and converted with
//! `types::encode::encode` to the type the server described for each `$n` (any type).
//!
//! Input: byte 0 = parameter count - 1 (mod 4), then per parameter the type's OID (u32 LE;
//! any built-in type, or 900000 + n for the user-defined types of common/mod.rs; other
//! numbers pick one of those), the rest = the parameter list (u32 LE count, tagged values):
//! copy_encode's layout with one row and no row count.
//!
//! Must not panic; a value that does not fit comes back as `Err`.
#![no_main]

mod common;

use ferropg::core::types::encode::encode;
use ferropg::core::types::value::read_params;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let ncols = (n % 4) as usize + 1;
    if rest.len() < 4 * ncols {
        return;
    }
    let (oids, params) = rest.split_at(4 * ncols);
    let Ok(values) = read_params(params) else {
        return;
    };
    for (v, b) in values.iter().zip(oids.chunks(4)) {
        let ty = common::by_oid(u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
        let _ = encode(v, ty);
    }
});
