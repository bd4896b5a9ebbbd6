'use strict'
// The retry rule (issue 17): a pool.query statement whose connection closed before it ran (its
// request never sent, or the server's FATAL before any answer to it) runs once more on another
// connection; a statement that may have run is never retried. A sequence counts attempts:
// nextval() is not undone when its transaction is.
const test = require('node:test')
const assert = require('node:assert/strict')
const { pool, unique } = require('./helpers')

const seq = unique('attempts')
let admin

test.before(async () => {
  admin = pool({ max: 1 })
  await admin.query(`CREATE SEQUENCE ${seq}`)
})

test.after(async () => {
  await admin.query(`DROP SEQUENCE IF EXISTS ${seq}`)
  await admin.close()
})

// Terminates the backend running a statement that contains `marker`, once it sleeps in it (not
// while the statement is being prepared: that would stop it before it ran, and the retry would
// be its first execution).
async function terminateWhenRunning(marker) {
  for (let i = 0; i < 200; i++) {
    const r = await admin.query(
      "SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE state = 'active' AND wait_event = 'PgSleep' AND query LIKE $1 AND pid <> pg_backend_pid()",
      [`%${marker}%`],
    )
    if (r.rows.length > 0) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new Error(`no statement with ${marker} ran`)
}

const attempts = async () => Number((await admin.query(`SELECT last_value FROM ${seq}`)).rows[0].last_value)

test('a statement whose backend is terminated before it answered runs once more elsewhere and resolves', async () => {
  const p = pool({ max: 2 })
  try {
    await admin.query(`ALTER SEQUENCE ${seq} RESTART`)
    const marker = unique('retry_me')
    // The first attempt sleeps until it is terminated; the second (n = 2) answers at once.
    const call = p.query(`SELECT n, pg_backend_pid() AS pid, pg_sleep(CASE WHEN n = 1 THEN 30 ELSE 0 END) /* ${marker} */ FROM (SELECT nextval('${seq}') AS n) x`)
    await terminateWhenRunning(marker)
    const r = await call
    assert.equal(Number(r.rows[0].n), 2, 'the second attempt answered')
    assert.equal(await attempts(), 2)
    assert.ok(p.stats().size <= 2)
  } finally {
    await p.close()
  }
})

test('a statement that had begun to answer is not retried: ERR_CONNECTION_CLOSED, one attempt', async () => {
  const p = pool({ max: 2 })
  try {
    await admin.query(`ALTER SEQUENCE ${seq} RESTART`)
    const marker = unique('answered')
    // ~100 kB of rows go out (the server flushes every 8 kB) before the sleep at row 101.
    const call = p.query(`SELECT g, repeat('x', 1000) AS pad, pg_sleep(CASE WHEN g = 101 THEN 30 ELSE 0 END) /* ${marker} */ FROM (SELECT nextval('${seq}') AS n) x, generate_series(1, 110) g`).catch((e) => e)
    await terminateWhenRunning(marker)
    const e = await call
    assert.equal(e.code, 'ERR_CONNECTION_CLOSED')
    assert.match(e.message, /57P01/)
    assert.equal(await attempts(), 1)
    assert.equal((await p.query('SELECT 1 AS ok')).rows[0].ok, 1)
  } finally {
    await p.close()
  }
})

test('a borrowed client\'s statement is never retried (its session is the caller\'s)', async () => {
  const p = pool({ max: 2 })
  try {
    await admin.query(`ALTER SEQUENCE ${seq} RESTART`)
    const marker = unique('borrowed')
    const c = await p.connect()
    const call = c.query(`SELECT pg_sleep(30) /* ${marker} */ FROM (SELECT nextval('${seq}')) x`).catch((e) => e)
    await terminateWhenRunning(marker)
    const e = await call
    c.release()
    assert.equal(e.code, 'ERR_CONNECTION_CLOSED')
    assert.equal(await attempts(), 1)
  } finally {
    await p.close()
  }
})

test('healthCheckAfterMillis: a connection whose flow went silent is found out before it is handed out', async () => {
  const { faultProxy } = require('./fault-proxy')
  const { url } = require('./helpers')
  const target = new URL(url)
  const proxy = await faultProxy({ host: target.hostname, port: Number(target.port || 5432) })
  const p = pool({ connectionString: proxy.url(url), max: 1, healthCheckAfterMillis: 50, connectTimeoutMillis: 1000 })
  try {
    const first = (await p.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
    // Nothing reaches either side any more, and nothing says so (a dropped flow).
    proxy.stall()
    await new Promise((resolve) => setTimeout(resolve, 100))
    const started = Date.now()
    const r = await p.query('SELECT pg_backend_pid() AS pid')
    assert.notEqual(r.rows[0].pid, first, 'a new connection answered')
    // The check waited connectTimeoutMillis, not the query's whole life.
    assert.ok(Date.now() - started < 3000, `took ${Date.now() - started} ms`)
    assert.equal(p.stats().size, 1)
  } finally {
    await p.close()
    await proxy.close()
  }
})

test('healthCheckAfterMillis: the round trip is one empty query, made only past the setting (0: every hand-out)', async () => {
  const { faultProxy } = require('./fault-proxy')
  const { url } = require('./helpers')
  const target = new URL(url)
  const proxy = await faultProxy({ host: target.hostname, port: Number(target.port || 5432) })
  // Bytes the driver sends for 10 hand-outs of a warm statement, counted by the proxy.
  const sent = async (after) => {
    const p = pool({ connectionString: proxy.url(url), max: 1, healthCheckAfterMillis: after })
    try {
      await p.query('SELECT $1::int4 AS n', [1])
      const before = proxy.stats.bytes.toServer
      for (let i = 0; i < 10; i++) assert.equal((await p.query('SELECT $1::int4 AS n', [i])).rows[0].n, i)
      return proxy.stats.bytes.toServer - before
    } finally {
      await p.close()
    }
  }
  try {
    const always = await sent(0)
    const seldom = await sent(60000)
    // An empty simple Query is 6 bytes: 'Q', its length, the empty string's NUL.
    assert.equal(always - seldom, 10 * 6)
  } finally {
    await proxy.close()
  }
})
