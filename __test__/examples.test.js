'use strict'
// Each program in examples/ run against the real PostgreSQL, each in a database of its own:
// the HTTP service and the LISTEN worker as child processes (they are stopped with SIGTERM, as
// in production), the bulk loader as a child process on a generated CSV file, and the Kysely
// app compiled from TypeScript and imported. Every wait is bounded.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Pool } = require('..')
const { url, unique } = require('./helpers')

const root = path.join(__dirname, '..')
const admin = new Pool({ connectionString: url, max: 2 })
test.after(() => admin.close())

/** A fresh database; resolves with its URL. */
async function database(name) {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
  await admin.query(`CREATE DATABASE ${name}`)
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.href
}

function within(promise, ms, what) {
  let timer
  const limit = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms) })
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer))
}

/** Runs `node examples/<file> ...args`; `output(re)` waits for a stdout match, `exited` for the exit. */
function run(file, args, env) {
  const child = spawn(process.execPath, [path.join(root, 'examples', file), ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const waiters = new Set()
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stdout, stderr })))
  child.stdout.on('data', (d) => { stdout += d; for (const w of waiters) w() })
  child.stderr.on('data', (d) => { stderr += d })
  const output = (re, ms = 15_000) => within(new Promise((resolve, reject) => {
    const check = () => { const m = re.exec(stdout); if (m) { waiters.delete(check); resolve(m) } }
    waiters.add(check)
    check()
    exited.then(() => reject(new Error(`${file} exited before printing ${re}: ${stderr}`)))
  }), ms, `${file} printing ${re}`)
  test.after(() => child.exitCode === null && child.kill('SIGKILL'))
  return { child, output, exited: (ms = 15_000) => within(exited, ms, `${file} exiting`), log: () => stdout + stderr }
}

test('examples/http-service.js: accounts, a transfer in a transaction, a refused overdraft, graceful shutdown', async () => {
  const db = await database(unique('ex_http'))
  const service = run('http-service.js', [], { DATABASE_URL: db, PORT: '0' })
  const [, base] = await service.output(/listening on (http:\S+)/)
  const call = async (method, p, body) => {
    const res = await within(fetch(base + p, { method, body: body && JSON.stringify(body), headers: { 'content-type': 'application/json' } }), 10_000, `${method} ${p}`)
    return [res.status, await res.json()]
  }
  const [s1, ada] = await call('POST', '/accounts', { owner: 'ada', balance: '100.00' })
  const [s2, bob] = await call('POST', '/accounts', { owner: 'bob', balance: '5.00' })
  assert.deepEqual([s1, s2], [201, 201])
  assert.match(ada.id, /^\d+$/)
  const [s3, moved] = await call('POST', '/transfers', { from: ada.id, to: bob.id, amount: '30.50' })
  assert.equal(s3, 200)
  assert.deepEqual([moved.from.balance, moved.to.balance], ['69.50', '35.50'])
  // An overdraft fails the CHECK constraint: 409, and the transaction leaves both rows as they were.
  assert.deepEqual(await call('POST', '/transfers', { from: bob.id, to: ada.id, amount: '1000.00' }), [409, { error: 'insufficient funds' }])
  assert.deepEqual(await call('GET', `/accounts/${bob.id}`), [200, { id: bob.id, owner: 'bob', balance: '35.50' }])
  assert.deepEqual(await call('POST', '/transfers', { from: ada.id, to: '999999', amount: '1.00' }), [404, { error: 'no such account' }])
  assert.deepEqual(await call('POST', '/transfers', { from: ada.id, to: bob.id, amount: '1e3' }), [400, { error: 'amount must be a decimal string like "12.50"' }])
  const check = new Pool({ connectionString: db, max: 1 })
  try {
    const { rows } = await check.query('SELECT sum(balance)::text AS total, count(*)::int AS n FROM accounts')
    assert.deepEqual(rows[0], { total: '105.00', n: 2 })
    // Graceful shutdown: exit code 0 after closing the pool, whose sessions are gone from the server.
    service.child.kill('SIGTERM')
    const { code, stdout } = await service.exited()
    assert.equal(code, 0, service.log())
    assert.match(stdout, /closed/)
    const left = await check.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'http-service-example'")
    assert.equal(left.rows[0].n, 0)
  } finally {
    await check.close()
  }
})

test('examples/bulk-load.js: a CSV file streamed with copyFrom, with progress; a bad row loads nothing', async () => {
  const db = await database(unique('ex_bulk'))
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-bulk-'))
  try {
    const csv = path.join(dir, 'readings.csv')
    const lines = ['station,at,reading']
    for (let i = 0; i < 25_000; i++) lines.push(`${i % 2 ? '"north, 2"' : 'south'},2024-05-01T00:00:${String(i % 60).padStart(2, '0')}Z,${i % 7 === 0 ? '' : i / 4}`)
    fs.writeFileSync(csv, lines.join('\n') + '\n')
    const loader = run('bulk-load.js', [csv, 'readings'], { DATABASE_URL: db })
    const { code, stdout, stderr } = await loader.exited(60_000)
    assert.equal(code, 0, loader.log())
    assert.match(stdout, /done: 25000 rows into readings/)
    assert.match(stderr, /loaded 10000 rows .*loaded 20000 rows .*loaded 25000 rows/s)
    const check = new Pool({ connectionString: db, max: 1 })
    try {
      const { rows } = await check.query("SELECT count(*)::int AS n, count(reading)::int AS readings, count(*) FILTER (WHERE station = 'north, 2')::int AS north FROM readings")
      assert.deepEqual(rows[0], { n: 25_000, readings: 25_000 - Math.ceil(25_000 / 7), north: 12_500 })
      // Line 4 has a reading that is not a number: the loader fails naming it, and adds nothing.
      const bad = path.join(dir, 'bad.csv')
      fs.writeFileSync(bad, 'station,at,reading\ns,2024-05-01T00:00:00Z,1\ns,2024-05-01T00:00:00Z,2\ns,2024-05-01T00:00:00Z,lots\n')
      const failing = run('bulk-load.js', [bad, 'readings'], { DATABASE_URL: db })
      const result = await failing.exited(30_000)
      assert.equal(result.code, 1, failing.log())
      assert.match(result.stderr, /failed: .*bad\.csv line 4: /)
      assert.equal((await check.query('SELECT count(*)::int AS n FROM readings')).rows[0].n, 25_000)
    } finally {
      await check.close()
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('examples/listen-worker.js: a job queued before start and one notified while running are both done', async () => {
  const db = await database(unique('ex_listen'))
  const check = new Pool({ connectionString: db, max: 1 })
  try {
    await check.query('CREATE TABLE jobs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, task text NOT NULL, result text, done_at timestamptz)')
    const early = (await check.query("INSERT INTO jobs (task) VALUES ('queued before start') RETURNING id")).rows[0].id
    const worker = run('listen-worker.js', [], { DATABASE_URL: db })
    await worker.output(/listening on channel jobs/)
    await worker.output(new RegExp(`done ${early}\\b`))
    const [late] = await check.transaction(async (tx) => {
      const { rows } = await tx.query("INSERT INTO jobs (task) VALUES ('sent while running') RETURNING id")
      await tx.query("SELECT pg_notify('jobs', $1)", [String(rows[0].id)]) // delivered at COMMIT
      return [rows[0].id]
    })
    await worker.output(new RegExp(`done ${late}\\b`))
    const { rows } = await check.query('SELECT id, result FROM jobs WHERE done_at IS NOT NULL ORDER BY id')
    assert.deepEqual(rows, [{ id: early, result: 'QUEUED BEFORE START' }, { id: late, result: 'SENT WHILE RUNNING' }])
    worker.child.kill('SIGTERM')
    const { code, stdout } = await worker.exited()
    assert.equal(code, 0, worker.log())
    assert.match(stdout, /stopped/)
  } finally {
    await check.close()
  }
})

test('examples/kysely-app.mts: typed queries through ferropg/kysely, with exact types', async () => {
  const db = await database(unique('ex_kysely'))
  const ts = require('typescript')
  const source = fs.readFileSync(path.join(root, 'examples', 'kysely-app.mts'), 'utf8')
  const { outputText } = ts.transpileModule(source, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } })
  // Emitted inside the repository (.tmp is ignored by git) so that `ferropg/kysely` resolves to this package.
  const out = path.join(root, '.tmp', `kysely-app-${process.pid}.mjs`)
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(out, outputText)
  try {
    const { main } = await import(require('node:url').pathToFileURL(out).href)
    const first = await within(main(db), 30_000, 'kysely-app main()')
    assert.deepEqual(first.totals, [{ name: 'Ursula', books: 2n, revenue: '37.40' }])
    assert.deepEqual(first.recent, ['Collected Stories'])
    // Run again on the same database: the schema is kept, the author upserted, the books added.
    const second = await within(main(db), 30_000, 'kysely-app main(), again')
    assert.deepEqual(second.totals, [{ name: 'Ursula', books: 4n, revenue: '74.80' }])
    assert.deepEqual(second.recent, ['Collected Stories', 'Collected Stories'])
  } finally {
    fs.rmSync(out, { force: true })
  }
})
