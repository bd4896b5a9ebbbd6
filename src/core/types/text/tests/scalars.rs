//! Scalars: booleans, numbers, bytea, json, uuid, dates, times, timestamps, intervals.
use super::*;

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
