//! `NativeClient`: one connection, standalone or borrowed from a pool.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use napi::bindgen_prelude::{Buffer, BufferSlice, Either, PromiseRaw};
use napi::Env;
use napi_derive::napi;

use super::completions::{self, Completions};
use super::copy::{NativeCopyFrom, NativeCopyIn, NativeCopyOut, NativeCopyOutRows};
use super::error_response;
use super::events::{EventsFn, JsEvents};
use super::handles::{self, Table};
use super::local;
use super::loop_driver;
use super::password::{JsPassword, PasswordFn};
use super::resolve_config;
use crate::core::cancel_handle::Cancelled;
use crate::core::config::Transport;
use crate::core::conn::{started, Conn, Target};
use crate::core::connect::PasswordSource;
use crate::core::error::{Code, Error};
use crate::core::events::Events;
use crate::core::pool::{Object, Pool};
use crate::core::reply::Reply;
use crate::core::session::TxStatus;

enum Holder {
    Standalone(Arc<Conn>),
    Pooled(Object),
}

impl Holder {
    fn conn(&self) -> Arc<Conn> {
        match self {
            Holder::Standalone(c) => c.clone(),
            Holder::Pooled(o) => Arc::clone(o),
        }
    }
}

/// The server a connection reached and as whom (`client.target`, for tracing; no password).
#[napi(object)]
pub struct ServerTarget {
    /// The `host` entry the connection was opened with (a name, an address or a socket directory).
    pub host: String,
    pub port: u32,
    /// Whether the session runs over TLS (unknown for a pool's configuration).
    pub tls: Option<bool>,
    pub database: String,
    pub user: String,
}

#[napi]
pub struct NativeClient {
    holder: Arc<Mutex<Option<Holder>>>,
    /// This client's number in [`CLIENTS`] (for `clientSubmitQuery`), given on the JS thread
    /// when first asked for (clients are made on the runtime, by `connect`).
    handle: OnceLock<u32>,
    process_id: i32,
    server_version: String,
    target: Arc<Target>,
}

thread_local! {
    /// The clients made on this JS thread, by handle.
    static CLIENTS: Table<Mutex<Option<Holder>>> = const { Table::new() };
}

/// The connection a client holds, unless it was closed or released.
fn conn_of(holder: &Mutex<Option<Holder>>) -> Result<Arc<Conn>, Error> {
    let g = holder.lock().unwrap_or_else(|p| p.into_inner());
    g.as_ref()
        .map(Holder::conn)
        .ok_or_else(|| Error::driver(Code::ClientClosed, "the client is closed or was released"))
}

/// `clientSubmitQuery([sql][, params])`: queues a query on the client whose number is in the
/// submit header (on the JS thread), answered in the header's inbox under its request id (see
/// `raw_call` for where the SQL and the parameters are). A plain Node-API callback, registered
/// in `super::exports`.
///
/// # Safety
/// Called by Node-API only, with its `env` and `info`.
pub unsafe extern "C" fn client_submit_query(
    env: napi::sys::napi_env,
    info: napi::sys::napi_callback_info,
) -> napi::sys::napi_value {
    // SAFETY: as this function's contract.
    unsafe {
        super::raw_call::submit(env, info, |a| {
            let holder = handles::find(&CLIENTS, a.handle, "client")?;
            let reply = completions::reply(a.inbox, a.id)?;
            match conn_of(&holder) {
                Ok(c) => local::submit(|| c.submit_query(a.sql, a.params, reply)),
                Err(e) => reply.send(Err(e)),
            }
            Ok(())
        })
    }
}

impl Drop for NativeClient {
    fn drop(&mut self) {
        // Numbered only on the JS thread, where the finalizer drops it. At exit the table may
        // be gone already; nothing is left to look it up then.
        if let Some(&n) = self.handle.get() {
            let _ = CLIENTS.try_with(|t| t.remove(n));
        }
    }
}

impl NativeClient {
    fn new(holder: Holder) -> Self {
        let conn = holder.conn();
        NativeClient {
            holder: Arc::new(Mutex::new(Some(holder))),
            handle: OnceLock::new(),
            process_id: conn.process_id,
            server_version: conn.server_version.clone(),
            target: conn.target.clone(),
        }
    }

    pub fn pooled(o: Object) -> Self {
        NativeClient::new(Holder::Pooled(o))
    }

    /// Queues a job on the connection, or answers `reply` at once when the client is closed.
    fn submit(&self, reply: Reply, queue: impl FnOnce(&Conn, Reply)) {
        match self.conn() {
            Ok(c) => local::submit(|| queue(&c, reply)),
            Err(e) => reply.send(Err(e)),
        }
    }

    fn conn(&self) -> Result<Arc<Conn>, Error> {
        conn_of(&self.holder)
    }
}

/// A promise for a queued COPY's handle (wrapped by `wrap`) or its error response.
fn start_copy<'env, T: Send + 'static, N: napi::bindgen_prelude::ToNapiValue + Send + 'static>(
    env: &'env Env,
    rx: Result<tokio::sync::oneshot::Receiver<crate::core::error::Result<T>>, Error>,
    wrap: fn(T) -> N,
) -> napi::Result<PromiseRaw<'env, Either<N, Buffer>>> {
    env.spawn_future(async move {
        Ok(match rx {
            Ok(rx) => match started(rx).await {
                Ok(c) => Either::A(wrap(c)),
                Err(e) => Either::B(error_response(&e)),
            },
            Err(e) => Either::B(error_response(&e)),
        })
    })
}

/// Opens a standalone connection.
#[napi(ts_return_type = "Promise<NativeClient | Buffer>")]
pub fn connect_client<'env>(
    env: &'env Env,
    settings: HashMap<String, String>,
    conn_string: Option<String>,
    password: Option<PasswordFn>,
    events: Option<EventsFn>,
) -> napi::Result<PromiseRaw<'env, Either<NativeClient, Buffer>>> {
    let config = resolve_config(settings, conn_string);
    // Chosen here, on the JS thread: the loop driver belongs to this thread's event loop.
    let transport = config.as_ref().ok().and_then(|c| c.transport);
    let driver = loop_driver::driver(env, transport.unwrap_or(Transport::Loop))?;
    env.spawn_future(async move {
        let config = match config {
            Ok(c) => c,
            Err(e) => return Ok(Either::B(error_response(&e))),
        };
        let source = password.map(JsPassword);
        let events = events.map(|f| Arc::new(JsEvents(f)) as Arc<dyn Events>);
        Ok(
            match Conn::connect(
                &config,
                source.as_ref().map(|s| s as &dyn PasswordSource),
                events,
                &driver,
            )
            .await
            {
                Ok(conn) => Either::A(NativeClient::new(Holder::Standalone(Arc::new(conn)))),
                Err(e) => Either::B(error_response(&e)),
            },
        )
    })
}

#[napi]
impl NativeClient {
    /// This client's number, for `clientSubmitQuery` (which queues a query on the JS thread,
    /// so queries run in call order; later queries are sent without waiting for it).
    #[napi(getter)]
    pub fn handle(&self) -> u32 {
        *self
            .handle
            .get_or_init(|| CLIENTS.with(|t| t.add(self.holder.clone())))
    }

    /// Queues a query that `cancelRequest(id)` can stop (`signal`, `timeoutMillis`): nothing is
    /// sent behind it until it is answered.
    #[napi(js_name = "submitCancellable")]
    pub fn query_cancellable(
        &self,
        env: &Env,
        sql: String,
        params: BufferSlice,
        id: u32,
        inbox: &Completions,
    ) -> napi::Result<()> {
        let params = super::params(env, params)?;
        self.submit(inbox.reply(id), |c, r| {
            c.submit_cancellable(sql, params, id, r)
        });
        Ok(())
    }

    /// Asks to stop the cancellable statement submitted under `id`: 0 = it was not sent and
    /// never will be (settle now), 1 = it is cancelled on the server once it runs, 2 = too late
    /// (its answer settles it).
    #[napi(js_name = "cancelRequest")]
    pub fn cancel_request(&self, id: u32) -> u32 {
        match self.conn() {
            Ok(c) => c.cancel_request(id) as u32,
            Err(_) => Cancelled::TooLate as u32,
        }
    }

    /// Queues one chunk of an executeMany: `sets` holds a u32 count then parameter lists;
    /// `segment`: the batch ends with `submitEndSegment`, which a refused set makes roll back.
    #[napi(js_name = "submitChunk")]
    pub fn execute_chunk(
        &self,
        sql: String,
        sets: Buffer,
        returning: bool,
        segment: bool,
        id: u32,
        inbox: &Completions,
    ) {
        self.submit(inbox.reply(id), |c, r| {
            c.submit_many(sql, Box::new(sets), returning, segment, r)
        })
    }

    /// Queues the statements of a pipeline (a u32 count, then each one's SQL and parameters)
    /// as one request with a single Sync, answered under `id` with every statement's response
    /// (`core::batch::Answers`). `implicit`: the statements belong to a segment bracketed by
    /// BEGIN and `submitEndSegment`.
    #[napi(js_name = "submitBatch")]
    pub fn batch(&self, statements: Buffer, implicit: bool, id: u32, inbox: &Completions) {
        self.submit(inbox.reply(id), |c, r| {
            c.submit_batch(Box::new(statements), r, implicit)
        })
    }

    /// Queues the end of a segment (a pipeline segment, or an executeMany batch): COMMIT (or
    /// RELEASE of `savepoint`), else ROLLBACK (to `savepoint`) when `rollback` is set or one
    /// of its statements or sets was refused before it was sent. Answers `[OK][u8 rolled back]`.
    #[napi(js_name = "submitEndSegment")]
    pub fn end_segment(
        &self,
        rollback: bool,
        savepoint: Option<String>,
        id: u32,
        inbox: &Completions,
    ) {
        self.submit(inbox.reply(id), |c, r| {
            c.submit_end_segment(rollback, savepoint, r)
        })
    }

    /// Queues a parameterless statement outside the statement cache (cursor FETCH);
    /// `cancellable` as `submitCancellable`.
    #[napi(js_name = "submitUncached")]
    pub fn query_uncached(&self, sql: String, cancellable: bool, id: u32, inbox: &Completions) {
        self.submit(inbox.reply(id), |c, r| {
            c.submit_uncached(sql, cancellable.then_some(id), r)
        })
    }

    /// Queues a parameterless statement over the simple protocol (transaction control).
    #[napi(js_name = "submitSimple")]
    pub fn simple(&self, sql: String, id: u32, inbox: &Completions) {
        self.submit(inbox.reply(id), |c, r| c.submit_simple(sql, r))
    }

    /// Queues a script over the simple query protocol (`simpleQuery`): several statements
    /// allowed, one result per statement.
    #[napi(js_name = "submitScript")]
    pub fn script(&self, sql: String, id: u32, inbox: &Completions) {
        self.submit(inbox.reply(id), |c, r| c.submit_script(sql, r))
    }

    /// Starts a `COPY ... FROM STDIN` (queued in call order).
    #[napi(ts_return_type = "Promise<NativeCopyIn | Buffer>")]
    pub fn copy_in<'env>(
        &self,
        env: &'env Env,
        sql: String,
    ) -> napi::Result<PromiseRaw<'env, Either<NativeCopyIn, Buffer>>> {
        let rx = self.conn().map(|c| c.submit_copy_in(sql));
        start_copy(env, rx, NativeCopyIn::new)
    }

    /// Starts a `COPY ... TO STDOUT` (queued in call order).
    #[napi(ts_return_type = "Promise<NativeCopyOut | Buffer>")]
    pub fn copy_out<'env>(
        &self,
        env: &'env Env,
        sql: String,
    ) -> napi::Result<PromiseRaw<'env, Either<NativeCopyOut, Buffer>>> {
        let rx = self.conn().map(|c| c.submit_copy_out(sql));
        start_copy(env, rx, NativeCopyOut::new)
    }

    /// Starts a copyFrom into `table` (binary COPY; the target is looked up once per connection).
    #[napi(ts_return_type = "Promise<NativeCopyFrom | Buffer>")]
    pub async fn copy_from(
        &self,
        schema: Option<String>,
        table: String,
        columns: Option<Vec<String>>,
    ) -> Either<NativeCopyFrom, Buffer> {
        let conn = match self.conn() {
            Ok(c) => c,
            Err(e) => return Either::B(error_response(&e)),
        };
        match conn
            .start_copy_from(schema.as_deref(), &table, columns.as_deref())
            .await
        {
            Ok(c) => Either::A(NativeCopyFrom::new(c, conn)),
            Err(e) => Either::B(error_response(&e)),
        }
    }

    /// Starts a copyOutRows over `query` (a SELECT without parameters).
    #[napi(ts_return_type = "Promise<NativeCopyOutRows | Buffer>")]
    pub async fn copy_out_rows(&self, query: String) -> Either<NativeCopyOutRows, Buffer> {
        let conn = match self.conn() {
            Ok(c) => c,
            Err(e) => return Either::B(error_response(&e)),
        };
        match conn.start_copy_out_rows(query).await {
            Ok(c) => Either::A(NativeCopyOutRows::new(c)),
            Err(e) => Either::B(error_response(&e)),
        }
    }

    /// Sends a CancelRequest for what the connection runs now: `[OK]` or an error.
    #[napi]
    pub async fn cancel(&self) -> Buffer {
        match self.conn() {
            Ok(c) => match c.cancel().await {
                Ok(()) => Buffer::from(vec![crate::core::wire::status::OK]),
                Err(e) => error_response(&e),
            },
            Err(e) => error_response(&e),
        }
    }

    /// Jobs queued on the connection so far: the mark for `cancelAfter`.
    #[napi(getter)]
    pub fn requests_submitted(&self) -> f64 {
        self.conn().map(|c| c.submitted() as f64).unwrap_or(0.0)
    }

    /// Sends a CancelRequest once the first `mark` jobs queued on the connection have been
    /// answered (an exclusive operation cancelling its own statements): `[OK]` or an error.
    #[napi]
    pub async fn cancel_after(&self, mark: f64) -> Buffer {
        match self.conn() {
            Ok(c) => match c.cancel_after(mark as u64).await {
                Ok(()) => Buffer::from(vec![crate::core::wire::status::OK]),
                Err(e) => error_response(&e),
            },
            Err(e) => error_response(&e),
        }
    }

    /// The session's transaction status from the server's last ReadyForQuery: 'idle',
    /// 'inTransaction' or 'inError'.
    #[napi(getter, ts_return_type = "'idle' | 'inTransaction' | 'inError'")]
    pub fn transaction_status(&self) -> &'static str {
        self.conn()
            .map(|c| c.transaction_status())
            .unwrap_or(TxStatus::Idle)
            .name()
    }

    /// The server process serving this connection (`pg_backend_pid()`).
    #[napi(getter)]
    pub fn process_id(&self) -> i32 {
        self.process_id
    }

    #[napi(getter)]
    pub fn server_version(&self) -> String {
        self.server_version.clone()
    }

    /// Where this connection went and as whom (read once per client, when tracing).
    #[napi(getter)]
    pub fn target(&self) -> ServerTarget {
        let t = &self.target;
        ServerTarget {
            host: t.host.clone(),
            port: u32::from(t.port),
            tls: Some(t.tls),
            database: t.database.clone(),
            user: t.user.clone(),
        }
    }

    /// Statements currently in this connection's cache.
    #[napi(getter)]
    pub fn cached_statements(&self) -> u32 {
        self.conn()
            .map(|c| c.cached_statements() as u32)
            .unwrap_or(0)
    }

    /// The server-side name of the statement this connection has cached for `sql` (`""` for an
    /// unnamed one), or null when it has none: whether a query will be a cache hit, for tracing.
    #[napi]
    pub fn cached_statement_name(&self, sql: String) -> Option<String> {
        self.conn().ok()?.cached_statement_name(&sql)
    }

    /// Gives a pooled connection back (or discards it when `discard` is true); closes a
    /// standalone one. Later calls reject with ERR_CLIENT_CLOSED.
    #[napi]
    pub fn release(&self, discard: bool) {
        let h = self.holder.lock().unwrap_or_else(|p| p.into_inner()).take();
        match h {
            // Inside a transaction (statements still running are judged when it is recycled).
            Some(Holder::Pooled(o)) if discard || !o.is_clean() => Pool::discard(o),
            Some(Holder::Pooled(o)) => drop(o),
            Some(Holder::Standalone(c)) => drop(c),
            None => {}
        }
    }
}
