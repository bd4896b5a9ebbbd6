//! Shared by the targets: the PostgreSQL types a fuzz input can pick, by OID.
#![allow(dead_code)]

use std::sync::OnceLock;

use ferropg::core::types::{DateMode, Int8Mode, NumericMode, TimestampMode, TypeOptions};
use tokio_postgres::types::{Field, Kind, Type};

/// OIDs outside tokio-postgres's built-in table, for the user-defined types below.
const CUSTOM_OID: u32 = 900_000;

fn custom(name: &str, oid_offset: u32, kind: Kind) -> Type {
    Type::new(name.into(), CUSTOM_OID + oid_offset, kind, "public".into())
}

/// Types a server could describe that tokio-postgres does not know by OID: an enum, domains,
/// composites (nested too), arrays and a range of those, and extension types that the
/// decoder recognises by name.
fn user_defined() -> Vec<Type> {
    let mood = custom(
        "mood",
        0,
        Kind::Enum(vec!["sad".into(), "ok".into(), "happy".into()]),
    );
    let posint = custom("posint", 1, Kind::Domain(Type::INT4));
    let money_dom = custom("price", 2, Kind::Domain(Type::NUMERIC));
    let pair = custom(
        "pair",
        3,
        Kind::Composite(vec![
            Field::new("a".into(), Type::INT4),
            Field::new("b".into(), Type::TEXT),
        ]),
    );
    let nested = custom(
        "nested",
        4,
        Kind::Composite(vec![
            Field::new("p".into(), pair.clone()),
            Field::new("at".into(), Type::TIMESTAMPTZ),
            Field::new("xs".into(), Type::INT4_ARRAY),
            Field::new("r".into(), Type::INT4_RANGE),
            Field::new("n".into(), money_dom.clone()),
            Field::new("m".into(), mood.clone()),
        ]),
    );
    let pair_array = custom("_pair", 5, Kind::Array(pair.clone()));
    let posint_array = custom("_posint", 6, Kind::Array(posint.clone()));
    let mood_array = custom("_mood", 7, Kind::Array(mood.clone()));
    let price_range = custom("pricerange", 8, Kind::Range(money_dom.clone()));
    let dom_of_array = custom("int4s", 9, Kind::Domain(Type::INT4_ARRAY));
    vec![
        mood,
        posint,
        money_dom,
        pair,
        nested,
        pair_array,
        posint_array,
        mood_array,
        price_range,
        dom_of_array,
        custom("citext", 10, Kind::Simple),
        custom("hstore", 11, Kind::Simple),
        custom("ltree", 12, Kind::Simple),
        custom("lquery", 13, Kind::Simple),
        custom("ltxtquery", 14, Kind::Simple),
        custom("vector", 15, Kind::Simple),
    ]
}

/// Every type tokio-postgres knows by OID, then the user-defined ones above.
pub fn all_types() -> &'static [Type] {
    static TYPES: OnceLock<Vec<Type>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let mut v: Vec<Type> = (0..20_000).filter_map(Type::from_oid).collect();
        v.extend(user_defined());
        v
    })
}

/// The type with OID `oid` (built-in, or one of the user-defined ones at 900000 + n), else
/// the one at `oid` modulo the table's length: every input picks some type, and seeds name
/// real OIDs.
pub fn by_oid(oid: u32) -> &'static Type {
    pick(all_types(), oid)
}

/// Like [`by_oid`], among the column types copyFrom accepts (`binary::supported`).
pub fn copy_by_oid(oid: u32) -> &'static Type {
    static TYPES: OnceLock<Vec<Type>> = OnceLock::new();
    let table = TYPES.get_or_init(|| {
        all_types()
            .iter()
            .filter(|t| ferropg::core::types::binary::supported(t))
            .cloned()
            .collect()
    });
    pick(table, oid)
}

fn pick(table: &[Type], oid: u32) -> &Type {
    table
        .iter()
        .find(|t| t.oid() == oid)
        .unwrap_or(&table[oid as usize % table.len()])
}

/// The type options an input's flags byte picks: bits 0-1 int8 mode, 2 numeric as Number, 3
/// date as Date, 4 timestamp as string.
pub fn type_options(flags: u8) -> TypeOptions {
    TypeOptions {
        int8: match flags & 3 {
            1 => Int8Mode::Number,
            2 => Int8Mode::String,
            _ => Int8Mode::BigInt,
        },
        numeric: if flags & 4 != 0 {
            NumericMode::Number
        } else {
            NumericMode::String
        },
        date: if flags & 8 != 0 {
            DateMode::Date
        } else {
            DateMode::String
        },
        timestamp: if flags & 16 != 0 {
            TimestampMode::String
        } else {
            TimestampMode::Date
        },
        ..TypeOptions::default()
    }
}
