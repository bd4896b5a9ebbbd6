//! `Completions`: the JS thread's inbox of finished statements.
//!
//! Queries are submitted with a synchronous napi call that carries a request id; when one
//! completes, its response is appended to this inbox and the JS thread is woken through a weak
//! ThreadsafeFunction only if no wake-up is already pending. `drain()` then hands every queued
//! response over in one buffer, and `lib/completions.js` resolves their promises. Under load
//! that is one thread wake-up for many results instead of one (plus a promise and a
//! ThreadsafeFunction created) per query, as napi's async functions cost.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::Buffer;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;

use crate::core::error::Result;
use crate::core::reply::{Reply, Sink};
use crate::core::result::error_buffer;

/// Called (with no argument) when responses are waiting; weak: never keeps the process alive
/// (lib/completions.js holds a timer while requests are outstanding).
pub type ReadyFn = ThreadsafeFunction<(), (), (), Status, false, true>;

struct Inbox {
    /// `[u32 id][u32 length][response]...`, little-endian.
    queued: Mutex<Vec<u8>>,
    /// A wake-up has been requested and `drain()` has not run since.
    scheduled: AtomicBool,
    ready: ReadyFn,
}

impl Sink for Inbox {
    fn complete(&self, id: u32, response: Result<Vec<u8>>) {
        let body = match response {
            Ok(b) => b,
            Err(e) => error_buffer(&e),
        };
        {
            let mut q = self.queued.lock().unwrap_or_else(|p| p.into_inner());
            q.reserve(8 + body.len());
            q.extend_from_slice(&id.to_le_bytes());
            q.extend_from_slice(&(body.len() as u32).to_le_bytes());
            q.extend_from_slice(&body);
        }
        if !self.scheduled.swap(true, Ordering::AcqRel) {
            self.ready.call((), ThreadsafeFunctionCallMode::NonBlocking);
        }
    }
}

/// The inbox of finished statements for one JS environment.
#[napi]
pub struct Completions {
    inbox: Arc<Inbox>,
}

#[napi]
impl Completions {
    /// `onReady` is called on the JS thread when responses are waiting in the inbox.
    #[napi(constructor)]
    pub fn new(on_ready: ReadyFn) -> Self {
        Completions {
            inbox: Arc::new(Inbox {
                queued: Mutex::new(Vec::new()),
                scheduled: AtomicBool::new(false),
                ready: on_ready,
            }),
        }
    }

    /// Takes every queued response: `[u32 id][u32 length][response]...`.
    #[napi]
    pub fn drain(&self) -> Buffer {
        // Cleared before taking: a completion racing with this call schedules a new wake-up.
        self.inbox.scheduled.store(false, Ordering::Release);
        let mut q = self.inbox.queued.lock().unwrap_or_else(|p| p.into_inner());
        Buffer::from(std::mem::take(&mut *q))
    }
}

impl Completions {
    /// A reply slot that delivers to this inbox under `id`.
    pub fn reply(&self, id: u32) -> Reply {
        Reply::sink(id, self.inbox.clone())
    }
}
