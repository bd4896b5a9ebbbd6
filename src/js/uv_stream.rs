//! The loop driver's socket: read and written by tasks on the JS thread, woken by a libuv
//! poll handle (see `local.rs`).

use std::cell::Cell;
use std::io;
use std::os::raw::{c_int, c_void};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::local::{callback, current};
use super::uv;
use crate::core::driver::Socket;

/// A socket read and written by tasks of the loop driver; a libuv poll handle (made on first
/// use, on the JS thread) wakes them.
pub struct UvStream {
    socket: Socket,
    io: Option<Rc<Watch>>,
}

// SAFETY: a UvStream is created on any thread but its `io` is made on first poll, which only
// happens on the loop's thread (the driver's tasks run nowhere else), and it is dropped there.
unsafe impl Send for UvStream {}

/// The poll handle's state, shared with the handle (freed in its close callback).
struct Watch {
    handle: *mut uv::Handle,
    reader: Cell<Option<Waker>>,
    writer: Cell<Option<Waker>>,
    /// The events the handle is started with (0: stopped).
    events: Cell<c_int>,
    /// The last read returned less than asked: the socket is empty until the poll handle
    /// says otherwise (level-triggered, so it will), which saves a read that would fail with
    /// EAGAIN after every message.
    drained: Cell<bool>,
    closed: Cell<bool>,
}

fn has(w: &Cell<Option<Waker>>) -> bool {
    let v = w.take();
    let some = v.is_some();
    w.set(v);
    some
}

fn store(w: &Cell<Option<Waker>>, cx: &Context<'_>) {
    let v = match w.take() {
        Some(old) if old.will_wake(cx.waker()) => old,
        _ => cx.waker().clone(),
    };
    w.set(Some(v));
}

unsafe extern "C" fn on_poll(handle: *mut uv::Handle, status: c_int, events: c_int) {
    // The handle's Rc keeps `watch` valid until its close callback, even if the stream is
    // dropped while the executor runs.
    let watch = &*(uv::uv_handle_get_data(handle) as *const Watch);
    let Some(exec) = current() else {
        return;
    };
    let wake = || {
        if status < 0 || events & uv::READABLE != 0 {
            watch.drained.set(false);
            if let Some(w) = watch.reader.take() {
                w.wake();
            }
        }
        if status < 0 || events & uv::WRITABLE != 0 {
            if let Some(w) = watch.writer.take() {
                w.wake();
            }
        }
    };
    // Watch only what someone waits for, so that unread data nobody wants yet does not spin
    // the loop.
    let settle = || {
        if watch.closed.get() {
            return;
        }
        let want = if has(&watch.reader) { uv::READABLE } else { 0 }
            | if has(&watch.writer) { uv::WRITABLE } else { 0 };
        if want != watch.events.get() {
            if want == 0 {
                uv::uv_poll_stop(handle);
            } else {
                uv::uv_poll_start(handle, want, on_poll);
            }
            watch.events.set(want);
        }
    };
    callback(exec, wake, settle);
}

unsafe extern "C" fn on_close(handle: *mut uv::Handle) {
    drop(Rc::from_raw(uv::uv_handle_get_data(handle) as *const Watch));
    uv::free_poll(handle);
}

impl UvStream {
    pub fn new(socket: Socket) -> Self {
        UvStream { socket, io: None }
    }

    /// Registers `cx` to be woken when the socket is ready for `event`.
    fn wait(&mut self, cx: &Context<'_>, event: c_int) -> io::Result<()> {
        let watch = match &self.io {
            Some(w) => w.clone(),
            None => {
                let w = self.watch()?;
                self.io = Some(w.clone());
                w
            }
        };
        store(
            if event == uv::READABLE {
                &watch.reader
            } else {
                &watch.writer
            },
            cx,
        );
        let events = watch.events.get();
        if events & event == 0 {
            let r = unsafe { uv::uv_poll_start(watch.handle, events | event, on_poll) };
            if r != 0 {
                return Err(io::Error::other(format!("uv_poll_start failed ({r})")));
            }
            watch.events.set(events | event);
        }
        Ok(())
    }

    fn watch(&self) -> io::Result<Rc<Watch>> {
        let exec = current()
            .ok_or_else(|| io::Error::other("a loop-driven socket was polled off its JS thread"))?;
        let handle = uv::alloc_poll();
        if handle.is_null() {
            return Err(io::Error::from(io::ErrorKind::OutOfMemory));
        }
        let r = unsafe { uv::uv_poll_init_socket(exec.event_loop(), handle, self.socket.fd()) };
        if r != 0 {
            unsafe { uv::free_poll(handle) };
            return Err(io::Error::other(format!(
                "uv_poll_init_socket failed ({r})"
            )));
        }
        let watch = Rc::new(Watch {
            handle,
            reader: Cell::new(None),
            writer: Cell::new(None),
            events: Cell::new(0),
            drained: Cell::new(false),
            closed: Cell::new(false),
        });
        unsafe {
            uv::uv_handle_set_data(handle, Rc::into_raw(watch.clone()) as *mut c_void);
            uv::uv_unref(handle);
        }
        Ok(watch)
    }
}

impl Drop for UvStream {
    fn drop(&mut self) {
        if let Some(watch) = self.io.take() {
            watch.closed.set(true);
            // Stops polling before the socket (a field, dropped after this) is closed.
            unsafe { uv::uv_close(watch.handle, Some(on_close)) };
        }
    }
}

impl AsyncRead for UvStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.io.as_ref().is_some_and(|w| w.drained.get()) {
            return match this.wait(cx, uv::READABLE) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            };
        }
        loop {
            // Straight into the unfilled (uninitialised) part: no zeroing per read.
            let dst = unsafe { buf.unfilled_mut() };
            let want = dst.len();
            let n = unsafe { libc::read(this.socket.fd(), dst.as_mut_ptr() as *mut c_void, want) };
            if n >= 0 {
                let n = n as usize;
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                if n < want && n > 0 {
                    if let Some(w) = &this.io {
                        w.drained.set(true);
                    }
                }
                return Poll::Ready(Ok(()));
            }
            let e = io::Error::last_os_error();
            match e.kind() {
                io::ErrorKind::Interrupted => continue,
                io::ErrorKind::WouldBlock => {
                    return match this.wait(cx, uv::READABLE) {
                        Ok(()) => Poll::Pending,
                        Err(e) => Poll::Ready(Err(e)),
                    }
                }
                _ => return Poll::Ready(Err(e)),
            }
        }
    }
}

impl AsyncWrite for UvStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        loop {
            match this.socket.write(buf) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return match this.wait(cx, uv::WRITABLE) {
                        Ok(()) => Poll::Pending,
                        Err(e) => Poll::Ready(Err(e)),
                    }
                }
                r => return Poll::Ready(r),
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.socket.shutdown())
    }
}
