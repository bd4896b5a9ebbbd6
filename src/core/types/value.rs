//! Parameter values as JS sent them (see `wire::inp`), borrowed from the parameter buffer.

use crate::core::wire::{inp, Reader};

/// One JS value, tagged by its JS type.
#[derive(Debug, Clone, PartialEq)]
pub enum JsValue<'a> {
    Null,
    Bool(bool),
    Number(f64),
    /// A bigint as decimal text (any size).
    BigInt(&'a str),
    Str(&'a str),
    /// A parameter's text form, sent as it is for whatever type the server described (the
    /// server parses it, as node-postgres's parameters are): `ferropg/pg`.
    Text(&'a str),
    Bytes(&'a [u8]),
    /// A Date's time value in ms (NaN for an invalid Date).
    Date(f64),
    Array(Vec<JsValue<'a>>),
    /// A plain object: its `JSON.stringify` text (or why it has none) and its own fields.
    Object {
        json: Result<&'a str, NoJson<'a>>,
        fields: Vec<(&'a str, JsValue<'a>)>,
    },
}

/// Why an object has no JSON text, as lib/params.js found it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NoJson<'a> {
    /// The number `JSON.stringify` would have written as null (`NaN`, `Infinity`,
    /// `-Infinity`), or empty when `JSON.stringify` threw (a bigint, a cycle).
    pub value: &'a str,
    /// Where that number is inside the object (`.a[2]`), empty for the object itself.
    pub path: &'a str,
}

impl JsValue<'_> {
    /// How the value is named in error messages.
    pub fn describe(&self) -> String {
        match self {
            JsValue::Null => "null".into(),
            JsValue::Bool(b) => format!("boolean {b}"),
            JsValue::Number(n) => format!("number {}", ryu_js::Buffer::new().format(*n)),
            JsValue::BigInt(s) => format!("bigint {s}n"),
            JsValue::Str(s) | JsValue::Text(s) => {
                let mut t: String = s.chars().take(40).collect();
                if t.len() < s.len() {
                    t.push('…');
                }
                format!("string '{t}'")
            }
            JsValue::Bytes(b) => format!("Buffer of {} bytes", b.len()),
            JsValue::Date(ms) if ms.is_nan() => "an invalid Date".into(),
            JsValue::Date(_) => "Date".into(),
            JsValue::Array(a) => format!("array of {} elements", a.len()),
            JsValue::Object { .. } => "object".into(),
        }
    }

    pub fn field(&self, name: &str) -> Option<&JsValue<'_>> {
        match self {
            JsValue::Object { fields, .. } => {
                fields.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
            }
            _ => None,
        }
    }
}

/// Maximum nesting of arrays/objects accepted from JS (guards the recursion).
const MAX_DEPTH: usize = 64;

/// Reads one value.
pub fn read_value<'a>(r: &mut Reader<'a>) -> Result<JsValue<'a>, String> {
    read_at(r, 0)
}

fn read_at<'a>(r: &mut Reader<'a>, depth: usize) -> Result<JsValue<'a>, String> {
    if depth > MAX_DEPTH {
        return Err(format!("values nested deeper than {MAX_DEPTH} levels"));
    }
    Ok(match r.u8()? {
        inp::NULL => JsValue::Null,
        inp::FALSE => JsValue::Bool(false),
        inp::TRUE => JsValue::Bool(true),
        inp::NUMBER => JsValue::Number(r.f64()?),
        inp::INT => JsValue::Number(f64::from(r.i32()?)),
        inp::BIGINT => JsValue::BigInt(r.str()?),
        inp::STRING => JsValue::Str(r.str()?),
        inp::TEXT => JsValue::Text(r.str()?),
        inp::BYTES => JsValue::Bytes(r.bytes()?),
        inp::DATE => JsValue::Date(r.f64()?),
        inp::ARRAY => {
            let n = r.u32()? as usize;
            let mut v = Vec::with_capacity(n.min(4096));
            for _ in 0..n {
                v.push(read_at(r, depth + 1)?);
            }
            JsValue::Array(v)
        }
        inp::OBJECT => {
            let json_len = r.u32()?;
            let json = if json_len == u32::MAX {
                Err(NoJson {
                    value: r.str()?,
                    path: r.str()?,
                })
            } else {
                let b = r.raw(json_len as usize)?;
                Ok(std::str::from_utf8(b).map_err(|_| "malformed parameter buffer (UTF-8)")?)
            };
            let n = r.u32()? as usize;
            let mut fields = Vec::with_capacity(n.min(64));
            for _ in 0..n {
                let k = r.str()?;
                fields.push((k, read_at(r, depth + 1)?));
            }
            JsValue::Object { json, fields }
        }
        t => return Err(format!("malformed parameter buffer (tag {t})")),
    })
}

/// Reads a parameter list (u32 count, then the values); an empty buffer is an empty list.
pub fn read_params<'a>(buf: &'a [u8]) -> Result<Vec<JsValue<'a>>, String> {
    let mut r = Reader::new(buf);
    if r.at_end() {
        return Ok(Vec::new());
    }
    read_list(&mut r)
}

/// Reads one parameter list at the reader's position.
pub fn read_list<'a>(r: &mut Reader<'a>) -> Result<Vec<JsValue<'a>>, String> {
    let n = r.u32()? as usize;
    let mut out = Vec::with_capacity(n.min(65_535));
    for _ in 0..n {
        out.push(read_value(r)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_int32_reads_as_the_same_number_as_its_double() {
        for v in [i32::MIN, -1, 0, 1, 42, i32::MAX] {
            let mut int = vec![inp::INT];
            int.extend_from_slice(&v.to_le_bytes());
            let mut double = vec![inp::NUMBER];
            double.extend_from_slice(&f64::from(v).to_le_bytes());
            let a = read_value(&mut Reader::new(&int));
            let b = read_value(&mut Reader::new(&double));
            match (a, b) {
                (Ok(JsValue::Number(a)), Ok(JsValue::Number(b))) => {
                    assert_eq!(a.to_bits(), b.to_bits())
                }
                _ => panic!("{v}: not read as numbers"),
            }
        }
        // Cut short: an error, not a panic.
        assert!(read_value(&mut Reader::new(&[inp::INT, 1, 2])).is_err());
    }
}
