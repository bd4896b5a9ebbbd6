//! `NativePool`: the napi face of `core::pool::Pool`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::{Buffer, Either, PromiseRaw};
use napi::Env;
use napi_derive::napi;

use super::client::{NativeClient, ServerTarget};
use super::completions;
use super::error_response;
use super::events::{EventsFn, JsEvents};
use super::handles::{self, Table};
use super::local;
use super::loop_driver;
use super::password::{JsPassword, PasswordFn};
use super::resolve_config;
use crate::core::config::Transport;
use crate::core::conn::Params;
use crate::core::driver::Driver;
use crate::core::error::{Code, Error};
use crate::core::events::Events;
use crate::core::lease::{Leases, Retrier};
use crate::core::pool::{GiveUp, PasswordSource, Pool};
use crate::core::pool_metrics::WAIT_BOUNDS_MILLIS;
use crate::core::reply::Reply;
use crate::core::retry::Retry;

#[napi]
pub struct NativePool {
    core: Arc<PoolCore>,
    /// This pool's number in [`POOLS`] (for `poolSubmitQuery`).
    handle: u32,
}

/// What `pool.query` needs, shared with [`POOLS`].
struct PoolCore {
    /// Runs this pool's connections and its `pool.query` tasks.
    driver: Arc<dyn Driver>,
    pool: Arc<Pool>,
    leases: Arc<Leases>,
    /// Where a statement goes when its connection closes before it ran (`Error::unrun`).
    retry: Arc<dyn Retry>,
    reaper: AtomicBool,
}

thread_local! {
    /// The pools made on this JS thread, by handle.
    static POOLS: Table<PoolCore> = const { Table::new() };
}

impl PoolCore {
    /// Runs one query on a pooled connection; its response goes to `reply`.
    fn query(&self, sql: String, params: Params, reply: Reply) -> napi::Result<()> {
        local::submit(|| {
            // Riding a busy connection needs no task; borrowing one does, and is tried at once:
            // an idle connection is then taken (and shared) before the next call of this turn
            // of JS looks, which rides it instead of queueing for a connection of its own
            // (W2: 0.42 -> 0.13 socket writes per query).
            let retry = Some(self.retry.clone());
            if let Some(borrow) = self.leases.query(&self.pool, sql, params, reply, retry) {
                if self.reaper.swap(true, Ordering::Relaxed) {
                    // Boxed as it is: wrapping it would move its ~2 KiB once more per call.
                    self.driver.spawn_eager(Box::pin(borrow))
                } else {
                    let pool = self.pool.clone();
                    self.driver.spawn_eager(Box::pin(async move {
                        // The reaper needs the runtime: started from inside the task.
                        pool.start_reaper();
                        borrow.await
                    }))
                }
            }
        });
        Ok(())
    }
}

/// `poolSubmitQuery([sql][, params])`: `pool.query` (see [`PoolCore::query`]) on the pool whose
/// number is in the submit header, answered in the header's inbox under its request id (see
/// `raw_call` for where the SQL and the parameters are). A plain Node-API callback, registered
/// in `super::exports`.
///
/// # Safety
/// Called by Node-API only, with its `env` and `info`.
pub unsafe extern "C" fn pool_submit_query(
    env: napi::sys::napi_env,
    info: napi::sys::napi_callback_info,
) -> napi::sys::napi_value {
    // SAFETY: as this function's contract.
    unsafe {
        super::raw_call::submit(env, info, |a| {
            let core = handles::find(&POOLS, a.handle, "pool")?;
            core.query(a.sql, a.params, completions::reply(a.inbox, a.id)?)
        })
    }
}

impl Drop for NativePool {
    fn drop(&mut self) {
        // At exit the table may be gone already; nothing is left to look it up then.
        let _ = POOLS.try_with(|t| t.remove(self.handle));
    }
}

/// What JS fires when a `pool.connect()` caller gives up (see `Pool::get_unless`).
#[napi]
pub struct NativeGiveUp {
    inner: Arc<GiveUp>,
}

#[napi]
impl NativeGiveUp {
    /// A give-up not fired yet.
    #[napi(constructor)]
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        NativeGiveUp {
            inner: Arc::default(),
        }
    }

    /// Stops the wait it was given to.
    #[napi]
    pub fn fire(&self) {
        self.inner.fire();
    }
}

/// `pool.stats()` (lib/pool-metrics.js shapes the counters).
#[napi(object)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub waiting: u32,
    pub max: u32,
    /// Borrows that got a connection.
    pub acquired: f64,
    /// Connections opened.
    pub created: f64,
    /// Connections closed by the pool (created and no longer in it).
    pub destroyed: f64,
    /// Borrows ended by `acquireTimeoutMillis`.
    pub timed_out: f64,
    /// Waits the caller gave up (a signal, a `timeoutMillis`).
    pub abandoned: f64,
    /// Failed borrows by error code.
    pub errors: HashMap<String, f64>,
    /// Upper bounds of the wait-time buckets, in milliseconds.
    pub wait_bounds_millis: Vec<f64>,
    /// Borrows per bucket (one more than bounds: above the last).
    pub wait_counts: Vec<f64>,
    pub wait_sum_millis: f64,
}

#[napi]
impl NativePool {
    /// Validates the configuration; opens no connection.
    #[napi(constructor)]
    pub fn new(
        env: Env,
        settings: HashMap<String, String>,
        conn_string: Option<String>,
        password: Option<PasswordFn>,
        events: Option<EventsFn>,
    ) -> napi::Result<Self> {
        let config = resolve_config(settings, conn_string)
            .map_err(|e| napi::Error::new(napi::Status::InvalidArg, e.to_string()))?;
        let source = password.map(|f| Arc::new(JsPassword(f)) as Arc<dyn PasswordSource>);
        let events = events.map(|f| Arc::new(JsEvents(f)) as Arc<dyn Events>);
        let driver = loop_driver::driver(&env, config.transport.unwrap_or(Transport::Loop))?;
        let pool = Pool::new(config, source, events, driver.clone())
            .map_err(|e| napi::Error::new(napi::Status::InvalidArg, e.to_string()))?;
        let health = pool.config.pool.health_check_after;
        let leases = Arc::new(Leases::new(driver.clone(), health));
        let pool = Arc::new(pool);
        let retry = Arc::new(Retrier::new(leases.clone(), pool.clone(), driver.clone()));
        let core = Arc::new(PoolCore {
            driver,
            pool,
            leases,
            retry,
            reaper: AtomicBool::new(false),
        });
        let handle = POOLS.with(|t| t.add(core.clone()));
        Ok(NativePool { core, handle })
    }

    /// This pool's number, for `poolSubmitQuery`.
    #[napi(getter)]
    pub fn handle(&self) -> u32 {
        self.handle
    }

    /// Borrows a connection until `release()`.
    #[napi(ts_return_type = "Promise<NativeClient | Buffer>")]
    pub fn connect<'env>(
        &self,
        env: &'env Env,
    ) -> napi::Result<PromiseRaw<'env, Either<NativeClient, Buffer>>> {
        self.borrow(env, None)
    }

    /// `connect()` that stops waiting (and drops a connection attempt it was making) when
    /// `giveUp.fire()` is called; it then resolves with an error JS no longer waits for.
    #[napi(ts_return_type = "Promise<NativeClient | Buffer>")]
    pub fn connect_unless<'env>(
        &self,
        env: &'env Env,
        give_up: &NativeGiveUp,
    ) -> napi::Result<PromiseRaw<'env, Either<NativeClient, Buffer>>> {
        self.borrow(env, Some(give_up.inner.clone()))
    }

    fn borrow<'env>(
        &self,
        env: &'env Env,
        give_up: Option<Arc<GiveUp>>,
    ) -> napi::Result<PromiseRaw<'env, Either<NativeClient, Buffer>>> {
        // A connection kept for the next `pool.query` goes back first, here on the JS thread
        // before the borrow starts: it is the one to hand out, rather than a new one opened
        // beside it (from the runtime's thread the borrow could look while it is on its way).
        self.core.leases.release_lingering();
        let core = self.core.clone();
        env.spawn_future(async move {
            // The reaper needs the runtime: started from inside the task.
            if !core.reaper.swap(true, Ordering::Relaxed) {
                core.pool.start_reaper();
            }
            let got = match give_up {
                Some(g) => core.pool.get_unless(&g).await,
                None => Some(core.pool.get().await),
            };
            Ok(match got {
                Some(Ok(o)) => Either::A(NativeClient::pooled(o)),
                Some(Err(e)) => Either::B(error_response(&e)),
                None => Either::B(error_response(&Error::driver(
                    Code::PoolTimeout,
                    "the caller stopped waiting for a connection",
                ))),
            })
        })
    }

    #[napi]
    pub fn stats(&self) -> PoolStats {
        let s = self.core.pool.stats();
        let (m, size) = self.core.pool.metrics();
        PoolStats {
            size: s.size as u32,
            // A connection kept for the next `pool.query` (see `Leases`) is idle to the user.
            idle: (s.idle + self.core.leases.lingering()) as u32,
            waiting: s.waiting as u32,
            max: s.max as u32,
            acquired: m.acquired as f64,
            created: m.created as f64,
            destroyed: m.created.saturating_sub(size as u64) as f64,
            timed_out: m.timed_out as f64,
            abandoned: m.abandoned as f64,
            errors: m.errors.into_iter().map(|(k, v)| (k, v as f64)).collect(),
            wait_bounds_millis: WAIT_BOUNDS_MILLIS.to_vec(),
            wait_counts: m.wait_counts.into_iter().map(|c| c as f64).collect(),
            wait_sum_millis: m.wait_sum_millis,
        }
    }

    /// The first configured server, database and user (for tracing `pool.query`, whose
    /// connection JS does not see); `tls` is unknown there.
    #[napi(getter)]
    pub fn target(&self) -> ServerTarget {
        let c = &self.core.pool.config;
        let first = c.endpoints.first();
        ServerTarget {
            host: first.map(|e| e.name.clone()).unwrap_or_default(),
            port: first.map_or(0, |e| u32::from(e.port)),
            tls: None,
            database: c.dbname.clone(),
            user: c.user.clone(),
        }
    }

    /// Closes idle connections now and the others when they are released.
    #[napi]
    pub fn close(&self) {
        self.core.pool.close();
    }
}
