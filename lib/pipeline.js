'use strict'
// Explicit pipeline mode with psycopg 3 semantics (see docs/pipeline.md).
//
// Statements are queued on the connection without waiting; their promises settle in send
// order. A segment is what lies between sync points. Outside an explicit transaction each
// segment runs in an implicit transaction: ferropg queues BEGIN before its first statement and
// COMMIT at sync(). When a statement fails, the server skips the rest of the segment (they fail
// with 25P02, reported as PipelineAbortedError) and turns the COMMIT into ROLLBACK, so the
// segment's earlier effects are undone; sync() rejects with the first error; the next segment
// starts clean. Inside an explicit transaction no BEGIN/COMMIT is added and an error leaves the
// transaction aborted, as it would without a pipeline.
const { FerroError, PipelineAbortedError, responseError } = require('./errors')
const { encodeParams } = require('./params')
const { decodeResult, partial } = require('./reader')
const { executeMany } = require('./many')

const noop = () => {}

// The promise is handed to the user, who may never await it: mark it handled so that a
// failing statement does not become an unhandled rejection (awaiting it still throws).
function handled(p) {
  p.catch(noop)
  return p
}

function refuse(what) {
  return () => {
    throw new FerroError('ERR_PIPELINE_UNSUPPORTED', `${what} cannot run inside a pipeline: leave the pipeline() block first`)
  }
}

/** The object a pipeline() callback receives. */
class Pipeline {
  #native
  #segment = null
  #closed = false
  // While an executeMany is still submitting (its sets may come from an async iterable),
  // later statements wait for it so that the wire order is the call order.
  #gate = null

  /** @internal */
  constructor(native) {
    this.#native = native
  }

  // Submits now, or after the executeMany that is still submitting.
  #submit(fn) {
    return this.#gate ? this.#gate.then(fn) : fn()
  }

  #open() {
    if (this.#closed) throw new FerroError('ERR_PIPELINE_CLOSED', 'the pipeline block has ended')
    if (this.#segment) return this.#segment
    const implicit = !this.#native.inTransaction
    const seg = { implicit, error: undefined, tail: Promise.resolve() }
    if (implicit) {
      const begin = this.#submit(() => this.#native.simple('BEGIN'))
      seg.tail = begin.then((buf) => {
        seg.error ??= responseError(buf)
      })
    }
    this.#segment = seg
    return seg
  }

  // Settles statements strictly in send order and tells the first error from the aborted rest.
  #chain(seg, raw, onResult) {
    const p = seg.tail.then(() => raw).then((buf) => {
      if (seg.error) {
        const err = responseError(buf)
        if (err === undefined) return onResult(buf)
        throw err.code === '25P02' || err.index !== undefined ? new PipelineAbortedError() : err
      }
      const err = responseError(buf)
      if (err) {
        seg.error = err
        throw err
      }
      return onResult(buf)
    })
    seg.tail = p.then(noop, noop)
    return handled(p)
  }

  /** Queues a statement; resolves with its result when it arrives. */
  query(sql, params, options) {
    let seg
    try {
      seg = this.#open()
      if (typeof sql !== 'string') throw new FerroError('ERR_INVALID_ARGUMENT', `the query must be a string, got ${typeof sql}`)
      const buf = encodeParams(params)
      const acc = partial(options?.rowMode)
      const raw = this.#submit(() => this.#native.query(sql, buf, acc))
      return this.#chain(seg, raw, (buf) => decodeResult(buf, options?.rowMode, acc))
    } catch (e) {
      return handled(Promise.reject(e))
    }
  }

  /** executeMany as part of the current segment (no transaction of its own). */
  executeMany(sql, paramSets, options) {
    let seg
    try {
      seg = this.#open()
    } catch (e) {
      return handled(Promise.reject(e))
    }
    let release
    const gate = new Promise((r) => (release = r))
    const run = this.#submit(() => executeMany(this.#native, sql, paramSets, { ...options, bracket: false, onSubmitted: release }))
    run.then(release, release)
    this.#gate = gate
    gate.then(() => {
      if (this.#gate === gate) this.#gate = null
    })
    const p = seg.tail.then(() => run.then(
      (r) => r,
      (err) => {
        if (seg.error) throw err.code === '25P02' ? new PipelineAbortedError() : err
        seg.error = err
        throw err
      },
    ))
    seg.tail = p.then(noop, noop)
    return handled(p)
  }

  /** A synchronization point: resolves when the segment is done, rejects with its first error. */
  async sync() {
    const seg = this.#segment
    if (!seg) return
    this.#segment = null
    const commit = seg.implicit ? this.#submit(() => this.#native.simple('COMMIT')) : null
    await seg.tail
    const commitErr = commit ? responseError(await commit) : undefined
    if (seg.error) throw seg.error
    if (commitErr) throw commitErr
  }

  /** A nested block: runs `fn` on this pipeline and syncs when it exits. */
  async pipeline(fn) {
    return runBlock(this, fn)
  }

  /** @internal */
  _close() {
    this.#closed = true
  }
}

for (const m of ['copyFrom', 'copyIn', 'copyOut', 'copyOutRows']) Pipeline.prototype[m] = refuse('COPY')
Pipeline.prototype.cursor = refuse('a cursor')
Pipeline.prototype.transaction = refuse('transaction()')

/** Runs `fn(p)`, then syncs; the callback's error wins over the sync's. */
async function runBlock(p, fn) {
  let result
  let fnErr
  let failed = false
  try {
    result = await fn(p)
  } catch (e) {
    failed = true
    fnErr = e
  }
  try {
    await p.sync()
  } catch (e) {
    if (!failed) {
      failed = true
      fnErr = e
    }
  }
  if (failed) throw fnErr
  return result
}

module.exports = { Pipeline, runBlock }
