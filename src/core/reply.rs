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
}

/// The reply slot of one queued job. Dropped unsent (the connection went away before the job
/// ran), it delivers ERR_CONNECTION_CLOSED, so no caller waits forever.
pub struct Reply(Option<Target>, Option<Box<dyn Send + Sync>>);

impl Reply {
    /// A reply awaited through the returned receiver.
    pub fn channel() -> (Reply, oneshot::Receiver<Result<Vec<u8>>>) {
        let (tx, rx) = oneshot::channel();
        (Reply(Some(Target::Channel(tx)), None), rx)
    }

    /// A reply delivered to `sink` under `id`.
    pub fn sink(id: u32, sink: Arc<dyn Sink>) -> Reply {
        Reply(Some(Target::Sink(id, sink)), None)
    }

    /// Whether the receiver takes a result in parts ([`Reply::part`]) before the response.
    pub fn takes_parts(&self) -> bool {
        matches!(self.0, Some(Target::Sink(..)))
    }

    /// Delivers part of a result ahead of the response (a buffer starting with
    /// `status::PART`); ignored by receivers that do not take parts.
    pub fn part(&self, part: Vec<u8>) {
        if let Some(Target::Sink(id, sink)) = &self.0 {
            PARTED.with(|p| p.set(true));
            sink.complete(*id, Ok(part));
        }
    }

    /// Delivers responses ahead of the reply, as [`Reply::part`] does, but without asking for
    /// the connection's protocol task to move off the JS thread (`take_parted`).
    pub fn ahead(&self, part: Vec<u8>) {
        if let Some(Target::Sink(id, sink)) = &self.0 {
            sink.complete(*id, Ok(part));
        }
    }

    /// This reply with `guard`, dropped when the response is complete, just before it is
    /// delivered (so the caller sees what the guard does, e.g. a pooled connection returned).
    pub fn guarded(mut self, guard: impl Send + Sync + 'static) -> Reply {
        self.1 = Some(Box::new(guard));
        self
    }

    /// This reply without its guard, which drops now (a statement moving to another
    /// connection leaves the first one's lease before it is queued on the second).
    pub fn unguarded(mut self) -> Reply {
        drop(self.1.take());
        self
    }

    pub fn send(mut self, response: Result<Vec<u8>>) {
        drop(self.1.take());
        if let Some(t) = self.0.take() {
            deliver(t, response);
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        drop(self.1.take());
        if let Some(t) = self.0.take() {
            deliver(t, Err(gone()));
        }
    }
}

fn deliver(t: Target, response: Result<Vec<u8>>) {
    match t {
        Target::Channel(tx) => {
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

/// The error of a request whose answer stopped: [`gone`] when the connection closed, and
/// ERR_PROTOCOL when the server's messages could not be read (a malformed message, or a
/// malformed length that ended the connection: the server's fault, not a lost connection).
pub fn lost(e: tokio_postgres::Error) -> Error {
    if e.is_closed() {
        gone()
    } else {
        e.into()
    }
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

    /// Records, when dropped, how many responses the sink had by then.
    struct Seen(Arc<Collect>, Arc<Mutex<Option<usize>>>);

    impl Drop for Seen {
        fn drop(&mut self) {
            *self.1.lock().unwrap() = Some(self.0 .0.lock().unwrap().len());
        }
    }

    #[test]
    fn a_guard_drops_before_the_response_is_delivered_and_parts_go_ahead() {
        let sink = Arc::new(Collect::default());
        let seen = Arc::new(Mutex::new(None));
        let r = Reply::sink(7, sink.clone()).guarded(Seen(sink.clone(), seen.clone()));
        assert!(r.takes_parts());
        r.part(vec![4, 1]);
        assert_eq!(*seen.lock().unwrap(), None);
        r.send(Ok(vec![0, 2]));
        // Dropped after the part, before the response.
        assert_eq!(*seen.lock().unwrap(), Some(1));
        assert_eq!(
            *sink.0.lock().unwrap(),
            vec![(7, vec![4, 1]), (7, vec![0, 2])]
        );
    }

    #[test]
    fn a_dropped_reply_reports_the_closed_connection_after_its_guard() {
        let sink = Arc::new(Collect::default());
        let seen = Arc::new(Mutex::new(None));
        drop(Reply::sink(3, sink.clone()).guarded(Seen(sink.clone(), seen.clone())));
        assert_eq!(*seen.lock().unwrap(), Some(0));
        assert_eq!(
            *sink.0.lock().unwrap(),
            vec![(3, b"ERR_CONNECTION_CLOSED".to_vec())]
        );
        let (r, mut rx) = Reply::channel();
        assert!(!r.takes_parts());
        r.part(vec![4]);
        drop(r);
        let e = rx.try_recv().unwrap().unwrap_err();
        assert_eq!(e.code(), "ERR_CONNECTION_CLOSED");
    }
}
