'use strict'
// pool.stats(): the counters and the wait-time histogram the native pool keeps (docs/observability.md,
// "Pool metrics"), driven through real borrows, discards, timeouts, give-ups and refused logins.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Pool } = require('..')
const { url, pool: makePool } = require('./helpers')

const BOUNDS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 5000]

const sum = (xs) => xs.reduce((a, b) => a + b, 0)

test('a new pool: the old fields, every counter at 0, the documented bucket bounds', async () => {
  const p = makePool({ max: 3 })
  try {
    const s = p.stats()
    assert.deepEqual(s, {
      size: 0,
      idle: 0,
      waiting: 0,
      max: 3,
      acquired: 0,
      created: 0,
      destroyed: 0,
      timedOut: 0,
      abandoned: 0,
      errors: {},
      waitTime: { boundsMillis: BOUNDS, counts: new Array(BOUNDS.length + 1).fill(0), count: 0, sumMillis: 0 },
    })
  } finally {
    await p.close()
  }
})

test('borrows, creations and discards are counted; every borrow lands in one wait bucket', async () => {
  const p = makePool({ max: 2 })
  try {
    const a = await p.connect()
    const b = await p.connect()
    let s = p.stats()
    assert.equal(s.acquired, 2)
    assert.equal(s.created, 2)
    assert.equal(s.destroyed, 0)
    assert.equal(s.size, 2)
    a.release(true) // discarded
    b.release()
    s = p.stats()
    assert.equal(s.destroyed, 1)
    assert.equal(s.size, 1)
    await p.query('SELECT 1') // the idle one: nothing created
    // Takes back the connection pool.query keeps for its next call, and gives it back idle.
    const c = await p.connect()
    c.release()
    s = p.stats()
    assert.equal(s.created, 2)
    assert.ok(s.acquired >= 3, `acquired ${s.acquired}`)
    assert.equal(s.waitTime.count, sum(s.waitTime.counts))
    assert.equal(s.waitTime.count, s.acquired, 'no failed borrow: one wait per acquisition')
    assert.ok(s.waitTime.sumMillis > 0)
    assert.deepEqual(s.errors, {})
    await p.close()
    s = p.stats()
    assert.equal(s.size, 0)
    assert.equal(s.destroyed, s.created, 'closing the pool closes what it had')
  } finally {
    await p.close()
  }
})

test('acquireTimeoutMillis: a timed-out wait, by code, in a bucket above its limit', async () => {
  const p = makePool({ max: 1, acquireTimeoutMillis: 60 })
  try {
    const held = await p.connect()
    await assert.rejects(p.connect(), { code: 'ERR_POOL_TIMEOUT' })
    await assert.rejects(p.query('SELECT 1'), { code: 'ERR_POOL_TIMEOUT' })
    held.release()
    const s = p.stats()
    assert.equal(s.timedOut, 2)
    assert.deepEqual(s.errors, { ERR_POOL_TIMEOUT: 2 })
    assert.equal(s.acquired, 1)
    // Both waits lasted at least the 60 ms limit: above the 50 ms bound.
    const above50 = sum(s.waitTime.counts.slice(BOUNDS.indexOf(50) + 1))
    assert.equal(above50, 2)
    assert.ok(s.waitTime.sumMillis >= 120)
  } finally {
    await p.close()
  }
})

test('a caller that gives up waiting is counted as abandoned', async () => {
  const p = makePool({ max: 1 })
  try {
    const held = await p.connect()
    const ac = new AbortController()
    const waiting = p.connect({ signal: ac.signal })
    await new Promise((r) => setTimeout(r, 20))
    ac.abort()
    await assert.rejects(waiting, { code: 'ERR_QUERY_CANCELLED' })
    held.release()
    // The native wait ends on the runtime: poll until it has counted (bounded by the test's own timeout).
    while (p.stats().abandoned === 0) await new Promise((r) => setTimeout(r, 5))
    const s = p.stats()
    assert.equal(s.abandoned, 1)
    assert.equal(s.timedOut, 0)
  } finally {
    await p.close()
  }
})

test('connections the server refuses are counted by SQLSTATE', async () => {
  const bad = new URL(url)
  bad.password = 'not-the-password'
  const p = new Pool({ connectionString: bad.href, max: 1 })
  try {
    await assert.rejects(p.query('SELECT 1'), { code: '28P01' })
    await assert.rejects(p.connect(), { code: '28P01' })
    const s = p.stats()
    assert.deepEqual(s.errors, { '28P01': 2 })
    assert.equal(s.created, 0)
    assert.equal(s.acquired, 0)
    assert.equal(s.waitTime.count, 2)
  } finally {
    await p.close()
  }
})

test('the OpenTelemetry metrics example exports the counters through observable instruments', async () => {
  const { MeterProvider, MetricReader, AggregationTemporality } = require('@opentelemetry/sdk-metrics')
  const { observePoolMetrics } = require('../examples/otel-pool-metrics')
  class Reader extends MetricReader {
    constructor() {
      super({ aggregationTemporalitySelector: () => AggregationTemporality.CUMULATIVE })
    }
    async onForceFlush() {}
    async onShutdown() {}
  }
  const reader = new Reader()
  const provider = new MeterProvider({ readers: [reader] })
  const p = makePool({ max: 2 })
  try {
    const stop = observePoolMetrics(p, provider.getMeter('ferropg-test'), { 'db.client.connection.pool.name': 'main' })
    const c = await p.connect()
    const { resourceMetrics } = await reader.collect()
    const metrics = new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m.dataPoints]))
    const value = (name, attrs = {}) => metrics.get(name)?.find((d) => Object.entries(attrs).every(([k, v]) => d.attributes[k] === v))?.value
    assert.equal(value('db.client.connection.count', { 'db.client.connection.state': 'used' }), 1)
    assert.equal(value('db.client.connection.count', { 'db.client.connection.state': 'idle' }), 0)
    assert.equal(value('db.client.connection.max'), 2)
    assert.equal(value('db.client.connection.pending_requests'), 0)
    assert.equal(value('ferropg.pool.acquired'), 1)
    assert.equal(value('ferropg.pool.created'), 1)
    assert.equal(value('ferropg.pool.destroyed'), 0)
    assert.equal(value('db.client.connection.timeouts'), 0)
    assert.equal(value('db.client.connection.count', { 'db.client.connection.pool.name': 'main', 'db.client.connection.state': 'used' }), 1)
    c.release()
    stop()
  } finally {
    await provider.shutdown()
    await p.close()
  }
})
