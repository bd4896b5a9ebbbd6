'use strict'
// Serves a pg-cursor (ferropg/pg-cursor's, or pg-cursor's own object, which Knex, TypeORM and
// MikroORM create themselves) on a ferropg connection, by answering its read() and close():
// DECLARE ... NO SCROLL CURSOR, FETCH FORWARD n per read, inside the session's transaction or
// one of its own (BEGIN ... COMMIT). Used by lib/pg/client.js when a cursor is submitted.
const { TextParams } = require('../params')
const { toResult } = require('./result')
const { prepareValue } = require('./values')

// `promise` resolves to [rows, result]: the promise form gives rows, the callback both.
function settleWith(promise, callback) {
  if (typeof callback !== 'function') return promise.then(([rows]) => rows)
  promise.then(([rows, result]) => callback(null, rows, result), (e) => callback(e))
  return undefined
}

/**
 * Serves `cursor`'s read() and close() on `conn` (a ferropg Client); `types` parse its values;
 * `hold()` keeps the client's other queries back until it ends and says when the cursors
 * before it have ended (`{ ready, release }`); `names` allocates cursor names.
 */
function serve(cursor, conn, types, hold, names) {
  const conf = cursor._conf ?? {}
  const rowMode = conf.rowMode
  const parsers = conf.types ?? types
  const values = (cursor.values ?? []).map((v) => prepareValue(v))
  const { ready, release } = hold()
  const [name, free] = names.take()
  // Whether the cursor needs a transaction of its own is known once the cursors before it ended.
  let own = false
  let state = 'opening'
  let chain = (async () => {
    await ready
    own = conn.transactionStatus === 'idle'
    if (own) await conn.query('BEGIN')
    await conn.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${cursor.text}`, new TextParams(values), { rowMode: 'array' })
    state = 'open'
  })()
  // One step at a time, in call order (pg-cursor queues reads the same way).
  const step = (fn) => {
    const next = chain.then(fn)
    chain = next.catch(() => {})
    return next
  }
  const finish = async (failed) => {
    if (state === 'done') return
    const wasOpen = state === 'open'
    state = 'done'
    try {
      if (own) await conn.query(failed ? 'ROLLBACK' : 'COMMIT')
      else if (wasOpen && !failed) await conn.query(`CLOSE ${name}`)
    } finally {
      free()
      release()
    }
  }
  const fail = async (e) => {
    await finish(true).catch(() => {})
    cursor.state = 'error'
    if (cursor.listenerCount('error') > 0) cursor.emit('error', e)
    throw e
  }
  cursor.state = 'submitted'
  chain.catch((e) => fail(e).catch(() => {}))
  cursor.read = (count, callback) => settleWith(step(async () => {
    if (state === 'done') return [[], undefined]
    let r
    try {
      r = toResult(await conn._uncached(`FETCH FORWARD ${Math.max(1, count | 0)} FROM ${name}`, { rowMode: 'array' }), rowMode, parsers)
    } catch (e) {
      return fail(e)
    }
    for (const row of r.rows) cursor.emit('row', row, r)
    if (r.rows.length < count) {
      await finish(false)
      cursor.state = 'done'
      cursor.emit('end', r)
    } else {
      cursor.state = 'idle'
    }
    return [r.rows, r]
  }), callback)
  cursor.close = (callback) => settleWith(step(async () => {
    await finish(false)
    cursor.state = 'done'
    return []
  }), callback)
  return cursor
}

module.exports = { serve, settleWith }
