//! json/jsonb parameters: any JS value rendered as JSON text, as `JSON.stringify` would
//! (objects arrive already stringified by JS; arrays are walked here so that nested Dates
//! and bigints follow the same rules), except that NaN and ±Infinity, which it writes as
//! null, are refused wherever they are.

use super::datetime::civil_from_days;
use super::value::JsValue;

pub fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Renders `v` as JSON, as `JSON.stringify` writes it; Err names what cannot be written
/// unchanged and where it is.
pub fn to_json(v: &JsValue<'_>, out: &mut String) -> Result<(), String> {
    write(v, out, &mut String::new())
}

/// `to_json` at `path` (how the value is reached from the parameter: `[2][0]`).
fn write(v: &JsValue<'_>, out: &mut String, path: &mut String) -> Result<(), String> {
    match v {
        JsValue::Null => out.push_str("null"),
        JsValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        JsValue::Number(n) if n.is_finite() => out.push_str(ryu_js::Buffer::new().format(*n)),
        JsValue::Number(n) => return Err(no_form(ryu_js::Buffer::new().format(*n), path, "")),
        JsValue::BigInt(s) => out.push_str(s),
        JsValue::Str(s) | JsValue::Text(s) => push_json_string(out, s),
        // Date.prototype.toJSON: an invalid Date is null.
        JsValue::Date(ms) => match ms_to_iso(*ms) {
            Some(t) => push_json_string(out, &t),
            None => out.push_str("null"),
        },
        JsValue::Bytes(_) => {
            return Err(format!(
                "a Buffer{} has no JSON form; encode it (e.g. base64) first",
                at(path, "")
            ))
        }
        JsValue::Array(items) => {
            out.push('[');
            let len = path.len();
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                path.push_str(&format!("[{i}]"));
                write(item, out, path)?;
                path.truncate(len);
            }
            out.push(']');
        }
        JsValue::Object { json: Ok(j), .. } => out.push_str(j),
        JsValue::Object { json: Err(e), .. } if e.value.is_empty() => {
            return Err(format!(
                "JSON.stringify failed on this object{} (a bigint or a cycle inside?)",
                at(path, "")
            ))
        }
        JsValue::Object { json: Err(e), .. } => return Err(no_form(e.value, path, e.path)),
    }
    Ok(())
}

/// The error for a non-finite number at `path` + `inner`.
fn no_form(n: &str, path: &str, inner: &str) -> String {
    // JSON.stringify writes null for NaN and ±Infinity: that would silently change the data.
    format!(
        "{n}{} has no JSON form (JSON.stringify would write null)",
        at(path, inner)
    )
}

fn at(path: &str, inner: &str) -> String {
    if path.is_empty() && inner.is_empty() {
        String::new()
    } else {
        format!(" at {path}{inner}")
    }
}

/// `Date.prototype.toISOString`: four-digit years from 0 to 9999, a sign and six digits
/// beyond (`+010000-01-01T00:00:00.000Z`); None for an invalid Date.
fn ms_to_iso(ms: f64) -> Option<String> {
    // A valid Date's time value is an integer within ±8.64e15 ms.
    if !ms.is_finite() || ms.abs() > 8.64e15 {
        return None;
    }
    let ms = ms as i64;
    let (y, m, d) = civil_from_days(ms.div_euclid(86_400_000));
    let t = ms.rem_euclid(86_400_000);
    let (h, mi, s, f) = (t / 3_600_000, t / 60_000 % 60, t / 1000 % 60, t % 1000);
    let year = match y {
        0..=9999 => format!("{y:04}"),
        10_000.. => format!("+{y:06}"),
        _ => format!("-{:06}", -y),
    };
    Some(format!(
        "{year}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{f:03}Z"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::types::value::NoJson;

    #[test]
    fn renders() {
        let v = JsValue::Array(vec![
            JsValue::Number(1.5),
            JsValue::Str("a\"b\n"),
            JsValue::Null,
            JsValue::Date(0.0),
            JsValue::Object {
                json: Ok("{\"x\":1}"),
                fields: vec![],
            },
        ]);
        let mut s = String::new();
        to_json(&v, &mut s).unwrap();
        assert_eq!(
            s,
            r#"[1.5,"a\"b\n",null,"1970-01-01T00:00:00.000Z",{"x":1}]"#
        );
        assert!(to_json(&JsValue::Number(f64::NAN), &mut String::new()).is_err());
        assert!(to_json(&JsValue::Bytes(b"x"), &mut String::new()).is_err());
    }

    fn json(v: &JsValue<'_>) -> Result<String, String> {
        let mut s = String::new();
        to_json(v, &mut s).map(|()| s)
    }

    #[test]
    fn dates_as_to_iso_string_writes_them() {
        for (ms, iso) in [
            (0.0, "\"1970-01-01T00:00:00.000Z\""),
            (-62135596800000.0, "\"0001-01-01T00:00:00.000Z\""),
            (-62167219200000.0, "\"0000-01-01T00:00:00.000Z\""),
            (-62198755200001.0, "\"-000002-12-31T23:59:59.999Z\""),
            (253402300799999.0, "\"9999-12-31T23:59:59.999Z\""),
            (253402300800000.0, "\"+010000-01-01T00:00:00.000Z\""),
            (8.64e15, "\"+275760-09-13T00:00:00.000Z\""),
            (-8.64e15, "\"-271821-04-20T00:00:00.000Z\""),
            (f64::NAN, "null"),
        ] {
            assert_eq!(json(&JsValue::Date(ms)).unwrap(), iso, "{ms}");
        }
    }

    #[test]
    fn a_non_finite_number_is_refused_with_where_it_is() {
        let inner = JsValue::Object {
            json: Err(NoJson {
                value: "-Infinity",
                path: ".a[2]",
            }),
            fields: vec![],
        };
        let v = JsValue::Array(vec![
            JsValue::Null,
            JsValue::Array(vec![JsValue::Number(1.0), inner]),
        ]);
        let e = json(&v).unwrap_err();
        assert!(
            e.starts_with("-Infinity at [1][1].a[2] has no JSON form"),
            "{e}"
        );
        let e = json(&JsValue::Array(vec![JsValue::Number(f64::NAN)])).unwrap_err();
        assert!(e.starts_with("NaN at [0] has"), "{e}");
        let e = json(&JsValue::Number(f64::INFINITY)).unwrap_err();
        assert!(e.starts_with("Infinity has"), "{e}");
    }
}
