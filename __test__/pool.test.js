'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Pool } = require('..')
const { url, connect, pool, unique, poolState } = require('./helpers')

async function backends(admin, app) {
  const r = await admin.query('SELECT count(*)::int4 AS n FROM pg_stat_activity WHERE application_name = $1', [app])
  return r.rows[0].n
}

test('the constructor does no I/O; errors come on first use', async () => {
  const p = new Pool({ host: '127.0.0.1', port: 1, user: 'x', connectTimeoutMillis: 1000 })
  assert.deepEqual(poolState(p), { size: 0, idle: 0, waiting: 0, max: 10 })
  await assert.rejects(p.query('SELECT 1'), { code: 'ERR_CONNECTION' })
  await p.close()
})

test('the pool never opens more than max connections', async () => {
  const app = unique('maxcheck')
  const p = pool({ max: 3, applicationName: app })
  const admin = await connect()
  try {
    let peak = 0
    const sample = setInterval(async () => {
      peak = Math.max(peak, await backends(admin, app).catch(() => 0))
    }, 20)
    await Promise.all(Array.from({ length: 30 }, (_, i) => p.query('SELECT pg_sleep(0.02), $1::int4 AS i', [i])))
    clearInterval(sample)
    const now = await backends(admin, app)
    assert.ok(now <= 3 && now > 0, `open backends: ${now}`)
    assert.ok(peak <= 3, `peak backends: ${peak}`)
    assert.equal(p.stats().max, 3)
    assert.ok(p.stats().size <= 3)
  } finally {
    await p.close()
    await admin.close()
  }
})

test('acquiring past acquireTimeoutMillis rejects with ERR_POOL_TIMEOUT', async () => {
  const p = pool({ max: 1, acquireTimeoutMillis: 100 })
  const held = await p.connect()
  try {
    const t0 = Date.now()
    await assert.rejects(p.connect(), { code: 'ERR_POOL_TIMEOUT' })
    await assert.rejects(p.query('SELECT 1'), { code: 'ERR_POOL_TIMEOUT' })
    assert.ok(Date.now() - t0 >= 190)
    assert.equal(p.stats().waiting, 0)
  } finally {
    held.release()
  }
  assert.equal((await p.query('SELECT 1 AS x')).rows[0].x, 1)
  await p.close()
})

test('connect/release, stats, and calls after release or close', async () => {
  const p = pool({ max: 2 })
  const c = await p.connect()
  assert.equal(typeof c.processId, 'number')
  assert.match(c.serverVersion, /^\d+/)
  assert.deepEqual(poolState(p), { size: 1, idle: 0, waiting: 0, max: 2 })
  const pid = c.processId
  c.release()
  assert.deepEqual(poolState(p), { size: 1, idle: 1, waiting: 0, max: 2 })
  await assert.rejects(c.query('SELECT 1'), { code: 'ERR_CLIENT_CLOSED' })
  assert.throws(() => c.release(), { code: 'ERR_CLIENT_RELEASED' })
  const again = await p.connect()
  assert.equal(again.processId, pid) // the same connection came back
  again.release(true) // discarded
  assert.equal(p.stats().size, 0)
  await p.close()
  await assert.rejects(p.query('SELECT 1'), { code: 'ERR_POOL_CLOSED' })
  await assert.rejects(p.connect(), { code: 'ERR_POOL_CLOSED' })
})

test('Symbol.asyncDispose closes pools and clients', async () => {
  // `await using` needs Node 22+; call the disposer it would call.
  const p = pool()
  assert.equal(typeof p[Symbol.asyncDispose], 'function')
  assert.equal((await p.query('SELECT 1 AS x')).rows[0].x, 1)
  await p[Symbol.asyncDispose]()
  assert.equal(p.closed, true)
  const c = await connect()
  await c[Symbol.asyncDispose]()
  assert.equal(c.closed, true)
  await assert.rejects(p.query('SELECT 1'), { code: 'ERR_POOL_CLOSED' })
})

test('an idle pooled connection killed by the server is replaced without crashing', async () => {
  const p = pool({ max: 1 })
  const admin = await connect()
  try {
    const c = await p.connect()
    const pid = c.processId
    c.release()
    const k = await admin.query('SELECT pg_terminate_backend($1) AS ok', [pid])
    assert.equal(k.rows[0].ok, true)
    await new Promise((r) => setTimeout(r, 100))
    const r = await p.query('SELECT pg_backend_pid() AS pid')
    assert.notEqual(r.rows[0].pid, pid)
    assert.equal(p.stats().size, 1)
  } finally {
    await p.close()
    await admin.close()
  }
})

test('idle connections are closed after idleTimeoutMillis', async () => {
  const app = unique('idle')
  const p = pool({ max: 2, idleTimeoutMillis: 100, applicationName: app })
  const admin = await connect()
  try {
    await Promise.all([p.query('SELECT pg_sleep(0.05)'), p.query('SELECT pg_sleep(0.05)')])
    assert.equal(p.stats().size, 2)
    await new Promise((r) => setTimeout(r, 600))
    assert.equal(p.stats().size, 0)
    for (let i = 0; i < 50 && (await backends(admin, app)) > 0; i++) await new Promise((r) => setTimeout(r, 20))
    assert.equal(await backends(admin, app), 0)
  } finally {
    await p.close()
    await admin.close()
  }
})

test('a shared connection that dies: statements that had not run go to a fresh connection; the next pool.query gets one too', async () => {
  const p = new Pool({ connectionString: url, max: 1 })
  const admin = await connect()
  try {
    const pid = (await p.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
    // Terminated before it answered: it runs once more, on another backend (which does not sleep).
    const slow = p.query(`SELECT pg_backend_pid() AS pid, pg_sleep(CASE WHEN pg_backend_pid() = ${pid} THEN 5 ELSE 0 END)`)
    await new Promise((r) => setTimeout(r, 50))
    const rider = p.query('SELECT 1 AS one')
    assert.equal(p.stats().waiting, 0)
    // Observed before the kill: the pool may see the connection die before admin's reply lands.
    const settled = Promise.allSettled([slow, rider])
    await admin.query('SELECT pg_terminate_backend($1)', [pid])
    const [a, b] = await settled
    assert.equal(a.status, 'fulfilled')
    assert.notEqual(a.value.rows[0].pid, pid)
    // The statement pipelined behind it was still being prepared (new to the connection), so
    // it certainly did not run either: retried too (docs/reliability.md).
    assert.equal(b.status, 'fulfilled')
    assert.equal(b.value.rows[0].one, 1)
    const after = await p.query('SELECT pg_backend_pid() AS pid')
    assert.notEqual(after.rows[0].pid, pid)
    assert.equal(p.stats().size, 1)
  } finally {
    await p.close()
    await admin.close()
  }
})

test('pool.query spreads concurrent calls over the pool', async () => {
  const p = pool({ max: 4 })
  try {
    const r = await Promise.all(Array.from({ length: 8 }, () => p.query('SELECT pg_backend_pid() AS pid, pg_sleep(0.05)')))
    assert.ok(new Set(r.map((x) => x.rows[0].pid)).size > 1)
  } finally {
    await p.close()
  }
})

test('a full pool pipelines plain pool.query statements onto busy connections, never transaction control', async () => {
  const p = new Pool({ connectionString: url, max: 1 })
  try {
    const slow = p.query('SELECT pg_sleep(0.3), pg_backend_pid() AS pid')
    await new Promise((r) => setTimeout(r, 50))
    // The connection is busy and the pool full: a SELECT rides it instead of queueing.
    const ride = p.query('SELECT pg_backend_pid() AS pid, $1::int4 AS x', [7])
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(p.stats().waiting, 0)
    const [a, b] = await Promise.all([slow, ride])
    assert.equal(a.rows[0].pid, b.rows[0].pid)
    assert.equal(b.rows[0].x, 7)

    // BEGIN must not share: it waits for a connection of its own, then the connection left
    // inside a transaction is discarded rather than reused.
    const slow2 = p.query('SELECT pg_sleep(0.3)')
    await new Promise((r) => setTimeout(r, 50))
    const begin = p.query('BEGIN')
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(p.stats().waiting, 1)
    await Promise.all([slow2, begin])
    const after = await p.query("SELECT count(*)::int4 AS n FROM pg_stat_activity WHERE state LIKE 'idle in transaction%'")
    assert.equal(after.rows[0].n, 0)

    // A failing statement riding a shared connection fails alone.
    const results = await Promise.allSettled([p.query('SELECT pg_sleep(0.1)'), p.query('SELECT 1/0'), p.query('SELECT 2 AS two')])
    assert.equal(results[0].status, 'fulfilled')
    assert.equal(results[1].reason.code, '22012')
    assert.equal(results[2].value.rows[0].two, 2)
  } finally {
    await p.close()
  }
})

test('pool.query hands a large result over in parts too, including on a shared connection', async () => {
  const p = new Pool({ connectionString: url, max: 1 })
  try {
    const sql = 'SELECT g AS n FROM generate_series(1, 150000) g'
    const [a, b] = await Promise.all([p.query(sql), p.query(sql, [], { rowMode: 'array' })])
    assert.equal(a.rows.length, 150000)
    assert.ok(a.rows.every((r, i) => r.n === i + 1))
    assert.ok(b.rows.every((r, i) => r[0] === i + 1))
    assert.equal(p.stats().size, 1)
  } finally {
    await p.close()
  }
})

// A serial caller keeps the connection its last statement used (src/core/lease.rs): it must
// still look idle, go to a borrower of its own rather than make the pool open another one, and
// never keep such a borrower waiting, even at max 1.
test('a connection kept for the next pool.query is idle to stats(), goes to connect(), and does not starve it', async () => {
  const app = unique('linger')
  const p = pool({ max: 4, applicationName: app })
  const admin = await connect()
  try {
    const pids = new Set()
    for (let i = 0; i < 20; i++) pids.add((await p.query('SELECT pg_backend_pid() AS pid, $1::int4 AS i', [i])).rows[0].pid)
    assert.equal(pids.size, 1)
    assert.deepEqual(poolState(p), { size: 1, idle: 1, waiting: 0, max: 4 })
    const c = await p.connect()
    try {
      assert.deepEqual([(await c.query('SELECT pg_backend_pid() AS pid')).rows[0].pid], [...pids])
      assert.equal(p.stats().size, 1)
    } finally {
      c.release()
    }
    // A statement that may not share (SHOW) borrows a connection of its own: the kept one.
    await p.query('SELECT 1')
    assert.equal((await p.query('SHOW work_mem')).rows.length, 1)
    assert.equal(p.stats().size, 1)
    assert.equal(await backends(admin, app), 1)

    // More callers than connections: the callers that keep a connection busy must not keep
    // it from the ones waiting in the pool (each of 8 callers on a pool of 2 gets answers).
    const few = pool({ max: 2 })
    try {
      const answered = new Array(8).fill(0)
      let total = 0
      const callers = Promise.all(answered.map(async (_, i) => {
        while (total < 4000) {
          total++
          await few.query('SELECT $1::int4 AS i', [i])
          answered[i]++
        }
      }))
      let timer
      const late = new Promise((resolve) => (timer = setTimeout(resolve, 20_000, 'late')))
      const outcome = await Promise.race([callers.then(() => 'done'), late])
      clearTimeout(timer)
      assert.equal(outcome, 'done', `callers starved: answers per caller ${answered}`)
      assert.ok(answered.every((n) => n > 0), `answers per caller: ${answered}`)
    } finally {
      await few.close()
    }

    // At max 1: a serial loop and a borrower that arrives while it runs both finish.
    const one = pool({ max: 1 })
    try {
      let n = 0
      let stop = false
      const loop = (async () => {
        while (!stop && n < 20000) {
          await one.query('SELECT $1::int4 AS i', [n])
          n++
        }
      })()
      while (n < 50) await new Promise((r) => setImmediate(r))
      const borrowed = await one.connect()
      const at = n
      borrowed.release()
      stop = true
      await loop
      assert.ok(at < 20000, `connect() waited for the whole loop (${at} queries)`)
      assert.deepEqual(poolState(one), { size: 1, idle: 1, waiting: 0, max: 1 })
    } finally {
      await one.close()
    }
  } finally {
    await admin.close()
    await p.close()
  }
})
