//! The few libuv functions the loop driver uses. Node exports libuv's symbols to addons (and
//! documents that they may use them); these resolve against the running `node` at load time,
//! like the napi_* functions.

use std::alloc::Layout;
use std::os::raw::{c_int, c_void};

pub type Handle = c_void;
pub type Loop = c_void;

pub const READABLE: c_int = 1;
pub const WRITABLE: c_int = 2;

/// `uv_handle_type` values (UV_HANDLE_TYPE_MAP order in uv.h).
const ASYNC: c_int = 1;
const POLL: c_int = 8;

pub type PollCb = unsafe extern "C" fn(*mut Handle, c_int, c_int);
pub type AsyncCb = unsafe extern "C" fn(*mut Handle);
pub type CloseCb = unsafe extern "C" fn(*mut Handle);

extern "C" {
    fn uv_handle_size(kind: c_int) -> usize;
    pub fn uv_handle_set_data(handle: *mut Handle, data: *mut c_void);
    pub fn uv_handle_get_data(handle: *const Handle) -> *mut c_void;
    pub fn uv_unref(handle: *mut Handle);
    pub fn uv_close(handle: *mut Handle, cb: Option<CloseCb>);
    pub fn uv_poll_init_socket(lp: *mut Loop, handle: *mut Handle, fd: c_int) -> c_int;
    pub fn uv_poll_start(handle: *mut Handle, events: c_int, cb: PollCb) -> c_int;
    pub fn uv_poll_stop(handle: *mut Handle) -> c_int;
    pub fn uv_async_init(lp: *mut Loop, handle: *mut Handle, cb: AsyncCb) -> c_int;
    /// Thread-safe: the one libuv call made off the loop's thread.
    pub fn uv_async_send(handle: *mut Handle) -> c_int;
}

fn layout(kind: c_int) -> Layout {
    // uv_handle_size is at most a few hundred bytes; 16 covers every field's alignment.
    let size = unsafe { uv_handle_size(kind) }.max(1);
    Layout::from_size_align(size, 16).unwrap_or(Layout::new::<[u128; 32]>())
}

/// Uninitialised memory for a poll handle (freed with [`free_poll`] from its close callback).
pub fn alloc_poll() -> *mut Handle {
    unsafe { std::alloc::alloc_zeroed(layout(POLL)) as *mut Handle }
}

/// # Safety
/// `h` came from [`alloc_poll`] and libuv is done with it (its close callback runs).
pub unsafe fn free_poll(h: *mut Handle) {
    std::alloc::dealloc(h as *mut u8, layout(POLL))
}

/// Memory for an async handle; it lives as long as the process (never freed).
pub fn alloc_async() -> *mut Handle {
    unsafe { std::alloc::alloc_zeroed(layout(ASYNC)) as *mut Handle }
}
