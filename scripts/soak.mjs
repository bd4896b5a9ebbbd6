#!/usr/bin/env node
// The soak (`npm run soak`; issue 17): 64 callers on a pool of 8 for a set time, mixing
// queries, transactions, cursors, COPY, pipeline() and LISTEN/NOTIFY, while a pooled backend is
// terminated every few seconds. It checks, and exits non-zero when one fails:
//   - no unexpected error: the only error allowed is ERR_CONNECTION_CLOSED within 2 s of a
//     kill (a statement that may have run when its connection died), and every result is right;
//   - RSS drift after warm-up at most 1 MiB per minute (slope of the per-window minimum; judged
//     on runs with at least two minutes after warm-up);
//   - the server never sees more than max + 1 connections of the pool (its LISTEN connection
//     is the + 1), and pool.stats().size never exceeds max;
//   - open file descriptors flat after warm-up.
//   SOAK_SECONDS=600 (default; 1800 for the long run) node scripts/with-pg.mjs node scripts/soak.mjs
import { readdirSync } from 'node:fs'
import { Pool, Client } from '../index.mjs'

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600)
const CALLERS = 64
const MAX = 8
const KILL_EVERY_MS = 5000
const WINDOW_MS = 5000
const url = process.env.DATABASE_URL
if (!url) throw new Error('DATABASE_URL is not set: run through scripts/with-pg.mjs (npm run soak)')

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const rssMiB = () => process.memoryUsage.rss() / 2 ** 20
const fds = () => readdirSync('/proc/self/fd').length

const pool = new Pool({ connectionString: url, max: MAX, applicationName: 'soak' })
const admin = await Client.connect(url)
await admin.simpleQuery('DROP TABLE IF EXISTS soak_t, soak_copy; CREATE TABLE soak_t (id bigserial PRIMARY KEY, v int4 NOT NULL); CREATE TABLE soak_copy (batch int4 NOT NULL, i int4 NOT NULL, s text NOT NULL)')

const kills = []
const counts = {}
const unexpected = []
let notified = 0
let stop = false
let batch = 0

function expectedLoss(e) {
  if (e?.code !== 'ERR_CONNECTION_CLOSED') return false
  const now = Date.now()
  return kills.some((t) => now - t >= 0 && now - t <= 2000)
}

function check(cond, what) {
  if (!cond) throw Object.assign(new Error(`wrong result: ${what}`), { code: 'WRONG_RESULT' })
}

const ops = [
  [50, 'query', async (i) => {
    const r = await pool.query('SELECT $1::int4 + 1 AS n', [i])
    check(r.rows[0].n === i + 1, 'query')
  }],
  [15, 'transaction', async (i) => {
    const n = await pool.transaction(async (tx) => {
      const { rows } = await tx.query('INSERT INTO soak_t (v) VALUES ($1) RETURNING id', [i])
      const again = await tx.query('SELECT v FROM soak_t WHERE id = $1', [rows[0].id])
      return again.rows[0].v
    })
    check(n === i, 'transaction')
  }],
  [10, 'cursor', async () => {
    let n = 0
    for await (const row of pool.cursor('SELECT g FROM generate_series(1, 500) g', [], { batchSize: 100 })) n += row.g
    check(n === 125250, 'cursor')
  }],
  [10, 'pipeline', async (i) => {
    const rs = await pool.pipeline((p) => Promise.all([1, 2, 3, 4, 5].map((k) => p.query('SELECT $1::int4 * $2::int4 AS n', [i, k]))))
    check(rs.every((r, k) => r.rows[0].n === i * (k + 1)), 'pipeline')
  }],
  [10, 'copy', async () => {
    const b = ++batch
    const rows = Array.from({ length: 100 }, (_, k) => [b, k, `row ${k}`])
    const n = await pool.copyFrom('soak_copy', rows)
    check(n === 100, 'copyFrom')
    await pool.query('DELETE FROM soak_copy WHERE batch = $1', [b])
  }],
  [5, 'notify', async (i) => {
    await pool.notify('soak', String(i))
  }],
]
const total = ops.reduce((s, [w]) => s + w, 0)
function pick() {
  let r = Math.random() * total
  for (const op of ops) {
    if ((r -= op[0]) < 0) return op
  }
  return ops[0]
}

async function caller(c) {
  let i = c * 1_000_000
  while (!stop) {
    const [, name, run] = pick()
    i++
    try {
      await run(i % 1_000_000)
      counts[name] = (counts[name] ?? 0) + 1
    } catch (e) {
      if (expectedLoss(e)) {
        counts.lost = (counts.lost ?? 0) + 1
      } else {
        unexpected.push(`${name}: ${e?.code ?? ''} ${e?.message ?? e}`)
        await sleep(10)
      }
    }
  }
}

async function killer() {
  while (!stop) {
    await sleep(KILL_EVERY_MS)
    if (stop) break
    kills.push(Date.now())
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'soak' AND state <> 'idle' AND pid <> pg_backend_pid() ORDER BY random() LIMIT 1")
    counts.kills = (counts.kills ?? 0) + 1
  }
}

const samples = [] // { t, rss, fds, size, server }
async function sampler(started) {
  while (!stop) {
    const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'soak'")
    samples.push({ t: (Date.now() - started) / 1000, rss: rssMiB(), fds: fds(), size: pool.stats().size, server: rows[0].n })
    await sleep(1000)
  }
}

const sub = await pool.listen('soak', () => notified++)
const started = Date.now()
const running = [...Array.from({ length: CALLERS }, (_, c) => caller(c)), killer(), sampler(started)]
await sleep(SECONDS * 1000)
stop = true
await Promise.all(running)
await sub.unlisten()
await pool.close()
await admin.simpleQuery('DROP TABLE IF EXISTS soak_t, soak_copy')
await admin.close()

// RSS drift: the slope (least squares) of each window's minimum after warm-up (a fifth of the
// run, at most 60 s), in MiB per minute; minima, because a sample may land before a GC.
const warm = Math.min(60, SECONDS / 5)
const windows = new Map()
for (const s of samples.filter((x) => x.t >= warm)) {
  const w = Math.floor((s.t * 1000) / WINDOW_MS)
  windows.set(w, Math.min(windows.get(w) ?? Infinity, s.rss))
}
const pts = [...windows].map(([w, rss]) => [(w * WINDOW_MS) / 60000, rss])
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length
const mx = mean(pts.map((p) => p[0]))
const my = mean(pts.map((p) => p[1]))
const slope = pts.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0) / (pts.reduce((a, [x]) => a + (x - mx) ** 2, 0) || 1)
const after = samples.filter((x) => x.t >= warm)
const fdSpread = Math.max(...after.map((s) => s.fds)) - Math.min(...after.map((s) => s.fds))
const maxServer = Math.max(...samples.map((s) => s.server))
const maxSize = Math.max(...samples.map((s) => s.size))

const result = {
  seconds: SECONDS,
  operations: counts,
  notificationsReceived: notified,
  unexpectedErrors: unexpected.length,
  rssMiB: { first: samples[0]?.rss.toFixed(1), last: samples.at(-1)?.rss.toFixed(1), slopeAfterWarmUpMiBPerMin: Number(slope.toFixed(3)) },
  fdsAfterWarmUp: { min: Math.min(...after.map((s) => s.fds)), max: Math.max(...after.map((s) => s.fds)) },
  maxPoolSize: maxSize,
  maxServerConnections: maxServer,
}
const failures = []
if (unexpected.length) failures.push(`unexpected errors (${unexpected.length}), first: ${unexpected.slice(0, 5).join(' | ')}`)
// The drift is judged over at least two minutes after warm-up: a shorter run (CI's 60 s) ends
// while V8's heap is still growing to its working size, which is not a leak.
const judged = SECONDS - warm >= 120
result.rssMiB.judged = judged
if (judged && slope > 1) failures.push(`RSS grows ${slope.toFixed(2)} MiB/min after warm-up`)
if (maxSize > MAX) failures.push(`pool size reached ${maxSize}`)
if (maxServer > MAX + 1) failures.push(`the server saw ${maxServer} connections of the pool`)
// Killed connections are replaced, so a few descriptors come and go; a leak grows with time.
if (fdSpread > 2 * MAX) failures.push(`file descriptors moved by ${fdSpread} after warm-up`)
if (!counts.query || !counts.transaction || !counts.cursor || !counts.pipeline || !counts.copy || !counts.notify) failures.push('an operation never completed')
console.log(JSON.stringify(result, null, 2))
if (failures.length) {
  console.error('soak FAILED:\n  ' + failures.join('\n  '))
  process.exit(1)
}
console.log('soak passed')
