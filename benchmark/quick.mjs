#!/usr/bin/env node
// A quick comparison (the full suite is a later issue): ferropg vs pg vs postgres.js on
//  - serial: 20,000 sequential `SELECT $1::int4` on one connection
//  - bigread: one query returning 100,000 rows of (int4, int8, float8, text, bool, timestamptz,
//    numeric), every field touched
// Each driver x scenario runs in a fresh process, interleaved, REPS times; medians are printed
// with ratios against pg. Every run checks its results so nothing looks fast by doing less.
import { fileURLToPath } from 'node:url'
import { run } from './harness.mjs'

const SERIAL = 20_000
const ROWS = 100_000
const BIG_SQL = `SELECT g AS i4, g::int8 * 3 AS i8, g / 7.0::float8 AS f8, 'row ' || g AS t, g % 2 = 0 AS b,
  timestamptz '2024-01-01' + g * interval '1 second' AS ts, (g * 1.25)::numeric(12,2) AS n
  FROM generate_series(1, ${ROWS}) g`

const drivers = {
  async ferropg() {
    const { Client } = await import('../index.mjs')
    const c = await Client.connect(process.env.DATABASE_URL)
    return {
      q: (sql, p) => c.query(sql, p).then((r) => r.rows),
      close: () => c.close(),
    }
  },
  async pg() {
    const { default: pg } = await import('pg')
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL })
    await c.connect()
    return {
      q: (sql, p) => c.query({ text: sql, values: p, name: sql.length < 40 ? 's' + sql.length : undefined }).then((r) => r.rows),
      close: () => c.end(),
    }
  },
  async postgresjs() {
    const { default: postgres } = await import('postgres')
    const sql = postgres(process.env.DATABASE_URL, { max: 1, prepare: true })
    return {
      q: (text, p) => sql.unsafe(text, p ?? [], { prepare: true }),
      close: () => sql.end(),
    }
  },
}

const scenarios = {
  async serial(d) {
    let sum = 0
    const t0 = process.hrtime.bigint()
    for (let i = 0; i < SERIAL; i++) sum += Number((await d.q('SELECT $1::int4 AS x', [i]))[0].x)
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (sum !== (SERIAL * (SERIAL - 1)) / 2) throw new Error(`bad checksum ${sum}`)
    return ms
  },
  async bigread(d) {
    await d.q(BIG_SQL) // warm: statement prepared, types known
    const t0 = process.hrtime.bigint()
    const rows = await d.q(BIG_SQL)
    let sum = 0
    for (const r of rows) {
      sum += Number(r.i4) + Number(r.i8) + (r.f8 > 0 ? 1 : 0) + r.t.length + (r.b ? 1 : 0) + (new Date(r.ts).getTime() > 0 ? 1 : 0) + (String(r.n).length > 0 ? 1 : 0)
    }
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (rows.length !== ROWS) throw new Error(`got ${rows.length} rows`)
    if (sum < ROWS) throw new Error('bad checksum')
    return ms
  },
}

await run({ me: fileURLToPath(import.meta.url), drivers, scenarios, title: 'Serial queries and a large result', extra: { header: 'throughput', cell: (s, ms) => s === 'serial' ? `${Math.round((SERIAL / ms) * 1000)} q/s` : `${Math.round((ROWS / ms) * 1000)} rows/s` } })
