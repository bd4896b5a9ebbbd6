'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { connect, pool, unique, poolState } = require('./helpers')

async function stateOf(admin, pid) {
  return (await admin.query('SELECT state FROM pg_stat_activity WHERE pid = $1', [pid])).rows[0]?.state
}

test('timeoutMillis and signal cancel on the server: ERR_QUERY_CANCELLED with 57014 as cause', async () => {
  const c = await connect()
  const admin = await connect()
  try {
    const t0 = Date.now()
    const e = await c.query('SELECT pg_sleep(30)', [], { timeoutMillis: 150 }).catch((x) => x)
    assert.equal(e.code, 'ERR_QUERY_CANCELLED')
    assert.equal(e.cause.code, '57014')
    assert.match(e.message, /timeoutMillis \(150 ms\)/)
    assert.ok(Date.now() - t0 < 1000)
    assert.equal(await stateOf(admin, c.processId), 'idle') // the backend really stopped
    const ac = new AbortController()
    setTimeout(() => ac.abort(new Error('user gave up')), 100)
    const e2 = await c.query('SELECT pg_sleep(30)', [], { signal: ac.signal }).catch((x) => x)
    assert.equal(e2.code, 'ERR_QUERY_CANCELLED')
    assert.equal(e2.cause.code, '57014')
    assert.equal(e2.reason.message, 'user gave up')
    await assert.rejects(c.query('SELECT 1', [], { signal: AbortSignal.abort() }), { code: 'ERR_QUERY_CANCELLED' })
    await assert.rejects(c.query('SELECT 1', [], { timeoutMillis: -1 }), { code: 'ERR_INVALID_ARGUMENT' })
    // A fast statement is not affected; a server-side statement_timeout stays a DatabaseError.
    assert.equal((await c.query('SELECT 1 AS ok', [], { timeoutMillis: 5000 })).rows[0].ok, 1)
    await c.query("SET statement_timeout = '50ms'")
    await assert.rejects(c.query('SELECT pg_sleep(1)'), { code: '57014', name: 'DatabaseError' })
    await c.query('RESET statement_timeout')
  } finally {
    await c.close()
    await admin.close()
  }
})

test('client.cancel() stops what runs now; the connection stays usable', async () => {
  const c = await connect()
  try {
    const running = c.query('SELECT pg_sleep(30)').catch((x) => x)
    await new Promise((r) => setTimeout(r, 100))
    await c.cancel()
    const e = await running
    assert.equal(e.code, '57014')
    assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1)
  } finally {
    await c.close()
  }
})

test('executeMany, cursor, copyFrom and COPY streams take signal/timeoutMillis', async () => {
  const c = await connect()
  const t = unique('t_cancel')
  try {
    await c.query(`CREATE TABLE ${t} (a int4)`)
    const e = await c
      .executeMany('SELECT pg_sleep($1)', [[0], [30], [0]], { timeoutMillis: 150 })
      .catch((x) => x)
    assert.equal(e.code, 'ERR_QUERY_CANCELLED')
    assert.equal(e.cause.code, '57014')
    const e2 = await (async () => {
      for await (const row of c.cursor('SELECT pg_sleep(30) FROM generate_series(1, 2)', [], { timeoutMillis: 150 })) assert.fail(String(row))
    })().catch((x) => x)
    assert.equal(e2.code, 'ERR_QUERY_CANCELLED')
    const e3 = await c
      .copyFrom(t, (async function* () { for (let i = 0; ; i++) yield [i] })(), { timeoutMillis: 100 })
      .catch((x) => x)
    assert.equal(e3.code, 'ERR_QUERY_CANCELLED')
    const out = await c.copyOut('COPY (SELECT g FROM generate_series(1, 100000000) g) TO STDOUT', { timeoutMillis: 150 })
    const e4 = await (async () => {
      for await (const chunk of out) assert.ok(chunk)
    })().catch((x) => x)
    assert.equal(e4.code, 'ERR_QUERY_CANCELLED')
    assert.equal((await c.query(`SELECT count(*)::int4 AS n FROM ${t}`)).rows[0].n, 0)
    await assert.rejects(c.query('SAVEPOINT s'), { code: '25P01' }) // nothing left open
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${t}`)
    await c.close()
  }
})

test('pool: a cancelled query returns its connection clean; connect({ signal }) stops waiting', async () => {
  const p = pool({ max: 1 })
  try {
    await assert.rejects(p.query('SELECT pg_sleep(30)', [], { timeoutMillis: 100 }), { code: 'ERR_QUERY_CANCELLED' })
    const t0 = Date.now()
    assert.equal((await p.query('SELECT 1 AS ok')).rows[0].ok, 1) // not queued behind the abandoned query
    assert.ok(Date.now() - t0 < 1000)
    const held = await p.connect()
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 50)
    await assert.rejects(p.connect({ signal: ac.signal }), { code: 'ERR_QUERY_CANCELLED' })
    held.release()
    await new Promise((r) => setTimeout(r, 20))
    assert.deepEqual(poolState(p), { size: 1, idle: 1, waiting: 0, max: 1 })
  } finally {
    await p.close()
  }
})
