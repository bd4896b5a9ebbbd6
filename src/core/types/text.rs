//! Results in TEXT format (the simple query protocol behind `simpleQuery()`): each value is
//! written exactly as `decode::decode` writes the same value received in binary format.
//!
//! How: the text is turned into the value's *binary* form and handed to `decode`, for every
//! type whose decoder computes something from the binary value (numbers, numeric, dates and
//! times, intervals, uuid, bytea, json/jsonb, inet, macaddr, bit strings, geometry, tid,
//! pg_lsn, xid8, multiranges). `decode` then stays the one place that decides what JS receives: the two
//! formats cannot drift apart, and details such as numeric scale, float4 widening, the int8
//! modes (and their errors), ±infinity, IPv6 spelling or `pg_float` digits come out identical
//! by construction rather than by a second implementation of each rule.
//! Containers (arrays, ranges, composites, domains) are parsed here and written like
//! `decode_by_kind` writes them, element by element through `decode_text`.
//! Types whose binary decoder prints the server's text anyway (text, varchar, bpchar, name,
//! xml, citext, enums, unknown types, money, tsvector, tsquery, jsonpath, snapshots, hstore,
//! ltree, ...) are written straight from the text as a string: parsing them back into binary
//! would only reproduce the same string.
//!
//! The session must use DateStyle ISO, IntervalStyle postgres and client_encoding UTF8; other
//! text forms are refused with an error naming the type. Known differences from binary:
//! - regproc/regclass/regtype print *names* in text format: they arrive as strings (binary
//!   gives the OID as a number); an OID the server cannot name, and `-` (OID 0), still arrive
//!   as numbers. Other reg* types (regnamespace, regrole, ...) arrive as their name.
//! - anonymous `record` values arrive as their text (binary carries no field names).
//! - money prints per lc_monetary; `decode` assumes the C/en_US form (`-$1,234.56`).
//! - a NaN float arrives as the standard NaN (binary keeps the sign bit of the server's NaN).
//! - floats are as exact as the server prints them (extra_float_digits >= 1, the default).
//! - arrays of box use `;` between elements (box's delimiter); every other type uses `,`.
//! - multiranges: decode has no multirange decoder yet (it writes the binary value as a string
//!   or bytes); the text path builds that binary value, so it follows decode when it gets one.

use tokio_postgres::types::{Kind, Type};

use super::binary::numeric_binary;
use super::decode::{decode, write_text_or_bytes};
use super::parse_datetime::parse_time;
use super::text_container::{parse_array, parse_range, parse_record, range_at, skip_ws};
use super::text_scalar::{
    bytea, char_byte, float4, float8, geometry, inet, interval, lsn, mac, pg_date, tid, timestamp,
    timetz, uuid, varbit,
};
use super::TypeOptions;
use crate::core::wire::{out, Writer};

type R = Result<(), String>;

/// Writes one value that arrived in text format (`None` = SQL NULL) exactly as `decode` writes
/// the same value in binary format.
pub fn decode_text(ty: &Type, text: Option<&[u8]>, opts: &TypeOptions, w: &mut Writer) -> R {
    let Some(raw) = text else {
        w.u8(out::NULL);
        return Ok(());
    };
    if let Some(bin) = to_binary(ty, raw)? {
        return decode(ty, Some(bin.as_slice()), opts, w);
    }
    match ty.kind() {
        Kind::Domain(base) => decode_text(base, Some(raw), opts, w),
        Kind::Array(elem) => write_array(ty, elem, utf8(ty, raw)?, opts, w),
        Kind::Range(elem) => write_range(ty, elem, utf8(ty, raw)?, opts, w),
        Kind::Composite(fields) => write_record(ty, fields, utf8(ty, raw)?, opts, w),
        // Text-like, enums, unknown types: what decode writes for a UTF-8 binary form.
        _ => {
            write_text_or_bytes(raw, w);
            Ok(())
        }
    }
}

// ---- errors ----------------------------------------------------------------------------

/// The start of a value for an error message (values can be megabytes).
fn shown(raw: &[u8]) -> String {
    let t = String::from_utf8_lossy(raw);
    if t.chars().count() > 60 {
        format!("{:?}...", t.chars().take(60).collect::<String>())
    } else {
        format!("{t:?}")
    }
}

fn bad(ty: &Type, raw: &[u8]) -> String {
    format!(
        "could not decode a {} value from text {}",
        ty.name(),
        shown(raw)
    )
}

/// Date/time text in another DateStyle is the likely cause; say so.
fn bad_datetime(ty: &Type, raw: &[u8]) -> String {
    format!(
        "{} (simpleQuery reads dates and times in DateStyle ISO)",
        bad(ty, raw)
    )
}

fn utf8<'a>(ty: &Type, raw: &'a [u8]) -> Result<&'a str, String> {
    std::str::from_utf8(raw).map_err(|_| {
        format!(
            "could not decode a {} value from text: not UTF-8 (client_encoding must be UTF8)",
            ty.name()
        )
    })
}

// ---- scalars: text -> binary -------------------------------------------------------------

/// A binary value; most scalars fit 16 bytes and need no allocation.
enum Bin {
    Small([u8; 16], usize),
    Heap(Vec<u8>),
}

impl Bin {
    fn fixed<const N: usize>(b: [u8; N]) -> Bin {
        if N > 16 {
            return Bin::Heap(b.to_vec());
        }
        let mut a = [0u8; 16];
        for (d, s) in a.iter_mut().zip(b) {
            *d = s;
        }
        Bin::Small(a, N)
    }
    fn as_slice(&self) -> &[u8] {
        match self {
            Bin::Small(a, n) => a.get(..*n).unwrap_or(&[]),
            Bin::Heap(v) => v,
        }
    }
    fn into_vec(self) -> Vec<u8> {
        match self {
            Bin::Heap(v) => v,
            small => small.as_slice().to_vec(),
        }
    }
}

/// The binary form of a value given as text, for the types whose binary decoder computes
/// something from it; None for containers (handled by kind) and types decoded as their text.
/// Mirrors `decode`'s dispatch: its list of built-ins first, then kinds, then OIDs.
fn to_binary(ty: &Type, raw: &[u8]) -> Result<Option<Bin>, String> {
    let text = || utf8(ty, raw);
    let fail = || bad(ty, raw);
    Ok(Some(match *ty {
        Type::BOOL => Bin::fixed([match raw {
            b"t" | b"true" => 1u8,
            b"f" | b"false" => 0,
            _ => return Err(fail()),
        }]),
        Type::INT2 => Bin::fixed(text()?.parse::<i16>().map_err(|_| fail())?.to_be_bytes()),
        Type::INT4 => Bin::fixed(text()?.parse::<i32>().map_err(|_| fail())?.to_be_bytes()),
        Type::INT8 => Bin::fixed(text()?.parse::<i64>().map_err(|_| fail())?.to_be_bytes()),
        Type::OID | Type::XID | Type::CID => {
            Bin::fixed(text()?.parse::<u32>().map_err(|_| fail())?.to_be_bytes())
        }
        // Printed as names; `-` is OID 0 and an OID without a name prints as its number.
        Type::REGPROC | Type::REGCLASS | Type::REGTYPE => match text()? {
            "-" => Bin::fixed(0u32.to_be_bytes()),
            s => match s.parse::<u32>() {
                Ok(oid) => Bin::fixed(oid.to_be_bytes()),
                Err(_) => return Ok(None),
            },
        },
        // Parsed as f32: the server printed the float4 itself (shortest digits that round-trip
        // as f32); parsing as f64 and narrowing could round twice.
        Type::FLOAT4 => Bin::fixed(float4(text()?).ok_or_else(fail)?.to_be_bytes()),
        Type::FLOAT8 => Bin::fixed(float8(text()?).ok_or_else(fail)?.to_be_bytes()),
        Type::NUMERIC => {
            let s = text()?;
            // numeric_out never writes an exponent; numeric_binary would take one (and a huge
            // one would make it allocate or overflow).
            if s.contains(['e', 'E']) {
                return Err(fail());
            }
            let mut b = bytes::BytesMut::new();
            numeric_binary(s, &mut b).ok_or_else(fail)?;
            Bin::Heap(b.to_vec())
        }
        Type::BYTEA => Bin::Heap(bytea(raw).ok_or_else(fail)?),
        // decode writes the JSON text (jsonb: after its version byte 1).
        Type::JSON => Bin::Heap(raw.to_vec()),
        Type::JSONB => {
            let mut v = Vec::with_capacity(raw.len() + 1);
            v.push(1);
            v.extend_from_slice(raw);
            Bin::Heap(v)
        }
        Type::UUID => Bin::fixed(uuid(text()?).ok_or_else(fail)?),
        Type::DATE => Bin::fixed(
            pg_date(text()?)
                .ok_or_else(|| bad_datetime(ty, raw))?
                .to_be_bytes(),
        ),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => Bin::fixed(
            timestamp(text()?, *ty == Type::TIMESTAMPTZ)
                .ok_or_else(|| bad_datetime(ty, raw))?
                .to_be_bytes(),
        ),
        Type::TIME => match parse_time(text()?) {
            Some((us, None)) => Bin::fixed(us.to_be_bytes()),
            _ => return Err(bad_datetime(ty, raw)),
        },
        Type::TIMETZ => Bin::fixed(timetz(text()?).ok_or_else(|| bad_datetime(ty, raw))?),
        Type::INTERVAL => Bin::fixed(interval(text()?).ok_or_else(|| {
            format!(
                "{} (simpleQuery reads intervals in IntervalStyle postgres)",
                bad(ty, raw)
            )
        })?),
        Type::CHAR => Bin::fixed([char_byte(raw).ok_or_else(fail)?]),
        Type::INET | Type::CIDR => Bin::Heap(inet(text()?).ok_or_else(fail)?),
        Type::MACADDR => Bin::fixed(mac::<6>(text()?).ok_or_else(fail)?),
        Type::BIT | Type::VARBIT => Bin::Heap(varbit(raw).ok_or_else(fail)?),
        _ => match ty.kind() {
            Kind::Domain(_) | Kind::Array(_) | Kind::Range(_) | Kind::Composite(_) => {
                return Ok(None)
            }
            Kind::Multirange(elem) => Bin::Heap(multirange(ty, elem, text()?)?),
            // The types decode's fallback recognises by OID and decodes from binary.
            _ => match ty.oid() {
                600..=604 | 628 | 718 => Bin::Heap(geometry(ty.oid(), text()?).ok_or_else(fail)?),
                774 => Bin::fixed(mac::<8>(text()?).ok_or_else(fail)?),
                27 => Bin::fixed(tid(text()?).ok_or_else(fail)?),
                3220 => Bin::fixed(lsn(text()?).ok_or_else(fail)?.to_be_bytes()),
                5069 => Bin::fixed(text()?.parse::<u64>().map_err(|_| fail())?.to_be_bytes()),
                _ => return Ok(None),
            },
        },
    }))
}

/// The binary form of any scalar (a multirange's bounds): text-like types are their text.
fn binary_form(ty: &Type, s: &str) -> Result<Vec<u8>, String> {
    if let Some(b) = to_binary(ty, s.as_bytes())? {
        return Ok(b.into_vec());
    }
    match ty.kind() {
        Kind::Domain(base) => binary_form(base, s),
        Kind::Array(_) | Kind::Range(_) | Kind::Composite(_) => Err(format!(
            "could not decode a {} value from text: not supported as a multirange bound",
            ty.name()
        )),
        _ => Ok(s.as_bytes().to_vec()),
    }
}

// ---- containers: written like decode_by_kind --------------------------------------------

/// The element delimiter of arrays of `elem` (pg_type.typdelim): `;` for box, else `,`.
fn delimiter(elem: &Type) -> u8 {
    match elem.kind() {
        Kind::Domain(base) => delimiter(base),
        _ if elem.oid() == 603 => b';',
        _ => b',',
    }
}

fn write_array(ty: &Type, elem: &Type, s: &str, opts: &TypeOptions, w: &mut Writer) -> R {
    // int2vector and oidvector print as `1 2 3`; their binary form is a one-dimensional array
    // even when empty.
    if *ty == Type::INT2_VECTOR || *ty == Type::OID_VECTOR {
        let items: Vec<&str> = s.split_ascii_whitespace().collect();
        w.u8(out::ARRAY);
        w.u8(1);
        w.u32(items.len() as u32);
        for it in items {
            decode_text(elem, Some(it.as_bytes()), opts, w)?;
        }
        return Ok(());
    }
    let (dims, elems) = parse_array(s, delimiter(elem)).ok_or_else(|| bad(ty, s.as_bytes()))?;
    w.u8(out::ARRAY);
    w.u8(dims.len() as u8);
    for d in &dims {
        w.u32(*d);
    }
    for e in elems {
        decode_text(elem, e.as_deref().map(str::as_bytes), opts, w)?;
    }
    Ok(())
}

fn write_range(ty: &Type, elem: &Type, s: &str, opts: &TypeOptions, w: &mut Writer) -> R {
    let r = parse_range(s).ok_or_else(|| bad(ty, s.as_bytes()))?;
    w.u8(out::RANGE);
    let Some(r) = r else {
        w.u8(out::RANGE_EMPTY);
        return Ok(());
    };
    let mut flags = 0;
    if r.lower.is_some() {
        flags |= out::RANGE_HAS_LOWER;
        if r.lower_inc {
            flags |= out::RANGE_LOWER_INC;
        }
    }
    if r.upper.is_some() {
        flags |= out::RANGE_HAS_UPPER;
        if r.upper_inc {
            flags |= out::RANGE_UPPER_INC;
        }
    }
    w.u8(flags);
    for b in [r.lower, r.upper].into_iter().flatten() {
        decode_text(elem, Some(b.as_bytes()), opts, w)?;
    }
    Ok(())
}

fn write_record(
    ty: &Type,
    fields: &[tokio_postgres::types::Field],
    s: &str,
    opts: &TypeOptions,
    w: &mut Writer,
) -> R {
    let vals = parse_record(s, fields.len()).ok_or_else(|| {
        format!(
            "{} (expected a record of {} fields)",
            bad(ty, s.as_bytes()),
            fields.len()
        )
    })?;
    w.u8(out::RECORD);
    w.u32(fields.len() as u32);
    for (f, v) in fields.iter().zip(vals) {
        w.str(f.name());
        decode_text(f.type_(), v.as_deref().map(str::as_bytes), opts, w)?;
    }
    Ok(())
}

/// A multirange's binary form (i32 count, then per range an i32 length and the binary range:
/// flags byte, then each finite bound as i32 length + binary value), from `{[1,5),[7,9)}`.
/// decode has no multirange decoder; handing it the binary form keeps the two in step.
fn multirange(ty: &Type, elem: &Type, s: &str) -> Result<Vec<u8>, String> {
    let fail = || bad(ty, s.as_bytes());
    let b = s.as_bytes();
    let mut p = 0;
    skip_ws(b, &mut p);
    if b.get(p) != Some(&b'{') {
        return Err(fail());
    }
    p += 1;
    skip_ws(b, &mut p);
    let mut out = vec![0u8; 4];
    let mut n = 0i32;
    if b.get(p) == Some(&b'}') {
        p += 1;
    } else {
        loop {
            let r = range_at(s, &mut p).ok_or_else(fail)?;
            let at = out.len();
            out.extend_from_slice(&[0; 4]);
            match r {
                None => out.push(0x01),
                Some(r) => {
                    let mut flags = 0u8;
                    flags |= if r.lower.is_none() { 0x08 } else { 0 };
                    flags |= if r.upper.is_none() { 0x10 } else { 0 };
                    flags |= if r.lower_inc { 0x02 } else { 0 };
                    flags |= if r.upper_inc { 0x04 } else { 0 };
                    out.push(flags);
                    for bound in [r.lower, r.upper].into_iter().flatten() {
                        let v = binary_form(elem, &bound)?;
                        out.extend_from_slice(
                            &i32::try_from(v.len()).map_err(|_| fail())?.to_be_bytes(),
                        );
                        out.extend_from_slice(&v);
                    }
                }
            }
            let len = i32::try_from(out.len() - at - 4).map_err(|_| fail())?;
            out[at..at + 4].copy_from_slice(&len.to_be_bytes());
            n = n.checked_add(1).ok_or_else(fail)?;
            skip_ws(b, &mut p);
            match b.get(p) {
                Some(b',') => p += 1,
                Some(b'}') => {
                    p += 1;
                    break;
                }
                _ => return Err(fail()),
            }
        }
    }
    skip_ws(b, &mut p);
    if p != b.len() {
        return Err(fail());
    }
    out[..4].copy_from_slice(&n.to_be_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests;
