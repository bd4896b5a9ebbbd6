'use strict'
// Encodes query parameters into one buffer, tagged by JS type (src/core/wire.rs, `inp`). The
// native side converts each value to the type the server described for its `$n`.
const { FerroError } = require('./errors')
const { putU32, putF64 } = require('./bytes')

const { NULL, FALSE, TRUE, NUMBER, INT, BIGINT, STRING, BYTES, DATE, ARRAY, OBJECT, TEXT } = require('./wire').inp
const MAX_DEPTH = 64
// An object travels as its JSON text, and field by field when every key is an interval's or a
// range's ({ months, days, microseconds }, { lower, upper, lowerInc, upperInc, empty }), so
// that it can be read as one when the server expects that type. Any other object sends only
// its first other key (with null): all that a target needing fields uses, to say which key it
// did not expect. Why: a jsonb payload is then encoded once (its JSON text), not twice.
const FIELD_NAMES = new Set(['months', 'days', 'microseconds', 'lower', 'upper', 'lowerInc', 'upperInc', 'empty'])

let buf = Buffer.allocUnsafe(4096)
let pos = 0

function ensure(n) {
  if (pos + n <= buf.length) return
  let size = buf.length * 2
  while (size < pos + n) size *= 2
  const next = Buffer.allocUnsafe(size)
  buf.copy(next, 0, 0, pos)
  buf = next
}

// Buffer#utf8Write skips write()'s argument juggling (Node's own fast path; fallback kept).
const utf8Write = typeof Buffer.prototype.utf8Write === 'function'
  ? (s, at, max) => buf.utf8Write(s, at, max)
  : (s, at, max) => buf.write(s, at, max, 'utf8')

// A u32 byte length, then the UTF-8 bytes. Short ASCII strings (column values, keys) are
// copied by hand: utf8Write is a call into C++ that costs more than the loop for them.
function writeText(s) {
  const len = s.length
  if (len < 24) {
    ensure(4 + len * 3)
    let at = pos + 4
    let i = 0
    for (; i < len; i++) {
      const c = s.charCodeAt(i)
      if (c > 0x7f) break
      buf[at++] = c
    }
    if (i === len) {
      buf[pos] = len
      buf[pos + 1] = 0
      buf[pos + 2] = 0
      buf[pos + 3] = 0
      pos = at
      return
    }
  }
  const max = s.length * 3
  ensure(4 + max)
  const n = utf8Write(s, pos + 4, max)
  putU32(buf, pos, n)
  pos += 4 + n
}

function writeString(tag, s) {
  ensure(1)
  buf[pos++] = tag
  writeText(s)
}

// A lone surrogate has no UTF-8 form: encoding would store U+FFFD in its place, silently.
function wellFormed(s, index) {
  if (!s.isWellFormed()) {
    throw new FerroError('ERR_INVALID_PARAMETER', `$${index}: the string has an unpaired surrogate (U+D800 to U+DFFF), which has no UTF-8 form`)
  }
}

function writeValue(v, depth, index) {
  switch (typeof v) {
    case 'undefined':
      ensure(1)
      buf[pos++] = NULL
      return
    case 'boolean':
      ensure(1)
      buf[pos++] = v ? TRUE : FALSE
      return
    case 'number':
      // An int32 (the commonest number) in 4 bytes, written inline; -0 keeps its sign as a
      // double.
      if ((v | 0) === v && (v !== 0 || 1 / v > 0)) {
        ensure(5)
        buf[pos] = INT
        putU32(buf, pos + 1, v)
        pos += 5
        return
      }
      ensure(9)
      buf[pos] = NUMBER
      putF64(buf, pos + 1, v)
      pos += 9
      return
    case 'bigint':
      writeString(BIGINT, v.toString())
      return
    case 'string':
      wellFormed(v, index)
      writeString(STRING, v)
      return
    case 'object':
      break
    default:
      throw new FerroError('ERR_INVALID_PARAMETER', `$${index}: a ${typeof v} cannot be sent as a parameter`)
  }
  if (v === null) {
    ensure(1)
    buf[pos++] = NULL
    return
  }
  if (depth > MAX_DEPTH) throw new FerroError('ERR_INVALID_PARAMETER', `$${index}: values nested deeper than ${MAX_DEPTH} levels`)
  if (ArrayBuffer.isView(v)) {
    const bytes = Buffer.from(v.buffer, v.byteOffset, v.byteLength)
    ensure(5 + bytes.length)
    buf[pos] = BYTES
    putU32(buf, pos + 1, bytes.length)
    bytes.copy(buf, pos + 5)
    pos += 5 + bytes.length
    return
  }
  if (v instanceof Date) {
    ensure(9)
    buf[pos] = DATE
    putF64(buf, pos + 1, v.getTime())
    pos += 9
    return
  }
  if (Array.isArray(v)) {
    ensure(5)
    buf[pos] = ARRAY
    putU32(buf, pos + 1, v.length)
    pos += 5
    for (let i = 0; i < v.length; i++) writeValue(v[i], depth + 1, index)
    return
  }
  let json
  let fault
  try {
    json = JSON.stringify(v)
    // JSON.stringify writes NaN and ±Infinity as null: a text holding a null is looked at
    // again, to tell a null of the value from a number it changed.
    if (json !== undefined && json.includes('null')) {
      path.length = 0
      fault = nonFinite(v, '')
    }
  } catch {
    json = undefined
  }
  if (json === undefined || fault !== undefined) {
    // No JSON text: the number that has no JSON form and where it is ('' when JSON.stringify
    // threw), for the error a json target gives (src/core/types/json.rs).
    ensure(5)
    buf[pos] = OBJECT
    putU32(buf, pos + 1, 0xffffffff)
    pos += 5
    writeText(fault === undefined ? '' : fault[0])
    writeText(fault === undefined ? '' : fault[1])
  } else {
    writeString(OBJECT, json)
  }
  // for-in finds the first other key without allocating the array of keys (own keys come
  // first, in Object.keys order).
  for (const k in v) {
    if (!FIELD_NAMES.has(k) && Object.hasOwn(v, k)) {
      ensure(4)
      putU32(buf, pos, 1)
      pos += 4
      writeText(k)
      ensure(1)
      buf[pos++] = NULL
      return
    }
  }
  const keys = Object.keys(v)
  ensure(4)
  putU32(buf, pos, keys.length)
  pos += 4
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]
    writeText(k)
    writeValue(v[k], depth + 1, index)
  }
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/
const path = [] // the keys from the value down to the node nonFinite looks at

/**
 * The first NaN or ±Infinity that `JSON.stringify` meets in `v` (after toJSON, as it walks),
 * as `[its text, its path ('.a[2]')]`, or undefined. Walked by hand: JSON.stringify with a
 * replacer costs about three times as much, for every object whose text holds a null. Only
 * called after JSON.stringify(v) succeeded, so `v` has no cycle.
 */
function nonFinite(v, key) {
  if (v !== null && (typeof v === 'object' || typeof v === 'bigint') && typeof v.toJSON === 'function') v = v.toJSON(key)
  if (typeof v === 'object' && v instanceof Number) v = Number(v)
  if (typeof v === 'number') return Number.isFinite(v) ? undefined : [String(v), pathText()]
  if (typeof v !== 'object' || v === null) return undefined
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      path.push(i)
      const found = nonFinite(v[i], String(i))
      path.pop()
      if (found !== undefined) return found
    }
    return undefined
  }
  for (const k of Object.keys(v)) {
    path.push(k)
    const found = nonFinite(v[k], k)
    path.pop()
    if (found !== undefined) return found
  }
  return undefined
}

function pathText() {
  let s = ''
  for (const k of path) {
    if (typeof k === 'number') s += `[${k}]`
    else s += IDENTIFIER.test(k) ? `.${k}` : `[${JSON.stringify(k)}]`
  }
  return s
}

/** One buffer holding every parameter; throws for values no PostgreSQL type could take. */
function encodeParams(params) {
  return Buffer.from(buf.subarray(0, encodeParamsShared(params)))
}

/**
 * The largest encoding the native submit calls read from the shared scratch buffer (they copy
 * it before they return: src/js/raw_call.rs, `COPY_PARAMS_MAX`); a larger one is kept by
 * reference and must be a buffer of its own (`ownParams`).
 */
const SHARED_MAX = 64 * 1024

/** The shared scratch buffer `encodeParamsShared` writes (replaced when it grows). */
function sharedBuffer() {
  return buf
}

/** A copy of the last `length` bytes `encodeParamsShared` wrote, in a buffer of their own. */
function ownParams(length) {
  return Buffer.from(buf.subarray(0, length))
}

/**
 * Encodes `params` at the start of the shared scratch buffer and returns the encoding's
 * length. The native submit calls read it there (lib/completions.js `queryRequest`): this
 * saves copying the encoding into a buffer of its own for every query (an allocation and a
 * copy, through `Buffer.from`) and passing it as an argument.
 */
function encodeParamsShared(params) {
  pos = 0
  if (params === undefined || params === null) {
    ensure(4)
    putU32(buf, 0, 0)
    pos = 4
    return pos
  }
  if (params instanceof TextParams) {
    encodeTextParams(params.values)
    return pos
  }
  if (!Array.isArray(params)) {
    throw new FerroError('ERR_INVALID_ARGUMENT', `query parameters must be an array, got ${typeof params}`)
  }
  writeList(params)
  return pos
}

/**
 * @internal Parameters already in node-postgres's form (lib/pg: strings, Buffers, null),
 * passed where a parameter array goes: each string is sent as the text the server parses for
 * whatever type it described, as node-postgres sends it.
 */
class TextParams {
  constructor(values) {
    this.values = values
  }
}

function encodeTextParams(values) {
  ensure(4)
  putU32(buf, pos, values.length)
  pos += 4
  for (let i = 0; i < values.length; i++) {
    const v = values[i]
    if (typeof v === 'string') {
      wellFormed(v, i + 1)
      writeString(TEXT, v)
    }
    else writeValue(v, 0, i + 1)
  }
}

// A u32 count, then the values.
function writeList(values) {
  ensure(4)
  putU32(buf, pos, values.length)
  pos += 4
  for (let i = 0; i < values.length; i++) writeValue(values[i], 0, i + 1)
}

// `sql` null: the same SQL as the statement before (u32::MAX, src/core/batch.rs).
function writeStatement(sql, params) {
  if (sql === null) {
    ensure(4)
    putU32(buf, pos, 0xffffffff)
    pos += 4
  } else {
    writeText(sql)
  }
  writeList(params)
}


/**
 * Parameter sets encoded one by one as they arrive (executeMany, copyFrom): the rows
 * themselves are not kept, so they die young and memory stays flat. `take()` returns the
 * buffer (u32 count, then each set as in encodeParams) and starts a new one.
 */
class SetWriter {
  /** `size`: the initial buffer (it grows as needed). */
  // The SQL of the last statement added (addStatement), which the next one may repeat.
  #lastSql = null

  constructor(label = 'parameter set', size = 64 * 1024) {
    this.label = label
    this.buf = Buffer.allocUnsafe(size)
    this.pos = 4
    this.count = 0
  }

  /** Adds one set; on a value no type could take, throws with `index` and adds nothing. */
  add(values, index) {
    try {
      this.#write(writeList, values)
    } catch (e) {
      e.index = index
      e.message = `${this.label} ${index}: ${e.message}`
      throw e
    }
  }

  /**
   * Adds one statement of a pipeline batch (src/core/batch.rs): its SQL, then its parameters
   * as encodeParams checks them; on an error throws and adds nothing.
   */
  addStatement(sql, params) {
    if (params !== undefined && params !== null && !Array.isArray(params)) {
      throw new FerroError('ERR_INVALID_ARGUMENT', `query parameters must be an array, got ${typeof params}`)
    }
    this.#write(writeStatement, this.count > 0 && sql === this.#lastSql ? null : sql, params ?? [])
    this.#lastSql = sql
  }

  // Runs `write(a, b)` on this writer's buffer (the module's writers work on `buf`/`pos`).
  // Arguments rather than a closure: no allocation per row of a copyFrom.
  #write(write, a, b) {
    const savedBuf = buf
    const savedPos = pos
    buf = this.buf
    pos = this.pos
    try {
      write(a, b)
      this.pos = pos
      this.count++
    } finally {
      this.buf = buf
      buf = savedBuf
      pos = savedPos
    }
  }

  /** Bytes so far. */
  get size() {
    return this.pos
  }

  take() {
    putU32(this.buf, 0, this.count)
    const out = Buffer.from(this.buf.subarray(0, this.pos))
    this.pos = 4
    this.count = 0
    return out
  }
}

module.exports = { encodeParams, encodeParamsShared, sharedBuffer, ownParams, SHARED_MAX, TextParams, SetWriter }
