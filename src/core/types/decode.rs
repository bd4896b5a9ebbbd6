//! Results: the server's binary values written in the result wire format (`wire::out`).
//!
//! One pass per value, straight from the DataRow bytes into the output buffer: no
//! intermediate Rust values, no JS calls. Types without a dedicated decoder (extension types)
//! arrive as a string when their binary form is UTF-8 text (citext, ltree's text, ...), else
//! as a Buffer of the raw binary value.

use postgres_protocol::types as pp;
use tokio_postgres::types::{Kind, Type};

use super::datetime::{
    date_to_ms, date_to_string, timestamp_to_ms, timestamp_to_string, timetz_to_string,
};
use super::numeric::{numeric_to_string, write_numeric};
use super::{DateMode, Int8Mode, NumericMode, TimestampMode, TypeOptions};
use crate::core::wire::{out, Writer};

type R = Result<(), String>;

fn err<E: std::fmt::Display>(ty: &Type) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("could not decode a {} value: {e}", ty.name())
}

fn fixed<const N: usize>(raw: &[u8], ty: &Type) -> Result<[u8; N], String> {
    raw.try_into().map_err(|_| {
        format!(
            "could not decode a {} value: expected {N} bytes, got {}",
            ty.name(),
            raw.len()
        )
    })
}

/// Writes one value (`None` = SQL NULL).
pub fn decode(ty: &Type, raw: Option<&[u8]>, opts: &TypeOptions, w: &mut Writer) -> R {
    let Some(raw) = raw else {
        w.u8(out::NULL);
        return Ok(());
    };
    match *ty {
        Type::BOOL => w.u8(if pp::bool_from_sql(raw).map_err(err(ty))? {
            out::TRUE
        } else {
            out::FALSE
        }),
        Type::INT2 => {
            w.u8(out::I32);
            w.i32(i16::from_be_bytes(fixed(raw, ty)?) as i32);
        }
        Type::INT4 => {
            w.u8(out::I32);
            w.i32(i32::from_be_bytes(fixed(raw, ty)?));
        }
        Type::OID | Type::XID | Type::CID | Type::REGPROC | Type::REGCLASS | Type::REGTYPE => {
            w.u8(out::F64);
            w.f64(u32::from_be_bytes(fixed(raw, ty)?) as f64);
        }
        Type::INT8 => {
            let v = i64::from_be_bytes(fixed(raw, ty)?);
            match opts.int8 {
                Int8Mode::BigInt => {
                    w.u8(out::BIGINT);
                    w.i64(v);
                }
                Int8Mode::Number => {
                    if v.unsigned_abs() > (1u64 << 53) - 1 {
                        return Err(format!(
                            "int8 value {v} does not fit a JS number exactly (types.int8 is 'number'; use 'bigint' or 'string')"
                        ));
                    }
                    w.u8(out::F64);
                    w.f64(v as f64);
                }
                Int8Mode::String => {
                    w.u8(out::STR);
                    w.str(&v.to_string());
                }
            }
        }
        Type::FLOAT4 => {
            w.u8(out::F64);
            w.f64(f32::from_be_bytes(fixed(raw, ty)?) as f64);
        }
        Type::FLOAT8 => {
            w.u8(out::F64);
            w.f64(f64::from_be_bytes(fixed(raw, ty)?));
        }
        Type::NUMERIC => match opts.numeric {
            NumericMode::String => {
                w.u8(out::STR);
                w.str_with(|b| write_numeric(raw, b))?;
            }
            NumericMode::Number => {
                let s = numeric_to_string(raw)?;
                w.u8(out::F64);
                w.f64(match s.as_str() {
                    "NaN" => f64::NAN,
                    "Infinity" => f64::INFINITY,
                    "-Infinity" => f64::NEG_INFINITY,
                    d => d.parse::<f64>().map_err(err(ty))?,
                });
            }
        },
        Type::BYTEA => {
            w.u8(out::BYTES);
            w.bytes(raw);
        }
        Type::JSON => {
            w.u8(out::JSON);
            w.bytes(raw);
        }
        Type::JSONB => match raw.split_first() {
            Some((1, rest)) => {
                w.u8(out::JSON);
                w.bytes(rest);
            }
            _ => return Err("could not decode a jsonb value: unknown jsonb version".into()),
        },
        Type::UUID => {
            let b: [u8; 16] = fixed(raw, ty)?;
            w.u8(out::STR);
            w.u32(36);
            const HEX: &[u8; 16] = b"0123456789abcdef";
            for (i, x) in b.iter().enumerate() {
                if matches!(i, 4 | 6 | 8 | 10) {
                    w.u8(b'-');
                }
                w.u8(HEX[(x >> 4) as usize]);
                w.u8(HEX[(x & 15) as usize]);
            }
        }
        Type::DATE => {
            let d = i32::from_be_bytes(fixed(raw, ty)?);
            match opts.date {
                DateMode::String => {
                    w.u8(out::STR);
                    w.str(&date_to_string(d));
                }
                DateMode::Date => date_value(date_to_ms(d), w),
            }
        }
        Type::TIMESTAMP | Type::TIMESTAMPTZ => {
            let us = i64::from_be_bytes(fixed(raw, ty)?);
            match opts.timestamp {
                TimestampMode::Date => date_value(timestamp_to_ms(us), w),
                TimestampMode::String => {
                    w.u8(out::STR);
                    w.str(&timestamp_to_string(us, *ty == Type::TIMESTAMPTZ));
                }
            }
        }
        Type::TIME => {
            let mut s = String::with_capacity(15);
            super::datetime::push_time(&mut s, i64::from_be_bytes(fixed(raw, ty)?));
            w.u8(out::STR);
            w.str(&s);
        }
        Type::TIMETZ => {
            let b: [u8; 12] = fixed(raw, ty)?;
            let us = i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            let off = i32::from_be_bytes([b[8], b[9], b[10], b[11]]);
            w.u8(out::STR);
            w.str(&timetz_to_string(us, off));
        }
        Type::INTERVAL => {
            let b: [u8; 16] = fixed(raw, ty)?;
            let us = i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
            w.u8(out::INTERVAL);
            w.i32(i32::from_be_bytes([b[12], b[13], b[14], b[15]]));
            w.i32(i32::from_be_bytes([b[8], b[9], b[10], b[11]]));
            w.i64(us);
        }
        Type::CHAR => {
            w.u8(out::STR);
            w.str(&String::from_utf8_lossy(raw));
        }
        Type::INET | Type::CIDR => {
            let inet = pp::inet_from_sql(raw).map_err(err(ty))?;
            let full = if inet.addr().is_ipv4() { 32 } else { 128 };
            let s = if *ty == Type::INET && inet.netmask() == full {
                inet.addr().to_string()
            } else {
                format!("{}/{}", inet.addr(), inet.netmask())
            };
            w.u8(out::STR);
            w.str(&s);
        }
        Type::MACADDR => {
            let m = pp::macaddr_from_sql(raw).map_err(err(ty))?;
            let s: Vec<String> = m.iter().map(|b| format!("{b:02x}")).collect();
            w.u8(out::STR);
            w.str(&s.join(":"));
        }
        Type::BIT | Type::VARBIT => {
            let v = pp::varbit_from_sql(raw).map_err(err(ty))?;
            let mut s = String::with_capacity(v.len());
            for i in 0..v.len() {
                let byte = v.bytes()[i / 8];
                s.push(if byte & (0x80 >> (i % 8)) != 0 {
                    '1'
                } else {
                    '0'
                });
            }
            w.u8(out::STR);
            w.str(&s);
        }
        _ => return decode_by_kind(ty, raw, opts, w),
    }
    Ok(())
}

fn date_value(ms: f64, w: &mut Writer) {
    if ms.is_infinite() {
        w.u8(out::F64);
    } else {
        w.u8(out::DATE);
    }
    w.f64(ms);
}

fn decode_by_kind(ty: &Type, raw: &[u8], opts: &TypeOptions, w: &mut Writer) -> R {
    match ty.kind() {
        Kind::Domain(base) => decode(base, Some(raw), opts, w),
        Kind::Array(elem) => {
            let arr = pp::array_from_sql(raw).map_err(err(ty))?;
            let dims: Vec<u32> = {
                use fallible_iterator::FallibleIterator;
                arr.dimensions()
                    .map(|d| Ok(d.len.max(0) as u32))
                    .collect()
                    .map_err(err(ty))?
            };
            w.u8(out::ARRAY);
            w.u8(dims.len() as u8);
            for d in &dims {
                w.u32(*d);
            }
            let mut values = arr.values();
            use fallible_iterator::FallibleIterator;
            while let Some(v) = values.next().map_err(err(ty))? {
                decode(elem, v, opts, w)?;
            }
            Ok(())
        }
        Kind::Range(elem) => {
            use pp::{Range, RangeBound};
            w.u8(out::RANGE);
            match pp::range_from_sql(raw).map_err(err(ty))? {
                Range::Empty => w.u8(out::RANGE_EMPTY),
                Range::Nonempty(lo, hi) => {
                    let mut flags = 0;
                    let lo_v = match lo {
                        RangeBound::Inclusive(v) => {
                            flags |= out::RANGE_LOWER_INC | out::RANGE_HAS_LOWER;
                            v
                        }
                        RangeBound::Exclusive(v) => {
                            flags |= out::RANGE_HAS_LOWER;
                            v
                        }
                        RangeBound::Unbounded => None,
                    };
                    let hi_v = match hi {
                        RangeBound::Inclusive(v) => {
                            flags |= out::RANGE_UPPER_INC | out::RANGE_HAS_UPPER;
                            v
                        }
                        RangeBound::Exclusive(v) => {
                            flags |= out::RANGE_HAS_UPPER;
                            v
                        }
                        RangeBound::Unbounded => None,
                    };
                    w.u8(flags);
                    if flags & out::RANGE_HAS_LOWER != 0 {
                        decode(elem, lo_v, opts, w)?;
                    }
                    if flags & out::RANGE_HAS_UPPER != 0 {
                        decode(elem, hi_v, opts, w)?;
                    }
                }
            }
            Ok(())
        }
        Kind::Composite(fields) => {
            // Binary record: i32 count, then per field: oid, i32 length (-1 = NULL), bytes.
            let bad = || format!("could not decode a {} value: malformed record", ty.name());
            let mut p = 4usize;
            let n = i32::from_be_bytes(
                raw.get(0..4)
                    .ok_or_else(bad)?
                    .try_into()
                    .map_err(|_| bad())?,
            );
            if n as usize != fields.len() {
                return Err(bad());
            }
            w.u8(out::RECORD);
            w.u32(fields.len() as u32);
            for f in fields {
                let len_b = raw.get(p + 4..p + 8).ok_or_else(bad)?;
                let len = i32::from_be_bytes(len_b.try_into().map_err(|_| bad())?);
                p += 8;
                let v = if len < 0 {
                    None
                } else {
                    let v = raw.get(p..p + len as usize).ok_or_else(bad)?;
                    p += len as usize;
                    Some(v)
                };
                w.str(f.name());
                decode(f.type_(), v, opts, w)?;
            }
            Ok(())
        }
        // Geometric and other built-in types, hstore/ltree; then enums, text-like types and
        // anything else: text when the bytes are UTF-8, else the raw binary value.
        _ => {
            let text = super::geometry::geometry_text(ty.oid(), raw)
                .or_else(|| super::other::other_text(ty.oid(), ty.name(), raw));
            if let Some(t) = text {
                w.u8(out::STR);
                w.str(&t);
                return Ok(());
            }
            write_text_or_bytes(raw, w);
            Ok(())
        }
    }
}

/// A value of a type without its own decoder: a string when it is UTF-8 (enums, citext and
/// most text-like extension types), else a Buffer of its bytes.
pub fn write_text_or_bytes(raw: &[u8], w: &mut Writer) {
    match std::str::from_utf8(raw) {
        Ok(s) => {
            w.u8(out::STR);
            w.str(s);
        }
        Err(_) => {
            w.u8(out::BYTES);
            w.bytes(raw);
        }
    }
}
