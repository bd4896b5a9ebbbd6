'use strict'
// A bulk loader: streams a CSV file into a table with copyFrom (binary COPY), with a progress
// line. Memory stays flat whatever the file's size: rows are parsed as the file is read and
// copyFrom encodes them in one streaming pass.
//
//   DATABASE_URL=postgres://app@localhost/metrics node examples/bulk-load.js readings.csv [table]
//
// The CSV has a header line `station,at,reading` (RFC 4180 quoting allowed); an empty field is
// NULL. A row that does not fit its column (a reading that is not a number) stops the load and
// nothing of it is written: the error names the line.
const fs = require('node:fs')
const readline = require('node:readline')
const { Pool } = require('ferropg')

const COLUMNS = ['station', 'at', 'reading']
const SCHEMA = (table) => `CREATE TABLE IF NOT EXISTS ${table} (station text NOT NULL, at timestamptz NOT NULL, reading float8)`

/** The fields of one CSV line (RFC 4180 quotes; a quoted field may not span lines here). */
function parseCsvLine(line) {
  const fields = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') field += line[++i]
      else if (c === '"') quoted = false
      else field += c
    } else if (c === '"') {
      quoted = true
    } else if (c === ',') {
      fields.push(field)
      field = ''
    } else {
      field += c
    }
  }
  fields.push(field)
  return fields.map((f) => (f === '' ? null : f))
}

/** Rows of the CSV file as arrays in COLUMNS order, calling onRow(n) after each. */
async function* csvRows(file, onRow) {
  const lines = readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })
  let n = 0
  let header = true
  for await (const line of lines) {
    if (header) {
      header = false
      if (line.trim() !== COLUMNS.join(',')) throw new Error(`${file}: the header must be ${COLUMNS.join(',')}`)
      continue
    }
    if (line === '') continue
    yield parseCsvLine(line)
    onRow(++n)
  }
}

/** Loads `file` into `table`; resolves with the number of rows. */
async function load({ databaseUrl = process.env.DATABASE_URL, file, table = 'readings', progress = process.stderr }) {
  if (!/^[a-z_][a-z0-9_]*$/.test(table)) throw new Error(`not a plain table name: ${table}`)
  const pool = new Pool(databaseUrl)
  try {
    await pool.query(SCHEMA(table))
    const started = Date.now()
    const report = (n) => {
      const seconds = (Date.now() - started) / 1000
      progress.write(`\rloaded ${n} rows (${Math.round(n / Math.max(seconds, 0.001))} rows/s)`)
    }
    const rows = await pool.copyFrom(table, csvRows(file, (n) => n % 10_000 === 0 && report(n)), { columns: COLUMNS })
    report(rows)
    progress.write('\n')
    return rows
  } catch (e) {
    // copyFrom counts rows from 0; the file's line is that plus 2 (the header, and 1-based lines).
    if (e.index !== undefined) e.message = `${file} line ${e.index + 2}: ${e.message}`
    throw e
  } finally {
    await pool.close()
  }
}

if (require.main === module) {
  const [file, table] = process.argv.slice(2)
  if (!file) {
    console.error('usage: node examples/bulk-load.js file.csv [table]')
    process.exit(2)
  }
  load({ file, table }).then(
    (n) => console.log(`done: ${n} rows into ${table ?? 'readings'}`),
    (e) => { console.error(`\nfailed: ${e.message}`); process.exitCode = 1 },
  )
}

module.exports = { load, parseCsvLine }
