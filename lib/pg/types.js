'use strict'
// node-postgres's type parsers and defaults, for ferropg/pg. The parsers are node-postgres's own
// package (pg-types), so that every value a query returns is parsed exactly as `pg` parses it,
// from the text the server printed (ferropg/pg asks for text results: `types.results`).
const pgTypes = require('pg-types')

/** Per-client (or per-query) parsers over the global ones, as pg's TypeOverrides. */
class TypeOverrides {
  constructor(userTypes) {
    this._types = userTypes || pgTypes
    this.text = {}
    this.binary = {}
  }

  getOverrides(format) {
    return format === 'binary' ? this.binary : this.text
  }

  setTypeParser(oid, format, parseFn) {
    if (typeof format === 'function') {
      parseFn = format
      format = 'text'
    }
    this.getOverrides(format)[oid] = parseFn
  }

  getTypeParser(oid, format = 'text') {
    return this.getOverrides(format)[oid] || this._types.getTypeParser(oid, format)
  }
}

let user
try {
  user = process.platform === 'win32' ? process.env.USERNAME : process.env.USER
} catch {
  user = undefined
}

/**
 * pg.defaults. ferropg/pg reads `parseInt8` (a setter, as in pg), `parseInputDatesAsUTC` and
 * `max`/`idleTimeoutMillis` (Pool); where to connect follows libpq (PG* variables, then the
 * unix socket), not `defaults.host`/`port`/`user`: see the README's compatibility table.
 */
const defaults = {
  host: 'localhost',
  user,
  database: undefined,
  password: null,
  connectionString: undefined,
  port: 5432,
  rows: 0,
  binary: false,
  max: 10,
  idleTimeoutMillis: 30000,
  client_encoding: '',
  ssl: false,
  application_name: undefined,
  fallback_application_name: undefined,
  options: undefined,
  parseInputDatesAsUTC: false,
  statement_timeout: false,
  lock_timeout: false,
  idle_in_transaction_session_timeout: false,
  query_timeout: false,
  connect_timeout: 0,
  keepalives: 1,
  keepalives_idle: 0,
}

const parseBigInteger = pgTypes.getTypeParser(20, 'text')
const parseBigIntegerArray = pgTypes.getTypeParser(1016, 'text')
Object.defineProperty(defaults, 'parseInt8', {
  enumerable: false,
  set(val) {
    pgTypes.setTypeParser(20, 'text', val ? pgTypes.getTypeParser(23, 'text') : parseBigInteger)
    pgTypes.setTypeParser(1016, 'text', val ? pgTypes.getTypeParser(1007, 'text') : parseBigIntegerArray)
  },
})

module.exports = { pgTypes, TypeOverrides, defaults }
