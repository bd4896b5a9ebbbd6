//! Tests of `encode`: parameters as the server will read them.

use super::*;

fn t(v: JsValue<'_>, ty: &Type) -> Result<String, String> {
    match encode(&v, ty)? {
        Encoded::Text(s) => Ok(s.into_owned()),
        Encoded::Int(n) => {
            let mut b = bytes::BytesMut::new();
            push_int(n, &mut b);
            Ok(String::from_utf8(b.to_vec()).unwrap_or_default())
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn integers_are_written_in_decimal_at_their_limits() {
    for (n, ty) in [
        (JsValue::Number(-32768.0), Type::INT2),
        (JsValue::Number(0.0), Type::INT4),
        (JsValue::Number(-7.0), Type::INT4),
        (JsValue::Number(2147483647.0), Type::INT4),
        (JsValue::BigInt("-9223372036854775808"), Type::INT8),
        (JsValue::BigInt("9223372036854775807"), Type::INT8),
        (JsValue::Str(" 42 "), Type::INT8),
    ] {
        let want = match &n {
            JsValue::Number(x) => (*x as i64).to_string(),
            JsValue::BigInt(s) => s.to_string(),
            _ => "42".to_string(),
        };
        assert_eq!(t(n, &ty).unwrap(), want);
    }
    assert!(t(JsValue::Number(32768.0), &Type::INT2).is_err());
    assert!(t(JsValue::Number(1.5), &Type::INT4).is_err());
}

#[test]
fn text_parameters_go_as_they_are_for_any_type() {
    // ferropg/pg's parameters: the server parses them (a JSON text stays JSON, not a
    // JSON string; 'true' is a boolean; bytea's escape form is text too).
    for (text, ty) in [
        ("{\"a\":1}", Type::JSONB),
        ("true", Type::BOOL),
        ("\\x00ff", Type::BYTEA),
        ("1.5", Type::INT4),
    ] {
        assert_eq!(t(JsValue::Text(text), &ty).unwrap(), text);
    }
    assert_eq!(
        t(JsValue::Str("{\"a\":1}"), &Type::JSONB).unwrap(),
        "\"{\\\"a\\\":1}\""
    );
}

#[test]
fn integers_are_exact() {
    assert_eq!(t(JsValue::Number(42.0), &Type::INT4).unwrap(), "42");
    assert!(t(JsValue::Number(1.5), &Type::INT4)
        .unwrap_err()
        .contains("int4"));
    assert!(t(JsValue::Number(2f64.powi(31)), &Type::INT4).is_err());
    assert_eq!(
        t(JsValue::BigInt("-9223372036854775808"), &Type::INT8).unwrap(),
        "-9223372036854775808"
    );
    assert!(t(JsValue::BigInt("9223372036854775808"), &Type::INT8).is_err());
    assert!(t(JsValue::Str("12x"), &Type::INT2).is_err());
    assert!(t(JsValue::Bool(true), &Type::INT4)
        .unwrap_err()
        .contains("boolean"));
}

#[test]
fn floats_numeric_uuid() {
    assert_eq!(t(JsValue::Number(0.1), &Type::FLOAT8).unwrap(), "0.1");
    assert_eq!(
        t(JsValue::Number(f64::NEG_INFINITY), &Type::FLOAT8).unwrap(),
        "-Infinity"
    );
    assert!(t(JsValue::Number(1e300), &Type::FLOAT4).is_err());
    assert_eq!(t(JsValue::Str("-1.50"), &Type::NUMERIC).unwrap(), "-1.50");
    assert!(t(JsValue::Str("abc"), &Type::NUMERIC).is_err());
    assert_eq!(
        t(
            JsValue::Str("{A0EEBC99-9C0B4EF8-BB6D-6BB9BD380A11}"),
            &Type::UUID
        )
        .unwrap(),
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"
    );
    assert!(t(JsValue::Str("abc"), &Type::UUID)
        .unwrap_err()
        .contains("string 'abc'"));
}

#[test]
fn arrays_ranges_intervals() {
    let arr = JsValue::Array(vec![
        JsValue::Array(vec![JsValue::Str("a\"b"), JsValue::Null]),
        JsValue::Array(vec![JsValue::Str("c\\"), JsValue::Str("d")]),
    ]);
    assert_eq!(
        t(arr, &Type::TEXT_ARRAY).unwrap(),
        r#"{{"a\"b",NULL},{"c\\","d"}}"#
    );
    let bad = JsValue::Array(vec![JsValue::Number(1.0), JsValue::Number(1.5)]);
    assert!(t(bad, &Type::INT4_ARRAY).unwrap_err().contains("element 1"));
    let r = JsValue::Object {
        json: Err(Default::default()),
        fields: vec![
            ("lower", JsValue::Number(1.0)),
            ("upper", JsValue::Number(5.0)),
            ("upperInc", JsValue::Bool(true)),
        ],
    };
    assert_eq!(t(r, &Type::INT4_RANGE).unwrap(), r#"["1","5"]"#);
    let i = JsValue::Object {
        json: Err(Default::default()),
        fields: vec![
            ("months", JsValue::Number(14.0)),
            ("microseconds", JsValue::BigInt("-1")),
        ],
    };
    assert_eq!(
        t(i, &Type::INTERVAL).unwrap(),
        "14 months 0 days -1 microseconds"
    );
    let b = encode(&JsValue::Bytes(&[1, 2]), &Type::BYTEA).unwrap();
    assert_eq!(b, Encoded::Binary(&[1, 2]));
}
