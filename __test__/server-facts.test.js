'use strict'
// Facts come from the server's messages, not from the SQL text: transaction status from
// ReadyForQuery, command and rowCount from CommandComplete. Regression tests named after what
// broke when ferropg read the SQL instead.
const test = require('node:test')
const assert = require('node:assert/strict')
const { connect, pool, unique } = require('./helpers')

// A discarded connection's backend leaves pg_stat_activity once the server has seen the socket
// close, which may take a moment on a loaded machine: wait up to 3 s for it.
async function idleInTransaction(admin, app) {
  for (let i = 0; ; i++) {
    const { rows } = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND state LIKE 'idle in transaction%'", [app])
    if (rows[0].n === 0 || i === 30) return rows[0].n
    await new Promise((r) => setTimeout(r, 100))
  }
}

test('client.transactionStatus is what the server said in its last ReadyForQuery', async () => {
  const c = await connect()
  try {
    assert.equal(c.transactionStatus, 'idle')
    await c.query('/* a comment first */ BEGIN')
    assert.equal(c.transactionStatus, 'inTransaction')
    await assert.rejects(c.query('SELECT 1/0'), { code: '22012' })
    assert.equal(c.transactionStatus, 'inError')
    await c.query('ROLLBACK')
    assert.equal(c.transactionStatus, 'idle')
    await c.query('START TRANSACTION')
    await c.query('COMMIT AND CHAIN')
    assert.equal(c.transactionStatus, 'inTransaction', 'COMMIT AND CHAIN opens the next transaction')
    await c.query('ROLLBACK')
    assert.equal(c.transactionStatus, 'idle')
  } finally {
    await c.close()
  }
})

for (const [name, open] of [
  ['a comment before BEGIN', ['/* note */ BEGIN']],
  ['a line comment before BEGIN', ['-- note\nBEGIN']],
  ['COMMIT AND CHAIN', ['BEGIN', 'COMMIT AND CHAIN']],
  ['ROLLBACK AND CHAIN', ['BEGIN', 'ROLLBACK AND CHAIN']],
  ['a failed transaction', ['BEGIN', 'SELECT 1/0']],
]) {
  test(`a pooled connection released after ${name} is not handed on inside that transaction`, async () => {
    const app = unique('leak')
    const p = pool({ max: 1, applicationName: app })
    const admin = await connect()
    const table = unique('leak_t')
    try {
      await admin.query(`CREATE TABLE ${table} (v int)`)
      const c = await p.connect()
      for (const sql of open) await c.query(sql).catch(() => {})
      assert.notEqual(c.transactionStatus, 'idle')
      c.release()
      const next = await p.connect()
      try {
        assert.equal(next.transactionStatus, 'idle')
        await next.query(`INSERT INTO ${table} VALUES (1)`)
        // Committed: visible from another session at once.
        assert.equal((await admin.query(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n, 1)
      } finally {
        next.release()
      }
      assert.equal(await idleInTransaction(admin, app), 0)
    } finally {
      await admin.query(`DROP TABLE IF EXISTS ${table}`)
      await admin.close()
      await p.close()
    }
  })
}

test('a pooled client released while its BEGIN is still in flight is not handed on inside that transaction', async () => {
  const app = unique('leak_inflight')
  const p = pool({ max: 1, applicationName: app })
  const admin = await connect()
  try {
    const c = await p.connect()
    // Not awaited, and not cached yet (prepared first): still queued when it is released.
    const begin = c.query('BEGIN')
    c.release()
    const next = await p.connect()
    await begin
    assert.equal(next.transactionStatus, 'idle')
    assert.notEqual(next.processId, c.processId, 'the connection left inside a transaction was discarded')
    next.release()
    assert.equal(await idleInTransaction(admin, app), 0)
  } finally {
    await admin.close()
    await p.close()
  }
})

test('pool.query and pool.simpleQuery that leave a transaction open do not leave it to the next caller', async () => {
  const app = unique('leak_q')
  const p = pool({ max: 1, applicationName: app })
  const admin = await connect()
  try {
    await p.query('/* x */ BEGIN')
    assert.equal((await p.query('SELECT pg_current_xact_id_if_assigned() IS NULL AS none')).rows[0].none, true)
    await p.simpleQuery('SELECT 1; BEGIN')
    const c = await p.connect()
    assert.equal(c.transactionStatus, 'idle')
    c.release()
    assert.equal(await idleInTransaction(admin, app), 0)
  } finally {
    await admin.close()
    await p.close()
  }
})

test('command and rowCount come from the server tag (CREATE TABLE AS reports SELECT)', async () => {
  const c = await connect()
  const t = unique('tag')
  try {
    const r = await c.query(`CREATE TEMP TABLE ${t} AS SELECT g AS v FROM generate_series(1, 3) g`)
    assert.equal(r.command, 'SELECT')
    assert.equal(r.rowCount, 3)
    const ins = await c.query(`/* x */ INSERT INTO ${t} VALUES (4), (5)`)
    assert.deepEqual([ins.command, ins.rowCount], ['INSERT', 2])
    const upd = await c.query(`WITH x AS (SELECT 1) UPDATE ${t} SET v = v + 1 WHERE v > 3`)
    assert.deepEqual([upd.command, upd.rowCount], ['UPDATE', 2])
    const del = await c.query(`DELETE FROM ${t} WHERE v = $1`, [1])
    assert.deepEqual([del.command, del.rowCount], ['DELETE', 1])
    const sel = await c.query('VALUES (1), (2)')
    assert.deepEqual([sel.command, sel.rowCount], ['SELECT', 2])
    const d = await c.query('DO $$ BEGIN END $$')
    assert.equal(d.command, 'DO')
    const set = await c.query("SET application_name = 'x'")
    assert.deepEqual([set.command, set.rowCount], ['SET', 0])
  } finally {
    await c.close()
  }
})

test('simpleQuery runs a script and gives one result per statement', async () => {
  const c = await connect()
  const t = unique('script')
  try {
    const results = await c.simpleQuery(`
      CREATE TEMP TABLE ${t} (id serial, v text);
      INSERT INTO ${t} (v) VALUES ('a'), ('b');
      SELECT id, v FROM ${t} ORDER BY id;
      UPDATE ${t} SET v = upper(v)`)
    assert.deepEqual(
      results.map((r) => [r.command, r.rowCount]),
      [['CREATE', 0], ['INSERT', 2], ['SELECT', 2], ['UPDATE', 2]],
    )
    assert.deepEqual(results[2].rows.map((r) => ({ ...r })), [{ id: 1, v: 'a' }, { id: 2, v: 'b' }])
    assert.deepEqual(results[2].fields.map((f) => f.name), ['id', 'v'])
    // An empty script: the server answers EmptyQueryResponse, one empty result.
    assert.deepEqual((await c.simpleQuery('')).map((r) => [r.command, r.rows.length]), [['', 0]])
  } finally {
    await c.close()
  }
})

test('a failing statement of a script rejects with its DatabaseError and the script is rolled back', async () => {
  const c = await connect()
  const t = unique('script_fail')
  try {
    await c.query(`CREATE TEMP TABLE ${t} (v int)`)
    await assert.rejects(c.simpleQuery(`INSERT INTO ${t} VALUES (1); SELECT 1/0; INSERT INTO ${t} VALUES (2)`), { code: '22012' })
    assert.equal((await c.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n, 0)
    assert.equal(c.transactionStatus, 'idle')
    // A script that manages its own transaction keeps what it committed.
    await c.simpleQuery(`BEGIN; INSERT INTO ${t} VALUES (3); COMMIT; SELECT 1`)
    assert.equal((await c.query(`SELECT count(*)::int AS n FROM ${t}`)).rows[0].n, 1)
    // COPY FROM STDIN cannot take data from a script: refused, the connection stays usable,
    // and a script queued right behind it gets its own answer.
    const [copy, next] = await Promise.allSettled([c.simpleQuery(`COPY ${t} FROM STDIN`), c.simpleQuery('SELECT 2 AS v')])
    assert.match(copy.reason?.message ?? '', /simpleQuery/)
    assert.equal(next.value?.[0].rows[0].v, 2)
    assert.equal((await c.query('SELECT 3 AS v')).rows[0].v, 3)
    // As a query (prepared, pipelined with others) it is refused before it runs: prepared
    // (which runs nothing), recognised (no parameters, no columns, and its text) and never
    // executed; a query queued right behind it gets its own answer. The same once copyIn has
    // put the statement in the cache, and through executeMany.
    const refused = (e) => e.code === 'ERR_INVALID_ARGUMENT' && /copyIn/.test(e.message)
    for (const copySql of [`/* x */ COPY ${t} FROM STDIN`, `COPY ${t} FROM STDIN`]) {
      const [q, behind] = await Promise.allSettled([c.query(copySql), c.query('SELECT 5 AS v')])
      assert.ok(refused(q.reason), String(q.reason))
      assert.equal(behind.value?.rows[0].v, 5)
      const w = await c.copyIn(copySql)
      w.end('7\n')
      assert.equal(await w.done, 1)
      await assert.rejects(c.query(copySql), refused)
      await assert.rejects(c.executeMany(copySql, [[], []]), refused)
    }
    assert.equal((await c.query(`SELECT count(*)::int AS n FROM ${t} WHERE v = 7`)).rows[0].n, 2)
    await assert.rejects(c.pipeline((pl) => pl.query(`COPY ${t} FROM STDIN`)), { code: 'ERR_INVALID_ARGUMENT' })
    assert.equal((await c.query('SELECT 4 AS v')).rows[0].v, 4)
  } finally {
    await c.close()
  }
})

test('query() with several statements keeps the server error and points to simpleQuery', async () => {
  const c = await connect()
  try {
    await assert.rejects(c.query('SELECT 1; SELECT 2'), (e) => e.code === '42601' && /simpleQuery/.test(e.message))
  } finally {
    await c.close()
  }
})

test('the type table holds in text format: simpleQuery gives the values query() gives', async () => {
  const c = await connect()
  try {
    await c.query("SET TIME ZONE 'America/Sao_Paulo'")
    const exprs = [
      'true', 'false', '42::int2', '(-2147483648)::int4', '9223372036854775807::int8', '4294967295::oid',
      "'NaN'::float8", "'-Infinity'::float4", '1.5e300::float8', '0.1::float4', "'1.500'::numeric", "'NaN'::numeric",
      "'héllo'::text", "'a'::varchar(3)", "'ab'::char(4)", "'\\x00ff10'::bytea", `'{"a":[1,2,{"b":null}]}'::json`,
      `'{"b":1,"a":"x"}'::jsonb`, "'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'::uuid", "'2024-02-29'::date", "'infinity'::date",
      "'0044-03-15 BC'::date", "'2024-01-02 03:04:05.123456'::timestamp", "'2024-01-02 03:04:05.123456+05:30'::timestamptz",
      "'-infinity'::timestamptz", "'04:05:06.789'::time", "'04:05:06+02:30'::timetz",
      "'1 year 2 mons 3 days 04:05:06.789'::interval", "'-1 days +02:03:00'::interval", "'-00:00:01'::interval",
      "ARRAY[1, NULL, 3]::int4[]", "ARRAY[['a', 'b,c'], ['d\"e', NULL]]::text[]", "'{}'::int8[]",
      "ARRAY['2024-01-01 00:00:00+00'::timestamptz]", "'[1,5)'::int4range", "'empty'::numrange",
      "'(,\"2024-01-02 00:00:00\"]'::tsrange", "'192.168.0.1/24'::inet", "'08:00:2b:01:02:03'::macaddr", "B'1010'",
      "'(1,2)'::point", "'<(1,2),3>'::circle", 'NULL::int4',
    ]
    const sql = `SELECT ${exprs.map((e, i) => `${e} AS c${i}`).join(', ')}`
    const extended = (await c.query(sql, [], { rowMode: 'array' })).rows[0]
    const [simple] = await c.simpleQuery(sql, { rowMode: 'array' })
    for (let i = 0; i < exprs.length; i++) {
      assert.deepEqual(simple.rows[0][i], extended[i], `${exprs[i]}: text ${JSON.stringify(String(simple.rows[0][i]))}`)
    }
    assert.deepEqual(simple.fields.map((f) => f.typeOid), (await c.query(sql)).fields.map((f) => f.typeOid))
  } finally {
    await c.close()
  }
})
