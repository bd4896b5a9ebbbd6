#!/usr/bin/env node
// The floor of a runtime (`npm run bench:floor`): the least client work any driver could do per
// query of W1 and W2, measured under Node and under Bun, beside ferropg, pg and Bun's SQL client
// in the same run. The floor client speaks the protocol by hand over node:net: it prepares the
// workload's statement once, then per query writes one pre-built Bind/Execute/Sync (no parameter
// encoding), scans the answer only for its ReadyForQuery (no row decoding) and resolves a
// promise. W2 runs 64 callers over 8 sockets, each caller's query on the next socket in turn,
// pipelined, the requests of one turn in one write (what a pool that shares connections does
// at best). What is left between a driver
// and its runtime's floor is the driver's own work; what is between the two floors is the
// runtimes'.
//   node scripts/with-pg.mjs node benchmark/floor.mjs        (REPS: repetitions, default 5)
//   <node|bun> benchmark/floor.mjs --child <W1|W2>           (one run; prints { ms, cpuMs })
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import net from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as W from './workloads.mjs'

const SHAPE = {
  W1: { sql: W.W1_SQL, params: ['1'], n: W.W1_N, sockets: 1, callers: 1 },
  W2: { sql: W.W2_SQL, params: ['1', 't1'], n: W.W2_N, sockets: W.W2_POOL, callers: W.W2_CALLERS },
}

function conn() {
  const url = new URL(process.env.DATABASE_URL)
  return {
    path: `${process.env.FERROPG_TEST_SOCKET_DIR}/.s.PGSQL.${url.port || 5432}`,
    user: decodeURIComponent(url.username),
    database: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
  }
}

// ---- frontend messages ----------------------------------------------------------------------
const cstr = (s) => Buffer.concat([Buffer.from(s, 'utf8'), Buffer.from([0])])
function msg(type, body) {
  const head = Buffer.alloc(type ? 5 : 4)
  if (type) head[0] = type.charCodeAt(0)
  head.writeInt32BE(body.length + 4, type ? 1 : 0)
  return Buffer.concat([head, body])
}
const i16 = (v) => { const b = Buffer.alloc(2); b.writeInt16BE(v); return b }
const i32 = (v) => { const b = Buffer.alloc(4); b.writeInt32BE(v); return b }
const startup = (c) => msg('', Buffer.concat([i32(196608), cstr('user'), cstr(c.user), cstr('database'), cstr(c.database), Buffer.from([0])]))
const parse = (sql) => msg('P', Buffer.concat([cstr('f'), cstr(sql), i16(0)]))
const sync = msg('S', Buffer.alloc(0))
function bindExecuteSync(params) {
  const values = params.flatMap((p) => [i32(Buffer.byteLength(p)), Buffer.from(p)])
  // Text parameters, binary results (as the drivers measured ask for).
  const bind = msg('B', Buffer.concat([cstr(''), cstr('f'), i16(0), i16(params.length), ...values, i16(1), i16(1)]))
  return Buffer.concat([bind, msg('E', Buffer.concat([cstr(''), i32(0)])), sync])
}

/** One socket: writes requests, resolves one waiter per ReadyForQuery, in order. */
function open(c) {
  return new Promise((resolve, reject) => {
    const s = net.connect(c.path)
    const waiters = []
    let pending = Buffer.alloc(0)
    s.setNoDelay?.(true)
    s.on('error', reject)
    s.on('data', (chunk) => {
      let b = pending.length ? Buffer.concat([pending, chunk]) : chunk
      let at = 0
      while (at + 5 <= b.length) {
        const len = b.readInt32BE(at + 1)
        if (at + 1 + len > b.length) break
        if (b[at] === 0x45) throw new Error(`server error: ${b.subarray(at + 5, at + 1 + len).toString().replace(/\0/g, ' ')}`)
        if (b[at] === 0x5a) waiters.shift()()
        at += 1 + len
      }
      pending = at < b.length ? b.subarray(at) : Buffer.alloc(0)
    })
    // Requests made in the same turn leave in one write (as ferropg and Bun's client do).
    let out = []
    const flush = () => {
      s.write(out.length === 1 ? out[0] : Buffer.concat(out))
      out = []
    }
    const send = (bytes) => new Promise((r) => {
      waiters.push(r)
      if (out.push(bytes) === 1) queueMicrotask(flush)
    })
    waiters.push(() => resolve({ send, close: () => s.end() }))
    s.write(startup(c))
  })
}

async function child(w) {
  const shape = SHAPE[w]
  const c = conn()
  const sockets = await Promise.all(Array.from({ length: shape.sockets }, () => open(c)))
  await Promise.all(sockets.map((s) => s.send(Buffer.concat([parse(shape.sql), sync]))))
  const request = bindExecuteSync(shape.params)
  let turn = 0
  const run = async (count) => {
    let next = 0
    await Promise.all(Array.from({ length: shape.callers }, async () => {
      while (next++ < count) await sockets[turn++ % sockets.length].send(request)
    }))
  }
  await run(2000) // warm-up
  // Sampled as benchmark/child.mjs samples RSS for every driver (its cost is then in both).
  const timer = setInterval(() => process.memoryUsage.rss(), 5)
  const cpu = process.cpuUsage()
  const t = performance.now()
  await run(Number(process.env.FLOOR_N || shape.n))
  const ms = performance.now() - t
  const used = process.cpuUsage(cpu)
  clearInterval(timer)
  for (const s of sockets) s.close()
  console.log(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000 }))
}

if (process.argv[2] === '--child') {
  await child(process.argv[3])
  process.exit(0)
}

const here = dirname(fileURLToPath(import.meta.url))
const bun = join(here, 'peers', 'node_modules', '.bin', 'bun')
const REPS = Number(process.env.REPS || 5)
const url = new URL(process.env.DATABASE_URL)
const BENCH_CONN = JSON.stringify({
  host: process.env.FERROPG_TEST_SOCKET_DIR, port: Number(url.port || 5432),
  user: decodeURIComponent(url.username), password: decodeURIComponent(url.password), database: 'postgres',
})
const runs = [
  ['Node floor', (w) => [process.execPath, fileURLToPath(import.meta.url), '--child', w]],
  ['ferropg (Node)', (w) => [process.execPath, join(here, 'child.mjs'), 'ferropg', w]],
  ['pg (Node)', (w) => [process.execPath, join(here, 'child.mjs'), 'pg', w]],
  ...(existsSync(bun)
    ? [['Bun floor', (w) => [bun, fileURLToPath(import.meta.url), '--child', w]], ['Bun SQL', (w) => [bun, join(here, 'child.mjs'), 'bun', w]]]
    : []),
]
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]
let md = '| workload | client | median ms | CPU µs per query |\n|---|---|---|---|\n'
for (const w of ['W1', 'W2']) {
  const got = Object.fromEntries(runs.map(([name]) => [name, []]))
  for (let rep = 0; rep < REPS; rep++) {
    for (const [name, argv] of runs) {
      const [cmd, ...args] = argv(w)
      const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, BENCH_CONN }, timeout: 300_000 })
      const line = (r.stdout || '').trim().split('\n').pop()
      if (r.status !== 0 || !line?.startsWith('{')) throw new Error(`${name} ${w}: exit ${r.status}: ${(r.stderr || '').slice(-500)}`)
      got[name].push(JSON.parse(line))
      process.stderr.write(`rep ${rep + 1}/${REPS} ${w} ${name}: ${got[name].at(-1).ms.toFixed(1)} ms\n`)
    }
  }
  for (const [name, rs] of Object.entries(got)) {
    const n = SHAPE[w].n
    md += `| ${w} | ${name} | ${median(rs.map((r) => r.ms)).toFixed(1)} | ${(median(rs.map((r) => r.cpuMs)) * 1000 / n).toFixed(1)} |\n`
  }
}
console.log(md)
