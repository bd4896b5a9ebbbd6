'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { pool } = require('./helpers')

test('a pooled connection killed idle, mid-query or mid-transaction: ERR_CONNECTION_CLOSED, then a fresh one', async () => {
  const unhandled = []
  const onUnhandled = (e) => unhandled.push(e)
  process.on('unhandledRejection', onUnhandled)
  const p = pool({ max: 1 })
  const admin = pool({ max: 1 })
  const kill = (pid) => admin.query('SELECT pg_terminate_backend($1) AS ok', [pid])
  try {
    // Idle.
    let c = await p.connect()
    let pid = c.processId
    c.release()
    await kill(pid)
    await new Promise((r) => setTimeout(r, 100))
    assert.notEqual((await p.query('SELECT pg_backend_pid() AS pid')).rows[0].pid, pid)
    // Mid-query.
    c = await p.connect()
    pid = c.processId
    const running = c.query('SELECT pg_sleep(30)').catch((x) => x)
    await new Promise((r) => setTimeout(r, 100))
    await kill(pid)
    const e = await running
    assert.equal(e.code, 'ERR_CONNECTION_CLOSED')
    assert.match(e.message, /57P01/)
    c.release()
    assert.equal((await p.query('SELECT 1 AS ok')).rows[0].ok, 1)
    // Mid-transaction: reported failed, never retried.
    let attempts = 0
    const e2 = await p
      .transaction(async (tx) => {
        attempts++
        const me = (await tx.query('SELECT pg_backend_pid() AS pid')).rows[0].pid
        await kill(me)
        await tx.query('SELECT 2')
      })
      .catch((x) => x)
    assert.equal(e2.code, 'ERR_CONNECTION_CLOSED')
    assert.equal(attempts, 1)
    assert.equal((await p.query('SELECT 3 AS ok')).rows[0].ok, 3)
    assert.deepEqual(unhandled, [])
  } finally {
    process.off('unhandledRejection', onUnhandled)
    await p.close()
    await admin.close()
  }
})

test('a pooled connection terminated while idle is not handed out, even before its task has read the FATAL', async () => {
  const p = pool({ max: 2 })
  const admin = pool({ max: 1 })
  try {
    for (let round = 0; round < 20; round++) {
      const c = await p.connect()
      const pid = c.processId
      c.release()
      await admin.query('SELECT pg_terminate_backend($1)', [pid])
      // The server's FATAL and close arrive while this thread is busy, so the connection's task
      // cannot read them before the next query picks a connection: the pool must look itself.
      const until = Date.now() + 5
      while (Date.now() < until);
      const r = await p.query('SELECT pg_backend_pid() AS pid')
      assert.notEqual(r.rows[0].pid, pid, `round ${round}: the terminated backend answered`)
    }
    // The terminated ones were discarded, not counted against max.
    assert.ok(p.stats().size <= 2)
  } finally {
    await p.close()
    await admin.close()
  }
})
