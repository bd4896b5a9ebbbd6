'use strict'
// Implicit pipelining: concurrent queries on one connection are written without waiting for
// earlier results and run in call order.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('..')
const { connect, countingProxy, unique } = require('./helpers')

const DELAY = 25 // ms each way: one round trip = 50 ms

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

async function timed(fn) {
  const t0 = process.hrtime.bigint()
  const r = await fn()
  return [r, Number(process.hrtime.bigint() - t0) / 1e6]
}

test('200 pipelined statements take a few round trips, not 200', async () => {
  const proxy = await countingProxy({ delayMillis: DELAY })
  const c = await Client.connect(proxy.url)
  try {
    const rtt = 2 * DELAY
    await c.query('SELECT $1::int4 AS x', [0]) // warm
    proxy.reset()
    const [warm, warmMs] = await timed(() => Promise.all(Array.from({ length: 200 }, (_, i) => c.query('SELECT $1::int4 AS x', [i]))))
    assert.deepEqual(warm.map((r) => r.rows[0].x), Array.from({ length: 200 }, (_, i) => i))
    assert.equal(proxy.counts.S, 200, 'one Sync per statement')
    assert.equal(proxy.counts.P, undefined, 'warm: no Parse')
    assert.ok(warmMs < 3 * rtt, `warm pipeline took ${warmMs.toFixed(0)} ms (${(warmMs / rtt).toFixed(1)} round trips)`)

    proxy.reset()
    const [cold, coldMs] = await timed(() => Promise.all(Array.from({ length: 200 }, (_, i) => c.query('SELECT $1::int4 + 1 AS y', [i]))))
    assert.equal(cold[199].rows[0].y, 200)
    assert.equal(proxy.counts.P, 1, 'cold: one Parse')
    assert.ok(coldMs < 4 * rtt, `cold pipeline took ${coldMs.toFixed(0)} ms (${(coldMs / rtt).toFixed(1)} round trips)`)

    // For scale: awaiting each statement costs a round trip apiece.
    const [, serialMs] = await timed(async () => {
      for (let i = 0; i < 5; i++) await c.query('SELECT $1::int4 AS x', [i])
    })
    assert.ok(serialMs >= 5 * rtt * 0.9, `5 serial statements took ${serialMs.toFixed(0)} ms`)
  } finally {
    await c.close()
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
