'use strict'
// Decodes a response buffer (src/core/wire.rs, `out`) into a QueryResult. Runs synchronously
// over one buffer, so the cursor lives in module variables.
const { FerroError } = require('./errors')
const { rowBuilder } = require('./rows')
const { u16, u32, i32, f64 } = require('./bytes')

const { out, COMMAND_CODE, COMMANDS } = require('./wire')

const { NULL, FALSE, TRUE, F64, I32, BIGINT, STR, BYTES, JSON: JSON_, DATE, ARRAY, INTERVAL, RANGE, RECORD } = out
const { RANGE_EMPTY, RANGE_LOWER_INC: LOWER_INC, RANGE_UPPER_INC: UPPER_INC, RANGE_HAS_LOWER: HAS_LOWER, RANGE_HAS_UPPER: HAS_UPPER } = out

let B = null
let P = 0

const slice = typeof Buffer.prototype.utf8Slice === 'function'
  ? (s, e) => B.utf8Slice(s, e)
  : (s, e) => B.toString('utf8', s, e)

const latin1 = typeof Buffer.prototype.latin1Slice === 'function'
  ? (s, e) => B.latin1Slice(s, e)
  : (s, e) => B.toString('latin1', s, e)

// Short ASCII strings in the rows of a large result. Each utf8Slice is a call into C++ (~750
// instructions under callgrind on Node 24, most of it checking the receiver and the indices),
// so the rows' strings shorter than SHORT come instead from one latin1 copy of the rest of
// the buffer (`S`, made at the first one), by `substring`, which V8 runs inline. Latin-1 and
// UTF-8 read ASCII bytes alike; a string with any other byte is still decoded as UTF-8. Below
// 13 characters V8's substring copies (longer ones would be slices that keep the whole copy
// alive), so no string a caller keeps holds on to `S`. JSON text up to JSON_VIA_S bytes is
// taken from `S` at any length: JSON.parse copies the strings it makes (V8 12 and 13), and the
// text itself is dropped once parsed. Longer text is checked faster by utf8Slice's SIMD than
// by a loop here.
const SHORT = 13
const JSON_VIA_S = 128
let S = null // latin1 of B from SAt on, or null
let SAt = 0
let manyRows = false // set while rowsOf reads enough rows to be worth making `S`

function text() {
  const n = u32(B, P)
  const s = P + 4
  P = s + n
  if (manyRows && n < SHORT) return fromS(s, P)
  if (n <= TINY) return tiny(s, n)
  return slice(s, P)
}

// Strings of up to TINY bytes in a result of few rows (a key, a status, a short name): an
// ASCII one is made by String.fromCharCode, which V8 runs as a builtin, instead of a utf8Slice
// (W2's text column: ~0.7k instructions per query).
const TINY = 8
function tiny(s, n) {
  let or = 0
  for (let i = s; i < s + n; i++) or |= B[i]
  if (or > 0x7f) return slice(s, s + n)
  switch (n) {
    case 0: return ''
    case 1: return String.fromCharCode(B[s])
    case 2: return String.fromCharCode(B[s], B[s + 1])
    case 3: return String.fromCharCode(B[s], B[s + 1], B[s + 2])
    case 4: return String.fromCharCode(B[s], B[s + 1], B[s + 2], B[s + 3])
    case 5: return String.fromCharCode(B[s], B[s + 1], B[s + 2], B[s + 3], B[s + 4])
    case 6: return String.fromCharCode(B[s], B[s + 1], B[s + 2], B[s + 3], B[s + 4], B[s + 5])
    case 7: return String.fromCharCode(B[s], B[s + 1], B[s + 2], B[s + 3], B[s + 4], B[s + 5], B[s + 6])
    default: return String.fromCharCode(B[s], B[s + 1], B[s + 2], B[s + 3], B[s + 4], B[s + 5], B[s + 6], B[s + 7])
  }
}

function jsonText() {
  const n = u32(B, P)
  const s = P + 4
  P = s + n
  if (manyRows && n < JSON_VIA_S) return fromS(s, P)
  return slice(s, P)
}

// The command of the last result that came as text, and its bytes: a statement run again
// reuses the string instead of a utf8Slice per result (~750 instructions on Node 24, 2% of a
// W1 query). The commonest come as a code instead (src/core/result.rs `write_command`).
let lastCommand = ''
let lastCommandBytes = Buffer.alloc(0)

function commandText() {
  const n = u32(B, P)
  if (n >= COMMAND_CODE) {
    P += 4
    return COMMANDS[n - COMMAND_CODE]
  }
  const s = P + 4
  P = s + n
  if (n === lastCommandBytes.length) {
    let i = 0
    while (i < n && B[s + i] === lastCommandBytes[i]) i++
    if (i === n) return lastCommand
  }
  lastCommandBytes = Buffer.from(B.subarray(s, P))
  return (lastCommand = slice(s, P))
}

// Bytes s..e as a string: from `S` (made at the first call) when they are ASCII.
function fromS(s, e) {
  for (let i = s; i < e; i++) if (B[i] > 0x7f) return slice(s, e)
  if (S === null) S = latin1((SAt = s), B.length)
  return S.substring(s - SAt, e - SAt)
}

function value() {
  const tag = B[P++]
  switch (tag) {
    case NULL: return null
    case FALSE: return false
    case TRUE: return true
    case I32: { const v = i32(B, P); P += 4; return v }
    case F64: { const v = f64(B, P); P += 8; return v }
    case STR: return text()
    case BIGINT: { const v = B.readBigInt64LE(P); P += 8; return v }
    case DATE: { const v = f64(B, P); P += 8; return new Date(v) }
    case JSON_: return JSON.parse(jsonText())
    case BYTES: {
      const n = u32(B, P)
      const s = P + 4
      P = s + n
      return Buffer.from(B.subarray(s, P))
    }
    case ARRAY: {
      const nd = B[P++]
      if (nd === 0) return []
      const dims = new Array(nd)
      for (let i = 0; i < nd; i++) { dims[i] = u32(B, P); P += 4 }
      return array(dims, 0)
    }
    case INTERVAL: {
      const months = i32(B, P)
      const days = i32(B, P + 4)
      // A bigint beyond 2^53, as an exact int8 is: a Number would round it, and sending the
      // value back would then store another interval.
      const big = B.readBigInt64LE(P + 8)
      const n = Number(big)
      P += 16
      return { months, days, microseconds: Number.isSafeInteger(n) ? n : big }
    }
    case RANGE: {
      const f = B[P++]
      if (f & RANGE_EMPTY) return { lower: null, upper: null, lowerInc: false, upperInc: false, empty: true }
      const lower = f & HAS_LOWER ? value() : null
      const upper = f & HAS_UPPER ? value() : null
      return { lower, upper, lowerInc: (f & LOWER_INC) !== 0, upperInc: (f & UPPER_INC) !== 0, empty: false }
    }
    case RECORD: {
      const n = u32(B, P)
      P += 4
      const o = {}
      for (let i = 0; i < n; i++) {
        const k = text()
        Object.defineProperty(o, k, { value: value(), enumerable: true, writable: true, configurable: true })
      }
      return o
    }
    default:
      throw new FerroError('ERR_PROTOCOL', `unknown value tag ${tag} in a response`)
  }
}

function array(dims, d) {
  const n = dims[d]
  const out = new Array(n)
  if (d === dims.length - 1) {
    for (let i = 0; i < n; i++) out[i] = value()
  } else {
    for (let i = 0; i < n; i++) out[i] = array(dims, d + 1)
  }
  return out
}

// The column list of the last result read, its number (src/core/result.rs `write_columns`: a
// statement's, or 0) and what was made of it. A result whose list has the same number (a
// statement run again: the common case), or is byte for byte the same, takes its names and
// row builders from here and only makes its own `fields` objects: no name decoded again, no
// builder looked up by a key joined from the names (W2 under callgrind: ~1k instructions).
let lastList = 0
let lastCols = Buffer.alloc(0)
let lastNames = []
let lastMeta = [] // per column: type OID, table OID, column number
let lastBuilders = [undefined, undefined] // object rows, array rows

function sameAsLast(start, end) {
  const n = end - start
  if (n !== lastCols.length) return false
  if (n > 64) return B.compare(lastCols, 0, n, start, end) === 0
  for (let i = 0; i < n; i++) if (B[start + i] !== lastCols[i]) return false
  return true
}

// The row builder of the column list `columns` read last (a module variable rather than a
// second return value: no array per result).
let BUILD = null

// Reads the column list at P: returns its `fields` and sets BUILD.
function columns(rowMode) {
  const list = f64(B, P)
  const start = P + 12
  const end = start + u32(B, P + 8)
  P = start
  const ncols = u16(B, P)
  const mode = rowMode === 'array' ? 1 : 0
  if ((list === 0 || list !== lastList) && !sameAsLast(start, end)) {
    P += 2
    const names = new Array(ncols)
    const meta = new Array(ncols * 3)
    for (let i = 0; i < ncols; i++) {
      names[i] = text()
      meta[i * 3] = u32(B, P)
      meta[i * 3 + 1] = u32(B, P + 4)
      meta[i * 3 + 2] = u16(B, P + 8)
      P += 10
    }
    lastCols = Buffer.from(B.subarray(start, end))
    lastNames = names
    lastMeta = meta
    lastBuilders = [undefined, undefined]
  }
  lastList = list
  P = end
  const fields = new Array(ncols)
  for (let i = 0; i < ncols; i++) {
    fields[i] = { name: lastNames[i], typeOid: lastMeta[i * 3], tableOid: lastMeta[i * 3 + 1], columnId: lastMeta[i * 3 + 2] }
  }
  // Made on first use per row mode; one that throws (duplicate names) is not kept.
  BUILD = lastBuilders[mode] ??= rowBuilder(lastNames, mode === 1)
  return fields
}

// Reads a u32 row count and that many rows at P, appended to `into` when given.
const MANY_ROWS = 8
function rowsOf(build, into) {
  const nrows = u32(B, P)
  P += 4
  manyRows = nrows >= MANY_ROWS
  if (into !== undefined) {
    for (let r = 0; r < nrows; r++) into.push(build(value))
    return into
  }
  const rows = new Array(nrows)
  for (let r = 0; r < nrows; r++) rows[r] = build(value)
  return rows
}

/**
 * A query's accumulator: where the rows of a result that arrives in parts collect
 * (src/core/exec.rs hands over a large result every 512 KiB while it runs, so rows are built
 * while the server works), and where lib/completions.js leaves the response: `buf` from
 * `start` to `end`, the inbox's own buffer, so that no view of it is made per query and the
 * request's promise resolves with no object (resolving with one looks up its `then`: two
 * prototype walks per query, a Buffer's being four deep).
 */
class Partial {
  constructor(rowMode) {
    this.rowMode = rowMode
    this.rows = undefined
    this.error = undefined
    this.buf = undefined
    this.start = 0
    this.end = 0
  }
}

function partial(rowMode) {
  return new Partial(rowMode)
}

/** Decodes a part (`status::PART`: columns, then rows) into `acc`. */
function decodePart(buf, acc) {
  B = buf
  P = 1
  try {
    columns(acc.rowMode)
    const build = BUILD
    acc.rows = rowsOf(build, acc.rows ?? [])
  } finally {
    B = null
    S = null
    manyRows = false
  }
}

/**
 * Builds `{ rows, rowCount, command, fields }` from a successful response (in `buf` from
 * `offset`, 0 by default), after the rows of `acc` when the result came in parts.
 */
function decodeResult(buf, rowMode, acc, offset = 0) {
  if (acc?.error !== undefined) throw acc.error
  return decodeAt(buf, offset, rowMode, acc?.rows)
}

// Where the result decodeAt read last ends.
let END = 0

/** Decodes the result that starts at `offset` (its end: `END`). */
function decodeAt(buf, offset, rowMode, into) {
  B = buf
  P = offset + 1
  try {
    const fields = columns(rowMode)
    const rows = rowsOf(BUILD, into)
    const command = commandText()
    const rowCount = f64(B, P)
    END = P + 8
    return { rows, rowCount, command, fields }
  } finally {
    B = null
    S = null
    manyRows = false
  }
}

/**
 * Decodes `n` results of one statement starting at `offset` (columns and command once, then
 * per execution its rows and row count) and appends them to `out`. The results share `fields`.
 */
function decodeMany(buf, offset, n, rowMode, out) {
  B = buf
  P = offset
  try {
    const fields = columns(rowMode)
    const build = BUILD
    const from = out.length
    for (let i = 0; i < n; i++) {
      const rows = rowsOf(build)
      const rowCount = f64(B, P)
      P += 8
      out.push({ rows, rowCount, command: '', fields })
    }
    // The command (from the server's tag) follows the executions.
    const command = commandText()
    for (let i = from; i < out.length; i++) out[i].command = command
  } finally {
    B = null
    S = null
    manyRows = false
  }
}

/** The results of a script (`[OK][u32 n]`, then n single-query responses), in order. */
function decodeResults(buf, rowMode) {
  const n = u32(buf, 1)
  const out = new Array(n)
  let at = 5
  for (let i = 0; i < n; i++) {
    out[i] = decodeAt(buf, at, rowMode)
    at = END
  }
  return out
}

module.exports = { decodeResult, decodeResults, decodeMany, decodePart, partial, Partial }
