'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('..')
const { connect, pool, countingProxy, roundTrips, unique, MEMORY_FLAGS } = require('./helpers')

async function withTable(fn) {
  const c = await connect()
  const t = unique('t_many')
  try {
    await c.query(`CREATE TABLE ${t} (id serial PRIMARY KEY, v int4 NOT NULL, s text)`)
    return await fn(c, t)
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${t}`)
    await c.close()
  }
}

const count = async (c, t) => (await c.query(`SELECT count(*)::int4 AS n FROM ${t}`)).rows[0].n

test('executeMany inserts every set and reports the row count', () =>
  withTable(async (c, t) => {
    const r = await c.executeMany(`INSERT INTO ${t} (v, s) VALUES ($1, $2)`, [[1, 'a'], [2, 'b'], [3, null]])
    assert.deepEqual(r, { rowCount: 3 })
    assert.deepEqual((await c.query(`SELECT v, s FROM ${t} ORDER BY id`)).rows, [{ v: 1, s: 'a' }, { v: 2, s: 'b' }, { v: 3, s: null }])
    const u = await c.executeMany(`UPDATE ${t} SET s = $2 WHERE v <= $1`, [[1, 'x'], [3, 'y']])
    assert.equal(u.rowCount, 4)
  }))

test('returning: the rows of every execution, in order', () =>
  withTable(async (c, t) => {
    const sets = Array.from({ length: 50 }, (_, i) => [i, `s${i}`])
    const r = await c.executeMany(`INSERT INTO ${t} (v, s) VALUES ($1, $2) RETURNING v, s`, sets, { returning: true })
    assert.equal(r.rowCount, 50)
    assert.equal(r.results.length, 50)
    assert.deepEqual(r.results.map((x) => x.rows[0]), sets.map(([v, s]) => ({ v, s })))
    assert.equal(r.results[0].command, 'INSERT')
  }))

test('returning over several chunks: each execution keeps its own rows, none or many', () =>
  withTable(async (c) => {
    const sets = Array.from({ length: 700 }, (_, i) => [i % 4])
    const r = await c.executeMany('SELECT g AS n FROM generate_series(1, $1::int4) g', sets, { returning: true, rowMode: 'array' })
    assert.equal(r.results.length, 700)
    assert.equal(r.rowCount, sets.reduce((s, [k]) => s + k, 0))
    r.results.forEach((x, i) => {
      assert.deepEqual(x.rows, Array.from({ length: i % 4 }, (_, j) => [j + 1]))
      assert.equal(x.rowCount, i % 4)
      assert.equal(x.command, 'SELECT')
      assert.equal(x.fields[0].name, 'n')
    })
  }))

test('a failing set rolls the whole batch back and says which set failed', () =>
  withTable(async (c, t) => {
    await c.query(`INSERT INTO ${t} (v) VALUES (0)`)
    const sets = Array.from({ length: 10_000 }, (_, i) => [i === 5_000 ? null : i])
    const e = await c.executeMany(`INSERT INTO ${t} (v) VALUES ($1)`, sets).catch((x) => x)
    assert.equal(e.code, '23502')
    assert.equal(e.index, 5_000)
    assert.match(e.message, /^parameter set 5000: /)
    assert.equal(await count(c, t), 1)
    assert.equal(c.closed, false)
    assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1) // connection usable, not in a transaction
    await assert.rejects(c.query('SAVEPOINT probe'), { code: '25P01' }) // not left in a transaction
  }))

test('a value that does not fit is rejected with its set index; nothing is written', () =>
  withTable(async (c, t) => {
    const e = await c.executeMany(`INSERT INTO ${t} (v) VALUES ($1)`, [[1], [2], [1.5]]).catch((x) => x)
    assert.equal(e.code, 'ERR_INVALID_PARAMETER')
    assert.equal(e.index, 2)
    assert.match(e.message, /parameter set 2: \$1: expected int4/)
    assert.equal(await count(c, t), 0)
  }))

test('inside a transaction the batch runs under a savepoint; the outer transaction stays usable', () =>
  withTable(async (c, t) => {
    await c.query('BEGIN')
    await c.query(`INSERT INTO ${t} (v) VALUES (100)`)
    const e = await c.executeMany(`INSERT INTO ${t} (v) VALUES ($1)`, [[1], [null]]).catch((x) => x)
    assert.equal(e.index, 1)
    await c.executeMany(`INSERT INTO ${t} (v) VALUES ($1)`, [[7], [8]])
    assert.deepEqual((await c.query(`SELECT v FROM ${t} ORDER BY id`)).rows.map((r) => r.v), [100, 7, 8])
    await c.query('ROLLBACK')
    assert.equal(await count(c, t), 0)
  }))

test('wrong set lengths and non-arrays are rejected before any execution is sent', async () => {
  const proxy = await countingProxy()
  const c = await Client.connect(proxy.url)
  const t = unique('t_many_len')
  try {
    await c.query(`CREATE TEMP TABLE ${t} (v int4)`)
    await c.query(`SELECT 1 FROM ${t}`)
    proxy.reset()
    await assert.rejects(c.executeMany(`INSERT INTO ${t} VALUES ($1)`, [[1], [1, 2]]), /parameter set 1 has 2 values/)
    await assert.rejects(c.executeMany(`INSERT INTO ${t} VALUES ($1)`, [[1, 2], [3, 4]]), /parameter set 0: .*expects 1 parameter, got 2/)
    await assert.rejects(c.executeMany(`INSERT INTO ${t} VALUES ($1)`, [[1], 'x']), /parameter set 1 is not an array/)
    await assert.rejects(c.executeMany(`INSERT INTO ${t} VALUES ($1)`, 42), { code: 'ERR_INVALID_ARGUMENT' })
    assert.equal(proxy.counts.E ?? 0, 0, 'no Execute reached the server')
    assert.equal((await c.query(`SELECT count(*)::int4 AS n FROM ${t}`)).rows[0].n, 0)
  } finally {
    await c.close()
    await proxy.close()
  }
})

test('an async iterable of 1,000,000 sets streams through with flat memory', async () => {
  // Measured in a fresh process: the test runner's own bookkeeping would blur RSS. Flat means
  // independent of the number of sets: the peak while 1,000,000 sets stream through stays near
  // the peak of 100,000 sets (holding the sets would take hundreds of MiB).
  const t = unique('t_many_mem')
  const script = `
    const { Client } = require(${JSON.stringify(require.resolve('..'))})
    ;(async () => {
      const c = await Client.connect(process.env.DATABASE_URL)
      await c.query('CREATE TABLE ${t} (v int4 NOT NULL)')
      async function* sets(n) { for (let i = 0; i < n; i++) yield [i] }
      const base = process.memoryUsage().rss
      const out = {}
      for (const n of [100000, 1000000]) {
        let peak = 0
        const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
        out[n] = { rowCount: (await c.executeMany('INSERT INTO ${t} VALUES ($1)', sets(n))).rowCount }
        clearInterval(timer)
        out[n].peakMiB = (peak - base) / 2 ** 20
      }
      out.rows = (await c.query('SELECT count(*)::int4 AS n FROM ${t}')).rows[0].n
      await c.query('DROP TABLE ${t}')
      await c.close()
      console.log(JSON.stringify(out))
    })()`
  const { execFileSync } = require('node:child_process')
  const out = JSON.parse(execFileSync(process.execPath, [...MEMORY_FLAGS, '-e', script], { encoding: 'utf8' }))
  assert.equal(out[1000000].rowCount, 1_000_000)
  assert.equal(out.rows, 1_100_000)
  const growth = out[1000000].peakMiB - out[100000].peakMiB
  assert.ok(growth < 32, `peak RSS: ${out[100000].peakMiB.toFixed(0)} MiB for 100k sets, ${out[1000000].peakMiB.toFixed(0)} MiB for 1M`)
})

test('1,000 rows take a few round trips; other queries on the client wait for the batch', async () => {
  const proxy = await countingProxy()
  const t = unique('t_many_rt')
  try {
    const trips = await roundTrips(
      proxy,
      (c) => c.query(`CREATE TEMP TABLE ${t} (v int4)`),
      async (c) => {
        proxy.reset()
        const batch = c.executeMany(`INSERT INTO ${t} VALUES ($1)`, Array.from({ length: 1000 }, (_, i) => [i]))
        const during = c.query(`SELECT count(*)::int4 AS n FROM ${t}`)
        assert.equal((await batch).rowCount, 1000)
        assert.equal((await during).rows[0].n, 1000, 'the concurrent query ran after the batch')
        assert.equal(proxy.counts.E, 1000 + 1)
        // One Sync per chunk (64, 256, then the rest), one per prepare and one for the SELECT.
        assert.ok(proxy.counts.S <= 3 + 2 + 1, `${proxy.counts.S} Syncs`)
        assert.equal(proxy.counts.P, 2, 'the INSERT and the SELECT were each prepared once')
        assert.equal(proxy.counts.Q, 2, 'BEGIN and COMMIT')
      },
    )
    // The batch (cold: prepare + executions with COMMIT) and the SELECT after it (prepare + execute).
    assert.ok(trips <= 4 + 2, `${trips.toFixed(2)} round trips`)
    const batchOnly = await roundTrips(
      proxy,
      (c) => c.query(`CREATE TEMP TABLE ${t} (v int4)`),
      (c) => c.executeMany(`INSERT INTO ${t} VALUES ($1)`, Array.from({ length: 1000 }, (_, i) => [i])),
    )
    assert.ok(batchOnly <= 4, `executeMany of 1,000 rows: ${batchOnly.toFixed(2)} round trips`)
  } finally {
    await proxy.close()
  }
})

test('Pool.executeMany runs on one pooled connection and returns it clean', async () => {
  const p = pool({ max: 1 })
  const t = unique('t_many_pool')
  try {
    await p.query(`CREATE TABLE ${t} (v int4 NOT NULL)`)
    assert.deepEqual(await p.executeMany(`INSERT INTO ${t} VALUES ($1)`, [[1], [2]]), { rowCount: 2 })
    await assert.rejects(p.executeMany(`INSERT INTO ${t} VALUES ($1)`, [[3], [null]]), { code: '23502', index: 1 })
    const c = await p.connect()
    assert.equal((await c.query(`SELECT count(*)::int4 AS n FROM ${t}`)).rows[0].n, 2)
    // Not left in a transaction: a savepoint outside one fails.
    await assert.rejects(c.query('SAVEPOINT x'), { code: '25P01' })
    c.release()
  } finally {
    await p.query(`DROP TABLE IF EXISTS ${t}`)
    await p.close()
  }
})

test('a value refused in a later chunk rolls back the chunks already run (no half-written batch)', () =>
  withTable(async (c, t) => {
    // 300 sets: the first chunk (64) runs before the chunk holding set 250 is checked.
    const sets = Array.from({ length: 300 }, (_, i) => [i === 250 ? 1.5 : i])
    const e = await c.executeMany(`INSERT INTO ${t} (v) VALUES ($1)`, sets).catch((x) => x)
    assert.equal(e.code, 'ERR_INVALID_PARAMETER')
    assert.equal(e.index, 250)
    assert.equal(await count(c, t), 0)
    assert.equal(c.transactionStatus, 'idle')
    // Inside a transaction: back to the savepoint, the transaction stays usable.
    await c.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${t} (v) VALUES (-1)`)
      await assert.rejects(tx.executeMany(`INSERT INTO ${t} (v) VALUES ($1)`, sets), { code: 'ERR_INVALID_PARAMETER' })
      assert.equal(await count(tx, t), 1)
    })
    assert.equal(await count(c, t), 1)
    // Inside a pipeline segment: the segment is rolled back.
    const err = await c.pipeline(async (p) => {
      await p.query(`INSERT INTO ${t} (v) VALUES (-2)`)
      await p.executeMany(`INSERT INTO ${t} (v) VALUES ($1)`, sets)
    }).catch((x) => x)
    assert.equal(err.code, 'ERR_INVALID_PARAMETER')
    assert.equal(await count(c, t), 1)
  }))
