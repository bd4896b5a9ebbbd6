//! Parameters: a JS value converted to the type the server described for its `$n`.
//!
//! Every parameter is sent in text format except bytea (binary): the text forms are exact
//! (shortest round-trip floats, exact integers, canonical UUIDs) and the server parses them
//! with its own rules (time zones, date styles, ranges, arrays, extension types), so no
//! conversion is re-implemented twice. Values that do not fit the type (1.5 for int4, 2**31
//! for int4, 'abc' for uuid, a bigint beyond int8) are rejected here, before anything runs.

use std::borrow::Cow;

use tokio_postgres::types::{Kind, Type};

use super::datetime::{ms_to_date_text, ms_to_timestamp_text};
use super::json::to_json;
use super::numeric::is_numeric_text;
use super::value::JsValue;

/// One encoded parameter. Text and bytes sent as the caller gave them are borrowed from the
/// parameter buffer, and integers are written straight into the Bind message: the common
/// parameters (an id, a name) cost no allocation of their own.
#[derive(Debug, Clone, PartialEq)]
pub enum Encoded<'a> {
    Null,
    Text(Cow<'a, str>),
    Binary(&'a [u8]),
    /// An integer of the parameter's type, sent as its decimal text.
    Int(i64),
}

/// Converts `v` for a parameter of type `ty`; Err explains the mismatch (without the `$n`,
/// which the caller adds).
pub fn encode<'a>(v: &JsValue<'a>, ty: &Type) -> Result<Encoded<'a>, String> {
    match (v, ty) {
        (JsValue::Null, _) => Ok(Encoded::Null),
        (JsValue::Text(s), _) => Ok(Encoded::Text(Cow::Borrowed(s))),
        (JsValue::Bytes(b), &Type::BYTEA) => Ok(Encoded::Binary(b)),
        (JsValue::Str(s), &Type::BYTEA | &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR) => {
            Ok(Encoded::Text(Cow::Borrowed(s)))
        }
        (_, &Type::BYTEA) => Err(mismatch(v, ty)),
        // What `text` would write, without its String.
        (_, &Type::INT2) => integer_value(v, ty, i16::MIN as i128, i16::MAX as i128).map(int),
        (_, &Type::INT4) => integer_value(v, ty, i32::MIN as i128, i32::MAX as i128).map(int),
        (_, &Type::INT8) => integer_value(v, ty, i64::MIN as i128, i64::MAX as i128).map(int),
        _ => Ok(Encoded::Text(Cow::Owned(text(v, ty)?))),
    }
}

// Within i64 by the ranges `encode` checks.
fn int<'a>(n: i128) -> Encoded<'a> {
    Encoded::Int(n as i64)
}

/// Appends `n` in decimal.
pub fn push_int(n: i64, out: &mut bytes::BytesMut) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut m = n.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    if n < 0 {
        out.extend_from_slice(b"-");
    }
    out.extend_from_slice(&digits[at..]);
}

pub(super) fn mismatch(v: &JsValue<'_>, ty: &Type) -> String {
    format!("expected {}, got {}", expected(ty), v.describe())
}

fn expected(ty: &Type) -> String {
    match (ty.name(), ty.kind()) {
        ("int2", _) => "int2 (an integer from -32768 to 32767)".into(),
        ("int4", _) => "int4 (an integer from -2147483648 to 2147483647)".into(),
        ("int8", _) => "int8 (an integer from -2^63 to 2^63-1, as number or bigint)".into(),
        ("oid", _) => "oid (an integer from 0 to 4294967295)".into(),
        (_, Kind::Array(e)) => format!("{} (an array of {})", ty.name(), e.name()),
        (name, _) => name.to_string(),
    }
}

/// The shortest text the server parses back to exactly `n` (a float8, or a float4).
fn float_text<F: ryu_js::Float + Into<f64>>(n: F) -> String {
    let x: f64 = n.into();
    if x.is_nan() {
        "NaN".into()
    } else if x.is_infinite() {
        if x > 0.0 { "Infinity" } else { "-Infinity" }.into()
    } else if x == 0.0 && x.is_sign_negative() {
        // JS prints -0 as "0"; the server keeps the sign, and so do we.
        "-0".into()
    } else {
        ryu_js::Buffer::new().format(n).to_string()
    }
}

/// An integer of type `ty` within [min, max], as text.
fn integer(v: &JsValue<'_>, ty: &Type, min: i128, max: i128) -> Result<String, String> {
    integer_value(v, ty, min, max).map(|n| n.to_string())
}

/// An integer of type `ty` within [min, max]: a whole number, a bigint or integer text.
pub(super) fn integer_value(
    v: &JsValue<'_>,
    ty: &Type,
    min: i128,
    max: i128,
) -> Result<i128, String> {
    let n: Option<i128> = match v {
        JsValue::Number(n) if n.fract() == 0.0 && n.is_finite() && n.abs() <= 2f64.powi(64) => {
            Some(*n as i128)
        }
        JsValue::BigInt(s) => s.parse::<i128>().ok(),
        JsValue::Str(s) => s.trim().parse::<i128>().ok(),
        _ => None,
    };
    match n {
        Some(n) if n >= min && n <= max => Ok(n),
        _ => Err(mismatch(v, ty)),
    }
}

/// A float4/float8 value: a number, an exactly representable bigint, or numeric text.
pub(super) fn float_value(v: &JsValue<'_>, ty: &Type) -> Result<f64, String> {
    let n = match v {
        JsValue::Number(n) => *n,
        JsValue::BigInt(s) => match s.parse::<i64>() {
            Ok(i) if (i as f64) as i64 == i && i.unsigned_abs() <= 1 << 53 => i as f64,
            _ => return Err(format!("{} (it would lose precision)", mismatch(v, ty))),
        },
        JsValue::Str(s) => match s.trim().parse::<f64>() {
            Ok(n) => n,
            Err(_) if s.trim().eq_ignore_ascii_case("nan") => f64::NAN,
            Err(_) => return Err(mismatch(v, ty)),
        },
        _ => return Err(mismatch(v, ty)),
    };
    if *ty == Type::FLOAT4 && n.is_finite() && n.abs() > f32::MAX as f64 {
        return Err(format!("{} (out of float4 range)", mismatch(v, ty)));
    }
    Ok(n)
}

/// Exact decimal text for a numeric: a number (shortest round trip), a bigint, or decimal text.
pub(super) fn numeric_text(v: &JsValue<'_>, ty: &Type) -> Result<String, String> {
    match v {
        JsValue::Number(n) => Ok(float_text(*n)),
        JsValue::BigInt(s) => Ok(s.to_string()),
        JsValue::Str(s) if is_numeric_text(s) => Ok(s.trim().to_string()),
        _ => Err(mismatch(v, ty)),
    }
}

/// The text form of `v` as a value of `ty` (also used for array elements and range bounds).
fn text(v: &JsValue<'_>, ty: &Type) -> Result<String, String> {
    match ty.kind() {
        Kind::Domain(base) => return text(v, base),
        Kind::Array(elem) => {
            return match v {
                JsValue::Array(items) => {
                    let mut s = String::new();
                    array_literal(items, elem, &mut s)?;
                    Ok(s)
                }
                JsValue::Str(s) => Ok(s.to_string()),
                _ => Err(mismatch(v, ty)),
            };
        }
        Kind::Range(elem) => {
            return match v {
                JsValue::Str(s) => Ok(s.to_string()),
                JsValue::Object { .. } => range_literal(v, elem, ty),
                _ => Err(mismatch(v, ty)),
            };
        }
        _ => {}
    }
    match *ty {
        Type::BOOL => match v {
            JsValue::Bool(b) => Ok(if *b { "t" } else { "f" }.into()),
            _ => Err(mismatch(v, ty)),
        },
        Type::INT2 => integer(v, ty, i16::MIN as i128, i16::MAX as i128),
        Type::INT4 => integer(v, ty, i32::MIN as i128, i32::MAX as i128),
        Type::INT8 => integer(v, ty, i64::MIN as i128, i64::MAX as i128),
        Type::OID | Type::XID | Type::CID | Type::REGCLASS | Type::REGTYPE | Type::REGPROC => {
            match v {
                JsValue::Str(s) if s.trim().parse::<u32>().is_err() => Ok(s.to_string()),
                _ => integer(v, ty, 0, u32::MAX as i128),
            }
        }
        // Rounded to float4 here, once: the server parsing a float8's text as float4 rounded
        // a value halfway between two float4s a second time (the property tests found it).
        Type::FLOAT4 => float_value(v, ty).map(|n| float_text(n as f32)),
        Type::FLOAT8 => float_value(v, ty).map(float_text),
        Type::NUMERIC => numeric_text(v, ty),
        Type::JSON | Type::JSONB => {
            let mut s = String::new();
            to_json(v, &mut s).map_err(|e| format!("expected {}: {e}", ty.name()))?;
            Ok(s)
        }
        Type::UUID => match v {
            JsValue::Str(s) => canonical_uuid(s).ok_or_else(|| mismatch(v, ty)),
            _ => Err(mismatch(v, ty)),
        },
        Type::DATE => match v {
            JsValue::Str(s) => Ok(s.to_string()),
            JsValue::Date(ms) => ms_to_date_text(*ms).ok_or_else(|| mismatch(v, ty)),
            JsValue::Number(n) if n.is_infinite() => Ok(ms_to_date_text(*n).unwrap_or_default()),
            _ => Err(mismatch(v, ty)),
        },
        Type::TIMESTAMP | Type::TIMESTAMPTZ => match v {
            JsValue::Str(s) => Ok(s.to_string()),
            JsValue::Date(ms) => ms_to_timestamp_text(*ms).ok_or_else(|| mismatch(v, ty)),
            JsValue::Number(n) if n.is_infinite() => {
                Ok(ms_to_timestamp_text(*n).unwrap_or_default())
            }
            _ => Err(mismatch(v, ty)),
        },
        Type::TIME | Type::TIMETZ => match v {
            JsValue::Str(s) => Ok(s.to_string()),
            _ => Err(mismatch(v, ty)),
        },
        Type::INTERVAL => match v {
            JsValue::Str(s) => Ok(s.to_string()),
            JsValue::Object { .. } => interval_text(v, ty),
            _ => Err(mismatch(v, ty)),
        },
        // Text family, enums and every type without a dedicated rule: the server parses text.
        _ => match v {
            JsValue::Str(s) => Ok(s.to_string()),
            JsValue::Number(n) => Ok(float_text(*n)),
            JsValue::BigInt(s) => Ok(s.to_string()),
            JsValue::Bool(b) => Ok(if *b { "true" } else { "false" }.into()),
            JsValue::Date(ms) => ms_to_timestamp_text(*ms).ok_or_else(|| mismatch(v, ty)),
            _ => Err(mismatch(v, ty)),
        },
    }
}

/// 32 hex digits in the canonical 8-4-4-4-12 grouping.
pub fn hyphenate_uuid(h: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` from a UUID in any form the server accepts
/// (hyphens anywhere between groups of 4 hex digits, optional braces).
pub(super) fn canonical_uuid(s: &str) -> Option<String> {
    let t = s.trim();
    let t = t
        .strip_prefix('{')
        .and_then(|x| x.strip_suffix('}'))
        .unwrap_or(t);
    let hex: String = t.chars().filter(|c| *c != '-').collect();
    if hex.len() != 32
        || !hex.bytes().all(|b| b.is_ascii_hexdigit())
        || t.starts_with('-')
        || t.ends_with('-')
        || t.contains("--")
    {
        return None;
    }
    Some(hyphenate_uuid(&hex.to_ascii_lowercase()))
}

fn int_field(v: &JsValue<'_>, name: &str, max: i128) -> Result<i128, String> {
    match v.field(name) {
        None | Some(JsValue::Null) => Ok(0),
        // Compared as integers: `max as f64` rounds i64::MAX up to 2^63, which then passed
        // and wrapped to i64::MIN.
        Some(JsValue::Number(n)) if n.fract() == 0.0 => Some(*n as i128)
            .filter(|i| (-max - 1..=max).contains(i))
            .ok_or_else(|| format!("interval field '{name}' is out of range")),
        Some(JsValue::BigInt(s)) => s
            .parse::<i128>()
            .ok()
            .filter(|n| (-max - 1..=max).contains(n))
            .ok_or_else(|| format!("interval field '{name}' is out of range")),
        Some(other) => Err(format!(
            "interval field '{name}' must be an integer, got {}",
            other.describe()
        )),
    }
}

/// An object read field by field must have no other key (JS sends an object with any other
/// key as just that key: lib/params.js).
pub(super) fn only_keys(v: &JsValue<'_>, allowed: &[&str], ty: &Type) -> Result<(), String> {
    if let JsValue::Object { fields, .. } = v {
        if let Some((k, _)) = fields.iter().find(|(k, _)| !allowed.contains(k)) {
            return Err(format!(
                "expected {} as {{ {} }} or a string, got an object with key '{k}'",
                ty.name(),
                allowed.join(", ")
            ));
        }
    }
    Ok(())
}

pub(super) const INTERVAL_KEYS: &[&str] = &["months", "days", "microseconds"];
pub(super) const RANGE_KEYS: &[&str] = &["lower", "upper", "lowerInc", "upperInc", "empty"];

/// (months, days, microseconds) of an interval given as `{ months, days, microseconds }`.
pub(super) fn interval_parts(v: &JsValue<'_>, ty: &Type) -> Result<(i32, i32, i64), String> {
    only_keys(v, INTERVAL_KEYS, ty)?;
    let months = int_field(v, "months", i32::MAX as i128)?;
    let days = int_field(v, "days", i32::MAX as i128)?;
    let us = int_field(v, "microseconds", i64::MAX as i128)?;
    Ok((months as i32, days as i32, us as i64))
}

fn interval_text(v: &JsValue<'_>, ty: &Type) -> Result<String, String> {
    let (months, days, us) = interval_parts(v, ty)?;
    Ok(format!("{months} months {days} days {us} microseconds"))
}

/// Double-quotes `s`, escaping double quotes and backslashes (array elements, range bounds,
/// hstore).
pub fn push_quoted(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
}

fn element_text(v: &JsValue<'_>, elem: &Type) -> Result<String, String> {
    if *elem == Type::BYTEA {
        return match v {
            JsValue::Bytes(b) => {
                let mut s = String::with_capacity(2 + b.len() * 2);
                s.push_str("\\x");
                for byte in *b {
                    s.push_str(&format!("{byte:02x}"));
                }
                Ok(s)
            }
            JsValue::Str(s) => Ok(s.to_string()),
            _ => Err(mismatch(v, elem)),
        };
    }
    text(v, elem)
}

fn array_literal(items: &[JsValue<'_>], elem: &Type, out: &mut String) -> Result<(), String> {
    out.push('{');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        match item {
            JsValue::Null => out.push_str("NULL"),
            JsValue::Array(inner) => array_literal(inner, elem, out)?,
            other => {
                let t = element_text(other, elem).map_err(|e| format!("element {i}: {e}"))?;
                push_quoted(&t, out);
            }
        }
    }
    out.push('}');
    Ok(())
}

fn range_literal(v: &JsValue<'_>, elem: &Type, ty: &Type) -> Result<String, String> {
    let flag = |name: &str| -> Result<Option<bool>, String> {
        match v.field(name) {
            None | Some(JsValue::Null) => Ok(None),
            Some(JsValue::Bool(b)) => Ok(Some(*b)),
            Some(o) => Err(format!(
                "range field '{name}' must be a boolean, got {}",
                o.describe()
            )),
        }
    };
    if flag("empty")? == Some(true) {
        return Ok("empty".into());
    }
    only_keys(v, RANGE_KEYS, ty)?;
    let mut s = String::new();
    s.push(if flag("lowerInc")?.unwrap_or(true) {
        '['
    } else {
        '('
    });
    if let Some(lo) = v.field("lower").filter(|x| !matches!(x, JsValue::Null)) {
        push_quoted(
            &text(lo, elem).map_err(|e| format!("range lower bound: {e}"))?,
            &mut s,
        );
    }
    s.push(',');
    if let Some(hi) = v.field("upper").filter(|x| !matches!(x, JsValue::Null)) {
        push_quoted(
            &text(hi, elem).map_err(|e| format!("range upper bound: {e}"))?,
            &mut s,
        );
    }
    s.push(if flag("upperInc")?.unwrap_or(false) {
        ']'
    } else {
        ')'
    });
    Ok(s)
}

#[cfg(test)]
#[path = "encode_test.rs"]
mod tests;
