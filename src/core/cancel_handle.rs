//! A caller's wish to stop one statement (`signal`, `timeoutMillis`), and where that statement
//! is: still queued, sent, or done.
//!
//! The rule it serves: a CancelRequest stops whatever the backend runs at that moment, so it is
//! sent only while the target statement is the one running. A statement not yet sent is taken
//! out of the queue instead (the worker skips it); one sent behind others is cancelled once
//! they have completed; nothing is sent behind it meanwhile (see `worker`), so the cancel
//! cannot land on another caller's statement.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

use tokio::sync::Notify;

const QUEUED: u8 = 0;
const SENT: u8 = 1;
const DONE: u8 = 2;
const CANCELLED_QUEUED: u8 = 3;
const CANCEL_WANTED: u8 = 4;

/// What [`CancelHandle::cancel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// Not sent, and it never will be: the caller settles now.
    NotSent = 0,
    /// Sent: it is cancelled on the server when it runs; its answer settles the caller.
    WhenRunning = 1,
    /// Already answered (or unknown): its answer settles the caller.
    TooLate = 2,
}

#[derive(Default)]
pub struct CancelHandle {
    state: AtomicU8,
    wanted: Notify,
    /// Set when the server did not answer the cancel in time (see `worker::barrier`).
    given_up: AtomicBool,
    give_up: Notify,
}

impl CancelHandle {
    /// Called by the worker before it sends the statement: false when it was cancelled while
    /// queued (then it must not be sent).
    pub fn start(&self) -> bool {
        self.state
            .compare_exchange(QUEUED, SENT, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    /// The statement's answer arrived.
    pub fn finish(&self) {
        self.state.store(DONE, Ordering::Release);
        self.wanted.notify_one();
    }

    /// The caller wants the statement stopped.
    pub fn cancel(&self) -> Cancelled {
        match self.state.compare_exchange(
            QUEUED,
            CANCELLED_QUEUED,
            Ordering::AcqRel,
            Ordering::Acquire,
        ) {
            Ok(_) => Cancelled::NotSent,
            Err(SENT) => {
                if self
                    .state
                    .compare_exchange(SENT, CANCEL_WANTED, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    self.wanted.notify_one();
                    Cancelled::WhenRunning
                } else {
                    Cancelled::TooLate
                }
            }
            Err(CANCEL_WANTED) => Cancelled::WhenRunning,
            Err(CANCELLED_QUEUED) => Cancelled::NotSent,
            Err(_) => Cancelled::TooLate,
        }
    }

    /// Whether nothing more can happen to it (answered, or taken out of the queue).
    pub fn is_over(&self) -> bool {
        matches!(self.state.load(Ordering::Acquire), DONE | CANCELLED_QUEUED)
    }

    /// Whether the statement has been answered.
    pub fn is_done(&self) -> bool {
        self.state.load(Ordering::Acquire) == DONE
    }

    /// Whether a cancel is wanted for the sent statement.
    pub fn wanted(&self) -> bool {
        self.state.load(Ordering::Acquire) == CANCEL_WANTED
    }

    /// The worker gives up on the statement: its job is dropped.
    pub fn abandon(&self) {
        self.given_up.store(true, Ordering::Release);
        self.give_up.notify_one();
    }

    /// Whether [`CancelHandle::abandon`] was called.
    pub fn is_abandoned(&self) -> bool {
        self.given_up.load(Ordering::Acquire)
    }

    /// Resolves once [`CancelHandle::abandon`] was called.
    pub async fn abandoned(&self) {
        while !self.given_up.load(Ordering::Acquire) {
            self.give_up.notified().await;
        }
    }

    /// Resolves when the caller asks for a cancel (or the statement is done).
    pub async fn changed(&self) {
        self.wanted.notified().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_statement_is_taken_out_and_never_sent() {
        let h = CancelHandle::default();
        assert_eq!(h.cancel(), Cancelled::NotSent);
        assert!(!h.start());
        assert_eq!(h.cancel(), Cancelled::NotSent);
    }

    #[test]
    fn a_sent_statement_is_cancelled_when_running_and_a_done_one_is_not() {
        let h = CancelHandle::default();
        assert!(h.start());
        assert!(!h.wanted());
        assert_eq!(h.cancel(), Cancelled::WhenRunning);
        assert!(h.wanted());
        h.finish();
        assert_eq!(h.cancel(), Cancelled::TooLate);
        assert!(!h.wanted());
    }
}
