//! Arrays, domains, ranges, composites and multiranges.
use super::*;

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
