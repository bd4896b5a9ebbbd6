//! ferropg patch: the channel that carries one request's backend messages from the connection
//! to its `Responses`, in place of `futures_channel::mpsc::channel(1)`.
//!
//! Why: a channel is made for every request, and the futures one costs three allocations (its
//! shared state, the sender's parking slot, and a queue node per message sent) and several
//! atomic read-modify-writes per message. This one is a single allocation (a mutex around two
//! slots and two wakers), and holds at most two chunks of messages, as `mpsc::channel(1)` with
//! its one sender did (a buffer of one, plus one per sender): the connection stops reading
//! the socket for a request whose reader is two chunks behind.

use crate::codec::BackendMessages;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

struct Shared {
    /// Queued chunks, the oldest first; `queue[1]` is only set when `queue[0]` is.
    queue: [Option<BackendMessages>; 2],
    receiver_waker: Option<Waker>,
    sender_waker: Option<Waker>,
    sender_alive: bool,
    receiver_alive: bool,
}

/// The connection's end: where a request's chunks of backend messages are sent.
pub struct Sender(Arc<Mutex<Shared>>);

/// The request's end (inside `Responses`).
pub struct Receiver(Arc<Mutex<Shared>>);

/// The receiver was dropped: nobody reads this request's messages any more.
pub struct Closed;

/// A new channel for one request.
pub fn channel() -> (Sender, Receiver) {
    let shared = Arc::new(Mutex::new(Shared {
        queue: [None, None],
        receiver_waker: None,
        sender_waker: None,
        sender_alive: true,
        receiver_alive: true,
    }));
    (Sender(shared.clone()), Receiver(shared))
}

fn lock(m: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic while the lock was held leaves plain data, still consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Keeps `cx`'s waker in `slot`, cloning it only when it would wake another task.
fn register(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(w) if w.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

impl Sender {
    /// Ready when a chunk can be sent now; an error when the receiver is gone.
    pub fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Closed>> {
        let mut s = lock(&self.0);
        if !s.receiver_alive {
            return Poll::Ready(Err(Closed));
        }
        if s.queue[1].is_some() {
            register(&mut s.sender_waker, cx);
            return Poll::Pending;
        }
        Poll::Ready(Ok(()))
    }

    /// Queues `messages` (after `poll_ready` said Ready). Dropped if the receiver is gone.
    pub fn start_send(&mut self, messages: BackendMessages) -> Result<(), Closed> {
        let waker = {
            let mut s = lock(&self.0);
            if !s.receiver_alive {
                return Err(Closed);
            }
            let slot = if s.queue[0].is_none() { 0 } else { 1 };
            s.queue[slot] = Some(messages);
            s.receiver_waker.take()
        };
        // Woken outside the lock: the woken task may run on another thread at once.
        if let Some(w) = waker {
            w.wake();
        }
        Ok(())
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let waker = {
            let mut s = lock(&self.0);
            s.sender_alive = false;
            s.receiver_waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Receiver {
    /// The next chunk; `None` once the sender is gone and every chunk it sent was taken.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<BackendMessages>> {
        let (next, waker) = {
            let mut s = lock(&self.0);
            match s.queue[0].take() {
                Some(m) => {
                    s.queue[0] = s.queue[1].take();
                    (Some(m), s.sender_waker.take())
                }
                None if !s.sender_alive => return Poll::Ready(None),
                None => {
                    register(&mut s.receiver_waker, cx);
                    return Poll::Pending;
                }
            }
        };
        // The connection may have stopped reading for want of room: room was just made.
        if let Some(w) = waker {
            w.wake();
        }
        Poll::Ready(next)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let (queued, waker) = {
            let mut s = lock(&self.0);
            s.receiver_alive = false;
            (std::mem::take(&mut s.queue), s.sender_waker.take())
        };
        drop(queued);
        if let Some(w) = waker {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn chunk(n: u8) -> BackendMessages {
        // A ReadyForQuery ('Z', length 5, status n): one whole message.
        BackendMessages(BytesMut::from(&[b'Z', 0, 0, 0, 5, n][..]))
    }

    fn status(m: BackendMessages) -> u8 {
        use fallible_iterator::FallibleIterator;
        let mut m = m;
        match m.next() {
            Ok(Some(postgres_protocol::message::backend::Message::ReadyForQuery(b))) => b.status(),
            _ => 0,
        }
    }

    #[test]
    fn two_chunks_then_backpressure_in_order() {
        let (mut tx, mut rx) = channel();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(rx.poll_next(&mut cx).is_pending());
        for n in [1, 2] {
            assert!(matches!(tx.poll_ready(&mut cx), Poll::Ready(Ok(()))));
            assert!(tx.start_send(chunk(n)).is_ok());
        }
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "the waiting receiver was woken once"
        );
        assert!(tx.poll_ready(&mut cx).is_pending(), "a third chunk waits");
        let Poll::Ready(Some(m)) = rx.poll_next(&mut cx) else {
            panic!("no chunk")
        };
        assert_eq!(status(m), 1);
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            2,
            "the waiting sender was woken"
        );
        assert!(matches!(tx.poll_ready(&mut cx), Poll::Ready(Ok(()))));
        assert!(tx.start_send(chunk(3)).is_ok());
        drop(tx);
        let mut got = vec![];
        while let Poll::Ready(Some(m)) = rx.poll_next(&mut cx) {
            got.push(status(m));
        }
        assert_eq!(got, [2, 3]);
        assert!(
            matches!(rx.poll_next(&mut cx), Poll::Ready(None)),
            "ends once the sender is gone"
        );
    }

    #[test]
    fn a_dropped_receiver_closes_the_sender() {
        let (mut tx, rx) = channel();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(tx.start_send(chunk(1)).is_ok());
        assert!(tx.start_send(chunk(2)).is_ok());
        assert!(tx.poll_ready(&mut cx).is_pending());
        drop(rx);
        assert_eq!(
            count.0.load(Ordering::SeqCst),
            1,
            "the waiting sender was woken"
        );
        assert!(matches!(tx.poll_ready(&mut cx), Poll::Ready(Err(Closed))));
        assert!(tx.start_send(chunk(3)).is_err());
    }
}
