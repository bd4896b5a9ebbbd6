//! Choosing where a connection's tasks run: the tokio runtime, or this JS thread's executor
//! (`local`) with its socket polled by libuv (`uv_stream`).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use napi::Env;

use super::local::{current, runtime, Spawner};
use super::uv_stream::UvStream;
use crate::core::config::Transport;
use crate::core::driver::{Driver, Io, Roam, Socket, Task, Tokio};

/// The driver for connections opened from this JS thread with `transport`.
pub fn driver(env: &Env, transport: Transport) -> napi::Result<Arc<dyn Driver>> {
    match transport {
        Transport::Runtime => Ok(Arc::new(Tokio(runtime()?))),
        Transport::Loop => Ok(Arc::new(LoopDriver {
            home: Spawner::get(env)?,
            runtime: runtime()?,
        })),
    }
}

struct LoopDriver {
    home: Spawner,
    runtime: tokio::runtime::Handle,
}

impl Driver for LoopDriver {
    fn spawn(&self, task: Task) {
        self.home.spawn(task)
    }

    fn stream(&self, socket: Socket) -> io::Result<Box<dyn Io>> {
        Ok(Box::new(UvStream::new(socket, self.home.clone())))
    }

    fn on_runtime(&self) -> bool {
        false
    }

    fn after_js(&self, f: Box<dyn FnOnce()>) -> Result<(), Box<dyn FnOnce()>> {
        self.home.after_js(f)
    }

    fn spawn_eager(&self, mut task: Task) {
        // Timers (deadpool's waits, the pool's recycle) need the runtime's context. A task
        // still pending was polled with a waker that does nothing: the executor polls it again
        // as soon as it is spawned, which registers its own.
        let pending = {
            let _context = self.runtime.enter();
            let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
            task.as_mut().poll(&mut cx).is_pending()
        };
        if pending {
            self.home.spawn(task)
        }
    }

    fn spawn_roaming(&self, task: Task, roam: Arc<Roam>) {
        self.home.spawn(Box::pin(Roaming {
            task: Some(task),
            roam,
            home: self.home.clone(),
            runtime: self.runtime.clone(),
        }))
    }
}

/// A connection's protocol task, polled on its JS thread's executor or on the runtime, as its
/// `Roam` asks; it moves at its next poll (a change of mind wakes it). Its socket is a
/// `UvStream`, which can be polled in both places.
struct Roaming {
    task: Option<Task>,
    roam: Arc<Roam>,
    home: Spawner,
    runtime: tokio::runtime::Handle,
}

impl Future for Roaming {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        // Registered before reading the wish, so that a change made meanwhile wakes us.
        this.roam.register(cx.waker());
        let on_loop = current().is_some();
        if on_loop == this.roam.wants_runtime() {
            let moved = Roaming {
                task: this.task.take(),
                roam: this.roam.clone(),
                home: this.home.clone(),
                runtime: this.runtime.clone(),
            };
            if on_loop {
                drop(this.runtime.spawn(moved));
            } else {
                this.home.spawn(Box::pin(moved));
            }
            return Poll::Ready(());
        }
        match this.task.as_mut() {
            Some(task) => task.as_mut().poll(cx),
            None => Poll::Ready(()),
        }
    }
}
