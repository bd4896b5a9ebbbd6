'use strict'
// node-postgres's Result, built from a ferropg result whose values are the server's text
// (`types.results: 'text'`, rows as arrays) and the type parsers in force.

// typlen of the built-in types (pg_type.typlen), for `fields[i].dataTypeSize`; -1 (variable)
// otherwise. ferropg does not keep the RowDescription's own size and modifier.
const TYPLEN = {
  16: 1, 18: 1, 19: 64, 20: 8, 21: 2, 23: 4, 26: 4, 28: 4, 29: 4, 600: 16, 601: 32, 602: -1, 603: 32,
  700: 4, 701: 8, 790: 8, 829: 6, 774: 8, 1082: 4, 1083: 8, 1114: 8, 1184: 8, 1186: 16, 1266: 12, 2950: 16,
  3220: 8, 5038: 8,
}
// Commands whose tag carries a row count (INSERT also an OID, always 0 since PostgreSQL 12).
const COUNTED = new Set(['INSERT', 'DELETE', 'UPDATE', 'MERGE', 'SELECT', 'MOVE', 'FETCH', 'COPY'])

class Result {
  constructor(rowMode, types) {
    this.command = null
    this.rowCount = null
    this.oid = null
    this.rows = []
    this.fields = []
    this._parsers = undefined
    this._types = types
    this.RowCtor = null
    this.rowAsArray = rowMode === 'array'
  }
}

function field(f) {
  return {
    name: f.name,
    tableID: f.tableOid,
    columnID: f.columnId,
    dataTypeID: f.typeOid,
    dataTypeSize: TYPLEN[f.typeOid] ?? -1,
    dataTypeModifier: -1,
    format: 'text',
  }
}

/** A pg Result from ferropg's `{ rows (arrays of text), rowCount, command, fields }`. */
function toResult(r, rowMode, types) {
  const out = new Result(rowMode, types)
  if (r.command) {
    out.command = r.command
    if (COUNTED.has(r.command)) out.rowCount = r.rowCount
    if (r.command === 'INSERT') out.oid = 0
  }
  const fields = r.fields.map(field)
  out.fields = fields
  const n = fields.length
  const parsers = new Array(n)
  for (let i = 0; i < n; i++) parsers[i] = types.getTypeParser(fields[i].dataTypeID, 'text')
  out._parsers = parsers
  const rows = r.rows
  const built = new Array(rows.length)
  if (out.rowAsArray) {
    for (let j = 0; j < rows.length; j++) {
      const raw = rows[j]
      const row = new Array(n)
      for (let i = 0; i < n; i++) row[i] = raw[i] === null ? null : parsers[i](raw[i])
      built[j] = row
    }
  } else {
    const names = fields.map((f) => f.name)
    for (let j = 0; j < rows.length; j++) {
      const raw = rows[j]
      const row = {}
      for (let i = 0; i < n; i++) row[names[i]] = raw[i] === null ? null : parsers[i](raw[i])
      built[j] = row
    }
  }
  out.rows = built
  return out
}

module.exports = { Result, toResult }
