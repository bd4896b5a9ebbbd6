//! json/jsonb parameters: any JS value rendered as JSON text, as `JSON.stringify` would
//! (objects arrive already stringified by JS; arrays are walked here so that nested Dates
//! and bigints follow the same rules).

use super::datetime::ms_to_timestamp_text;
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

/// Renders `v` as JSON; Err names what cannot be represented.
pub fn to_json(v: &JsValue<'_>, out: &mut String) -> Result<(), String> {
    match v {
        JsValue::Null => out.push_str("null"),
        JsValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        JsValue::Number(n) if n.is_finite() => out.push_str(ryu_js::Buffer::new().format(*n)),
        // JSON.stringify writes null for NaN and ±Infinity; that would silently change data.
        JsValue::Number(n) => {
            return Err(format!(
                "{} has no JSON form",
                ryu_js::Buffer::new().format(*n)
            ))
        }
        JsValue::BigInt(s) => out.push_str(s),
        JsValue::Str(s) | JsValue::Text(s) => push_json_string(out, s),
        JsValue::Date(ms) => {
            let t = ms_to_iso(*ms).ok_or("an invalid Date has no JSON form")?;
            push_json_string(out, &t);
        }
        JsValue::Bytes(_) => {
            return Err("a Buffer has no JSON form; encode it (e.g. base64) first".into())
        }
        JsValue::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                to_json(item, out)?;
            }
            out.push(']');
        }
        JsValue::Object { json: Some(j), .. } => out.push_str(j),
        JsValue::Object { json: None, .. } => {
            return Err("JSON.stringify failed on this object (a bigint or a cycle inside?)".into())
        }
    }
    Ok(())
}

/// `Date.prototype.toISOString` for the years it supports.
fn ms_to_iso(ms: f64) -> Option<String> {
    if !ms.is_finite() {
        return None;
    }
    // Reuse the timestamp text and reshape "YYYY-MM-DD HH:MM:SS[.fff]+00" into ISO form.
    let t = ms_to_timestamp_text(ms)?;
    if t.ends_with(" BC") {
        return None;
    }
    let body = t.strip_suffix("+00")?;
    let (date, time) = body.split_once(' ')?;
    let (hms, frac) = match time.split_once('.') {
        Some((a, b)) => (a, b),
        None => (time, ""),
    };
    Some(format!("{date}T{hms}.{:0<3}Z", frac))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders() {
        let v = JsValue::Array(vec![
            JsValue::Number(1.5),
            JsValue::Str("a\"b\n"),
            JsValue::Null,
            JsValue::Date(0.0),
            JsValue::Object {
                json: Some("{\"x\":1}"),
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
}
