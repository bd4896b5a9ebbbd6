//! ferropg patch: the queue that carries requests from the client to its connection, in place
//! of `futures_channel::mpsc::unbounded()`.
//!
//! Why: the futures queue allocates a node for every request sent and frees it when received,
//! with several atomic read-modify-writes each way; this one is a mutex around a `VecDeque`
//! whose buffer is reused, and the connection's waker. Same contract: unbounded, in order,
//! closed by `close_channel` or by dropping the sender (the receiver then yields what was
//! queued, then `None`), and `is_closed` once either end is done.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

struct Shared<T> {
    queue: VecDeque<T>,
    waker: Option<Waker>,
    /// No more will be sent (`close_channel`, or the sender dropped).
    closed: bool,
    receiver_alive: bool,
}

/// The client's end.
pub struct Sender<T>(Arc<Mutex<Shared<T>>>);

/// The connection's end.
pub struct Receiver<T> {
    shared: Arc<Mutex<Shared<T>>>,
    /// `poll_next` returned `None`.
    done: bool,
}

/// A new, empty queue.
pub fn unbounded<T>() -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Mutex::new(Shared {
        queue: VecDeque::new(),
        waker: None,
        closed: false,
        receiver_alive: true,
    }));
    (
        Sender(shared.clone()),
        Receiver {
            shared,
            done: false,
        },
    )
}

fn lock<T>(m: &Mutex<Shared<T>>) -> MutexGuard<'_, Shared<T>> {
    // A panic while the lock was held leaves plain data, still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl<T> Sender<T> {
    /// Queues `item`, or hands it back when the queue is closed.
    pub fn unbounded_send(&self, item: T) -> Result<(), T> {
        let waker = {
            let mut s = lock(&self.0);
            if s.closed || !s.receiver_alive {
                return Err(item);
            }
            s.queue.push_back(item);
            s.waker.take()
        };
        // Woken outside the lock: the connection may run on another thread at once.
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }

    /// Whether nothing more can be sent: closed here, or the connection is gone.
    pub fn is_closed(&self) -> bool {
        let s = lock(&self.0);
        s.closed || !s.receiver_alive
    }

    /// Closes the queue: the connection takes what was queued, then sees the end.
    pub fn close_channel(&self) {
        let waker = {
            let mut s = lock(&self.0);
            s.closed = true;
            s.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        self.close_channel();
    }
}

impl<T> Receiver<T> {
    /// The next request; `None` once the queue is closed and empty.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if self.done {
            return Poll::Ready(None);
        }
        let mut s = lock(&self.shared);
        if let Some(item) = s.queue.pop_front() {
            return Poll::Ready(Some(item));
        }
        if s.closed || !s.receiver_alive {
            self.done = true;
            return Poll::Ready(None);
        }
        match &mut s.waker {
            Some(w) if w.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }

    /// `poll_next` has returned `None`.
    pub fn is_terminated(&self) -> bool {
        self.done
    }

    /// Refuses further requests (the connection has ended) and drops those queued, so that
    /// their callers learn it now rather than when the connection itself is dropped.
    pub fn close(&mut self) {
        let queued = {
            let mut s = lock(&self.shared);
            s.receiver_alive = false;
            std::mem::take(&mut s.queue)
        };
        // Dropped outside the lock: a request's drop closes its response channel.
        drop(queued);
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn in_order_then_closed_after_draining() {
        let (tx, mut rx) = unbounded();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_next(&mut cx).is_pending());
        assert!(tx.unbounded_send(1).is_ok());
        assert!(tx.unbounded_send(2).is_ok());
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "woken once, at the first"
        );
        assert!(!tx.is_closed());
        tx.close_channel();
        assert!(tx.is_closed());
        assert_eq!(tx.unbounded_send(3), Err(3));
        assert!(matches!(rx.poll_next(&mut cx), Poll::Ready(Some(1))));
        assert!(matches!(rx.poll_next(&mut cx), Poll::Ready(Some(2))));
        assert!(!rx.is_terminated());
        assert!(matches!(rx.poll_next(&mut cx), Poll::Ready(None)));
        assert!(rx.is_terminated());
    }

    #[test]
    fn dropping_either_end_closes() {
        let (tx, mut rx) = unbounded::<u8>();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_next(&mut cx).is_pending());
        drop(tx);
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "the waiting receiver was woken"
        );
        assert!(matches!(rx.poll_next(&mut cx), Poll::Ready(None)));

        let (tx, rx) = unbounded::<Arc<()>>();
        let item = Arc::new(());
        assert!(tx.unbounded_send(item.clone()).is_ok());
        drop(rx);
        assert!(tx.is_closed());
        assert_eq!(
            Arc::strong_count(&item),
            1,
            "what was queued is dropped with the receiver"
        );
        assert!(tx.unbounded_send(item.clone()).is_err());

        // `close` (the connection ended, not yet dropped) does the same, and ends the receiver.
        let (tx, mut rx) = unbounded::<Arc<()>>();
        assert!(tx.unbounded_send(item.clone()).is_ok());
        rx.close();
        assert!(tx.is_closed());
        assert_eq!(
            Arc::strong_count(&item),
            1,
            "what was queued is dropped at close"
        );
        assert!(tx.unbounded_send(item).is_err());
        assert!(matches!(rx.poll_next(&mut cx), Poll::Ready(None)));
        assert!(rx.is_terminated());
    }
}
