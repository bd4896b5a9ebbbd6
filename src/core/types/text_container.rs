//! The text grammar of containers (array_out, range_out, record_out, and what their input
//! functions also accept), split into element texts for `text::decode_text`.

use std::borrow::Cow;

pub(super) fn skip_ws(b: &[u8], p: &mut usize) {
    while b.get(*p).is_some_and(|c| c.is_ascii_whitespace()) {
        *p += 1;
    }
}

/// One array element from `*p` (array_in's rules): `"..."` quoted parts and `\` escapes;
/// unquoted whitespace around the element is dropped; an unquoted `NULL` is SQL NULL. Stops
/// before the delimiter or `}`. Every special character is ASCII, so slicing at them is safe.
pub(super) fn array_element<'a>(
    s: &'a str,
    p: &mut usize,
    delim: u8,
) -> Option<Option<Cow<'a, str>>> {
    let b = s.as_bytes();
    let start = *p;
    let mut i = start;
    // Fast path: what array_out writes for most values, no quotes or escapes.
    while let Some(&c) = b.get(i) {
        if c == delim || c == b'}' {
            let t = s[start..i].trim_end_matches(|c: char| c.is_ascii_whitespace());
            *p = i;
            return match t {
                "" => None,
                t if t.eq_ignore_ascii_case("NULL") => Some(None),
                t => Some(Some(Cow::Borrowed(t))),
            };
        }
        if matches!(c, b'"' | b'\\' | b'{') {
            break;
        }
        i += 1;
    }
    let mut out = String::new();
    let mut keep = 0; // `out` up to here was quoted or escaped: never trimmed
    let mut inq = false;
    let mut seg = start;
    i = start;
    loop {
        let c = *b.get(i)?;
        if !inq && (c == delim || c == b'}') {
            break;
        }
        match c {
            b'\\' => {
                out.push_str(&s[seg..i]);
                let ch = s[i + 1..].chars().next()?;
                out.push(ch);
                i += 1 + ch.len_utf8();
                seg = i;
                keep = out.len();
            }
            b'"' => {
                out.push_str(&s[seg..i]);
                inq = !inq;
                i += 1;
                seg = i;
                keep = out.len();
            }
            b'{' if !inq => return None,
            _ => i += 1,
        }
    }
    out.push_str(&s[seg..i]);
    let len = out
        .trim_end_matches(|c: char| c.is_ascii_whitespace())
        .len();
    out.truncate(len.max(keep));
    *p = i;
    Some(Some(Cow::Owned(out)))
}

/// An array literal: its dimension lengths (none for `{}`) and its elements in row-major
/// order. A leading `[lo:hi]...=` (non-default lower bounds) must agree with the braces and
/// is otherwise ignored, as decode ignores the binary lower bounds.
pub(super) type ArrayText<'a> = (Vec<u32>, Vec<Option<Cow<'a, str>>>);

pub(super) fn parse_array(s: &str, delim: u8) -> Option<ArrayText<'_>> {
    let b = s.as_bytes();
    let mut p = 0;
    skip_ws(b, &mut p);
    let mut declared = None;
    if b.get(p) == Some(&b'[') {
        let eq = p + s[p..].find('=')?;
        declared = Some(dim_decoration(&s[p..eq])?);
        p = eq + 1;
        skip_ws(b, &mut p);
    }
    let mut cx = ArrayCx {
        s,
        delim,
        p,
        lens: Vec::new(),
        leaf: None,
        elems: Vec::new(),
    };
    cx.level(0)?;
    skip_ws(b, &mut cx.p);
    if cx.p != b.len() {
        return None;
    }
    let dims: Vec<u32> = cx.lens.into_iter().collect::<Option<_>>()?;
    if declared.is_some_and(|d| d != dims) {
        return None;
    }
    Some((dims, cx.elems))
}

/// `[lo:hi]` (or `[hi]`) per dimension: the lengths.
pub(super) fn dim_decoration(d: &str) -> Option<Vec<u32>> {
    let mut dims = Vec::new();
    let mut rest = d.trim();
    while !rest.is_empty() {
        let (inner, after) = rest.strip_prefix('[')?.split_once(']')?;
        let (lo, hi) = match inner.split_once(':') {
            Some((a, b)) => (a.trim().parse::<i64>().ok()?, b.trim().parse::<i64>().ok()?),
            None => (1, inner.trim().parse::<i64>().ok()?),
        };
        dims.push(u32::try_from(hi.checked_sub(lo)?.checked_add(1)?).ok()?);
        rest = after.trim_start();
    }
    Some(dims)
}

struct ArrayCx<'a> {
    s: &'a str,
    delim: u8,
    p: usize,
    /// Length of each nesting level, set by its first occurrence; the rest must match.
    lens: Vec<Option<u32>>,
    /// The depth of the elements: all at the same depth (a rectangular array).
    leaf: Option<usize>,
    elems: Vec<Option<Cow<'a, str>>>,
}

impl ArrayCx<'_> {
    fn level(&mut self, depth: usize) -> Option<()> {
        let b = self.s.as_bytes();
        if b.get(self.p) != Some(&b'{') || depth >= 6 {
            return None;
        }
        self.p += 1;
        skip_ws(b, &mut self.p);
        if b.get(self.p) == Some(&b'}') {
            // `{}` is the empty array (no dimensions); the server never nests it.
            self.p += 1;
            return (depth == 0).then_some(());
        }
        let mut n = 0u32;
        loop {
            skip_ws(b, &mut self.p);
            if b.get(self.p) == Some(&b'{') {
                if self.leaf.is_some_and(|l| l <= depth) {
                    return None;
                }
                self.level(depth + 1)?;
            } else {
                match self.leaf {
                    None => self.leaf = Some(depth),
                    Some(l) if l != depth => return None,
                    Some(_) => {}
                }
                let e = array_element(self.s, &mut self.p, self.delim)?;
                self.elems.push(e);
            }
            n = n.checked_add(1)?;
            skip_ws(b, &mut self.p);
            match b.get(self.p) {
                Some(&c) if c == self.delim => self.p += 1,
                Some(b'}') => {
                    self.p += 1;
                    break;
                }
                _ => return None,
            }
        }
        if self.lens.len() <= depth {
            self.lens.resize(depth + 1, None);
        }
        match self.lens[depth] {
            None => self.lens[depth] = Some(n),
            Some(m) if m != n => return None,
            Some(_) => {}
        }
        Some(())
    }
}

/// A range bound or record field from `*p` (range_parse_bound / record_in): `\` takes the
/// next character literally, `"` opens and closes quoted parts inside which `""` is a quote.
/// Ends before an unquoted terminator; nothing at all (not even `""`) is None: an infinite
/// bound or a NULL field.
pub(super) fn field<'a>(s: &'a str, p: &mut usize, ends: &[u8]) -> Option<Option<Cow<'a, str>>> {
    let b = s.as_bytes();
    let start = *p;
    let mut i = start;
    while let Some(&c) = b.get(i) {
        if ends.contains(&c) {
            *p = i;
            return Some((i > start).then(|| Cow::Borrowed(&s[start..i])));
        }
        if c == b'"' || c == b'\\' {
            break;
        }
        i += 1;
    }
    let mut out = String::new();
    let mut inq = false;
    let mut seg = start;
    i = start;
    loop {
        let c = *b.get(i)?;
        if !inq && ends.contains(&c) {
            break;
        }
        match c {
            b'\\' => {
                out.push_str(&s[seg..i]);
                let ch = s[i + 1..].chars().next()?;
                out.push(ch);
                i += 1 + ch.len_utf8();
                seg = i;
            }
            b'"' => {
                out.push_str(&s[seg..i]);
                if inq && b.get(i + 1) == Some(&b'"') {
                    out.push('"');
                    i += 2;
                } else {
                    inq = !inq;
                    i += 1;
                }
                seg = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&s[seg..i]);
    *p = i;
    Some(Some(Cow::Owned(out)))
}

/// A non-empty range: bounds (None = infinite) and whether each is inclusive.
pub(super) struct RangeText<'a> {
    pub lower: Option<Cow<'a, str>>,
    pub lower_inc: bool,
    pub upper: Option<Cow<'a, str>>,
    pub upper_inc: bool,
}

/// A range literal from `*p`: `empty` (None), or `[`/`(` lower `,` upper `]`/`)`.
pub(super) fn range_at<'a>(s: &'a str, p: &mut usize) -> Option<Option<RangeText<'a>>> {
    let b = s.as_bytes();
    skip_ws(b, p);
    if b.get(*p..*p + 5)
        .is_some_and(|e| e.eq_ignore_ascii_case(b"empty"))
    {
        *p += 5;
        return Some(None);
    }
    let lower_inc = match b.get(*p)? {
        b'[' => true,
        b'(' => false,
        _ => return None,
    };
    *p += 1;
    let lower = field(s, p, b",])")?;
    if b.get(*p) != Some(&b',') {
        return None;
    }
    *p += 1;
    let upper = field(s, p, b",])")?;
    let upper_inc = match b.get(*p)? {
        b']' => true,
        b')' => false,
        _ => return None,
    };
    *p += 1;
    Some(Some(RangeText {
        lower_inc: lower_inc && lower.is_some(),
        upper_inc: upper_inc && upper.is_some(),
        lower,
        upper,
    }))
}

pub(super) fn parse_range(s: &str) -> Option<Option<RangeText<'_>>> {
    let mut p = 0;
    let r = range_at(s, &mut p)?;
    skip_ws(s.as_bytes(), &mut p);
    (p == s.len()).then_some(r)
}

/// A record literal with `n` fields: `(1,abc,)`, quoted fields as `"a ""b"""`.
pub(super) fn parse_record(s: &str, n: usize) -> Option<Vec<Option<Cow<'_, str>>>> {
    let b = s.as_bytes();
    let mut p = 0;
    skip_ws(b, &mut p);
    if b.get(p) != Some(&b'(') {
        return None;
    }
    p += 1;
    let mut fields = Vec::with_capacity(n);
    for i in 0..n {
        if i > 0 {
            if b.get(p) != Some(&b',') {
                return None;
            }
            p += 1;
        }
        fields.push(field(s, &mut p, b",)")?);
    }
    if b.get(p) != Some(&b')') {
        return None;
    }
    p += 1;
    skip_ws(b, &mut p);
    (p == b.len()).then_some(fields)
}
