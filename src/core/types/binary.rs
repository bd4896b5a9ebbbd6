//! Values in PostgreSQL's binary format, for binary COPY (`copyFrom`).
//!
//! The same rules as parameters (`encode`): a value that does not fit its column is an error,
//! never truncated or rounded. Dates and times given as strings are parsed here (ISO 8601 /
//! PostgreSQL's ISO output form), because binary COPY has no server-side text parsing.

use bytes::{BufMut, BytesMut};
use tokio_postgres::types::{Kind, Type};

use super::encode::{
    canonical_uuid, float_value, integer_value, interval_parts, mismatch, numeric_text, only_keys,
    RANGE_KEYS,
};
use super::json::to_json;
use super::parse_datetime::{date_days, parse_time, timestamp_us};
use super::value::JsValue;

type R = Result<(), String>;

/// Whether `ty` can be written by `write_value` (checked once, before a COPY starts).
pub fn supported(ty: &Type) -> bool {
    match ty.kind() {
        Kind::Domain(base) => supported(base),
        Kind::Array(elem) | Kind::Range(elem) => supported(elem),
        Kind::Enum(_) => true,
        _ => {
            matches!(
                *ty,
                Type::BOOL
                    | Type::INT2
                    | Type::INT4
                    | Type::INT8
                    | Type::OID
                    | Type::FLOAT4
                    | Type::FLOAT8
                    | Type::NUMERIC
                    | Type::TEXT
                    | Type::VARCHAR
                    | Type::BPCHAR
                    | Type::NAME
                    | Type::XML
                    | Type::BYTEA
                    | Type::JSON
                    | Type::JSONB
                    | Type::UUID
                    | Type::DATE
                    | Type::TIME
                    | Type::TIMETZ
                    | Type::TIMESTAMP
                    | Type::TIMESTAMPTZ
                    | Type::INTERVAL
            ) || ty.name() == "citext"
        }
    }
}

/// Writes one field: i32 length (-1 for NULL), then the binary value.
pub fn write_field(v: &JsValue<'_>, ty: &Type, out: &mut BytesMut) -> R {
    if matches!(v, JsValue::Null) {
        out.put_i32(-1);
        return Ok(());
    }
    let at = out.len();
    out.put_i32(0);
    write_value(v, ty, out)?;
    let len = (out.len() - at - 4) as i32;
    out[at..at + 4].copy_from_slice(&len.to_be_bytes());
    Ok(())
}

fn text_value<'a>(v: &'a JsValue<'_>, ty: &Type) -> Result<std::borrow::Cow<'a, str>, String> {
    match v {
        JsValue::Str(s) => Ok(std::borrow::Cow::Borrowed(*s)),
        JsValue::Number(n) => Ok(ryu_js::Buffer::new().format(*n).to_string().into()),
        JsValue::BigInt(s) => Ok(std::borrow::Cow::Borrowed(*s)),
        JsValue::Bool(b) => Ok(if *b { "true" } else { "false" }.into()),
        _ => Err(mismatch(v, ty)),
    }
}

fn write_value(v: &JsValue<'_>, ty: &Type, out: &mut BytesMut) -> R {
    match ty.kind() {
        Kind::Domain(base) => return write_value(v, base, out),
        Kind::Array(elem) => return write_array(v, elem, ty, out),
        Kind::Range(elem) => return write_range(v, elem, ty, out),
        Kind::Enum(_) => {
            out.put_slice(text_value(v, ty)?.as_bytes());
            return Ok(());
        }
        _ => {}
    }
    match *ty {
        Type::BOOL => match v {
            JsValue::Bool(b) => out.put_u8(*b as u8),
            _ => return Err(mismatch(v, ty)),
        },
        Type::INT2 => out.put_i16(integer_value(v, ty, i16::MIN as i128, i16::MAX as i128)? as i16),
        Type::INT4 => out.put_i32(integer_value(v, ty, i32::MIN as i128, i32::MAX as i128)? as i32),
        Type::INT8 => out.put_i64(integer_value(v, ty, i64::MIN as i128, i64::MAX as i128)? as i64),
        Type::OID => out.put_u32(integer_value(v, ty, 0, u32::MAX as i128)? as u32),
        Type::FLOAT4 => out.put_f32(float_value(v, ty)? as f32),
        Type::FLOAT8 => out.put_f64(float_value(v, ty)?),
        Type::NUMERIC => {
            numeric_binary(&numeric_text(v, ty)?, out).ok_or_else(|| mismatch(v, ty))?
        }
        Type::BYTEA => match v {
            JsValue::Bytes(b) => out.put_slice(b),
            _ => return Err(mismatch(v, ty)),
        },
        Type::JSON | Type::JSONB => {
            let mut s = String::new();
            to_json(v, &mut s).map_err(|e| format!("expected {}: {e}", ty.name()))?;
            if *ty == Type::JSONB {
                out.put_u8(1);
            }
            out.put_slice(s.as_bytes());
        }
        Type::UUID => {
            let JsValue::Str(s) = v else {
                return Err(mismatch(v, ty));
            };
            let c = canonical_uuid(s).ok_or_else(|| mismatch(v, ty))?;
            let hex: Vec<u8> = c.bytes().filter(|b| *b != b'-').collect();
            for pair in hex.chunks(2) {
                let byte = std::str::from_utf8(pair)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| mismatch(v, ty))?;
                out.put_u8(byte);
            }
        }
        Type::DATE => out.put_i32(date_days(v).ok_or_else(|| mismatch(v, ty))?),
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            out.put_i64(timestamp_us(v, *ty == Type::TIMESTAMPTZ).ok_or_else(|| mismatch(v, ty))?)
        }
        Type::TIME => {
            let JsValue::Str(s) = v else {
                return Err(mismatch(v, ty));
            };
            let (us, off) = parse_time(s.trim()).ok_or_else(|| mismatch(v, ty))?;
            if off.is_some() {
                return Err(format!(
                    "{} (a time of day without a zone)",
                    mismatch(v, ty)
                ));
            }
            out.put_i64(us);
        }
        Type::TIMETZ => {
            let JsValue::Str(s) = v else {
                return Err(mismatch(v, ty));
            };
            let (us, off) = parse_time(s.trim()).ok_or_else(|| mismatch(v, ty))?;
            out.put_i64(us);
            out.put_i32(
                -off.ok_or_else(|| format!("{} (with a zone offset, e.g. +02)", mismatch(v, ty)))?,
            );
        }
        Type::INTERVAL => {
            if !matches!(v, JsValue::Object { .. }) {
                return Err(format!(
                    "{} (copyFrom takes intervals as {{ months, days, microseconds }})",
                    mismatch(v, ty)
                ));
            }
            let (months, days, us) = interval_parts(v, ty)?;
            out.put_i64(us);
            out.put_i32(days);
            out.put_i32(months);
        }
        // text, varchar, bpchar, name, xml, citext: the binary form is the UTF-8 text.
        _ => out.put_slice(text_value(v, ty)?.as_bytes()),
    }
    Ok(())
}

fn write_array(v: &JsValue<'_>, elem: &Type, ty: &Type, out: &mut BytesMut) -> R {
    let JsValue::Array(items) = v else {
        return Err(mismatch(v, ty));
    };
    // Dimensions from the first element at each depth; every sub-array must match them.
    let mut dims = Vec::new();
    let mut probe = items.as_slice();
    loop {
        dims.push(probe.len());
        match probe.first() {
            Some(JsValue::Array(inner)) if !inner.is_empty() => probe = inner,
            _ => break,
        }
    }
    if items.is_empty() {
        dims.clear();
    }
    out.put_i32(dims.len() as i32);
    let flag_at = out.len();
    out.put_i32(0);
    out.put_u32(elem.oid());
    for d in &dims {
        out.put_i32(*d as i32);
        out.put_i32(1);
    }
    let mut has_null = false;
    fn walk(
        items: &[JsValue<'_>],
        depth: usize,
        dims: &[usize],
        elem: &Type,
        ty: &Type,
        nulls: &mut bool,
        out: &mut BytesMut,
    ) -> R {
        if items.len() != dims[depth] {
            return Err(format!(
                "expected {} (a rectangular array), got sub-arrays of different lengths",
                ty.name()
            ));
        }
        for (i, item) in items.iter().enumerate() {
            if depth + 1 < dims.len() {
                match item {
                    JsValue::Array(inner) => walk(inner, depth + 1, dims, elem, ty, nulls, out)?,
                    _ => {
                        return Err(format!(
                            "expected {} (a rectangular array), got a non-array at depth {}",
                            ty.name(),
                            depth + 1
                        ))
                    }
                }
            } else {
                if matches!(item, JsValue::Null) {
                    *nulls = true;
                }
                if matches!(item, JsValue::Array(_))
                    && !matches!(elem.kind(), Kind::Array(_))
                    && *elem != Type::JSON
                    && *elem != Type::JSONB
                {
                    return Err(format!(
                        "expected {} (a rectangular array), got a deeper array at element {i}",
                        ty.name()
                    ));
                }
                write_field(item, elem, out).map_err(|e| format!("element {i}: {e}"))?;
            }
        }
        Ok(())
    }
    if !dims.is_empty() {
        walk(items, 0, &dims, elem, ty, &mut has_null, out)?;
    }
    if has_null {
        out[flag_at..flag_at + 4].copy_from_slice(&1i32.to_be_bytes());
    }
    Ok(())
}

fn write_range(v: &JsValue<'_>, elem: &Type, ty: &Type, out: &mut BytesMut) -> R {
    let JsValue::Object { .. } = v else {
        return Err(format!(
            "{} (copyFrom takes ranges as {{ lower, upper, lowerInc, upperInc, empty }})",
            mismatch(v, ty)
        ));
    };
    only_keys(v, RANGE_KEYS, ty)?;
    let flag = |name: &str, default: bool| match v.field(name) {
        None | Some(JsValue::Null) => Ok(default),
        Some(JsValue::Bool(b)) => Ok(*b),
        Some(o) => Err(format!(
            "range field '{name}' must be a boolean, got {}",
            o.describe()
        )),
    };
    if flag("empty", false)? {
        out.put_u8(0x01);
        return Ok(());
    }
    let lower = v.field("lower").filter(|x| !matches!(x, JsValue::Null));
    let upper = v.field("upper").filter(|x| !matches!(x, JsValue::Null));
    let mut flags = 0u8;
    if flag("lowerInc", true)? && lower.is_some() {
        flags |= 0x02;
    }
    if flag("upperInc", false)? && upper.is_some() {
        flags |= 0x04;
    }
    if lower.is_none() {
        flags |= 0x08;
    }
    if upper.is_none() {
        flags |= 0x10;
    }
    out.put_u8(flags);
    for (bound, what) in [(lower, "lower"), (upper, "upper")] {
        if let Some(b) = bound {
            write_field(b, elem, out).map_err(|e| format!("range {what} bound: {e}"))?;
        }
    }
    Ok(())
}

/// Binary numeric from decimal text (sign, digits, point, exponent; NaN, ±Infinity).
pub fn numeric_binary(text: &str, out: &mut BytesMut) -> Option<()> {
    let t = text.trim();
    let (neg, body) = match t.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let special = |sign: u16, out: &mut BytesMut| {
        out.put_u16(0);
        out.put_i16(0);
        out.put_u16(sign);
        out.put_u16(0);
    };
    if body.eq_ignore_ascii_case("nan") {
        special(0xC000, out);
        return Some(());
    }
    if body.eq_ignore_ascii_case("infinity") || body.eq_ignore_ascii_case("inf") {
        special(if neg { 0xF000 } else { 0xD000 }, out);
        return Some(());
    }
    let (mant, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], body[i + 1..].parse::<i32>().ok()?),
        None => (body, 0),
    };
    let (int, frac) = mant.split_once('.').unwrap_or((mant, ""));
    let int: String = int.chars().filter(|c| *c != '_').collect();
    let frac: String = frac.chars().filter(|c| *c != '_').collect();
    if (int.is_empty() && frac.is_empty())
        || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let dscale = (frac.len() as i64 - exp as i64).max(0);
    let point = int.len() as i64 + exp as i64; // position of the decimal point within the digits
                                               // PostgreSQL's limits (numeric.c): 131072 digits before the point, a display scale of
                                               // 16383. Beyond them the server refuses the text form ("value overflows numeric format");
                                               // here they also bound the padding below ('1e2000000000' would allocate gigabytes), and
                                               // keep the weight within its i16 (an exponent past it used to wrap and store 0).
    if point > 131_072 || dscale > 16_383 {
        return None;
    }
    let (dscale, point) = (dscale as i32, point as i32);
    let digits = format!("{int}{frac}");
    // Align to base-10000 groups around the decimal point.
    let lead = (4 - point.rem_euclid(4)) % 4;
    let mut padded = "0".repeat(lead as usize);
    padded.push_str(&digits);
    let point = point + lead;
    while (padded.len() as i32) < point || !padded.len().is_multiple_of(4) {
        padded.push('0');
    }
    let groups: Vec<u16> = padded
        .as_bytes()
        .chunks(4)
        .map(|c| c.iter().fold(0u16, |a, d| a * 10 + (d - b'0') as u16))
        .collect();
    let mut weight = point / 4 - 1;
    let mut first = 0;
    while first < groups.len() && groups[first] == 0 {
        first += 1;
        weight -= 1;
    }
    let mut last = groups.len();
    while last > first && groups[last - 1] == 0 {
        last -= 1;
    }
    let g = &groups[first..last];
    if g.is_empty() {
        weight = 0;
    }
    out.put_u16(g.len() as u16);
    out.put_i16(weight as i16);
    out.put_u16(if neg && !g.is_empty() { 0x4000 } else { 0 });
    out.put_u16(dscale.min(i16::MAX as i32) as u16);
    for d in g {
        out.put_u16(*d);
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(v: JsValue<'_>, ty: &Type) -> Vec<u8> {
        let mut b = BytesMut::new();
        write_field(&v, ty, &mut b).unwrap();
        b.to_vec()
    }

    #[test]
    fn an_interval_field_at_2_pow_63_is_out_of_range_not_wrapped() {
        let iv = |us: JsValue<'static>| JsValue::Object {
            json: Err(Default::default()),
            fields: vec![("microseconds", us)],
        };
        assert!(super::super::encode::interval_parts(
            &iv(JsValue::Number(2f64.powi(63))),
            &Type::INTERVAL
        )
        .unwrap_err()
        .contains("out of range"));
        assert_eq!(
            super::super::encode::interval_parts(
                &iv(JsValue::Number(-(2f64.powi(63)))),
                &Type::INTERVAL
            )
            .unwrap(),
            (0, 0, i64::MIN)
        );
    }

    #[test]
    fn numerics_beyond_postgres_limits_are_refused_not_wrapped() {
        let mut b = BytesMut::new();
        for text in [
            "1e131072",
            "1e200000",
            "1e2000000000",
            "1e-20000",
            "-1e-2000000000",
        ] {
            assert!(numeric_binary(text, &mut b).is_none(), "{text}");
        }
        // The largest exponent that fits: 131072 digits before the point.
        assert!(numeric_binary("1e131071", &mut b).is_some());
        assert!(numeric_binary("1e-16383", &mut b).is_some());
    }

    #[test]
    fn numeric_matches_the_server_layout() {
        let enc = |s: &str| {
            let mut b = BytesMut::new();
            numeric_binary(s, &mut b).unwrap();
            super::super::numeric::numeric_to_string(&b).unwrap()
        };
        for (input, printed) in [
            ("0", "0"),
            ("-1.50", "-1.50"),
            ("12345.6789", "12345.6789"),
            ("0.0001", "0.0001"),
            ("1e-20", "0.00000000000000000001"),
            ("1.5e3", "1500"),
            (
                "123456789012345678901234567890.000000000000000001",
                "123456789012345678901234567890.000000000000000001",
            ),
            ("-0", "0"),
            ("NaN", "NaN"),
            ("-Infinity", "-Infinity"),
            ("10000", "10000"),
            (".5", "0.5"),
        ] {
            assert_eq!(enc(input), printed, "{input}");
        }
        assert!(numeric_binary("1.2.3", &mut BytesMut::new()).is_none());
    }

    #[test]
    fn scalars_and_dates() {
        assert_eq!(
            field(JsValue::Number(7.0), &Type::INT4),
            vec![0, 0, 0, 4, 0, 0, 0, 7]
        );
        assert_eq!(field(JsValue::Null, &Type::INT4), vec![255, 255, 255, 255]);
        let arr = JsValue::Array(vec![
            JsValue::Array(vec![JsValue::Number(1.0)]),
            JsValue::Array(vec![JsValue::Null]),
        ]);
        let b = field(arr, &Type::INT4_ARRAY);
        assert_eq!(&b[4..8], &2i32.to_be_bytes()); // two dimensions
        assert_eq!(&b[8..12], &1i32.to_be_bytes()); // has nulls
        let ragged = JsValue::Array(vec![
            JsValue::Array(vec![JsValue::Number(1.0)]),
            JsValue::Array(vec![]),
        ]);
        assert!(write_field(&ragged, &Type::INT4_ARRAY, &mut BytesMut::new()).is_err());
    }
}
