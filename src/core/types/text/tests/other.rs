//! Geometry, network and bit types, text forms passed through, malformed input.
use super::*;

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
