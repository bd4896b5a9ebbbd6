'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { connect, pool, MEMORY_FLAGS } = require('./helpers')

const cursorsOpen = async (c) => (await c.query("SELECT count(*)::int4 AS n FROM pg_cursors WHERE name LIKE 'ferropg_cursor%'")).rows[0].n

test('cursor yields every row in batches; other queries may run between batches', async () => {
  const c = await connect()
  try {
    let n = 0
    let sum = 0
    for await (const r of c.cursor('SELECT g FROM generate_series(1, $1::int4) g', [1050], { batchSize: 100 })) {
      n++
      sum += r.g
      if (r.g === 500) assert.equal((await c.query('SELECT 7 AS x')).rows[0].x, 7)
    }
    assert.equal(n, 1050)
    assert.equal(sum, (1050 * 1051) / 2)
    const arrays = []
    for await (const r of c.cursor('SELECT 1 AS a, 2 AS a', [], { rowMode: 'array' })) arrays.push(r)
    assert.deepEqual(arrays, [[1, 2]])
    await assert.rejects(c.query('SAVEPOINT s'), { code: '25P01' }) // its own transaction ended
  } finally {
    await c.close()
  }
})

test('break closes the cursor; an error mid-stream rejects and leaves nothing open', async () => {
  const c = await connect()
  try {
    for await (const r of c.cursor('SELECT g FROM generate_series(1, 10000000) g')) if (r.g === 5) break
    assert.equal(await cursorsOpen(c), 0)
    await assert.rejects(c.query('SAVEPOINT s'), { code: '25P01' })
    const e = await (async () => {
      for await (const r of c.cursor('SELECT 1 / (g - 3) AS x FROM generate_series(1, 5) g', [], { batchSize: 1 })) assert.ok(r)
    })().catch((x) => x)
    assert.equal(e.code, '22012')
    assert.equal(await cursorsOpen(c), 0)
    await assert.rejects(c.query('SAVEPOINT s'), { code: '25P01' })
    // Inside a transaction the cursor does not end it.
    await c.transaction(async (tx) => {
      let n = 0
      for await (const r of tx.cursor('SELECT g FROM generate_series(1, 10) g', [], { batchSize: 4 })) n += r.g
      assert.equal(n, 55)
      assert.equal(await cursorsOpen(tx), 0)
    })
  } finally {
    await c.close()
  }
})

test('a slow consumer over 10,000,000 rows keeps memory flat', () => {
  // In a fresh process, so that the test runner's own memory does not blur the figure.
  const { execFileSync } = require('node:child_process')
  const script = `
    const { Client } = require(${JSON.stringify(require.resolve('..'))})
    ;(async () => {
      const c = await Client.connect(process.env.DATABASE_URL)
      const before = process.memoryUsage().rss
      let peak = before
      let n = 0
      for await (const r of c.cursor('SELECT g FROM generate_series(1, 10000000) g', [], { batchSize: 5000 })) {
        n++
        if (n % 50000 === 0) {
          peak = Math.max(peak, process.memoryUsage().rss)
          await new Promise((res) => setTimeout(res, 1))
        }
      }
      await c.close()
      console.log(JSON.stringify({ n, growthMiB: (peak - before) / 2 ** 20 }))
    })()`
  const out = JSON.parse(execFileSync(process.execPath, [...MEMORY_FLAGS, '-e', script], { encoding: 'utf8' }))
  assert.equal(out.n, 10_000_000)
  assert.ok(out.growthMiB < 64, `RSS grew ${out.growthMiB.toFixed(0)} MiB`)
})

test('from a Pool a cursor holds one connection and a transaction, then releases it', async () => {
  const p = pool({ max: 1 })
  try {
    let n = 0
    for await (const r of p.cursor('SELECT g FROM generate_series(1, 10) g', [], { batchSize: 3 })) {
      n += r.g
      assert.equal(p.stats().idle, 0)
    }
    assert.equal(n, 55)
    assert.equal(p.stats().idle, 1)
    for await (const r of p.cursor('SELECT g FROM generate_series(1, 10) g')) if (r.g === 2) break
    assert.equal(p.stats().idle, 1)
    const c = await p.connect()
    await assert.rejects(c.query('SAVEPOINT s'), { code: '25P01' })
    c.release()
  } finally {
    await p.close()
  }
})
