'use strict'
const native = require('../binding')
require('./completions') // the promise-returning native query methods
const { FerroError, responseError } = require('./errors')
const { encodeParams } = require('./params')
const { decodeResult, decodeResults, partial } = require('./reader')
const { OK } = require('./wire').status
const { toNative } = require('./config')
const { executeMany } = require('./many')
const { Pipeline, runBlock } = require('./pipeline')
const { transaction } = require('./transaction')
const { openCopy, copyOutRows } = require('./copy')
const { copyFrom } = require('./copy-from')
const { cancellable, cancellableRequest, combinedSignal } = require('./cancel')
const { cursorRows, nameAllocator } = require('./cursor')
const { eventsCallback } = require('./events')
const { Listener } = require('./listener')
const tracing = require('./tracing')
const { CountingPipeline } = require('./pipeline-count')

const { queryChannel, connectChannel, pipelineChannel, transactionChannel, copyChannel } = tracing
const newPipeline = (n) => new Pipeline(n)

function checkSql(sql) {
  if (typeof sql !== 'string') throw new FerroError('ERR_INVALID_ARGUMENT', `the query must be a string, got ${typeof sql}`)
}

/**
 * Settles a native response: rows (after those already in `acc`), or the error created here,
 * on the caller's async stack.
 */
// `buf`: the response, or undefined when it was left in `acc` (completions.js).
function settle(buf, options, acc) {
  if (buf === undefined) return settleAcc(acc)
  const err = responseError(buf)
  if (err !== undefined) throw scriptHint(err)
  return decodeResult(buf, options?.rowMode, acc, 0)
}

/** settle() of the response completions.js left in `acc` (a reader.js Partial). */
function settleAcc(acc) {
  const buf = acc.buf
  const start = acc.start
  acc.buf = undefined
  if (buf[start] !== OK) throw scriptHint(responseError(buf.subarray(start, acc.end)))
  return decodeResult(buf, acc.rowMode, acc, start)
}

// query() prepares its statement, which the server refuses for several statements at once:
// the server's error stays, and says where scripts go.
function scriptHint(err) {
  if (err.code === '42601' && /multiple commands/.test(err.message)) {
    err.message += ' (query() runs one statement; use simpleQuery() for a script of several)'
  }
  return err
}

// Client.connect: a connection of class `Class` (Client or a subclass).
async function open(Class, config) {
  const [settings, connString, password, onNotice, traceValues] = toNative(config)
  const handlers = { notice: onNotice ?? undefined }
  const r = await native.connectClient(settings, connString, password, eventsCallback(handlers))
  if (r instanceof native.NativeClient) return new Class(r, handlers, traceValues)
  throw responseError(r)
}

/** One connection to PostgreSQL. */
class Client {
  #native
  #closed = false
  // While an executeMany runs, other calls on this client wait for it (they would otherwise
  // land inside its transaction).
  #busy = null
  #pipeline = null
  #cursors = nameAllocator()
  #handlers
  #traceValues
  #target = null

  /** @internal */
  constructor(nativeClient, handlers, traceValues = false) {
    if (!(nativeClient instanceof native.NativeClient)) {
      throw new TypeError('use Client.connect(config) or pool.connect() to get a client')
    }
    this.#native = nativeClient
    this.#handlers = handlers
    this.#traceValues = traceValues
    if (handlers) handlers.notification = (ev) => this.#notify(ev)
  }

  /**
   * Opens a connection. `onNotice` in the config receives server notices; `listen()` works on
   * the client's own connection. Traced on `ferropg:connect`.
   */
  static connect(config) {
    if (connectChannel.hasSubscribers) return tracing.traceConnect(config, () => open(this, config))
    return open(this, config)
  }

  /**
   * @internal Where this connection went and as whom (`{ host, port, tls, database, user }`),
   * read from the native side once, for tracing.
   */
  get _traceTarget() {
    return (this.#target ??= this.#native.target)
  }

  /** @internal For the dedicated listener connection: route events to `extra` too. */
  static async _connectWith(config, extra) {
    const c = await this.connect(config)
    Object.assign(c.#handlers, { closed: extra.closed })
    c.#extraNotify = extra.notification
    return c
  }

  // Notifications go to whoever listens on this connection (a Listener, see listen()).
  #extraNotify = null
  #listener = null

  #notify(ev) {
    this.#extraNotify?.(ev)
  }

  /** LISTEN on this client's connection; `unlisten()` stops. (Pool#listen adds reconnection.) */
  async listen(channel, onNotify) {
    if (!this.#handlers) throw new FerroError('ERR_INVALID_ARGUMENT', 'listen() on a pooled client is not supported: use pool.listen()')
    // The same subscription bookkeeping as the pool's, on this connection and without reconnecting.
    this.#listener ??= new Listener(async (handlers) => {
      this.#extraNotify = handlers.notification
      return this
    })
    return this.#listener.listen(channel, onNotify)
  }

  /** NOTIFY `channel` with `payload` (pg_notify). */
  async notify(channel, payload = '') {
    await this.query('SELECT pg_notify($1, $2)', [channel, payload])
  }

  /** Runs one statement; traced on `ferropg:query` (inside a pipeline: `ferropg:pipeline`). */
  query(sql, params, options) {
    // Inside pipeline(), the client's own calls join the pipeline (as in psycopg).
    if (this.#pipeline) return this.#pipeline.query(sql, params, options)
    if (queryChannel.hasSubscribers) {
      const ctx = this.#queryContext(sql, params)
      // Whether the connection has the statement prepared already, as the call is made.
      const name = typeof sql === 'string' ? this.#native.cachedStatementName(sql) : null
      ctx.cacheHit = name !== null
      if (name !== null) ctx.statementName = name
      return tracing.traceQuery(ctx, () => this.#query(sql, params, options))
    }
    return this.#query(sql, params, options)
  }

  /** @internal query() untraced (for a caller that traces it already, e.g. Pool#query). */
  _query(sql, params, options) {
    if (this.#pipeline) return this.#pipeline.query(sql, params, options)
    return this.#query(sql, params, options)
  }

  #queryContext(sql, params) {
    return tracing.queryContext(this._traceTarget, sql, params, this.#traceValues, this.#native.processId)
  }

  async #query(sql, params, options) {
    if (options?.signal === undefined && options?.timeoutMillis === undefined) {
      if (this.#busy) await this.#busy
      if (this.#closed) throw this._closedError()
      checkSql(sql)
      const acc = partial(options?.rowMode)
      await this.#native.query(sql, params, acc)
      return settleAcc(acc)
    }
    checkSql(sql)
    const acc = partial(options.rowMode)
    const buf = encodeParams(params)
    // The deadline counts from this call: waiting for an exclusive operation included.
    return cancellableRequest(
      this.#native,
      options,
      (stopped, submitted) => {
        const submit = () => {
          if (this.#closed) throw this._closedError()
          return stopped() ? undefined : submitted(this.#native.queryCancellable(sql, buf, acc))
        }
        if (!this.#busy) return submit()
        return (async () => {
          while (this.#busy) await this.#busy
          return submit()
        })()
      },
      (res) => settle(res, options, acc),
    )
  }

  /**
   * Runs `sql` through the simple query protocol: a script of any number of statements
   * (migrations, schema setup), or a statement that cannot be prepared. Resolves with one
   * result per statement; the values have the same JS types as query() gives. A failing
   * statement rejects with its DatabaseError, and the server has then rolled back the script's
   * earlier statements unless the script manages its own transactions. No parameters. Traced
   * on `ferropg:query`.
   */
  simpleQuery(sql, options) {
    if (queryChannel.hasSubscribers && !this.#pipeline) return tracing.traceQuery(this.#queryContext(sql, undefined), () => this.#simpleQuery(sql, options))
    return this.#simpleQuery(sql, options)
  }

  async #simpleQuery(sql, options) {
    if (this.#pipeline) throw new FerroError('ERR_PIPELINE_UNSUPPORTED', 'simpleQuery() cannot run inside a pipeline: leave the pipeline() block first')
    if (this.#busy) await this.#busy
    if (this.#closed) throw this._closedError()
    checkSql(sql)
    const buf = await this.#native.script(sql)
    const err = responseError(buf)
    if (err !== undefined) throw err
    return decodeResults(buf, options?.rowMode)
  }

  /**
   * The session's transaction status, as the server stated it in its last ReadyForQuery:
   * `'idle'`, `'inTransaction'` or `'inError'` (a failed transaction block).
   */
  get transactionStatus() {
    return this.#closed ? 'idle' : this.#native.transactionStatus
  }

  /**
   * Cancels what the connection runs now (a CancelRequest to the server); the statement
   * fails with 57014.
   */
  async cancel() {
    if (this.#closed) return
    const err = responseError(await this.#native.cancel())
    if (err) throw err
  }

  /**
   * Runs one statement once per parameter set, pipelined and atomic: in its own transaction,
   * or under a savepoint inside one. `{ returning: true }` collects every execution's rows.
   */
  async executeMany(sql, paramSets, options) {
    if (this.#pipeline) return this.#pipeline.executeMany(sql, paramSets, options)
    return this.#exclusive(() => cancellable(this.#native, options, (quiesce) => executeMany(this.#native, sql, paramSets, { ...options, quiesce })))
  }

  /**
   * Pipeline mode (psycopg 3 semantics): `p.query()` sends without waiting, `p.sync()` is a
   * synchronization point, each segment outside a transaction is atomic; leaving the block
   * syncs. A nested call runs on the same pipeline and syncs when it exits.
   */
  async pipeline(fn) {
    if (this.#pipeline) return runBlock(this.#pipeline, fn)
    if (pipelineChannel.hasSubscribers) {
      return tracing.tracePipeline(this._traceTarget, this.#native.processId, CountingPipeline, (make) => this.#runPipeline(fn, make))
    }
    return this.#runPipeline(fn, newPipeline)
  }

  #runPipeline(fn, make) {
    return this.#exclusive(async () => {
      const p = make(this.#native)
      this.#pipeline = p
      try {
        return await runBlock(p, fn)
      } finally {
        p._close()
        this.#pipeline = null
      }
    })
  }

  /**
   * BEGIN (with `isolationLevel`, `readOnly`, `deferrable`), COMMIT when `fn(tx)` resolves,
   * ROLLBACK when it throws. `tx.transaction()` nests as a savepoint.
   */
  async transaction(fn, options) {
    if (this.#closed) throw this._closedError()
    if (this.#pipeline) throw new FerroError('ERR_PIPELINE_UNSUPPORTED', 'transaction() cannot run inside a pipeline: leave the pipeline() block first')
    if (transactionChannel.hasSubscribers && typeof fn === 'function') {
      return tracing.traceTransaction(this._traceTarget, this.processId, options, undefined, () => transaction(this, fn, options))
    }
    return transaction(this, fn, options)
  }

  /**
   * A Writable over `COPY ... FROM STDIN` (any format), with backpressure; `destroy(err)`
   * aborts the COPY and nothing is written; `rowCount` is set when it finishes.
   */
  async copyIn(sql, options) {
    if (this.#pipeline) throw new FerroError('ERR_PIPELINE_UNSUPPORTED', 'COPY cannot run inside a pipeline: leave the pipeline() block first')
    if (this.#busy) await this.#busy
    if (this.#closed) throw this._closedError()
    const open = () => openCopy(this.#native, 'in', sql, undefined, combinedSignal(options))
    if (copyChannel.hasSubscribers) return tracing.traceCopyStream(tracing.copyContext(this._traceTarget, this.processId, 'copyIn', sql), open)
    return open()
  }

  /** A Readable (and async iterable) over `COPY ... TO STDOUT`; destroying it early cancels the COPY. */
  async copyOut(sql, options) {
    if (this.#pipeline) throw new FerroError('ERR_PIPELINE_UNSUPPORTED', 'COPY cannot run inside a pipeline: leave the pipeline() block first')
    if (this.#busy) await this.#busy
    if (this.#closed) throw this._closedError()
    const open = () => openCopy(this.#native, 'out', sql, undefined, combinedSignal(options))
    if (copyChannel.hasSubscribers) return tracing.traceCopyStream(tracing.copyContext(this._traceTarget, this.processId, 'copyOut', sql), open)
    return open()
  }

  /**
   * Writes rows (arrays, or objects keyed by column name) into `table` with binary COPY;
   * resolves with the number of rows. A value that does not fit aborts the whole COPY.
   */
  async copyFrom(table, rows, options) {
    if (this.#pipeline) throw new FerroError('ERR_PIPELINE_UNSUPPORTED', 'COPY cannot run inside a pipeline: leave the pipeline() block first')
    const signal = combinedSignal(options)
    const run = () => this.#exclusive(() => copyFrom(this.#native, table, rows, { ...options, signal }))
    if (copyChannel.hasSubscribers) {
      const name = options?.schema === undefined ? table : `${options.schema}.${table}`
      return tracing.traceCopyFrom(tracing.copyContext(this._traceTarget, this.processId, 'copyFrom', undefined, name), run)
    }
    return run()
  }

  /** @internal Whether the server said the session is inside a transaction block. */
  get _inTransaction() {
    return this.transactionStatus !== 'idle'
  }

  /**
   * The rows of `query` (a SELECT without parameters) through binary COPY, decoded like query
   * results: the fastest way to export a large result. An async iterable of rows; the client is
   * held until the loop ends (leaving early cancels the COPY).
   */
  copyOutRows(query, options) {
    if (this.#pipeline) throw new FerroError('ERR_PIPELINE_UNSUPPORTED', 'COPY cannot run inside a pipeline: leave the pipeline() block first')
    const native = this.#native
    const acquire = () => this.#acquire()
    return (async function* () {
      const release = await acquire()
      try {
        yield* copyOutRows(native, query, options)
      } finally {
        release()
      }
    })()
  }

  /**
   * The rows of a query, fetched `batchSize` (100) at a time through a server-side cursor:
   * memory stays flat for any result size. An async iterable; `break` closes the cursor.
   * Outside a transaction it runs in its own.
   */
  cursor(sql, params, options) {
    if (this.#pipeline) throw new FerroError('ERR_PIPELINE_UNSUPPORTED', 'a cursor cannot run inside a pipeline: leave the pipeline() block first')
    return cursorRows(this, sql, params, options, this.#cursors)
  }

  /** @internal A parameterless statement kept out of the statement cache (cursor FETCH). */
  async _uncached(sql, options) {
    if (this.#closed) throw this._closedError()
    if (options?.signal === undefined && options?.timeoutMillis === undefined) return settle(await this.#native.queryUncached(sql), options)
    return cancellableRequest(this.#native, options, (stopped, submitted) => (stopped() ? undefined : submitted(this.#native.uncachedCancellable(sql))), (res) => settle(res, options))
  }

  // Waits until no exclusive operation runs, then holds the client; returns the release.
  async #acquire() {
    while (this.#busy) await this.#busy
    if (this.#closed) throw this._closedError()
    let release
    this.#busy = new Promise((r) => (release = r))
    return () => {
      this.#busy = null
      release()
    }
  }

  // Runs `fn` while other calls on this client wait.
  async #exclusive(fn) {
    const release = await this.#acquire()
    try {
      return await fn()
    } finally {
      release()
    }
  }

  get processId() { return this.#native.processId }
  get serverVersion() { return this.#native.serverVersion }
  get closed() { return this.#closed }

  /** @internal */
  _closedError() {
    return new FerroError('ERR_CLIENT_CLOSED', 'the client is closed')
  }

  /** @internal */
  _end(discard) {
    if (this.#closed) return false
    this.#closed = true
    this.#native.release(discard)
    return true
  }

  async close() {
    this._end(false)
  }

  async [Symbol.asyncDispose]() {
    await this.close()
  }
}

/** A client borrowed from a Pool: give it back with release(). */
class PoolClient extends Client {
  /**
   * Returns the connection to the pool; `release(true)` (or an Error) discards it instead. A
   * connection the server reports inside a transaction (or a failed one), or with statements
   * still running, is discarded, never handed to the next user.
   */
  release(discard = false) {
    if (!this._end(Boolean(discard))) throw new FerroError('ERR_CLIENT_RELEASED', 'the client was already released')
  }

  _closedError() {
    return new FerroError('ERR_CLIENT_CLOSED', 'the client was released to the pool')
  }

  async close() {
    this._end(false)
  }
}

module.exports = { Client, PoolClient, settleAcc, scriptHint, checkSql }
