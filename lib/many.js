'use strict'
// executeMany: one prepared statement over many parameter sets, atomically.
//
// Parameter sets are encoded on the JS thread as they arrive, into chunks (one buffer and one
// native call per chunk, never per set); each chunk's executions are sent as one request closed
// by a single Sync (core/exec.rs), and at most MAX_INFLIGHT chunks are outstanding, so memory
// stays flat for any number of sets from an async iterable.
// Outside a transaction the batch runs in its own (BEGIN ... COMMIT); inside one, under a
// savepoint. BEGIN, the chunks and COMMIT are queued back to back: if a set fails, the server
// skips everything after it and turns COMMIT into ROLLBACK, so nothing of the batch remains.
const { FerroError, responseError } = require('./errors')
const { SetWriter } = require('./params')
const { feed } = require('./feed')
const { decodeMany } = require('./reader')

// The first chunk is small so that the server starts while JS encodes the rest; each next one
// is four times larger, up to CHUNK_SETS. The last chunk's answers are decoded after the server
// has finished, so a smaller cap leaves less to do then: 5,000 sets took 117 ms with a cap of
// 4,096 and 99-102 with 512 or 1,024 (docs/performance.md, session 17).
const FIRST_CHUNK_SETS = 64
const CHUNK_SETS = 1024
const CHUNK_BYTES = 1 << 20
const MAX_INFLIGHT = 2
const SAVEPOINT = 'ferropg_execute_many'

function isIterable(x) {
  return x != null && (typeof x[Symbol.iterator] === 'function' || typeof x[Symbol.asyncIterator] === 'function')
}

/** Runs the batch on a native client; returns `{ rowCount, results? }`. */
async function executeMany(native, sql, paramSets, options = {}) {
  if (typeof sql !== 'string') throw new FerroError('ERR_INVALID_ARGUMENT', `the query must be a string, got ${typeof sql}`)
  if (!isIterable(paramSets)) throw new FerroError('ERR_INVALID_ARGUMENT', 'paramSets must be an iterable or async iterable of arrays')
  const returning = Boolean(options.returning)
  const rowMode = options.rowMode
  // Inside pipeline() the segment's transaction is the batch's (bracket: false).
  const bracket = options.bracket !== false
  // Whether a segment end follows the batch (its own, or the pipeline's implicit segment's):
  // a set refused natively then makes that end roll back.
  const segment = bracket || options.implicit === true
  const nested = native.transactionStatus !== 'idle'
  const begin = bracket ? native.simple(nested ? `SAVEPOINT ${SAVEPOINT}` : 'BEGIN') : null
  const results = returning ? [] : undefined
  let rowCount = 0
  let firstError
  const inflight = []

  const collect = async () => {
    const { base, promise } = inflight.shift()
    const buf = await promise
    const err = responseError(buf, base)
    if (err) {
      firstError ??= err
      return
    }
    rowCount += buf.readDoubleLE(1)
    if (returning) decodeMany(buf, 13, buf.readUInt32LE(9), rowMode, results)
  }

  let width
  let chunkSets = FIRST_CHUNK_SETS
  let base = 0
  let next = 0
  const writer = new SetWriter()
  const flush = async () => {
    if (next === base) return
    inflight.push({ base, promise: native.executeChunk(sql, writer.take(), returning, segment) })
    base = next
    chunkSets = Math.min(chunkSets * 4, CHUNK_SETS)
    while (inflight.length > MAX_INFLIGHT) await collect()
  }
  try {
    const add = (set) => {
      if (!Array.isArray(set)) {
        throw new FerroError('ERR_INVALID_PARAMETER', `parameter set ${next} is not an array`)
      }
      width ??= set.length
      if (set.length !== width) {
        throw new FerroError('ERR_INVALID_PARAMETER', `parameter set ${next} has ${set.length} values, the first had ${width}`)
      }
      writer.add(set, next)
      next++
      return next - base >= chunkSets || writer.size >= CHUNK_BYTES
    }
    await feed(paramSets, () => firstError !== undefined, add, flush)
    await flush()
  } catch (e) {
    firstError ??= e
  }
  // (A pipeline rolls its segment back when a set was refused before it was sent.)
  options.onSubmitted?.(firstError)
  if (!bracket) {
    while (inflight.length) await collect()
    if (firstError) throw firstError
    return returning ? { rowCount, results } : { rowCount }
  }
  // The end goes right behind the last chunk, before its results are known: COMMIT (RELEASE),
  // which the native side turns into ROLLBACK (back to the savepoint) when a chunk refused one
  // of its sets before sending it (the server cannot know), or when a set failed here.
  const end = native.endSegment(firstError !== undefined, nested ? SAVEPOINT : undefined)
  while (inflight.length) await collect()
  const beginErr = responseError(await begin)
  firstError ??= beginErr
  const endBuf = await end
  const endErr = responseError(endBuf)
  if (!firstError && !endErr) return returning ? { rowCount, results } : { rowCount }
  // No CancelRequest of this call may land on the clean-up.
  await options.quiesce?.()
  // What the end could not undo: a RELEASE refused because the batch failed on the server
  // (which aborted the transaction) goes back to the savepoint; a transaction the server says is
  // still open (its COMMIT was cancelled) is rolled back. A COMMIT that ran ends even an
  // aborted transaction.
  const rolledBack = endErr === undefined && endBuf[1] === 1
  const open = nested ? endErr !== undefined : native.transactionStatus !== 'idle'
  if (!rolledBack && open) {
    const undo = nested ? `ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}` : 'ROLLBACK'
    const undoErr = responseError(await native.simple(undo))
    if (undoErr && firstError) firstError.cause ??= undoErr
  }
  throw firstError ?? endErr
}

module.exports = { executeMany }
