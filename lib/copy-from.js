'use strict'
// copyFrom: rows (arrays or objects keyed by column name) from an array, any iterable, an
// async iterable or an object-mode Readable, written with binary COPY. Each row is encoded as
// it arrives into a chunk buffer (the rows are not kept, so they die young), one native call
// per 256 KiB chunk; the native side converts the values to the columns' types in one pass and
// sends its buffer every 512 KiB. While one chunk is being written the next is encoded.
const { FerroError, responseError } = require('./errors')
const { SetWriter } = require('./params')
const { feed, Interrupt } = require('./feed')
const { cancelledError } = require('./cancel')

const CHUNK_BYTES = 256 * 1024

function cancelled(signal) {
  const e = cancelledError(signal.reason)
  e.message = `copyFrom was stopped (${e.message}); nothing was written`
  return e
}

function rowValues(row, names, index) {
  if (Array.isArray(row)) {
    if (row.length !== names.length) {
      throw Object.assign(new FerroError('ERR_INVALID_PARAMETER', `row ${index}: has ${row.length} values for ${names.length} columns`), { index })
    }
    return row
  }
  if (row !== null && typeof row === 'object') return names.map((n) => row[n])
  throw Object.assign(new FerroError('ERR_INVALID_PARAMETER', `row ${index}: expected an array or an object, got ${row === null ? 'null' : typeof row}`), { index })
}

function checkOptions(table, rows, options) {
  const bad = (m) => new FerroError('ERR_INVALID_ARGUMENT', m)
  if (typeof table !== 'string' || table === '') throw bad('copyFrom needs a table name')
  if (rows == null || (typeof rows[Symbol.iterator] !== 'function' && typeof rows[Symbol.asyncIterator] !== 'function')) {
    throw bad('copyFrom rows must be an array, an iterable, an async iterable or an object-mode Readable')
  }
  const { columns, schema, signal } = options
  if (columns !== undefined && (!Array.isArray(columns) || columns.some((c) => typeof c !== 'string'))) throw bad("'columns' must be an array of column names")
  if (schema !== undefined && typeof schema !== 'string') throw bad("'schema' must be a string")
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw bad("'signal' must be an AbortSignal")
}

/** Runs a copyFrom on a native client; resolves with the number of rows copied. */
async function copyFrom(native, table, rows, options = {}) {
  checkOptions(table, rows, options)
  const { signal } = options
  if (signal?.aborted) throw cancelled(signal)
  const started = await native.copyFrom(options.schema ?? null, table, options.columns ?? null)
  if (Buffer.isBuffer(started)) throw responseError(started)
  const copy = started
  const names = copy.columns
  let aborted = false
  // The server ends a COPY early only to fail it (an ERROR, a FATAL, the connection lost); the
  // answer is watched while rows are awaited, so that a slow source is not read on for a COPY
  // that can no longer succeed.
  let lost = null
  const interrupt = new Interrupt()
  copy.watch().then(
    (buf) => {
      lost = responseError(buf) ?? null
      if (lost) interrupt.fire()
    },
    () => {},
  )
  const onAbort = () => {
    aborted = true
    interrupt.fire()
  }
  signal?.addEventListener('abort', onAbort, { once: true })
  let base = 0
  let next = 0
  const writer = new SetWriter('row')
  let pending = null
  const settle = async () => {
    if (!pending) return
    const res = await pending
    pending = null
    const err = responseError(res, 0, 'row')
    if (err) throw err
  }
  const flush = async () => {
    if (next === base) return
    const buf = writer.take()
    await settle()
    pending = copy.write(buf, base)
    base = next
  }
  try {
    const add = (row) => {
      writer.add(rowValues(row, names, next), next)
      next++
      return writer.size >= CHUNK_BYTES
    }
    await feed(rows, () => aborted || lost !== null, add, flush, interrupt)
    if (lost) throw lost
    if (!aborted) await flush()
    await settle()
    if (aborted) throw cancelled(signal)
    const done = await copy.finish()
    const err = responseError(done)
    if (err) throw err
    return done.readDoubleLE(1)
  } catch (e) {
    await pending?.catch(() => {})
    await copy.abort()
    // The server's own account of why the COPY ended beats the failed write that met it; a
    // row at fault (`index`) is the caller's to know.
    throw lost !== null && e?.index === undefined ? lost : e
  } finally {
    signal?.removeEventListener('abort', onAbort)
  }
}

module.exports = { copyFrom }
