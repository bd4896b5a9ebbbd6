'use strict'
// ferropg/kysely: a Kysely dialect on ferropg's own Pool, not the node-postgres emulation:
// values come back with ferropg's exact types (int8 as bigint, numeric as string, dates as
// 'YYYY-MM-DD'; see the README's "Types"), parameters other than strings are converted to the
// types the server describes, statements are prepared and cached per connection, and
// `stream()` reads through a server-side cursor. Kysely's PostgreSQL query compiler, adapter and introspector are used as
// they are.
const { AbortedTransactionError, CompiledQuery, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } = require('kysely')
require('../platform').loadBinding() // a clear error when this platform has no binary
const { Pool } = require('../pool')
const { TextParams } = require('../params')

const COUNTED = new Set(['INSERT', 'UPDATE', 'DELETE', 'MERGE'])

// A string parameter is the text the server parses for the parameter's type, as with
// PostgresDialect on pg (so `JSON.stringify(value)` into a jsonb column stores the value, not a
// JSON string); every other value is converted by ferropg to the type the server described.
const params = (compiled) => new TextParams(compiled.parameters)
const quoteIdent = (name) => `"${String(name).replace(/"/g, '""')}"`

class FerroConnection {
  #client
  // The statement running now, so that cancelQuery() stops that one and no other.
  #inflight = null
  // The statement whose session killSession() terminated.
  #killed = null

  constructor(client) {
    this.#client = client
  }

  // Kysely passes the caller's signal, but what an abort does to a running statement is the
  // caller's inflightQueryAbortStrategy: Kysely calls cancelQuery() or killSession() for it, or
  // neither ('ignore query'), so the signal is not handed to ferropg here.
  async executeQuery(compiled) {
    const inflight = new AbortController()
    this.#inflight = inflight
    let r
    try {
      r = await this.#client.query(compiled.sql, params(compiled), { signal: inflight.signal })
    } catch (e) {
      // Stopped by cancelQuery() or killSession(): Kysely has already rejected the caller with
      // the signal's reason and only waits for this call to end before it releases the connection.
      if ((inflight.signal.aborted && e?.code === 'ERR_QUERY_CANCELLED') || (this.#killed === inflight && e?.code === 'ERR_CONNECTION_CLOSED')) {
        return { rows: [] }
      }
      throw e
    } finally {
      if (this.#inflight === inflight) this.#inflight = null
    }
    if (r.command === 'ROLLBACK' || r.command === 'COMMIT') return { rows: [{ command: r.command }] }
    return { rows: r.rows, numAffectedRows: COUNTED.has(r.command) ? BigInt(r.rowCount) : undefined }
  }

  /**
   * 'cancel query': a CancelRequest for this connection's running statement (ferropg sends it
   * only while that statement is the one running, never into another caller's).
   */
  async cancelQuery() {
    this.#inflight?.abort()
  }

  /** 'kill session': the backend is terminated from another pooled connection. */
  async killSession(controlConnectionProvider) {
    const inflight = this.#inflight
    if (inflight === null) return
    const pid = this.#client.processId
    this.#killed = inflight
    await controlConnectionProvider((control) => control.executeQuery(CompiledQuery.raw('select pg_terminate_backend($1)', [pid])))
  }

  // An abort ends a stream whatever the strategy: the signal goes to the cursor, so a FETCH in
  // flight is cancelled before the cursor closes.
  async *streamQuery(compiled, chunkSize, options) {
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new Error('chunkSize must be a positive integer')
    const signal = options?.signal
    let rows = []
    try {
      for await (const row of this.#client.cursor(compiled.sql, params(compiled), { batchSize: chunkSize, signal })) {
        rows.push(row)
        if (rows.length === chunkSize) {
          yield { rows }
          rows = []
        }
      }
    } catch (e) {
      // Kysely has already rejected the caller with the signal's reason.
      if (signal?.aborted && e?.code === 'ERR_QUERY_CANCELLED') return
      throw e
    }
    if (rows.length > 0) yield { rows }
  }

  /** @internal */
  _release() {
    // A connection the server reports inside a transaction is discarded by the pool.
    this.#client.release()
  }
}

class FerroDriver {
  #config
  #pool = null
  constructor(config) {
    this.#config = config
  }

  async init() {
    const p = this.#config.pool
    this.#pool = typeof p === 'function' ? await p() : p ?? new Pool(this.#config.connection)
  }

  async acquireConnection() {
    return new FerroConnection(await this.#pool.connect())
  }

  async beginTransaction(connection, settings) {
    let sql = 'start transaction'
    if (settings.isolationLevel) sql += ` isolation level ${settings.isolationLevel}`
    if (settings.accessMode) sql += ` ${settings.accessMode}`
    await connection.executeQuery(CompiledQuery.raw(sql))
  }

  async commitTransaction(connection) {
    const { rows } = await connection.executeQuery(CompiledQuery.raw('commit'))
    // The server ends a failed transaction block with ROLLBACK, whatever was asked.
    if (rows[0]?.command === 'ROLLBACK') throw new AbortedTransactionError()
  }

  async rollbackTransaction(connection) {
    await connection.executeQuery(CompiledQuery.raw('rollback'))
  }

  async savepoint(connection, name) {
    await connection.executeQuery(CompiledQuery.raw(`savepoint ${quoteIdent(name)}`))
  }

  async rollbackToSavepoint(connection, name) {
    await connection.executeQuery(CompiledQuery.raw(`rollback to ${quoteIdent(name)}`))
  }

  async releaseSavepoint(connection, name) {
    await connection.executeQuery(CompiledQuery.raw(`release ${quoteIdent(name)}`))
  }

  async releaseConnection(connection) {
    connection._release()
  }

  async destroy() {
    const pool = this.#pool
    this.#pool = null
    await pool?.close()
  }
}

/**
 * `new FerroDialect({ pool })` (a ferropg Pool, or a function returning one) or
 * `new FerroDialect({ connection })` (a connection string or ferropg pool config).
 */
class FerroDialect {
  #config
  constructor(config = {}) {
    this.#config = config
  }

  createDriver() {
    return new FerroDriver(this.#config)
  }

  createQueryCompiler() {
    return new PostgresQueryCompiler()
  }

  createAdapter() {
    return new PostgresAdapter()
  }

  createIntrospector(db) {
    return new PostgresIntrospector(db)
  }
}

module.exports = { FerroDialect }
