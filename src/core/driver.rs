//! Where a connection's protocol runs: which executor polls its tasks and what its socket is
//! wrapped in.
//!
//! `Conn::connect` opens the socket itself (on the tokio runtime, which resolves names and
//! waits for the TCP handshake), hands the connected socket to a `Driver`, and runs the
//! PostgreSQL handshake, the protocol task and the submission worker as the driver's tasks.
//! [`Tokio`] runs them on the addon's runtime (and in the Rust tests); the Node binding has a
//! driver that polls them on the JS thread from the libuv loop (`src/js/local.rs`), so that a
//! round trip needs no thread hop at all.

use std::future::Future;
use std::io::{self, Write};
use std::net::Shutdown;
use std::os::fd::{AsRawFd, RawFd};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;

use futures_util::task::AtomicWaker;

use tokio::io::{AsyncRead, AsyncWrite};

use crate::core::hosts::{Host, Network};

/// A task run to completion by a driver.
pub type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A byte stream the protocol can run over.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// A driver's stream under a name without a lifetime: async code generic over a
/// `Box<dyn Io>` loses track of its `'static` bound (rustc's higher-ranked lifetime
/// limitation), so what the connection task holds is this.
pub struct Stream(pub Box<dyn Io>);

/// `AsyncRead` and `AsyncWrite` for a newtype over a `Box` of a stream, passed through (vectored
/// writes included, so that the inner stream's choice survives the wrapping).
macro_rules! delegate_io {
    ($outer:ty) => {
        impl tokio::io::AsyncRead for $outer {
            fn poll_read(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut *self.0).poll_read(cx, buf)
            }
        }

        impl tokio::io::AsyncWrite for $outer {
            fn poll_write(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut *self.0).poll_write(cx, buf)
            }

            fn poll_flush(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut *self.0).poll_flush(cx)
            }

            fn poll_shutdown(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut *self.0).poll_shutdown(cx)
            }

            fn poll_write_vectored(
                mut self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut *self.0).poll_write_vectored(cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                self.0.is_write_vectored()
            }
        }
    };
}
pub(crate) use delegate_io;

delegate_io!(Stream);

/// A connected, nonblocking socket.
pub enum Socket {
    Tcp(std::net::TcpStream),
    Unix(std::os::unix::net::UnixStream),
}

impl Socket {
    /// A nonblocking write (`WouldBlock` when the send buffer is full).
    pub fn write(&self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Socket::Tcp(s) => (&*s).write(buf),
            Socket::Unix(s) => (&*s).write(buf),
        }
    }

    pub fn shutdown(&self) -> io::Result<()> {
        let r = match self {
            Socket::Tcp(s) => s.shutdown(Shutdown::Write),
            Socket::Unix(s) => s.shutdown(Shutdown::Write),
        };
        match r {
            Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
            r => r,
        }
    }

    /// The server's address, for a TCP socket (a CancelRequest goes to the same one).
    pub fn peer(&self) -> Option<std::net::SocketAddr> {
        match self {
            Socket::Tcp(s) => s.peer_addr().ok(),
            Socket::Unix(_) => None,
        }
    }

    pub fn fd(&self) -> RawFd {
        match self {
            Socket::Tcp(s) => s.as_raw_fd(),
            Socket::Unix(s) => s.as_raw_fd(),
        }
    }
}

/// Whether an idle connection's socket shows the server closing it, looked at without reading
/// anything: end of file, a reset, or an unread message that starts an ErrorResponse (`E`:
/// on an idle session only a FATAL comes unasked) or, under TLS, an alert record (0x15: a
/// close_notify). Other unread input is benign: the answers to requests tokio-postgres sends
/// on its own (a Close when a cached statement is dropped: CloseComplete, ReadyForQuery), or
/// a ParameterStatus or notice; the connection's task reads them before anything that follows.
/// Under TLS a FATAL is an application-data record like any other, so it is not seen here
/// (the retry rule covers a statement it then answers: `Error::unrun`).
pub fn closing_input(fd: RawFd, tls: bool) -> bool {
    let mut byte = 0u8;
    // SAFETY: recv(2) with MSG_PEEK writes at most one byte into `byte`, which outlives the
    // call, and consumes nothing from the socket. `fd` may be stale (the connection's socket
    // closed and the number reused): then the answer is about another descriptor, which this
    // call does not change. Callers only ask about a connection they believe open, and act on
    // the answer by discarding it, which is right whenever its own socket is gone.
    let n = unsafe {
        libc::recv(
            fd,
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    if n > 0 {
        return byte == if tls { 0x15 } else { b'E' };
    }
    if n == 0 {
        return true; // end of file
    }
    let e = io::Error::last_os_error();
    // EAGAIN: nothing waiting. Any other error (ECONNRESET, ENOTSOCK) means the socket is unusable.
    !matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
    )
}

/// Runs a connection's tasks and wraps its socket for them.
pub trait Driver: Send + Sync {
    /// Polls `task` to completion on this driver's executor.
    fn spawn(&self, task: Task);
    /// Wraps a connected socket into a stream that this driver's tasks can poll.
    fn stream(&self, socket: Socket) -> io::Result<Box<dyn Io>>;
    /// Whether the tasks run on the tokio runtime's threads.
    fn on_runtime(&self) -> bool;
    /// Polls `task` once at once and keeps polling it on this driver only if it is not done.
    /// For work that usually completes without waiting (taking an idle pooled connection): its
    /// effect is then visible to the next call made in the same turn of JS, instead of after
    /// the executor's next turn. A driver whose tasks run on other threads just spawns it.
    fn spawn_eager(&self, task: Task) {
        self.spawn(task)
    }
    /// Runs `f` on this driver's thread after JS has reacted to the completions of the current
    /// turn (the loop driver: later in the same libuv callback, after `onReady` and the promise
    /// reactions it runs). Hands `f` back where there is no such turn (the runtime).
    fn after_js(&self, f: Box<dyn FnOnce()>) -> Result<(), Box<dyn FnOnce()>> {
        Err(f)
    }
    /// Polls a connection's protocol task, which may be asked through `roam` to run on the
    /// runtime for a while (a driver whose tasks run there already ignores it).
    fn spawn_roaming(&self, task: Task, roam: Arc<Roam>) {
        let _ = roam;
        self.spawn(task)
    }
}

/// Where a connection's protocol task (reading the socket, framing messages) should run now.
///
/// Why: on a connection driven from the JS thread, that work takes turns with JavaScript. For
/// a large result that is the wrong place: while JS builds rows from one part, nobody reads the
/// socket, the server stops once its send buffer is full, and the two sides run one after the
/// other instead of side by side (W3: ~1.5 s against ~1.1 s on the runtime). A job that starts
/// handing over a large result calls [`Roam::leave`]; the task moves to the runtime at its next
/// poll and comes back when the last such job is done.
#[derive(Default)]
pub struct Roam {
    away: AtomicUsize,
    waker: AtomicWaker,
}

impl Roam {
    /// Whether a job wants the protocol task on the runtime now.
    pub fn wants_runtime(&self) -> bool {
        self.away.load(Ordering::Acquire) > 0
    }

    /// The protocol task's current waker: a change of mind wakes it so that it moves.
    pub fn register(&self, waker: &Waker) {
        self.waker.register(waker);
    }

    /// Asks for the protocol task on the runtime until the returned guard drops.
    pub fn leave(self: &Arc<Self>) -> Away {
        if self.away.fetch_add(1, Ordering::AcqRel) == 0 {
            self.waker.wake();
        }
        Away(self.clone())
    }
}

/// A job's request for the runtime (see [`Roam::leave`]); dropping it withdraws the request.
pub struct Away(Arc<Roam>);

impl Drop for Away {
    fn drop(&mut self) {
        if self.0.away.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.waker.wake();
        }
    }
}

/// Everything on a tokio runtime.
pub struct Tokio(pub tokio::runtime::Handle);

impl Driver for Tokio {
    fn spawn(&self, task: Task) {
        self.0.spawn(task);
    }

    fn stream(&self, socket: Socket) -> io::Result<Box<dyn Io>> {
        let _context = self.0.enter();
        tokio_stream(socket)
    }

    fn on_runtime(&self) -> bool {
        true
    }
}

/// A socket registered with the current tokio runtime (needs its context).
pub fn tokio_stream(socket: Socket) -> io::Result<Box<dyn Io>> {
    Ok(match socket {
        Socket::Tcp(s) => Box::new(tokio::net::TcpStream::from_std(s)?),
        Socket::Unix(s) => Box::new(tokio::net::UnixStream::from_std(s)?),
    })
}

/// Connects to one server address (a unix socket directory holds `.s.PGSQL.<port>`); TCP
/// sockets get TCP_NODELAY, keepalive probes and the user timeout of `network`. The addresses
/// a name resolves to are tried in order (shuffled with `shuffle`: `load_balance_hosts`).
pub async fn open(host: &Host, port: u16, network: &Network, shuffle: bool) -> io::Result<Socket> {
    match host {
        Host::Unix(dir) => {
            let s = tokio::net::UnixStream::connect(dir.join(format!(".s.PGSQL.{port}"))).await?;
            Ok(Socket::Unix(s.into_std()?))
        }
        Host::Tcp(name) => {
            let mut addrs: Vec<_> = tokio::net::lookup_host((name.as_str(), port))
                .await?
                .collect();
            if shuffle {
                crate::core::hosts::shuffle(&mut addrs);
            }
            let mut last = None;
            for addr in addrs {
                match tokio::net::TcpStream::connect(addr).await {
                    Ok(s) => {
                        s.set_nodelay(true)?;
                        let s = s.into_std()?;
                        tune(&s, network)?;
                        return Ok(Socket::Tcp(s));
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(last.unwrap_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, "the host name resolved to nothing")
            }))
        }
    }
}

/// libpq's `keepalives*` and `tcp_user_timeout` on a TCP socket.
fn tune(s: &std::net::TcpStream, network: &Network) -> io::Result<()> {
    let sock = socket2::SockRef::from(s);
    match network.keepalive {
        Some(k) => {
            let ka = socket2::TcpKeepalive::new()
                .with_time(k.idle)
                .with_interval(k.interval)
                .with_retries(k.count);
            sock.set_tcp_keepalive(&ka)?;
        }
        None => sock.set_keepalive(false)?,
    }
    // TCP_USER_TIMEOUT is Linux's; where the system has none the setting has no effect, as
    // libpq documents for `tcp_user_timeout` (docs/platforms.md).
    #[cfg(any(target_os = "linux", target_os = "android", target_os = "fuchsia"))]
    if let Some(t) = network.user_timeout {
        sock.set_tcp_user_timeout(Some(t))?;
    }
    Ok(())
}
