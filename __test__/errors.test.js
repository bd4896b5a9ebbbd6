'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { connect, unique } = require('./helpers')
const { DatabaseError, FerroError } = require('..')

test('DatabaseError carries every server field under node-postgres names', async () => {
  const c = await connect()
  const t = unique('t_err')
  try {
    await c.query(`CREATE TEMP TABLE ${t} (id int4 CONSTRAINT ${t}_pk PRIMARY KEY, n int4 NOT NULL)`)
    await c.query(`INSERT INTO ${t} VALUES (1, 1)`)
    const e = await c.query(`INSERT INTO ${t} VALUES (1, 2)`).catch((x) => x)
    assert.ok(e instanceof DatabaseError)
    assert.ok(e instanceof FerroError)
    assert.ok(e instanceof Error)
    assert.equal(e.name, 'DatabaseError')
    assert.equal(e.code, '23505')
    assert.equal(e.severity, 'ERROR')
    assert.equal(e.constraint, `${t}_pk`)
    assert.equal(e.table, t)
    assert.match(e.schema, /^pg_temp/)
    assert.equal(e.detail, 'Key (id)=(1) already exists.')
    assert.equal(typeof e.file, 'string')
    assert.match(e.line, /^\d+$/)
    assert.equal(typeof e.routine, 'string')
    const nn = await c.query(`INSERT INTO ${t} VALUES (2, NULL)`).catch((x) => x)
    assert.equal(nn.code, '23502')
    assert.equal(nn.column, 'n')
    const syntax = await c.query('SELECT * FROM nowhere_at_all').catch((x) => x)
    assert.equal(syntax.code, '42P01')
    assert.equal(syntax.position, '15')
    const cast = await c.query(`SELECT 'x'::int4`).catch((x) => x)
    assert.equal(cast.code, '22P02')
    const dt = await c.query(`CREATE DOMAIN ${t}_d AS int4 CHECK (VALUE > 0)`).then(() => c.query(`SELECT (-1)::${t}_d`)).catch((x) => x)
    assert.equal(dt.code, '23514')
    assert.equal(dt.dataType, `${t}_d`)
    const fn = await c
      .query(`CREATE FUNCTION pg_temp.${t}_f() RETURNS int4 LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT 1 FROM nowhere_at_all); END $$`)
      .then(() => c.query(`SELECT pg_temp.${t}_f()`))
      .catch((x) => x)
    assert.equal(fn.code, '42P01')
    // The exact text differs between server versions ("(SELECT ...)" on 15).
    assert.match(fn.internalQuery, /SELECT 1 FROM nowhere_at_all/)
    assert.equal(fn.internalQuery.slice(Number(fn.internalPosition) - 1).startsWith('nowhere_at_all'), true)
    assert.match(fn.where, /PL\/pgSQL function/)
    const hint = await c.query('SELECT lenght($1::text)', ['x']).catch((x) => x)
    assert.equal(hint.code, '42883')
    assert.match(hint.hint, /No function matches/)
    await c.query(`DROP DOMAIN ${t}_d`)
  } finally {
    await c.close()
  }
})

test('the stack of a rejected query shows the caller', async () => {
  const c = await connect()
  try {
    async function callerFrameMarker() {
      await c.query('SELECT 1/0')
    }
    const e = await callerFrameMarker().catch((x) => x)
    assert.equal(e.code, '22012')
    assert.match(e.stack, /callerFrameMarker/)
    assert.match(e.stack, /errors\.test\.js/)
  } finally {
    await c.close()
  }
})

test('driver errors have stable codes; the connection survives a failed statement', async () => {
  const c = await connect()
  await assert.rejects(c.query(42), { code: 'ERR_INVALID_ARGUMENT' })
  await assert.rejects(c.query('SELECT 1', 'nope'), { code: 'ERR_INVALID_ARGUMENT' })
  await assert.rejects(c.query('SELEC 1'), { code: '42601' })
  assert.equal((await c.query('SELECT 2 AS x')).rows[0].x, 2)
  await c.close()
  await assert.rejects(c.query('SELECT 1'), { code: 'ERR_CLIENT_CLOSED' })
  assert.equal(c.closed, true)
})

test('instanceof holds across CommonJS and ES modules', async () => {
  const esm = await import('../index.mjs')
  const cjs = require('..')
  assert.equal(esm.DatabaseError, cjs.DatabaseError)
  assert.equal(esm.Pool, cjs.Pool)
  const c = await esm.Client.connect(process.env.DATABASE_URL)
  try {
    const e = await c.query('SELECT 1/0').catch((x) => x)
    assert.ok(e instanceof cjs.DatabaseError)
    assert.ok(e instanceof esm.DatabaseError)
  } finally {
    await c.close()
  }
})
