'use strict'
// Error classes and the decoding of error responses (see src/core/wire.rs, `status`).

/** Base class of every error ferropg creates; `code` is stable (SQLSTATE or ERR_*). */
class FerroError extends Error {
  constructor(code, message, options) {
    super(message, options)
    this.name = 'FerroError'
    this.code = code
  }
}

const DB_FIELDS = [
  'detail', 'hint', 'position', 'internalPosition', 'internalQuery', 'where', 'schema', 'table',
  'column', 'dataType', 'constraint', 'file', 'line', 'routine',
]

/** An error reported by the server, with node-postgres's field names; `code` is the SQLSTATE. */
class DatabaseError extends FerroError {
  constructor(message, severity, code) {
    super(code, message)
    this.name = 'DatabaseError'
    this.severity = severity
    for (const f of DB_FIELDS) this[f] = undefined
  }
}

/** A statement of a pipeline that did not run because an earlier one failed. */
class PipelineAbortedError extends FerroError {
  constructor(message = 'not executed: an earlier statement of the pipeline failed') {
    super('ERR_PIPELINE_ABORTED', message)
    this.name = 'PipelineAbortedError'
  }
}

const { DB_ERROR, DRIVER_ERROR, BATCH_ERROR } = require('./wire').status

function readStr(buf, p) {
  const n = buf.readUInt32LE(p)
  if (n === 0xffffffff) return [undefined, p + 4]
  return [buf.toString('utf8', p + 4, p + 4 + n), p + 4 + n]
}

/**
 * The error of a response buffer, or undefined when the response is a success. A batch error
 * gets `index` (the failing parameter set, counted from `indexBase`).
 */
function responseError(buf, indexBase = 0, label = 'parameter set') {
  const status = buf[0]
  if (status === 0) return undefined
  if (status === BATCH_ERROR) {
    const index = indexBase + buf.readUInt32LE(1)
    const e = responseError(buf.subarray(5))
    e.index = index
    e.message = `${label} ${index}: ${e.message}`
    return e
  }
  let p = 1
  let a, b, c
  ;[a, p] = readStr(buf, p)
  ;[b, p] = readStr(buf, p)
  if (status === DRIVER_ERROR) return new FerroError(a, b)
  if (status !== DB_ERROR) return new FerroError('ERR_PROTOCOL', `unknown response status ${status}`)
  ;[c, p] = readStr(buf, p)
  const e = new DatabaseError(a, b, c)
  for (const f of DB_FIELDS) {
    let v
    ;[v, p] = readStr(buf, p)
    e[f] = v
  }
  return e
}

module.exports = { FerroError, DatabaseError, PipelineAbortedError, responseError }
