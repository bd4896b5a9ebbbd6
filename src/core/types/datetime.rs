//! Dates and times: PostgreSQL counts days and microseconds from 2000-01-01; JS counts
//! milliseconds from 1970-01-01. Text forms match what the server prints with
//! `DateStyle = ISO` and `TimeZone = UTC`, BC years included.

use std::fmt::Write;

/// Days between 1970-01-01 and 2000-01-01.
pub const PG_EPOCH_DAYS: i64 = 10_957;
pub const US_PER_DAY: i64 = 86_400_000_000;
/// Microseconds between 1970-01-01 and 2000-01-01.
pub const PG_EPOCH_US: i64 = PG_EPOCH_DAYS * US_PER_DAY;

/// (year, month, day) of a day count from 1970-01-01 (proleptic Gregorian, year 0 = 1 BC).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day count from 1970-01-01 of a proleptic Gregorian date (year 0 = 1 BC).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn push_date(out: &mut String, unix_days: i64) -> bool {
    let (y, m, d) = civil_from_days(unix_days);
    let bc = y <= 0;
    let year = if bc { 1 - y } else { y };
    let _ = write!(out, "{year:04}-{m:02}-{d:02}");
    bc
}

/// Formats microseconds of a day as `HH:MM:SS[.ffffff]` (trailing zeros trimmed).
pub fn push_time(out: &mut String, us: i64) {
    let secs = us / 1_000_000;
    let frac = us % 1_000_000;
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if frac != 0 {
        let mut f = format!("{frac:06}");
        while f.ends_with('0') {
            f.pop();
        }
        out.push('.');
        out.push_str(&f);
    }
}

/// A PostgreSQL date (days since 2000-01-01) as the server prints it.
pub fn date_to_string(pg_days: i32) -> String {
    match pg_days {
        i32::MAX => "infinity".into(),
        i32::MIN => "-infinity".into(),
        d => {
            let mut s = String::with_capacity(13);
            if push_date(&mut s, d as i64 + PG_EPOCH_DAYS) {
                s.push_str(" BC");
            }
            s
        }
    }
}

/// A PostgreSQL timestamp (µs since 2000-01-01) as the server prints it; `tz` appends `+00`.
pub fn timestamp_to_string(pg_us: i64, tz: bool) -> String {
    match pg_us {
        i64::MAX => return "infinity".into(),
        i64::MIN => return "-infinity".into(),
        _ => {}
    }
    let unix_us = pg_us as i128 + PG_EPOCH_US as i128;
    let days = unix_us.div_euclid(US_PER_DAY as i128) as i64;
    let tod = unix_us.rem_euclid(US_PER_DAY as i128) as i64;
    let mut s = String::with_capacity(32);
    let bc = push_date(&mut s, days);
    s.push(' ');
    push_time(&mut s, tod);
    if tz {
        s.push_str("+00");
    }
    if bc {
        s.push_str(" BC");
    }
    s
}

/// JS milliseconds of a timestamp; ±infinity become ±Infinity.
pub fn timestamp_to_ms(pg_us: i64) -> f64 {
    match pg_us {
        i64::MAX => f64::INFINITY,
        i64::MIN => f64::NEG_INFINITY,
        us => (us as i128 + PG_EPOCH_US as i128).div_euclid(1000) as f64,
    }
}

/// JS milliseconds of a date at UTC midnight; ±infinity become ±Infinity.
pub fn date_to_ms(pg_days: i32) -> f64 {
    match pg_days {
        i32::MAX => f64::INFINITY,
        i32::MIN => f64::NEG_INFINITY,
        d => (d as i64 + PG_EPOCH_DAYS) as f64 * 86_400_000.0,
    }
}

/// timetz: µs of day plus the zone's offset in seconds *west* of UTC.
pub fn timetz_to_string(us: i64, offset_west: i32) -> String {
    let mut s = String::with_capacity(24);
    push_time(&mut s, us);
    // In i64: the negation of i32::MIN (a malformed value) does not fit an i32 (cargo fuzz).
    let east = -(offset_west as i64);
    let sign = if east < 0 { '-' } else { '+' };
    let a = east.unsigned_abs();
    let _ = write!(s, "{sign}{:02}", a / 3600);
    if !a.is_multiple_of(3600) {
        let _ = write!(s, ":{:02}", (a / 60) % 60);
        if !a.is_multiple_of(60) {
            let _ = write!(s, ":{:02}", a % 60);
        }
    }
    s
}

/// A JS time value (ms since 1970, UTC) as timestamp text the server parses exactly.
/// Returns None for NaN (an invalid Date).
pub fn ms_to_timestamp_text(ms: f64) -> Option<String> {
    if ms.is_nan() {
        return None;
    }
    if ms == f64::INFINITY {
        return Some("infinity".into());
    }
    if ms == f64::NEG_INFINITY {
        return Some("-infinity".into());
    }
    let ms = ms as i64;
    let days = ms.div_euclid(86_400_000);
    let tod_ms = ms.rem_euclid(86_400_000);
    let mut s = String::with_capacity(32);
    let bc = push_date(&mut s, days);
    s.push(' ');
    push_time(&mut s, tod_ms * 1000);
    s.push_str("+00");
    if bc {
        s.push_str(" BC");
    }
    Some(s)
}

/// A JS time value as a date (its UTC calendar day).
pub fn ms_to_date_text(ms: f64) -> Option<String> {
    if ms.is_nan() {
        return None;
    }
    if ms.is_infinite() {
        return Some(if ms > 0.0 { "infinity" } else { "-infinity" }.into());
    }
    let days = (ms as i64).div_euclid(86_400_000);
    let mut s = String::with_capacity(13);
    if push_date(&mut s, days) {
        s.push_str(" BC");
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timetz_offset_of_i32_min_prints_without_a_panic() {
        // Found by cargo fuzz (fuzz/regressions/decode).
        assert!(timetz_to_string(0, i32::MIN).starts_with("00:00:00+"));
    }

    #[test]
    fn civil_round_trip() {
        for d in [-800_000i64, -719_468, -1, 0, 1, 10_957, 2_932_896] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(10_957), (2000, 1, 1));
    }

    #[test]
    fn formats_like_the_server() {
        assert_eq!(date_to_string(0), "2000-01-01");
        assert_eq!(date_to_string(i32::MAX), "infinity");
        // 4713-11-24 BC is the first day PostgreSQL accepts (Julian day 0).
        assert_eq!(date_to_string(-2_451_545), "4714-11-24 BC");
        assert_eq!(
            timestamp_to_string(1_500_000, true),
            "2000-01-01 00:00:01.5+00"
        );
        assert_eq!(timestamp_to_string(-1, false), "1999-12-31 23:59:59.999999");
        assert_eq!(timetz_to_string(3_600_000_000, -19_800), "01:00:00+05:30");
        assert_eq!(timetz_to_string(0, 3600), "00:00:00-01");
        assert_eq!(ms_to_timestamp_text(0.0).unwrap(), "1970-01-01 00:00:00+00");
        assert_eq!(
            ms_to_timestamp_text(-1.0).unwrap(),
            "1969-12-31 23:59:59.999+00"
        );
        assert_eq!(ms_to_date_text(86_400_000.0 * 1.5).unwrap(), "1970-01-02");
        assert_eq!(timestamp_to_ms(-PG_EPOCH_US), 0.0);
    }
}
