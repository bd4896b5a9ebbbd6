'use strict'
// A pipeline that counts what its block sends, for the end of a `ferropg:pipeline` trace
// (made instead of a plain Pipeline only while someone subscribes).
const { Pipeline } = require('./pipeline')

/** A Pipeline counting its statements (queries and executeMany calls) and its segments. */
class CountingPipeline extends Pipeline {
  statements = 0
  segments = 0
  #pending = false

  query(sql, params, options) {
    this.statements++
    this.#pending = true
    return super.query(sql, params, options)
  }

  executeMany(sql, paramSets, options) {
    this.statements++
    this.#pending = true
    return super.executeMany(sql, paramSets, options)
  }

  sync() {
    if (this.#pending) {
      this.segments++
      this.#pending = false
    }
    return super.sync()
  }
}

module.exports = { CountingPipeline }
