#!/usr/bin/env node
// Runs a command against PostgreSQL: the one in DATABASE_URL when it is set, else a throwaway
// cluster started here and removed afterwards, on every exit path.
//
//   node scripts/with-pg.mjs <command> [args...]
//
// The cluster comes from scripts/cluster.mjs (which binaries, and how root runs them).
// The child gets DATABASE_URL (TCP on 127.0.0.1, password auth with md5/SCRAM) and
// FERROPG_TEST_SOCKET_DIR (the cluster's unix socket directory).
import { spawn } from 'node:child_process'
import { startCluster } from './cluster.mjs'

const [cmd, ...args] = process.argv.slice(2)
if (!cmd) {
  console.error('usage: node scripts/with-pg.mjs <command> [args...]')
  process.exit(2)
}

function run(env) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: 'inherit', env })
    const forward = (sig) => child.kill(sig)
    process.on('SIGINT', forward)
    process.on('SIGTERM', forward)
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)))
    child.on('error', (e) => {
      console.error(`with-pg: cannot run ${cmd}: ${e.message}`)
      resolve(127)
    })
  })
}

let code = 1
if (process.env.DATABASE_URL) {
  code = await run(process.env)
} else {
  let cluster
  try {
    cluster = await startCluster()
    code = await run({
      ...process.env,
      DATABASE_URL: cluster.url,
      FERROPG_TEST_SOCKET_DIR: cluster.sock,
      FERROPG_TEST_PG_BIN: cluster.binDir,
    })
  } catch (e) {
    console.error(`with-pg: ${e.message}`)
  } finally {
    await cluster?.stop()
  }
}
process.exit(code)
