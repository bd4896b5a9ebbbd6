'use strict'
// ferropg/pg's Client: node-postgres's Client API over a ferropg connection. Queries with
// values (or a name) run as ferropg prepares and caches them; queries without values run over
// the simple protocol, as in pg (several statements give an array of results). Values come back
// as the server's text, parsed by pg's own type parsers (pg-types) or the ones set on the
// client or the query.
const EventEmitter = require('node:events')
const { inspect } = require('node:util')
const { Client: FerroClient } = require('../client')
const { FerroError } = require('../errors')
const { TextParams } = require('../params')
const { toFerro, redacted } = require('./config')
const { toResult } = require('./result')
const { TypeOverrides } = require('./types')
const { prepareValue, escapeIdentifier, escapeLiteral } = require('./values')
const { nameAllocator } = require('../cursor')
const { serve } = require('./serve-cursor')
const tracing = require('./tracing')

/** Whether `x` is a pg-cursor (ferropg's or pg's): text, values, config, read() and close(). */
function isCursor(x) {
  return x !== null && typeof x === 'object' && typeof x.text === 'string' && typeof x.read === 'function' && typeof x.close === 'function' && '_conf' in x
}

const TX_STATUS = { idle: 'I', inTransaction: 'T', inError: 'E' }

/** `(promise, callback)`: calls back when given one (and returns undefined), else the promise. */
function settleWith(promise, callback) {
  if (typeof callback !== 'function') return promise
  promise.then((r) => callback(null, r), (e) => callback(e))
  return undefined
}

class Client extends EventEmitter {
  #options
  #conn = null
  #connecting = null
  #ending = false

  constructor(config) {
    super()
    const c = typeof config === 'string' ? { connectionString: config } : { ...(config ?? {}) }
    // Read, not spread: libraries (Knex, pg-pool) keep the password non-enumerable.
    if (typeof config === 'object' && config?.password !== undefined) c.password = config.password
    this.#options = c
    this.user = c.user
    this.database = c.database
    this.host = c.host
    this.port = c.port
    Object.defineProperty(this, 'password', { configurable: true, enumerable: false, writable: true, value: c.password })
    this.ssl = c.ssl ?? false
    this.binary = c.binary ?? false
    this._types = new TypeOverrides(c.types)
    // Sequelize listens here for parameterStatus (server_version) before connecting.
    this.connection = new EventEmitter()
    this.processID = null
    this.secretKey = null
    this._connecting = false
    this._connected = false
    this._ending = false
    this._queryable = true
  }

  connect(callback) {
    if (this._connecting || this._connected) {
      const err = new Error('Client has already been connected. You cannot reuse a client.')
      return settleWith(Promise.reject(err), callback)
    }
    this._connecting = true
    const open = async () => {
      try {
        const ferro = { ...toFerro(this.#options), onNotice: (n) => this.emit('notice', n) }
        const conn = await FerroClient._connectWith(ferro, {
          closed: () => this.#lost(),
          notification: (ev) => this.emit('notification', { processId: ev.processId, channel: ev.channel, payload: ev.payload }),
        })
        this.#conn = conn
        this.processID = conn.processId
        this._connected = true
        this.connection.emit('parameterStatus', { parameterName: 'server_version', parameterValue: conn.serverVersion })
        this.emit('connect')
      } catch (e) {
        this._queryable = false
        throw e
      } finally {
        this._connecting = false
      }
    }
    this.#connecting = tracing.connectionChannel.hasSubscribers
      ? tracing.traceConnection(this.#options, open, () => this.#conn?._traceTarget)
      : open()
    return settleWith(this.#connecting, callback)
  }

  // The connection closed without end(): pg emits 'error' (when someone listens and no query
  // is running: a running query receives the error instead), then 'end'.
  #lost() {
    if (this.#ending) return
    this._queryable = false
    if (this.#inflight === 0 && this.listenerCount('error') > 0) {
      this.emit('error', new FerroError('ERR_CONNECTION_CLOSED', 'Connection terminated unexpectedly'))
    }
    this.emit('end')
  }

  /**
   * `query(text, values?, callback?)` or `query({ text, values, name, rowMode, types }, callback?)`:
   * a promise of a Result (an array of them for several statements without values), or
   * undefined with a callback.
   */
  query(config, values, callback) {
    if (config === null || config === undefined) throw new TypeError('Client was passed a null or undefined query')
    if (typeof config.submit === 'function') return this.#submit(config, values)
    let q
    if (typeof config === 'string') {
      if (typeof values === 'function') {
        callback = values
        values = undefined
      }
      q = { text: config, values }
    } else {
      q = config
      if (typeof values === 'function') callback = values
      else if (values !== undefined && q.values === undefined) q = { ...q, values }
      callback ??= q.callback
    }
    if (tracing.queryChannel.hasSubscribers) {
      return settleWith(tracing.traceQuery(q, this.#options, this.#conn?._traceTarget, this.processID, () => this.#run(q)), callback)
    }
    return settleWith(this.#run(q), callback)
  }

  // A Submittable: a cursor (ferropg/pg-cursor, pg-cursor) or a stream over one
  // (ferropg/pg-query-stream, pg-query-stream) is served by a server-side cursor; others drive
  // pg's Connection, which ferropg/pg does not have.
  #submit(submittable, callback) {
    const cursor = isCursor(submittable) ? submittable : isCursor(submittable.cursor) ? submittable.cursor : null
    if (cursor === null || !this.#conn || !this._queryable || this.#ending) {
      const err = cursor === null
        ? new FerroError('ERR_UNSUPPORTED', 'ferropg/pg runs cursors and query streams (pg-cursor, pg-query-stream) but not other Submittables, which drive pg\'s Connection')
        : new Error('Client has not been connected (call client.connect() first)')
      if (typeof callback === 'function') process.nextTick(callback, err)
      else process.nextTick(() => submittable.emit?.('error', err))
      return submittable
    }
    serve(cursor, this.#conn, this._types, () => this.#hold(), this.#cursorNames)
    return submittable
  }

  // While a cursor is open, the client's other queries wait (as pg's do), and so does a cursor
  // submitted behind it: `ready` settles when every earlier one has ended.
  #active = null
  // Queries under way (#run), for #lost.
  #inflight = 0
  #cursorNames = nameAllocator()
  #hold() {
    let done
    const mine = new Promise((r) => (done = r))
    const ready = this.#active ?? Promise.resolve()
    const active = ready.then(() => mine)
    this.#active = active
    const release = () => {
      done()
      active.then(() => {
        if (this.#active === active) this.#active = null
      })
    }
    return { ready, release }
  }

  async #run(q) {
    while (this.#active) await this.#active
    if (this.#connecting && !this._connected) await this.#connecting.catch(() => {})
    const conn = this.#conn
    if (!conn || !this._queryable || this.#ending) {
      throw new Error(this.#ending || conn ? 'Client was closed and is not queryable' : 'Client has not been connected (call client.connect() first)')
    }
    if (typeof q.text !== 'string') throw new TypeError('Client was passed a null or undefined query')
    const types = q.types ?? this._types
    const timeout = q.query_timeout ?? this.#options.query_timeout
    const options = { rowMode: 'array', ...(timeout ? { timeoutMillis: timeout } : {}) }
    const values = q.values
    this.#inflight++
    try {
      if ((Array.isArray(values) && values.length > 0) || q.name) {
        const params = new TextParams((values ?? []).map((v) => prepareValue(v)))
        return toResult(await conn.query(q.text, params, options), q.rowMode, types)
      }
      const results = await conn.simpleQuery(q.text, options)
      const out = results.map((r) => toResult(r, q.rowMode, types))
      return out.length === 1 ? out[0] : out
    } catch (e) {
      // As in pg, a client whose connection failed under a query is unusable by the time its
      // caller hears of it (a pool then discards it on release rather than idling it).
      if (e?.code === 'ERR_CONNECTION_CLOSED' || conn.closed) this._queryable = false
      throw e
    } finally {
      this.#inflight--
    }
  }

  end(callback) {
    this._ending = true
    this.#ending = true
    const conn = this.#conn
    const done = (async () => {
      if (this.#connecting) await this.#connecting.catch(() => {})
      if (this.#conn) await this.#conn.close()
      this._queryable = false
      if (conn || this.#conn) this.emit('end')
    })()
    return settleWith(done, callback)
  }

  /** inspect(): as pg shows a client, with its TLS key material hidden. */
  [inspect.custom](depth, options, show = inspect) {
    return `Client ${show({ ...this, ssl: redacted({ ssl: this.ssl }).ssl }, { ...options, depth })}`
  }

  /** The server's transaction status: 'I' (idle), 'T' (in a transaction) or 'E' (failed one). */
  getTransactionStatus() {
    return this.#conn ? TX_STATUS[this.#conn.transactionStatus] : null
  }

  getTypeParser(oid, format) {
    return this._types.getTypeParser(oid, format)
  }

  setTypeParser(oid, format, parseFn) {
    return this._types.setTypeParser(oid, format, parseFn)
  }

  escapeIdentifier(str) {
    return escapeIdentifier(str)
  }

  escapeLiteral(str) {
    return escapeLiteral(str)
  }

  // ferropg's sockets do not keep the process alive while idle; these are pg's names for that.
  ref() {}
  unref() {}
}

module.exports = { Client }
