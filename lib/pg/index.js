'use strict'
// ferropg/pg: node-postgres's (pg 8.x) API over ferropg, for code and libraries written for pg
// (Kysely, Drizzle, Knex, ...). See the README, "Using ferropg with your ORM", for what differs.
require('../platform').loadBinding() // a clear error when this platform has no binary
const { Client } = require('./client')
const { Pool } = require('./pool')
const { Result } = require('./result')
const { pgTypes, TypeOverrides, defaults } = require('./types')
const { escapeIdentifier, escapeLiteral } = require('./values')
const { DatabaseError } = require('../errors')
const { PG_CHANNELS } = require('./tracing')

class BoundPool extends Pool {
  constructor(options) {
    super({ Client, ...options })
  }
}

module.exports = {
  Client,
  Pool: BoundPool,
  Result,
  TypeOverrides,
  DatabaseError,
  types: pgTypes,
  defaults,
  escapeIdentifier,
  escapeLiteral,
  // pg's native bindings (pg-native): not part of ferropg/pg.
  native: null,
  /** The pg:* diagnostics channel names ferropg/pg publishes on (docs/observability.md). */
  channels: PG_CHANNELS,
}
