//! Where a statement's response buffer goes when it completes.
//!
//! Either a oneshot channel (awaited in Rust: COPY target lookups, pool internals) or a `Sink`
//! keyed by a request id: the JS face collects completions in one queue and wakes the JS thread
//! once per batch, so many promises resolve per wake-up instead of one thread hop each.

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::core::error::{Error, Result};

/// Receives completed responses by request id (implemented by the JS face).
pub trait Sink: Send + Sync {
    fn complete(&self, id: u32, response: Result<Vec<u8>>);
}

enum Target {
    Channel(oneshot::Sender<Result<Vec<u8>>>),
    Sink(u32, Arc<dyn Sink>),
    /// Parts go to the sink, the response to the channel (see [`Reply::relay`]).
    Relay(oneshot::Sender<Result<Vec<u8>>>, u32, Arc<dyn Sink>),
}

/// The reply slot of one queued job. Dropped unsent (the connection went away before the job
/// ran), it delivers ERR_CONNECTION_CLOSED, so no caller waits forever.
pub struct Reply(Option<Target>);

impl Reply {
    /// A reply awaited through the returned receiver.
    pub fn channel() -> (Reply, oneshot::Receiver<Result<Vec<u8>>>) {
        let (tx, rx) = oneshot::channel();
        (Reply(Some(Target::Channel(tx))), rx)
    }

    /// A reply delivered to `sink` under `id`.
    pub fn sink(id: u32, sink: Arc<dyn Sink>) -> Reply {
        Reply(Some(Target::Sink(id, sink)))
    }

    /// A reply for a job run on this one's behalf: parts go where this reply's would, the
    /// response comes back through the receiver, so that the caller can act on it (return a
    /// pooled connection) before passing it on with [`Reply::send`].
    pub fn relay(&self) -> (Reply, oneshot::Receiver<Result<Vec<u8>>>) {
        let (tx, rx) = oneshot::channel();
        let target = match &self.0 {
            Some(Target::Sink(id, sink)) | Some(Target::Relay(_, id, sink)) => {
                Target::Relay(tx, *id, sink.clone())
            }
            _ => Target::Channel(tx),
        };
        (Reply(Some(target)), rx)
    }

    /// Whether the receiver takes a result in parts ([`Reply::part`]) before the response.
    pub fn takes_parts(&self) -> bool {
        matches!(self.0, Some(Target::Sink(..)) | Some(Target::Relay(..)))
    }

    /// Delivers part of a result ahead of the response (a buffer starting with
    /// `status::PART`); ignored by receivers that do not take parts.
    pub fn part(&self, part: Vec<u8>) {
        if let Some(Target::Sink(id, sink)) | Some(Target::Relay(_, id, sink)) = &self.0 {
            sink.complete(*id, Ok(part));
        }
    }

    pub fn send(mut self, response: Result<Vec<u8>>) {
        if let Some(t) = self.0.take() {
            deliver(t, response);
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            deliver(t, Err(gone()));
        }
    }
}

fn deliver(t: Target, response: Result<Vec<u8>>) {
    match t {
        Target::Channel(tx) | Target::Relay(tx, ..) => {
            let _ = tx.send(response);
        }
        Target::Sink(id, sink) => sink.complete(id, response),
    }
}

/// The error of a job whose connection went away before it completed.
pub fn gone() -> Error {
    Error::driver(
        "ERR_CONNECTION_CLOSED",
        "the connection closed before the statement completed",
    )
}
