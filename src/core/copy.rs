//! COPY streams: `copyIn` feeds a `COPY ... FROM STDIN` (any format), `copyOut` reads a
//! `COPY ... TO STDOUT`. Both are started through the connection's submission queue, so they
//! run in call order with everything else on the connection.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;
use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::Mutex;
use tokio_postgres::{CancelToken, CopyInSink, CopyOutStream, NoTls};

use crate::core::error::{Error, Result};

fn ended() -> Error {
    Error::driver("ERR_COPY_ENDED", "the COPY has already ended")
}

/// An open `COPY ... FROM STDIN`.
pub struct CopyIn {
    sink: Mutex<Option<Pin<Box<CopyInSink<Bytes>>>>>,
}

impl CopyIn {
    pub fn new(sink: CopyInSink<Bytes>) -> Self {
        CopyIn {
            sink: Mutex::new(Some(Box::pin(sink))),
        }
    }

    /// Sends data; resolves once the connection has taken it (backpressure).
    pub async fn write(&self, data: Bytes) -> Result<()> {
        let mut g = self.sink.lock().await;
        let sink = g.as_mut().ok_or_else(ended)?;
        sink.as_mut().send(data).await.map_err(Into::into)
    }

    /// Ends the COPY; returns the number of rows copied.
    pub async fn finish(&self) -> Result<u64> {
        let sink = self.sink.lock().await.take().ok_or_else(ended)?;
        let mut sink = sink;
        sink.as_mut().finish().await.map_err(Into::into)
    }

    /// Aborts the COPY: dropping an unfinished sink sends CopyFail, the server rolls the COPY
    /// back and the connection stays usable.
    pub async fn abort(&self) {
        drop(self.sink.lock().await.take());
    }
}

/// An open `COPY ... TO STDOUT`.
pub struct CopyOut {
    stream: Mutex<Option<Pin<Box<CopyOutStream>>>>,
    cancel: CancelToken,
    done: AtomicBool,
}

impl CopyOut {
    pub fn new(stream: CopyOutStream, cancel: CancelToken) -> Self {
        CopyOut {
            stream: Mutex::new(Some(Box::pin(stream))),
            cancel,
            done: AtomicBool::new(false),
        }
    }

    /// The next data: everything already received, up to about `max` bytes, waiting only
    /// for the first message. None at the end of the COPY.
    pub async fn read(&self, max: usize) -> Result<Option<Vec<u8>>> {
        let mut g = self.stream.lock().await;
        let Some(stream) = g.as_mut() else {
            return Ok(None);
        };
        let first = match stream.next().await {
            None => {
                self.done.store(true, Ordering::Relaxed);
                *g = None;
                return Ok(None);
            }
            Some(r) => r?,
        };
        let mut out = Vec::with_capacity(first.len().max(max.min(1 << 16)));
        out.extend_from_slice(&first);
        let mut finished = false;
        while out.len() < max {
            match stream.next().now_or_never() {
                Some(Some(r)) => out.extend_from_slice(&r?),
                Some(None) => {
                    finished = true;
                    break;
                }
                None => break,
            }
        }
        if finished {
            // The stream ends at CopyDone and must not be polled again (the messages after it
            // belong to the connection, not to this COPY).
            self.done.store(true, Ordering::Relaxed);
            *g = None;
        }
        Ok(Some(out))
    }

    /// Stops the COPY early: asks the server to cancel it, then drains what is still in
    /// flight so the connection is usable afterwards.
    pub async fn cancel(&self) {
        let mut g = self.stream.lock().await;
        let Some(mut stream) = g.take() else { return };
        if self.done.load(Ordering::Relaxed) {
            return;
        }
        let _ = self.cancel.cancel_query(NoTls).await;
        while let Some(r) = stream.next().await {
            if r.is_err() {
                break;
            }
        }
    }
}
