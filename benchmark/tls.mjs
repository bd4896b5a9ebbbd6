#!/usr/bin/env node
// Connection setup and TLS (`npm run bench` runs it after the suite; alone: `node
// benchmark/tls.mjs`): a PostgreSQL started here with TLS on and a certificate for localhost
// from a CA made for the run, every TLS connection checked as verify-full.
//   C plain     : C_N connections (connect, SELECT 1, close) over TCP without TLS, trust auth
//   C TLS       : the same with TLS, trust auth
//   C TLS+SCRAM : the same with TLS and SCRAM-SHA-256
//   W1 TLS      : W1 (benchmark/workloads.mjs) over TLS with SCRAM, through each driver's pool
//   W3 TLS      : W3 over TLS
// ferropg, pg and postgres.js, each run in a fresh process, interleaved, REPS (default 5)
// repetitions, medians; every run's checksum verified. Writes benchmark/results/tls.md.
import { spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus } from 'node:os'
import { join, dirname } from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import * as W from './workloads.mjs'
import { startCluster } from '../scripts/cluster.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const root = join(here, '..')
const require = createRequire(import.meta.url)
const { makeCertificates } = require('../__test__/tls-fixtures.js')
const REPS = Number(process.env.REPS || 5)
const DRIVERS = ['ferropg', 'pg', 'postgresjs']
const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1]

const certs = makeCertificates()
const cluster = await startCluster({
  quiet: true,
  authHost: 'scram-sha-256',
  files: { 'server.crt': certs.read('server.crt'), 'server.key': certs.read('server.key') },
  hba: ['local all all trust', 'host all trustuser 127.0.0.1/32 trust', 'hostssl all postgres 127.0.0.1/32 scram-sha-256', ''].join('\n'),
  conf: { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key' },
})
let md
try {
  const { Client } = await import('../index.mjs')
  const admin = await Client.connect({ host: cluster.sock, port: cluster.port, user: 'postgres', database: 'postgres' })
  await admin.query('CREATE ROLE trustuser LOGIN')
  const { rows: [server] } = await admin.query("SELECT version() AS v")
  await admin.close()

  const base = { host: 'localhost', port: cluster.port, database: 'postgres' }
  const tls = { ca: certs.file('ca.crt') }
  const cases = [
    { name: 'C plain', w: 'C', conn: { ...base, user: 'trustuser', plain: true }, ops: W.C_N, unit: 'connection' },
    { name: 'C TLS', w: 'C', conn: { ...base, user: 'trustuser', tls }, ops: W.C_N, unit: 'connection' },
    { name: 'C TLS+SCRAM', w: 'C', conn: { ...base, user: 'postgres', password: cluster.password, tls }, ops: W.C_N, unit: 'connection' },
    { name: 'W1 TLS', w: 'W1', conn: { ...base, user: 'postgres', password: cluster.password, tls }, ops: W.W1_N, unit: 'query' },
    { name: 'W3 TLS', w: 'W3', conn: { ...base, user: 'postgres', password: cluster.password, tls }, ops: W.W3_ROWS, unit: 'row' },
  ]
  const expected = (w) => (w === 'C' ? W.C_N : W.expected(w))
  const results = {}
  const errors = []
  for (let rep = 1; rep <= REPS; rep++) {
    for (const c of cases) {
      for (const d of DRIVERS) {
        const r = spawnSync(process.execPath, [join(here, 'child.mjs'), d, c.w], {
          env: { ...process.env, BENCH_CONN: JSON.stringify(c.conn) }, cwd: root, encoding: 'utf8', timeout: 5 * 60_000,
        })
        const line = (r.stdout || '').trim().split('\n').pop()
        const out = r.status === 0 && line?.startsWith('{') ? JSON.parse(line) : null
        const err = !out ? `exit ${r.status}: ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}` : out.check !== expected(c.w) ? `wrong checksum ${out.check}` : null
        process.stderr.write(`rep ${rep}/${REPS} ${c.name} ${d}: ${err ? 'FAILED ' + err : out.ms.toFixed(1) + ' ms'}\n`)
        if (err) errors.push(`${c.name} ${d} (rep ${rep}): ${err}`)
        else ((results[c.name] ??= {})[d] ??= []).push(out)
      }
    }
  }
  md = `## Connection setup and TLS\n\n${new Date().toISOString().slice(0, 10)}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}; Node ${process.version}.\n` +
    `${server.v.split(',')[0]} over TCP on loopback, TLS certificate checked as verify-full by every driver (rustls for ferropg, Node's OpenSSL for pg and postgres.js).\n` +
    `${REPS} repetitions, fresh process per run, medians. C = ${W.C_N} connections one after another, each: connect, \`SELECT 1\`, close.\n` +
    `"vs pg" = pg time / driver time; "vs best peer" = the faster of pg and postgres.js / driver. CPU = user + system time of the client process per operation.\n`
  for (const c of cases) {
    const by = results[c.name]
    if (!by) continue
    const med = Object.fromEntries(Object.entries(by).map(([n, runs]) => [n, median(runs.map((r) => r.ms))]))
    const best = Math.min(...['pg', 'postgresjs'].filter((n) => med[n]).map((n) => med[n]))
    md += `\n### ${c.name}\n\n| driver | median ms | per ${c.unit} | vs pg | vs best peer | CPU µs per ${c.unit} |\n|---|---|---|---|---|---|\n`
    for (const [n, m] of Object.entries(med).sort((a, b) => a[1] - b[1])) {
      const cpu = (median(by[n].map((r) => r.cpuMs)) * 1000) / c.ops
      const per = (m * 1000) / c.ops
      md += `| ${n} | ${m.toFixed(1)} | ${per < 10 ? per.toFixed(2) : per.toFixed(0)} µs | ${med.pg ? (med.pg / m).toFixed(2) + 'x' : ''} | ${(best / m).toFixed(2)}x | ${cpu < 10 ? cpu.toFixed(2) : cpu.toFixed(0)} |\n`
    }
  }
  if (errors.length) md += `\nFailed runs (excluded): ${errors.join('; ')}.\n`
} finally {
  await cluster.stop()
  certs.remove()
}
console.log(md)
mkdirSync(join(here, 'results'), { recursive: true })
writeFileSync(join(here, 'results', 'tls.md'), md)
