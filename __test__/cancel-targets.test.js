'use strict'
// A cancellation hits only its own statement: a statement not yet sent leaves the queue without
// touching the server, one sent behind others is cancelled once it runs, and a CancelRequest is
// never sent while another caller's statement runs. `timeoutMillis` bounds the whole call.
const test = require('node:test')
const assert = require('node:assert/strict')
const { connect, pool } = require('./helpers')

for (const transport of ['loop', 'runtime']) {
  test(`${transport}: a timeout on a statement queued behind another does not cancel the other`, async () => {
    const c = await connect({ transport })
    try {
      // Cached: sent at once behind the running statement, and done before its cancel could
      // take effect, so it resolves with its result.
      await c.query('SELECT 2 AS v')
      const first = c.query('SELECT pg_sleep(1.2) AS slept')
      const second = c.query('SELECT 2 AS v', [], { timeoutMillis: 200 })
      const [a, b] = await Promise.allSettled([first, second])
      assert.equal(a.status, 'fulfilled', `the running statement was hit: ${a.reason?.code}`)
      assert.equal(b.status, 'fulfilled', String(b.reason?.code))
      assert.equal(b.value.rows[0].v, 2)
      // Not cached: it waits for its Parse behind the running statement, is still unsent when
      // its deadline comes, and leaves the queue without touching the server.
      const third = c.query('SELECT pg_sleep(1.2) AS slept')
      const fourth = c.query('SELECT 4 AS v', [], { timeoutMillis: 200 }).catch((e) => e)
      assert.equal((await third).rows.length, 1)
      const e = await fourth
      assert.equal(e.code, 'ERR_QUERY_CANCELLED')
      assert.equal(e.cause?.code, 'ERR_QUERY_TIMEOUT')
      assert.equal((await c.query('SELECT 5 AS v')).rows[0].v, 5)
    } finally {
      await c.close()
    }
  })

  test(`${transport}: three statements in flight, the middle one timed out or aborted: the first and third succeed`, async () => {
    const c = await connect({ transport })
    try {
      await c.query('SELECT pg_sleep($1) AS b', [0]) // cached, so it is sent at once
      for (const how of ['timeout', 'signal']) {
        const ac = new AbortController()
        if (how === 'signal') setTimeout(() => ac.abort(new Error('stop')), 150)
        const options = how === 'timeout' ? { timeoutMillis: 150 } : { signal: ac.signal }
        const first = c.query('SELECT pg_sleep(0.4) AS a')
        const middle = c.query('SELECT pg_sleep($1) AS b', [10], options).catch((e) => e)
        const third = c.query('SELECT 3 AS c')
        assert.equal((await first).rows.length, 1)
        const e = await middle
        assert.equal(e.code, 'ERR_QUERY_CANCELLED', how)
        assert.equal(e.cause?.code, '57014', 'the server stopped it')
        assert.equal((await third).rows[0].c, 3)
        assert.equal(c.transactionStatus, 'idle')
      }
    } finally {
      await c.close()
    }
  })
}

test('a statement cancelled before it was sent leaves the queue at once and never reaches the server', async () => {
  const c = await connect()
  const admin = await connect()
  try {
    const marker = `ferropg_never_${process.pid}`
    // A cancellable statement holds the queue behind it until it is answered.
    const running = c.query('SELECT pg_sleep(0.8) AS a', [], { timeoutMillis: 5000 })
    const t0 = Date.now()
    const queued = c.query(`SELECT '${marker}' AS m`, [], { timeoutMillis: 100 }).catch((e) => e)
    const e = await queued
    const waited = Date.now() - t0
    assert.equal(e.code, 'ERR_QUERY_CANCELLED')
    assert.equal(e.cause?.code, 'ERR_QUERY_TIMEOUT', 'no server error: it was never sent')
    assert.ok(waited < 700, `rejected after ${waited} ms, before the statement ahead of it ended`)
    assert.equal((await running).rows.length, 1)
    assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1)
    const seen = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = $1 AND query LIKE '%' || $2 || '%'", [c.processId, marker])
    assert.equal(seen.rows[0].n, 0)
  } finally {
    await c.close()
    await admin.close()
  }
})

test('pool.query timeoutMillis covers the wait for a connection (max 1, a statement running)', async () => {
  const p = pool({ max: 1 })
  try {
    const running = p.query('SELECT pg_sleep(1.5) AS a')
    await new Promise((r) => setTimeout(r, 50))
    const t0 = Date.now()
    const e = await p.query('SELECT 2', [], { timeoutMillis: 200 }).catch((x) => x)
    const waited = Date.now() - t0
    assert.equal(e.code, 'ERR_QUERY_CANCELLED')
    assert.ok(waited < 1000, `rejected after ${waited} ms`)
    assert.equal((await running).rows.length, 1)
    assert.equal((await p.query('SELECT 3 AS v', [], { timeoutMillis: 2000 })).rows[0].v, 3)
  } finally {
    await p.close()
  }
})

test("executeMany's timeout does not cancel a statement queued before it on the same client", async () => {
  const c = await connect()
  const t = `cancel_many_${process.pid}`
  try {
    await c.query(`CREATE TEMP TABLE ${t} (v int4)`)
    const slow = c.query('SELECT pg_sleep(0.6) AS s')
    // 40 executions of ~50 ms each: still running when its CancelRequest may go out.
    const sets = Array.from({ length: 40 }, (_, i) => [i])
    const many = c.executeMany(`INSERT INTO ${t} SELECT $1 FROM pg_sleep(0.05)`, sets, { timeoutMillis: 100 }).catch((e) => e)
    assert.equal((await slow).rows.length, 1, 'the statement queued first completes')
    const e = await many
    assert.equal(e.code, 'ERR_QUERY_CANCELLED')
    assert.equal(e.cause?.code, '57014')
    assert.equal((await c.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n, 0, 'nothing of the batch remains')
  } finally {
    await c.close()
  }
})

test('a cancelled statement whose server never answers settles after a grace period; the connection is given up', async () => {
  const net = require('node:net')
  const { Client } = require('..')
  const { url } = require('./helpers')
  const target = new URL(url)
  // A loopback proxy that stops passing the server's answers on the first connection once
  // `silent` is set (the CancelRequest, on a connection of its own, still gets through).
  let silent = false
  let first = true
  const sockets = new Set()
  const server = net.createServer((client) => {
    const mute = first
    first = false
    const upstream = net.connect(Number(target.port || 5432), target.hostname)
    sockets.add(client).add(upstream)
    client.on('data', (d) => upstream.write(d))
    upstream.on('data', (d) => { if (!(mute && silent)) client.write(d) })
    const end = () => { client.destroy(); upstream.destroy() }
    client.on('error', end).on('close', end)
    upstream.on('error', end).on('close', end)
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const via = new URL(url)
  via.host = `127.0.0.1:${server.address().port}`
  const c = await Client.connect({ connectionString: via.toString(), transport: 'runtime' })
  try {
    await c.query('SELECT pg_sleep($1)', [0]) // cached: sent at once, no Parse to wait for
    silent = true
    const t0 = Date.now()
    const e = await c.query('SELECT pg_sleep($1)', [30], { timeoutMillis: 200 }).catch((x) => x)
    const waited = Date.now() - t0
    assert.equal(e.code, 'ERR_CONNECTION_CLOSED')
    assert.match(e.message, /outcome is unknown/)
    assert.equal(e.reason?.code, 'ERR_QUERY_TIMEOUT')
    // The grace is 1 s past the first CancelRequest (it was 5 s: the caller waited 5.2 s).
    assert.ok(waited >= 1100 && waited < 3000, `settled after ${waited} ms`)
    // Nothing more is sent to a server that does not answer.
    await assert.rejects(c.query('SELECT 2'), { code: 'ERR_CONNECTION_CLOSED' })
  } finally {
    await c.close()
    for (const s of sockets) s.destroy()
    server.close()
  }
})

for (const transport of ['loop', 'runtime']) {
  test(`${transport}: a signal aborted right after the call tells the truth about whether the statement ran`, async () => {
    const c = await connect({ transport })
    const t = `cancel_sync_${process.pid}_${transport}`
    try {
      await c.query(`CREATE TEMP TABLE ${t} (v int4)`)
      const ins = `INSERT INTO ${t} VALUES ($1)`
      await c.query(ins, [0])
      let ran = 1
      for (let i = 1; i <= 20; i++) {
        const ac = new AbortController()
        const p = c.query(ins, [i], { signal: ac.signal })
        ac.abort(new Error('changed my mind'))
        const r = await p.then(() => 'ran', (e) => e.code)
        if (r === 'ran') ran++
        else assert.equal(r, 'ERR_QUERY_CANCELLED')
        assert.equal((await c.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n, ran, `round ${i}: ${r}`)
      }
    } finally {
      await c.close()
    }
  })
}

test("executeMany's cancel is not hastened by one of its sets refused before it was sent", async () => {
  const c = await connect()
  const t = `cancel_refused_${process.pid}`
  try {
    await c.query(`CREATE TEMP TABLE ${t} (v int4)`)
    const ins = `INSERT INTO ${t} VALUES ($1)`
    await c.query(ins, [0]) // cached: its sets are checked without a round trip
    const slow = c.query('SELECT pg_sleep(0.6) AS s')
    const many = c.executeMany(ins, [[1], ['not a number']], { timeoutMillis: 100 }).catch((e) => e)
    assert.equal((await slow).rows.length, 1, 'the statement queued first completes')
    assert.ok((await many) instanceof Error)
    assert.equal((await c.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n, 1)
  } finally {
    await c.close()
  }
})
