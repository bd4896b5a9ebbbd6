//! The byte formats that cross the JS/Rust boundary, one buffer per call in each direction.
//!
//! Parameters (JS -> Rust): `lib/params.js` writes each JS value as a tag by its JS type; the
//! core converts it to the type the server described for its `$n`. Results (Rust -> JS): the
//! core writes column descriptors once, then every value as a tag and payload; `lib/reader.js`
//! turns them into JS values. All integers are little-endian. Keep both sides in step.

/// Result value tags (Rust -> JS).
pub mod out {
    pub const NULL: u8 = 0;
    pub const FALSE: u8 = 1;
    pub const TRUE: u8 = 2;
    pub const F64: u8 = 3;
    pub const I32: u8 = 4;
    pub const BIGINT: u8 = 5;
    pub const STR: u8 = 6;
    pub const BYTES: u8 = 7;
    pub const JSON: u8 = 8;
    pub const DATE: u8 = 9;
    pub const ARRAY: u8 = 10;
    pub const INTERVAL: u8 = 11;
    pub const RANGE: u8 = 12;
    pub const RECORD: u8 = 13;

    pub const RANGE_EMPTY: u8 = 1;
    pub const RANGE_LOWER_INC: u8 = 2;
    pub const RANGE_UPPER_INC: u8 = 4;
    pub const RANGE_HAS_LOWER: u8 = 8;
    pub const RANGE_HAS_UPPER: u8 = 16;
}

/// Parameter value tags (JS -> Rust).
pub mod inp {
    pub const NULL: u8 = 0;
    pub const FALSE: u8 = 1;
    pub const TRUE: u8 = 2;
    pub const NUMBER: u8 = 3;
    pub const BIGINT: u8 = 4;
    pub const STRING: u8 = 5;
    pub const BYTES: u8 = 6;
    pub const DATE: u8 = 7;
    pub const ARRAY: u8 = 8;
    pub const OBJECT: u8 = 9;
    /// Text the server parses as the parameter's type, whatever it is (`JsValue::Text`).
    pub const TEXT: u8 = 10;
    /// A JS number that is an int32 (not -0), in 4 bytes: read as the same `JsValue::Number`.
    pub const INT: u8 = 11;
}

/// Result status byte that starts every response buffer.
pub mod status {
    pub const OK: u8 = 0;
    pub const DB_ERROR: u8 = 1;
    pub const DRIVER_ERROR: u8 = 2;
    /// executeMany: u32 index of the failing parameter set, then an error response.
    pub const BATCH_ERROR: u8 = 3;
    /// Rows of a result still running: the columns, u32 count, rows (no command, no total).
    /// Parts precede the result's final response, which holds the remaining rows.
    pub const PART: u8 = 4;
    /// A part of statement `u32 index` of a pipeline batch (`core::batch`), then the part.
    pub const BATCH_PART: u8 = 5;
    /// The next `u32 n` statements' responses of a pipeline batch, answered while the rest
    /// still run (`core::batch::Answers`), in the layout of the batch's final reply after its
    /// status.
    pub const BATCH_ANSWERS: u8 = 6;
}

/// An append-only little-endian writer.
#[derive(Default)]
pub struct Writer {
    pub buf: Vec<u8>,
}

impl Writer {
    pub fn with_capacity(n: usize) -> Self {
        Writer {
            buf: Vec::with_capacity(n),
        }
    }
    #[inline]
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    #[inline]
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    #[inline]
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    #[inline]
    pub fn i32(&mut self, v: i32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    #[inline]
    pub fn i64(&mut self, v: i64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    #[inline]
    pub fn f64(&mut self, v: f64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// Length-prefixed bytes (u32 length).
    #[inline]
    pub fn bytes(&mut self, b: &[u8]) {
        self.u32(b.len() as u32);
        self.buf.extend_from_slice(b);
    }
    #[inline]
    pub fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    /// A length-prefixed string produced in place: `f` appends its UTF-8 bytes, then the length
    /// is patched in. Decoders that format text use it to avoid a temporary String per value.
    #[inline]
    pub fn str_with<E>(&mut self, f: impl FnOnce(&mut Vec<u8>) -> Result<(), E>) -> Result<(), E> {
        let at = self.buf.len();
        self.u32(0);
        f(&mut self.buf)?;
        let n = (self.buf.len() - at - 4) as u32;
        self.buf[at..at + 4].copy_from_slice(&n.to_le_bytes());
        Ok(())
    }
    /// An optional string: u32::MAX marks "absent".
    pub fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.u32(u32::MAX),
        }
    }
}

/// A bounds-checked little-endian reader over a parameter buffer.
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    pub fn at_end(&self) -> bool {
        self.pos >= self.buf.len()
    }
    /// The next `n` bytes, without a length prefix.
    pub fn raw(&mut self, n: usize) -> Result<&'a [u8], String> {
        self.take(n)
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or_else(|| "malformed parameter buffer (truncated)".to_string())?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    pub fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    pub fn u32(&mut self) -> Result<u32, String> {
        let b = self.take(4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn i32(&mut self) -> Result<i32, String> {
        let b = self.take(4)?;
        Ok(i32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    pub fn f64(&mut self) -> Result<f64, String> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }
    pub fn bytes(&mut self) -> Result<&'a [u8], String> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    pub fn str(&mut self) -> Result<&'a str, String> {
        utf8(self.bytes()?)
    }
    /// An optional string ([`Writer::opt_str`]): None for the u32::MAX mark.
    pub fn opt_str(&mut self) -> Result<Option<&'a str>, String> {
        match self.u32()? {
            u32::MAX => Ok(None),
            n => utf8(self.take(n as usize)?).map(Some),
        }
    }
}

fn utf8(b: &[u8]) -> Result<&str, String> {
    std::str::from_utf8(b).map_err(|_| "malformed parameter buffer (UTF-8)".to_string())
}
