#!/usr/bin/env node
// COPY, ferropg vs pg + pg-copy-streams vs postgres.js:
//  - copyFrom: 1,000,000 rows of (int4, text, float8, timestamptz, jsonb) from a generator
//    (ferropg: copyFrom, binary; pg-copy-streams and postgres.js: CSV text through their COPY
//    streams, the rows formatted in JS)
//  - copyOut: 1,000,000 rows streamed out (ferropg: copyOut raw text and copyOutRows decoded;
//    pg-copy-streams to(); postgres.js readable())
// Each driver x scenario in a fresh process, interleaved, REPS times; each run checks the row
// count and samples its peak RSS. Medians; ratio = pg time / driver time.
import { fileURLToPath } from 'node:url'
import { run } from './harness.mjs'
import { pipeline } from 'node:stream/promises'
import { Readable, Writable } from 'node:stream'

const N = 1_000_000
const TABLE = 'bench_copy'
const DDL = `CREATE TABLE ${TABLE} (a int4, b text, c float8, d timestamptz, e jsonb)`
const OUT_SQL = `SELECT g AS a, 'row ' || g AS b, g / 3.0 AS c, timestamptz '2024-01-01' + g * interval '1 s' AS d FROM generate_series(1, ${N}) g`
const at = new Date('2024-01-01T00:00:00Z')

function* rows() {
  for (let i = 0; i < N; i++) yield [i, 'row ' + i, i / 3, at, { i }]
}

function* csv() {
  const iso = at.toISOString()
  let batch = ''
  for (let i = 0; i < N; i++) {
    batch += `${i},row ${i},${i / 3},${iso},"{""i"":${i}}"\n`
    if (batch.length > 65536) {
      yield batch
      batch = ''
    }
  }
  yield batch
}

function countLines() {
  let n = 0
  const sink = new Writable({
    write(chunk, _e, cb) {
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) n++
      cb()
    },
  })
  return [sink, () => n]
}

const drivers = {
  async ferropg() {
    const { Client } = await import('../index.mjs')
    const c = await Client.connect(process.env.DATABASE_URL)
    return {
      q: (s) => c.query(s).then((r) => r.rows),
      copyFrom: () => c.copyFrom(TABLE, rows()),
      async copyOut() {
        const [sink, n] = countLines()
        await pipeline(await c.copyOut(`COPY (${OUT_SQL}) TO STDOUT`), sink)
        return n()
      },
      close: () => c.close(),
    }
  },
  async 'ferropg copyOutRows'() {
    const d = await drivers.ferropg()
    const { Client } = await import('../index.mjs')
    const c = await Client.connect(process.env.DATABASE_URL)
    return {
      ...d,
      copyFrom: undefined,
      async copyOut() {
        let n = 0
        let sum = 0
        for await (const r of c.copyOutRows(OUT_SQL)) {
          n++
          sum += r.a
        }
        if (sum !== (N * (N + 1)) / 2) throw new Error('bad sum')
        return n
      },
      close: async () => { await c.close(); await d.close() },
    }
  },
  async pg() {
    const { default: pg } = await import('pg')
    const { from, to } = await import('pg-copy-streams')
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL })
    await c.connect()
    return {
      q: (s) => c.query(s).then((r) => r.rows),
      async copyFrom() {
        await pipeline(Readable.from(csv()), c.query(from(`COPY ${TABLE} FROM STDIN (FORMAT csv)`)))
        return N
      },
      async copyOut() {
        const [sink, n] = countLines()
        await pipeline(c.query(to(`COPY (${OUT_SQL}) TO STDOUT`)), sink)
        return n()
      },
      close: () => c.end(),
    }
  },
  async postgresjs() {
    const { default: postgres } = await import('postgres')
    const sql = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} })
    return {
      q: (s) => sql.unsafe(s),
      async copyFrom() {
        await pipeline(Readable.from(csv()), await sql.unsafe(`COPY ${TABLE} FROM STDIN (FORMAT csv)`).writable())
        return N
      },
      async copyOut() {
        const [sink, n] = countLines()
        await pipeline(await sql.unsafe(`COPY (${OUT_SQL}) TO STDOUT`).readable(), sink)
        return n()
      },
      close: () => sql.end(),
    }
  },
}

const scenarios = {
  async copyFrom(d) {
    if (!d.copyFrom) return null
    await d.q(`DROP TABLE IF EXISTS ${TABLE}`)
    await d.q(DDL)
    const t0 = process.hrtime.bigint()
    await d.copyFrom()
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    const [{ n }] = await d.q(`SELECT count(*)::int4 AS n FROM ${TABLE}`)
    if (Number(n) !== N) throw new Error(`copied ${n} rows`)
    await d.q(`DROP TABLE ${TABLE}`)
    return ms
  },
  async copyOut(d) {
    const t0 = process.hrtime.bigint()
    const n = await d.copyOut()
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (n !== N) throw new Error(`read ${n} rows`)
    return ms
  },
}

await run({ me: fileURLToPath(import.meta.url), drivers, scenarios, title: 'COPY, 1,000,000 rows' })
