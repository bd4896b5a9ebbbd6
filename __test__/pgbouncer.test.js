'use strict'
// A real PgBouncer (Debian's, 1.18) in transaction mode in front of the test server. Named
// statements (the default) cannot work there: a statement prepared on one server connection
// is not on the next, and the error says what to change. With `prepare: false` the same
// scenarios give the same results through PgBouncer as on a direct connection.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client, Pool } = require('..')
const { url, unique } = require('./helpers')

const u = new URL(url)
const target = { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1) }
let bouncer

before(async () => {
  const { startPgBouncer } = await import('../scripts/cluster.mjs')
  bouncer = await startPgBouncer(target, { mode: 'transaction', poolSize: 3 })
})

after(async () => {
  await bouncer?.stop()
})

const direct = (extra) => ({ ...target, sslmode: 'disable', ...extra })
const viaBouncer = (extra) => ({ ...target, host: '127.0.0.1', port: bouncer.port, sslmode: 'disable', ...extra })

test('named statements behind a transaction-mode pooler fail with advice', async () => {
  // Several clients interleave, so a statement prepared on one server connection is later
  // bound on another. Each waits a random moment before its query, so that the order in which
  // PgBouncer hands out server connections changes from round to round (with the same order
  // every round, each client can meet its own server connection each time: seen once in CI).
  const clients = await Promise.all(Array.from({ length: 6 }, () => Client.connect(viaBouncer())))
  const errors = []
  try {
    for (let round = 0; round < 50 && errors.length === 0; round++) {
      await Promise.all(clients.map(async (c, i) => {
        await new Promise((r) => setTimeout(r, Math.random() * 4))
        try {
          await c.query(`SELECT $1::int + ${i} AS v`, [round])
        } catch (e) {
          errors.push(e)
        }
      }))
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()))
  }
  assert.ok(errors.length > 0, 'a named statement met a server connection that does not have it')
  for (const e of errors) {
    assert.ok(['26000', '42P05'].includes(e.code), `${e.code}: ${e.message}`)
    assert.match(e.message, /prepare: false/)
  }
})

/** The same scenarios on any connection settings; returns what they observed. */
async function scenarios(config) {
  const out = {}
  const table = unique('bouncer')
  const pool = new Pool({ ...config, max: 4 })
  try {
    // Values of many types, binary both ways.
    const r = await pool.query(
      'SELECT $1::int4 AS i, $2::text AS t, $3::int8 AS b, $4::numeric AS n, $5::timestamptz AS ts, $6::jsonb AS j, $7::int4[] AS a, $8::bytea AS y, $9::uuid AS u, $10::bool AS f',
      [42, 'héllo', 9007199254740993n, '12.50', new Date('2026-01-02T03:04:05.678Z'), { k: [1, 2] }, [1, null, 3], Buffer.from([0, 255]), '8c1e6c4a-2f8e-4c53-9d3b-6b0d5f1e2a7c', true],
    )
    out.types = r.rows[0]
    // A wrong parameter is still refused before anything is sent, naming $n.
    await assert.rejects(pool.query('SELECT $1::int4 AS i', ['x']), (e) => e.code === 'ERR_INVALID_PARAMETER' && /\$1/.test(e.message))
    // Many callers at once.
    const many = await Promise.all(Array.from({ length: 100 }, (_, i) => pool.query('SELECT $1::int * 2 AS v', [i])))
    out.many = many.map((m) => m.rows[0].v)
    await pool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, v text)`)
    // Transactions: one that commits, one that rolls back.
    await pool.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} VALUES ($1, $2)`, [1, 'kept'])
      await tx.query(`INSERT INTO ${table} VALUES ($1, $2)`, [2, 'kept'])
    })
    await assert.rejects(pool.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} VALUES ($1, $2)`, [3, 'lost'])
      await tx.query('SELECT 1/0')
    }), { code: '22012' })
    // executeMany with RETURNING.
    const em = await pool.executeMany(`INSERT INTO ${table} VALUES ($1, $2) RETURNING id`, [[10, 'a'], [11, 'b'], [12, 'c']], { returning: true })
    out.executeMany = [em.rowCount, em.results.map((x) => x.rows[0].id)]
    // pipeline(): several statements, one round trip, one transaction.
    out.pipeline = await pool.pipeline(async (p) => {
      const a = p.query(`UPDATE ${table} SET v = $1 WHERE id = $2`, ['changed', 10])
      const b = p.query(`SELECT count(*)::int AS n FROM ${table}`)
      return [(await a).rowCount, (await b).rows[0].n]
    })
    // Pipelining on one client: queries sent without waiting for each other.
    const c = await Client.connect(config)
    try {
      const sent = Array.from({ length: 50 }, (_, i) => c.query('SELECT $1::text AS s', [`#${i}`]))
      out.pipelined = (await Promise.all(sent)).map((x) => x.rows[0].s)
    } finally {
      await c.close()
    }
    // A column whose type changes after the statement was described: described again.
    const q = `SELECT v FROM ${table} WHERE id = $1`
    out.before = (await pool.query(q, [1])).rows[0].v
    await pool.query(`ALTER TABLE ${table} ALTER COLUMN v TYPE int USING length(v)`)
    out.after = (await pool.query(q, [1])).rows[0].v
    out.rows = (await pool.query(`SELECT id, v FROM ${table} ORDER BY id`)).rows
  } finally {
    await pool.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {})
    await pool.close()
  }
  return out
}

test('prepare: false gives through PgBouncer what a direct connection gives', async () => {
  const straight = await scenarios(direct())
  const pooled = await scenarios(viaBouncer({ prepare: false }))
  assert.deepEqual(pooled, straight)
  // And the expected values themselves.
  assert.equal(straight.types.i, 42)
  assert.equal(straight.types.b, 9007199254740993n)
  assert.deepEqual(straight.types.a, [1, null, 3])
  assert.deepEqual(straight.many, Array.from({ length: 100 }, (_, i) => i * 2))
  assert.deepEqual(straight.executeMany, [3, [10, 11, 12]])
  assert.deepEqual(straight.pipeline, [1, 5])
  assert.equal(straight.before, 'kept')
  assert.equal(straight.after, 4)
  assert.deepEqual(straight.rows.map((r) => r.id), [1, 2, 10, 11, 12])
})

test('prepare: false on a direct connection leaves no named statement on the server', async () => {
  const c = await Client.connect(direct({ prepare: false }))
  try {
    for (let i = 0; i < 5; i++) await c.query('SELECT $1::int AS v', [i])
    const r = await c.query('SELECT count(*)::int AS n FROM pg_prepared_statements')
    assert.equal(r.rows[0].n, 0)
  } finally {
    await c.close()
  }
})
