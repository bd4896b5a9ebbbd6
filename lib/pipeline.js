'use strict'
// Explicit pipeline mode with psycopg 3 semantics (see docs/pipeline.md).
//
// Statements queued in one tick go out together at its end as one batch: a Bind/Execute per
// statement and a single Sync (src/core/batch.rs). Their promises settle in queue order. A
// segment is what lies between sync points. Outside an explicit transaction each segment runs
// in an implicit transaction: ferropg queues BEGIN before its first statement, and sync() sends
// COMMIT once the segment's results are in, or ROLLBACK when a statement failed (on the server,
// or before it was sent: a parameter that does not fit). After a failure the rest of the segment
// rejects with PipelineAbortedError (statements queued after the failure is known are not
// sent); sync() rejects with the first error; the next segment starts clean. Inside an explicit
// transaction no BEGIN/COMMIT is added and a server error leaves the transaction aborted, as it
// would without a pipeline.
const { FerroError, PipelineAbortedError, responseError } = require('./errors')
const { SetWriter } = require('./params')
const { decodeResult } = require('./reader')
const { OK } = require('./wire').status
const { executeMany } = require('./many')
const { u32 } = require('./bytes')

const noop = () => {}

// The promise is handed to the user, who may never await it: mark it handled so that a
// failing statement does not become an unhandled rejection (awaiting it still throws).
function handled(p) {
  p.catch(noop)
  return p
}

// Rejects a queued statement's promise, marked handled first (as late as that: a statement that
// succeeds costs no second promise).
function rejectItem(item, err) {
  item.promise.catch(noop)
  item.reject(err)
}

function refuse(what) {
  return () => {
    throw new FerroError('ERR_PIPELINE_UNSUPPORTED', `${what} cannot run inside a pipeline: leave the pipeline() block first`)
  }
}

// A statement the server skipped or never saw because an earlier one failed.
const isAborted = (err) => err.code === 'ERR_PIPELINE_ABORTED' || err.code === '25P02' || err.index !== undefined

/** The object a pipeline() callback receives. */
class Pipeline {
  #native
  #segment = null
  #closed = false
  // Submissions wait for this while an executeMany is still submitting (its sets may come from
  // an async iterable), so that the wire order is the call order.
  #gate = null
  // The statements queued in this tick, sent at its end (most blocks are small: the buffer
  // starts small and grows).
  #writer = new SetWriter('statement', 4096)
  #queued = []
  // Whether the block began inside a transaction (then segments add no BEGIN/COMMIT).
  #explicit
  // Settled once every batch flushed so far has settled its statements (whatever their
  // segment): a batch's answers that arrive early wait for it (see #flush).
  #settled = Promise.resolve()

  /** @internal */
  constructor(native) {
    this.#native = native
    this.#explicit = native.transactionStatus !== 'idle'
  }

  // Submits now, or after what the gate waits for.
  #submit(fn) {
    this.#flush()
    return this.#gate ? this.#gate.then(fn) : fn()
  }

  // Holds later submissions until `until` settles.
  #hold(until) {
    const gate = (this.#gate ? this.#gate.then(() => until) : until).then(noop, noop)
    this.#gate = gate
    gate.then(() => {
      if (this.#gate === gate) this.#gate = null
    })
  }

  #open() {
    if (this.#closed) throw new FerroError('ERR_PIPELINE_CLOSED', 'the pipeline block has ended')
    if (this.#segment) return this.#segment
    const implicit = !this.#explicit
    // `count` statements queued so far; the first `failedAt` of them (in queue order) are not
    // after a failure; `error` is the first failure.
    const seg = { implicit, count: 0, failedAt: Infinity, error: undefined, tail: Promise.resolve() }
    this.#segment = seg
    if (implicit) this.#enqueue(seg, 'BEGIN', undefined, undefined)
    return seg
  }

  // Records the failure of statement `at` (queue order) unless an earlier one failed; true
  // when this is the segment's first failure.
  #fail(seg, at, err) {
    if (at > seg.failedAt) return false
    seg.failedAt = at
    seg.error = err
    return true
  }

  // Queues a statement for this tick's batch; returns its promise (of the result buffer's
  // decoded rows, or its error), which rejects as handled.
  #enqueue(seg, sql, params, rowMode) {
    const at = seg.count
    if (at > seg.failedAt) return handled(Promise.reject(new PipelineAbortedError()))
    this.#writer.addStatement(sql, params) // throws, adding nothing, for a value no type takes
    seg.count++
    // Also where rows of a result that arrives in parts collect (reader.partial()'s fields).
    const item = { seg, at, rowMode, rows: undefined, error: undefined, promise: null, resolve: null, reject: null }
    item.promise = new Promise((resolve, reject) => {
      item.resolve = resolve
      item.reject = reject
    })
    if (this.#queued.push(item) === 1) queueMicrotask(() => this.#flush())
    return item.promise
  }

  // Sends the statements queued so far as one batch; they settle in order, after everything
  // queued before them.
  #flush() {
    const items = this.#queued
    if (items.length === 0) return
    this.#queued = []
    const buf = this.#writer.take()
    const seg = items[0].seg
    // `next`: the first statement not settled yet. A long batch's answers also come ahead of
    // its reply (src/core/batch.rs AHEAD); they settle in queue order, so those that arrive
    // before every batch flushed earlier (in any segment) has settled, and before what the
    // segment queued earlier, wait in `early` for the batch's turn.
    const batch = { items, next: 0, turn: false, early: [] }
    items.ahead = (b, start) => {
      if (batch.turn) this.#settleList(batch, b, start)
      else batch.early.push(b, start)
    }
    const send = () => this.#native.batch(buf, items, seg.implicit)
    const answers = this.#gate ? this.#gate.then(send) : send()
    const before = this.#settled
    seg.tail = seg.tail
      .then(() => before)
      .then(() => {
        batch.turn = true
        const early = batch.early
        batch.early = null
        for (let i = 0; i < early.length; i += 2) this.#settleList(batch, early[i], early[i + 1])
        return answers
      })
      .then(
        (buf) => this.#settleAll(batch, buf),
        (err) => {
          for (let i = batch.next; i < items.length; i++) {
            const item = items[i]
            rejectItem(item, this.#fail(seg, item.at, err) ? err : new PipelineAbortedError())
          }
        },
      )
    this.#settled = seg.tail.then(noop, noop)
  }

  // `buf`: the batch's (last) answers, `[OK][u32 n]` then per statement `[u32 length][response]`,
  // or one error response for the statements left (the connection closed before they ran).
  #settleAll(batch, buf) {
    if (buf[0] !== OK) {
      for (let i = batch.next; i < batch.items.length; i++) this.#settle(batch.items[i], buf, 0, buf.length)
      return
    }
    this.#settleList(batch, buf, 0)
  }

  // Settles the batch's next `u32 n` statements from the list at `buf[start + 1]` (after a
  // status byte: the reply's OK, or an early part's BATCH_ANSWERS).
  #settleList(batch, buf, start) {
    const n = u32(buf, start + 1)
    let at = start + 5
    for (let k = 0; k < n; k++) {
      const end = at + 4 + u32(buf, at)
      this.#settle(batch.items[batch.next++], buf, at + 4, end)
      at = end
    }
  }

  // Settles `item` with the response at `buf[start, end)`.
  #settle(item, buf, start, end) {
    const { seg, at } = item
    if (buf[start] !== OK) {
      const err = responseError(buf.subarray(start, end))
      if (this.#fail(seg, at, err)) return rejectItem(item, err)
      return rejectItem(item, isAborted(err) ? new PipelineAbortedError() : err)
    }
    // It ran after a failure: outside a transaction the segment is rolled back.
    if (at > seg.failedAt && seg.implicit) return rejectItem(item, new PipelineAbortedError())
    try {
      item.resolve(decodeResult(buf, item.rowMode, item, start))
    } catch (e) {
      rejectItem(item, e)
    }
  }

  /** Queues a statement; resolves with its result when it arrives. */
  query(sql, params, options) {
    let seg
    try {
      seg = this.#open()
    } catch (e) {
      return handled(Promise.reject(e))
    }
    try {
      if (typeof sql !== 'string') throw new FerroError('ERR_INVALID_ARGUMENT', `the query must be a string, got ${typeof sql}`)
      return this.#enqueue(seg, sql, params, options?.rowMode)
    } catch (e) {
      // Nothing of it was sent, but the segment must not commit without it.
      this.#fail(seg, seg.count++, e)
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
    const at = seg.count++
    if (at > seg.failedAt) return handled(Promise.reject(new PipelineAbortedError()))
    let release
    const submitted = new Promise((r) => (release = r))
    const onSubmitted = (err) => {
      if (err !== undefined) this.#fail(seg, at, err)
      release()
    }
    const run = this.#submit(() => executeMany(this.#native, sql, paramSets, { ...options, bracket: false, implicit: seg.implicit, onSubmitted }))
    run.then(release, release)
    this.#hold(submitted)
    const p = seg.tail.then(() => run).then(
      (r) => {
        if (at > seg.failedAt && seg.implicit) throw new PipelineAbortedError()
        return r
      },
      (err) => {
        if (this.#fail(seg, at, err)) throw err
        throw isAborted(err) ? new PipelineAbortedError() : err
      },
    )
    seg.tail = p.then(noop, noop)
    return handled(p)
  }

  /** A synchronization point: resolves when the segment is done, rejects with its first error. */
  async sync() {
    const seg = this.#segment
    if (!seg) return
    this.#segment = null
    this.#flush()
    // Right behind the segment's statements: COMMIT, which the server turns into ROLLBACK after
    // a failure it saw; ROLLBACK when a statement was refused before it was sent (here, or on
    // the native side, which knows when it gets there).
    const end = seg.implicit ? this.#submit(() => this.#native.endSegment(seg.error !== undefined)) : null
    await seg.tail
    const endErr = end ? responseError(await end) : undefined
    if (seg.error) throw seg.error
    if (endErr) throw endErr
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
