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
    /// `[u32 id][u32 length][response]...`, little-endian, and where it is copied to.
    queued: Mutex<Queue>,
    /// A wake-up has been requested and `drain()` has not run since.
    scheduled: AtomicBool,
    ready: ReadyFn,
    /// Calls `onReady` straight from a libuv callback of the loop driver.
    direct: Direct,
    me: Weak<Inbox>,
}

struct Queue {
    bytes: Vec<u8>,
    /// The JS slab that responses are copied into (`inboxSlab`), if one is registered.
    slab: Option<Slab>,
}

/// A Buffer of JS's own (lib/completions.js) that drains copy into, each batch after the last
/// (8-byte aligned), so that no region is written twice: a response JS has not decoded yet
/// stays intact. JS mirrors `at` (it computes the same alignment from each batch's end).
struct Slab {
    data: *mut u8,
    len: usize,
    at: usize,
    /// Keeps the Buffer alive while it is registered (deleted when JS registers the next).
    reference: sys::napi_ref,
}

// SAFETY: `data` and `reference` are used only on the JS thread that registered the slab:
// `inboxSlab`, `drainInboxInto` and `Inbox::call_direct` all run there. Worker threads lock the
// queue only to append `bytes`. The memory stays valid while `reference` holds the Buffer (an
// ArrayBuffer's backing store does not move), and only bytes from `at` on are written, which
// JS has not handed to anyone yet.
unsafe impl Send for Slab {}

impl Queue {
    /// Where the queued bytes would end in the slab, when they fit there.
    fn slab_end(&self) -> Option<usize> {
        let slab = self.slab.as_ref()?;
        let end = slab.at.checked_add(self.bytes.len())?;
        (end <= slab.len && end <= i32::MAX as usize).then_some(end)
    }

    /// Copies the queued bytes into the slab, ending at `end` (from `slab_end`, under the same
    /// lock). Clears `scheduled` under the lock, before taking: a completion racing with this
    /// call (it queues under the lock, then schedules) schedules a new wake-up.
    fn move_to_slab(&mut self, end: usize, scheduled: &AtomicBool) {
        let Some(slab) = self.slab.as_mut() else {
            return;
        };
        scheduled.store(false, Ordering::Release);
        // SAFETY: see `Slab`: `slab_end` checked that `at..end` lies inside the live Buffer,
        // and nothing from `at` on has been handed to JS.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.bytes.as_ptr(),
                slab.data.add(slab.at),
                self.bytes.len(),
            )
        };
        slab.at = (end + 7) & !7;
        self.bytes.clear();
        if self.bytes.capacity() > KEEP_MAX {
            self.bytes = Vec::new();
        }
    }
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
            let q = &mut q.bytes;
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
    ///
    /// The batch is copied into the slab first when it fits, and `onReady(end)` gets its end:
    /// that saves JS a `drainInboxInto` call per batch (about 1.8k instructions, most of them
    /// napi-rs's argument handling). Otherwise `onReady()` drains as the threadsafe path does.
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
            // The batch's end is made into a JS number before the batch is copied, under one
            // lock: nothing is taken from the queue unless JS will be told where it went.
            let mut arg = std::ptr::null_mut();
            let mut argc = 0;
            if ok {
                let mut q = self.queued.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(end) = q.slab_end() {
                    if sys::napi_create_uint32(d.env, end as u32, &mut arg) == sys::Status::napi_ok
                    {
                        q.move_to_slab(end, &self.scheduled);
                        argc = 1;
                    }
                }
            }
            if !ok {
                self.ready.call((), ThreadsafeFunctionCallMode::NonBlocking);
            } else if sys::napi_make_callback(d.env, d.context, recv, func, argc, &arg, &mut result)
                == sys::Status::napi_pending_exception
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

/// Copies every response queued in the inbox numbered `inbox` into its slab (`inboxSlab`),
/// after the last batch, and returns where they end. Takes nothing and returns -1 when they do
/// not fit the slab's rest, -2 when they would not fit a whole slab either (then `drainInbox`
/// takes them). Why: a Buffer made by native code costs ~3k
/// instructions (V8 sets its prototype on each), more than the rest of a serial query's
/// delivery; JS hands over space in a slab of its own instead (lib/completions.js).
#[napi(js_name = "drainInboxInto")]
pub fn drain_inbox_into(inbox: u32) -> napi::Result<i32> {
    let inbox = handles::find(&INBOXES, inbox, "inbox")?;
    let mut q = inbox.queued.lock().unwrap_or_else(|p| p.into_inner());
    Ok(match q.slab_end() {
        Some(end) => {
            q.move_to_slab(end, &inbox.scheduled);
            end as i32
        }
        None if q.slab.as_ref().is_some_and(|s| q.bytes.len() <= s.len) => -1,
        None => -2,
    })
}

/// Makes `slab` the Buffer that the inbox numbered `inbox` copies responses into, from its
/// first byte (see `Slab`); the previous one is released.
#[napi(js_name = "inboxSlab")]
pub fn inbox_slab(env: &Env, inbox: u32, slab: BufferSlice) -> napi::Result<()> {
    let inbox = handles::find(&INBOXES, inbox, "inbox")?;
    let raw = env.raw();
    let mut data = std::ptr::null_mut();
    let mut len = 0;
    let mut reference = std::ptr::null_mut();
    // SAFETY: `slab.raw()` is a live Buffer value of this env, on its thread.
    unsafe {
        check(sys::napi_get_buffer_info(
            raw,
            slab.raw(),
            &mut data,
            &mut len,
        ))?;
        check(sys::napi_create_reference(
            raw,
            slab.raw(),
            1,
            &mut reference,
        ))?;
    }
    let old = inbox
        .queued
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .slab
        .replace(Slab {
            data: data.cast(),
            len,
            at: 0,
            reference,
        });
    if let Some(old) = old {
        // SAFETY: made by `napi_create_reference` above in this env, deleted once.
        unsafe { sys::napi_delete_reference(raw, old.reference) };
    }
    Ok(())
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
            queued: Mutex::new(Queue {
                bytes: Vec::new(),
                slab: None,
            }),
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
    /// Takes every queued response: `[u32 id][u32 length][response]...`.
    fn drain<'env>(&self, env: &'env Env) -> napi::Result<BufferSlice<'env>> {
        // Cleared before taking: a completion racing with this call schedules a new wake-up.
        self.scheduled.store(false, Ordering::Release);
        let mut guard = self.queued.lock().unwrap_or_else(|p| p.into_inner());
        let q = &mut guard.bytes;
        if q.len() > COPY_MAX {
            let data = std::mem::take(q);
            drop(guard);
            return BufferSlice::from_data(env, data);
        }
        // A small batch (one serial query's response) is copied into a buffer V8 allocates:
        // cheaper than an external buffer (an allocation for its finalizer hint, a finalizer run
        // by a later GC), and the queue keeps its capacity for the next batch.
        let out = BufferSlice::copy_from(env, &**q);
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
