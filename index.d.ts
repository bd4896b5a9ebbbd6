/// <reference types="node" />
import type { Readable, Writable } from 'node:stream'
// ferropg public types (hand-written; the generated binding types are in binding.d.ts).

/** A row: a plain object keyed by column name, in column order. */
export type Row = Record<string, any>

/**
 * An interval as read (and as it may be sent: `microseconds` may also be given as a bigint at
 * any size within int64).
 */
export interface Interval {
  months: number
  days: number
  /** A number when it is a safe integer (|x| < 2^53), else a bigint: exact, as int8 is. */
  microseconds: number | bigint
}

/** How values of some types reach JS. */
export interface TypeOverrides {
  /** int8: `'bigint'` (default, exact), `'number'` (rejects values beyond 2^53), or `'string'`. */
  int8?: 'bigint' | 'number' | 'string'
  /** numeric: `'string'` (default, exact) or `'number'`. */
  numeric?: 'string' | 'number'
  /** date: `'string'` (default, `'YYYY-MM-DD'`) or `'date'` (a Date at UTC midnight). */
  date?: 'string' | 'date'
  /** timestamp and timestamptz: `'date'` (default; timestamp read as UTC) or `'string'` (µs exact, UTC). */
  timestamp?: 'date' | 'string'
  /**
   * `'values'` (default): results are read in binary and converted as above. `'text'`: every
   * value is the string the server prints (null stays null), for code that parses values
   * itself (`ferropg/pg` uses it with node-postgres's type parsers); the overrides above then
   * do not apply. `copyOutRows` reads binary COPY and still converts.
   */
  results?: 'values' | 'text'
}

/** Connection settings. Unset keys fall back to the connection string, then to PG* environment variables. */
export interface ClientConfig {
  /** A `postgres://` URL or a libpq `key=value` string; the other keys override it. */
  connectionString?: string
  /** Host name, IP address, or a directory holding the server's unix socket (starts with `/`). */
  host?: string
  port?: number
  user?: string
  /** Numeric addresses dialled instead of resolving `host` (which TLS still checks); comma-separated like `host`. */
  hostaddr?: string
  /**
   * The password, or a function (possibly async) called for each new connection with the
   * server and role it is for (an RDS IAM token is signed for the host and user). Unset: the
   * password file (`passfile`, `PGPASSFILE`, `~/.pgpass`).
   */
  password?: string | ((target: PasswordTarget) => string | Promise<string>)
  /** The password file (lines `host:port:database:user:password`); default `~/.pgpass`. */
  passfile?: string
  /** A group of settings in the connection service file (`PGSERVICEFILE`, `~/.pg_service.conf`, `PGSYSCONFDIR/pg_service.conf`). */
  service?: string
  /** Which server of the host list a session must be (default `'any'`). */
  target_session_attrs?: 'any' | 'read-write' | 'read-only' | 'primary' | 'standby' | 'prefer-standby'
  targetSessionAttrs?: ClientConfig['target_session_attrs']
  /** `'random'`: try the hosts in a random order (default `'disable'`). */
  load_balance_hosts?: 'disable' | 'random'
  loadBalanceHosts?: ClientConfig['load_balance_hosts']
  /** TCP keepalive probes: `0` turns them off (default on: 15 s idle, 5 s apart, 3 probes). */
  keepalives?: 0 | 1
  keepalives_idle?: number
  keepalives_interval?: number
  keepalives_count?: number
  /** Milliseconds unacknowledged data may wait before the connection is dropped (default: the system's). */
  tcp_user_timeout?: number
  database?: string
  applicationName?: string
  connectTimeoutMillis?: number
  /**
   * Tracing (`ferropg:query` contexts, docs/observability.md) carries the parameter values
   * (`values`, `db.query.parameter.<i>`); default `false`: only their count. Values may be
   * personal or secret data: opt in knowingly.
   */
  traceValues?: boolean
  /** Prepared statements kept per connection (LRU; default 256; 0 disables). */
  statementCacheSize?: number
  /**
   * `false`: never prepare a statement by name, for PgBouncer or Supavisor in transaction mode
   * (where the next request may reach another server connection). Each statement is described
   * once (cached as `statementCacheSize` says) and then sent as the unnamed statement,
   * Parse/Bind/Describe/Execute/Sync in one round trip. Default `true`.
   */
  prepare?: boolean
  /**
   * Where the connection's protocol runs. `'loop'` (the default): on the JS thread, driven by
   * Node's event loop, so a round trip costs no thread hop; while a large result streams, the
   * protocol work moves to ferropg's own thread and comes back afterwards. The fastest on every
   * workload measured. `'runtime'`: always on ferropg's own thread; only for a process whose JS
   * thread is kept busy by its own work, where protocol work would wait for it.
   */
  transport?: 'loop' | 'runtime'
  types?: TypeOverrides
  /** Server settings sent at startup (`{ statement_timeout: '5s' }`), or a libpq options string. */
  options?: string | Record<string, string | number | boolean>
  /**
   * libpq's `sslmode` (default `'prefer'`): `'disable'` never TLS; `'allow'` plain first, TLS if
   * the server refuses; `'prefer'` TLS when the server offers it; `'require'` TLS, certificate
   * unchecked (checked as `'verify-ca'` when a root certificate is present); `'verify-ca'` the
   * chain leads to `sslrootcert`; `'verify-full'` the chain and the host name. Unix sockets
   * never use TLS.
   */
  sslmode?: 'disable' | 'allow' | 'prefer' | 'require' | 'verify-ca' | 'verify-full'
  sslMode?: ClientConfig['sslmode']
  /** A PEM file of trusted CAs, or `'system'` (the platform's trust store; implies verify-full). Default `~/.postgresql/root.crt` when it exists. */
  sslrootcert?: string
  /** A PEM client certificate file (default `~/.postgresql/postgresql.crt` when it exists). */
  sslcert?: string
  /** Its unencrypted PEM key file, 0600 or stricter (default `~/.postgresql/postgresql.key`). */
  sslkey?: string
  /** A PEM certificate revocation list file (default `~/.postgresql/root.crl` when it exists). */
  sslcrl?: string
  /** `'1'` (default) sends the host name in the TLS handshake (SNI); `'0'` does not. */
  sslsni?: '0' | '1'
  /** `'direct'` starts TLS at once (PostgreSQL 17+; needs sslmode require or stricter); default `'postgres'`. */
  sslnegotiation?: 'postgres' | 'direct'
  ssl_min_protocol_version?: 'TLSv1.2' | 'TLSv1.3'
  ssl_max_protocol_version?: 'TLSv1.2' | 'TLSv1.3'
  /** SCRAM-SHA-256-PLUS: `'require'` refuses a server or connection without it, before sending the password. */
  channel_binding?: 'disable' | 'prefer' | 'require'
  channelBinding?: ClientConfig['channel_binding']
  /** libpq's `require_auth`: methods the server may use (`'scram-sha-256'`, `'md5,password'`, `'!password'`, `'none'`, ...). */
  require_auth?: string
  requireAuth?: string
  /**
   * node-postgres's shape: `false` = sslmode disable; `true` = verify-full against the system's
   * trust store; `{ rejectUnauthorized: false }` = require; `{ ca }` = verify-full against `ca`
   * (verify-ca when `checkServerIdentity` is a function); `cert`/`key` a client certificate;
   * `servername` the name sent and checked. Explicit libpq keys win.
   */
  ssl?: boolean | SslOptions
  /** Receives server notices (RAISE NOTICE, warnings) instead of dropping them. */
  onNotice?: (notice: DatabaseError) => void
}

/** What a password function is told about the connection it is called for. */
export interface PasswordTarget {
  /** The host as configured (a name, an address or a socket directory). */
  host: string
  port: number
  user: string
  database: string
}

/** node-postgres's `ssl` object (PEM as strings or Buffers). */
export interface SslOptions {
  ca?: string | Buffer | Array<string | Buffer>
  cert?: string | Buffer
  key?: string | Buffer
  rejectUnauthorized?: boolean
  servername?: string
  /** Any function: ferropg does not call it; its presence means "do not check the name" (verify-ca). */
  checkServerIdentity?: (...args: any[]) => any
  minVersion?: 'TLSv1.2' | 'TLSv1.3'
  maxVersion?: 'TLSv1.2' | 'TLSv1.3'
}

export interface Notification {
  channel: string
  payload: string
  /** The server process that sent it. */
  processId: number
}

export interface Subscription {
  channel: string
  unlisten(): Promise<void>
}

export interface PoolConfig extends ClientConfig {
  /** Most connections open at once (default 10). */
  max?: number
  /** Close connections idle for this long (default: never). */
  idleTimeoutMillis?: number
  /** Close connections older than this when they are returned (default: never). */
  maxLifetimeSeconds?: number
  /** Reject `connect()`/`query()` with ERR_POOL_TIMEOUT after waiting this long for a connection, opening one included (default: wait). */
  acquireTimeoutMillis?: number
  /**
   * A connection idle at least this long answers one round trip (an empty query, bounded by
   * `connectTimeoutMillis`, else 5 s) before it is handed out; one that does not is discarded
   * (default: never; 0: every hand-out). For networks that drop idle flows without a word.
   */
  healthCheckAfterMillis?: number
}

/**
 * Cancelling one statement. It hits only that statement: not sent yet, it leaves the queue and
 * the call rejects at once (the server never sees it); sent behind others, it is cancelled on
 * the server (a CancelRequest) once it is the one running, never while another caller's
 * statement runs, and nothing is sent behind it on that connection until it is answered. The
 * call rejects with ERR_QUERY_CANCELLED (`cause`: the server's 57014, or the reason when it was
 * never sent) only if the statement did not complete; otherwise it resolves with its result.
 */
export interface CancelOptions {
  signal?: AbortSignal
  /**
   * A deadline for the whole call, counted from the moment it is made: waiting for a pooled
   * connection, waiting behind other statements, and running.
   */
  timeoutMillis?: number
}

export interface QueryOptions extends CancelOptions {
  /** `'object'` (default) rows keyed by column name, or `'array'` rows of values in column order. */
  rowMode?: 'object' | 'array'
}

export interface CursorOptions extends QueryOptions {
  /** Rows fetched per round trip (default 100). */
  batchSize?: number
}

export interface Field {
  name: string
  typeOid: number
  /** The table the column comes from (0 if none). */
  tableOid: number
  /** The column's number in that table (0 if none). */
  columnId: number
}

export interface QueryResult<R = Row> {
  rows: R[]
  /** Rows returned or affected. */
  rowCount: number
  /** The statement's command, e.g. `'SELECT'`, `'INSERT'`. */
  command: string
  fields: Field[]
}

/** Parameter sets for executeMany: arrays from an array, any iterable or an async iterable. */
export type ParamSets = Iterable<readonly unknown[]> | AsyncIterable<readonly unknown[]>

export interface ExecuteManyOptions extends CancelOptions {
  /** Collect the rows of every execution into `results`. */
  returning?: boolean
  rowMode?: 'object' | 'array'
}

export interface ExecuteManyResult<R = Row> {
  /** Rows affected (or returned) by all executions together. */
  rowCount: number
  /** With `returning: true`: one result per parameter set, in order. */
  results?: QueryResult<R>[]
}

/** Something that runs queries: a Pool, a Client or a PoolClient. */
export interface Queryable {
  query<R = Row>(sql: string, params?: readonly unknown[], options?: QueryOptions & { rowMode?: 'object' }): Promise<QueryResult<R>>
  query<R extends unknown[] = unknown[]>(sql: string, params: readonly unknown[] | undefined, options: QueryOptions & { rowMode: 'array' }): Promise<QueryResult<R>>
  /**
   * One prepared statement over many parameter sets: converted in chunks, sent pipelined, and
   * atomic (its own transaction, or a savepoint inside one). A failing set's error has `index`.
   */
  executeMany<R = Row>(sql: string, paramSets: ParamSets, options?: ExecuteManyOptions): Promise<ExecuteManyResult<R>>
  /**
   * Pipeline mode with psycopg 3 semantics: statements are sent without waiting (one Sync per
   * tick's statements), each segment between sync points outside a transaction is atomic,
   * leaving the block syncs.
   */
  pipeline<T>(fn: (p: Pipeline) => Promise<T> | T): Promise<T>
  /**
   * Runs SQL text through the simple query protocol: a script of several statements
   * (migrations, schema setup, seeds) or a statement that cannot be prepared; no parameters.
   * One result per statement, values with the same JS types as `query()` gives. A failing
   * statement rejects with its DatabaseError; the server has then rolled back the script's
   * earlier statements (one implicit transaction) unless the script manages its own.
   */
  simpleQuery(sql: string, options?: { rowMode?: 'object' | 'array' }): Promise<QueryResult[]>
  /**
   * BEGIN with the options, COMMIT when `fn` resolves, ROLLBACK when it throws (the error is
   * rethrown, a rollback failure attached as its `cause`). On a Pool it holds one connection.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>, options?: TransactionOptions): Promise<T>
  /**
   * Writes rows into `table` with binary COPY; resolves with the number of rows. A value that
   * does not fit aborts the COPY (the error has `index`, and names the column and type).
   */
  copyFrom(table: string, rows: CopyRows, options?: CopyFromOptions): Promise<number>
  /**
   * The rows of `query` (a SELECT without parameters) exported with binary COPY and decoded with
   * the query type mapping: the fastest bulk export. Leaving the loop early cancels the COPY.
   */
  copyOutRows<R = Row>(query: string, options?: { rowMode?: 'object' | 'array' }): AsyncIterableIterator<R>
  /**
   * The rows of a query fetched `batchSize` at a time through a server-side cursor (flat
   * memory). `break` closes it; outside a transaction it runs in its own.
   */
  cursor<R = Row>(sql: string, params?: readonly unknown[], options?: CursorOptions): AsyncIterableIterator<R>
  /** A Writable over `COPY ... FROM STDIN` (text, csv or binary) with backpressure. */
  copyIn(sql: string, options?: CancelOptions): Promise<CopyInStream>
  /** A Readable over `COPY ... TO STDOUT` with backpressure. */
  copyOut(sql: string, options?: CancelOptions): Promise<CopyOutStream>
  /** NOTIFY through pg_notify. */
  notify(channel: string, payload?: string): Promise<void>
}

/** A node Writable over `COPY ... FROM STDIN` (any format); `destroy(err)` aborts the COPY. */
export interface CopyInStream extends Writable {
  /** Rows copied, set when the stream finishes. */
  readonly rowCount: number | undefined
  /** Resolves with the row count when the COPY finishes; rejects with its error or abort. */
  readonly done: Promise<number>
}

/** A node Readable (and async iterable of Buffers) over `COPY ... TO STDOUT`; destroying it early cancels the COPY. */
export interface CopyOutStream extends Readable {
  [Symbol.asyncIterator](): ReturnType<Readable[typeof Symbol.asyncIterator]> & AsyncIterator<Buffer>
}

export interface CopyFromOptions extends CancelOptions {
  /** The columns to fill, in the order of array rows (default: every column of the table, in order). */
  columns?: string[]
  schema?: string
}

/** Rows for copyFrom: arrays in column order, or objects keyed by column name. */
export type CopyRows =
  | Iterable<readonly unknown[] | Record<string, unknown>>
  | AsyncIterable<readonly unknown[] | Record<string, unknown>>

export interface TransactionOptions {
  isolationLevel?: 'serializable' | 'repeatable read' | 'read committed' | 'read uncommitted'
  readOnly?: boolean
  deferrable?: boolean
}

/** The object a `transaction()` callback receives; using it after the block ended rejects with ERR_TRANSACTION_CLOSED. */
export interface Transaction {
  query<R = Row>(sql: string, params?: readonly unknown[], options?: QueryOptions & { rowMode?: 'object' }): Promise<QueryResult<R>>
  query<R extends unknown[] = unknown[]>(sql: string, params: readonly unknown[] | undefined, options: QueryOptions & { rowMode: 'array' }): Promise<QueryResult<R>>
  /** Runs under a savepoint: a failing batch is rolled back and the transaction stays usable. */
  executeMany<R = Row>(sql: string, paramSets: ParamSets, options?: ExecuteManyOptions): Promise<ExecuteManyResult<R>>
  pipeline<T>(fn: (p: Pipeline) => Promise<T> | T): Promise<T>
  /** A script over the simple query protocol, inside the transaction (see Queryable). */
  simpleQuery(sql: string, options?: { rowMode?: 'object' | 'array' }): Promise<QueryResult[]>
  /** A nested transaction (a savepoint). */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>
  /**
   * Writes rows into `table` with binary COPY; resolves with the number of rows. A value that
   * does not fit aborts the COPY (the error has `index`, and names the column and type).
   */
  copyFrom(table: string, rows: CopyRows, options?: CopyFromOptions): Promise<number>
  /**
   * The rows of `query` (a SELECT without parameters) exported with binary COPY and decoded with
   * the query type mapping: the fastest bulk export. Leaving the loop early cancels the COPY.
   */
  copyOutRows<R = Row>(query: string, options?: { rowMode?: 'object' | 'array' }): AsyncIterableIterator<R>
  /**
   * The rows of a query fetched `batchSize` at a time through a server-side cursor (flat
   * memory). `break` closes it; outside a transaction it runs in its own.
   */
  cursor<R = Row>(sql: string, params?: readonly unknown[], options?: CursorOptions): AsyncIterableIterator<R>
  /** A Writable over `COPY ... FROM STDIN` (text, csv or binary) with backpressure. */
  copyIn(sql: string, options?: CancelOptions): Promise<CopyInStream>
  /** A Readable over `COPY ... TO STDOUT` with backpressure. */
  copyOut(sql: string, options?: CancelOptions): Promise<CopyOutStream>
}

/** The object a `pipeline()` callback receives. */
export interface Pipeline {
  /**
   * Queues a statement without waiting: the statements queued in one tick are sent together,
   * with a single Sync. Settles in send order; PipelineAbortedError if an earlier statement of
   * the segment failed (a parameter refused before sending fails its segment the same way).
   */
  query<R = Row>(sql: string, params?: readonly unknown[], options?: QueryOptions & { rowMode?: 'object' }): Promise<QueryResult<R>>
  query<R extends unknown[] = unknown[]>(sql: string, params: readonly unknown[] | undefined, options: QueryOptions & { rowMode: 'array' }): Promise<QueryResult<R>>
  /** executeMany as part of the current segment (no transaction of its own). */
  executeMany<R = Row>(sql: string, paramSets: ParamSets, options?: ExecuteManyOptions): Promise<ExecuteManyResult<R>>
  /** A synchronization point: resolves when the segment is done, rejects with its first error. */
  sync(): Promise<void>
  /** A nested block on the same pipeline; syncs when it exits. */
  pipeline<T>(fn: (p: Pipeline) => Promise<T> | T): Promise<T>
}

/** One connection to PostgreSQL. */
export declare class Client implements Queryable {
  protected constructor()
  /** Opens a connection. */
  static connect(config?: string | ClientConfig): Promise<Client>
  /** The server process serving this connection. */
  readonly processId: number
  /** The server's `server_version`. */
  readonly serverVersion: string
  readonly closed: boolean
  /**
   * The session's transaction status as the server stated it in its last ReadyForQuery:
   * `'inError'` is a failed transaction block (statements are refused until ROLLBACK).
   */
  readonly transactionStatus: 'idle' | 'inTransaction' | 'inError'
  /** Cancels what the connection runs now (CancelRequest); that statement fails with 57014. */
  cancel(): Promise<void>
  /** LISTEN on this connection (standalone clients). */
  listen(channel: string, onNotify: (n: Notification) => void): Promise<Subscription>
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}
export interface Client extends Queryable {}

/** A client borrowed from a Pool. */
export declare class PoolClient extends Client {
  /**
   * Gives the connection back; `release(true)` discards it instead, and so does a connection
   * the server reports inside a transaction (or a failed one), or with statements still running.
   */
  release(discard?: boolean): void
}

/**
 * A pool of connections, opened lazily (the constructor does no I/O). `query` runs on a free
 * connection; when all `max` are busy and nobody waits to borrow one, a plain SELECT, INSERT,
 * UPDATE, DELETE or MERGE is pipelined onto the least busy connection instead of queueing.
 */
export declare class Pool implements Queryable {
  constructor(config?: string | PoolConfig)
  /**
   * LISTEN on a dedicated connection shared by the pool's listeners; if it is lost it is
   * reopened with backoff and `onReconnect` runs. Closing the pool ends it.
   */
  listen(channel: string, onNotify: (n: Notification) => void, options?: { onReconnect?: () => void }): Promise<Subscription>
  /** Borrows a connection until `release()`; `signal` stops waiting (ERR_QUERY_CANCELLED). */
  connect(options?: { signal?: AbortSignal }): Promise<PoolClient>
  /** The pool's state and its counters since it was made (docs/observability.md, "Pool metrics"). */
  stats(): PoolStats
  readonly closed: boolean
  close(): Promise<void>
  [Symbol.asyncDispose](): Promise<void>
}
export interface Pool extends Queryable {}

/**
 * The stable codes of driver errors (`FerroError.code`; a DatabaseError's `code` is the
 * server's SQLSTATE). Those the native side raises are one Rust enum (`core::error::Code`); a
 * test keeps this union in step with it and with the JS facade.
 */
export type DriverErrorCode =
  | 'ERR_ADDON_NOT_FOUND'
  | 'ERR_CLIENT_CLOSED'
  | 'ERR_CLIENT_RELEASED'
  | 'ERR_CONNECTION'
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_COPY_ENDED'
  | 'ERR_DECODE'
  | 'ERR_DUPLICATE_COLUMN'
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_CONFIG'
  | 'ERR_INVALID_PARAMETER'
  | 'ERR_PASSWORD_FUNCTION'
  | 'ERR_PIPELINE_ABORTED'
  | 'ERR_PIPELINE_CLOSED'
  | 'ERR_PIPELINE_UNSUPPORTED'
  | 'ERR_POOL_CLOSED'
  | 'ERR_POOL_TIMEOUT'
  | 'ERR_PROTOCOL'
  | 'ERR_QUERY_CANCELLED'
  | 'ERR_QUERY_TIMEOUT'
  | 'ERR_TLS'
  | 'ERR_TRANSACTION_CLOSED'
  | 'ERR_UNSUPPORTED'
  | 'ERR_UNSUPPORTED_PLATFORM'
  | 'ERR_UNSUPPORTED_TYPE'

/** Every error ferropg creates; `code` is a stable `DriverErrorCode`, or a SQLSTATE on a DatabaseError. */
export declare class FerroError extends Error {
  code: DriverErrorCode | (string & {})
}

/** An error reported by the server (node-postgres field names; `code` is the SQLSTATE). */
export declare class DatabaseError extends FerroError {
  severity: string
  detail: string | undefined
  hint: string | undefined
  position: string | undefined
  internalPosition: string | undefined
  internalQuery: string | undefined
  where: string | undefined
  schema: string | undefined
  table: string | undefined
  column: string | undefined
  dataType: string | undefined
  constraint: string | undefined
  file: string | undefined
  line: string | undefined
  routine: string | undefined
}

/** A pipeline statement that did not run because an earlier one failed (`ERR_PIPELINE_ABORTED`). */
export declare class PipelineAbortedError extends FerroError {}

export interface FerroError {
  /** executeMany: the index of the parameter set that failed. */
  index?: number
}

/** The wait for a connection of every borrow, in fixed buckets. */
export interface WaitHistogram {
  /** Inclusive upper bounds of the buckets, in ms: 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 5000. */
  boundsMillis: number[]
  /** Borrows per bucket: `counts[i]` waited at most `boundsMillis[i]` (and more than the bound before); the last entry counts longer waits. */
  counts: number[]
  /** Borrows measured (the sum of `counts`). */
  count: number
  sumMillis: number
}

/** `pool.stats()`. Counters start at 0 when the pool is made and only grow. */
export interface PoolStats {
  /** Connections open (busy or idle). */
  size: number
  idle: number
  /** Callers waiting for a connection. */
  waiting: number
  max: number
  /** Borrows that got a connection (`pool.connect()`, and `pool.query` when it needs a connection of its own). */
  acquired: number
  /** Connections opened. */
  created: number
  /** Connections the pool closed (discarded on release, failed checks, idle or lifetime limits, close()). */
  destroyed: number
  /** Borrows ended by `acquireTimeoutMillis` (also counted in `errors.ERR_POOL_TIMEOUT`). */
  timedOut: number
  /** Waits the caller gave up (an aborted `signal`, a `timeoutMillis` that passed while waiting). */
  abandoned: number
  /** Failed borrows by error code (a SQLSTATE such as '28P01', or a driver code). */
  errors: Record<string, number>
  waitTime: WaitHistogram
}

/** The diagnostics_channel TracingChannel names ferropg publishes on (docs/observability.md). */
export declare const channels: {
  readonly query: 'ferropg:query'
  readonly connect: 'ferropg:connect'
  readonly poolAcquire: 'ferropg:pool:acquire'
  readonly transaction: 'ferropg:transaction'
  readonly copy: 'ferropg:copy'
  readonly pipeline: 'ferropg:pipeline'
}

/**
 * What every tracing context holds: OpenTelemetry database attribute names, built from the
 * connection's host, port, database and user (never a password). TracingChannel adds `error`
 * (a failure) or `result` (the resolved value) when the operation settles.
 */
export interface TraceContext {
  'db.system.name': 'postgresql'
  'db.namespace'?: string
  'server.address'?: string
  'server.port'?: number
  user?: string
  /** The SQLSTATE, or the driver code, of a failure. */
  'error.type'?: string
  /** The SQLSTATE of a server error. */
  'db.response.status_code'?: string
  processId?: number
  error?: unknown
  result?: unknown
}

/** `ferropg:query` (query() and simpleQuery() on Pool, Client, PoolClient, Transaction). */
export interface QueryTraceContext extends TraceContext {
  'db.query.text': string
  parameterCount: number
  /**
   * `query()` on a Client, PoolClient or Transaction: whether its connection had the statement
   * prepared already when the call was made (`pool.query` picks its connection natively: not set).
   */
  cacheHit?: boolean
  /** With `cacheHit`: the prepared statement's name on the server (`''` with `prepare: false`). */
  statementName?: string
  /** With `traceValues: true` only. */
  values?: unknown[]
  /** With `traceValues: true` only: `db.query.parameter.0`, ... (strings). */
  [parameter: `db.query.parameter.${number}`]: string
  /** When it ended: the command tag's command (SELECT, INSERT, ...). */
  'db.operation.name'?: string
  command?: string
  rowCount?: number
  'db.response.returned_rows'?: number
  /** simpleQuery: the number of statements of the script. */
  statements?: number
}

/** `ferropg:connect` (Client.connect). */
export interface ConnectTraceContext extends TraceContext {
  tls?: boolean
  serverVersion?: string
  durationMillis?: number
}

/** `ferropg:pool:acquire` (pool.connect()). */
export interface PoolAcquireTraceContext extends TraceContext {
  poolSize: number
  idle: number
  waiting: number
  max: number
  waitMillis?: number
  durationMillis?: number
}

/** `ferropg:transaction` (transaction(), and nested ones with `savepoint`). */
export interface TransactionTraceContext extends TraceContext {
  isolationLevel?: string
  readOnly?: boolean
  deferrable?: boolean
  savepoint?: string
  outcome?: 'commit' | 'rollback'
}

/** `ferropg:copy` (copyFrom, copyIn, copyOut). */
export interface CopyTraceContext extends TraceContext {
  'db.operation.name': 'COPY'
  kind: 'copyFrom' | 'copyIn' | 'copyOut'
  direction: 'in' | 'out'
  'db.query.text'?: string
  'db.collection.name'?: string
  rowCount?: number
  aborted?: boolean
  durationMillis?: number
}

/** `ferropg:pipeline` (pipeline() blocks). */
export interface PipelineTraceContext extends TraceContext {
  statements?: number
  segments?: number
  'db.operation.batch.size'?: number
}
