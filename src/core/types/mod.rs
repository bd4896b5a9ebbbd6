//! PostgreSQL <-> JS value conversion, one file per type family.
//!
//! `decode` turns the server's binary values into the result wire format; `encode` turns
//! tagged JS values into parameters of the type the server described for each `$n`.

pub mod binary;
pub mod datetime;
pub mod decode;
pub mod encode;
pub mod geometry;
pub mod json;
pub mod numeric;
pub mod other;
pub mod parse_datetime;
pub mod text;
mod text_container;
mod text_scalar;
pub mod value;

/// How int8 columns reach JS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Int8Mode {
    #[default]
    BigInt,
    Number,
    String,
}

/// How numeric columns reach JS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NumericMode {
    #[default]
    String,
    Number,
}

/// How date columns reach JS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DateMode {
    #[default]
    String,
    Date,
}

/// How timestamp and timestamptz columns reach JS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimestampMode {
    #[default]
    Date,
    String,
}

/// In which form result values reach JS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultsMode {
    /// Requested in binary format and converted to JS values (`decode`).
    #[default]
    Values,
    /// Requested in text format and handed over as the server printed them, every value a
    /// string (or null): for layers that parse values themselves, such as `ferropg/pg` with
    /// node-postgres's type parsers, which expect exactly the server's text.
    Text,
}

/// The `types` overrides of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TypeOptions {
    pub int8: Int8Mode,
    pub numeric: NumericMode,
    pub date: DateMode,
    pub timestamp: TimestampMode,
    pub results: ResultsMode,
}

impl TypeOptions {
    /// Sets field 0..=4 (int8, numeric, date, timestamp, results); on a bad value returns the
    /// allowed ones.
    pub fn set(&mut self, field: u8, value: &str) -> Result<(), &'static str> {
        match field {
            0 => {
                self.int8 = match value {
                    "bigint" => Int8Mode::BigInt,
                    "number" => Int8Mode::Number,
                    "string" => Int8Mode::String,
                    _ => return Err("'bigint', 'number', 'string'"),
                }
            }
            1 => {
                self.numeric = match value {
                    "string" => NumericMode::String,
                    "number" => NumericMode::Number,
                    _ => return Err("'string', 'number'"),
                }
            }
            2 => {
                self.date = match value {
                    "string" => DateMode::String,
                    "date" => DateMode::Date,
                    _ => return Err("'string', 'date'"),
                }
            }
            3 => {
                self.timestamp = match value {
                    "date" => TimestampMode::Date,
                    "string" => TimestampMode::String,
                    _ => return Err("'date', 'string'"),
                }
            }
            _ => {
                self.results = match value {
                    "values" => ResultsMode::Values,
                    "text" => ResultsMode::Text,
                    _ => return Err("'values', 'text'"),
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_mode_is_set_by_name() {
        let mut t = TypeOptions::default();
        assert_eq!(t.results, ResultsMode::Values);
        t.set(4, "text").unwrap();
        assert_eq!(t.results, ResultsMode::Text);
        assert_eq!(t.set(4, "binary").unwrap_err(), "'values', 'text'");
    }
}
