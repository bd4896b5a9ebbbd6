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

use std::borrow::Cow;
use std::net::IpAddr;

use tokio_postgres::types::{Kind, Type};

use super::binary::numeric_binary;
use super::datetime::US_PER_DAY;
use super::decode::{decode, write_text_or_bytes};
use super::parse_datetime::{date_days, parse_time};
use super::value::JsValue;
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

/// float4out/float8out specials: `NaN`, `Infinity`, `-Infinity`.
fn special_float(s: &str) -> Option<f64> {
    if s.eq_ignore_ascii_case("nan") {
        Some(f64::NAN)
    } else if s.eq_ignore_ascii_case("infinity") {
        Some(f64::INFINITY)
    } else if s.eq_ignore_ascii_case("-infinity") {
        Some(f64::NEG_INFINITY)
    } else {
        None
    }
}

/// Digits with an optional sign, point and exponent (`1e+30`, `-0`): Rust's float parser
/// alone would also take `inf` and the like.
fn plain_float(s: &str) -> Option<&str> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    ok.then_some(s)
}

fn float8(s: &str) -> Option<f64> {
    special_float(s).or_else(|| plain_float(s)?.parse().ok())
}

/// Parsed as f32: the server printed the float4 itself (the shortest digits that round-trip
/// as f32); parsing as f64 and then narrowing could round twice.
fn float4(s: &str) -> Option<f32> {
    match special_float(s) {
        Some(v) => Some(v as f32),
        None => plain_float(s)?.parse().ok(),
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// bytea in hex form (`\x0a0b`, the default bytea_output) or escape form (`\\`, `\ooo`).
fn bytea(raw: &[u8]) -> Option<Vec<u8>> {
    if let Some(h) = raw.strip_prefix(b"\\x") {
        if !h.len().is_multiple_of(2) {
            return None;
        }
        return h
            .chunks(2)
            .map(|p| Some(hex(*p.first()?)? << 4 | hex(*p.get(1)?)?))
            .collect();
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while let Some(&c) = raw.get(i) {
        if c != b'\\' {
            out.push(c);
            i += 1;
        } else if raw.get(i + 1) == Some(&b'\\') {
            out.push(b'\\');
            i += 2;
        } else {
            let oct = raw.get(i + 1..i + 4)?;
            if !oct.iter().all(|d| (b'0'..=b'7').contains(d)) || oct[0] > b'3' {
                return None;
            }
            out.push(oct.iter().fold(0u8, |a, d| (a << 3) | (d - b'0')));
            i += 4;
        }
    }
    Some(out)
}

fn uuid(s: &str) -> Option<[u8; 16]> {
    let digits: Vec<u8> = s.bytes().filter(|b| *b != b'-').collect();
    if digits.len() != 32 || s.starts_with('-') || s.ends_with('-') || s.contains("--") {
        return None;
    }
    let mut out = [0u8; 16];
    for (o, p) in out.iter_mut().zip(digits.chunks(2)) {
        *o = hex(*p.first()?)? << 4 | hex(*p.get(1)?)?;
    }
    Some(out)
}

/// Days since 2000-01-01 of date text (`2024-01-02`, `0044-03-15 BC`, `infinity`). Years of
/// more than 7 digits (dates end in 5874897) are refused before date_days' arithmetic could
/// overflow.
fn pg_date(s: &str) -> Option<i32> {
    if s.bytes().take_while(u8::is_ascii_digit).count() > 7 {
        return None;
    }
    date_days(&JsValue::Str(s))
}

/// `+HH`, `-HH:MM`, `+HH:MM:SS` (EncodeTimezone): seconds east of UTC.
fn zone(z: &str) -> Option<i64> {
    let (sign, body) = match z.as_bytes().first()? {
        b'+' => (1, &z[1..]),
        b'-' => (-1, &z[1..]),
        _ => return None,
    };
    let mut secs = 0i64;
    let mut n = 0;
    for (i, part) in body.split(':').enumerate() {
        if i > 2 || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let v: i64 = part.parse().ok()?;
        if i > 0 && v > 59 {
            return None;
        }
        secs = secs * 60 + v;
        n = i + 1;
    }
    // Minutes and seconds count 60 per unit above them: HH -> *3600, HH:MM -> *60.
    secs *= [3600, 60, 1].get(n.checked_sub(1)?)?;
    Some(sign * secs)
}

/// The clock part and the zone of `HH:MM:SS[.ffffff]±zone`.
fn split_zone(s: &str) -> Option<(&str, &str)> {
    let at = s.find(['+', '-'])?;
    Some((&s[..at], &s[at..]))
}

/// A time of day without a zone: µs.
fn clock(s: &str) -> Option<i64> {
    match parse_time(s)? {
        (us, None) => Some(us),
        _ => None,
    }
}

fn timetz(s: &str) -> Option<[u8; 12]> {
    let (c, z) = split_zone(s)?;
    let us = clock(c)?;
    let west = i32::try_from(-zone(z)?).ok()?;
    let mut b = [0u8; 12];
    b[..8].copy_from_slice(&us.to_be_bytes());
    b[8..].copy_from_slice(&west.to_be_bytes());
    Some(b)
}

/// timestamp[tz] as the server prints it in DateStyle ISO: `2024-01-02 03:04:05.123456`,
/// then for timestamptz the zone (`+00`, `+05:30`, `-03:30:15`), then ` BC` for BC years;
/// µs since 2000-01-01 (UTC for timestamptz: the printed offset fixes the instant).
fn timestamp(s: &str, tz: bool) -> Option<i64> {
    match s {
        "infinity" => return Some(i64::MAX),
        "-infinity" => return Some(i64::MIN),
        _ => {}
    }
    let (body, bc) = match s.strip_suffix(" BC") {
        Some(b) => (b, true),
        None => (s, false),
    };
    let (date, time) = body.split_once(' ')?;
    if !date.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let days = if bc {
        pg_date(&format!("{date} BC"))?
    } else {
        pg_date(date)?
    };
    let (us, east) = if tz {
        let (c, z) = split_zone(time)?;
        (clock(c)?, zone(z)?)
    } else {
        (clock(time)?, 0)
    };
    (days as i64)
        .checked_mul(US_PER_DAY)?
        .checked_add(us)?
        .checked_sub(east.checked_mul(1_000_000)?)
}

/// Binary interval (µs i64, days i32, months i32) from IntervalStyle postgres text:
/// `1 year 2 mons 3 days 04:05:06.789`, `-1 days +02:03:00`, `-00:00:01`, `178000000 years`,
/// and PostgreSQL 17's `infinity` / `-infinity` (every field at its maximum / minimum).
fn interval(s: &str) -> Option<[u8; 16]> {
    let (months, days, us) = match s {
        "infinity" => (i32::MAX, i32::MAX, i64::MAX),
        "-infinity" => (i32::MIN, i32::MIN, i64::MIN),
        _ => {
            let (mut months, mut days, mut us) = (0i64, 0i64, None);
            let mut toks = s.split(' ');
            let mut any = false;
            while let Some(t) = toks.next() {
                any = true;
                if t.contains(':') {
                    if us.is_some() {
                        return None;
                    }
                    us = Some(interval_time(t)?);
                    continue;
                }
                if !t
                    .trim_start_matches(['+', '-'])
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                {
                    return None;
                }
                let n: i64 = t.parse().ok()?;
                match toks.next()? {
                    "year" | "years" => months = months.checked_add(n.checked_mul(12)?)?,
                    "mon" | "mons" => months = months.checked_add(n)?,
                    "day" | "days" => days = days.checked_add(n)?,
                    _ => return None,
                }
            }
            if !any {
                return None;
            }
            (
                i32::try_from(months).ok()?,
                i32::try_from(days).ok()?,
                us.unwrap_or(0),
            )
        }
    };
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&us.to_be_bytes());
    b[8..12].copy_from_slice(&days.to_be_bytes());
    b[12..].copy_from_slice(&months.to_be_bytes());
    Some(b)
}

/// `[+-]H:MM:SS[.ffffff]`, hours unbounded (an interval's time part): µs.
fn interval_time(t: &str) -> Option<i64> {
    let (neg, body) = match t.as_bytes().first()? {
        b'-' => (true, &t[1..]),
        b'+' => (false, &t[1..]),
        _ => (false, t),
    };
    let digits = |x: &str| -> Option<i128> {
        if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        x.parse().ok()
    };
    let mut parts = body.split(':');
    let h = digits(parts.next()?)?;
    let m = digits(parts.next()?)?;
    let sec = parts.next()?;
    if parts.next().is_some() {
        return None;
    }
    let (s, frac) = sec.split_once('.').unwrap_or((sec, ""));
    let s = digits(s)?;
    let f = if frac.is_empty() {
        0
    } else if frac.len() <= 6 {
        digits(frac)? * 10i128.pow(6 - frac.len() as u32)
    } else {
        return None;
    };
    if m > 59 || s > 59 || (sec.contains('.') && frac.is_empty()) {
        return None;
    }
    let abs = h
        .checked_mul(3_600_000_000)?
        .checked_add((m * 60 + s) * 1_000_000 + f)?;
    i64::try_from(if neg { -abs } else { abs }).ok()
}

/// `"char"`: one byte; charout prints a byte with the high bit set as `\ooo` and 0 as ``.
fn char_byte(raw: &[u8]) -> Option<u8> {
    match raw {
        [] => Some(0),
        [b] => Some(*b),
        [b'\\', o @ ..] if o.len() == 3 && o.iter().all(|d| (b'0'..=b'7').contains(d)) => {
            Some(o.iter().fold(0u8, |a, d| (a << 3) | (d - b'0')))
        }
        _ => None,
    }
}

/// inet/cidr: `addr` or `addr/bits` (inet omits a full-length mask).
fn inet(s: &str) -> Option<Vec<u8>> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, Some(b)),
        None => (s, None),
    };
    let addr: IpAddr = addr.parse().ok()?;
    let full = if addr.is_ipv4() { 32 } else { 128 };
    let bits = match bits {
        Some(b) if !b.is_empty() && b.bytes().all(|c| c.is_ascii_digit()) => b.parse().ok()?,
        Some(_) => return None,
        None => full,
    };
    if bits > full {
        return None;
    }
    let mut b = bytes::BytesMut::new();
    postgres_protocol::types::inet_to_sql(addr, bits, &mut b);
    Some(b.to_vec())
}

/// macaddr (N = 6) / macaddr8 (N = 8): `08:00:2b:01:02:03`.
fn mac<const N: usize>(s: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    let mut parts = s.split(':');
    for o in out.iter_mut() {
        let p = parts.next()?.as_bytes();
        if p.len() != 2 {
            return None;
        }
        *o = hex(p[0])? << 4 | hex(p[1])?;
    }
    parts.next().is_none().then_some(out)
}

/// bit/varbit: `0101` -> i32 bit count, then the bits packed from the high bit.
fn varbit(raw: &[u8]) -> Option<Vec<u8>> {
    let mut out = i32::try_from(raw.len()).ok()?.to_be_bytes().to_vec();
    for chunk in raw.chunks(8) {
        let mut byte = 0u8;
        for (i, c) in chunk.iter().enumerate() {
            match c {
                b'1' => byte |= 0x80 >> i,
                b'0' => {}
                _ => return None,
            }
        }
        out.push(byte);
    }
    Some(out)
}

/// tid: `(block,offset)`.
fn tid(s: &str) -> Option<[u8; 6]> {
    let (a, b) = s.strip_prefix('(')?.strip_suffix(')')?.split_once(',')?;
    let num = |x: &str| -> Option<u64> {
        if x.is_empty() || !x.bytes().all(|c| c.is_ascii_digit()) {
            return None;
        }
        x.parse().ok()
    };
    let block = u32::try_from(num(a)?).ok()?;
    let offset = u16::try_from(num(b)?).ok()?;
    let mut out = [0u8; 6];
    out[..4].copy_from_slice(&block.to_be_bytes());
    out[4..].copy_from_slice(&offset.to_be_bytes());
    Some(out)
}

/// pg_lsn: `16/B374D848` (the low half is zero-padded from PostgreSQL 18 on).
fn lsn(s: &str) -> Option<u64> {
    let (hi, lo) = s.split_once('/')?;
    let part = |x: &str| {
        if x.is_empty() || !x.bytes().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(x, 16).ok()
    };
    Some((u64::from(part(hi)?) << 32) | u64::from(part(lo)?))
}

/// Geometric text (point `(x,y)`, lseg `[(..),(..)]`, box `(..),(..)`, path `((..),..)` closed
/// or `[(..),..]` open, polygon `((..),..)`, line `{A,B,C}`, circle `<(x,y),r>`): its numbers
/// in order are the binary form's float8s, after the point count and path's open/closed flag.
fn geometry(oid: u32, s: &str) -> Option<Vec<u8>> {
    let nums: Vec<f64> = s
        .split(|c: char| "()[]{}<>,".contains(c) || c.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
        .map(float8)
        .collect::<Option<_>>()?;
    let want = match oid {
        600 => Some(2),
        601 | 603 => Some(4),
        628 | 718 => Some(3),
        _ => None,
    };
    let mut out = Vec::with_capacity(8 * nums.len() + 5);
    match want {
        Some(n) if nums.len() != n => return None,
        Some(_) => {}
        None => {
            if nums.is_empty() || !nums.len().is_multiple_of(2) {
                return None;
            }
            if oid == 602 {
                out.push(u8::from(s.trim_start().starts_with('(')));
            }
            out.extend_from_slice(&i32::try_from(nums.len() / 2).ok()?.to_be_bytes());
        }
    }
    for f in nums {
        out.extend_from_slice(&f.to_be_bytes());
    }
    Some(out)
}

// ---- text parsers for containers --------------------------------------------------------

fn skip_ws(b: &[u8], p: &mut usize) {
    while b.get(*p).is_some_and(|c| c.is_ascii_whitespace()) {
        *p += 1;
    }
}

/// One array element from `*p` (array_in's rules): `"..."` quoted parts and `\` escapes;
/// unquoted whitespace around the element is dropped; an unquoted `NULL` is SQL NULL. Stops
/// before the delimiter or `}`. Every special character is ASCII, so slicing at them is safe.
fn array_element<'a>(s: &'a str, p: &mut usize, delim: u8) -> Option<Option<Cow<'a, str>>> {
    let b = s.as_bytes();
    let start = *p;
    let mut i = start;
    // Fast path: what array_out writes for most values, no quotes or escapes.
    while let Some(&c) = b.get(i) {
        if c == delim || c == b'}' {
            let t = s[start..i].trim_end_matches(|c: char| c.is_ascii_whitespace());
            *p = i;
            return match t {
                "" => None,
                t if t.eq_ignore_ascii_case("NULL") => Some(None),
                t => Some(Some(Cow::Borrowed(t))),
            };
        }
        if matches!(c, b'"' | b'\\' | b'{') {
            break;
        }
        i += 1;
    }
    let mut out = String::new();
    let mut keep = 0; // `out` up to here was quoted or escaped: never trimmed
    let mut inq = false;
    let mut seg = start;
    i = start;
    loop {
        let c = *b.get(i)?;
        if !inq && (c == delim || c == b'}') {
            break;
        }
        match c {
            b'\\' => {
                out.push_str(&s[seg..i]);
                let ch = s[i + 1..].chars().next()?;
                out.push(ch);
                i += 1 + ch.len_utf8();
                seg = i;
                keep = out.len();
            }
            b'"' => {
                out.push_str(&s[seg..i]);
                inq = !inq;
                i += 1;
                seg = i;
                keep = out.len();
            }
            b'{' if !inq => return None,
            _ => i += 1,
        }
    }
    out.push_str(&s[seg..i]);
    let len = out
        .trim_end_matches(|c: char| c.is_ascii_whitespace())
        .len();
    out.truncate(len.max(keep));
    *p = i;
    Some(Some(Cow::Owned(out)))
}

/// An array literal: its dimension lengths (none for `{}`) and its elements in row-major
/// order. A leading `[lo:hi]...=` (non-default lower bounds) must agree with the braces and
/// is otherwise ignored, as decode ignores the binary lower bounds.
type ArrayText<'a> = (Vec<u32>, Vec<Option<Cow<'a, str>>>);

fn parse_array(s: &str, delim: u8) -> Option<ArrayText<'_>> {
    let b = s.as_bytes();
    let mut p = 0;
    skip_ws(b, &mut p);
    let mut declared = None;
    if b.get(p) == Some(&b'[') {
        let eq = p + s[p..].find('=')?;
        declared = Some(dim_decoration(&s[p..eq])?);
        p = eq + 1;
        skip_ws(b, &mut p);
    }
    let mut cx = ArrayCx {
        s,
        delim,
        p,
        lens: Vec::new(),
        leaf: None,
        elems: Vec::new(),
    };
    cx.level(0)?;
    skip_ws(b, &mut cx.p);
    if cx.p != b.len() {
        return None;
    }
    let dims: Vec<u32> = cx.lens.into_iter().collect::<Option<_>>()?;
    if declared.is_some_and(|d| d != dims) {
        return None;
    }
    Some((dims, cx.elems))
}

/// `[lo:hi]` (or `[hi]`) per dimension: the lengths.
fn dim_decoration(d: &str) -> Option<Vec<u32>> {
    let mut dims = Vec::new();
    let mut rest = d.trim();
    while !rest.is_empty() {
        let (inner, after) = rest.strip_prefix('[')?.split_once(']')?;
        let (lo, hi) = match inner.split_once(':') {
            Some((a, b)) => (a.trim().parse::<i64>().ok()?, b.trim().parse::<i64>().ok()?),
            None => (1, inner.trim().parse::<i64>().ok()?),
        };
        dims.push(u32::try_from(hi.checked_sub(lo)?.checked_add(1)?).ok()?);
        rest = after.trim_start();
    }
    Some(dims)
}

struct ArrayCx<'a> {
    s: &'a str,
    delim: u8,
    p: usize,
    /// Length of each nesting level, set by its first occurrence; the rest must match.
    lens: Vec<Option<u32>>,
    /// The depth of the elements: all at the same depth (a rectangular array).
    leaf: Option<usize>,
    elems: Vec<Option<Cow<'a, str>>>,
}

impl ArrayCx<'_> {
    fn level(&mut self, depth: usize) -> Option<()> {
        let b = self.s.as_bytes();
        if b.get(self.p) != Some(&b'{') || depth >= 6 {
            return None;
        }
        self.p += 1;
        skip_ws(b, &mut self.p);
        if b.get(self.p) == Some(&b'}') {
            // `{}` is the empty array (no dimensions); the server never nests it.
            self.p += 1;
            return (depth == 0).then_some(());
        }
        let mut n = 0u32;
        loop {
            skip_ws(b, &mut self.p);
            if b.get(self.p) == Some(&b'{') {
                if self.leaf.is_some_and(|l| l <= depth) {
                    return None;
                }
                self.level(depth + 1)?;
            } else {
                match self.leaf {
                    None => self.leaf = Some(depth),
                    Some(l) if l != depth => return None,
                    Some(_) => {}
                }
                let e = array_element(self.s, &mut self.p, self.delim)?;
                self.elems.push(e);
            }
            n = n.checked_add(1)?;
            skip_ws(b, &mut self.p);
            match b.get(self.p) {
                Some(&c) if c == self.delim => self.p += 1,
                Some(b'}') => {
                    self.p += 1;
                    break;
                }
                _ => return None,
            }
        }
        if self.lens.len() <= depth {
            self.lens.resize(depth + 1, None);
        }
        match self.lens[depth] {
            None => self.lens[depth] = Some(n),
            Some(m) if m != n => return None,
            Some(_) => {}
        }
        Some(())
    }
}

/// A range bound or record field from `*p` (range_parse_bound / record_in): `\` takes the
/// next character literally, `"` opens and closes quoted parts inside which `""` is a quote.
/// Ends before an unquoted terminator; nothing at all (not even `""`) is None: an infinite
/// bound or a NULL field.
fn field<'a>(s: &'a str, p: &mut usize, ends: &[u8]) -> Option<Option<Cow<'a, str>>> {
    let b = s.as_bytes();
    let start = *p;
    let mut i = start;
    while let Some(&c) = b.get(i) {
        if ends.contains(&c) {
            *p = i;
            return Some((i > start).then(|| Cow::Borrowed(&s[start..i])));
        }
        if c == b'"' || c == b'\\' {
            break;
        }
        i += 1;
    }
    let mut out = String::new();
    let mut inq = false;
    let mut seg = start;
    i = start;
    loop {
        let c = *b.get(i)?;
        if !inq && ends.contains(&c) {
            break;
        }
        match c {
            b'\\' => {
                out.push_str(&s[seg..i]);
                let ch = s[i + 1..].chars().next()?;
                out.push(ch);
                i += 1 + ch.len_utf8();
                seg = i;
            }
            b'"' => {
                out.push_str(&s[seg..i]);
                if inq && b.get(i + 1) == Some(&b'"') {
                    out.push('"');
                    i += 2;
                } else {
                    inq = !inq;
                    i += 1;
                }
                seg = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&s[seg..i]);
    *p = i;
    Some(Some(Cow::Owned(out)))
}

/// A non-empty range: bounds (None = infinite) and whether each is inclusive.
struct RangeText<'a> {
    lower: Option<Cow<'a, str>>,
    lower_inc: bool,
    upper: Option<Cow<'a, str>>,
    upper_inc: bool,
}

/// A range literal from `*p`: `empty` (None), or `[`/`(` lower `,` upper `]`/`)`.
fn range_at<'a>(s: &'a str, p: &mut usize) -> Option<Option<RangeText<'a>>> {
    let b = s.as_bytes();
    skip_ws(b, p);
    if b.get(*p..*p + 5)
        .is_some_and(|e| e.eq_ignore_ascii_case(b"empty"))
    {
        *p += 5;
        return Some(None);
    }
    let lower_inc = match b.get(*p)? {
        b'[' => true,
        b'(' => false,
        _ => return None,
    };
    *p += 1;
    let lower = field(s, p, b",])")?;
    if b.get(*p) != Some(&b',') {
        return None;
    }
    *p += 1;
    let upper = field(s, p, b",])")?;
    let upper_inc = match b.get(*p)? {
        b']' => true,
        b')' => false,
        _ => return None,
    };
    *p += 1;
    Some(Some(RangeText {
        lower_inc: lower_inc && lower.is_some(),
        upper_inc: upper_inc && upper.is_some(),
        lower,
        upper,
    }))
}

fn parse_range(s: &str) -> Option<Option<RangeText<'_>>> {
    let mut p = 0;
    let r = range_at(s, &mut p)?;
    skip_ws(s.as_bytes(), &mut p);
    (p == s.len()).then_some(r)
}

/// A record literal with `n` fields: `(1,abc,)`, quoted fields as `"a ""b"""`.
fn parse_record(s: &str, n: usize) -> Option<Vec<Option<Cow<'_, str>>>> {
    let b = s.as_bytes();
    let mut p = 0;
    skip_ws(b, &mut p);
    if b.get(p) != Some(&b'(') {
        return None;
    }
    p += 1;
    let mut fields = Vec::with_capacity(n);
    for i in 0..n {
        if i > 0 {
            if b.get(p) != Some(&b',') {
                return None;
            }
            p += 1;
        }
        fields.push(field(s, &mut p, b",)")?);
    }
    if b.get(p) != Some(&b')') {
        return None;
    }
    p += 1;
    skip_ws(b, &mut p);
    (p == b.len()).then_some(fields)
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
mod tests {
    use super::super::datetime::{days_from_civil, PG_EPOCH_DAYS};
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

    #[test]
    fn null() {
        for ty in [Type::INT4, Type::TEXT, Type::INT4_ARRAY, Type::INT4_RANGE] {
            for o in all_opts() {
                assert_eq!(via_text(&ty, None, &o), via_binary(&ty, None, &o));
            }
        }
    }

    #[test]
    fn booleans_and_integers() {
        same(&Type::BOOL, "t", &[1]);
        same(&Type::BOOL, "f", &[0]);
        for v in [i16::MIN, -1, 0, 7, i16::MAX] {
            same(&Type::INT2, &v.to_string(), &v.to_be_bytes());
        }
        for v in [i32::MIN, -1, 0, 42, i32::MAX] {
            same(&Type::INT4, &v.to_string(), &v.to_be_bytes());
        }
        // 2^53 - 1 and 2^53: the second fails the 'number' mode in both formats.
        for v in [i64::MIN, -1, 0, (1 << 53) - 1, 1 << 53, i64::MAX] {
            same(&Type::INT8, &v.to_string(), &v.to_be_bytes());
        }
        for ty in [
            Type::OID,
            Type::XID,
            Type::CID,
            Type::REGCLASS,
            Type::REGTYPE,
        ] {
            for v in [0u32, 1259, u32::MAX] {
                same(&ty, &v.to_string(), &v.to_be_bytes());
            }
        }
        // regproc/regclass/regtype print OID 0 as `-`.
        same(&Type::REGPROC, "-", &0u32.to_be_bytes());
        same(&Type::REGCLASS, "-", &0u32.to_be_bytes());
    }

    #[test]
    fn reg_names_arrive_as_strings() {
        for (ty, name) in [
            (Type::REGCLASS, "pg_class"),
            (Type::REGTYPE, "integer"),
            (Type::REGPROC, "now"),
            (Type::REGNAMESPACE, "public"),
        ] {
            let (r, buf) = via_text(&ty, Some(name.as_bytes()), &TypeOptions::default());
            assert_eq!(r, Ok(()));
            assert_eq!(buf, str_out(name));
        }
    }

    #[test]
    fn floats_like_the_binary_value() {
        for (text, v) in [
            ("0.1", 0.1f32),
            ("-0", -0.0),
            ("0", 0.0),
            ("NaN", f32::NAN),
            ("Infinity", f32::INFINITY),
            ("-Infinity", f32::NEG_INFINITY),
            ("3.4028235e+38", f32::MAX),
            ("1e-45", 1e-45),
            ("1.1754944e-38", f32::MIN_POSITIVE),
            ("123456.79", 123456.79),
            ("1e+30", 1e30),
            ("-2.5", -2.5),
        ] {
            same(&Type::FLOAT4, text, &v.to_be_bytes());
        }
        // float4 0.1 reaches JS as the float4 widened, not as 0.1.
        let (_, buf) = via_text(&Type::FLOAT4, Some(b"0.1"), &TypeOptions::default());
        assert_eq!(buf[1..], (0.1f32 as f64).to_le_bytes());
        for (text, v) in [
            ("0.1", 0.1f64),
            ("-0", -0.0),
            ("NaN", f64::NAN),
            ("Infinity", f64::INFINITY),
            ("-Infinity", f64::NEG_INFINITY),
            ("1e+30", 1e30),
            ("1.7976931348623157e+308", f64::MAX),
            ("5e-324", 5e-324),
            ("-1.5e-05", -1.5e-5),
            ("123456789012345", 123456789012345.0),
            ("1e+15", 1e15),
        ] {
            same(&Type::FLOAT8, text, &v.to_be_bytes());
        }
    }

    #[test]
    fn numerics_keep_their_scale() {
        const NEG: u16 = 0x4000;
        for (text, bin) in [
            ("0", num(&[], 0, 0, 0)),
            ("0.000", num(&[], 0, 0, 3)),
            ("1.500", num(&[1, 5000], 0, 0, 3)),
            ("-12345.6700", num(&[1, 2345, 6700], 1, NEG, 4)),
            ("0.001200", num(&[12], -1, 0, 6)),
            ("100000000", num(&[1], 2, 0, 0)),
            ("-0.5", num(&[5000], -1, NEG, 1)),
            ("NaN", num(&[], 0, 0xC000, 0)),
            ("Infinity", num(&[], 0, 0xD000, 0)),
            ("-Infinity", num(&[], 0, 0xF000, 0)),
            (
                "123456789012345678901234567890.000000000000000001",
                num(
                    &[
                        12, 3456, 7890, 1234, 5678, 9012, 3456, 7890, 0, 0, 0, 0, 100,
                    ],
                    7,
                    0,
                    18,
                ),
            ),
        ] {
            same(&Type::NUMERIC, text, &bin);
        }
    }

    #[test]
    fn bytea_json_uuid() {
        same(&Type::BYTEA, "\\x0a0bff", &[10, 11, 255]);
        same(&Type::BYTEA, "\\x", &[]);
        // bytea_output = escape
        same(&Type::BYTEA, "a\\\\b\\001\\377", b"a\\b\x01\xff");
        same(&Type::BYTEA, "", &[]);
        let j = r#"{"a": [1, 2.50, "x\"y"], "b": null}"#;
        same(&Type::JSON, j, j.as_bytes());
        let mut jb = vec![1u8];
        jb.extend_from_slice(j.as_bytes());
        same(&Type::JSONB, j, &jb);
        same(&Type::JSONB, "\"é\"", "\x01\"é\"".as_bytes());
        same(
            &Type::UUID,
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            &[
                0xa0, 0xee, 0xbc, 0x99, 0x9c, 0x0b, 0x4e, 0xf8, 0xbb, 0x6d, 0x6b, 0xb9, 0xbd, 0x38,
                0x0a, 0x11,
            ],
        );
    }

    #[test]
    fn dates() {
        assert_eq!(days(2024, 1, 2), 8767);
        for (text, d) in [
            ("2024-01-02", 8767),
            ("2000-01-01", 0),
            ("1999-12-31", -1),
            ("1970-01-01", -10957),
            ("infinity", i32::MAX),
            ("-infinity", i32::MIN),
            ("0044-03-15 BC", days(-43, 3, 15)),
            ("0001-12-31 BC", days(0, 12, 31)),
            ("4714-11-24 BC", -2_451_545),
            ("5874897-12-31", days(5_874_897, 12, 31)),
        ] {
            same(&Type::DATE, text, &d.to_be_bytes());
        }
    }

    #[test]
    fn times() {
        for (text, us) in [
            ("04:05:06.789", tod(4, 5, 6, 789_000)),
            ("00:00:00", 0),
            ("23:59:59.999999", tod(23, 59, 59, 999_999)),
            ("24:00:00", US_PER_DAY),
            ("12:00:00.000001", tod(12, 0, 0, 1)),
        ] {
            same(&Type::TIME, text, &us.to_be_bytes());
        }
        let tz = |us: i64, west: i32| {
            let mut b = us.to_be_bytes().to_vec();
            b.extend_from_slice(&west.to_be_bytes());
            b
        };
        for (text, bin) in [
            ("04:05:06+02", tz(tod(4, 5, 6, 0), -7200)),
            ("04:05:06.5-03:30", tz(tod(4, 5, 6, 500_000), 12_600)),
            ("04:05:06+05:30:15", tz(tod(4, 5, 6, 0), -19_815)),
            ("00:00:00+00", tz(0, 0)),
            ("12:00:00-15:59:59", tz(tod(12, 0, 0, 0), 57_599)),
            ("24:00:00-01", tz(US_PER_DAY, 3600)),
        ] {
            same(&Type::TIMETZ, text, &bin);
        }
    }

    #[test]
    fn timestamps() {
        for (text, us) in [
            (
                "2024-01-02 03:04:05.123456",
                ts(2024, 1, 2, 3, 4, 5, 123_456),
            ),
            ("2000-01-01 00:00:00", 0),
            ("1999-12-31 23:59:59.999999", -1),
            ("0044-03-15 12:00:00 BC", ts(-43, 3, 15, 12, 0, 0, 0)),
            ("4714-11-24 00:00:00 BC", ts(-4713, 11, 24, 0, 0, 0, 0)),
            (
                "294276-12-31 23:59:59.999999",
                ts(294_276, 12, 31, 23, 59, 59, 999_999),
            ),
            ("infinity", i64::MAX),
            ("-infinity", i64::MIN),
        ] {
            same(&Type::TIMESTAMP, text, &us.to_be_bytes());
        }
        let instant = ts(2024, 1, 2, 3, 4, 5, 123_456);
        for (text, us) in [
            ("2024-01-02 03:04:05.123456+00", instant),
            ("2024-01-02 08:34:05.123456+05:30", instant),
            ("2024-01-01 23:33:50.123456-03:30:15", instant),
            ("2024-01-01 19:04:05.123456-08", instant),
            (
                "0044-03-15 12:53:28+00:53:28 BC",
                ts(-43, 3, 15, 12, 0, 0, 0),
            ),
            ("2000-01-01 00:00:00+00", 0),
            ("infinity", i64::MAX),
            ("-infinity", i64::MIN),
        ] {
            same(&Type::TIMESTAMPTZ, text, &us.to_be_bytes());
        }
    }

    #[test]
    fn intervals() {
        let iv = |months: i32, days: i32, us: i64| {
            let mut b = us.to_be_bytes().to_vec();
            b.extend_from_slice(&days.to_be_bytes());
            b.extend_from_slice(&months.to_be_bytes());
            b
        };
        for (text, bin) in [
            (
                "1 year 2 mons 3 days 04:05:06.789",
                iv(14, 3, tod(4, 5, 6, 789_000)),
            ),
            ("-1 days +02:03:00", iv(0, -1, tod(2, 3, 0, 0))),
            ("00:00:00.000001", iv(0, 0, 1)),
            ("-00:00:01", iv(0, 0, -1_000_000)),
            ("00:00:00", iv(0, 0, 0)),
            ("1 day", iv(0, 1, 0)),
            ("1 mon", iv(1, 0, 0)),
            ("-2 years -3 mons", iv(-27, 0, 0)),
            (
                "1 year -2 mons +3 days -04:05:06",
                iv(10, 3, -tod(4, 5, 6, 0)),
            ),
            ("178000000 years", iv(2_136_000_000, 0, 0)),
            ("-178000000 years", iv(-2_136_000_000, 0, 0)),
            ("2562047788:00:54.775807", iv(0, 0, i64::MAX)),
            ("-2562047788:00:54.775808", iv(0, 0, i64::MIN)),
            ("100 days 25:00:00", iv(0, 100, tod(25, 0, 0, 0))),
            ("infinity", iv(i32::MAX, i32::MAX, i64::MAX)),
            ("-infinity", iv(i32::MIN, i32::MIN, i64::MIN)),
        ] {
            same(&Type::INTERVAL, text, &bin);
        }
    }

    #[test]
    fn arrays() {
        same(
            &Type::INT4_ARRAY,
            "{1,2,NULL}",
            &array(23, &[(3, 1)], &[i4(1), i4(2), None]),
        );
        same(&Type::INT4_ARRAY, "{}", &array(23, &[], &[]));
        // Lower bounds are not kept, as in binary.
        same(
            &Type::INT4_ARRAY,
            "[0:1]={1,2}",
            &array(23, &[(2, 0)], &[i4(1), i4(2)]),
        );
        same(
            &Type::INT4_ARRAY,
            "[-2:-1][3:4]={{1,2},{3,4}}",
            &array(23, &[(2, -2), (2, 3)], &[i4(1), i4(2), i4(3), i4(4)]),
        );
        same(
            &Type::INT4_ARRAY,
            "{{1,2},{3,4}}",
            &array(23, &[(2, 1), (2, 1)], &[i4(1), i4(2), i4(3), i4(4)]),
        );
        same(
            &Type::INT4_ARRAY,
            "{{{1},{2}},{{NULL},{4}}}",
            &array(23, &[(2, 1), (2, 1), (1, 1)], &[i4(1), i4(2), None, i4(4)]),
        );
        same(
            &Type::TEXT_ARRAY,
            r#"{"a,b","c\"d",NULL,"NULL","","x y","back\\slash",é,null}"#,
            &array(
                25,
                &[(9, 1)],
                &[
                    txt("a,b"),
                    txt("c\"d"),
                    None,
                    txt("NULL"),
                    txt(""),
                    txt("x y"),
                    txt("back\\slash"),
                    txt("é"),
                    None,
                ],
            ),
        );
        same(
            &Type::TEXT_ARRAY,
            r#"{{a,NULL},{"b c","{d}"}}"#,
            &array(
                25,
                &[(2, 1), (2, 1)],
                &[txt("a"), None, txt("b c"), txt("{d}")],
            ),
        );
        // array_in's rules beyond what array_out writes: spaces, mid-element quotes, escapes.
        same(
            &Type::TEXT_ARRAY,
            r#"{ a b , x"y z"w ,\"q\\ }"#,
            &array(25, &[(3, 1)], &[txt("a b"), txt("xy zw"), txt("\"q\\")]),
        );
        // box arrays are delimited by `;`.
        let b1 = floats(&[3.0, 4.0, 1.0, 2.0]);
        let b2 = floats(&[1.0, 1.0, 0.0, 0.0]);
        same(
            &Type::BOX_ARRAY,
            "{(3,4),(1,2);(1,1),(0,0)}",
            &array(603, &[(2, 1)], &[Some(b1), Some(b2)]),
        );
        same(
            &Type::POINT_ARRAY,
            r#"{"(1,2)","(3,4.5)"}"#,
            &array(
                600,
                &[(2, 1)],
                &[Some(floats(&[1.0, 2.0])), Some(floats(&[3.0, 4.5]))],
            ),
        );
        same(
            &Type::DATE_ARRAY,
            "{2024-01-02,infinity,NULL,\"0044-03-15 BC\"}",
            &array(
                1082,
                &[(4, 1)],
                &[i4(8767), i4(i32::MAX), None, i4(days(-43, 3, 15))],
            ),
        );
        same(
            &Type::TIMESTAMPTZ_ARRAY,
            r#"{"2024-01-02 03:04:05+00",NULL,-infinity}"#,
            &array(
                1184,
                &[(3, 1)],
                &[
                    Some(ts(2024, 1, 2, 3, 4, 5, 0).to_be_bytes().to_vec()),
                    None,
                    Some(i64::MIN.to_be_bytes().to_vec()),
                ],
            ),
        );
        same(
            &Type::NUMERIC_ARRAY,
            "{1.50,NULL,NaN}",
            &array(
                1700,
                &[(3, 1)],
                &[
                    Some(num(&[1, 5000], 0, 0, 2)),
                    None,
                    Some(num(&[], 0, 0xC000, 0)),
                ],
            ),
        );
        same(
            &Type::BYTEA_ARRAY,
            r#"{"\\x0102",NULL}"#,
            &array(17, &[(2, 1)], &[Some(vec![1, 2]), None]),
        );
        same(
            &Type::JSONB_ARRAY,
            r#"{"{\"a\": 1}",null}"#,
            &array(3802, &[(2, 1)], &[Some(b"\x01{\"a\": 1}".to_vec()), None]),
        );
        // int2vector / oidvector print space-separated; binary has one dimension, even empty.
        let i2 = |v: i16| Some(v.to_be_bytes().to_vec());
        same(
            &Type::INT2_VECTOR,
            "1 2 -3",
            &array(21, &[(3, 0)], &[i2(1), i2(2), i2(-3)]),
        );
        same(&Type::INT2_VECTOR, "", &array(21, &[(0, 0)], &[]));
        same(
            &Type::OID_VECTOR,
            "23 25",
            &array(26, &[(2, 0)], &[i4(23), i4(25)]),
        );
        same(
            &Type::INT2_VECTOR_ARRAY,
            r#"{"1 2",3}"#,
            &array(
                22,
                &[(2, 1)],
                &[
                    Some(array(21, &[(2, 0)], &[i2(1), i2(2)])),
                    Some(array(21, &[(1, 0)], &[i2(3)])),
                ],
            ),
        );
    }

    #[test]
    fn domains() {
        let posint = custom("posint", 90001, Kind::Domain(Type::INT4));
        same(&posint, "42", &42i32.to_be_bytes());
        let boxdom = custom("boxdom", 90002, Kind::Domain(Type::BOX));
        let boxdoms = custom("_boxdom", 90003, Kind::Array(boxdom));
        same(
            &boxdoms,
            "{(3,4),(1,2);(1,1),(0,0)}",
            &array(
                90002,
                &[(2, 1)],
                &[
                    Some(floats(&[3.0, 4.0, 1.0, 2.0])),
                    Some(floats(&[1.0, 1.0, 0.0, 0.0])),
                ],
            ),
        );
        let words = custom("words", 90004, Kind::Domain(Type::TEXT_ARRAY));
        same(&words, "{a,NULL}", &array(25, &[(2, 1)], &[txt("a"), None]));
    }

    #[test]
    fn ranges() {
        let one = 1i32.to_be_bytes();
        let five = 5i32.to_be_bytes();
        same(
            &Type::INT4_RANGE,
            "[1,5)",
            &range(0x02, Some(&one), Some(&five)),
        );
        same(&Type::INT4_RANGE, "empty", &range(0x01, None, None));
        same(
            &Type::INT4_RANGE,
            "(,5]",
            &range(0x08 | 0x04, None, Some(&five)),
        );
        same(
            &Type::INT4_RANGE,
            "[1,)",
            &range(0x02 | 0x10, Some(&one), None),
        );
        same(&Type::INT4_RANGE, "(,)", &range(0x18, None, None));
        same(
            &Type::INT4_RANGE,
            "(1,5]",
            &range(0x04, Some(&one), Some(&five)),
        );
        let big = (1i64 << 60).to_be_bytes();
        same(
            &Type::INT8_RANGE,
            "[1152921504606846976,)",
            &range(0x12, Some(&big), None),
        );
        let (a, b) = (
            ts(2024, 1, 1, 0, 0, 0, 0).to_be_bytes(),
            ts(2024, 1, 2, 0, 0, 0, 0).to_be_bytes(),
        );
        same(
            &Type::TSTZ_RANGE,
            r#"["2024-01-01 00:00:00+00","2024-01-02 00:00:00+00")"#,
            &range(0x02, Some(&a), Some(&b)),
        );
        let bc = ts(-43, 3, 15, 12, 0, 0, 0).to_be_bytes();
        same(
            &Type::TS_RANGE,
            r#"["0044-03-15 12:00:00 BC",infinity)"#,
            &range(0x02, Some(&bc), Some(&i64::MAX.to_be_bytes())),
        );
        same(
            &Type::NUM_RANGE,
            "[1.5,2.500]",
            &range(
                0x06,
                Some(&num(&[1, 5000], 0, 0, 1)),
                Some(&num(&[2, 5000], 0, 0, 3)),
            ),
        );
        same(
            &Type::DATE_RANGE,
            "[2024-01-01,2024-02-01)",
            &range(
                0x02,
                Some(&days(2024, 1, 1).to_be_bytes()),
                Some(&days(2024, 2, 1).to_be_bytes()),
            ),
        );
        // range_out quotes with doubled `"` and `\`; an empty string is `""`, not infinite.
        let textrange = custom("textrange", 90010, Kind::Range(Type::TEXT));
        same(
            &textrange,
            r#"["a""b","c\\d")"#,
            &range(0x02, Some(b"a\"b"), Some(b"c\\d")),
        );
        same(&textrange, r#"("",z]"#, &range(0x04, Some(b""), Some(b"z")));
        same(
            &textrange,
            r#"(" ",a"(,)"b)"#,
            &range(0, Some(b" "), Some(b"a(,)b")),
        );
        same(
            &Type::INT4_RANGE_ARRAY,
            r#"{"[1,5)",empty,NULL}"#,
            &array(
                3904,
                &[(3, 1)],
                &[
                    Some(range(0x02, Some(&one), Some(&five))),
                    Some(vec![1]),
                    None,
                ],
            ),
        );
    }

    #[test]
    fn composites() {
        let pair = custom(
            "pair",
            90020,
            Kind::Composite(vec![
                Field::new("a".into(), Type::INT4),
                Field::new("b".into(), Type::TEXT),
                Field::new("c".into(), Type::DATE),
            ]),
        );
        same(
            &pair,
            "(1,abc,)",
            &record(&[(23, i4(1)), (25, txt("abc")), (1082, None)]),
        );
        same(
            &pair,
            r#"(2,"x,""y"" \\z",2024-01-02)"#,
            &record(&[(23, i4(2)), (25, txt("x,\"y\" \\z")), (1082, i4(8767))]),
        );
        same(
            &pair,
            "(,,)",
            &record(&[(23, None), (25, None), (1082, None)]),
        );
        same(
            &pair,
            r#"(3,"",infinity)"#,
            &record(&[(23, i4(3)), (25, txt("")), (1082, i4(i32::MAX))]),
        );
        let outer = custom(
            "outer",
            90021,
            Kind::Composite(vec![
                Field::new("p".into(), pair.clone()),
                Field::new("xs".into(), Type::INT4_ARRAY),
                Field::new("r".into(), Type::INT4_RANGE),
            ]),
        );
        let inner = record(&[(23, i4(1)), (25, txt("a b")), (1082, None)]);
        same(
            &outer,
            r#"("(1,""a b"",)","{1,NULL}","[1,5)")"#,
            &record(&[
                (90020, Some(inner)),
                (1007, Some(array(23, &[(2, 1)], &[i4(1), None]))),
                (
                    3904,
                    Some(range(
                        0x02,
                        Some(&1i32.to_be_bytes()),
                        Some(&5i32.to_be_bytes()),
                    )),
                ),
            ]),
        );
        let pairs = custom("_pair", 90022, Kind::Array(pair.clone()));
        same(
            &pairs,
            r#"{"(1,abc,)",NULL}"#,
            &array(
                90020,
                &[(2, 1)],
                &[
                    Some(record(&[(23, i4(1)), (25, txt("abc")), (1082, None)])),
                    None,
                ],
            ),
        );
        let nothing = custom("nothing", 90023, Kind::Composite(vec![]));
        same(&nothing, "()", &record(&[]));
        let single = custom(
            "single",
            90024,
            Kind::Composite(vec![Field::new("t".into(), Type::TEXT)]),
        );
        same(&single, "()", &record(&[(25, None)]));
        same(&single, r#"("")"#, &record(&[(25, txt(""))]));
    }

    #[test]
    fn multiranges_follow_decode() {
        let r = |lo: i32, hi: i32| range(0x02, Some(&lo.to_be_bytes()), Some(&hi.to_be_bytes()));
        let mr = |ranges: &[Vec<u8>]| {
            let mut v = (ranges.len() as i32).to_be_bytes().to_vec();
            for x in ranges {
                v.extend_from_slice(&(x.len() as i32).to_be_bytes());
                v.extend_from_slice(x);
            }
            v
        };
        same(
            &Type::INT4MULTI_RANGE,
            "{[1,5),[7,9)}",
            &mr(&[r(1, 5), r(7, 9)]),
        );
        same(&Type::INT4MULTI_RANGE, "{}", &mr(&[]));
        same(
            &Type::INT4MULTI_RANGE,
            "{(,5),[7,)}",
            &mr(&[
                range(0x08, None, Some(&5i32.to_be_bytes())),
                range(0x12, Some(&7i32.to_be_bytes()), None),
            ]),
        );
        same(
            &Type::DATEMULTI_RANGE,
            "{[2024-01-01,2024-02-01)}",
            &mr(&[range(
                0x02,
                Some(&days(2024, 1, 1).to_be_bytes()),
                Some(&days(2024, 2, 1).to_be_bytes()),
            )]),
        );
    }

    #[test]
    fn geometry_types() {
        same(&Type::POINT, "(1,2.5)", &floats(&[1.0, 2.5]));
        same(&Type::POINT, "(1e-05,-0)", &floats(&[1e-5, -0.0]));
        same(
            &Type::POINT,
            "(NaN,-Infinity)",
            &floats(&[f64::NAN, f64::NEG_INFINITY]),
        );
        same(
            &Type::POINT,
            "(1e+15,-1.5e+300)",
            &floats(&[1e15, -1.5e300]),
        );
        same(&Type::LSEG, "[(1,2),(3,4)]", &floats(&[1.0, 2.0, 3.0, 4.0]));
        same(&Type::BOX, "(3,4),(1,2)", &floats(&[3.0, 4.0, 1.0, 2.0]));
        same(&Type::LINE, "{1,-1,0}", &floats(&[1.0, -1.0, 0.0]));
        same(&Type::CIRCLE, "<(1,2),3>", &floats(&[1.0, 2.0, 3.0]));
        let path = |closed: u8, f: &[f64]| {
            let mut v = vec![closed];
            v.extend_from_slice(&((f.len() / 2) as i32).to_be_bytes());
            v.extend_from_slice(&floats(f));
            v
        };
        same(
            &Type::PATH,
            "((1,2),(3,4))",
            &path(1, &[1.0, 2.0, 3.0, 4.0]),
        );
        same(
            &Type::PATH,
            "[(1,2),(3,4),(5,6.5)]",
            &path(0, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]),
        );
        let mut poly = 3i32.to_be_bytes().to_vec();
        poly.extend_from_slice(&floats(&[0.0, 0.0, 1.0, 1.0, 1.0, 0.0]));
        same(&Type::POLYGON, "((0,0),(1,1),(1,0))", &poly);
    }

    #[test]
    fn network_bits_and_small_types() {
        let inet = |a: &str, bits: u8| {
            let mut b = BytesMut::new();
            pp::inet_to_sql(a.parse().unwrap(), bits, &mut b);
            b.to_vec()
        };
        for (text, addr, bits) in [
            ("192.168.0.1", "192.168.0.1", 32),
            ("192.168.0.0/24", "192.168.0.0", 24),
            ("::1", "::1", 128),
            ("2001:db8::/32", "2001:db8::", 32),
            ("::ffff:1.2.3.4", "::ffff:1.2.3.4", 128),
            // The server prints IPv4-compatible addresses dotted; decode does not.
            ("::1.2.3.4", "::102:304", 128),
        ] {
            same(&Type::INET, text, &inet(addr, bits));
        }
        same(&Type::CIDR, "10.0.0.0/8", &inet("10.0.0.0", 8));
        same(&Type::CIDR, "192.168.0.1/32", &inet("192.168.0.1", 32));
        same(&Type::MACADDR, "08:00:2b:01:02:03", &[8, 0, 0x2b, 1, 2, 3]);
        same(
            &Type::MACADDR8,
            "08:00:2b:01:02:03:04:05",
            &[8, 0, 0x2b, 1, 2, 3, 4, 5],
        );
        let bits = |n: i32, b: &[u8]| {
            let mut v = n.to_be_bytes().to_vec();
            v.extend_from_slice(b);
            v
        };
        same(&Type::BIT, "101", &bits(3, &[0b1010_0000]));
        same(&Type::VARBIT, "", &bits(0, &[]));
        same(
            &Type::VARBIT,
            "110011001",
            &bits(9, &[0b1100_1100, 0b1000_0000]),
        );
        same(&Type::CHAR, "a", b"a");
        same(&Type::CHAR, "", &[0]);
        same(&Type::CHAR, "\\351", &[0xe9]);
        same(&Type::CHAR, "\\", b"\\");
        same(&Type::TID, "(0,1)", &[0, 0, 0, 0, 0, 1]);
        same(&Type::TID, "(4294967295,65535)", &[255; 6]);
        let lsn: u64 = (0x16 << 32) | 0xB374_D848;
        same(&Type::PG_LSN, "16/B374D848", &lsn.to_be_bytes());
        same(&Type::PG_LSN, "0/0", &0u64.to_be_bytes());
        same(&Type::PG_LSN, "0/0000AB12", &0xAB12u64.to_be_bytes());
        same(&Type::XID8, "18446744073709551615", &u64::MAX.to_be_bytes());
    }

    #[test]
    fn text_forms_pass_through() {
        for ty in [
            Type::TEXT,
            Type::VARCHAR,
            Type::NAME,
            Type::BPCHAR,
            Type::XML,
        ] {
            for s in ["héllo", "", "ab  ", "{1,2}", "<a>x</a>"] {
                same(&ty, s, s.as_bytes());
            }
        }
        let mood = custom("mood", 90030, Kind::Enum(vec!["sad".into(), "ok".into()]));
        same(&mood, "sad", b"sad");
        let citext = custom("citext", 90031, Kind::Simple);
        same(&citext, "MiXeD", b"MiXeD");
        let moods = custom("_mood", 90032, Kind::Array(mood));
        same(
            &moods,
            "{sad,NULL,ok}",
            &array(90030, &[(3, 1)], &[txt("sad"), None, txt("ok")]),
        );
        same(&Type::MONEY, "$1,234.56", &123_456i64.to_be_bytes());
        same(&Type::MONEY, "-$0.05", &(-5i64).to_be_bytes());
        let mut tsv = 2i32.to_be_bytes().to_vec();
        tsv.extend_from_slice(b"a'b\0");
        tsv.extend_from_slice(&2u16.to_be_bytes());
        tsv.extend_from_slice(&(1u16 | (3 << 14)).to_be_bytes());
        tsv.extend_from_slice(&2u16.to_be_bytes());
        tsv.extend_from_slice(b"cat\0");
        tsv.extend_from_slice(&0u16.to_be_bytes());
        same(&Type::TS_VECTOR, "'a''b':1A,2 'cat'", &tsv);
        let hstore = custom("hstore", 90033, Kind::Simple);
        let mut hs = BytesMut::new();
        pp::hstore_to_sql([("a", Some("1")), ("b\"", None)], &mut hs).unwrap();
        same(&hstore, r#""a"=>"1", "b\""=>NULL"#, &hs);
        let mut snap = 2i32.to_be_bytes().to_vec();
        for x in [10u64, 20, 10, 14] {
            snap.extend_from_slice(&x.to_be_bytes());
        }
        same(&Type::PG_SNAPSHOT, "10:20:10,14", &snap);
        same(&Type::JSONPATH, "$.\"a\"[*]", b"\x01$.\"a\"[*]");
        // An unknown type whose text is not UTF-8 arrives as bytes, like its binary form.
        let odd = custom("odd", 90034, Kind::Simple);
        same(&odd, "x", b"x");
        let o = TypeOptions::default();
        assert_eq!(
            via_text(&odd, Some(b"\xff\x00"), &o),
            via_binary(&odd, Some(b"\xff\x00"), &o)
        );
    }

    #[test]
    fn malformed_text_is_an_error_naming_the_type() {
        fails(&Type::INT4, "abc", "\"abc\"");
        fails(&Type::INT4, "2147483648", "int4");
        fails(&Type::INT2, "1.5", "int2");
        fails(&Type::BOOL, "yes", "bool");
        fails(&Type::FLOAT8, "inf", "float8");
        fails(&Type::FLOAT4, "1,5", "float4");
        fails(&Type::NUMERIC, "1.2.3", "numeric");
        fails(&Type::DATE, "01/02/2024", "DateStyle ISO");
        fails(&Type::DATE, "2023-02-30", "DateStyle ISO");
        fails(&Type::TIMESTAMP, "Tue Jan 02 03:04:05 2024", "DateStyle");
        fails(&Type::TIMESTAMP, "2024-01-02 03:04:05+00", "timestamp");
        fails(&Type::TIMESTAMPTZ, "2024-01-02 03:04:05", "timestamptz");
        fails(&Type::TIME, "04:05:06+02", "time");
        fails(&Type::TIMETZ, "04:05:06", "timetz");
        fails(&Type::INTERVAL, "@ 1 year 2 mons", "IntervalStyle postgres");
        fails(&Type::INTERVAL, "P1Y2M", "IntervalStyle");
        fails(&Type::INTERVAL, "1-2 3 4:05:06", "IntervalStyle");
        fails(&Type::INTERVAL, "300000000 years", "interval");
        fails(&Type::INTERVAL, "", "interval");
        fails(&Type::BYTEA, "\\x0", "bytea");
        fails(&Type::BYTEA, "\\9", "bytea");
        fails(&Type::UUID, "a0eebc99", "uuid");
        fails(&Type::INET, "1.2.3.4/33", "inet");
        fails(&Type::MACADDR, "08:00", "macaddr");
        fails(&Type::BIT, "102", "bit");
        fails(&Type::CHAR, "abcd", "char");
        fails(&Type::POINT, "(1)", "point");
        fails(&Type::TID, "(1,-1)", "tid");
        fails(&Type::INT4_ARRAY, "{1,2", "_int4");
        fails(&Type::INT4_ARRAY, "{{1,2},{3}}", "_int4");
        fails(&Type::INT4_ARRAY, "{1,{2}}", "_int4");
        fails(&Type::INT4_ARRAY, "{1,,2}", "_int4");
        fails(&Type::INT4_ARRAY, "[1:3]={1,2}", "_int4");
        // An element's error names the element type, as decode's does.
        let (r, _) = via_text(&Type::INT4_ARRAY, Some(b"{1,x}"), &TypeOptions::default());
        assert!(r.unwrap_err().contains("int4 value from text \"x\""));
        fails(&Type::TEXT_ARRAY, r#"{"abc}"#, "_text");
        fails(&Type::INT4_RANGE, "[1,2", "int4range");
        fails(&Type::INT4_RANGE, "[1,2]x", "int4range");
        fails(&Type::INT4_RANGE, "1,2", "int4range");
        fails(&Type::INT4MULTI_RANGE, "{[1,2)", "int4multirange");
        let pair = custom(
            "pair",
            90040,
            Kind::Composite(vec![
                Field::new("a".into(), Type::INT4),
                Field::new("b".into(), Type::TEXT),
            ]),
        );
        fails(&pair, "(1)", "2 fields");
        fails(&pair, "(1,a,b)", "pair");
        fails(&pair, "(1,\"a)", "pair");
        fails(&Type::INT4, "\u{fffd}", "int4");
        let (r, _) = via_text(&Type::INT4, Some(b"\xff"), &TypeOptions::default());
        assert!(r.unwrap_err().contains("UTF8"));
        // Long values are cut in the message.
        let long = "x".repeat(10_000);
        let (r, _) = via_text(&Type::INT4, Some(long.as_bytes()), &TypeOptions::default());
        assert!(r.unwrap_err().len() < 200);
    }

    #[test]
    fn garbage_never_panics() {
        let pair = custom(
            "pair",
            90050,
            Kind::Composite(vec![
                Field::new("a".into(), Type::INT4),
                Field::new("b".into(), Type::TEXT_ARRAY),
            ]),
        );
        let types = [
            Type::BOOL,
            Type::INT8,
            Type::FLOAT4,
            Type::NUMERIC,
            Type::BYTEA,
            Type::UUID,
            Type::DATE,
            Type::TIME,
            Type::TIMETZ,
            Type::TIMESTAMPTZ,
            Type::INTERVAL,
            Type::CHAR,
            Type::INET,
            Type::MACADDR8,
            Type::VARBIT,
            Type::PATH,
            Type::TID,
            Type::PG_LSN,
            Type::INT4_ARRAY,
            Type::TEXT_ARRAY,
            Type::BOX_ARRAY,
            Type::INT2_VECTOR,
            Type::TSTZ_RANGE,
            Type::INT4MULTI_RANGE,
            pair,
        ];
        let pieces = [
            "",
            "{",
            "}",
            "(",
            ")",
            "[",
            "]",
            ",",
            ";",
            "\\",
            "\"",
            " ",
            "1",
            "-",
            "+",
            ":",
            ".",
            "e",
            "NULL",
            "empty",
            "9223372036854775807",
            "2024-01-02",
            "e-2147483648",
            "1e2147483647",
            " BC",
            "infinity",
            "\\x",
            "é",
            "99999999999999999999",
            "=",
            "<",
            "BC",
        ];
        let mut seed = 7u64;
        for _ in 0..20_000 {
            let mut t = String::new();
            for _ in 0..(seed % 9) {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                t.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
            let ty = &types[(seed >> 33) as usize % types.len()];
            let _ = via_text(ty, Some(t.as_bytes()), &TypeOptions::default());
        }
        fails(&Type::INTERVAL, "99999999999999999999:00:00", "interval");
        fails(
            &Type::INTERVAL,
            "99999999999999999999999999999999999999999:00:00",
            "interval",
        );
        fails(&Type::TIMETZ, "04:05:06+", "timetz");
        fails(&Type::NUMERIC, "1e-2147483648", "numeric");
        fails(&Type::DATE, "9223372036854775807-01-01", "date");
        fails(
            &Type::TIMESTAMP,
            "9223372036854775807-01-01 00:00:00 BC",
            "timestamp",
        );
    }
}
