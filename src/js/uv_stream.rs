//! The loop driver's socket: read and written by tasks on the JS thread, woken by a libuv
//! poll handle (see `local.rs`); and, while the connection's protocol task runs on the runtime
//! (`driver::Roam`), by tokio's reactor.

use std::cell::Cell;
use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, RawFd};
use std::os::raw::{c_int, c_void};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{ready, Context, Poll, Waker};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};

use super::local::{callback, current, Spawner};
use super::uv;
use crate::core::driver::Socket;

/// A socket read and written by tasks of the loop driver; a libuv poll handle (made on first
/// use, on the JS thread) wakes them there, a tokio registration (made on first use on the
/// runtime) wakes them on the runtime.
pub struct UvStream {
    socket: Socket,
    /// Touched only on the JS thread of `home`.
    io: Option<Rc<Watch>>,
    /// Touched only on the runtime (dropping it is thread-safe).
    reactor: Option<AsyncFd<Fd>>,
    home: Spawner,
}

// SAFETY: a UvStream is created on any thread. Its `io` (an Rc shared with the libuv handle)
// is made, used and dropped only on the JS thread of `home`: the poll methods use it only when
// they run on that thread's executor (`current()`), take the tokio path elsewhere, and `Drop`
// off that thread hands it back to the JS thread ([`OnLoop`]). Everything else is Send.
unsafe impl Send for UvStream {}

/// The socket's descriptor, registered with tokio's reactor (it does not own or close it).
struct Fd(RawFd);

impl AsRawFd for Fd {
    fn as_raw_fd(&self) -> RawFd {
        self.0
    }
}

/// A poll handle's state carried back to its JS thread to be closed there.
struct OnLoop(ManuallyDrop<Rc<Watch>>);

// SAFETY: the Rc is moved, never cloned or dropped, off its JS thread: `Drop` releases it only
// on a thread with an executor (the JS thread it is sent to), and leaks it anywhere else (an
// executor that shut down drops its queued tasks where they are).
unsafe impl Send for OnLoop {}

impl Drop for OnLoop {
    fn drop(&mut self) {
        if current().is_some() {
            // SAFETY: taken once, here; the field is not used again.
            close(unsafe { ManuallyDrop::take(&mut self.0) });
        }
    }
}

/// Stops and closes a poll handle (its memory is freed in the close callback).
fn close(watch: Rc<Watch>) {
    watch.closed.set(true);
    unsafe { uv::uv_close(watch.handle, Some(on_close)) };
}

/// One read into the unfilled part of `buf` (uninitialised: no zeroing per read); the number
/// of bytes read and how many were asked for.
fn read_into(fd: RawFd, buf: &mut ReadBuf<'_>) -> io::Result<(usize, usize)> {
    // SAFETY: read(2) writes at most `want` bytes into `dst`, and exactly the `n` it reports;
    // only those are marked initialised.
    unsafe {
        let dst = buf.unfilled_mut();
        let want = dst.len();
        let n = libc::read(fd, dst.as_mut_ptr() as *mut c_void, want);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        buf.assume_init(n);
        buf.advance(n);
        Ok((n, want))
    }
}

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
    if status < 0 {
        // libuv stops a poll handle itself before reporting an error (EPOLLERR: e.g. the
        // server reset the connection): record it, so that a task that waits again restarts
        // it and reads the error, instead of waiting on a handle that no longer watches.
        watch.events.set(0);
    }
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
    pub fn new(socket: Socket, home: Spawner) -> Self {
        UvStream {
            socket,
            io: None,
            reactor: None,
            home,
        }
    }

    /// The socket's tokio registration (made on first use, on the runtime).
    fn reactor<'a>(
        slot: &'a mut Option<AsyncFd<Fd>>,
        socket: &Socket,
    ) -> io::Result<&'a AsyncFd<Fd>> {
        match slot {
            Some(r) => Ok(r),
            slot => {
                // SAFETY: the descriptor is the open socket's, which outlives the registration
                // (`Drop` ends the registration first) and is never replaced.
                let fd = unsafe {
                    AsyncFd::register_with_interest(
                        Fd(socket.fd()),
                        Interest::READABLE | Interest::WRITABLE,
                    )
                }?;
                Ok(slot.insert(fd))
            }
        }
    }

    /// `poll_read` on the runtime.
    fn poll_read_tokio(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard =
                ready!(Self::reactor(&mut self.reactor, &self.socket)?.poll_read_ready(cx))?;
            match guard.try_io(|fd| read_into(fd.get_ref().0, buf)) {
                Ok(Ok(_)) => return Poll::Ready(Ok(())),
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => {}
            }
        }
    }

    /// `poll_write` on the runtime.
    fn poll_write_tokio(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        loop {
            let mut guard =
                ready!(Self::reactor(&mut self.reactor, &self.socket)?.poll_write_ready(cx))?;
            match guard.try_io(|_| self.socket.write(buf)) {
                Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
                Ok(r) => return Poll::Ready(r),
                Err(_would_block) => {}
            }
        }
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
        // Both registrations end before the socket (a field, dropped after this) is closed:
        // tokio's here; libuv's stops here on the JS thread, or is handed to it from elsewhere
        // (libuv then still watches a closed descriptor until the handle closes, which epoll
        // tolerates: a closed descriptor leaves every epoll set).
        drop(self.reactor.take());
        if let Some(watch) = self.io.take() {
            if current().is_some() {
                close(watch);
            } else {
                let back = OnLoop(ManuallyDrop::new(watch));
                self.home.spawn(Box::pin(async move { drop(back) }));
            }
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
        if current().is_none() {
            return this.poll_read_tokio(cx, buf);
        }
        if this.io.as_ref().is_some_and(|w| w.drained.get()) {
            return match this.wait(cx, uv::READABLE) {
                Ok(()) => Poll::Pending,
                Err(e) => Poll::Ready(Err(e)),
            };
        }
        loop {
            let e = match read_into(this.socket.fd(), buf) {
                Ok((n, want)) => {
                    if n < want && n > 0 {
                        if let Some(w) = &this.io {
                            w.drained.set(true);
                        }
                    }
                    return Poll::Ready(Ok(()));
                }
                Err(e) => e,
            };
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
        if current().is_none() {
            return this.poll_write_tokio(cx, buf);
        }
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
