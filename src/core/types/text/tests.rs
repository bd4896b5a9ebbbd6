//! `decode_text` against `decode`: the same bytes for the text and the binary form of each value.
use super::super::datetime::{days_from_civil, PG_EPOCH_DAYS, US_PER_DAY};
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
