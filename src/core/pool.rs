//! The connection pool: deadpool's managed pool with a manager of our own.
//!
//! deadpool-postgres's stock manager keeps an unbounded statement cache and hides the
//! connection task; ours creates `Conn`s (bounded LRU, server facts) and discards a connection
//! on return when it is closed, broken or past `maxLifetimeSeconds`.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use deadpool::managed::{self, Metrics, RecycleError, RecycleResult};
use deadpool_postgres::{PoolConfig, Runtime, Timeouts};
use tokio::sync::Notify;

use crate::core::config::Config;
use crate::core::conn::Conn;
use crate::core::driver::Driver;
use crate::core::error::{Code, Error, Result};
use crate::core::events::Events;
use crate::core::pool_metrics::{MetricsSnapshot, PoolMetrics};

pub use crate::core::connect::{PasswordSource, PasswordTarget};

pub struct Manager {
    config: Arc<Config>,
    password: Option<Arc<dyn PasswordSource>>,
    events: Option<Arc<dyn Events>>,
    driver: Arc<dyn Driver>,
    metrics: Arc<PoolMetrics>,
}

impl managed::Manager for Manager {
    type Type = Arc<Conn>;
    type Error = Error;

    async fn create(&self) -> Result<Arc<Conn>> {
        Conn::connect(
            &self.config,
            self.password.as_deref(),
            self.events.clone(),
            &self.driver,
        )
        .await
        .map(|c| {
            self.metrics.created();
            Arc::new(c)
        })
    }

    async fn recycle(&self, conn: &mut Arc<Conn>, metrics: &Metrics) -> RecycleResult<Error> {
        if conn.is_closed() {
            return Err(RecycleError::message("connection closed"));
        }
        // Returned with statements still running: their answers decide. A statement answered
        // just as it was released settles within microseconds; one still running after
        // SETTLE_WAIT means the connection is busy, and it is discarded. Inside a transaction
        // block, as the server then says: never handed to the next borrower.
        // The waits here are boxed, and taken only when needed: this future is part of every
        // `pool.query` that borrows, which moves it (W1: a borrow per query).
        if !conn.is_settled()
            && Box::pin(tokio::time::timeout(SETTLE_WAIT, conn.settled()))
                .await
                .is_err()
        {
            return Err(RecycleError::message(
                "connection returned with statements running",
            ));
        }
        if !conn.is_clean() {
            return Err(RecycleError::message(
                "connection returned inside a transaction",
            ));
        }
        // Runs each time an idle connection is handed out: a backend terminated while idle has
        // sent its FATAL and closed, which the connection's task may not have read yet (the JS
        // thread was busy): such a connection is never handed to a caller.
        if conn.idle_input() {
            return Err(RecycleError::message(
                "the server is closing the idle connection",
            ));
        }
        // `healthCheckAfterMillis`: a connection idle that long must answer a round trip (a
        // peer that vanished without a word, e.g. behind a load balancer that dropped the flow,
        // shows nothing on the socket until something is sent).
        if let Some(after) = self.config.pool.health_check_after {
            if metrics.last_used() >= after {
                let wait = self.config.connect_timeout.unwrap_or(HEALTH_CHECK_WAIT);
                match Box::pin(tokio::time::timeout(wait, conn.ping())).await {
                    Ok(Ok(())) => {}
                    _ => {
                        conn.mark_broken();
                        return Err(RecycleError::message("the health check got no answer"));
                    }
                }
            }
        }
        if let Some(max) = self.config.pool.max_lifetime {
            if conn.created.elapsed() >= max {
                return Err(RecycleError::message(
                    "connection reached maxLifetimeSeconds",
                ));
            }
        }
        Ok(())
    }
}

/// How long a health check may take before the connection is given up (`healthCheckAfterMillis`),
/// unless `connectTimeoutMillis` says otherwise (answering a round trip is what connecting proves).
const HEALTH_CHECK_WAIT: Duration = Duration::from_secs(5);

/// How long a returned connection's last answers are waited for (see `Manager::recycle`).
const SETTLE_WAIT: Duration = Duration::from_millis(100);

pub type Object = managed::Object<Manager>;

/// A caller's wish to stop waiting for a connection (see [`Pool::get_unless`]).
#[derive(Default)]
pub struct GiveUp {
    fired: AtomicBool,
    notify: Notify,
}

impl GiveUp {
    /// The caller gives up (its signal aborted, its timeout passed).
    pub fn fire(&self) {
        self.fired.store(true, Ordering::Release);
        // One waiter; its permit is kept if it is not waiting yet.
        self.notify.notify_one();
    }

    /// Resolves once [`GiveUp::fire`] was called.
    pub async fn fired(&self) {
        if !self.fired.load(Ordering::Acquire) {
            self.notify.notified().await;
        }
    }
}

/// A pool of connections; creating it does no I/O.
pub struct Pool {
    inner: managed::Pool<Manager>,
    pub config: Arc<Config>,
    /// Borrowers that need a connection of their own (`pool.connect()`, a `pool.query` that
    /// may not share one) waiting for it now; see `lease.rs`.
    exclusive_waiting: AtomicUsize,
    metrics: Arc<PoolMetrics>,
}

/// `pool.stats()`.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub size: usize,
    pub idle: usize,
    pub waiting: usize,
    pub max: usize,
}

impl Pool {
    pub fn new(
        config: Config,
        password: Option<Arc<dyn PasswordSource>>,
        events: Option<Arc<dyn Events>>,
        driver: Arc<dyn Driver>,
    ) -> Result<Pool> {
        let config = Arc::new(config);
        let metrics = Arc::new(PoolMetrics::default());
        let mut pc = PoolConfig::new(config.pool.max);
        // acquireTimeoutMillis bounds the whole wait, opening a connection included (see
        // `get_to_share`), not only the wait for a free slot.
        pc.timeouts = Timeouts {
            wait: None,
            create: None,
            recycle: Some(Duration::from_secs(5)),
        };
        let inner = managed::Pool::builder(Manager {
            config: config.clone(),
            password,
            events,
            driver,
            metrics: metrics.clone(),
        })
        .config(pc)
        .runtime(Runtime::Tokio1)
        .build()
        .map_err(|e| Error::config(format!("could not build the pool: {e}")))?;
        Ok(Pool {
            inner,
            config,
            exclusive_waiting: AtomicUsize::new(0),
            metrics,
        })
    }

    /// Starts the task that closes idle and aged connections. Needs a tokio runtime, so it
    /// runs on first use rather than in the constructor.
    pub fn start_reaper(&self) {
        let idle = self.config.pool.idle_timeout;
        let life = self.config.pool.max_lifetime;
        let Some(period) = [idle, life].into_iter().flatten().min() else {
            return;
        };
        let weak = self.inner.weak();
        tokio::spawn(async move {
            let tick = (period / 2).clamp(Duration::from_millis(10), Duration::from_secs(1));
            loop {
                tokio::time::sleep(tick).await;
                let Some(pool) = weak.upgrade() else { return };
                if pool.is_closed() {
                    return;
                }
                pool.retain(|conn, m| {
                    !conn.is_closed()
                        && idle.is_none_or(|i| m.last_used() < i)
                        && life.is_none_or(|l| m.age() < l)
                });
            }
        });
    }

    /// Borrows a connection for the caller alone (`pool.connect()`); counted as a borrower
    /// that shared `pool.query` leases must make room for.
    pub async fn get(&self) -> Result<Object> {
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::Relaxed);
            }
        }
        self.exclusive_waiting.fetch_add(1, Ordering::Relaxed);
        let _waiting = Waiting(&self.exclusive_waiting);
        self.get_to_share().await
    }

    /// [`Pool::get`], unless the caller gives up first (`pool.connect({ signal })`, and
    /// `pool.query` with `signal` or `timeoutMillis`): the wait is then dropped, with the
    /// connection attempt it was making, so the caller no longer counts in `stats().waiting`
    /// and the attempt's slot is free. Without it a server that accepts and never answers
    /// held the slot for as long as its socket lived. None when given up.
    pub async fn get_unless(&self, give_up: &GiveUp) -> Option<Result<Object>> {
        tokio::select! {
            biased;
            () = give_up.fired() => {
                self.metrics.abandoned();
                None
            }
            got = self.get() => Some(got),
        }
    }

    /// Borrows a connection for statements that other `pool.query` calls may ride.
    pub async fn get_to_share(&self) -> Result<Object> {
        let started = Instant::now();
        let got = self.borrow().await;
        let failed = got.as_ref().err();
        self.metrics.borrowed(
            started.elapsed(),
            failed.map(Error::code),
            failed.is_some_and(|e| e.code() == Code::PoolTimeout.as_str()),
        );
        got
    }

    async fn borrow(&self) -> Result<Object> {
        let got = match self.config.pool.acquire_timeout {
            // Dropping the wait at the deadline drops a connection attempt it was making (a
            // server that accepts and never answers), which frees its slot.
            Some(limit) => match tokio::time::timeout(limit, self.inner.get()).await {
                Ok(got) => got,
                Err(_) => return Err(self.acquire_timeout()),
            },
            None => self.inner.get().await,
        };
        got.map_err(|e| match e {
            managed::PoolError::Timeout(_) => self.acquire_timeout(),
            managed::PoolError::Closed => Error::driver(Code::PoolClosed, "the pool is closed"),
            managed::PoolError::Backend(e) => e,
            other => Error::driver(Code::Connection, other.to_string()),
        })
    }

    fn acquire_timeout(&self) -> Error {
        Error::driver(
            Code::PoolTimeout,
            format!(
                "no connection within acquireTimeoutMillis ({} ms; max {} connections)",
                self.config
                    .pool
                    .acquire_timeout
                    .map(|d| d.as_millis())
                    .unwrap_or(0),
                self.config.pool.max
            ),
        )
    }

    /// How many borrowers wait for a connection of their own (see [`Pool::get`]).
    pub fn exclusive_waiting(&self) -> usize {
        self.exclusive_waiting.load(Ordering::Relaxed)
    }

    pub fn stats(&self) -> Stats {
        let s = self.inner.status();
        Stats {
            size: s.size,
            idle: s.available,
            waiting: s.waiting,
            max: s.max_size,
        }
    }

    /// The pool's counters (see `core::pool_metrics`); `size` is [`Pool::stats`]'s, read at
    /// the same moment, so that what was destroyed is what was created and is no longer there.
    pub fn metrics(&self) -> (MetricsSnapshot, usize) {
        let size = self.inner.status().size;
        (self.metrics.snapshot(), size)
    }

    pub fn close(&self) {
        self.inner.close();
    }

    pub fn is_closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Discards a connection instead of returning it to the pool.
    pub fn discard(obj: Object) {
        let _ = Object::take(obj);
    }
}
