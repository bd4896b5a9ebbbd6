'use strict'
// ferropg/kysely: a Kysely dialect on ferropg's own Pool, not the node-postgres emulation:
// values come back with ferropg's exact types (int8 as bigint, numeric as string, dates as
// 'YYYY-MM-DD'; see the README's "Types"), parameters other than strings are converted to the
// types the server describes, statements are prepared and cached per connection, and
// `stream()` reads through a server-side cursor. Kysely's PostgreSQL query compiler, adapter and introspector are used as
// they are.
const { AbortedTransactionError, CompiledQuery, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } = require('kysely')
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
  constructor(client) {
    this.#client = client
  }

  async executeQuery(compiled) {
    const r = await this.#client.query(compiled.sql, params(compiled))
    if (r.command === 'ROLLBACK' || r.command === 'COMMIT') return { rows: [{ command: r.command }] }
    return { rows: r.rows, numAffectedRows: COUNTED.has(r.command) ? BigInt(r.rowCount) : undefined }
  }

  async *streamQuery(compiled, chunkSize) {
    if (!Number.isInteger(chunkSize) || chunkSize <= 0) throw new Error('chunkSize must be a positive integer')
    let rows = []
    for await (const row of this.#client.cursor(compiled.sql, params(compiled), { batchSize: chunkSize })) {
      rows.push(row)
      if (rows.length === chunkSize) {
        yield { rows }
        rows = []
      }
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
