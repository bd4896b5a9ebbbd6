'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { connect, pool, unique } = require('./helpers')

async function withTable(fn) {
  const c = await connect()
  const t = unique('t_tx')
  try {
    await c.query(`CREATE TABLE ${t} (id int4 PRIMARY KEY, s text)`)
    return await fn(c, t)
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${t}`)
    await c.close()
  }
}

const ids = async (c, t) => (await c.query(`SELECT id FROM ${t} ORDER BY id`)).rows.map((r) => r.id)

test('commits when the callback resolves, rolls back and rethrows when it throws', () =>
  withTable(async (c, t) => {
    const r = await c.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${t} VALUES (1, 'a')`)
      return 'done'
    })
    assert.equal(r, 'done')
    const boom = new Error('boom')
    const e = await c
      .transaction(async (tx) => {
        await tx.query(`INSERT INTO ${t} VALUES (2, 'b')`)
        throw boom
      })
      .catch((x) => x)
    assert.equal(e, boom)
    assert.deepEqual(await ids(c, t), [1])
    await assert.rejects(c.query('SAVEPOINT s'), { code: '25P01' }) // not left in a transaction
  }))

test('options: isolation level, read only, deferrable; bad options are rejected', () =>
  withTable(async (c, t) => {
    await c.transaction(
      async (tx) => {
        const r = await tx.query("SELECT current_setting('transaction_isolation') AS i, current_setting('transaction_read_only') AS ro")
        assert.deepEqual(r.rows[0], { i: 'serializable', ro: 'on' })
        await assert.rejects(tx.query(`INSERT INTO ${t} VALUES (1, 'x')`), { code: '25006' })
      },
      { isolationLevel: 'serializable', readOnly: true, deferrable: true },
    ).catch((e) => assert.equal(e.code, '25P02')) // the failed INSERT aborted it; COMMIT rolled back
    await c.transaction(async (tx) => {
      const r = await tx.query("SELECT current_setting('transaction_isolation') AS i")
      assert.equal(r.rows[0].i, 'repeatable read')
    }, { isolationLevel: 'repeatable read' })
    await assert.rejects(c.transaction(async () => {}, { isolationLevel: 'snapshot' }), { code: 'ERR_INVALID_ARGUMENT' })
  }))

test('a failing COMMIT (deferred constraint) rejects', () =>
  withTable(async (c, t) => {
    const r = unique('t_ref')
    await c.query(`CREATE TABLE ${r} (id int4 REFERENCES ${t} (id) DEFERRABLE INITIALLY DEFERRED)`)
    try {
      const e = await c
        .transaction(async (tx) => {
          await tx.query(`INSERT INTO ${r} VALUES (42)`)
        })
        .catch((x) => x)
      assert.equal(e.code, '23503')
      assert.equal((await c.query(`SELECT count(*)::int4 AS n FROM ${r}`)).rows[0].n, 0)
    } finally {
      await c.query(`DROP TABLE ${r}`)
    }
  }))

test('tx.transaction nests as a savepoint', () =>
  withTable(async (c, t) => {
    await c.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${t} VALUES (1, 'outer')`)
      await tx.transaction(async (inner) => {
        await inner.query(`INSERT INTO ${t} VALUES (2, 'inner kept')`)
      })
      const e = await tx
        .transaction(async (inner) => {
          await inner.query(`INSERT INTO ${t} VALUES (3, 'inner lost')`)
          await inner.query(`INSERT INTO ${t} VALUES (1, 'dup')`)
        })
        .catch((x) => x)
      assert.equal(e.code, '23505')
      await tx.query(`INSERT INTO ${t} VALUES (4, 'after')`) // the outer transaction is usable
    })
    assert.deepEqual(await ids(c, t), [1, 2, 4])
  }))

test('using tx after its block ended rejects with ERR_TRANSACTION_CLOSED', () =>
  withTable(async (c) => {
    let saved
    await c.transaction(async (tx) => {
      saved = tx
    })
    await assert.rejects(saved.query('SELECT 1'), { code: 'ERR_TRANSACTION_CLOSED' })
    await assert.rejects(saved.executeMany('SELECT $1', [[1]]), { code: 'ERR_TRANSACTION_CLOSED' })
    await assert.rejects(saved.transaction(async () => {}), { code: 'ERR_TRANSACTION_CLOSED' })
  }))

test('executeMany and pipeline on a Transaction: a failing batch leaves the transaction usable', () =>
  withTable(async (c, t) => {
    await c.transaction(async (tx) => {
      await tx.executeMany(`INSERT INTO ${t} VALUES ($1, $2)`, [[1, 'a'], [2, 'b']])
      const e = await tx.executeMany(`INSERT INTO ${t} VALUES ($1, $2)`, [[3, 'c'], [1, 'dup']]).catch((x) => x)
      assert.equal(e.index, 1)
      await tx.pipeline(async (p) => {
        p.query(`INSERT INTO ${t} VALUES (5, 'p')`)
      })
      assert.deepEqual(await ids(tx, t), [1, 2, 5])
    })
    assert.deepEqual(await ids(c, t), [1, 2, 5])
  }))

test('a pooled connection is never handed on inside a transaction', async () => {
  const app = unique('txpool')
  const p = pool({ max: 1, applicationName: app })
  const admin = await connect()
  const idleInTx = async () =>
    (await admin.query("SELECT count(*)::int4 AS n FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'", [app])).rows[0].n
  try {
    await assert.rejects(p.transaction(async (tx) => {
      await tx.query('SELECT 1')
      throw new Error('callback failed')
    }), /callback failed/)
    assert.equal(await idleInTx(), 0)
    // statement_timeout inside a transaction: the transaction is rolled back, not handed on.
    await assert.rejects(p.transaction(async (tx) => {
      await tx.query("SET LOCAL statement_timeout = '20ms'")
      await tx.query('SELECT pg_sleep(1)')
    }), { code: '57014' })
    assert.equal(await idleInTx(), 0)
    // A raw BEGIN, then release: the connection is discarded.
    const c = await p.connect()
    const pid = c.processId
    await c.query('BEGIN')
    c.release()
    await p.query('BEGIN') // and through pool.query
    const r = await p.query('SELECT pg_backend_pid() AS pid, now() = statement_timestamp() AS fresh')
    assert.notEqual(r.rows[0].pid, pid)
    await new Promise((res) => setTimeout(res, 50))
    assert.equal(await idleInTx(), 0)
    const d = await p.connect()
    await assert.rejects(d.query('SAVEPOINT s'), { code: '25P01' })
    d.release()
  } finally {
    await p.close()
    await admin.close()
  }
})
