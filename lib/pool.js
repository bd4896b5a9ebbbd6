'use strict'
const native = require('../binding')
const { poolQuery } = require('./completions') // and the promise-returning native query methods
const { FerroError, responseError } = require('./errors')
const { partial } = require('./reader')
const { toNative } = require('./config')
const { PoolClient, settleAcc, checkSql } = require('./client')
const { cancelledError, cancelOptions } = require('./cancel')
const { eventsCallback } = require('./events')
const { Listener } = require('./listener')
const { Client } = require('./client')
const { shapeStats } = require('./pool-metrics')
const tracing = require('./tracing')

const { queryChannel, acquireChannel } = tracing

// Resolves with `pending`, or rejects when `signal` aborts first: `giveUp()` then drops the
// native wait (and a connection attempt it was making), and a connection that arrives anyway
// goes straight back to the pool.
function raceAbort(pending, signal, giveUp) {
  return new Promise((resolve, reject) => {
    let settled = false
    const onAbort = () => {
      settled = true
      reject(cancelledError(signal.reason))
      giveUp()
      pending.then((r) => r instanceof native.NativeClient && r.release(false), () => {})
    }
    signal.addEventListener('abort', onAbort, { once: true })
    pending.then(
      (r) => {
        signal.removeEventListener('abort', onAbort)
        if (!settled) resolve(r)
      },
      (e) => {
        signal.removeEventListener('abort', onAbort)
        if (!settled) reject(e)
      },
    )
  })
}

/** A pool of connections, opened lazily and shared by concurrent callers. */
class Pool {
  #native
  #handle
  #closed = false
  #listener
  #traceValues
  #target = null

  constructor(config) {
    const [settings, connString, password, onNotice, traceValues] = toNative(config)
    this.#traceValues = traceValues
    const events = onNotice ? eventsCallback({ notice: onNotice }) : null
    try {
      this.#native = new native.NativePool(settings, connString, password, events)
      this.#handle = this.#native.handle
    } catch (e) {
      throw new FerroError('ERR_INVALID_CONFIG', e.message)
    }
    // Listeners get a dedicated connection with the same configuration.
    this.#listener = new Listener((handlers) => Client._connectWith(config, handlers))
  }

  /**
   * LISTEN on `channel`: `onNotify({ channel, payload, processId })` for each notification.
   * Listeners share one dedicated connection that is reopened (with backoff) if lost; then
   * `options.onReconnect()` runs so the application can catch up.
   */
  async listen(channel, onNotify, options) {
    this.#check()
    return this.#listener.listen(channel, onNotify, options)
  }

  /** NOTIFY `channel` with `payload` (pg_notify). */
  async notify(channel, payload = '') {
    await this.query('SELECT pg_notify($1, $2)', [channel, payload])
  }

  #check() {
    if (this.#closed) throw new FerroError('ERR_POOL_CLOSED', 'the pool is closed')
  }

  /**
   * Runs one statement on a pooled connection; traced on `ferropg:query` (`server.address` and
   * `server.port` are then the first configured host's: the connection is chosen natively).
   */
  query(sql, params, options) {
    if (queryChannel.hasSubscribers) {
      const ctx = tracing.queryContext(this.#traceTarget(), sql, params, this.#traceValues, undefined)
      return tracing.traceQuery(ctx, () => this.#query(sql, params, options))
    }
    return this.#query(sql, params, options)
  }

  // The configured server, database and user, read from the native side once, for tracing.
  #traceTarget() {
    return (this.#target ??= this.#native.target)
  }

  // The common call (no signal, no timeout) is a small async function of its own: its
  // generator's register file is what each call allocates, and the cancellable path's locals
  // would make it larger for every query.
  #query(sql, params, options) {
    if (options?.signal !== undefined || options?.timeoutMillis !== undefined) return this.#cancellableQuery(sql, params, options)
    return this.#plainQuery(sql, params, options?.rowMode)
  }

  async #plainQuery(sql, params, rowMode) {
    this.#check()
    checkSql(sql)
    const acc = partial(rowMode)
    await poolQuery(this.#handle, sql, params, acc)
    return settleAcc(acc)
  }

  // Cancelling needs the connection's identity: runs on a borrowed client. `timeoutMillis`
  // bounds the whole call, the wait for a connection included.
  async #cancellableQuery(sql, params, options) {
    this.#check()
    checkSql(sql)
    const { signal, timeout } = cancelOptions(options)
    const started = Date.now()
    const timed = timeout === undefined ? undefined : new AbortController()
    const timer = timed && setTimeout(() => timed.abort(new FerroError('ERR_QUERY_TIMEOUT', `the statement ran longer than timeoutMillis (${timeout} ms)`)), timeout)
    let c
    try {
      c = await this.connect({ signal: signal && timed ? AbortSignal.any([signal, timed.signal]) : (signal ?? timed.signal) })
    } finally {
      clearTimeout(timer)
    }
    try {
      const left = timeout === undefined ? undefined : Math.max(0, timeout - (Date.now() - started))
      return await c._query(sql, params, { ...options, timeoutMillis: left })
    } finally {
      c.release()
    }
  }

  /**
   * simpleQuery on one pooled connection (see Client#simpleQuery); a script that leaves a
   * transaction open (`BEGIN` without `COMMIT`) does not leave it to the next borrower: the
   * server's status says so and the connection is discarded.
   */
  async simpleQuery(sql, options) {
    const c = await this.connect()
    try {
      return await c.simpleQuery(sql, options)
    } finally {
      c.release()
    }
  }

  /** executeMany on one pooled connection (see Client#executeMany). */
  async executeMany(sql, paramSets, options) {
    const c = await this.connect()
    try {
      return await c.executeMany(sql, paramSets, options)
    } finally {
      c.release()
    }
  }

  /** transaction() on one pooled connection (see Client#transaction). */
  async transaction(fn, options) {
    const c = await this.connect()
    try {
      return await c.transaction(fn, options)
    } finally {
      c.release()
    }
  }

  /** copyFrom on one pooled connection (see Client#copyFrom). */
  async copyFrom(table, rows, options) {
    const c = await this.connect()
    try {
      return await c.copyFrom(table, rows, options)
    } finally {
      c.release()
    }
  }

  /** cursor on a pooled connection (and a transaction) held until the loop ends. */
  cursor(sql, params, options) {
    const pool = this
    return (async function* () {
      const c = await pool.connect({ signal: options?.signal })
      try {
        yield* c.cursor(sql, params, options)
      } finally {
        c.release()
      }
    })()
  }

  /** copyOutRows on a pooled connection held until the loop ends (see Client#copyOutRows). */
  copyOutRows(query, options) {
    const pool = this
    return (async function* () {
      const c = await pool.connect()
      try {
        yield* c.copyOutRows(query, options)
      } finally {
        c.release()
      }
    })()
  }

  /** copyIn on a pooled connection held until the stream closes, then released clean. */
  async copyIn(sql) {
    return this.#copy('copyIn', sql)
  }

  /** copyOut on a pooled connection held until the stream closes, then released clean. */
  async copyOut(sql) {
    return this.#copy('copyOut', sql)
  }

  async #copy(method, sql) {
    const c = await this.connect()
    try {
      const stream = await c[method](sql)
      stream.once('close', () => c.release())
      return stream
    } catch (e) {
      c.release()
      throw e
    }
  }

  /** pipeline() on one pooled connection (see Client#pipeline). */
  async pipeline(fn) {
    const c = await this.connect()
    try {
      return await c.pipeline(fn)
    } finally {
      c.release()
    }
  }

  /**
   * Borrows a connection; `signal` stops waiting for one (ERR_QUERY_CANCELLED). Traced on
   * `ferropg:pool:acquire`.
   */
  connect(options) {
    if (acquireChannel.hasSubscribers && !this.#closed) {
      return tracing.traceAcquire(this.#traceTarget(), this.#native.stats(), () => this.#connect(options))
    }
    return this.#connect(options)
  }

  async #connect(options) {
    this.#check()
    const signal = options?.signal
    if (signal !== undefined && !(signal instanceof AbortSignal)) throw new FerroError('ERR_INVALID_ARGUMENT', "'signal' must be an AbortSignal")
    if (signal?.aborted) throw cancelledError(signal.reason)
    let r
    if (signal) {
      // A caller that gives up stops waiting in the pool (stats().waiting) and drops the
      // connection attempt it was making, which frees its slot.
      const giveUp = new native.NativeGiveUp()
      r = await raceAbort(this.#native.connectUnless(giveUp), signal, () => giveUp.fire())
    } else {
      r = await this.#native.connect()
    }
    if (r instanceof native.NativeClient) return new PoolClient(r, undefined, this.#traceValues)
    throw responseError(r)
  }

  /**
   * `{ size, idle, waiting, max }` and the pool's counters since it was made: `acquired`,
   * `created`, `destroyed`, `timedOut`, `abandoned`, `errors` (by code) and the `waitTime`
   * histogram (lib/pool-metrics.js, docs/observability.md).
   */
  stats() {
    return shapeStats(this.#native.stats())
  }

  get closed() { return this.#closed }

  async close() {
    if (this.#closed) return
    this.#closed = true
    this.#native.close()
    await this.#listener.close()
  }

  async [Symbol.asyncDispose]() {
    await this.close()
  }
}

module.exports = { Pool }
