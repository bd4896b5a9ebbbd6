'use strict'
// COPY as node streams with backpressure: CopyInStream (Writable) over COPY ... FROM STDIN,
// CopyOutStream (Readable, async iterable) over COPY ... TO STDOUT. Data crosses into Rust
// once per write (or per batch of buffered writes) and out once per batch of received data.
const { Writable, Readable } = require('node:stream')
const { FerroError, responseError } = require('./errors')
const { decodeResult } = require('./reader')
const { cancelledError } = require('./cancel')

/**
 * A Writable over `COPY ... FROM STDIN` (text, csv or binary). `rowCount` is set on 'finish';
 * `done` resolves with it (or rejects with the COPY's error).
 */
class CopyInStream extends Writable {
  #native
  #done = false

  /** @internal */
  constructor(native, onClose) {
    super({ highWaterMark: 256 * 1024, decodeStrings: true })
    this.#native = native
    this.rowCount = undefined
    this.done = new Promise((resolve, reject) => {
      this.once('finish', () => resolve(this.rowCount))
      this.once('error', reject)
      this.once('close', () => reject(new FerroError('ERR_COPY_ENDED', 'the COPY was aborted before it finished')))
    })
    this.done.catch(() => {})
    if (onClose) this.once('close', onClose)
    // The server ends a COPY early only to fail it (an ERROR, a FATAL, the connection lost):
    // its answer is watched, so that a writer that pauses learns of it now, not at its next
    // write.
    native.watch().then(
      (buf) => {
        const err = responseError(buf)
        if (err !== undefined && !this.destroyed) this.destroy(err)
      },
      () => {},
    )
  }

  _write(chunk, _enc, cb) {
    this.#native.write(chunk).then((buf) => cb(responseError(buf)), cb)
  }

  _writev(chunks, cb) {
    const data = chunks.length === 1 ? chunks[0].chunk : Buffer.concat(chunks.map((c) => c.chunk))
    this._write(data, null, cb)
  }

  _final(cb) {
    this.#native.finish().then((buf) => {
      const err = responseError(buf)
      if (err) return cb(err)
      this.#done = true
      this.rowCount = buf.readDoubleLE(1)
      cb()
    }, cb)
  }

  _destroy(err, cb) {
    // An unfinished COPY is aborted: the server rolls it back, nothing of it is written.
    if (this.#done) return cb(err)
    this.#native.abort().then(() => cb(err), () => cb(err))
  }
}

/** A Readable (and async iterable) over `COPY ... TO STDOUT`; destroying it early cancels the COPY. */
class CopyOutStream extends Readable {
  #native
  #ended = false

  /** @internal */
  constructor(native, onClose) {
    super({ highWaterMark: 256 * 1024 })
    this.#native = native
    if (onClose) this.once('close', onClose)
  }

  _read() {
    this.#native.read().then((buf) => {
      const err = responseError(buf)
      if (err) return this.destroy(err)
      if (buf[1] === 0) {
        this.#ended = true
        return this.push(null)
      }
      this.push(buf.subarray(2))
    }, (e) => this.destroy(e))
  }

  _destroy(err, cb) {
    if (this.#ended) return cb(err)
    this.#ended = true
    this.#native.cancel().then(() => cb(err), () => cb(err))
  }
}

function checkSql(sql) {
  if (typeof sql !== 'string') throw new FerroError('ERR_INVALID_ARGUMENT', `the COPY statement must be a string, got ${typeof sql}`)
}

/**
 * Starts a COPY on a native client; `onClose` runs when the stream is done either way; an
 * abort of `signal` destroys the stream (aborting or cancelling the COPY).
 */
async function openCopy(native, kind, sql, onClose, signal) {
  checkSql(sql)
  if (signal?.aborted) throw cancelledError(signal.reason)
  const r = await (kind === 'in' ? native.copyIn(sql) : native.copyOut(sql))
  if (Buffer.isBuffer(r)) throw responseError(r)
  const stream = kind === 'in' ? new CopyInStream(r, onClose) : new CopyOutStream(r, onClose)
  if (signal) {
    const onAbort = () => stream.destroy(cancelledError(signal.reason))
    // It may have fired while the COPY was starting.
    if (signal.aborted) process.nextTick(onAbort)
    else {
      signal.addEventListener('abort', onAbort, { once: true })
      stream.once('close', () => signal.removeEventListener('abort', onAbort))
    }
  }
  return stream
}

/**
 * Rows of `query` exported with binary COPY and decoded with the query type mapping, batch by
 * batch (one crossing per batch of up to 256 KiB of COPY data). Leaving the loop early cancels
 * the COPY on the server.
 */
async function* copyOutRows(native, query, options) {
  checkSql(query)
  const r = await native.copyOutRows(query)
  if (Buffer.isBuffer(r)) throw responseError(r)
  let done = false
  try {
    for (;;) {
      const buf = await r.read()
      const err = responseError(buf)
      if (err) {
        done = true
        throw err
      }
      if (buf[1] === 0) {
        done = true
        return
      }
      yield* decodeResult(buf, options?.rowMode, undefined, 2).rows
    }
  } finally {
    if (!done) await r.cancel()
  }
}

module.exports = { CopyInStream, CopyOutStream, openCopy, copyOutRows }
