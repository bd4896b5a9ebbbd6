'use strict'
// Implicit pipelining: concurrent queries on one connection are written without waiting for
// earlier results and run in call order.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('..')
const { connect, pool, countingProxy, roundTrips, unique } = require('./helpers')

test('queries run in call order even when an earlier one must be prepared first', async () => {
  const c = await connect()
  try {
    await c.query('CREATE TEMP TABLE t_order (id serial, v int4)')
    await c.query('SELECT count(*)::int4 AS n FROM t_order') // the SELECT is cached, the INSERTs are not
    const ps = []
    for (let i = 0; i < 20; i++) {
      ps.push(c.query(`INSERT INTO t_order (v) VALUES ($1) /* ${unique('cold')} */`, [i]))
      ps.push(c.query('SELECT count(*)::int4 AS n FROM t_order'))
    }
    const r = await Promise.all(ps)
    assert.deepEqual(
      r.filter((_, i) => i % 2 === 1).map((x) => x.rows[0].n),
      Array.from({ length: 20 }, (_, i) => i + 1),
    )
    const ids = await c.query('SELECT v FROM t_order ORDER BY id')
    assert.deepEqual(ids.rows.map((x) => x.v), Array.from({ length: 20 }, (_, i) => i))
  } finally {
    await c.close()
  }
})

test('results resolve in send order; a failing query does not disturb its neighbours', async () => {
  const c = await connect()
  try {
    const settled = []
    const ps = [
      c.query('SELECT 1 AS x').then(() => settled.push(1)),
      c.query('SELECT 1/0').catch((e) => settled.push(e.code)),
      c.query('SELECT 3 AS x').then(() => settled.push(3)),
    ]
    await Promise.all(ps)
    assert.deepEqual(settled, [1, '22012', 3])
  } finally {
    await c.close()
  }
})

test('200 pipelined statements take a few round trips, not 200', async () => {
  const proxy = await countingProxy()
  try {
    const warm = await roundTrips(
      proxy,
      (c) => c.query('SELECT $1::int4 AS x', [0]),
      async (c) => {
        const r = await Promise.all(Array.from({ length: 200 }, (_, i) => c.query('SELECT $1::int4 AS x', [i])))
        assert.deepEqual(r.map((x) => x.rows[0].x), Array.from({ length: 200 }, (_, i) => i))
      },
    )
    assert.ok(warm <= 3, `warm: ${warm.toFixed(2)} round trips`)
    const cold = await roundTrips(proxy, async () => {}, async (c) => {
      const r = await Promise.all(Array.from({ length: 200 }, (_, i) => c.query('SELECT $1::int4 + 1 AS y', [i])))
      assert.equal(r[199].rows[0].y, 200)
    })
    assert.ok(cold <= 4, `cold: ${cold.toFixed(2)} round trips`)
    // On the wire: one Parse for the cold statement, one Bind/Execute/Sync per statement.
    proxy.reset()
    const c = await Client.connect(proxy.url)
    proxy.reset()
    await Promise.all(Array.from({ length: 200 }, (_, i) => c.query('SELECT $1::int4 * 3 AS z', [i])))
    assert.equal(proxy.counts.P, 1)
    assert.equal(proxy.counts.E, 200)
    assert.equal(proxy.counts.S, 201) // the prepare's Sync, then one per statement
    await c.close()
    // For scale: awaiting each statement costs a round trip apiece.
    const serial = await roundTrips(proxy, (c) => c.query('SELECT $1::int4 AS x', [0]), async (c) => {
      for (let i = 0; i < 10; i++) await c.query('SELECT $1::int4 AS x', [i])
    })
    assert.ok(serial >= 9, `10 awaited statements: ${serial.toFixed(2)} round trips`)
  } finally {
    await proxy.close()
  }
})

test('pool.query spreads concurrent load over the pool', async () => {
  const { pool } = require('./helpers')
  const p = pool({ max: 4 })
  try {
    const r = await Promise.all(Array.from({ length: 40 }, () => p.query('SELECT pg_backend_pid() AS pid, pg_sleep(0.01)')))
    assert.ok(new Set(r.map((x) => x.rows[0].pid)).size >= 2)
  } finally {
    await p.close()
  }
})

// lib/pending.js keeps waiting requests in a ring of 4,096 slots by request id, with an
// overflow for a slot still held: a slow statement holds its slot while more than 4,096 later
// ones pass through the ring (some landing on its slot), and every caller gets its own answer.
test('more than 4,096 requests in flight around a slow one each get their own result', async () => {
  const p = pool({ max: 4 })
  try {
    const slow = p.query('SELECT pg_sleep(0.3), $1::int4 AS v', [-1])
    const first = await Promise.all(Array.from({ length: 5000 }, (_, i) => p.query('SELECT $1::int4 AS v', [i])))
    const rest = await Promise.all(Array.from({ length: 5000 }, (_, i) => p.query('SELECT $1::int4 AS v', [5000 + i])))
    assert.deepEqual([...first, ...rest].map((r) => r.rows[0].v), Array.from({ length: 10000 }, (_, i) => i))
    assert.equal((await slow).rows[0].v, -1)
  } finally {
    await p.close()
  }
})

// Parameters are encoded into one scratch buffer that each submit copies from (lib/params.js
// `encodeParamsShared`), except above 64 KiB, where a query gets a buffer of its own that is
// kept, not copied: calls made in one tick, small and large, each send their own values.
test('small and large (> 64 KiB) parameters submitted in one tick each arrive intact', async () => {
  const p = pool({ max: 2 })
  const c = await connect()
  try {
    const big = (ch) => ch.repeat(100 * 1024)
    for (const q of [(s, v) => p.query(s, v), (s, v) => c.query(s, v)]) {
      const rs = await Promise.all([
        q('SELECT $1::text AS v', [big('a')]),
        q('SELECT $1::text AS v', ['small']),
        q('SELECT $1::text AS v', [big('b')]),
        q('SELECT $1::text AS v, $2::int4 AS n', ['x', 7]),
        q('SELECT 1 AS v'),
      ])
      assert.deepEqual(rs.map((r) => r.rows[0].v), [big('a'), 'small', big('b'), 'x', 1])
      assert.equal(rs[3].rows[0].n, 7)
    }
    // A value that cannot be sent rejects its own call before anything is sent.
    await assert.rejects(p.query('SELECT $1::int4 AS v', [{}]), (e) => e.code === 'ERR_INVALID_PARAMETER')
    assert.equal((await p.query('SELECT $1::int4 AS v', [5])).rows[0].v, 5)
  } finally {
    await c.close()
    await p.close()
  }
})

// A query's SQL text is sent to the native side once and named by a number after (lib/
// completions.js `sqlNumber`, src/js/raw_call.rs), for the first 1024 texts of up to 2048
// characters; any other text is passed as a string. Each JS thread numbers its own texts.
test('SQL texts by number, beyond the numbered ones, long ones and with large parameters all run as written', async () => {
  const p = pool({ max: 2 })
  const c = await connect()
  try {
    for (const q of [(s, v) => p.query(s, v), (s, v) => c.query(s, v)]) {
      // Past the bound of numbered texts: each distinct text runs itself, and again.
      const texts = Array.from({ length: 1100 }, (_, i) => `SELECT ${i}::int4 AS v, $1::int4 AS w`)
      for (const round of [0, 1]) {
        const rs = await Promise.all(texts.map((t, i) => q(t, [i + round])))
        assert.deepEqual(rs.map((r) => [r.rows[0].v, r.rows[0].w]), texts.map((_, i) => [i, i + round]))
      }
      const long = (n) => `SELECT ${n}::int4 AS v /* ${'x'.repeat(3000)} */`
      const big = 'z'.repeat(100 * 1024)
      const rs = await Promise.all([
        q(long(1)),
        q(long(2)),
        q(`${long(3)}, $1::text AS t`, [big]),
        q('SELECT 4::int4 AS v, $1::text AS t', [big]),
      ])
      assert.deepEqual(rs.map((r) => r.rows[0].v), [1, 2, 3, 4])
      assert.equal(rs[2].rows[0].t, big)
      assert.equal(rs[3].rows[0].t, big)
    }
  } finally {
    await c.close()
    await p.close()
  }
})

test('a worker thread numbers its own SQL texts', async () => {
  const { Worker } = require('node:worker_threads')
  const p = pool({ max: 1 })
  try {
    // Main's texts are numbered first; the worker's first text gets the same number as one
    // of main's, and each must still run its own.
    assert.equal((await p.query('SELECT 1::int4 AS main')).rows[0].main, 1)
    const code = `
      const { parentPort, workerData } = require('node:worker_threads')
      const { Pool } = require(workerData.root)
      const p = new Pool({ connectionString: workerData.url, max: 1 })
      Promise.all([p.query('SELECT 2::int4 AS worker'), p.query('SELECT $1::text AS echo', ['w'])])
        .then((rs) => parentPort.postMessage(rs.map((r) => r.rows[0])))
        .catch((e) => parentPort.postMessage({ error: String(e) }))
        .finally(() => p.close())`
    const w = new Worker(code, { eval: true, workerData: { root: require('node:path').join(__dirname, '..'), url: process.env.DATABASE_URL } })
    const [fromWorker, fromMain] = await Promise.all([
      new Promise((resolve, reject) => w.once('message', resolve).once('error', reject)),
      p.query('SELECT 1::int4 AS main'),
    ])
    assert.deepEqual(fromWorker, [{ worker: 2 }, { echo: 'w' }])
    assert.equal(fromMain.rows[0].main, 1)
    await w.terminate()
  } finally {
    await p.close()
  }
})

// Jest gives every test file its own module registry over one addon: two copies of lib/ in one
// thread share the addon's per-thread submit state (header, scratch buffer, SQL numbers), and
// each must still send its own statements with its own values.
test('two copies of lib/ in one thread (as Jest loads them) each run their own statements', async () => {
  const path = require('node:path')
  const root = path.join(__dirname, '..')
  const ours = (k) => k.startsWith(root + path.sep) && !k.includes(`${path.sep}node_modules${path.sep}`) && k.endsWith('.js')
  const saved = Object.keys(require.cache).filter(ours)
  const kept = Object.fromEntries(saved.map((k) => [k, require.cache[k]]))
  for (const k of saved) if (!k.endsWith('binding.js')) delete require.cache[k]
  let second
  try {
    second = require(root)
  } finally {
    for (const k of Object.keys(require.cache).filter(ours)) delete require.cache[k]
    Object.assign(require.cache, kept)
  }
  const first = require(root)
  assert.notEqual(second.Pool, first.Pool, 'a second copy of lib/ was loaded')
  const a = new first.Pool({ connectionString: process.env.DATABASE_URL, max: 1 })
  const b = new second.Pool({ connectionString: process.env.DATABASE_URL, max: 1 })
  try {
    for (let round = 0; round < 3; round++) {
      // In one tick and across ticks, with texts each copy numbers first and with large
      // parameters (their own buffer) between small ones.
      const big = 'q'.repeat(70 * 1024)
      const rs = await Promise.all([
        a.query(`SELECT 'a${round}' AS who, $1::int4 AS v`, [1]),
        b.query(`SELECT 'b${round}' AS who, $1::int4 AS v, $2::text AS t`, [2, 'x']),
        a.query('SELECT $1::text AS t', [big]),
        b.query(`SELECT 'b${round}' AS who, $1::int4 AS v, $2::text AS t`, [3, 'y']),
        a.query(`SELECT 'a${round}' AS who, $1::int4 AS v`, [4]),
      ])
      assert.deepEqual(rs.map((r) => r.rows[0].who ?? r.rows[0].t.length), [`a${round}`, `b${round}`, big.length, `b${round}`, `a${round}`])
      assert.deepEqual([rs[0], rs[1], rs[3], rs[4]].map((r) => r.rows[0].v), [1, 2, 3, 4])
      assert.deepEqual([rs[1].rows[0].t, rs[3].rows[0].t], ['x', 'y'])
      assert.equal((await b.query('SELECT $1::int4 AS v', [round])).rows[0].v, round)
      assert.equal((await a.query('SELECT $1::int4 AS v', [-round - 1])).rows[0].v, -round - 1)
    }
  } finally {
    await a.close()
    await b.close()
  }
})
