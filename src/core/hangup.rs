//! Ending a connection from the statement side: a statement that finds the server's stream
//! out of step (a malformed message) asks the connection's protocol task to stop, which drops
//! the socket at once. Without it the socket stayed open until the owner closed the connection
//! (a pool discards it on return; a `Client` kept it until `close()`).

use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

/// A one-way signal from a connection's statements to its protocol task. Polled on every
/// wake-up of that task, so it costs an atomic load and a waker check, not a lock.
#[derive(Default)]
pub struct Hangup {
    set: AtomicBool,
    waker: AtomicWaker,
}

impl Hangup {
    /// Asks the protocol task to end (it may be running on another thread).
    pub fn hang_up(&self) {
        self.set.store(true, Ordering::Release);
        self.waker.wake();
    }

    /// Ready once [`Hangup::hang_up`] was called; otherwise wakes `cx` when it is.
    pub fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.set.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        self.waker.register(cx.waker());
        // Set between the load and the registration: the wake went to the old waker.
        if self.set.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn ready_after_hang_up_and_wakes_the_task() {
        let h = Arc::new(Hangup::default());
        let woken = Arc::new(AtomicBool::new(false));
        struct Flag(Arc<AtomicBool>);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let waker = std::task::Waker::from(Arc::new(Flag(woken.clone())));
        let mut cx = Context::from_waker(&waker);
        assert!(h.poll(&mut cx).is_pending());
        h.hang_up();
        assert!(woken.load(Ordering::SeqCst));
        assert!(h.poll(&mut cx).is_ready());
    }
}
