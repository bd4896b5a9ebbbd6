#!/usr/bin/env node
// Pipelining and batch inserts, ferropg vs pg vs postgres.js:
//  - returning: 5,000 `INSERT ... RETURNING id` on one connection in one transaction, pipelined
//    (ferropg: implicit pipelining, executeMany({ returning }) and pipeline(); pg: `pipeline: true`
//    client; postgres.js: queries inside sql.begin, which it pipelines)
//  - bulk: 100,000 rows (int4, text) in one transaction (ferropg: executeMany; pg: multi-row
//    VALUES, 1,000 rows a statement; postgres.js: sql(rows), 10,000 rows a statement)
// Each driver x scenario runs in a fresh process, interleaved, REPS times; every run checks the
// table's row count and id sum. Medians, ratio = pg time / driver time.
import { fileURLToPath } from 'node:url'
import { run } from './harness.mjs'

const N_RET = 5_000
const N_BULK = 100_000
const INSERT = 'INSERT INTO bench_pipe (a, b) VALUES ($1, $2) RETURNING id'

async function reset(q) {
  await q('DROP TABLE IF EXISTS bench_pipe')
  await q('CREATE TABLE bench_pipe (id serial PRIMARY KEY, a int4 NOT NULL, b text NOT NULL)')
}

const drivers = {
  async 'ferropg implicit'() {
    const { Client } = await import('../index.mjs')
    const c = await Client.connect(process.env.DATABASE_URL)
    return {
      q: (s, p) => c.query(s, p).then((r) => r.rows),
      async returning() {
        await c.query('BEGIN')
        const r = await Promise.all(Array.from({ length: N_RET }, (_, i) => c.query(INSERT, [i, 'x' + i])))
        await c.query('COMMIT')
        return r.reduce((s, x) => s + x.rows[0].id, 0)
      },
      async bulk() {
        await c.executeMany('INSERT INTO bench_pipe (a, b) VALUES ($1, $2)', (function* () {
          for (let i = 0; i < N_BULK; i++) yield [i, 'row ' + i]
        })())
      },
      close: () => c.close(),
    }
  },
  async 'ferropg executeMany'() {
    const d = await drivers['ferropg implicit']()
    const { Client } = await import('../index.mjs')
    const c = await Client.connect(process.env.DATABASE_URL)
    return {
      ...d,
      async returning() {
        const sets = Array.from({ length: N_RET }, (_, i) => [i, 'x' + i])
        const r = await c.executeMany(INSERT, sets, { returning: true })
        return r.results.reduce((s, x) => s + x.rows[0].id, 0)
      },
      close: async () => { await c.close(); await d.close() },
    }
  },
  async 'ferropg pipeline'() {
    const d = await drivers['ferropg implicit']()
    const { Client } = await import('../index.mjs')
    const c = await Client.connect(process.env.DATABASE_URL)
    return {
      ...d,
      bulk: undefined,
      async returning() {
        const ps = await c.pipeline((p) => Array.from({ length: N_RET }, (_, i) => p.query(INSERT, [i, 'x' + i])))
        return (await Promise.all(ps)).reduce((s, x) => s + x.rows[0].id, 0)
      },
      close: async () => { await c.close(); await d.close() },
    }
  },
  async pg() {
    const { default: pg } = await import('pg')
    const c = new pg.Client({ connectionString: process.env.DATABASE_URL, pipeline: true })
    await c.connect()
    return {
      q: (s, p) => c.query(s, p).then((r) => r.rows),
      async returning() {
        const begin = c.query('BEGIN')
        const ps = Array.from({ length: N_RET }, (_, i) => c.query({ name: 'ins', text: INSERT, values: [i, 'x' + i] }))
        const commit = c.query('COMMIT')
        await begin
        const r = await Promise.all(ps)
        await commit
        return r.reduce((s, x) => s + x.rows[0].id, 0)
      },
      async bulk() {
        await c.query('BEGIN')
        const per = 1000
        for (let at = 0; at < N_BULK; at += per) {
          const vals = []
          const params = []
          for (let i = at; i < at + per; i++) {
            params.push(i, 'row ' + i)
            vals.push(`($${params.length - 1}, $${params.length})`)
          }
          await c.query(`INSERT INTO bench_pipe (a, b) VALUES ${vals.join(',')}`, params)
        }
        await c.query('COMMIT')
      },
      close: () => c.end(),
    }
  },
  async postgresjs() {
    const { default: postgres } = await import('postgres')
    const sql = postgres(process.env.DATABASE_URL, { max: 1, onnotice: () => {} })
    return {
      q: (s, p) => sql.unsafe(s, p ?? []),
      async returning() {
        const r = await sql.begin((tx) => Array.from({ length: N_RET }, (_, i) => tx.unsafe(INSERT, [i, 'x' + i], { prepare: true })))
        return r.reduce((s, x) => s + x[0].id, 0)
      },
      async bulk() {
        await sql.begin(async (tx) => {
          const per = 10_000
          for (let at = 0; at < N_BULK; at += per) {
            const rows = Array.from({ length: per }, (_, k) => ({ a: at + k, b: 'row ' + (at + k) }))
            await tx`INSERT INTO bench_pipe ${tx(rows, 'a', 'b')}`
          }
        })
      },
      close: () => sql.end(),
    }
  },
}

const scenarios = {
  async returning(d) {
    await reset(d.q)
    const t0 = process.hrtime.bigint()
    const sum = await d.returning()
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    if (sum !== (N_RET * (N_RET + 1)) / 2) throw new Error(`bad id sum ${sum}`)
    await d.q('DROP TABLE bench_pipe')
    return ms
  },
  async bulk(d) {
    if (!d.bulk) return null
    await reset(d.q)
    const t0 = process.hrtime.bigint()
    await d.bulk()
    const ms = Number(process.hrtime.bigint() - t0) / 1e6
    const [{ n, s }] = await d.q('SELECT count(*)::int4 AS n, sum(a)::int8 AS s FROM bench_pipe')
    if (Number(n) !== N_BULK || Number(s) !== (N_BULK * (N_BULK - 1)) / 2) throw new Error(`bad table: ${n} rows`)
    await d.q('DROP TABLE bench_pipe')
    return ms
  },
}

await run({ me: fileURLToPath(import.meta.url), drivers, scenarios, title: 'Pipelining and batches' })
