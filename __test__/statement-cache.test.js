'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Client } = require('..')
const { connect, countingProxy, unique } = require('./helpers')

async function prepared(c) {
  return (await c.query('SELECT count(*)::int4 AS n FROM pg_prepared_statements')).rows[0].n
}

test('the cache is a bounded LRU; evicted statements are closed on the server', async () => {
  const c = await connect({ statementCacheSize: 3 })
  try {
    let max = 0
    for (let i = 0; i < 12; i++) {
      await c.query(`SELECT ${i}::int4 AS x`)
      max = Math.max(max, await prepared(c))
    }
    // The count query is cached too: it is one of the three.
    assert.ok(max <= 3 + 1, `prepared statements peaked at ${max}`)
    assert.ok((await prepared(c)) <= 3)
  } finally {
    await c.close()
  }
})

test('statementCacheSize 0 disables caching', async () => {
  const c = await connect({ statementCacheSize: 0 })
  try {
    for (let i = 0; i < 5; i++) await c.query(`SELECT ${i}::int4 AS x`)
    await new Promise((r) => setTimeout(r, 20))
    assert.equal(await prepared(c), 1) // only the statement counting them, while it runs
  } finally {
    await c.close()
  }
})

test('a repeated query is one round trip: Bind/Execute/Sync, no Parse', async () => {
  const proxy = await countingProxy()
  const c = await Client.connect(proxy.url)
  try {
    await c.query('SELECT $1::int4 AS x', [1])
    proxy.reset()
    for (let i = 0; i < 10; i++) assert.equal((await c.query('SELECT $1::int4 AS x', [i])).rows[0].x, i)
    assert.equal(proxy.counts.P, undefined, 'no Parse')
    assert.equal(proxy.counts.S, 10, 'one Sync per query')
    assert.equal(proxy.counts.B, 10)
  } finally {
    await c.close()
    await proxy.close()
  }
})

test('a changed result type (0A000) and a vanished statement (26000) are retried once outside a transaction', async () => {
  const c = await connect()
  const t = unique('t_cache')
  try {
    await c.query(`CREATE TABLE ${t} (a int4)`)
    await c.query(`INSERT INTO ${t} VALUES (1)`)
    assert.deepEqual((await c.query(`SELECT * FROM ${t}`)).rows, [{ a: 1 }])
    await c.query(`ALTER TABLE ${t} ADD COLUMN b text DEFAULT 'x'`)
    assert.deepEqual((await c.query(`SELECT * FROM ${t}`)).rows, [{ a: 1, b: 'x' }])
    await c.query('DEALLOCATE ALL')
    assert.deepEqual((await c.query(`SELECT * FROM ${t}`)).rows, [{ a: 1, b: 'x' }])
    // Inside a transaction the error surfaces (the transaction is aborted by then).
    await c.query('BEGIN')
    await c.query(`ALTER TABLE ${t} ADD COLUMN c int4`)
    await assert.rejects(c.query(`SELECT * FROM ${t}`), { code: '0A000' })
    await c.query('ROLLBACK')
    assert.deepEqual((await c.query(`SELECT * FROM ${t}`)).rows, [{ a: 1, b: 'x' }])
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${t}`)
    await c.close()
  }
})
