//! The jobs a connection's submission worker has sent and not finished: each polled when it is
//! woken, in the order they were woken.
//!
//! Why not futures-util's `FuturesUnordered`: each time it has polled every future it holds
//! once, it wakes its own task to let others run. With one job in flight (a serial caller,
//! W1) that was every time, so the worker ran once more per query to find nothing to do (and
//! a job pushed into it was polled twice before the worker could take the next). Here a
//! future that wakes itself while it is polled is polled again at the next poll of the set,
//! which its wake-up asks for: nothing can stall, and nothing runs for nothing.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use futures_util::task::AtomicWaker;

/// What the jobs' wakers reach: which jobs were woken, and the task to wake for them.
#[derive(Default)]
struct Shared {
    ready: Mutex<Vec<usize>>,
    task: AtomicWaker,
}

/// One job's waker.
struct Flag {
    slot: usize,
    /// Set while the job's number is in `ready` (a job is queued once however often it wakes).
    queued: AtomicBool,
    shared: Arc<Shared>,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref()
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.queued.swap(true, Ordering::AcqRel) {
            lock(&self.shared.ready).push(self.slot);
            self.shared.task.wake();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Slot<F> {
    future: F,
    flag: Arc<Flag>,
    waker: Waker,
}

/// A set of futures polled as they are woken; `next` yields once for each that finishes.
pub struct Inflight<F> {
    slots: Vec<Option<Slot<F>>>,
    free: Vec<usize>,
    len: usize,
    shared: Arc<Shared>,
    /// The woken jobs taken from `shared.ready` and not polled yet (kept for its capacity).
    batch: Vec<usize>,
}

impl<F> Default for Inflight<F> {
    fn default() -> Self {
        Inflight {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
            shared: Arc::default(),
            batch: Vec::new(),
        }
    }
}

impl<F: Future<Output = ()> + Unpin> Inflight<F> {
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `future`, to be polled at the set's next poll: its caller's to make (no task is
    /// woken for it, the caller's own would be).
    pub fn push(&mut self, future: F) {
        let slot = self.free.pop().unwrap_or_else(|| {
            self.slots.push(None);
            self.slots.len() - 1
        });
        let flag = Arc::new(Flag {
            slot,
            queued: AtomicBool::new(false),
            shared: self.shared.clone(),
        });
        let waker = Waker::from(flag.clone());
        flag.queued.store(true, Ordering::Release);
        lock(&self.shared.ready).push(slot);
        self.slots[slot] = Some(Slot {
            future,
            flag,
            waker,
        });
        self.len += 1;
    }

    /// Polls the futures woken before this call, once each; `Some(())` as soon as one
    /// finishes (the rest of them are polled at the next call), `None` when the set is empty.
    /// One woken while it is polled waits for the next call, which its wake-up asks for: a
    /// future that keeps waking itself (tokio's cooperative budget) cannot hold the thread.
    pub fn poll_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if self.len == 0 {
            return Poll::Ready(None);
        }
        self.shared.task.register(cx.waker());
        if self.batch.is_empty() {
            std::mem::swap(&mut self.batch, &mut *lock(&self.shared.ready));
            // Polled in the order they were woken.
            self.batch.reverse();
        }
        while let Some(i) = self.batch.pop() {
            let Some(slot) = self.slots.get_mut(i).and_then(Option::as_mut) else {
                continue;
            };
            // Cleared before the poll: a wake-up during it queues the job again.
            slot.flag.queued.store(false, Ordering::Release);
            let mut job_cx = Context::from_waker(&slot.waker);
            if Pin::new(&mut slot.future).poll(&mut job_cx).is_ready() {
                // Its flag stays set: a late wake-up of a finished job queues nothing.
                slot.flag.queued.store(true, Ordering::Release);
                self.slots[i] = None;
                self.free.push(i);
                self.len -= 1;
                return Poll::Ready(Some(()));
            }
        }
        Poll::Pending
    }

    /// Waits for the next future to finish (`None` once the set is empty).
    pub fn next_done(&mut self) -> Next<'_, F> {
        Next { set: self }
    }
}

/// The future of [`Inflight::next_done`].
pub struct Next<'a, F> {
    set: &'a mut Inflight<F>,
}

impl<F: Future<Output = ()> + Unpin> Future for Next<'_, F> {
    type Output = Option<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.set.poll_next(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    /// Pending until its `go` flag is set; counts its polls; wakes itself once when asked to.
    struct Probe {
        go: Arc<AtomicBool>,
        polls: Arc<AtomicUsize>,
        yield_once: bool,
        waker: Arc<Mutex<Option<Waker>>>,
    }

    impl Future for Probe {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            self.polls.fetch_add(1, Ordering::SeqCst);
            if self.yield_once {
                self.yield_once = false;
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            if self.go.load(Ordering::SeqCst) {
                return Poll::Ready(());
            }
            *self.waker.lock().unwrap() = Some(cx.waker().clone());
            Poll::Pending
        }
    }

    struct Counting(AtomicUsize);
    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// A probe and its handles: `go`, its poll count, the waker it last registered.
    type Handles = (Arc<AtomicBool>, Arc<AtomicUsize>, Arc<Mutex<Option<Waker>>>);

    fn probe(yield_once: bool) -> (Probe, Handles) {
        let go = Arc::new(AtomicBool::new(false));
        let polls = Arc::new(AtomicUsize::new(0));
        let waker = Arc::new(Mutex::new(None));
        let p = Probe {
            go: go.clone(),
            polls: polls.clone(),
            yield_once,
            waker: waker.clone(),
        };
        (p, (go, polls, waker))
    }

    #[test]
    fn polls_each_woken_job_once_and_does_not_wake_itself_for_nothing() {
        let task = Arc::new(Counting(AtomicUsize::new(0)));
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);
        let mut set = Inflight::default();
        let (a, (a_go, a_polls, a_waker)) = probe(false);
        let (b, (b_go, b_polls, _)) = probe(false);
        set.push(a);
        set.push(b);
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        assert_eq!(
            (
                a_polls.load(Ordering::SeqCst),
                b_polls.load(Ordering::SeqCst)
            ),
            (1, 1)
        );
        // Nothing woke: the set's task was not woken, and polling again polls nothing.
        assert_eq!(task.0.load(Ordering::SeqCst), 0);
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        assert_eq!(a_polls.load(Ordering::SeqCst), 1);
        // A job's wake-up wakes the set's task, and only that job is polled.
        a_go.store(true, Ordering::SeqCst);
        a_waker.lock().unwrap().take().unwrap().wake();
        assert_eq!(task.0.load(Ordering::SeqCst), 1);
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some(())));
        assert_eq!(
            (
                a_polls.load(Ordering::SeqCst),
                b_polls.load(Ordering::SeqCst)
            ),
            (2, 1)
        );
        assert!(!set.is_empty());
        b_go.store(true, Ordering::SeqCst);
        assert_eq!(set.poll_next(&mut cx), Poll::Pending, "b was not woken");
        drop(b_go);
    }

    #[test]
    fn a_job_that_wakes_itself_is_polled_again_at_the_next_poll() {
        let task = Arc::new(Counting(AtomicUsize::new(0)));
        let waker = Waker::from(task.clone());
        let mut cx = Context::from_waker(&waker);
        let mut set = Inflight::default();
        let (a, (a_go, a_polls, _)) = probe(true);
        a_go.store(true, Ordering::SeqCst);
        set.push(a);
        // Its own wake-up queues it again and wakes the set's task (no stall); it runs at the
        // next poll, not again within this one.
        assert_eq!(set.poll_next(&mut cx), Poll::Pending);
        assert_eq!(a_polls.load(Ordering::SeqCst), 1);
        assert_eq!(task.0.load(Ordering::SeqCst), 1);
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(Some(())));
        assert_eq!(a_polls.load(Ordering::SeqCst), 2);
        assert!(set.is_empty());
        assert_eq!(set.poll_next(&mut cx), Poll::Ready(None));
    }
}
