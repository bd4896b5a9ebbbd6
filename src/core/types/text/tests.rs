//! `decode_text` against `decode`: the same bytes for the text and the binary form of each value.
use super::super::datetime::{days_from_civil, PG_EPOCH_DAYS, US_PER_DAY};
use super::super::{DateMode, Int8Mode, NumericMode, TimestampMode};
use super::*;
use bytes::BytesMut;
use postgres_protocol::types as pp;
use tokio_postgres::types::Field;

fn all_opts() -> Vec<TypeOptions> {
    let mut v = Vec::new();
    for int8 in [Int8Mode::BigInt, Int8Mode::Number, Int8Mode::String] {
        for numeric in [NumericMode::String, NumericMode::Number] {
            for date in [DateMode::String, DateMode::Date] {
                for timestamp in [TimestampMode::Date, TimestampMode::String] {
                    v.push(TypeOptions {
                        int8,
                        numeric,
                        date,
                        timestamp,
                        ..TypeOptions::default()
                    });
                }
            }
        }
    }
    v
}

fn via_text(ty: &Type, text: Option<&[u8]>, o: &TypeOptions) -> (R, Vec<u8>) {
    let mut w = Writer::default();
    let r = decode_text(ty, text, o, &mut w);
    (r, w.buf)
}

fn via_binary(ty: &Type, bin: Option<&[u8]>, o: &TypeOptions) -> (R, Vec<u8>) {
    let mut w = Writer::default();
    let r = decode(ty, bin, o, &mut w);
    (r, w.buf)
}

/// decode_text(text) writes exactly what decode(binary) writes, under every option set.
#[track_caller]
fn same(ty: &Type, text: &str, bin: &[u8]) {
    let (r, _) = via_binary(ty, Some(bin), &TypeOptions::default());
    assert!(r.is_ok(), "test binary for {} {text:?}: {r:?}", ty.name());
    for o in all_opts() {
        let t = via_text(ty, Some(text.as_bytes()), &o);
        let b = via_binary(ty, Some(bin), &o);
        assert_eq!(t, b, "{} {text:?} {o:?}", ty.name());
    }
}

#[track_caller]
fn fails(ty: &Type, text: &str, needle: &str) {
    let (r, _) = via_text(ty, Some(text.as_bytes()), &TypeOptions::default());
    let e = r.expect_err(text);
    assert!(e.contains(ty.name()), "{e}");
    assert!(e.contains(needle), "{e}");
}

/// A string as decode writes it.
fn str_out(s: &str) -> Vec<u8> {
    let mut w = Writer::default();
    w.u8(out::STR);
    w.str(s);
    w.buf
}

fn num(digits: &[u16], weight: i16, sign: u16, dscale: u16) -> Vec<u8> {
    let mut v = (digits.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(&weight.to_be_bytes());
    v.extend_from_slice(&sign.to_be_bytes());
    v.extend_from_slice(&dscale.to_be_bytes());
    for d in digits {
        v.extend_from_slice(&d.to_be_bytes());
    }
    v
}

/// PostgreSQL days of a date; BC years as 1 - year.
fn days(y: i64, m: u32, d: u32) -> i32 {
    (days_from_civil(y, m, d) - PG_EPOCH_DAYS) as i32
}

fn ts(y: i64, mo: u32, d: u32, h: i64, mi: i64, s: i64, us: i64) -> i64 {
    days(y, mo, d) as i64 * US_PER_DAY + ((h * 60 + mi) * 60 + s) * 1_000_000 + us
}

fn tod(h: i64, m: i64, s: i64, us: i64) -> i64 {
    ((h * 60 + m) * 60 + s) * 1_000_000 + us
}

fn array(elem: u32, dims: &[(i32, i32)], elems: &[Option<Vec<u8>>]) -> Vec<u8> {
    let mut v = (dims.len() as i32).to_be_bytes().to_vec();
    v.extend_from_slice(&(elems.iter().any(Option::is_none) as i32).to_be_bytes());
    v.extend_from_slice(&elem.to_be_bytes());
    for (len, lb) in dims {
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(&lb.to_be_bytes());
    }
    for e in elems {
        match e {
            None => v.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(b) => {
                v.extend_from_slice(&(b.len() as i32).to_be_bytes());
                v.extend_from_slice(b);
            }
        }
    }
    v
}

fn i4(v: i32) -> Option<Vec<u8>> {
    Some(v.to_be_bytes().to_vec())
}

fn txt(s: &str) -> Option<Vec<u8>> {
    Some(s.as_bytes().to_vec())
}

/// Binary range: flags (1 empty, 2/4 inclusive, 8/16 infinite), then the finite bounds.
fn range(flags: u8, lo: Option<&[u8]>, hi: Option<&[u8]>) -> Vec<u8> {
    let mut v = vec![flags];
    for b in [lo, hi].into_iter().flatten() {
        v.extend_from_slice(&(b.len() as i32).to_be_bytes());
        v.extend_from_slice(b);
    }
    v
}

fn record(fields: &[(u32, Option<Vec<u8>>)]) -> Vec<u8> {
    let mut v = (fields.len() as i32).to_be_bytes().to_vec();
    for (oid, b) in fields {
        v.extend_from_slice(&oid.to_be_bytes());
        match b {
            None => v.extend_from_slice(&(-1i32).to_be_bytes()),
            Some(b) => {
                v.extend_from_slice(&(b.len() as i32).to_be_bytes());
                v.extend_from_slice(b);
            }
        }
    }
    v
}

fn floats(f: &[f64]) -> Vec<u8> {
    f.iter().flat_map(|x| x.to_be_bytes()).collect()
}

fn custom(name: &str, oid: u32, kind: Kind) -> Type {
    Type::new(name.into(), oid, kind, "public".into())
}

mod containers;
mod other;
mod scalars;
