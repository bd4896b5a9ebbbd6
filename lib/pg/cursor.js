'use strict'
// ferropg/pg-cursor: pg-cursor's API (`client.query(new Cursor(text, values, { rowMode, types }))`,
// then `read(n)` and `close()`, with callbacks or promises, and 'row'/'end'/'error' events)
// over a server-side cursor (lib/pg/serve-cursor.js). The client runs nothing else while the
// cursor is open, as pg's does.
const EventEmitter = require('node:events')
const { settleWith } = require('./serve-cursor')

/** pg-cursor's Cursor: give it to `client.query()`, then `read(n)` and `close()`. */
class Cursor extends EventEmitter {
  constructor(text, values, config) {
    super()
    this.text = text
    this.values = values ?? null
    this._conf = config ?? {}
    this.state = 'initialized'
  }

  /** Submittable's marker; node-postgres's own Client cannot run this cursor. */
  submit() {
    throw new Error('ferropg/pg-cursor runs on ferropg/pg clients only')
  }

  read() {
    throw new Error('the cursor was not submitted: pass it to client.query() first')
  }

  close(callback) {
    return settleWith(Promise.resolve([]), callback)
  }
}

module.exports = Cursor
module.exports.Cursor = Cursor
