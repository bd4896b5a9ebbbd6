'use strict'
// cursor(): rows of a query fetched in batches through a server-side cursor (a named portal:
// DECLARE ... CURSOR, then FETCH batchSize at a time), so memory stays flat however large the
// result and however slow the consumer. Outside a transaction the cursor runs in its own
// (BEGIN ... COMMIT); breaking out of the loop closes the cursor; an error rolls back what the
// cursor opened. Other queries on the same client may run between batches.
const { FerroError } = require('./errors')

/** Picks the smallest free cursor name on a client (FETCH statements then stay few and cached). */
function nameAllocator() {
  const used = new Set()
  return {
    take() {
      let i = 0
      while (used.has(i)) i++
      used.add(i)
      return [`ferropg_cursor_${i}`, () => used.delete(i)]
    },
  }
}

async function* cursorRows(client, sql, params, options, names) {
  const batchSize = options?.batchSize ?? 100
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new FerroError('ERR_INVALID_ARGUMENT', "'batchSize' must be a positive integer")
  if (typeof sql !== 'string') throw new FerroError('ERR_INVALID_ARGUMENT', `the query must be a string, got ${typeof sql}`)
  const statementOptions = { rowMode: options?.rowMode, signal: options?.signal, timeoutMillis: options?.timeoutMillis }
  const own = !client._inTransaction
  const [name, free] = names.take()
  let open = false
  let failed = false
  try {
    if (own) await client.query('BEGIN')
    await client.query(`DECLARE ${name} NO SCROLL CURSOR FOR ${sql}`, params, statementOptions)
    open = true
    for (;;) {
      // FETCH's columns depend on the cursor behind the name: never a cached statement.
      const r = await client._uncached(`FETCH FORWARD ${batchSize} FROM ${name}`, statementOptions)
      yield* r.rows
      if (r.rows.length < batchSize) break
    }
  } catch (e) {
    failed = true
    throw e
  } finally {
    try {
      if (own) await client.query(failed ? 'ROLLBACK' : 'COMMIT')
      else if (open && !failed) await client.query(`CLOSE ${name}`)
    } finally {
      free()
    }
  }
}

module.exports = { cursorRows, nameAllocator }
