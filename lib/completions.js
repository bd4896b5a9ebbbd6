'use strict'
// The JS side of src/js/completions.rs. Native methods queue a statement synchronously with a
// request id; finished responses collect in one native inbox, which wakes this thread once per
// batch; `onReady` drains it and resolves every promise from that batch. The promise-returning
// methods the rest of lib/ calls (`query`, `executeChunk`, `batch`, `endSegment`, `queryUncached`,
// `simple`, and `queryCancellable`/`uncachedCancellable`, which also return the request id) are
// defined here on the native classes, over their `submit*` counterparts.
const native = require('../binding')
const { decodePart, Partial } = require('./reader')
const { u32 } = require('./bytes')
const { encodeParamsShared, sharedBuffer, ownParams, SHARED_MAX } = require('./params')

// Rows of a result still running, ahead of its response; BATCH_PART: of statement `u32 index`
// of a pipeline batch, whose request's accumulator is an array of one per statement;
// BATCH_ANSWERS: the next statements' responses of such a batch, for its `ahead` function.
const { PART, BATCH_PART, BATCH_ANSWERS } = require('./wire').status

// Request id -> its resolve function and the `partial()` its early rows go to (lib/pending.js).
const pending = require('./pending')
let nextId = 0
let inbox = null
// The inbox's number: the per-query calls (`drainInbox`, `poolSubmitQuery`) take numbers, not
// native objects, which napi-rs checks and records on every call (src/js/handles.rs).
let inboxHandle = 0
function ensureInbox() {
  if (inbox !== null) return
  inbox = new native.Completions(onReady)
  inboxHandle = inbox.handle
  newSlab()
}
// The inbox's wake-up is weak (an idle pool must not keep the process alive); a ref'd timer
// keeps the process alive while requests are outstanding. It is made once and only ref'd and
// unref'd (a flag and a counter), not created and cleared per request.
let keepAlive = null
let held = false
function hold() {
  if (held) return
  keepAlive ??= setInterval(noop, 0x7fffffff)
  keepAlive.ref()
  held = true
}
const noop = () => {}

// Responses are copied into a slab of JS's own, registered with the inbox (`inboxSlab`), each
// batch after the last, as Node's Buffer pool does: a slab is never written twice, so a
// response buffer a caller has not decoded yet stays intact; a spent slab is freed once no
// response views it. Native code does the copying and says where the batch ends: as
// `onReady(end)` when it calls from the loop driver's callback, or as `drainInboxInto`'s
// result when `onReady()` comes without one (the threadsafe wake-up, or a batch that did not
// fit). `slabAt` mirrors the inbox's cursor: each batch's end rounded up to 8. A batch larger
// than a slab comes as a native buffer (`drainInbox`).
const SLAB = 64 * 1024
const SLAB_MIN_LEFT = 4 * 1024
let slab = null
let slabAt = 0

function newSlab() {
  slab = Buffer.allocUnsafeSlow(SLAB)
  slabAt = 0
  native.inboxSlab(inboxHandle, slab)
}

function onReady(end) {
  let buf = slab
  let at = slabAt
  if (end === undefined) {
    end = native.drainInboxInto(inboxHandle)
    if (end === -1) {
      newSlab()
      buf = slab
      at = 0
      end = native.drainInboxInto(inboxHandle)
    }
  }
  if (end < 0) {
    buf = native.drainInbox(inboxHandle)
    at = 0
    end = buf.length
  } else {
    slabAt = (end + 7) & ~7
  }
  while (at < end) {
    const id = u32(buf, at)
    const stop = at + 8 + u32(buf, at + 4)
    const tag = buf[at + 8]
    if (tag === PART) {
      // None when its caller has settled without it (abandon): the rows are dropped.
      part(pending.accOf(id), buf.subarray(at + 8, stop))
    } else if (tag === BATCH_PART) {
      part(pending.accOf(id)?.[u32(buf, at + 9)], buf.subarray(at + 13, stop))
    } else if (tag === BATCH_ANSWERS) {
      pending.accOf(id)?.ahead(buf, at + 8)
    } else {
      const acc = pending.accOf(id)
      const resolve = pending.take(id)
      if (acc instanceof Partial) {
        // The caller reads its response from `acc` (reader.js Partial).
        acc.buf = buf
        acc.start = at + 8
        acc.end = stop
        resolve(undefined)
      } else if (resolve !== undefined) {
        resolve(buf.subarray(at + 8, stop))
      }
    }
    at = stop
  }
  if (SLAB - slabAt < SLAB_MIN_LEFT) newSlab()
  if (pending.size() === 0 && held) {
    keepAlive.unref()
    held = false
  }
}

function part(acc, buf) {
  if (acc === undefined) return
  try {
    decodePart(buf, acc)
  } catch (e) {
    acc.error ??= e // e.g. duplicate column names: the query rejects with it
  }
}

// Every request's promise executor: one function that hands the resolve function out through
// a module variable, rather than a closure made per request.
let resolveOf
function capture(resolve) {
  resolveOf = resolve
}

// Records a new request as waiting (its id left in `openedId`) and returns its promise. Neither
// module variable keeps a promise alive once the request is recorded.
let openedId = 0
function open(acc) {
  ensureInbox()
  const id = (openedId = nextId = (nextId + 1) >>> 0)
  const promise = new Promise(capture)
  pending.add(id, resolveOf, acc)
  resolveOf = undefined
  return promise
}

/**
 * Calls `submit(id, inbox)` and returns a promise of the response buffer for `id`; rows that
 * arrive ahead of it go to `acc`. With an `acc` that is a reader.js Partial, the promise
 * resolves with undefined and the response is left in `acc`.
 */
function request(submit, acc) {
  const promise = open(acc)
  const id = openedId
  try {
    submit(id, inbox)
  } catch (e) {
    pending.take(id)
    return Promise.reject(e)
  }
  hold()
  return promise
}

// What the per-query submit calls read instead of arguments (src/js/raw_call.rs): a header of
// numbers, the scratch buffer the parameters are encoded into, and SQL texts by number. The
// header is the thread's, shared by every copy of this module the thread runs (Jest loads one
// per test file over one addon): `CURRENT` says whose scratch buffer is registered.
const HANDLE = 0
const ID = 1
const INBOX = 2
const LENGTH = 3
const SQL = 4
const OWN = 5
const CURRENT = 6
const SQL_ARGUMENT = 0xffffffff
const headBuf = native.submitHead(Buffer.allocUnsafeSlow(32))
const head = new Uint32Array(headBuf.buffer, headBuf.byteOffset, 8)
let scratch = null
let scratchNo = 0
// SQL text -> its number on the native side, which numbers the first 1,024 texts of the
// thread; only texts of up to SQL_TEXT_MAX characters are offered (a service's statements are
// few and repeat). Any other text is passed as a string, as every text was before.
const SQL_TEXT_MAX = 2048
const sqlNumbers = new Map()
let numbering = true
function sqlNumber(sql) {
  const n = sqlNumbers.get(sql)
  if (n !== undefined) return n
  if (!numbering || typeof sql !== 'string' || sql.length > SQL_TEXT_MAX) return SQL_ARGUMENT
  const m = native.internSql(sql)
  if (m === SQL_ARGUMENT) numbering = false
  else sqlNumbers.set(sql, m)
  return m
}

// `request` for a query: `submit` is the native function (not a closure made per query),
// `params` as given by the caller, encoded here (a value that cannot be sent rejects the call).
function queryRequest(submit, handle, sql, params, acc) {
  const promise = open(acc)
  const id = openedId
  try {
    const n = encodeParamsShared(params)
    const sqlNo = sqlNumber(sql)
    head[HANDLE] = handle
    head[ID] = id
    head[INBOX] = inboxHandle
    head[LENGTH] = n
    head[SQL] = sqlNo
    if (n > SHARED_MAX) {
      head[OWN] = 1
      submit(sql, ownParams(n))
    } else {
      head[OWN] = 0
      const b = sharedBuffer()
      if (b !== scratch || head[CURRENT] !== scratchNo) {
        scratchNo = native.submitScratch(b)
        scratch = b
      }
      if (sqlNo === SQL_ARGUMENT) submit(sql)
      else submit()
    }
  } catch (e) {
    pending.take(id)
    return Promise.reject(e)
  }
  hold()
  return promise
}

/**
 * Like `request`, for a statement that can be cancelled by its id: returns `{ id, promise }`.
 */
function requestWithId(submit, acc) {
  const id = (nextId + 1) >>> 0
  const promise = request(submit, acc)
  return { id, promise }
}

/** The caller of request `id` has settled without it: its answer, when it comes, is dropped. */
function abandon(id) {
  pending.replace(id, noop)
}

const C = native.NativeClient.prototype
/**
 * `params` as given by the caller, encoded here (a value that cannot be sent rejects the
 * call); `acc` (reader.partial()) receives the rows of a large result while it runs.
 */
C.query = function (sql, params, acc) {
  // The handle is read once per client (a getter is a native call) and kept on the object.
  return queryRequest(native.clientSubmitQuery, (this._handle ??= this.handle), sql, params, acc)
}
/** `segment`: the batch ends with `endSegment`, which a set refused natively makes roll back. */
C.executeChunk = function (sql, sets, returning, segment) {
  return request((id, box) => this.submitChunk(sql, sets, returning, segment, id, box))
}
/**
 * Statements of a pipeline (params.js `addStatement`) sent as one batch with one Sync; resolves
 * with one buffer of their responses (src/core/batch.rs `Answers`). Rows that arrive ahead of
 * statement i's response go to `accs[i]`.
 */
C.batch = function (statements, accs, implicit) {
  return request((id, box) => this.submitBatch(statements, implicit, id, box), accs)
}
/**
 * COMMIT (or RELEASE of `savepoint`), else ROLLBACK (to `savepoint`) when `rollback` is set or
 * a statement or set of the segment was refused before it was sent: `[OK][u8 rolled back]`.
 */
C.endSegment = function (rollback, savepoint) {
  return request((id, box) => this.submitEndSegment(rollback, savepoint, id, box))
}
/** `simpleQuery`: a script over the simple protocol (`[OK][u32 n]` then n results). */
C.script = function (sql) {
  return request((id, box) => this.submitScript(sql, id, box))
}
C.queryUncached = function (sql) {
  return request((id, box) => this.submitUncached(sql, false, id, box))
}
/** `{ id, promise }` of a query that `cancelRequest(id)` can stop. */
C.queryCancellable = function (sql, params, acc) {
  return requestWithId((id, box) => this.submitCancellable(sql, params, id, box), acc)
}
C.uncachedCancellable = function (sql) {
  return requestWithId((id, box) => this.submitUncached(sql, true, id, box))
}
C.simple = function (sql) {
  return request((id, box) => this.submitSimple(sql, id, box))
}
/** `pool.query` on the pool numbered `pool` (NativePool#handle); `params` as for `C.query`. */
function poolQuery(pool, sql, params, acc) {
  return queryRequest(native.poolSubmitQuery, pool, sql, params, acc)
}

module.exports = { abandon, poolQuery }
