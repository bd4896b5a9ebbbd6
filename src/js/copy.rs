//! `NativeCopyIn` / `NativeCopyOut`: the napi face of `core::copy`. `lib/copy.js` wraps them
//! in node streams.

use std::sync::Arc;

use bytes::Bytes;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;

use super::error_response;
use crate::core::conn::Conn;
use crate::core::copy::{CopyIn, CopyOut, CopyOutRows};
use crate::core::copy_from::{CopyFrom, RowError};
use crate::core::result::batch_error_buffer;
use crate::core::wire::{status, Writer};

/// The most a `read()` gathers before it returns (messages already received are batched so
/// that a COPY of small rows does not cross the boundary once per row).
const READ_BATCH: usize = 256 * 1024;

fn ok() -> Buffer {
    Buffer::from(vec![status::OK])
}

/// `[OK][f64 rows]` or the error.
fn count_response(r: crate::core::error::Result<u64>) -> Buffer {
    match r {
        Ok(n) => {
            let mut w = Writer::with_capacity(9);
            w.u8(status::OK);
            w.f64(n as f64);
            Buffer::from(w.buf)
        }
        Err(e) => error_response(&e),
    }
}

/// `[OK][1][data]`, `[OK][0]` at the end, or the error.
fn data_response(r: crate::core::error::Result<Option<Vec<u8>>>) -> Buffer {
    match r {
        Ok(Some(data)) => {
            let mut v = Vec::with_capacity(data.len() + 2);
            v.push(status::OK);
            v.push(1);
            v.extend_from_slice(&data);
            Buffer::from(v)
        }
        Ok(None) => Buffer::from(vec![status::OK, 0]),
        Err(e) => error_response(&e),
    }
}

#[napi]
pub struct NativeCopyIn {
    inner: Arc<CopyIn>,
}

impl NativeCopyIn {
    pub fn new(inner: CopyIn) -> Self {
        NativeCopyIn {
            inner: Arc::new(inner),
        }
    }
}

#[napi]
impl NativeCopyIn {
    /// Sends a chunk; resolves when the connection has taken it.
    #[napi]
    pub async fn write(&self, chunk: Buffer) -> Buffer {
        match self.inner.write(Bytes::from_owner(chunk)).await {
            Ok(()) => ok(),
            Err(e) => error_response(&e),
        }
    }

    /// Ends the COPY: `[OK][f64 rows copied]` or an error.
    #[napi]
    pub async fn finish(&self) -> Buffer {
        count_response(self.inner.finish().await)
    }

    /// Aborts the COPY; nothing of it remains.
    #[napi]
    pub async fn abort(&self) {
        self.inner.abort().await;
    }

    /// Resolves when the server ends the COPY before `finish` (its error, or the connection
    /// lost) with that error, or with `[OK]` once the COPY was finished or aborted: a stream
    /// whose writer pauses learns of it without writing again.
    #[napi]
    pub async fn watch(&self) -> Buffer {
        match self.inner.watch().await {
            Some(e) => error_response(&e),
            None => ok(),
        }
    }
}

#[napi]
pub struct NativeCopyOut {
    inner: Arc<CopyOut>,
}

impl NativeCopyOut {
    pub fn new(inner: CopyOut) -> Self {
        NativeCopyOut {
            inner: Arc::new(inner),
        }
    }
}

#[napi]
impl NativeCopyOut {
    /// `[OK][1][data]`, `[OK][0]` at the end, or an error.
    #[napi]
    pub async fn read(&self) -> Buffer {
        data_response(self.inner.read(READ_BATCH).await)
    }

    /// Stops the COPY early (cancels it on the server) and leaves the connection usable.
    #[napi]
    pub async fn cancel(&self) {
        self.inner.cancel().await;
    }
}

/// A running copyFrom (binary COPY of JS rows).
#[napi]
pub struct NativeCopyFrom {
    inner: Arc<CopyFrom>,
    conn: Arc<Conn>,
}

impl NativeCopyFrom {
    pub fn new(inner: CopyFrom, conn: Arc<Conn>) -> Self {
        NativeCopyFrom {
            inner: Arc::new(inner),
            conn,
        }
    }

    /// The error of a chunk: a batch error naming the row when one is at fault.
    fn failed(&self, index: Option<usize>, e: &crate::core::error::Error) -> Buffer {
        if e.sqlstate().is_some() {
            // The table may have changed since it was looked up.
            self.conn.forget_copy_target(&self.inner.key);
        }
        match index {
            Some(index) => Buffer::from(batch_error_buffer(index, e)),
            None => error_response(e),
        }
    }
}

#[napi]
impl NativeCopyFrom {
    /// The target's columns, in COPY order (object rows are read by these names).
    #[napi(getter)]
    pub fn columns(&self) -> Vec<String> {
        self.inner.names().to_vec()
    }

    /// Encodes and sends a chunk of rows; `[OK]` or a batch error naming the row.
    #[napi]
    pub async fn write(&self, rows: Buffer, base: u32) -> Buffer {
        match self.inner.write_rows(&rows, base as usize).await {
            Ok(()) => ok(),
            Err(RowError { index, error }) => self.failed(index, &error),
        }
    }

    /// Ends the COPY: `[OK][f64 rows copied]` or an error.
    #[napi]
    pub async fn finish(&self) -> Buffer {
        let r = self.inner.finish().await;
        if r.as_ref().is_err_and(|e| e.sqlstate().is_some()) {
            self.conn.forget_copy_target(&self.inner.key);
        }
        count_response(r)
    }

    /// Aborts the COPY (CopyFail): nothing of it remains.
    #[napi]
    pub async fn abort(&self) {
        self.inner.abort().await;
    }

    /// Resolves when the server ends the COPY before `finish` (its error, or the connection
    /// lost) with that error, or with `[OK]` once the COPY was finished or aborted. JS stops
    /// pulling rows from its source when it resolves with an error.
    #[napi]
    pub async fn watch(&self) -> Buffer {
        match self.inner.watch().await {
            Some(e) => self.failed(None, &e),
            None => ok(),
        }
    }
}

/// A running copyOutRows: result blocks of decoded rows.
#[napi]
pub struct NativeCopyOutRows {
    inner: Arc<CopyOutRows>,
}

impl NativeCopyOutRows {
    pub fn new(inner: CopyOutRows) -> Self {
        NativeCopyOutRows {
            inner: Arc::new(inner),
        }
    }
}

#[napi]
impl NativeCopyOutRows {
    /// `[OK][1][result block]`, `[OK][0]` at the end, or an error.
    #[napi]
    pub async fn read(&self) -> Buffer {
        data_response(self.inner.read(READ_BATCH).await)
    }

    /// Stops early (cancels the COPY on the server); the connection stays usable.
    #[napi]
    pub async fn cancel(&self) {
        self.inner.cancel().await;
    }
}
