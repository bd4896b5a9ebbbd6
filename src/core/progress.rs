//! Where a connection's jobs stand: how many were queued, which are done, which are on the wire.
//!
//! Every job queued on a connection gets the next sequence number. A job is done when it has
//! been answered, or dropped without being sent, or, for a COPY, when the COPY has ended. The
//! server answers in order, but jobs can be done out of order here (one refused before it was
//! sent, a large result finished on another thread), so "the first n jobs are done" is kept
//! as `done_through`, which advances over a small set of the ones done early.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use crate::core::cancel_handle::CancelHandle;

#[derive(Default)]
pub struct Progress {
    /// Jobs queued so far (the last sequence number given out).
    submitted: AtomicU64,
    /// Jobs sent and not yet done (see `worker::barrier`).
    inflight: AtomicUsize,
    done: Mutex<Done>,
    /// Notified whenever a job is done.
    changed: Notify,
}

#[derive(Default)]
struct Done {
    /// Jobs 1..=through are all done.
    through: u64,
    /// Jobs done after `through`, waiting for the ones before them.
    early: BTreeSet<u64>,
}

impl Progress {
    /// The sequence number of a job being queued.
    pub fn next_seq(&self) -> u64 {
        self.submitted.fetch_add(1, Ordering::AcqRel) + 1
    }

    /// Jobs queued so far: a mark for [`Progress::wait_through`].
    pub fn submitted(&self) -> u64 {
        self.submitted.load(Ordering::Acquire)
    }

    /// Jobs sent and not yet done.
    pub fn inflight(&self) -> usize {
        self.inflight.load(Ordering::Acquire)
    }

    /// Job `seq` is done.
    pub fn done(&self, seq: u64) {
        {
            let mut g = self.done.lock().unwrap_or_else(|p| p.into_inner());
            let d = &mut *g;
            if seq == d.through + 1 {
                d.through = seq;
                while d.early.remove(&(d.through + 1)) {
                    d.through += 1;
                }
            } else if seq > d.through {
                d.early.insert(seq);
            }
        }
        self.changed.notify_waiters();
    }

    /// Jobs 1..=this are done.
    pub fn through(&self) -> u64 {
        self.done.lock().unwrap_or_else(|p| p.into_inner()).through
    }

    /// Waits until jobs 1..=`mark` are done, or `stop()` says to give up (checked at least
    /// every 100 ms: a closed connection's worker ends without a last notification).
    pub async fn wait_through(&self, mark: u64, stop: impl Fn() -> bool) {
        loop {
            let changed = self.changed.notified();
            if self.through() >= mark || stop() {
                return;
            }
            let _ = tokio::time::timeout(Duration::from_millis(100), changed).await;
        }
    }

    /// Resolves the next time a job is done (create it before checking a condition).
    pub fn changed(&self) -> tokio::sync::futures::Notified<'_> {
        self.changed.notified()
    }
}

/// A job on the wire: counted in flight until dropped, which marks it done (and its cancel
/// handle finished, before anyone waiting on progress looks). A COPY keeps it until it ends.
pub struct Sent {
    progress: Arc<Progress>,
    seq: u64,
    cancel: Option<Arc<CancelHandle>>,
}

impl Sent {
    pub fn new(progress: &Arc<Progress>, seq: u64, cancel: Option<Arc<CancelHandle>>) -> Sent {
        progress.inflight.fetch_add(1, Ordering::AcqRel);
        Sent {
            progress: progress.clone(),
            seq,
            cancel,
        }
    }

    pub fn cancel(&self) -> Option<&Arc<CancelHandle>> {
        self.cancel.as_ref()
    }
}

impl Drop for Sent {
    fn drop(&mut self) {
        if let Some(c) = &self.cancel {
            c.finish();
        }
        self.progress.inflight.fetch_sub(1, Ordering::AcqRel);
        self.progress.done(self.seq);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jobs_done_out_of_order_count_once_those_before_them_are_done() {
        let p = Arc::new(Progress::default());
        let (a, b, c) = (p.next_seq(), p.next_seq(), p.next_seq());
        assert_eq!((a, b, c, p.submitted()), (1, 2, 3, 3));
        let sent_a = Sent::new(&p, a, None);
        p.done(c); // refused before it was sent
        assert_eq!((p.through(), p.inflight()), (0, 1));
        p.done(b);
        assert_eq!(p.through(), 0, "job 1 is still on the wire");
        drop(sent_a);
        assert_eq!((p.through(), p.inflight()), (3, 0));
    }
}
