//! `pool.query` on a busy pool: instead of queueing for a free connection, a plain statement
//! rides a connection that other `pool.query` calls are already using, and is pipelined behind
//! them (each statement keeps its own Sync, so errors stay isolated).
//!
//! Why: with every connection checked out by a single statement, throughput is `max` round trips
//! at a time, each paying the full JS <-> runtime <-> server latency. Sharing is what postgres.js
//! and Bun do for their pools. Rules that keep it safe:
//! - only statements that cannot change the transaction state ride (`SELECT`, `INSERT`,
//!   `UPDATE`, `DELETE`, `MERGE`, `VALUES`, `TABLE`, `WITH ...`); anything else borrows a
//!   connection of its own;
//! - riding happens only when the pool is at `max`, no connection is idle and no borrower
//!   waits for a connection of its own (so `pool.connect()` / transactions are not starved:
//!   once one waits, leases drain and their connections go back to the pool);
//! - a connection the server reports inside a transaction after a statement is discarded when
//!   its last rider leaves, as for an exclusive `pool.query`.
//!
//! The cost is head-of-line blocking: a slow statement delays the ones pipelined behind it.
//!
//! A lease whose last statement is done lingers until JS has reacted to that completion (on the
//! loop driver: later in the same libuv callback, `Driver::after_js`), so that a caller that
//! sends its next statement as soon as the last one resolves (a serial loop of `pool.query`)
//! takes the same connection without returning it to the pool and borrowing it again: no
//! borrow task, no recycle checks, no allocations for them (W1: about 2.3k instructions of
//! 40.5k per query). It is taken only when nobody waits in the pool, within
//! `maxLifetimeSeconds` and short of `healthCheckAfterMillis`, and it is counted as idle by
//! `pool.stats()`.

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use crate::core::conn::{Conn, Params};
use crate::core::driver::Driver;
use crate::core::error::{Code, Error};
use crate::core::pool::{Object, Pool};
use crate::core::reply::Reply;
use crate::core::retry::Retry;
use crate::core::session::TxStatus;
use crate::core::sql_text::can_share;

/// A checked-out connection shared by the `pool.query` calls riding it.
pub struct Lease {
    obj: Option<Object>,
    /// Statements in flight on it; changed only under the registry's lock.
    riders: AtomicUsize,
    /// Left inside a transaction: take no new riders, discard at the end.
    poisoned: AtomicBool,
    /// When its last statement finished, while it lingers and `healthCheckAfterMillis` is set.
    idle_since: Mutex<Option<Instant>>,
}

impl Lease {
    fn new(obj: Object) -> Lease {
        Lease {
            obj: Some(obj),
            riders: AtomicUsize::new(1),
            poisoned: AtomicBool::new(false),
            idle_since: Mutex::new(None),
        }
    }

    /// `None` only while dropping.
    fn conn(&self) -> Option<&Conn> {
        self.obj.as_deref().map(|c| &**c)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(obj) = self.obj.take() {
            if self.poisoned.load(Ordering::Relaxed) || !obj.is_clean() {
                Pool::discard(obj);
            }
        }
    }
}

/// One statement's place on a lease; dropped when its response is complete (or it failed).
struct Rider {
    leases: Arc<Leases>,
    lease: Arc<Lease>,
}

impl Drop for Rider {
    fn drop(&mut self) {
        self.leases.leave(&self.lease);
    }
}

/// The leases currently shared, per pool.
pub struct Leases {
    /// Leases with statements in flight, and lingering ones (no riders; see the module doc).
    shared: Mutex<Vec<Arc<Lease>>>,
    driver: Arc<dyn Driver>,
    /// `healthCheckAfterMillis`: a lease lingering that long goes through the pool's check.
    health_check_after: Option<Duration>,
}

impl Leases {
    /// `driver`: where the pool's connections run (see `Driver::after_js`).
    pub fn new(driver: Arc<dyn Driver>, health_check_after: Option<Duration>) -> Leases {
        Leases {
            shared: Mutex::new(Vec::new()),
            driver,
            health_check_after,
        }
    }

    /// `pool.query`: queued at once on a shared connection when the pool is full; otherwise the
    /// returned future (to be spawned) borrows a connection and queues it there. Either way the
    /// response goes straight to `reply`; the statement leaves its lease when the response is
    /// complete (a guard on the reply), with no task waiting for it.
    /// `retry`: where the statement goes if its connection closes before it runs.
    pub fn query(
        self: &Arc<Self>,
        pool: &Arc<Pool>,
        sql: String,
        params: Params,
        reply: Reply,
        retry: Option<Arc<dyn Retry>>,
    ) -> Option<impl Future<Output = ()> + Send + 'static> {
        let share = can_share(&sql);
        if let Some(lease) = share.then(|| self.ride(pool)).flatten() {
            self.run(lease, sql, params, reply, retry);
            return None;
        }
        if !share {
            // A statement that needs a connection of its own gets a lingering one, rather than
            // the pool opening another beside it.
            self.release_lingering();
        }
        Some(
            self.clone()
                .borrow(pool.clone(), share, sql, params, reply, retry),
        )
    }

    /// Borrows a connection (to share when `share`) and queues the statement on it.
    async fn borrow(
        self: Arc<Self>,
        pool: Arc<Pool>,
        share: bool,
        sql: String,
        params: Params,
        reply: Reply,
        retry: Option<Arc<dyn Retry>>,
    ) {
        let borrowed = if share {
            pool.get_to_share().await
        } else {
            pool.get().await
        };
        match borrowed {
            Ok(obj) => {
                let lease = self.start(obj, share);
                self.run(lease, sql, params, reply, retry)
            }
            Err(e) => reply.send(Err(e)),
        }
    }

    /// Queues one statement on `lease` (implicitly pipelined behind the others).
    fn run(
        self: &Arc<Self>,
        lease: Arc<Lease>,
        sql: String,
        params: Params,
        reply: Reply,
        retry: Option<Arc<dyn Retry>>,
    ) {
        let conn = lease.obj.as_deref().cloned();
        let reply = reply.guarded(Rider {
            leases: self.clone(),
            lease,
        });
        match conn {
            Some(c) => c.submit_retrying(sql, params, reply, retry),
            None => reply.send(Err(Error::driver(
                Code::ConnectionClosed,
                "the connection was released",
            ))),
        }
    }

    /// The least busy shared connection, when the pool is full and no borrower waits for a
    /// connection of its own. `pool.query` calls waiting in the pool's queue do not count: they
    /// would otherwise keep every later one queueing too, one statement per connection per
    /// round trip, for as long as the load lasts (what a burst into a cold pool used to do).
    /// A lingering lease is taken whenever nobody waits for a connection (it is as good as the
    /// idle connection it would become); a busy one only under the conditions above.
    fn ride(&self, pool: &Pool) -> Option<Arc<Lease>> {
        if pool.exclusive_waiting() > 0 {
            return None;
        }
        let s = pool.stats();
        let full = s.idle == 0 && s.size >= s.max;
        let shared = self.shared.lock().ok()?;
        let max_life = pool.config.pool.max_lifetime;
        let best = shared
            .iter()
            // A connection that died while its last riders finish must not take new ones: the
            // statement goes to a fresh connection instead of failing with it.
            .filter(|l| {
                !l.poisoned.load(Ordering::Relaxed) && l.conn().is_some_and(|c| !c.is_closed())
            })
            // A lingering lease goes back to the pool when anyone waits there: taken again
            // and again by the callers that keep it busy, it would starve them.
            .filter(|l| match l.riders.load(Ordering::Relaxed) {
                0 => s.waiting == 0,
                _ => full,
            })
            // What the pool's recycle check would refuse (the others cannot have changed since
            // the connection was last handed out, moments ago).
            .filter(|l| max_life.is_none_or(|m| l.conn().is_some_and(|c| c.created.elapsed() < m)))
            // `healthCheckAfterMillis` (0: every hand-out) applies to a lingering lease too.
            .filter(|l| {
                l.riders.load(Ordering::Relaxed) > 0
                    || self.health_check_after.is_none_or(|h| {
                        let since = *l.idle_since.lock().unwrap_or_else(|p| p.into_inner());
                        since.is_none_or(|t| t.elapsed() < h)
                    })
            })
            .min_by_key(|l| l.riders.load(Ordering::Relaxed))?;
        best.riders.fetch_add(1, Ordering::Relaxed);
        Some(best.clone())
    }

    /// How many leases linger with no statement (idle connections, to `pool.stats()`).
    pub fn lingering(&self) -> usize {
        self.shared.lock().map_or(0, |s| {
            s.iter()
                .filter(|l| l.riders.load(Ordering::Relaxed) == 0)
                .count()
        })
    }

    /// Returns the lingering leases' connections to the pool now (before a borrow of a
    /// connection of one's own, which should get one of them rather than open another).
    pub fn release_lingering(&self) {
        let released: Vec<Arc<Lease>> = match self.shared.lock() {
            Ok(mut shared) => {
                let (idle, busy) = std::mem::take(&mut *shared)
                    .into_iter()
                    .partition(|l| l.riders.load(Ordering::Relaxed) == 0);
                *shared = busy;
                idle
            }
            Err(_) => return,
        };
        // Dropped outside the lock: returning a connection takes the pool's own.
        drop(released);
    }

    /// Ends `lease`'s lingering after `turns` more passes of the driver's deferred calls; false
    /// where the driver cannot defer. Why two passes from `leave`: a statement leaves its lease
    /// just before its response is queued for JS (`Reply::send`), so the first pass runs
    /// before `onReady`, the second after JS has sent its next statement.
    /// The deferred call holds the lease weakly: released meanwhile (`release_lingering`), its
    /// connection goes back to the pool at once, not when the call runs.
    fn release_later(self: &Arc<Self>, lease: Weak<Lease>, turns: u8) -> bool {
        let leases = self.clone();
        let end: Box<dyn FnOnce()> = Box::new(move || {
            if turns == 0 || !leases.release_later(lease.clone(), turns - 1) {
                if let Some(lease) = lease.upgrade() {
                    leases.release_if_idle(&lease)
                }
            }
        });
        self.driver.after_js(end).is_ok()
    }

    /// Ends `lease`'s lingering unless a statement has taken it meanwhile.
    fn release_if_idle(&self, lease: &Arc<Lease>) {
        let mut found = None;
        if let Ok(mut shared) = self.shared.lock() {
            if lease.riders.load(Ordering::Relaxed) == 0 {
                if let Some(i) = shared.iter().position(|l| Arc::ptr_eq(l, lease)) {
                    found = Some(shared.swap_remove(i));
                }
            }
        }
        drop(found);
    }

    /// Wraps a freshly borrowed connection; `share` makes it available to riders.
    fn start(&self, obj: Object, share: bool) -> Arc<Lease> {
        let lease = Arc::new(Lease::new(obj));
        if share {
            if let Ok(mut shared) = self.shared.lock() {
                shared.push(lease.clone());
            }
        }
        lease
    }

    /// One statement on `lease` is done; the last one out unshares it, which returns the
    /// connection to the pool (or discards it) when the final reference drops. A shared,
    /// healthy lease lingers first where the driver allows it (see the module doc).
    fn leave(self: &Arc<Self>, lease: &Arc<Lease>) {
        if lease
            .conn()
            .is_some_and(|c| c.transaction_status() != TxStatus::Idle)
        {
            lease.poisoned.store(true, Ordering::Relaxed);
        }
        if let Ok(mut shared) = self.shared.lock() {
            if lease.riders.fetch_sub(1, Ordering::Relaxed) == 1 {
                let linger = !lease.poisoned.load(Ordering::Relaxed)
                    && shared.iter().any(|l| Arc::ptr_eq(l, lease))
                    && self.release_later(Arc::downgrade(lease), 1);
                if !linger {
                    shared.retain(|l| !Arc::ptr_eq(l, lease));
                } else if self.health_check_after.is_some() {
                    *lease.idle_since.lock().unwrap_or_else(|p| p.into_inner()) =
                        Some(Instant::now());
                }
            }
        }
    }
}

/// `pool.query`'s retry (see `Error::unrun`): the statement borrows a connection of its own,
/// never riding one that may be going down with the first, and runs there once more, with no
/// further retry.
pub struct Retrier {
    leases: Arc<Leases>,
    pool: Arc<Pool>,
    driver: Arc<dyn Driver>,
}

impl Retrier {
    pub fn new(leases: Arc<Leases>, pool: Arc<Pool>, driver: Arc<dyn Driver>) -> Retrier {
        Retrier {
            leases,
            pool,
            driver,
        }
    }
}

impl Retry for Retrier {
    fn retry(&self, sql: String, params: Params, reply: Reply) {
        let share = can_share(&sql);
        // The first connection's lease is left now, not when the second attempt answers.
        let reply = reply.unguarded();
        let task = self
            .leases
            .clone()
            .borrow(self.pool.clone(), share, sql, params, reply, None);
        self.driver.spawn(Box::pin(task));
    }
}
