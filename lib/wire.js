'use strict'
// The byte tags of the JS <-> Rust buffers, as src/core/wire.rs defines them (a test reads that
// file and checks every value here). Results (Rust -> JS): `out` value tags and `status`, the
// first byte of every response; parameters (JS -> Rust): `inp` value tags.

const out = Object.freeze({
  NULL: 0, FALSE: 1, TRUE: 2, F64: 3, I32: 4, BIGINT: 5, STR: 6, BYTES: 7, JSON: 8, DATE: 9,
  ARRAY: 10, INTERVAL: 11, RANGE: 12, RECORD: 13,
  RANGE_EMPTY: 1, RANGE_LOWER_INC: 2, RANGE_UPPER_INC: 4, RANGE_HAS_LOWER: 8, RANGE_HAS_UPPER: 16,
})

const inp = Object.freeze({
  NULL: 0, FALSE: 1, TRUE: 2, NUMBER: 3, BIGINT: 4, STRING: 5, BYTES: 6, DATE: 7, ARRAY: 8, OBJECT: 9, TEXT: 10, INT: 11,
})

const status = Object.freeze({ OK: 0, DB_ERROR: 1, DRIVER_ERROR: 2, BATCH_ERROR: 3, PART: 4, BATCH_PART: 5, BATCH_ANSWERS: 6 })

// A result's command sent as `COMMAND_CODE + index` instead of its text: the same list as
// src/core/result.rs COMMANDS.
const COMMAND_CODE = 0x80000000
// (Not frozen: V8 loads from a frozen array through a generic keyed load, ~60 instructions.)
const COMMANDS = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'MERGE', 'BEGIN', 'COMMIT', 'ROLLBACK', 'SET', 'FETCH', 'COPY', '']

module.exports = { out, inp, status, COMMAND_CODE, COMMANDS }
