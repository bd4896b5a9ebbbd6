//! Built-in types without a JS counterpart (money, tsvector, tsquery, pg_lsn, tid, xid8,
//! jsonpath, snapshots) and well-known extension types (hstore, ltree, lquery, ltxtquery),
//! rendered as the text the server prints. Results arrive in binary, so each needs a decoder;
//! anything not handled here or in `geometry` falls back to UTF-8 text or a Buffer.

use std::fmt::Write;

use fallible_iterator::FallibleIterator;
use postgres_protocol::types as pp;

use super::encode::push_quoted;

/// A cursor over big-endian fields; every read is bounds-checked.
struct Cur<'a>(&'a [u8]);

impl<'a> Cur<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Some(a)
    }
    fn u8(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }
    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([b[0], b[1]]))
    }
    fn i16(&mut self) -> Option<i16> {
        self.u16().map(|v| v as i16)
    }
    fn i32(&mut self) -> Option<i32> {
        let b = self.take(4)?;
        Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Option<u64> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Some(u64::from_be_bytes(a))
    }
    /// A NUL-terminated string.
    fn cstr(&mut self) -> Option<&'a str> {
        let end = self.0.iter().position(|b| *b == 0)?;
        let s = std::str::from_utf8(&self.0[..end]).ok()?;
        self.0 = &self.0[end + 1..];
        Some(s)
    }
    fn done(&self) -> bool {
        self.0.is_empty()
    }
}

/// money as printed with `lc_monetary` C or en_US: `$1,234.56`, `-$0.05`.
fn money(raw: &[u8]) -> Option<String> {
    let v = Cur(raw).u64()? as i64;
    let abs = v.unsigned_abs();
    let units = (abs / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in units.chars().enumerate() {
        if i > 0 && (units.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    Some(format!(
        "{}${grouped}.{:02}",
        if v < 0 { "-" } else { "" },
        abs % 100
    ))
}

fn quote_lexeme(out: &mut String, s: &str) {
    out.push('\'');
    for c in s.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
}

fn tsvector(raw: &[u8]) -> Option<String> {
    let mut c = Cur(raw);
    let n = c.i32()?;
    let mut out = String::new();
    for i in 0..n {
        if i > 0 {
            out.push(' ');
        }
        quote_lexeme(&mut out, c.cstr()?);
        let npos = c.u16()?;
        for p in 0..npos {
            let v = c.u16()?;
            out.push(if p == 0 { ':' } else { ',' });
            let _ = write!(out, "{}", v & 0x3fff);
            match v >> 14 {
                3 => out.push('A'),
                2 => out.push('B'),
                1 => out.push('C'),
                _ => {}
            }
        }
    }
    c.done().then_some(out)
}

enum TsItem<'a> {
    Operand {
        weight: u8,
        prefix: bool,
        lexeme: &'a str,
    },
    Not,
    Binary {
        op: u8,
        distance: i16,
    },
}

/// Operator priorities of the server's tsquery output (higher binds tighter).
fn priority(item: &TsItem<'_>) -> u8 {
    match item {
        TsItem::Operand { .. } => 5,
        TsItem::Not => 4,
        TsItem::Binary { op: 4, .. } => 3,
        TsItem::Binary { op: 2, .. } => 2,
        TsItem::Binary { .. } => 1,
    }
}

fn tsquery(raw: &[u8]) -> Option<String> {
    let mut c = Cur(raw);
    let n = c.i32()?;
    let mut items = Vec::new();
    for _ in 0..n {
        items.push(match c.u8()? {
            1 => TsItem::Operand {
                weight: c.u8()?,
                prefix: c.u8()? != 0,
                lexeme: c.cstr()?,
            },
            2 => match c.u8()? {
                1 => TsItem::Not,
                op @ (2 | 3) => TsItem::Binary { op, distance: 0 },
                4 => TsItem::Binary {
                    op: 4,
                    distance: c.i16()?,
                },
                _ => return None,
            },
            _ => return None,
        });
    }
    if !c.done() {
        return None;
    }
    if items.is_empty() {
        return Some(String::new());
    }
    // Items are in prefix order with the right operand first; rebuild infix text.
    fn render(items: &[TsItem<'_>], i: &mut usize, out: &mut String) -> Option<u8> {
        let item = items.get(*i)?;
        *i += 1;
        let pri = priority(item);
        match item {
            TsItem::Operand {
                weight,
                prefix,
                lexeme,
            } => {
                quote_lexeme(out, lexeme);
                if *weight != 0 || *prefix {
                    out.push(':');
                    if *prefix {
                        out.push('*');
                    }
                    for (bit, ch) in [(8u8, 'A'), (4, 'B'), (2, 'C'), (1, 'D')] {
                        if weight & bit != 0 {
                            out.push(ch);
                        }
                    }
                }
            }
            TsItem::Not => {
                out.push('!');
                let mut inner = String::new();
                let p = render(items, i, &mut inner)?;
                wrap(out, &inner, p < pri);
            }
            TsItem::Binary { op, distance } => {
                let mut right = String::new();
                let pr = render(items, i, &mut right)?;
                let mut left = String::new();
                let pl = render(items, i, &mut left)?;
                wrap(out, &left, pl < pri);
                match op {
                    2 => out.push_str(" & "),
                    3 => out.push_str(" | "),
                    _ if *distance == 1 => out.push_str(" <-> "),
                    _ => {
                        let _ = write!(out, " <{distance}> ");
                    }
                }
                wrap(out, &right, pr < pri || (pr == pri && *op == 4));
            }
        }
        Some(pri)
    }
    fn wrap(out: &mut String, s: &str, parens: bool) {
        if parens {
            out.push_str("( ");
            out.push_str(s);
            out.push_str(" )");
        } else {
            out.push_str(s);
        }
    }
    let mut out = String::new();
    let mut i = 0;
    render(&items, &mut i, &mut out)?;
    (i == items.len()).then_some(out)
}

fn snapshot(raw: &[u8]) -> Option<String> {
    let mut c = Cur(raw);
    let n = c.i32()?;
    let xmin = c.u64()?;
    let xmax = c.u64()?;
    let mut xips = Vec::new();
    for _ in 0..n {
        xips.push(c.u64()?.to_string());
    }
    c.done()
        .then(|| format!("{xmin}:{xmax}:{}", xips.join(",")))
}

fn hstore(raw: &[u8]) -> Option<String> {
    let mut out = String::new();
    let mut entries = pp::hstore_from_sql(raw).ok()?;
    let mut first = true;
    while let Some((k, v)) = entries.next().ok()? {
        if !first {
            out.push_str(", ");
        }
        first = false;
        push_quoted(k, &mut out);
        out.push_str("=>");
        match v {
            Some(v) => push_quoted(v, &mut out),
            None => out.push_str("NULL"),
        }
    }
    Some(out)
}

/// Formats whose binary form is a version byte (1) followed by the text.
fn versioned_text(raw: &[u8]) -> Option<String> {
    match raw.split_first() {
        Some((1, rest)) => std::str::from_utf8(rest).ok().map(str::to_string),
        _ => None,
    }
}

/// The server's text for a value of a type identified by OID (built-ins) or by name
/// (extension types, whose OIDs differ per database); None if the type is not handled here.
pub fn other_text(oid: u32, name: &str, raw: &[u8]) -> Option<String> {
    match oid {
        790 => money(raw),
        3614 => tsvector(raw),
        3615 => tsquery(raw),
        3220 => {
            let v = Cur(raw).u64()?;
            Some(format!("{:X}/{:X}", v >> 32, v & 0xffff_ffff))
        }
        27 => {
            let mut c = Cur(raw);
            let (block, offset) = (c.i32()? as u32, c.u16()?);
            Some(format!("({block},{offset})"))
        }
        5069 => Cur(raw).u64().map(|v| v.to_string()),
        4072 => versioned_text(raw),
        2970 | 5038 => snapshot(raw),
        _ => match name {
            "hstore" => hstore(raw),
            "ltree" | "lquery" | "ltxtquery" => versioned_text(raw),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_and_lsn() {
        assert_eq!(
            other_text(790, "money", &123456i64.to_be_bytes()).unwrap(),
            "$1,234.56"
        );
        assert_eq!(
            other_text(790, "money", &(-5i64).to_be_bytes()).unwrap(),
            "-$0.05"
        );
        let lsn: u64 = (0x16 << 32) | 0xB374D848;
        assert_eq!(
            other_text(3220, "pg_lsn", &lsn.to_be_bytes()).unwrap(),
            "16/B374D848"
        );
        assert!(other_text(790, "money", &[1, 2]).is_none());
    }

    #[test]
    fn tsvector_text() {
        let mut raw = 2i32.to_be_bytes().to_vec();
        raw.extend_from_slice(b"a'b\0");
        raw.extend_from_slice(&2u16.to_be_bytes());
        raw.extend_from_slice(&(1u16 | (3 << 14)).to_be_bytes());
        raw.extend_from_slice(&2u16.to_be_bytes());
        raw.extend_from_slice(b"cat\0");
        raw.extend_from_slice(&0u16.to_be_bytes());
        assert_eq!(
            other_text(3614, "tsvector", &raw).unwrap(),
            "'a''b':1A,2 'cat'"
        );
    }
}
