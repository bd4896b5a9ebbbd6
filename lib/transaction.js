'use strict'
// transaction(fn): BEGIN with options, COMMIT when fn resolves, ROLLBACK when it throws (the
// original error is rethrown; a failing ROLLBACK is attached as its `cause`). Nested calls use
// savepoints. The Transaction object refuses use after its block ended.
const { FerroError } = require('./errors')
const { transactionChannel, traceTransaction } = require('./tracing')

const LEVELS = new Map([
  ['serializable', 'SERIALIZABLE'],
  ['repeatable read', 'REPEATABLE READ'],
  ['read committed', 'READ COMMITTED'],
  ['read uncommitted', 'READ UNCOMMITTED'],
])

function beginStatement(options = {}) {
  const parts = ['BEGIN']
  if (options.isolationLevel !== undefined) {
    const level = LEVELS.get(String(options.isolationLevel).toLowerCase().replace(/[_-]/g, ' '))
    if (!level) {
      throw new FerroError('ERR_INVALID_ARGUMENT', `isolationLevel must be one of ${[...LEVELS.keys()].map((l) => `'${l}'`).join(', ')} (got '${options.isolationLevel}')`)
    }
    parts.push('ISOLATION LEVEL', level)
  }
  if (options.readOnly !== undefined) parts.push(options.readOnly ? 'READ ONLY' : 'READ WRITE')
  if (options.deferrable !== undefined) parts.push(options.deferrable ? 'DEFERRABLE' : 'NOT DEFERRABLE')
  return parts.join(' ')
}

/** The object a transaction() callback receives: the client's query surface, valid inside the block. */
class Transaction {
  #client
  #depth
  #open = true
  #savepoints = 0

  /** @internal */
  constructor(client, depth) {
    this.#client = client
    this.#depth = depth
  }

  #check() {
    if (!this.#open) throw new FerroError('ERR_TRANSACTION_CLOSED', 'the transaction block has ended')
  }

  async query(sql, params, options) {
    this.#check()
    return this.#client.query(sql, params, options)
  }

  async simpleQuery(sql, options) {
    this.#check()
    return this.#client.simpleQuery(sql, options)
  }

  async executeMany(sql, paramSets, options) {
    this.#check()
    return this.#client.executeMany(sql, paramSets, options)
  }

  async pipeline(fn) {
    this.#check()
    return this.#client.pipeline(fn)
  }

  async copyFrom(table, rows, options) {
    this.#check()
    return this.#client.copyFrom(table, rows, options)
  }

  cursor(sql, params, options) {
    this.#check()
    return this.#client.cursor(sql, params, options)
  }

  /** @internal */
  get _inTransaction() {
    return true
  }

  /** @internal */
  _uncached(sql, options) {
    return this.#client._uncached(sql, options)
  }

  copyOutRows(query, options) {
    this.#check()
    return this.#client.copyOutRows(query, options)
  }

  async copyIn(sql) {
    this.#check()
    return this.#client.copyIn(sql)
  }

  async copyOut(sql) {
    this.#check()
    return this.#client.copyOut(sql)
  }

  /**
   * A nested transaction: a savepoint, released when `fn` resolves, rolled back when it throws.
   * Traced on `ferropg:transaction` (with `savepoint` set).
   */
  async transaction(fn) {
    this.#check()
    const name = `ferropg_sp_${this.#depth + 1}_${++this.#savepoints}`
    const client = this.#client
    const nested = () =>
      run(client, new Transaction(client, this.#depth + 1), fn, {
        begin: `SAVEPOINT ${name}`,
        commit: `RELEASE SAVEPOINT ${name}`,
        rollback: [`ROLLBACK TO SAVEPOINT ${name}`, `RELEASE SAVEPOINT ${name}`],
      })
    if (transactionChannel.hasSubscribers) return traceTransaction(client._traceTarget, client.processId, undefined, name, nested)
    return nested()
  }

  /** @internal */
  _end() {
    this.#open = false
  }
}

async function run(client, tx, fn, sql) {
  await client.query(sql.begin)
  let result
  try {
    result = await fn(tx)
  } catch (e) {
    tx._end()
    try {
      for (const stmt of sql.rollback) await client.query(stmt)
    } catch (rollbackErr) {
      if (e && typeof e === 'object' && e.cause === undefined) e.cause = rollbackErr
    }
    throw e
  }
  tx._end()
  await client.query(sql.commit)
  return result
}

/** client.transaction(fn, options). */
function transaction(client, fn, options) {
  if (typeof fn !== 'function') throw new FerroError('ERR_INVALID_ARGUMENT', 'transaction() needs a callback')
  return run(client, new Transaction(client, 0), fn, { begin: beginStatement(options), commit: 'COMMIT', rollback: ['ROLLBACK'] })
}

module.exports = { transaction, Transaction }
