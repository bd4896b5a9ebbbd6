#!/usr/bin/env node
// Instructions per query (`npm run bench:instructions`): W1 (one caller, a pool of one) and W2
// (64 callers, a pool of 8) for ferropg (and W1 on a ferropg Client), pg and postgres.js, each through its pool with default
// settings, counted by `valgrind --tool=callgrind` over the whole client process (every thread,
// user space only: the kernel's share of a syscall is not counted). Each driver x workload runs
// at two sizes after the same warm-up; the difference divided by the extra queries is the
// marginal cost of one query, start-up and warm-up cancelling out. Counts repeat within ~2% for
// the same build whatever else the machine does, which wall time on this machine does not.
//   node scripts/with-pg.mjs node benchmark/instructions.mjs        (SMALL, LARGE: query counts)
//   node benchmark/instructions.mjs --child <driver> <W1|W2> <n>    (one process; used by the above)
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as W from './workloads.mjs'

const SQL = { W1: W.W1_SQL, W2: W.W2_SQL }
const PARAMS = { W1: (i) => [i], W2: (i) => [i, 't' + i] }
const POOL = { W1: 1, W2: W.W2_POOL }
const CALLERS = { W1: 1, W2: W.W2_CALLERS }

function conn() {
  const url = new URL(process.env.DATABASE_URL)
  return {
    host: process.env.FERROPG_TEST_SOCKET_DIR || decodeURIComponent(url.hostname),
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
  }
}

/** driver -> (workload) => { one(i) -> Promise, close() } */
const drivers = {
  async ferropg(w) {
    const { Pool } = await import('../index.mjs')
    const p = new Pool({ ...conn(), max: POOL[w] })
    return { one: (i) => p.query(SQL[w], PARAMS[w](i)), close: () => p.close() }
  },
  // W1 on a single Client (Client.connect), beside the Pool.
  async 'ferropg-client'(w) {
    const { Client } = await import('../index.mjs')
    const c = await Client.connect(conn())
    return { one: (i) => c.query(SQL[w], PARAMS[w](i)), close: () => c.close() }
  },
  async pg(w) {
    const { default: pg } = await import('pg')
    const p = new pg.Pool({ ...conn(), max: POOL[w] })
    return { one: (i) => p.query({ name: w, text: SQL[w], values: PARAMS[w](i) }), close: () => p.end() }
  },
  async postgresjs(w) {
    const { default: postgres } = await import('postgres')
    const c = conn()
    const sql = postgres({
      ...(c.host.startsWith('/') ? { path: `${c.host}/.s.PGSQL.${c.port}` } : { host: c.host, port: c.port }),
      user: c.user, password: c.password, database: c.database, max: POOL[w], onnotice: () => {},
    })
    return { one: (i) => sql.unsafe(SQL[w], PARAMS[w](i), { prepare: true }), close: () => sql.end() }
  },
}

async function child(driver, w, n) {
  const d = await drivers[driver](w)
  const run = async (count) => {
    let next = 0
    await Promise.all(Array.from({ length: CALLERS[w] }, async () => {
      while (next < count) await d.one(next++)
    }))
  }
  await run(500) // warm-up: connections open, statements prepared, hot paths compiled
  await run(n)
  await d.close()
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], Number(process.argv[5]))
  process.exit(0)
}

const SMALL = Number(process.env.SMALL || 1000)
const LARGE = Number(process.env.LARGE || 4000)
const dir = mkdtempSync(join(tmpdir(), 'ferropg-callgrind-'))
process.on('exit', () => rmSync(dir, { recursive: true, force: true }))
const self = fileURLToPath(import.meta.url)

function count(driver, w, n) {
  const out = join(dir, `${driver}-${w}-${n}.out`)
  const r = spawnSync('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, process.execPath, self, '--child', driver, w, String(n)],
    { encoding: 'utf8', maxBuffer: 1 << 26, timeout: 20 * 60_000 })
  if (r.status !== 0) throw new Error(`${driver} ${w} ${n}: exit ${r.status}: ${(r.stderr || '').split('\n').slice(-5).join(' | ')}`)
  const m = /^(?:summary|totals):\s+(\d+)/m.exec(readFileSync(out, 'utf8'))
  if (!m) throw new Error(`${driver} ${w} ${n}: no totals in the callgrind output`)
  return Number(m[1])
}

let md = `| workload | driver | instructions per query | vs pg |\n|---|---|---|---|\n`
for (const w of (process.env.ONLY || 'W1,W2').split(',')) {
  const per = {}
  for (const driver of (process.env.DRIVERS || 'ferropg,ferropg-client,pg,postgresjs').split(',')) {
    if (driver === 'ferropg-client' && w !== 'W1') continue
    per[driver] = (count(driver, w, LARGE) - count(driver, w, SMALL)) / (LARGE - SMALL)
    process.stderr.write(`${w} ${driver}: ${Math.round(per[driver])} instructions per query\n`)
  }
  for (const [driver, v] of Object.entries(per)) {
    md += `| ${w} | ${driver} | ${(v / 1000).toFixed(1)}k | ${per.pg ? (per.pg / v).toFixed(2) + 'x' : ''} |\n`
  }
}
console.log(md)
