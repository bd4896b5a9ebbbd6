'use strict'
// ferropg: the public entry point (CommonJS). index.mjs re-exports the same classes so that
// `instanceof` holds across CJS and ESM.
require('./lib/platform').loadBinding() // a clear error when this platform has no binary
const { Pool } = require('./lib/pool')
const { Client, PoolClient } = require('./lib/client')
const { FerroError, DatabaseError, PipelineAbortedError } = require('./lib/errors')
const { CHANNELS } = require('./lib/tracing')

module.exports = { Pool, Client, PoolClient, FerroError, DatabaseError, PipelineAbortedError, channels: CHANNELS }
