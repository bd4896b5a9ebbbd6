//! The loop driver: connections polled on the JS thread, from Node's event loop.
//!
//! Why: with a connection's protocol task on the runtime thread, every round trip pays two
//! thread wake-ups (JS -> runtime to send, runtime -> JS with the result), which caps one
//! connection's sequential rate well below what node-postgres reaches on the libuv loop.
//! Here a connection's tasks (handshake, protocol, submission worker, pool.query) are polled
//! on the JS thread by a small executor:
//! - a query's messages are written from inside the napi call that submits it (the call runs
//!   the executor before returning);
//! - the socket is watched by a libuv poll handle; its callback reads and parses the response
//!   and completes the statement on the same thread, without any thread hop;
//! - the tokio runtime remains for what needs a reactor (resolving names and opening sockets,
//!   timers), and for COPY and other async napi methods; a task woken from there is queued and
//!   the loop is woken with a uv_async handle.
//!
//! Poll handles are unref'd (an idle pool does not keep the process alive; lib/completions.js
//! holds a timer while requests are outstanding).

use std::cell::{Cell, RefCell};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

use napi::Env;

use super::uv;
use crate::core::driver::Task;

/// What other threads (and wakers) reach: ready task ids, tasks spawned from elsewhere, and
/// the async handle that wakes the loop.
struct Remote {
    ready: Mutex<Vec<usize>>,
    incoming: Mutex<Vec<Task>>,
    signal: *mut uv::Handle,
    closed: AtomicBool,
}

// SAFETY: `signal` is only passed to uv_async_send, which libuv documents as thread-safe, and
// never after the handle is closed (`closed`, set on the loop's thread before closing it).
unsafe impl Send for Remote {}
unsafe impl Sync for Remote {}

thread_local! {
    /// This thread's executor (a JS thread that opened a connection with the loop driver).
    static EXEC: Cell<Option<&'static Exec>> = const { Cell::new(None) };
    /// The executor running on this thread right now: wake-ups for it need no signal.
    static RUNNING: Cell<*const Remote> = const { Cell::new(std::ptr::null()) };
    /// Set while a libuv callback of this thread's executor runs (see [`defer`]).
    static IN_CALLBACK: Cell<*const Remote> = const { Cell::new(std::ptr::null()) };
    static DEFERRED: RefCell<Vec<Box<dyn FnOnce()>>> = const { RefCell::new(Vec::new()) };
    /// An emptied vector swapped with DEFERRED in `callback` (see `Exec::spare_ready`).
    static SPARE_DEFERRED: RefCell<Vec<Box<dyn FnOnce()>>> = const { RefCell::new(Vec::new()) };
}

/// How many times one callback runs its deferred JS calls and the executor in turn before it
/// lets the loop go on (the rest continues from the async handle's callback): a chain of
/// statements that complete without waiting for the server must not starve other I/O.
const ROUNDS: usize = 64;

/// A libuv callback of `exec`: `wake`, the executor (RUNNING set: wake-ups need no signal),
/// then the deferred JS calls and the executor in turn until neither has work, then `settle`.
///
/// Why the deferred calls run with IN_CALLBACK still set: the statements JS submits from them
/// (the callers whose results just arrived, sending their next query) are only queued
/// ([`submit`]), and the executor run after the JS call sends them all at once, one socket
/// write per connection for the whole batch instead of one per statement (a write to a
/// socket wakes the server's process, which this VM charges to the writer: ~10 us each).
pub(super) fn callback(exec: &'static Exec, wake: impl FnOnce(), settle: impl FnOnce()) {
    let me = Arc::as_ptr(&exec.remote);
    IN_CALLBACK.with(|c| c.set(me));
    // Entered once for the whole callback rather than by each run of the executor in it (two
    // or three per W1 query; ~80 instructions an entry and its exit).
    let _context = exec.runtime.enter();
    exec.run_with(wake);
    // Swapped with the queue rather than taken, so that both keep their capacity.
    let mut deferred = SPARE_DEFERRED.with(|d| std::mem::take(&mut *d.borrow_mut()));
    for round in 0.. {
        DEFERRED.with(|d| std::mem::swap(&mut deferred, &mut *d.borrow_mut()));
        if deferred.is_empty() {
            break;
        }
        if round == ROUNDS {
            DEFERRED.with(|d| std::mem::swap(&mut deferred, &mut *d.borrow_mut()));
            unsafe { uv::uv_async_send(exec.remote.signal) };
            break;
        }
        for f in deferred.drain(..) {
            f();
        }
        exec.run_with(|| {});
    }
    SPARE_DEFERRED.with(|d| *d.borrow_mut() = deferred);
    IN_CALLBACK.with(|c| c.set(std::ptr::null()));
    settle();
}

/// Inside a libuv callback of the executor `exec` (on its thread), queues `f` to run at the
/// end of that callback, after the executor: completions then reach JS from the poll
/// callback itself rather than through another loop wake-up. Hands `f` back otherwise.
pub fn defer(exec: *const (), f: Box<dyn FnOnce()>) -> Result<(), Box<dyn FnOnce()>> {
    if !exec.is_null() && IN_CALLBACK.with(Cell::get) as *const () == exec {
        DEFERRED.with(|d| d.borrow_mut().push(f));
        Ok(())
    } else {
        Err(f)
    }
}

/// This thread's executor, if it has one.
pub(super) fn current() -> Option<&'static Exec> {
    EXEC.with(Cell::get)
}

/// This thread's executor, as an identity for [`defer`] (created on first use).
pub fn executor_id(env: &Env) -> napi::Result<*const ()> {
    Ok(Arc::as_ptr(&Exec::get(env)?.remote) as *const ())
}

impl Remote {
    /// Wakes the loop to run the executor, unless this thread runs it now or will before the
    /// current libuv callback of it returns.
    fn signal(&self) {
        let here = |c: &'static std::thread::LocalKey<Cell<*const Remote>>| {
            std::ptr::eq(c.with(Cell::get), self)
        };
        if !here(&RUNNING) && !here(&IN_CALLBACK) && !self.closed.load(Ordering::Acquire) {
            unsafe { uv::uv_async_send(self.signal) };
        }
    }

    fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
        m.lock().unwrap_or_else(|p| p.into_inner())
    }
}

struct TaskWaker {
    id: usize,
    queued: AtomicBool,
    remote: Arc<Remote>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            Remote::lock(&self.remote.ready).push(self.id);
            self.remote.signal();
        }
    }
}

struct Slot {
    task: Task,
    flag: Arc<TaskWaker>,
    waker: Waker,
}

/// One JS thread's executor. Leaked: it lives as long as its thread's event loop.
pub struct Exec {
    remote: Arc<Remote>,
    tasks: RefCell<Vec<Option<Slot>>>,
    free: RefCell<Vec<usize>>,
    /// Emptied vectors swapped with the queues in `run_with`, so that the queues keep their
    /// capacity: taking them left empty vectors that grew again on the next wake-ups (W1:
    /// ~5 allocations per query).
    spare_ready: RefCell<Vec<usize>>,
    spare_incoming: RefCell<Vec<Task>>,
    runtime: tokio::runtime::Handle,
    lp: *mut uv::Loop,
}

unsafe extern "C" fn on_signal(_: *mut uv::Handle) {
    if let Some(exec) = EXEC.with(Cell::get) {
        callback(exec, || {}, || {});
    }
}

impl Exec {
    /// The event loop this executor runs on.
    pub(super) fn event_loop(&self) -> *mut uv::Loop {
        self.lp
    }

    /// This thread's executor, created on first use.
    fn get(env: &Env) -> napi::Result<&'static Exec> {
        if let Some(e) = EXEC.with(Cell::get) {
            return Ok(e);
        }
        let lp = env.get_uv_event_loop()? as *mut uv::Loop;
        let runtime = runtime()?;
        let signal = uv::alloc_async();
        if signal.is_null() || unsafe { uv::uv_async_init(lp, signal, on_signal) } != 0 {
            return Err(napi::Error::from_reason(
                "could not create a libuv async handle",
            ));
        }
        unsafe { uv::uv_unref(signal) };
        let exec: &'static Exec = Box::leak(Box::new(Exec {
            remote: Arc::new(Remote {
                ready: Mutex::new(Vec::new()),
                incoming: Mutex::new(Vec::new()),
                signal,
                closed: AtomicBool::new(false),
            }),
            tasks: RefCell::new(Vec::new()),
            free: RefCell::new(Vec::new()),
            spare_ready: RefCell::new(Vec::new()),
            spare_incoming: RefCell::new(Vec::new()),
            runtime,
            lp,
        }));
        EXEC.with(|c| c.set(Some(exec)));
        env.add_env_cleanup_hook((), move |()| exec.shutdown())?;
        Ok(exec)
    }

    /// Calls `first` (which may wake or spawn tasks without signalling the loop), then polls
    /// every ready task (and those they wake) until none is left.
    fn run_with<R>(&'static self, first: impl FnOnce() -> R) -> R {
        let me = Arc::as_ptr(&self.remote);
        if RUNNING.with(Cell::get) == me || self.remote.closed.load(Ordering::Acquire) {
            return first(); // the outer run picks up what is queued
        }
        // Tasks create timers and sockets: they need the runtime's context (already entered
        // by `callback`, where most runs happen; entering again costs an entry and its exit).
        let _context =
            (!IN_CALLBACK.with(|c| std::ptr::eq(c.get(), me))).then(|| self.runtime.enter());
        let before = RUNNING.with(|r| r.replace(me));
        let out = first();
        // Not reentrant (RUNNING above): these are this run's alone until put back.
        let mut incoming = self.spare_incoming.take();
        let mut ready = self.spare_ready.take();
        let mut idle = false;
        for _ in 0..1024 {
            std::mem::swap(&mut incoming, &mut *Remote::lock(&self.remote.incoming));
            let spawned = !incoming.is_empty();
            // Drained only when not empty: an empty drain still costs its drop (~60
            // instructions, several runs per query).
            if spawned {
                for task in incoming.drain(..) {
                    let id = self.insert(task);
                    self.poll(id);
                }
            }
            std::mem::swap(&mut ready, &mut *Remote::lock(&self.remote.ready));
            if ready.is_empty() && !spawned {
                idle = true;
                break;
            }
            for id in ready.drain(..) {
                self.poll(id);
            }
        }
        self.spare_incoming.replace(incoming);
        self.spare_ready.replace(ready);
        RUNNING.with(|r| r.set(before));
        if idle {
            return out;
        }
        // Still busy (tasks that keep waking themselves): let the loop breathe, come back.
        unsafe { uv::uv_async_send(self.remote.signal) };
        out
    }

    fn insert(&self, task: Task) -> usize {
        let mut tasks = self.tasks.borrow_mut();
        let id = self.free.borrow_mut().pop().unwrap_or(tasks.len());
        let flag = Arc::new(TaskWaker {
            id,
            queued: AtomicBool::new(false),
            remote: self.remote.clone(),
        });
        let slot = Slot {
            task,
            waker: Waker::from(flag.clone()),
            flag,
        };
        if id == tasks.len() {
            tasks.push(Some(slot));
        } else {
            tasks[id] = Some(slot);
        }
        id
    }

    fn poll(&self, id: usize) {
        // Taken out while polling: the task may spawn or wake others.
        let Some(mut slot) = self.tasks.borrow_mut().get_mut(id).and_then(Option::take) else {
            return;
        };
        slot.flag.queued.store(false, Ordering::Release);
        let mut cx = Context::from_waker(&slot.waker);
        // A panic must not unwind into libuv: the task is dropped, as tokio does.
        let done = catch_unwind(AssertUnwindSafe(|| slot.task.as_mut().poll(&mut cx)))
            .map_or(true, |p| p.is_ready());
        if done {
            self.free.borrow_mut().push(id);
            drop(slot);
        } else if let Some(s) = self.tasks.borrow_mut().get_mut(id) {
            *s = Some(slot);
        }
    }

    /// The environment is going away: drop every task (closing their poll handles) and the
    /// async handle.
    fn shutdown(&'static self) {
        self.remote.closed.store(true, Ordering::Release);
        // The tasks are dropped while this executor is still the thread's: a socket dropped
        // with them closes its poll handle at once (`uv_stream`). Dropped after, it handed the
        // handle to this (closed) executor, which never closed it, and Node aborts the process
        // when a worker thread's loop still has a handle open as it closes (a worker
        // terminated with a pool open: `pipelining.test.js`).
        let tasks = std::mem::take(&mut *self.tasks.borrow_mut());
        drop(tasks);
        drop(std::mem::take(&mut *Remote::lock(&self.remote.incoming)));
        EXEC.with(|c| c.set(None));
        unsafe { uv::uv_close(self.remote.signal, None) };
    }
}

/// Runs `submit` (which queues work for tasks of this thread's executor) and then the
/// executor, so that the work is sent before the napi call returns, without a loop wake-up.
/// Inside a libuv callback of the executor (JS reacting to completions) only queues it: the
/// callback runs the executor once the JS call returns, sending everything queued together.
pub fn submit<R>(submit: impl FnOnce() -> R) -> R {
    match EXEC.with(Cell::get) {
        Some(exec) if IN_CALLBACK.with(Cell::get) == Arc::as_ptr(&exec.remote) => submit(),
        Some(exec) => exec.run_with(submit),
        None => submit(),
    }
}

/// The addon's tokio runtime.
pub(super) fn runtime() -> napi::Result<tokio::runtime::Handle> {
    napi::bindgen_prelude::within_runtime_if_available(tokio::runtime::Handle::try_current)
        .map_err(|e| napi::Error::from_reason(format!("no tokio runtime: {e}")))
}

/// Spawns tasks on one JS thread's executor, from any thread (the loop driver's half that
/// `loop_driver` builds on).
#[derive(Clone)]
pub struct Spawner(Arc<Remote>);

impl Spawner {
    /// The spawner of this JS thread's executor (created on first use).
    pub fn get(env: &Env) -> napi::Result<Spawner> {
        Ok(Spawner(Exec::get(env)?.remote.clone()))
    }

    /// See `Driver::after_js`: deferred when called inside a libuv callback of this executor.
    pub fn after_js(&self, f: Box<dyn FnOnce()>) -> Result<(), Box<dyn FnOnce()>> {
        defer(Arc::as_ptr(&self.0) as *const (), f)
    }

    /// Queues `task` and wakes the loop; dropped when the executor has shut down (its replies
    /// then report the closed connection).
    pub fn spawn(&self, task: Task) {
        if self.0.closed.load(Ordering::Acquire) {
            return;
        }
        Remote::lock(&self.0.incoming).push(task);
        self.0.signal();
    }
}
