//! numeric: exact decimal text from the binary form (base-10000 digits), and validation of
//! decimal text given as a parameter.

const NAN: u16 = 0xC000;
const PINF: u16 = 0xD000;
const NINF: u16 = 0xF000;
const NEG: u16 = 0x4000;

fn be16(b: &[u8], i: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(i)?, *b.get(i + 1)?]))
}

/// The server's text for a binary numeric (`NaN`, `Infinity`, `-Infinity` included).
pub fn numeric_to_string(raw: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(raw.len() * 2 + 8);
    write_numeric(raw, &mut out)?;
    String::from_utf8(out).map_err(|_| "malformed numeric value".to_string())
}

/// Appends the server's text for a binary numeric to `out` (ASCII only). Writes straight into
/// the response buffer: a result of many numerics allocates nothing per value.
pub fn write_numeric(raw: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let bad = || "malformed numeric value".to_string();
    let ndigits = be16(raw, 0).ok_or_else(bad)? as usize;
    let weight = be16(raw, 2).ok_or_else(bad)? as i16 as i32;
    let sign = be16(raw, 4).ok_or_else(bad)?;
    let dscale = be16(raw, 6).ok_or_else(bad)? as usize;
    let special: &[u8] = match sign {
        NAN => b"NaN",
        PINF => b"Infinity",
        NINF => b"-Infinity",
        0 | NEG => b"",
        _ => return Err(bad()),
    };
    if !special.is_empty() {
        out.extend_from_slice(special);
        return Ok(());
    }
    if raw.len() != 8 + 2 * ndigits {
        return Err(bad());
    }
    let digit = |i: i32| -> u16 {
        if i >= 0 && (i as usize) < ndigits {
            be16(raw, 8 + 2 * i as usize).unwrap_or(0)
        } else {
            0
        }
    };
    // Four decimal digits of a base-10000 digit, most significant first.
    let four = |d: u16| -> [u8; 4] {
        [
            b'0' + (d / 1000 % 10) as u8,
            b'0' + (d / 100 % 10) as u8,
            b'0' + (d / 10 % 10) as u8,
            b'0' + (d % 10) as u8,
        ]
    };
    if sign == NEG {
        out.push(b'-');
    }
    if weight < 0 {
        out.push(b'0');
    } else {
        for i in 0..=weight {
            let d = four(digit(i));
            if i == 0 {
                // The leading group without its leading zeros (but at least one digit).
                let skip = d.iter().take(3).take_while(|&&c| c == b'0').count();
                out.extend_from_slice(&d[skip..]);
            } else {
                out.extend_from_slice(&d);
            }
        }
    }
    if dscale > 0 {
        out.push(b'.');
        let start = out.len();
        let mut i = weight + 1;
        while out.len() - start < dscale {
            out.extend_from_slice(&four(digit(i)));
            i += 1;
        }
        out.truncate(start + dscale);
    }
    Ok(())
}

/// True when `s` is decimal text the numeric input function accepts: optional sign, digits
/// with an optional point, optional exponent; or NaN / Infinity.
pub fn is_numeric_text(s: &str) -> bool {
    let t = s.trim();
    let body = t.strip_prefix(['+', '-']).unwrap_or(t);
    if body.eq_ignore_ascii_case("nan") {
        return body.len() == t.len();
    }
    if body.eq_ignore_ascii_case("infinity") || body.eq_ignore_ascii_case("inf") {
        return true;
    }
    let (mant, exp) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (int, frac) = match mant.split_once('.') {
        Some((a, b)) => (a, b),
        None => (mant, ""),
    };
    let digits = |x: &str| x.bytes().all(|c| c.is_ascii_digit() || c == b'_');
    if int.is_empty() && frac.is_empty() || !digits(int) || !digits(frac) {
        return false;
    }
    match exp {
        None => true,
        Some(e) => {
            let e = e.strip_prefix(['+', '-']).unwrap_or(e);
            !e.is_empty() && e.bytes().all(|c| c.is_ascii_digit())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(ndigits: &[u16], weight: i16, sign: u16, dscale: u16) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&(ndigits.len() as u16).to_be_bytes());
        v.extend_from_slice(&weight.to_be_bytes());
        v.extend_from_slice(&sign.to_be_bytes());
        v.extend_from_slice(&dscale.to_be_bytes());
        for d in ndigits {
            v.extend_from_slice(&d.to_be_bytes());
        }
        v
    }

    #[test]
    fn decodes() {
        assert_eq!(numeric_to_string(&enc(&[], 0, 0, 0)).unwrap(), "0");
        assert_eq!(numeric_to_string(&enc(&[], 0, 0, 3)).unwrap(), "0.000");
        assert_eq!(
            numeric_to_string(&enc(&[1, 2345, 6700], 1, NEG, 4)).unwrap(),
            "-12345.6700"
        );
        assert_eq!(
            numeric_to_string(&enc(&[12], -1, 0, 6)).unwrap(),
            "0.001200"
        );
        assert_eq!(numeric_to_string(&enc(&[1], 2, 0, 0)).unwrap(), "100000000");
        assert_eq!(numeric_to_string(&enc(&[], 0, NAN, 0)).unwrap(), "NaN");
        assert_eq!(
            numeric_to_string(&enc(&[], 0, NINF, 0)).unwrap(),
            "-Infinity"
        );
        assert!(numeric_to_string(&[0, 5]).is_err());
    }

    #[test]
    fn validates_text() {
        for ok in [
            "1",
            "-1.5",
            ".5",
            "5.",
            "1e10",
            "1.5E-3",
            "NaN",
            "-Infinity",
            " 42 ",
        ] {
            assert!(is_numeric_text(ok), "{ok}");
        }
        for bad in ["", "abc", "1.2.3", "e5", "1e", "--1", "-NaN", "0x10"] {
            assert!(!is_numeric_text(bad), "{bad}");
        }
    }
}
