'use strict'
// ferropg/pg-query-stream: pg-query-stream's QueryStream (an object-mode Readable of rows, read
// `batchSize` at a time through ferropg/pg-cursor): `client.query(new QueryStream(text, values,
// { batchSize, highWaterMark, rowMode, types }))`.
const { Readable } = require('node:stream')
const Cursor = require('./cursor')

class QueryStream extends Readable {
  constructor(text, values, config = {}) {
    const { batchSize, highWaterMark = 100 } = config
    super({ objectMode: true, autoDestroy: true, highWaterMark: batchSize || highWaterMark })
    this.cursor = new Cursor(text, values, config)
  }

  /** Submittable's marker; node-postgres's own Client cannot run this stream. */
  submit() {
    throw new Error('ferropg/pg-query-stream runs on ferropg/pg clients only')
  }

  _destroy(err, callback) {
    this.cursor.close((closeErr) => callback(closeErr || err))
  }

  _read(size) {
    this.cursor.read(size, (err, rows) => {
      if (err) {
        this.destroy(err)
        return
      }
      for (const row of rows) this.push(row)
      if (rows.length < size) this.push(null)
    })
  }
}

module.exports = QueryStream
