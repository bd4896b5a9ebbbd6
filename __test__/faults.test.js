'use strict'
// What production networks do to a driver (issue 17), through a fault-injection proxy
// (./fault-proxy.js) between ferropg and the server: black holes, refusals, one-byte segments,
// resets and half-closes mid-result, stalls, slow links, an exhausted pool. Every scenario
// requires that each call settles within its bound (+1 s), that nothing reaches the process
// as an unhandled rejection or uncaught exception, that a pool never holds more than `max`
// connections, and that the pool serves again within 2 s once the fault is lifted.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { Pool, Client } = require('..')
const { url } = require('./helpers')
const { faultProxy } = require('./fault-proxy')
const { SLACK, sleep, settles, rejectsWithin, resolvesWithin, watch } = require('./fault-harness')

const target = new URL(url)
const TRANSPORTS = ['loop', 'runtime']

/**
 * One scenario with a fresh proxy. `fn(t)` gets `t.proxy`, `t.url` (through the proxy),
 * `t.pool(extra)` and `t.client(extra)` (closed afterwards, pools watched for size > max),
 * `t.servesAgain(pool)`. Unhandled rejections and uncaught exceptions during the scenario
 * fail it.
 */
function scenario(name, fn) {
  test(name, { timeout: 40_000 }, async () => {
    const proxy = await faultProxy({ host: target.hostname, port: Number(target.port || 5432) })
    const w = watch()
    const { pools, sample } = w
    const clients = []
    const t = {
      proxy,
      url: proxy.url(url),
      pool(extra) {
        const p = new Pool({ connectionString: t.url, ...extra })
        pools.push(p)
        return p
      },
      async client(extra) {
        const c = await Client.connect({ connectionString: t.url, ...extra })
        clients.push(c)
        return c
      },
      sample,
      /** With every fault lifted, `pool.query` answers within 2 s (its first try). */
      async servesAgain(p, what = 'after the fault') {
        proxy.heal()
        const r = await resolvesWithin(p.query('SELECT 42 AS ok'), 2000 - SLACK, `pool.query ${what}`)
        assert.equal(r.rows[0].ok, 42)
        sample()
      },
    }
    try {
      await fn(t)
      sample()
    } finally {
      proxy.heal()
      const bounded = (p) => Promise.race([Promise.resolve(p).catch(() => {}), sleep(3000)])
      await bounded(Promise.all([...clients.map((c) => c.close()), ...pools.map((p) => p.close())]))
      await proxy.close()
      await w.stop()
    }
    w.check()
  })
}

/** A statement over many types with parameters, and what it must give back. */
const TYPED_SQL =
  'SELECT $1::int4 AS i, $2::text AS t, $3::int8 AS b, $4::numeric AS n, $5::bytea AS y, $6::jsonb AS j, ' +
  '$7::timestamptz AS ts, $8::int4[] AS a, NULL::text AS nul, true AS bo, $9::float8 AS f, $10::uuid AS u, $11::date AS d'
const TYPED_PARAMS = [
  -123456,
  'héllo ✓ 🚀 "quoted"',
  9007199254740993n,
  '-12345.678901234567890',
  Buffer.from([0, 1, 2, 254, 255]),
  { a: [1, 'x', null], b: { c: true } },
  new Date('2024-01-02T03:04:05.678Z'),
  [1, null, 3],
  -1.5e-300,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  '2024-02-29',
]
const TYPED_ROW = {
  i: -123456,
  t: 'héllo ✓ 🚀 "quoted"',
  b: 9007199254740993n,
  n: '-12345.678901234567890',
  y: Buffer.from([0, 1, 2, 254, 255]),
  j: { a: [1, 'x', null], b: { c: true } },
  ts: new Date('2024-01-02T03:04:05.678Z'),
  a: [1, null, 3],
  nul: null,
  bo: true,
  f: -1.5e-300,
  u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  d: '2024-02-29',
}

/** Runs the typed statement, a large parameter, a script and a 10,000-row result on `q`. */
async function checkResults(q, bound, what, rows = 10_000) {
  const typed = await resolvesWithin(q.query(TYPED_SQL, TYPED_PARAMS), bound, `${what}: typed query`)
  assert.deepEqual(typed.rows, [TYPED_ROW])
  const arr = await resolvesWithin(q.query('SELECT 1 AS a, $1::text AS b', ['x'], { rowMode: 'array' }), bound, `${what}: rowMode array`)
  assert.deepEqual(arr.rows, [[1, 'x']])
  // A parameter of 40 kB: the request itself is large (and split into bytes toward the server).
  const big = crypto.randomBytes(20_000).toString('hex')
  const echo = await resolvesWithin(q.query('SELECT length($1::text) AS n, md5($1::text) AS h', [big]), bound, `${what}: large parameter`)
  assert.deepEqual(echo.rows, [{ n: 40_000, h: crypto.createHash('md5').update(big).digest('hex') }])
  const script = await resolvesWithin(q.simpleQuery("SELECT 1 AS one; SELECT 'two' AS two, 2.5::numeric AS n"), bound, `${what}: simpleQuery`)
  assert.deepEqual(script.map((r) => r.rows), [[{ one: 1 }], [{ two: 'two', n: '2.5' }]])
  const many = await resolvesWithin(q.query("SELECT g AS i, 'r' || g AS s FROM generate_series(1, $1::int4) g", [rows]), bound, `${what}: ${rows} rows`)
  assert.equal(many.rowCount, rows)
  assert.equal(many.rows.length, rows)
  let sum = 0
  for (let k = 0; k < many.rows.length; k++) {
    const row = many.rows[k]
    if (row.i !== k + 1 || row.s !== `r${k + 1}`) assert.fail(`${what}: row ${k} is ${JSON.stringify(row)}`)
    sum += row.i
  }
  assert.equal(sum, (rows * (rows + 1)) / 2)
}

// --- connecting ---------------------------------------------------------------------------

scenario('a black-holed server: connectTimeoutMillis bounds Client.connect and pool.query (ERR_CONNECTION)', async (t) => {
  t.proxy.blackhole(true)
  const timeout = 800
  const c = await rejectsWithin(Client.connect({ connectionString: t.url, connectTimeoutMillis: timeout }), timeout, 'Client.connect', 'ERR_CONNECTION', /timed out connecting .* after 800 ms/)
  assert.ok(c.ms >= timeout - 50, `Client.connect gave up after ${c.ms} ms, before its timeout`)
  const p = t.pool({ max: 2, connectTimeoutMillis: timeout })
  const calls = [p.query('SELECT 1'), p.query('SELECT 2'), p.query('SELECT 3', [], { timeoutMillis: 5000 })]
  for (const [k, call] of calls.entries()) await rejectsWithin(call, timeout, `pool.query #${k + 1}`, 'ERR_CONNECTION', /timed out/)
  const s = p.stats()
  assert.ok(s.size <= 2 && s.waiting === 0, `stats after the failed connects: ${JSON.stringify(s)}`)
  t.proxy.blackhole(false)
  await t.servesAgain(p)
})

scenario('refused connections (closed at once with FIN or RST, and a closed port): ERR_CONNECTION at once, then the pool serves again', async (t) => {
  const p = t.pool({ max: 2 })
  const reasons = { fin: /early eof|closed/i, rst: /reset/i }
  for (const how of ['fin', 'rst']) {
    t.proxy.refuse(how)
    const before = t.proxy.connections
    const r = await rejectsWithin(Client.connect(t.url), 1000, `Client.connect (${how})`, 'ERR_CONNECTION', reasons[how])
    // The error names the server it is about.
    assert.ok(r.error.message.includes(`127.0.0.1:${t.proxy.port}`), r.error.message)
    await rejectsWithin(p.query('SELECT 1'), 1000, `pool.query (${how})`, 'ERR_CONNECTION', reasons[how])
    await rejectsWithin(p.query('SELECT 1', [], { timeoutMillis: 3000 }), 1000, `pool.query with timeoutMillis (${how})`, 'ERR_CONNECTION', reasons[how])
    const ac = new AbortController()
    await rejectsWithin(p.connect({ signal: ac.signal }), 1000, `pool.connect with a signal (${how})`, 'ERR_CONNECTION', reasons[how])
    // One attempt per call (the single host is not retried in a loop).
    assert.equal(t.proxy.connections - before, 4, 'connection attempts for 4 calls')
    assert.equal(p.stats().size, 0)
    t.proxy.refuse(false)
    await t.servesAgain(p, `after refuse('${how}') was lifted`)
    t.proxy.cutNow('fin') // the next round starts with no connection
    await sleep(20)
  }
  // Nothing listening at all: ECONNREFUSED, and the message names the server.
  const closed = await faultProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const deadUrl = closed.url(url)
  await closed.close()
  const port = new URL(deadUrl).port
  await rejectsWithin(Client.connect(deadUrl), 1000, 'Client.connect to a closed port', 'ERR_CONNECTION', new RegExp(`127\\.0\\.0\\.1:${port}: Connection refused`))
  const dead = t.pool({ connectionString: deadUrl, max: 2 })
  await rejectsWithin(dead.query('SELECT 1'), 1000, 'pool.query to a closed port', 'ERR_CONNECTION', /Connection refused/)
  assert.equal(dead.stats().size, 0)
})

// --- data in odd shapes ------------------------------------------------------------------

for (const transport of TRANSPORTS) {
  scenario(`responses and requests in one-byte writes (transport '${transport}'): every result correct`, async (t) => {
    t.proxy.split(true) // from the first byte of startup on
    const c = await resolvesWithin(t.client({ transport }), 3000, 'Client.connect through one-byte writes')
    const typed = await resolvesWithin(c.query(TYPED_SQL, TYPED_PARAMS), 3000, 'client: typed query')
    assert.deepEqual(typed.rows, [TYPED_ROW])
    const p = t.pool({ max: 2, transport })
    // One write per byte (one event-loop turn each in the proxy): 2,000 rows keep it to ~50 kB.
    await checkResults(p, 10000, 'pool', 2000)
    // Concurrent callers, pipelined on the pool's connections.
    const rs = await resolvesWithin(Promise.all(Array.from({ length: 8 }, (_, k) => p.query('SELECT $1::int4 * 2 AS v', [k]))), 3000, 'concurrent pool.query')
    assert.deepEqual(rs.map((r) => r.rows[0].v), [0, 2, 4, 6, 8, 10, 12, 14])
    // The fault was real: every byte, both ways, went in a write of its own.
    const { writes, bytes } = t.proxy.stats
    assert.ok(bytes.toClient > 40_000 && bytes.toServer > 40_000, `bytes ${JSON.stringify(bytes)}`)
    assert.deepEqual(writes, bytes)
    await t.servesAgain(p)
  })
}

scenario('20 ms of delay on every chunk: results correct, concurrency and transactions intact', async (t) => {
  t.proxy.delay(20)
  const p = t.pool({ max: 3 })
  await resolvesWithin(p.query('SELECT 1'), 2000, 'first query')
  // The fault was real: a round trip costs 2 x 20 ms.
  const t0 = Date.now()
  await resolvesWithin(p.query('SELECT 1'), 1000, 'a round trip')
  assert.ok(Date.now() - t0 >= 38, `a round trip took ${Date.now() - t0} ms`)
  await checkResults(p, 3000, 'pool')
  const rs = await resolvesWithin(Promise.all(Array.from({ length: 20 }, (_, k) => p.query('SELECT $1::int4 AS v, pg_backend_pid() AS pid', [k]))), 3000, '20 concurrent pool.query')
  assert.deepEqual(rs.map((r) => r.rows[0].v), Array.from({ length: 20 }, (_, k) => k))
  assert.ok(new Set(rs.map((r) => r.rows[0].pid)).size <= 3)
  const sum = await resolvesWithin(
    p.transaction(async (tx) => {
      await tx.query('CREATE TEMP TABLE delayed (v int4) ON COMMIT DROP')
      await tx.executeMany('INSERT INTO delayed VALUES ($1)', Array.from({ length: 100 }, (_, k) => [k]))
      return (await tx.query('SELECT sum(v)::int4 AS s FROM delayed')).rows[0].s
    }),
    3000,
    'transaction',
  )
  assert.equal(sum, 4950)
  await t.servesAgain(p)
})

// --- connections cut --------------------------------------------------------------------

const LARGE = "SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 100000) g" // ~21 MB

for (const transport of TRANSPORTS) {
  scenario(`a connection cut mid-result, RST and FIN, early and late (transport '${transport}'): ERR_CONNECTION_CLOSED, then the pool serves`, async (t) => {
    const p = t.pool({ max: 2, transport })
    // 100 kB: the result is still read on the loop; 3 MB: it has moved to ferropg's thread.
    for (const bytes of [100_000, 3_000_000]) {
      for (const how of ['rst', 'fin']) {
        const what = `${how} after ${bytes} bytes`
        await resolvesWithin(p.query('SELECT 1'), 2000, `warm-up (${what})`)
        const cuts = t.proxy.stats.cuts
        t.proxy.cutAfter({ direction: 'toClient', bytes, how })
        await rejectsWithin(p.query(LARGE), 2000, `pool.query of a large result, ${what}`, 'ERR_CONNECTION_CLOSED')
        assert.ok(t.proxy.stats.cuts > cuts, 'the proxy cut nothing')
        t.proxy.cutAfter(null)
        await t.servesAgain(p, `after a ${what}`)
        // A borrowed client and a standalone one: the same, and both refuse further use at once.
        const c = await resolvesWithin(p.connect(), 2000, 'pool.connect')
        t.proxy.cutAfter({ direction: 'toClient', bytes, how })
        await rejectsWithin(c.query(LARGE), 2000, `PoolClient.query, ${what}`, 'ERR_CONNECTION_CLOSED')
        const used = await settles(c.query('SELECT 1'), 0, 'PoolClient.query after the cut')
        assert.ok(!used.ok, 'a pooled client answered after its connection was cut')
        c.release()
        t.proxy.cutAfter(null)
        const s = await resolvesWithin(t.client({ transport }), 2000, 'Client.connect')
        t.proxy.cutAfter({ direction: 'toClient', bytes, how })
        await rejectsWithin(s.query(LARGE), 2000, `Client.query, ${what}`, 'ERR_CONNECTION_CLOSED')
        const after = await settles(s.query('SELECT 1'), 0, 'Client.query after the cut')
        assert.ok(!after.ok, 'a standalone client answered after its connection was cut')
        t.proxy.cutAfter(null)
        await t.servesAgain(p, `after the clients' ${what}`)
      }
    }
  })
}

scenario('a connection cut while the request is being sent (RST and FIN toward the server): ERR_CONNECTION_CLOSED', async (t) => {
  const p = t.pool({ max: 2 })
  const big = 'y'.repeat(2_000_000)
  for (const how of ['rst', 'fin']) {
    await resolvesWithin(p.query('SELECT 1'), 2000, 'warm-up')
    t.proxy.cutAfter({ direction: 'toServer', bytes: 100_000, how })
    await rejectsWithin(p.query('SELECT length($1::text) AS n', [big]), 2000, `a 2 MB parameter, ${how} after 100 kB`, 'ERR_CONNECTION_CLOSED')
    t.proxy.cutAfter(null)
    await t.servesAgain(p, `after the ${how}`)
  }
})

scenario('idle pooled connections cut (RST and FIN): the next pool.query does not fail', async (t) => {
  const p = t.pool({ max: 2 })
  for (const how of ['rst', 'fin']) {
    const [a, b] = await resolvesWithin(Promise.all([p.connect(), p.connect()]), 2000, 'two connections')
    a.release()
    b.release()
    assert.equal(p.stats().size, 2)
    t.proxy.cutNow(how)
    await sleep(50) // the driver has had the chance to see it
    for (let k = 0; k < 4; k++) {
      const r = await resolvesWithin(p.query('SELECT $1::int4 AS k', [k]), 2000, `pool.query #${k} after idle ${how}`)
      assert.equal(r.rows[0].k, k)
    }
  }
})

// --- stalls and timeouts -------------------------------------------------------------------

scenario('a connection stalled while its statement is being prepared: timeoutMillis settles the call at once (ERR_QUERY_CANCELLED), the connection survives', async (t) => {
  // A statement not in the connection's cache waits behind its Parse/Describe, which the stall
  // holds; it is not on the wire yet, so the timeout takes it out of the queue without a cancel.
  // (A statement already sent over a stalled link: faults-failing.js.txt.)
  const p = t.pool({ max: 2 })
  const c = await resolvesWithin(t.client(), 2000, 'Client.connect')
  await resolvesWithin(p.query('SELECT 1'), 2000, 'warm-up')
  t.proxy.stall()
  const timeout = 500
  const [r1, r2] = await Promise.all([
    rejectsWithin(p.query('SELECT 2 AS v', [], { timeoutMillis: timeout }), timeout, 'pool.query on a stalled connection', 'ERR_QUERY_CANCELLED', /timeoutMillis \(\d+ ms\)/),
    rejectsWithin(c.query('SELECT 2 AS v', [], { timeoutMillis: timeout }), timeout, 'Client.query on a stalled connection', 'ERR_QUERY_CANCELLED', /timeoutMillis \(500 ms\)/),
  ])
  for (const r of [r1, r2]) assert.ok(r.ms >= timeout - 50, `settled after ${r.ms} ms, before its timeout`)
  // Lifted: the same client goes on (its prepare completes), and the pool serves.
  t.proxy.resume()
  const again = await resolvesWithin(c.query('SELECT 2 AS v'), 1000, 'Client.query after resume()')
  assert.equal(again.rows[0].v, 2)
  await t.servesAgain(p, 'after resume()')
})

scenario('a statement whose CancelRequest gets through: ERR_QUERY_CANCELLED (57014) within timeoutMillis + 1 s', async (t) => {
  const p = t.pool({ max: 2 })
  const r = await rejectsWithin(p.query('SELECT pg_sleep(30)', [], { timeoutMillis: 300 }), 300, 'pool.query pg_sleep(30)', 'ERR_QUERY_CANCELLED')
  assert.equal(r.error.cause?.code, '57014')
  assert.ok(t.proxy.stats.cancelRequests >= 1, 'the CancelRequest did not pass through the proxy')
  console.log(`cancel answered: ERR_QUERY_CANCELLED ${r.ms} ms after the call (timeoutMillis 300)`)
  await t.servesAgain(p)
})

scenario('a CancelRequest swallowed by the network: the call still settles (ERR_CONNECTION_CLOSED after the 1 s grace), the pool serves', async (t) => {
  const marker = `faults_swallow_${process.pid}`
  const p = t.pool({ max: 2 })
  await resolvesWithin(p.query('SELECT 1'), 2000, 'warm-up')
  t.proxy.swallowCancel(true)
  const timeout = 300
  const GRACE = 1000 // README: a cancelled statement whose server does not answer within 1 s (was 5 s)
  try {
    const r = await rejectsWithin(p.query(`SELECT pg_sleep(30) /* ${marker} */`, [], { timeoutMillis: timeout }), timeout + GRACE, 'pool.query pg_sleep(30) with its cancel swallowed', 'ERR_CONNECTION_CLOSED', /did not answer the cancel in time/)
    assert.ok(t.proxy.stats.swallowedCancels >= 1, 'no CancelRequest was swallowed')
    assert.ok(r.ms >= timeout + GRACE - 200, `settled after ${r.ms} ms, before the grace`)
    console.log(`swallowed cancel: ${r.error.code} after ${r.ms} ms (timeoutMillis ${timeout})`)
    await t.servesAgain(p, 'with the backend still sleeping')
  } finally {
    // The backend still sleeps: stop it directly.
    const admin = await Client.connect(url)
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%' || $1 || '%' AND pid <> pg_backend_pid()", [marker])
    await admin.close()
  }
})

scenario('pool exhaustion: max 2, both connections stalled; timeoutMillis and acquireTimeoutMillis waiters settle in time', async (t) => {
  const p = t.pool({ max: 2, acquireTimeoutMillis: 600 })
  const [a, b] = await resolvesWithin(Promise.all([p.connect(), p.connect()]), 2000, 'two connections')
  a.release()
  b.release()
  t.proxy.stall()
  // Both connections now run a statement that cannot finish.
  const stuck = [p.query('SELECT 1 AS v'), p.query('SELECT 2 AS v')]
  stuck.forEach((s) => s.catch(() => {}))
  await sleep(50)
  assert.equal(p.stats().size, 2)
  const timed = p.query('SELECT 3', [], { timeoutMillis: 300 })
  const waiters = [p.connect(), p.connect(), p.query('BEGIN')]
  await Promise.all([
    rejectsWithin(timed, 300, 'pool.query with timeoutMillis', 'ERR_QUERY_CANCELLED', /timeoutMillis \(300 ms\)/),
    ...waiters.map((w, k) => rejectsWithin(w, 600, `acquireTimeoutMillis waiter #${k + 1}`, 'ERR_POOL_TIMEOUT', /acquireTimeoutMillis \(600 ms; max 2 connections\)/)),
  ])
  const s = p.stats()
  assert.ok(s.size === 2 && s.waiting === 0, `stats after the waiters gave up: ${JSON.stringify(s)}`)
  // Lifted: the stuck statements complete, and the pool serves.
  t.proxy.resume()
  const done = await resolvesWithin(Promise.all(stuck), 1000, 'the stalled statements after resume()')
  assert.deepEqual(done.map((r) => r.rows[0].v), [1, 2])
  await t.servesAgain(p)
})

// acquireTimeoutMillis bounds the whole wait for a connection, opening one included: against a
// server that accepts and never answers, the attempt is dropped at the deadline and its slot
// freed, so the pool serves again once the server does.
scenario('a black-holed server: acquireTimeoutMillis bounds pool.query and pool.connect (ERR_POOL_TIMEOUT)', async (t) => {
  t.proxy.blackhole(true)
  const p = t.pool({ max: 2, acquireTimeoutMillis: 500 })
  await Promise.all([
    rejectsWithin(p.query('SELECT 1'), 500, 'pool.query', 'ERR_POOL_TIMEOUT'),
    rejectsWithin(p.connect(), 500, 'pool.connect', 'ERR_POOL_TIMEOUT'),
  ])
  t.proxy.blackhole(false)
  await t.servesAgain(p)
})

// With neither connectTimeoutMillis nor acquireTimeoutMillis (libpq waits forever too), a caller
// that gives up on a black-holed server (signal, timeoutMillis) stops its connection attempt:
// it no longer counts in stats().waiting, the socket is closed and its slot freed, so the pool
// serves once the server answers again. (The attempts used to go on, holding the slots.)
scenario('a black-holed server, no connect or acquire timeout: callers that give up drop their connection attempts', async (t) => {
  t.proxy.blackhole(true)
  const p = t.pool({ max: 2 })
  const ac = new AbortController()
  const timeout = 300
  const calls = [
    rejectsWithin(p.query('SELECT 1', [], { timeoutMillis: timeout }), timeout, 'pool.query with timeoutMillis', 'ERR_QUERY_CANCELLED', /timeoutMillis \(300 ms\)/),
    rejectsWithin(p.connect({ signal: ac.signal }), timeout, 'pool.connect with a signal', 'ERR_QUERY_CANCELLED'),
  ]
  await waitUntil(() => t.proxy.held === 2, 1000, 'both attempts reached the black hole')
  assert.equal(p.stats().waiting, 2, `stats while connecting: ${JSON.stringify(p.stats())}`)
  setTimeout(() => ac.abort(), timeout)
  await Promise.all(calls)
  await waitUntil(() => p.stats().waiting === 0, 200, () => `waiting after the callers gave up: ${JSON.stringify(p.stats())}`)
  await waitUntil(() => t.proxy.held === 0, 500, () => `the abandoned attempts' sockets were closed (${t.proxy.held} still open)`)
  assert.equal(p.stats().size, 0, `stats: ${JSON.stringify(p.stats())}`)
  // Both slots are free: the server answers again and the pool serves.
  t.proxy.blackhole(false)
  await t.servesAgain(p)
})

/** Polls `cond` every 10 ms; fails after `bound` ms. */
async function waitUntil(cond, bound, what) {
  const until = Date.now() + bound
  while (!cond()) {
    if (Date.now() > until) assert.fail(`${typeof what === 'function' ? what() : what}: not within ${bound} ms`)
    await sleep(10)
  }
}
