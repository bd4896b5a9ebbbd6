//! Geometric types (point, lseg, path, box, polygon, line, circle) as the server prints them.

/// A float8 as the server's `float8out` prints it: shortest round-trip digits, exponent form
/// below 1e-4 or from 1e15 on (`1e-05`, `1e+15`).
pub fn pg_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity" } else { "-Infinity" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    let sci = format!("{v:e}"); // shortest digits: "-1.5e-5"
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..15).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    let neg = mant.starts_with('-');
    let digits: String = mant.chars().filter(|c| c.is_ascii_digit()).collect();
    let point = exp + 1; // digits before the decimal point
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    if point <= 0 {
        s.push_str("0.");
        s.extend(std::iter::repeat_n('0', (-point) as usize));
        s.push_str(&digits);
    } else if point as usize >= digits.len() {
        s.push_str(&digits);
        s.extend(std::iter::repeat_n('0', point as usize - digits.len()));
    } else {
        s.push_str(&digits[..point as usize]);
        s.push('.');
        s.push_str(&digits[point as usize..]);
    }
    s
}

fn floats(raw: &[u8], from: usize, n: usize) -> Option<Vec<f64>> {
    (0..n)
        .map(|i| {
            let at = from + 8 * i;
            raw.get(at..at + 8).map(|b| {
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                f64::from_be_bytes(a)
            })
        })
        .collect()
}

fn points(f: &[f64]) -> String {
    f.chunks(2)
        .map(|p| format!("({},{})", pg_float(p[0]), pg_float(p[1])))
        .collect::<Vec<_>>()
        .join(",")
}

fn count(raw: &[u8], at: usize) -> Option<usize> {
    let b = raw.get(at..at + 4)?;
    let n = i32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    usize::try_from(n)
        .ok()
        .filter(|n| at + 4 + n * 16 == raw.len())
}

/// The text of a geometric value of type `oid`, or None if `oid` is not geometric (or the
/// value is malformed).
pub fn geometry_text(oid: u32, raw: &[u8]) -> Option<String> {
    Some(match oid {
        600 if raw.len() == 16 => points(&floats(raw, 0, 2)?),
        601 if raw.len() == 32 => format!("[{}]", points(&floats(raw, 0, 4)?)),
        603 if raw.len() == 32 => points(&floats(raw, 0, 4)?),
        628 if raw.len() == 24 => {
            let f = floats(raw, 0, 3)?;
            format!(
                "{{{},{},{}}}",
                pg_float(f[0]),
                pg_float(f[1]),
                pg_float(f[2])
            )
        }
        718 if raw.len() == 24 => {
            let f = floats(raw, 0, 3)?;
            format!(
                "<({},{}),{}>",
                pg_float(f[0]),
                pg_float(f[1]),
                pg_float(f[2])
            )
        }
        602 => {
            let closed = *raw.first()? != 0;
            let n = count(raw, 1)?;
            let p = points(&floats(raw, 5, 2 * n)?);
            if closed {
                format!("({p})")
            } else {
                format!("[{p}]")
            }
        }
        604 => {
            let n = count(raw, 0)?;
            format!("({})", points(&floats(raw, 4, 2 * n)?))
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_like_float8out() {
        assert_eq!(pg_float(1.0), "1");
        assert_eq!(pg_float(-2.5), "-2.5");
        assert_eq!(pg_float(0.0001), "0.0001");
        assert_eq!(pg_float(0.00001), "1e-05");
        assert_eq!(pg_float(123456789012345.0), "123456789012345");
        assert_eq!(pg_float(1e15), "1e+15");
        assert_eq!(pg_float(1.5e300), "1.5e+300");
        assert_eq!(pg_float(0.1), "0.1");
    }

    #[test]
    fn points_and_paths() {
        let mut raw = Vec::new();
        for f in [1.0f64, 2.5] {
            raw.extend_from_slice(&f.to_be_bytes());
        }
        assert_eq!(geometry_text(600, &raw).unwrap(), "(1,2.5)");
        let mut path = vec![1u8];
        path.extend_from_slice(&1i32.to_be_bytes());
        path.extend_from_slice(&raw);
        assert_eq!(geometry_text(602, &path).unwrap(), "((1,2.5))");
        assert!(geometry_text(600, &raw[..8]).is_none());
    }
}
