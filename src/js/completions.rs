//! `Completions`: the JS thread's inbox of finished statements.
//!
//! Queries are submitted with a synchronous napi call that carries a request id; when one
//! completes, its response is appended to this inbox and the JS thread is woken through a weak
//! ThreadsafeFunction only if no wake-up is already pending. `drain()` then hands every queued
//! response over in one buffer, and `lib/completions.js` resolves their promises. Under load
//! that is one thread wake-up for many results instead of one (plus a promise and a
//! ThreadsafeFunction created) per query, as napi's async functions cost. Completions made
//! inside a libuv callback of the loop driver (`local.rs`) skip the wake-up: `onReady` is
//! called at the end of that callback, on the same thread.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use napi::bindgen_prelude::{BufferSlice, Function, JsValue};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{sys, Env, Status};
use napi_derive::napi;

use super::handles::{self, Table};
use super::local;

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
    /// Calls `onReady` straight from a libuv callback of the loop driver.
    direct: Direct,
    me: Weak<Inbox>,
}

/// `onReady` as a plain reference, for calls made on its own thread.
struct Direct {
    env: sys::napi_env,
    func: sys::napi_ref,
    context: sys::napi_async_context,
    /// The loop driver's executor of this thread (see `local::defer`).
    exec: *const (),
}

// SAFETY: the raw handles are used only by `Inbox::call_direct`, which `local::defer` runs
// only on the thread of `exec`, the JS thread that created them.
unsafe impl Send for Direct {}
unsafe impl Sync for Direct {}

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
            let me = self.me.clone();
            let direct = Box::new(move || {
                if let Some(inbox) = me.upgrade() {
                    inbox.call_direct();
                }
            });
            if local::defer(self.direct.exec, direct).is_err() {
                self.ready.call((), ThreadsafeFunctionCallMode::NonBlocking);
            }
        }
    }
}

impl Inbox {
    /// Calls `onReady` now, on the JS thread, from outside JS (a libuv callback): with its own
    /// handle scope and through `napi_make_callback`, so that promise reactions run after it
    /// as they do after any I/O callback.
    fn call_direct(&self) {
        let d = &self.direct;
        unsafe {
            let mut scope = std::ptr::null_mut();
            if sys::napi_open_handle_scope(d.env, &mut scope) != sys::Status::napi_ok {
                self.ready.call((), ThreadsafeFunctionCallMode::NonBlocking);
                return;
            }
            let mut func = std::ptr::null_mut();
            let mut recv = std::ptr::null_mut();
            let mut result = std::ptr::null_mut();
            let ok = sys::napi_get_reference_value(d.env, d.func, &mut func)
                == sys::Status::napi_ok
                && sys::napi_get_global(d.env, &mut recv) == sys::Status::napi_ok;
            if !ok {
                self.ready.call((), ThreadsafeFunctionCallMode::NonBlocking);
            } else if sys::napi_make_callback(
                d.env,
                d.context,
                recv,
                func,
                0,
                std::ptr::null(),
                &mut result,
            ) == sys::Status::napi_pending_exception
            {
                // As for any callback from native code: an uncaught exception.
                let mut error = std::ptr::null_mut();
                sys::napi_get_and_clear_last_exception(d.env, &mut error);
                sys::napi_fatal_exception(d.env, error);
            }
            sys::napi_close_handle_scope(d.env, scope);
        }
    }
}

/// The inbox of finished statements for one JS environment.
#[napi]
pub struct Completions {
    inbox: Arc<Inbox>,
    /// This inbox's number in [`INBOXES`] (for `drainInbox` and `poolSubmitQuery`).
    handle: u32,
}

thread_local! {
    /// The inboxes made on this JS thread, by handle.
    static INBOXES: Table<Inbox> = const { Table::new() };
}

/// A reply slot that delivers to the inbox numbered `inbox` under `id`.
pub fn reply(inbox: u32, id: u32) -> napi::Result<Reply> {
    Ok(Reply::sink(id, handles::find(&INBOXES, inbox, "inbox")?))
}

/// Takes every response queued in the inbox numbered `inbox` (see `Inbox::drain`).
#[napi(js_name = "drainInbox")]
pub fn drain_inbox(env: &Env, inbox: u32) -> napi::Result<BufferSlice<'_>> {
    handles::find(&INBOXES, inbox, "inbox")?.drain(env)
}

/// Copies every response queued in the inbox numbered `inbox` into `into` from byte `at`, and
/// returns how many bytes that took; or -1, taking nothing, when they do not fit (then
/// `drainInbox` takes them). Why: a Buffer made by native code costs ~3k instructions (V8
/// sets its prototype on each), more than the rest of a serial query's delivery; JS hands
/// over space in a slab of its own instead (lib/completions.js), never writing there twice.
#[napi(js_name = "drainInboxInto")]
pub fn drain_inbox_into(inbox: u32, mut into: BufferSlice, at: u32) -> napi::Result<i32> {
    let inbox = handles::find(&INBOXES, inbox, "inbox")?;
    let Some(space) = into.get_mut(at as usize..) else {
        return Ok(-1);
    };
    Ok(inbox.drain_into(space).map_or(-1, |n| n as i32))
}

impl Drop for Completions {
    fn drop(&mut self) {
        // At exit the table may be gone already; nothing is left to look it up then.
        let _ = INBOXES.try_with(|t| t.remove(self.handle));
    }
}

#[napi]
impl Completions {
    /// `onReady` is called on the JS thread when responses are waiting in the inbox.
    #[napi(constructor)]
    pub fn new(env: Env, on_ready: Function<(), ()>) -> napi::Result<Self> {
        let ready: ReadyFn = on_ready
            .build_threadsafe_function()
            .weak::<true>()
            .build()?;
        let raw = env.raw();
        let mut func = std::ptr::null_mut();
        let mut name = std::ptr::null_mut();
        let mut context = std::ptr::null_mut();
        unsafe {
            check(sys::napi_create_reference(
                raw,
                on_ready.value().value,
                1,
                &mut func,
            ))?;
            check(sys::napi_create_string_utf8(
                raw,
                c"ferropg".as_ptr(),
                7,
                &mut name,
            ))?;
            check(sys::napi_async_init(
                raw,
                std::ptr::null_mut(),
                name,
                &mut context,
            ))?;
        }
        let direct = Direct {
            env: raw,
            func,
            context,
            exec: local::executor_id(&env)?,
        };
        let inbox = Arc::new_cyclic(|me| Inbox {
            queued: Mutex::new(Vec::new()),
            scheduled: AtomicBool::new(false),
            ready,
            direct,
            me: me.clone(),
        });
        let handle = INBOXES.with(|t| t.add(inbox.clone()));
        Ok(Completions { inbox, handle })
    }

    /// This inbox's number, for `drainInbox` and `poolSubmitQuery`.
    #[napi(getter)]
    pub fn handle(&self) -> u32 {
        self.handle
    }
}

impl Inbox {
    /// Copies every queued response into `space` when they fit (see `drain_inbox_into`).
    fn drain_into(&self, space: &mut [u8]) -> Option<usize> {
        let mut q = self.queued.lock().unwrap_or_else(|p| p.into_inner());
        let n = q.len();
        if n > space.len() || n > i32::MAX as usize {
            return None;
        }
        // Cleared under the lock, before taking: a completion racing with this call (it queues
        // under the lock, then schedules) schedules a new wake-up.
        self.scheduled.store(false, Ordering::Release);
        space[..n].copy_from_slice(&q);
        q.clear();
        if q.capacity() > KEEP_MAX {
            *q = Vec::new();
        }
        Some(n)
    }

    /// Takes every queued response: `[u32 id][u32 length][response]...`.
    fn drain<'env>(&self, env: &'env Env) -> napi::Result<BufferSlice<'env>> {
        // Cleared before taking: a completion racing with this call schedules a new wake-up.
        self.scheduled.store(false, Ordering::Release);
        let mut q = self.queued.lock().unwrap_or_else(|p| p.into_inner());
        if q.len() > COPY_MAX {
            let data = std::mem::take(&mut *q);
            drop(q);
            return BufferSlice::from_data(env, data);
        }
        // A small batch (one serial query's response) is copied into a buffer V8 allocates:
        // cheaper than an external buffer (an allocation for its finalizer hint, a finalizer run
        // by a later GC), and the queue keeps its capacity for the next batch.
        let out = BufferSlice::copy_from(env, &*q);
        q.clear();
        if q.capacity() > KEEP_MAX {
            *q = Vec::new();
        }
        out
    }
}

/// Batches up to this size are copied out of the queue (see `drain`).
const COPY_MAX: usize = 16 * 1024;
/// The queue keeps at most this much capacity between batches.
const KEEP_MAX: usize = 256 * 1024;

fn check(status: sys::napi_status) -> napi::Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(napi::Error::from_reason(format!(
            "napi call failed ({status})"
        )))
    }
}

impl Completions {
    /// A reply slot that delivers to this inbox under `id`.
    pub fn reply(&self, id: u32) -> Reply {
        Reply::sink(id, self.inbox.clone())
    }
}
