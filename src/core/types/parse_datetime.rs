//! Dates and times given as strings to binary COPY: ISO 8601 and the server's ISO output form
//! (`YYYY-MM-DD[ T]HH:MM[:SS[.ffffff]][Z|±HH[:MM]]`, ` BC`, `infinity`), parsed exactly.

use super::datetime::{days_from_civil, PG_EPOCH_DAYS, PG_EPOCH_US, US_PER_DAY};
use tokio_postgres::types::{Kind, Type};

use super::value::JsValue;

fn num(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// `HH:MM[:SS[.ffffff]]` then an optional zone (`Z`, `±HH`, `±HH:MM`, `±HHMM`): (µs of day,
/// zone offset east of UTC in seconds).
pub(super) fn parse_time(s: &str) -> Option<(i64, Option<i32>)> {
    let zone_at = s.find(['+', '-', 'Z', 'z']);
    let (clock, zone) = match zone_at {
        Some(i) => (&s[..i], Some(&s[i..])),
        None => (s, None),
    };
    let mut parts = clock.trim().split(':');
    let h = num(parts.next()?)?;
    let m = num(parts.next()?)?;
    let (sec, frac) = match parts.next() {
        Some(sp) => match sp.split_once('.') {
            Some((a, b)) => (num(a)?, b),
            None => (num(sp)?, ""),
        },
        None => (0, ""),
    };
    if parts.next().is_some() || frac.len() > 6 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let us_frac = if frac.is_empty() {
        0
    } else {
        format!("{frac:0<6}").parse::<i64>().ok()?
    };
    if m > 59 || sec > 59 || h > 24 || (h == 24 && (m > 0 || sec > 0 || us_frac > 0)) {
        return None;
    }
    let us = ((h * 60 + m) * 60 + sec) * 1_000_000 + us_frac;
    let off = match zone {
        None => None,
        Some(z) if z.eq_ignore_ascii_case("z") => Some(0),
        Some(z) => {
            let sign = if z.starts_with('-') { -1 } else { 1 };
            let body = &z[1..];
            let (zh, zm) = match body.split_once(':') {
                Some((a, b)) => (num(a)?, num(b)?),
                // `get`: four bytes need not be four characters (cargo fuzz).
                None if body.len() == 4 => (num(body.get(..2)?)?, num(body.get(2..)?)?),
                None => (num(body)?, 0),
            };
            if zh > 15 || zm > 59 {
                return None;
            }
            Some(sign * (zh * 3600 + zm * 60) as i32)
        }
    };
    Some((us, off))
}

/// `YYYY-MM-DD` (optionally ` BC`) as days since 1970-01-01.
fn parse_date(s: &str) -> Option<i64> {
    let (s, bc) = match s.strip_suffix(" BC").or_else(|| s.strip_suffix(" bc")) {
        Some(d) => (d, true),
        None => (s, false),
    };
    let mut p = s.split('-');
    let (y, m, d) = (num(p.next()?)?, num(p.next()?)?, num(p.next()?)?);
    if p.next().is_some() || !(1..=12).contains(&m) || d < 1 || y < 1 {
        return None;
    }
    let y = if bc { 1 - y } else { y };
    let days = days_from_civil(y, m as u32, d as u32);
    // Reject impossible days (e.g. 2023-02-30) by converting back.
    (super::datetime::civil_from_days(days) == (y, m as u32, d as u32)).then_some(days)
}

pub(super) fn date_days(v: &JsValue<'_>) -> Option<i32> {
    let unix_days = match v {
        JsValue::Date(ms) if ms.is_finite() => (*ms as i64).div_euclid(86_400_000),
        JsValue::Number(n) if n.is_infinite() => {
            return Some(if *n > 0.0 { i32::MAX } else { i32::MIN })
        }
        JsValue::Str(s) => match s.trim() {
            "infinity" => return Some(i32::MAX),
            "-infinity" => return Some(i32::MIN),
            t => parse_date(t)?,
        },
        _ => return None,
    };
    i32::try_from(unix_days - PG_EPOCH_DAYS).ok()
}

/// µs since 2000-01-01 UTC. With `tz`, a zone in the text is applied; without it, the wall
/// clock is kept (as the server does for timestamp without time zone).
/// PostgreSQL's first valid timestamp (4714-11-24 00:00:00 BC, UTC) and the end of the range
/// (294277-01-01 00:00:00 UTC, excluded), in µs since 2000-01-01 (datatype/timestamp.h).
const MIN_TIMESTAMP: i64 = -211_813_488_000_000_000;
const END_TIMESTAMP: i64 = 9_223_371_331_200_000_000;

pub(super) fn timestamp_us(v: &JsValue<'_>, tz: bool) -> Option<i64> {
    match v {
        // Checked: a JS Date stays within ±8.64e15 ms, but the buffer is input (cargo fuzz).
        JsValue::Date(ms) if ms.is_finite() => {
            (*ms as i64).checked_mul(1000)?.checked_sub(PG_EPOCH_US)
        }
        JsValue::Number(n) if n.is_infinite() => Some(if *n > 0.0 { i64::MAX } else { i64::MIN }),
        JsValue::Str(s) => {
            let t = s.trim();
            match t {
                "infinity" => return Some(i64::MAX),
                "-infinity" => return Some(i64::MIN),
                _ => {}
            }
            let (t, bc) = match t.strip_suffix(" BC") {
                Some(x) => (x, " BC"),
                None => (t, ""),
            };
            let (date, time) = match t.find(['T', 't', ' ']) {
                Some(i) => (&t[..i], Some(&t[i + 1..])),
                None => (t, None),
            };
            let days = parse_date(&format!("{date}{bc}"))?;
            let (us, off) = match time {
                Some(tm) => parse_time(tm)?,
                None => (0, None),
            };
            let shift = if tz {
                off.unwrap_or(0) as i64 * 1_000_000
            } else {
                0
            };
            // Checked, and within PostgreSQL's range (4714-11-24 BC to 294277-01-01, exclusive):
            // a year like 586524 used to overflow i64 and store a date in 1969.
            // (In i128: `days` counts from an earlier epoch, so the product alone may pass
            // i64 for a timestamp that is in range.)
            let pg_us = days as i128 * US_PER_DAY as i128 + us as i128
                - shift as i128
                - PG_EPOCH_US as i128;
            (MIN_TIMESTAMP as i128..END_TIMESTAMP as i128)
                .contains(&pg_us)
                .then_some(pg_us as i64)
        }
        _ => None,
    }
}

/// Whether `s`, a timestamp `timestamp_us` accepted, has no zone offset (and is not
/// ±infinity): the server reads such a wall clock in the session's TimeZone.
fn without_offset(s: &str) -> bool {
    let t = s.trim();
    if t.ends_with("infinity") {
        return false;
    }
    let t = t.strip_suffix(" BC").unwrap_or(t);
    match t.find(['T', 't', ' ']) {
        Some(i) => matches!(parse_time(&t[i + 1..]), Some((_, None))),
        None => true,
    }
}

/// The first timestamptz string without a zone offset in `v`, a value copyFrom wrote as `ty`
/// (arrays, ranges and domains included): where it is, as the prefix of an error message
/// (`element 2: `, `range lower bound: `), and the string.
pub fn zoneless_timestamptz<'a>(v: &'a JsValue<'a>, ty: &Type) -> Option<(String, &'a str)> {
    match (ty.kind(), v) {
        (Kind::Domain(base), _) => zoneless_timestamptz(v, base),
        (Kind::Array(elem), JsValue::Array(items)) => {
            items.iter().enumerate().find_map(|(i, x)| {
                // A JS sub-array of a multidimensional array is walked as the same type.
                let inner = match (x, elem.kind()) {
                    (JsValue::Array(_), k) if !matches!(k, Kind::Array(_)) => ty,
                    _ => elem,
                };
                zoneless_timestamptz(x, inner).map(|(at, s)| (format!("element {i}: {at}"), s))
            })
        }
        (Kind::Range(elem), JsValue::Object { fields, .. }) => fields
            .iter()
            .filter(|(k, _)| *k == "lower" || *k == "upper")
            .find_map(|(k, b)| {
                zoneless_timestamptz(b, elem).map(|(at, s)| (format!("range {k} bound: {at}"), s))
            }),
        (_, JsValue::Str(s)) if *ty == Type::TIMESTAMPTZ && without_offset(s) => {
            Some((String::new(), s))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_zone_of_four_bytes_that_are_not_four_characters_is_refused() {
        // Found by cargo fuzz (fuzz/regressions/decode): 'z5\u{35c}2' sliced inside a character.
        assert_eq!(parse_time("3:43+\u{35c}2"), None);
        assert_eq!(
            parse_time("3:43+0530"),
            Some((13_380_000_000, Some(19_800)))
        );
    }

    #[test]
    fn timestamptz_strings_without_an_offset_are_found_where_they_are() {
        let found = |v: &JsValue<'_>, ty: &Type| {
            zoneless_timestamptz(v, ty).map(|(a, s)| format!("{a}{s}"))
        };
        for s in [
            "2020-01-01",
            "2020-01-01 10:00",
            "2020-01-01T10:00:00.5",
            " 0044-03-15 12:00 BC",
        ] {
            assert_eq!(
                found(&JsValue::Str(s), &Type::TIMESTAMPTZ),
                Some(s.to_string())
            );
        }
        for s in [
            "2020-01-01T10:00Z",
            "2020-01-01 10:00+02",
            "2020-01-01 10:00-0330",
            "infinity",
            "-infinity",
        ] {
            assert_eq!(found(&JsValue::Str(s), &Type::TIMESTAMPTZ), None, "{s}");
        }
        assert_eq!(found(&JsValue::Str("2020-01-01"), &Type::TIMESTAMP), None);
        assert_eq!(found(&JsValue::Date(0.0), &Type::TIMESTAMPTZ), None);
        let nested = JsValue::Array(vec![
            JsValue::Array(vec![JsValue::Null, JsValue::Str("2020-01-01T00:00Z")]),
            JsValue::Array(vec![JsValue::Date(0.0), JsValue::Str("2020-01-02 03:04")]),
        ]);
        assert_eq!(
            found(&nested, &Type::TIMESTAMPTZ_ARRAY).as_deref(),
            Some("element 1: element 1: 2020-01-02 03:04")
        );
        let range = JsValue::Object {
            json: Err(Default::default()),
            fields: vec![
                ("lower", JsValue::Str("2020-01-01T00:00Z")),
                ("upper", JsValue::Str("2021-01-01")),
            ],
        };
        assert_eq!(
            found(&range, &Type::TSTZ_RANGE).as_deref(),
            Some("range upper bound: 2021-01-01")
        );
    }

    #[test]
    fn a_date_beyond_js_range_is_refused_not_a_panic() {
        // Found by cargo fuzz (fuzz/regressions/copy_encode).
        assert_eq!(timestamp_us(&JsValue::Date(1e16), true), None);
        assert!(timestamp_us(&JsValue::Date(0.0), true).is_some());
    }

    #[test]
    fn timestamps_beyond_postgres_range_are_refused_not_wrapped() {
        for text in [
            "586524-01-01T00:00:00Z",
            "294277-01-01 00:00:00",
            "4714-11-23 00:00:00 BC",
        ] {
            assert_eq!(timestamp_us(&JsValue::Str(text), true), None, "{text}");
        }
        assert!(timestamp_us(&JsValue::Str("294276-12-31 23:59:59"), true).is_some());
        assert!(timestamp_us(&JsValue::Str("4714-11-24 00:00:00 BC"), false).is_some());
    }

    #[test]
    fn parses_dates_and_times() {
        assert_eq!(date_days(&JsValue::Str("2000-01-02")), Some(1));
        assert_eq!(date_days(&JsValue::Str("2023-02-30")), None);
        assert_eq!(
            timestamp_us(&JsValue::Str("2000-01-01T00:00:01.5Z"), true),
            Some(1_500_000)
        );
        assert_eq!(
            timestamp_us(&JsValue::Str("2000-01-01 02:00:00+02"), true),
            Some(0)
        );
        assert_eq!(
            timestamp_us(&JsValue::Str("2000-01-01 02:00:00+02"), false),
            Some(7_200_000_000)
        );
        assert_eq!(parse_time("24:00:00"), Some((US_PER_DAY, None)));
        assert_eq!(
            parse_time("12:00-05:30"),
            Some((43_200_000_000, Some(-19_800)))
        );
        assert!(parse_time("25:00").is_none());
    }
}
