//! Choosing where a connection's tasks run: the tokio runtime, or this JS thread's executor
//! (`local`) with its socket polled by libuv (`uv_stream`).

use std::io;
use std::sync::Arc;

use napi::Env;

use super::local::{runtime, Spawner};
use super::uv_stream::UvStream;
use crate::core::config::Transport;
use crate::core::driver::{Driver, Io, Socket, Task, Tokio};

/// The driver for connections opened from this JS thread with `transport`.
pub fn driver(env: &Env, transport: Transport) -> napi::Result<Arc<dyn Driver>> {
    match transport {
        Transport::Runtime => Ok(Arc::new(Tokio(runtime()?))),
        Transport::Loop => Ok(Arc::new(LoopDriver(Spawner::get(env)?))),
    }
}

struct LoopDriver(Spawner);

impl Driver for LoopDriver {
    fn spawn(&self, task: Task) {
        self.0.spawn(task)
    }

    fn stream(&self, socket: Socket) -> io::Result<Box<dyn Io>> {
        Ok(Box::new(UvStream::new(socket)))
    }

    fn on_runtime(&self) -> bool {
        false
    }
}
