// One driver x one workload in this process (run under Node, or under Bun for driver `bun`).
// Prints one JSON line: { ms, cpuMs, serverCpuMs, rssMiB, peakMiB, check }. Set-up (connect, create tables, warm-up, build the
// input rows) is untimed; the timed part is exactly the workload.
//   node benchmark/child.mjs <driver> <W1..W6>     (BENCH_CONN: JSON connection settings)
//   node benchmark/child.mjs --list                 (which workloads each driver implements)
import * as W from './workloads.mjs'
import { serverCpu } from './server-cpu.mjs'

const conn = JSON.parse(process.env.BENCH_CONN || '{}')
// benchmark/tracing.mjs: BENCH_TRACE=noop subscribes a no-op subscriber to every event of every
// ferropg:* tracing channel (what an instrumentation costs the driver, its own work aside).
if (process.env.BENCH_TRACE === 'noop') {
  const { tracingChannel } = await import('node:diagnostics_channel')
  const { channels } = (await import('../index.js')).default
  const noop = () => {}
  for (const name of Object.values(channels)) tracingChannel(name).subscribe({ start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop })
}
const isSocket = (conn.host || '').startsWith('/')
// benchmark/tls.mjs: `tls: { ca }` checks the server as verify-full (every driver); `plain`
// turns TLS off (ferropg's default, prefer, would use it on a server that offers it).
const { readFileSync } = await import('node:fs')
const caText = conn.tls ? readFileSync(conn.tls.ca, 'utf8') : null
const nodeTls = caText ? { ca: caText } : false

// ---- shared helpers -------------------------------------------------------------------------
const csvField = (v) => (typeof v === 'string' && /[",\n]/.test(v) ? '"' + v.replaceAll('"', '""') + '"' : String(v))
/** W4 rows as CSV text, in chunks of 1,000 lines (what the COPY-capable JS drivers send). */
function* w4Csv(rows) {
  for (let at = 0; at < rows.length; at += 1000) {
    let s = ''
    for (let i = at; i < Math.min(at + 1000, rows.length); i++) {
      const [id, name, score, created, payload] = rows[i]
      s += `${id},${csvField(name)},${score},${created.toISOString()},${csvField(JSON.stringify(payload))}\n`
    }
    yield s
  }
}
const w4Rows = () => Array.from({ length: W.W4_ROWS }, (_, i) => W.w4Row(i))
const w5Sets = () => Array.from({ length: W.W5_N }, (_, i) => [i, 'x' + i])
const w3Sum = (rows) => {
  let c = 0
  for (const r of rows) c += W.w3Term(r.i4, r.i8, r.f8, r.t, r.b, r.ts.getTime(), r.n, r.j.k, r.u)
  return c
}
const sumIds = (rows) => rows.reduce((s, r) => s + Number(r.id), 0)
/** Runs `callers` loops that share one counter up to `n`; each calls `one(i)` -> checksum term. */
async function callers(n, count, one) {
  let next = 0
  let sum = 0
  await Promise.all(Array.from({ length: count }, async () => {
    while (next < n) {
      const v = await one(next++) // read sum only after the await: `sum += await` would lose updates
      sum += v
    }
  }))
  return sum
}
const w2Term = (a, b) => Number(a) + b.length
/** ferropg's settings: the defaults, except BENCH_FERROPG_TRANSPORT (to measure one transport against the other). */
const ferroConfig = () => ({
  host: conn.host, port: conn.port, user: conn.user, password: conn.password, database: conn.database,
  ...(process.env.BENCH_FERROPG_TRANSPORT ? { transport: process.env.BENCH_FERROPG_TRANSPORT } : {}),
  ...(conn.tls ? { sslmode: 'verify-full', sslrootcert: conn.tls.ca } : {}),
  ...(conn.plain ? { sslmode: 'disable' } : {}),
})
/** C: a fresh connection, one query and a close, `W.C_N` times in a row. */
const connectLoop = (once) => () => async () => {
  let s = 0
  for (let i = 0; i < W.C_N; i++) s += await once()
  return s
}

// ---- drivers: each workload returns { run, check? }: run() is timed and returns the checksum
// (or check() does, untimed, when it must be read from the server afterwards) ------------------
const drivers = {
  // What a service runs: a Pool with default settings, every workload through the pool's own
  // methods (W1 with max 1, as a serial caller needs; W2 with max 8).
  ferropg: {
    async open(opts = {}) {
      const { Pool } = await import('../index.mjs')
      return new Pool({ ...ferroConfig(), ...(opts.pool ? { max: opts.pool } : {}) })
    },
    W1: { opts: { pool: 1 }, fn: (c) => async () => {
      let s = 0
      for (let i = 0; i < W.W1_N; i++) s += (await c.query(W.W1_SQL, [i])).rows[0].x
      return s
    } },
    W2: (p) => async () => callers(W.W2_N, W.W2_CALLERS, async (i) => {
      const r = (await p.query(W.W2_SQL, [i, 't' + i])).rows[0]
      return w2Term(r.a, r.b)
    }),
    async W3(c) {
      await c.query(W.W3_SQL)
      return async () => w3Sum((await c.query(W.W3_SQL)).rows)
    },
    W4: (c) => {
      const rows = w4Rows()
      return async () => { await c.copyFrom(W.W4_TABLE, rows) }
    },
    W5: (c) => {
      const sets = w5Sets()
      return async () => (await c.executeMany(W.W5_SQL, sets, { returning: true })).results.reduce((s, r) => s + r.rows[0].id, 0)
    },
    W6: (c) => async () => {
      let n = 0
      for await (const chunk of await c.copyOut(W.W6_SQL)) n += chunk.length
      return n
    },
    C: { opts: { pool: 1 }, fn: connectLoop(async () => {
      const { Client } = await import('../index.mjs')
      const c = await Client.connect(ferroConfig())
      const x = (await c.query('SELECT 1 AS x')).rows[0].x
      await c.close()
      return x
    }) },
    q: async (c, sql) => (await c.query(sql)).rows,
    close: (c) => c.close(),
  },
  pg: {
    async open(opts = {}) {
      const { default: pg } = await import('pg')
      const cfg = { host: conn.host, port: conn.port, user: conn.user, password: conn.password, database: conn.database, ssl: nodeTls }
      if (opts.pool) return new pg.Pool({ ...cfg, max: opts.pool })
      if (opts.pooled) return new pg.Pool({ ...cfg, max: 1 })
      const c = new pg.Client({ ...cfg, ...(opts.pipeline ? { pipeline: true } : {}) })
      await c.connect()
      return c
    },
    // Through pg.Pool (max 1) and pool.query, as a service calls it.
    W1: { opts: { pooled: true }, fn: (c) => async () => {
      let s = 0
      for (let i = 0; i < W.W1_N; i++) s += (await c.query({ name: 'w1', text: W.W1_SQL, values: [i] })).rows[0].x
      return s
    } },
    W2: (p) => async () => callers(W.W2_N, W.W2_CALLERS, async (i) => {
      const r = (await p.query({ name: 'w2', text: W.W2_SQL, values: [i, 't' + i] })).rows[0]
      return w2Term(r.a, r.b)
    }),
    async W3(c) {
      await c.query({ name: 'w3', text: W.W3_SQL })
      return async () => w3Sum((await c.query({ name: 'w3', text: W.W3_SQL })).rows)
    },
    async W4(c) {
      const { from } = await import('pg-copy-streams')
      const { pipeline } = await import('node:stream/promises')
      const { Readable } = await import('node:stream')
      const rows = w4Rows()
      return async () => pipeline(Readable.from(w4Csv(rows)), c.query(from(`COPY ${W.W4_TABLE} FROM STDIN (FORMAT csv)`)))
    },
    W5: { opts: { pipeline: true }, async fn(c) {
      const sets = w5Sets()
      return async () => {
        const begin = c.query('BEGIN')
        const ps = sets.map((v) => c.query({ name: 'w5', text: W.W5_SQL, values: v }))
        const commit = c.query('COMMIT')
        await begin
        const r = await Promise.all(ps)
        await commit
        return r.reduce((s, x) => s + x.rows[0].id, 0)
      }
    } },
    async W6(c) {
      const { to } = await import('pg-copy-streams')
      return async () => {
        let n = 0
        for await (const chunk of c.query(to(W.W6_SQL))) n += chunk.length
        return n
      }
    },
    C: { opts: { pool: 1 }, fn: connectLoop(async () => {
      const { default: pg } = await import('pg')
      const c = new pg.Client({ host: conn.host, port: conn.port, user: conn.user, password: conn.password, database: conn.database, ssl: nodeTls })
      await c.connect()
      const x = (await c.query('SELECT 1 AS x')).rows[0].x
      await c.end()
      return x
    }) },
    q: async (c, sql) => (await c.query(sql)).rows,
    close: (c) => c.end(),
  },
  postgresjs: {
    async open(opts = {}) {
      const { default: postgres } = await import('postgres')
      return postgres({
        ...(isSocket ? { path: `${conn.host}/.s.PGSQL.${conn.port}` } : { host: conn.host, port: conn.port }),
        user: conn.user, password: conn.password, database: conn.database, max: opts.pool || 1, onnotice: () => {}, ssl: nodeTls,
      })
    },
    C: { opts: { pool: 1 }, fn: connectLoop(async () => {
      const { default: postgres } = await import('postgres')
      const sql = postgres({ host: conn.host, port: conn.port, user: conn.user, password: conn.password, database: conn.database, max: 1, onnotice: () => {}, ssl: nodeTls })
      const x = (await sql`SELECT 1 AS x`)[0].x
      await sql.end()
      return x
    }) },
    W1: (sql) => async () => {
      let s = 0
      for (let i = 0; i < W.W1_N; i++) s += (await sql`SELECT ${i}::int4 AS x`)[0].x
      return s
    },
    W2: (sql) => async () => callers(W.W2_N, W.W2_CALLERS, async (i) => {
      const r = (await sql`SELECT ${i}::int4 AS a, ${'t' + i}::text AS b`)[0]
      return w2Term(r.a, r.b)
    }),
    async W3(sql) {
      await sql.unsafe(W.W3_SQL, [], { prepare: true })
      return async () => w3Sum(await sql.unsafe(W.W3_SQL, [], { prepare: true }))
    },
    async W4(sql) {
      const { pipeline } = await import('node:stream/promises')
      const { Readable } = await import('node:stream')
      const rows = w4Rows()
      return async () => pipeline(Readable.from(w4Csv(rows)), await sql.unsafe(`COPY ${W.W4_TABLE} FROM STDIN (FORMAT csv)`).writable())
    },
    W5: (sql) => {
      const sets = w5Sets()
      return async () => sumIds((await sql.begin((tx) => sets.map((v) => tx.unsafe(W.W5_SQL, v, { prepare: true })))).map((r) => r[0]))
    },
    W6: (sql) => async () => {
      let n = 0
      for await (const chunk of await sql.unsafe(W.W6_SQL).readable()) n += chunk.length
      return n
    },
    q: (sql, text) => sql.unsafe(text),
    close: (sql) => sql.end(),
  },
  'pg-native': {
    async open() {
      const { createRequire } = await import('node:module')
      const require = createRequire(new URL('./peers/', import.meta.url))
      const Native = require('pg-native')
      const c = new Native()
      const q = (fn) => new Promise((resolve, reject) => fn((err, rows) => (err ? reject(err) : resolve(rows))))
      await q((cb) => c.connect(`host=${conn.host} port=${conn.port} user=${conn.user} password=${conn.password} dbname=${conn.database}`, cb))
      return {
        c,
        prepared: new Set(),
        async exec(name, text, values) {
          if (!this.prepared.has(name)) {
            await q((cb) => c.prepare(name, text, values.length, cb))
            this.prepared.add(name)
          }
          return q((cb) => c.execute(name, values, cb))
        },
        query: (text) => q((cb) => c.query(text, cb)),
      }
    },
    W1: (n) => async () => {
      let s = 0
      for (let i = 0; i < W.W1_N; i++) s += (await n.exec('w1', W.W1_SQL, [i]))[0].x
      return s
    },
    async W3(n) {
      await n.exec('w3', W.W3_SQL, [])
      return async () => w3Sum((await n.exec('w3', W.W3_SQL, [])).map((r) => ({ ...r, j: r.j })))
    },
    W5: (n) => {
      const sets = w5Sets()
      return async () => {
        // libpq's synchronous-per-connection API: no pipelining available through pg-native.
        await n.query('BEGIN')
        let s = 0
        for (const v of sets) s += (await n.exec('w5', W.W5_SQL, v))[0].id
        await n.query('COMMIT')
        return s
      }
    },
    q: (n, sql) => n.query(sql),
    close: (n) => new Promise((resolve) => n.c.end(resolve)),
  },
  bun: {
    async open(opts = {}) {
      const { SQL } = globalThis.Bun
      const sql = new SQL({
        ...(isSocket ? { path: `${conn.host}/.s.PGSQL.${conn.port}` } : { hostname: conn.host, port: conn.port }),
        username: conn.user, password: conn.password, database: conn.database, max: opts.pool || 1, prepare: true,
      })
      await sql`SELECT 1`
      return sql
    },
    // The same tagged-template API as postgres.js (both prepare by default).
    W1: (sql) => drivers.postgresjs.W1(sql),
    W2: (sql) => drivers.postgresjs.W2(sql),
    async W3(sql) {
      await sql.unsafe(W.W3_SQL)
      return async () => w3Sum(await sql.unsafe(W.W3_SQL))
    },
    W4: (sql) => {
      // Bun's SQL client has no COPY; its best bulk path is the multi-row insert helper
      // (10,000 rows x 5 columns per statement stays under the 65,535-parameter limit).
      const rows = w4Rows().map(([id, name, score, created, payload]) => ({ id, name, score, created, payload }))
      return async () => {
        await sql.begin(async (tx) => {
          for (let at = 0; at < rows.length; at += 10_000) await tx`INSERT INTO ${tx(W.W4_TABLE)} ${tx(rows.slice(at, at + 10_000))}`
        })
      }
    },
    W5: (sql) => {
      const sets = w5Sets()
      return async () => sumIds((await sql.begin((tx) => sets.map((v) => tx.unsafe(W.W5_SQL, v)))).map((r) => r[0]))
    },
    q: (sql, text) => sql.unsafe(text),
    close: (sql) => sql.close(),
  },
}
// ferropg's second W5 entry: the same batch through pipeline() instead of executeMany.
drivers['ferropg pipeline()'] = {
  open: drivers.ferropg.open,
  W5: (c) => {
    const sets = w5Sets()
    return async () => {
      const ps = await c.pipeline((p) => sets.map((v) => p.query(W.W5_SQL, v)))
      return (await Promise.all(ps)).reduce((s, x) => s + x.rows[0].id, 0)
    }
  },
  q: drivers.ferropg.q,
  close: drivers.ferropg.close,
}
// The same W1 on a single Client (Client.connect with default settings), shown beside the Pool.
drivers['ferropg Client'] = {
  async open() {
    const { Client } = await import('../index.mjs')
    return Client.connect(ferroConfig())
  },
  W1: drivers.ferropg.W1.fn,
  q: drivers.ferropg.q,
  close: drivers.ferropg.close,
}

const WORKLOADS = ['W1', 'W2', 'W3', 'W4', 'W5', 'W6']
if (process.argv[2] === '--list') {
  const out = {}
  for (const [name, d] of Object.entries(drivers)) out[name] = WORKLOADS.filter((w) => d[w])
  process.stdout.write(JSON.stringify(out))
  process.exit(0)
}

const [driverName, w] = process.argv.slice(2)
const d = drivers[driverName]
const entry = typeof d[w] === 'function' ? { fn: d[w], opts: {} } : d[w]
const handle = await d.open(w === 'W2' ? { pool: W.W2_POOL } : entry.opts)
if (w === 'W4' || w === 'W5') {
  const [table, create] = w === 'W4' ? [W.W4_TABLE, W.W4_CREATE] : [W.W5_TABLE, W.W5_CREATE]
  await d.q(handle, `DROP TABLE IF EXISTS ${table}`)
  await d.q(handle, create)
}
const run = await entry.fn(handle)
// The set-up's garbage (W3's warm-up result: 200,000 rows) is collected before `base` is read,
// so the RSS figure is what the workload itself adds, not whether a collection happened to run
// before it. The suite starts Node with --expose-gc; Bun has Bun.gc.
if (typeof Bun !== 'undefined') Bun.gc(true)
else globalThis.gc?.()
// process.memoryUsage() also gathers V8's heap statistics (~0.5 ms a call, seen as 10% of a W4
// run's CPU profile when sampled every 5 ms); .rss() reads RSS alone.
const rss = typeof process.memoryUsage.rss === 'function' ? () => process.memoryUsage.rss() : () => process.memoryUsage().rss
const base = rss()
let peak = base
const timer = setInterval(() => (peak = Math.max(peak, rss())), 5)
const server = serverCpu(conn.port)
const server0 = server()
const cpu0 = process.cpuUsage()
const t0 = performance.now()
let check = await run()
const ms = performance.now() - t0
const cpu = process.cpuUsage(cpu0)
const server1 = server()
clearInterval(timer)
peak = Math.max(peak, rss())
if (w === 'W4') check = Number((await d.q(handle, W.W4_CHECK_SQL))[0].c)
if (w === 'W5') {
  const [{ c }] = await d.q(handle, `SELECT count(*)::int4 AS c FROM ${W.W5_TABLE}`)
  if (Number(c) !== W.W5_N) check = -1
}
await d.close(handle)
// cpuMs: user + system CPU time of this whole process over the timed part (every thread).
// peakMiB: the process's highest RSS over its life (VmHWM), set-up included: what the machine
// must have for it, whatever the collector kept from the set-up.
const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
const serverCpuMs = server0 === null ? null : server1 - server0
process.stdout.write(JSON.stringify({ ms, cpuMs: (cpu.user + cpu.system) / 1000, serverCpuMs, rssMiB: (peak - base) / 2 ** 20, peakMiB: hwm ? Number(hwm[1]) / 1024 : null, check }) + '\n')
process.exit(0)
