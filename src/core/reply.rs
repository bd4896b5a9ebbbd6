//! Where a statement's response buffer goes when it completes.
//!
//! Either a oneshot channel (awaited in Rust: COPY target lookups, pool internals) or a `Sink`
//! keyed by a request id: the JS face collects completions in one queue and wakes the JS thread
//! once per batch, so many promises resolve per wake-up instead of one thread hop each.

use std::sync::Arc;

use tokio::sync::oneshot;

use crate::core::error::{Code, Error, Result};

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
            PARTED.with(|p| p.set(true));
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

thread_local! {
    static PARTED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether a part was delivered on this thread since the last call (the submission worker
/// polls a job and asks: a job that delivers parts has a large result).
pub fn take_parted() -> bool {
    PARTED.with(|p| p.replace(false))
}

/// The error of a job whose connection went away before it completed.
pub fn gone() -> Error {
    Error::driver(
        Code::ConnectionClosed,
        "the connection closed before the statement completed",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Collect(Mutex<Vec<(u32, Vec<u8>)>>);

    impl Sink for Collect {
        fn complete(&self, id: u32, response: Result<Vec<u8>>) {
            let body = response.unwrap_or_else(|e| e.code().as_bytes().to_vec());
            self.0.lock().unwrap().push((id, body));
        }
    }

    #[test]
    fn a_relay_sends_parts_to_the_sink_and_the_response_back() {
        let sink = Arc::new(Collect::default());
        let outer = Reply::sink(7, sink.clone());
        let (inner, mut rx) = outer.relay();
        assert!(inner.takes_parts());
        inner.part(vec![4, 1]);
        inner.send(Ok(vec![0, 2]));
        assert_eq!(rx.try_recv().unwrap().unwrap(), vec![0, 2]);
        // Only the part reached the sink; the response is the relay owner's to pass on.
        assert_eq!(*sink.0.lock().unwrap(), vec![(7, vec![4, 1])]);
        outer.send(Ok(vec![0, 3]));
        assert_eq!(sink.0.lock().unwrap().last().unwrap(), &(7, vec![0, 3]));
    }

    #[test]
    fn channels_take_no_parts_and_a_dropped_reply_reports_the_closed_connection() {
        let (r, mut rx) = Reply::channel();
        assert!(!r.takes_parts());
        let (relayed, mut rx2) = r.relay();
        assert!(!relayed.takes_parts());
        relayed.part(vec![4]);
        drop(relayed);
        let e = rx2.try_recv().unwrap().unwrap_err();
        assert_eq!(e.code(), "ERR_CONNECTION_CLOSED");
        drop(r);
        assert!(rx.try_recv().unwrap().is_err());
    }
}
