'use strict'
// ferropg/prisma: a Prisma 7 driver adapter on ferropg's own Pool, not the node-postgres
// emulation. Statements are prepared once per connection and cached, concurrent queries are
// pipelined onto busy connections, a transaction's connection goes back to the pool only if the
// server reports it idle, a COMMIT the server turns into ROLLBACK is an error (not a silent
// loss), a script runs as one simple-protocol message (as Prisma's own engine sends it), and
// errors are mapped to Prisma's kinds from the server's SQLSTATE and fields.
const { randomUUID } = require('node:crypto')
require('../platform').loadBinding() // a clear error when this platform has no binary
const { Pool } = require('../pool')
const { TextParams } = require('../params')
const { resultSet, parameters } = require('./values')
const { DriverAdapterError, rethrow } = require('./errors')

const ADAPTER_NAME = 'ferropg'
const ISOLATION = new Set(['READ UNCOMMITTED', 'READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE'])
const quoteIdent = (name) => `"${String(name).replace(/"/g, '""')}"`

// Runs Prisma's statements on a Pool or on one borrowed connection.
class Queryable {
  provider = 'postgres'
  adapterName = ADAPTER_NAME
  #runner

  constructor(runner) {
    this.#runner = runner
  }

  async #run(query) {
    try {
      return await this.#runner.query(query.sql, new TextParams(parameters(query.args, query.argTypes)), { rowMode: 'array' })
    } catch (e) {
      rethrow(e)
    }
  }

  async queryRaw(query) {
    return resultSet(await this.#run(query))
  }

  async executeRaw(query) {
    return (await this.#run(query)).rowCount
  }

  /** @internal Runs a statement Prisma did not write (transaction control). */
  async _control(sql) {
    try {
      return await this.#runner.query(sql)
    } catch (e) {
      rethrow(e)
    }
  }
}

// An interactive or batch transaction on one borrowed connection. `usePhantomQuery`: Prisma
// asks for COMMIT and ROLLBACK through commit() and rollback(), so the adapter sends them and
// reads the server's answer.
class FerroTransaction extends Queryable {
  options = { usePhantomQuery: true }
  #client

  constructor(client) {
    super(client)
    this.#client = client
  }

  async commit() {
    try {
      const r = await this._control('COMMIT')
      // The server ends a failed transaction block with ROLLBACK, whatever was asked.
      if (r.command === 'ROLLBACK') {
        throw new DriverAdapterError({ kind: 'TransactionAlreadyClosed', cause: 'the server rolled the transaction back: a statement in it failed' })
      }
    } finally {
      // The pool discards the connection unless the server reports it idle.
      this.#client.release()
    }
  }

  async rollback() {
    try {
      await this._control('ROLLBACK')
    } finally {
      this.#client.release()
    }
  }

  async createSavepoint(name) {
    await this._control(`SAVEPOINT ${quoteIdent(name)}`)
  }

  async rollbackToSavepoint(name) {
    await this._control(`ROLLBACK TO SAVEPOINT ${quoteIdent(name)}`)
  }

  async releaseSavepoint(name) {
    await this._control(`RELEASE SAVEPOINT ${quoteIdent(name)}`)
  }
}

class FerroAdapter extends Queryable {
  #pool
  #options
  #dispose

  constructor(pool, options, dispose) {
    super(pool)
    this.#pool = pool
    this.#options = options
    this.#dispose = dispose
  }

  async startTransaction(isolationLevel) {
    if (isolationLevel !== undefined && !ISOLATION.has(isolationLevel)) {
      throw new DriverAdapterError({ kind: 'InvalidIsolationLevel', level: String(isolationLevel) })
    }
    let client
    try {
      client = await this.#pool.connect()
    } catch (e) {
      rethrow(e)
    }
    const tx = new FerroTransaction(client)
    try {
      await tx._control(isolationLevel ? `BEGIN ISOLATION LEVEL ${isolationLevel}` : 'BEGIN')
    } catch (e) {
      client.release(true)
      throw e
    }
    return tx
  }

  /** Several statements in one simple-protocol message (one implicit transaction, as Prisma's engine runs a migration script). */
  async executeScript(script) {
    try {
      await this.#pool.simpleQuery(script)
    } catch (e) {
      rethrow(e)
    }
  }

  getConnectionInfo() {
    return { schemaName: this.#options.schema, supportsRelationJoins: true }
  }

  async dispose() {
    await this.#dispose()
  }
}

function textPoolConfig(config, extra) {
  const base = typeof config === 'string' ? { connectionString: config } : { ...config }
  return { ...base, ...extra, types: { ...base.types, results: 'text' } }
}

/**
 * `new PrismaFerro(config, options?)`: Prisma's driver adapter factory (a
 * SqlMigrationAwareDriverAdapterFactory). `config` is a connection string or ferropg pool
 * settings; the adapter makes its own Pool, which reads results as text (what Prisma's engine
 * parses). `options.schema` is the schema Prisma's queries use by default.
 */
class PrismaFerro {
  provider = 'postgres'
  adapterName = ADAPTER_NAME
  #config
  #options

  constructor(config, options = {}) {
    if (config instanceof Pool) {
      throw new TypeError('PrismaFerro takes a connection string or pool settings, not a Pool: it makes a Pool that reads text results, which Prisma parses')
    }
    this.#config = config ?? {}
    this.#options = options
  }

  async connect() {
    const pool = new Pool(textPoolConfig(this.#config))
    return new FerroAdapter(pool, this.#options, () => pool.close())
  }

  /** A fresh database for Prisma's migration diffing; disposing the adapter drops it. */
  async connectToShadowDb() {
    const main = await this.connect()
    const database = `prisma_migrate_shadow_db_${randomUUID()}`
    try {
      await main.executeScript(`CREATE DATABASE ${quoteIdent(database)}`)
    } catch (e) {
      await main.dispose()
      throw e
    }
    const pool = new Pool(textPoolConfig(this.#config, { database }))
    return new FerroAdapter(pool, {}, async () => {
      try {
        await pool.close()
        await main.executeScript(`DROP DATABASE IF EXISTS ${quoteIdent(database)}`)
      } finally {
        await main.dispose()
      }
    })
  }
}

module.exports = { PrismaFerro, DriverAdapterError }
