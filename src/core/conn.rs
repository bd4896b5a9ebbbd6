//! One PostgreSQL connection: a tokio-postgres client, its statement cache, its submission
//! queue and what the driver knows about the server.
//!
//! Transport and executor seam: `Conn::connect` is the only place that opens a socket and
//! starts the protocol task, on the `Driver` it is given (see `core::driver`); everything
//! above talks to `Conn`.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{mpsc, oneshot};

use crate::core::cancel::Canceller;
use crate::core::cancel_handle::{CancelHandle, Cancelled};
use crate::core::config::{Config, Host};
use crate::core::connect::{establish, Established, PasswordSource};
use crate::core::copy::{CopyIn, CopyOut, CopyOutRows};
use crate::core::copy_from::{lookup_sql, CopyFrom, CopyTarget};
use crate::core::driver::Driver;
use crate::core::error::Result;
use crate::core::events::Events;
use crate::core::reply::{gone, Reply};
use crate::core::retry::Retry;
use crate::core::session::{Session, TxStatus};
use crate::core::worker::{submission_worker, Job};

pub struct Conn {
    shared: Arc<Session>,
    queue: mpsc::UnboundedSender<(u64, Job)>,
    /// Cancellable statements by request id.
    cancels: std::sync::Mutex<std::collections::HashMap<u32, Arc<CancelHandle>>>,
    /// copyFrom targets looked up on this connection, by lookup statement.
    copy_targets: std::sync::Mutex<std::collections::HashMap<String, Arc<CopyTarget>>>,
    pub process_id: i32,
    pub server_version: String,
    pub created: Instant,
    /// Where this session went and as whom, for tracing (`client.target` in JS; never the
    /// password).
    pub target: Arc<Target>,
    fd: std::os::fd::RawFd,
}

/// The server a connection reached: the `host` entry it was opened with (a name, an address or
/// a socket directory), its port, whether the session runs over TLS, and the database and user.
#[derive(Debug, Clone)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub tls: bool,
    pub database: String,
    pub user: String,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Conn(pid {})", self.process_id)
    }
}

pub use crate::core::session::Params;

impl Conn {
    /// Opens a connection; `password` (a password function) overrides the configured one.
    /// Hosts are tried in order; `connectTimeoutMillis` bounds each attempt (socket, TLS and
    /// handshake), as in libpq (see `core::connect`).
    pub async fn connect(
        config: &Config,
        password: Option<&dyn PasswordSource>,
        events: Option<Arc<dyn Events>>,
        driver: &Arc<dyn Driver>,
    ) -> Result<Conn> {
        // Boxed: the state of establishing a session (TLS, handshake, several hosts) is large,
        // and every future that may open a connection (a pool's `get`, so `pool.query`) would
        // otherwise carry it inline and move it on each call (W1: +17k instructions per query).
        let e = Box::pin(establish(config, password, events, driver)).await?;
        Ok(Conn::start(config, e, driver))
    }

    fn start(config: &Config, e: Established, driver: &Arc<dyn Driver>) -> Conn {
        let process_id = e.client.backend_pid();
        let target = Arc::new(Target {
            host: e.endpoint.name.clone(),
            port: e.endpoint.port,
            tls: e.tls.is_some(),
            database: config.dbname.clone(),
            user: config.user.clone(),
        });
        let canceller = Canceller {
            token: e.client.cancel_token(),
            // The address this session reached, not the name again (it may resolve elsewhere).
            host: e
                .peer
                .map_or(e.endpoint.host, |a| Host::Tcp(a.ip().to_string())),
            port: e.endpoint.port,
            network: config.network,
            tls: e.tls,
            direct: e.direct,
        };
        let shared = Arc::new(Session::new(
            e.client,
            canceller,
            config.statement_cache_size,
            config.types,
            (!driver.on_runtime()).then_some(e.roam),
            config.prepare,
            e.hangup,
        ));
        let (queue, jobs) = mpsc::unbounded_channel();
        driver.spawn(Box::pin(submission_worker(shared.clone(), jobs)));
        Conn {
            shared,
            queue,
            cancels: Default::default(),
            copy_targets: Default::default(),
            process_id,
            fd: e.fd,
            server_version: e.server_version,
            created: Instant::now(),
            target,
        }
    }

    pub fn is_closed(&self) -> bool {
        self.shared.client.is_closed() || self.shared.broken.load(Ordering::Relaxed)
    }

    /// Whether the server is closing this connection, as far as its socket shows before the
    /// connection's task has read it (call it only with no statement running): the FATAL of a
    /// terminated backend, an idle-session timeout or a shutdown, or end of file, not yet read
    /// because the JS thread was busy. One recv(MSG_PEEK) syscall (`driver::closing_input`).
    pub fn idle_input(&self) -> bool {
        self.is_closed()
            || crate::core::driver::closing_input(self.fd, self.shared.canceller.tls.is_some())
    }

    /// One round trip (an empty simple query): whether the server still answers.
    pub async fn ping(&self) -> Result<()> {
        let (reply, answer) = Reply::channel();
        self.submit_simple(String::new(), reply);
        answer.await.unwrap_or_else(|_| Err(gone())).map(|_| ())
    }

    /// Marks the connection unusable (the pool discards it on return).
    pub fn mark_broken(&self) {
        self.shared.broken.store(true, Ordering::Relaxed);
    }

    pub fn cached_statements(&self) -> usize {
        self.shared.cache.len()
    }

    /// The name of the statement cached for `sql`, if it is cached (for tracing).
    pub fn cached_statement_name(&self, sql: &str) -> Option<String> {
        self.shared.cache.name_of(sql)
    }

    /// The session's transaction status, as the server last stated it.
    pub fn transaction_status(&self) -> TxStatus {
        self.shared.transaction_status()
    }

    /// Whether the server said the session is outside any transaction block (and the
    /// connection is usable). Statements still running are waited for by [`Conn::settled`].
    pub fn is_clean(&self) -> bool {
        !self.is_closed() && self.transaction_status() == TxStatus::Idle
    }

    /// Whether every job queued on the connection is done (or the connection closed).
    pub fn is_settled(&self) -> bool {
        let p = &self.shared.progress;
        p.through() >= p.submitted() || self.is_closed()
    }

    /// Waits until every job queued on the connection is done (a borrower may release it with
    /// statements still queued or running; the pool waits for them before judging it).
    pub async fn settled(&self) {
        let p = &self.shared.progress;
        p.wait_through(p.submitted(), || self.is_closed()).await
    }

    /// Asks to stop the cancellable statement submitted under `id` (see `cancel_handle`).
    pub fn cancel_request(&self, id: u32) -> Cancelled {
        let handle = self
            .cancels
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&id)
            .cloned();
        handle.map_or(Cancelled::TooLate, |h| h.cancel())
    }

    /// A cancel handle for the statement submitted under `id`, forgotten once it is answered.
    fn cancel_handle(&self, id: u32) -> Arc<CancelHandle> {
        let h = Arc::new(CancelHandle::default());
        let mut table = self.cancels.lock().unwrap_or_else(|p| p.into_inner());
        // Forget the handles of statements already answered (a handful at most).
        table.retain(|_, h| !h.is_over());
        table.insert(id, h.clone());
        h
    }

    fn submit(&self, job: Job) {
        let seq = self.shared.progress.next_seq();
        // A send error means the worker is gone: the job's Reply is dropped unsent, which
        // reports ERR_CONNECTION_CLOSED.
        let _ = self.queue.send((seq, job));
    }

    /// Jobs queued on this connection so far (a mark for [`Conn::cancel_after`]).
    pub fn submitted(&self) -> u64 {
        self.shared.progress.submitted()
    }

    /// Sends a CancelRequest once the first `mark` jobs queued on the connection are done: an
    /// operation that holds the connection (executeMany) cancels its own statements, never
    /// one a caller queued before it.
    pub async fn cancel_after(&self, mark: u64) -> Result<()> {
        self.shared
            .progress
            .wait_through(mark, || self.is_closed())
            .await;
        self.cancel().await
    }

    /// Queues a query; everything submitted on a connection runs in submission order.
    pub fn submit_query(&self, sql: String, params: Params, reply: Reply) {
        self.submit_retrying(sql, params, reply, None)
    }

    /// [`Conn::submit_query`], handing the statement to `retry` if the connection closes
    /// before the statement runs (see `Error::unrun`).
    pub fn submit_retrying(
        &self,
        sql: String,
        params: Params,
        reply: Reply,
        retry: Option<Arc<dyn Retry>>,
    ) {
        self.submit(Job::Query {
            sql,
            params,
            reply,
            cancel: None,
            retry,
        })
    }

    /// Queues a query that [`Conn::cancel_request`] can stop by `id` (see `worker`: nothing is
    /// sent behind it until it is answered).
    pub fn submit_cancellable(&self, sql: String, params: Params, id: u32, reply: Reply) {
        let cancel = Some(self.cancel_handle(id));
        self.submit(Job::Query {
            sql,
            params,
            reply,
            cancel,
            retry: None,
        })
    }

    /// Queues one prepared statement executed once per parameter set (see `exec::execute_many`).
    pub fn submit_many(
        &self,
        sql: String,
        sets: Params,
        returning: bool,
        segment: bool,
        reply: Reply,
    ) {
        self.submit(Job::Many {
            sql,
            sets,
            returning,
            segment,
            reply,
        })
    }

    /// Queues a pipeline batch (see `core::batch`), answered through `reply`; `implicit`: the
    /// batch belongs to a segment ferropg brackets in its own transaction.
    pub fn submit_batch(&self, statements: Params, reply: Reply, implicit: bool) {
        self.submit(Job::Batch {
            statements,
            reply,
            implicit,
        })
    }

    /// Queues the end of a segment (COMMIT or RELEASE, else ROLLBACK; see `Job::EndSegment`).
    pub fn submit_end_segment(&self, rollback: bool, savepoint: Option<String>, reply: Reply) {
        self.submit(Job::EndSegment {
            rollback,
            savepoint,
            reply,
        })
    }

    /// Queues a parameterless statement that stays out of the statement cache; with `id`,
    /// cancellable as [`Conn::submit_cancellable`].
    pub fn submit_uncached(&self, sql: String, id: Option<u32>, reply: Reply) {
        let cancel = id.map(|id| self.cancel_handle(id));
        self.submit(Job::Uncached { sql, reply, cancel })
    }

    /// Queues a simple-protocol statement without parameters (transaction control).
    pub fn submit_simple(&self, sql: String, reply: Reply) {
        self.submit(Job::Simple { sql, reply })
    }

    /// Queues a script for the simple query protocol (`simpleQuery`; see `exec::simple_query`).
    pub fn submit_script(&self, sql: String, reply: Reply) {
        self.submit(Job::Script { sql, reply })
    }

    /// Queues the start of a `COPY ... FROM STDIN`; await the result with `started`.
    pub fn submit_copy_in(&self, sql: String) -> oneshot::Receiver<Result<CopyIn>> {
        let (reply, rx) = oneshot::channel();
        self.submit(Job::CopyIn { sql, reply });
        rx
    }

    /// Queues the start of a `COPY ... TO STDOUT`; await the result with `started`.
    pub fn submit_copy_out(&self, sql: String) -> oneshot::Receiver<Result<CopyOut>> {
        let (reply, rx) = oneshot::channel();
        self.submit(Job::CopyOut { sql, reply });
        rx
    }

    /// Starts a copyFrom: looks the target up (once per connection; the lookup runs in queue
    /// order like any query) and starts `COPY ... FROM STDIN (FORMAT binary)`.
    pub async fn start_copy_from(
        &self,
        schema: Option<&str>,
        table: &str,
        columns: Option<&[String]>,
    ) -> Result<CopyFrom> {
        let key = lookup_sql(schema, table, columns);
        let cached = self
            .copy_targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&key)
            .cloned();
        let target = match cached {
            Some(t) => t,
            None => {
                self.query(key.clone(), Box::new(Vec::<u8>::new())).await?;
                let stmt = self.shared.statement(&key).await?;
                let names = stmt
                    .columns()
                    .iter()
                    .map(|c| c.name().to_string())
                    .collect();
                let types = stmt.columns().iter().map(|c| c.type_().clone()).collect();
                let t = Arc::new(CopyTarget::new(schema, table, names, types)?);
                let mut targets = self.copy_targets.lock().unwrap_or_else(|p| p.into_inner());
                if targets.len() >= 256 {
                    targets.clear();
                }
                targets.insert(key.clone(), t.clone());
                t
            }
        };
        match started(self.submit_copy_in(target.copy_sql.clone())).await {
            // Read once the COPY has started: the codec records a ParameterStatus when it
            // frames it, so any SET TimeZone answered before is seen.
            Ok(sink) => {
                let zone = self.shared.client.parameter("TimeZone");
                Ok(CopyFrom::new(target, sink, key, zone))
            }
            Err(e) => {
                self.forget_copy_target(&key);
                Err(e)
            }
        }
    }

    /// Drops a cached copyFrom target (after a server error: the table may have changed).
    pub fn forget_copy_target(&self, key: &str) {
        self.copy_targets
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }

    /// Starts `copyOutRows`: prepares `query` (to learn its columns), then runs
    /// `COPY (query) TO STDOUT (FORMAT binary)`, both in queue order.
    pub async fn start_copy_out_rows(&self, query: String) -> Result<CopyOutRows> {
        let (reply, rx) = oneshot::channel();
        self.submit(Job::Prepare {
            sql: query.clone(),
            reply,
        });
        let stmt = started(rx).await?;
        let out =
            started(self.submit_copy_out(format!("COPY ({query}) TO STDOUT (FORMAT binary)")))
                .await?;
        Ok(CopyOutRows::new(out, stmt, self.shared.types))
    }

    /// Asks the server to cancel what this connection runs now (a CancelRequest on a new
    /// socket); the statement then fails with 57014.
    pub async fn cancel(&self) -> Result<()> {
        self.shared.canceller.cancel().await
    }

    /// Runs a query and waits for its response buffer.
    pub async fn query(&self, sql: String, params: Params) -> Result<Vec<u8>> {
        let (reply, rx) = Reply::channel();
        self.submit_query(sql, params, reply);
        closed_if_dropped(rx.await)
    }
}

/// The handle of a started COPY; a dropped reply means the connection went away.
pub async fn started<T>(rx: oneshot::Receiver<Result<T>>) -> Result<T> {
    rx.await.unwrap_or_else(|_| Err(gone()))
}

/// The reply of a submitted job; a dropped reply means the connection went away.
pub fn closed_if_dropped(
    r: std::result::Result<Result<Vec<u8>>, oneshot::error::RecvError>,
) -> Result<Vec<u8>> {
    r.unwrap_or_else(|_| Err(gone()))
}
