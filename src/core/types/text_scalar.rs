//! Text forms of scalar values (PostgreSQL's output functions, DateStyle ISO, IntervalStyle
//! postgres) parsed into their binary forms, for `text::decode_text`.

use std::net::IpAddr;

use super::datetime::US_PER_DAY;
use super::parse_datetime::{date_days, parse_time};
use super::value::JsValue;

/// float4out/float8out specials: `NaN`, `Infinity`, `-Infinity`.
pub(super) fn special_float(s: &str) -> Option<f64> {
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
pub(super) fn plain_float(s: &str) -> Option<&str> {
    let ok = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.' | b'e' | b'E'));
    ok.then_some(s)
}

pub(super) fn float8(s: &str) -> Option<f64> {
    special_float(s).or_else(|| plain_float(s)?.parse().ok())
}

/// Parsed as f32: the server printed the float4 itself (the shortest digits that round-trip
/// as f32); parsing as f64 and then narrowing could round twice.
pub(super) fn float4(s: &str) -> Option<f32> {
    match special_float(s) {
        Some(v) => Some(v as f32),
        None => plain_float(s)?.parse().ok(),
    }
}

pub(super) fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
}

/// bytea in hex form (`\x0a0b`, the default bytea_output) or escape form (`\\`, `\ooo`).
pub(super) fn bytea(raw: &[u8]) -> Option<Vec<u8>> {
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

pub(super) fn uuid(s: &str) -> Option<[u8; 16]> {
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
pub(super) fn pg_date(s: &str) -> Option<i32> {
    if s.bytes().take_while(u8::is_ascii_digit).count() > 7 {
        return None;
    }
    date_days(&JsValue::Str(s))
}

/// `+HH`, `-HH:MM`, `+HH:MM:SS` (EncodeTimezone): seconds east of UTC.
pub(super) fn zone(z: &str) -> Option<i64> {
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
        // Checked: a zone of many digits is malformed input, not a panic (found by cargo fuzz).
        secs = secs.checked_mul(60)?.checked_add(v)?;
        n = i + 1;
    }
    // Minutes and seconds count 60 per unit above them: HH -> *3600, HH:MM -> *60.
    secs = secs.checked_mul(*[3600, 60, 1].get(n.checked_sub(1)?)?)?;
    Some(sign * secs)
}

/// The clock part and the zone of `HH:MM:SS[.ffffff]±zone`.
pub(super) fn split_zone(s: &str) -> Option<(&str, &str)> {
    let at = s.find(['+', '-'])?;
    Some((&s[..at], &s[at..]))
}

/// A time of day without a zone: µs.
pub(super) fn clock(s: &str) -> Option<i64> {
    match parse_time(s)? {
        (us, None) => Some(us),
        _ => None,
    }
}

pub(super) fn timetz(s: &str) -> Option<[u8; 12]> {
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
pub(super) fn timestamp(s: &str, tz: bool) -> Option<i64> {
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
pub(super) fn interval(s: &str) -> Option<[u8; 16]> {
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
pub(super) fn interval_time(t: &str) -> Option<i64> {
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
pub(super) fn char_byte(raw: &[u8]) -> Option<u8> {
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
pub(super) fn inet(s: &str) -> Option<Vec<u8>> {
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
pub(super) fn mac<const N: usize>(s: &str) -> Option<[u8; N]> {
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
pub(super) fn varbit(raw: &[u8]) -> Option<Vec<u8>> {
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
pub(super) fn tid(s: &str) -> Option<[u8; 6]> {
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
pub(super) fn lsn(s: &str) -> Option<u64> {
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
pub(super) fn geometry(oid: u32, s: &str) -> Option<Vec<u8>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zones_too_large_are_malformed_not_a_panic() {
        // Found by cargo fuzz (fuzz/regressions/decode).
        assert_eq!(zone("+99999999999999999"), None);
        assert_eq!(zone("+999999999999999999:00"), None);
        assert_eq!(zone("+05:30"), Some(19_800));
    }
}
