'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const util = require('node:util')
const { connect } = require('./helpers')

test('rows are records: named access, key order, spread, JSON, console.log', async () => {
  const c = await connect()
  try {
    const r = await c.query('SELECT 1::int4 AS b, $1::text AS a, NULL::int4 AS "z z"', ['x'])
    const row = r.rows[0]
    assert.equal(row.b, 1)
    assert.equal(row.a, 'x')
    assert.equal(row['z z'], null)
    assert.deepEqual(Object.keys(row), ['b', 'a', 'z z'])
    assert.deepEqual({ ...row }, { b: 1, a: 'x', 'z z': null })
    assert.equal(JSON.stringify(row), '{"b":1,"a":"x","z z":null}')
    assert.equal(util.inspect(row), "{ b: 1, a: 'x', 'z z': null }")
    assert.equal(Object.getPrototypeOf(row), Object.prototype)
    assert.equal(r.rowCount, 1)
    assert.equal(r.command, 'SELECT')
    assert.deepEqual(r.fields.map((f) => [f.name, f.typeOid]), [['b', 23], ['a', 25], ['z z', 23]])
  } finally {
    await c.close()
  }
})

test("rowMode 'array' returns value arrays and accepts duplicate names", async () => {
  const c = await connect()
  try {
    const r = await c.query('SELECT 1 AS x, 2 AS x, 3 AS y', [], { rowMode: 'array' })
    assert.deepEqual(r.rows, [[1, 2, 3]])
    assert.deepEqual(r.fields.map((f) => f.name), ['x', 'x', 'y'])
  } finally {
    await c.close()
  }
})

test('duplicate column names in object mode raise ERR_DUPLICATE_COLUMN naming them', async () => {
  const c = await connect()
  try {
    await assert.rejects(c.query('SELECT 1 AS x, 2 AS x'), (e) => {
      assert.equal(e.code, 'ERR_DUPLICATE_COLUMN')
      assert.match(e.message, /"x"/)
      assert.match(e.message, /rowMode: 'array'/)
      return true
    })
    // The connection is still fine.
    assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1)
  } finally {
    await c.close()
  }
})

test('a column named __proto__ is an own property and leaves the prototype alone', async () => {
  const c = await connect()
  try {
    const { rows: [row] } = await c.query(`SELECT '{"polluted": true}'::jsonb AS "__proto__", 1 AS constructor`)
    assert.equal(Object.getPrototypeOf(row), Object.prototype)
    assert.deepEqual(row.__proto__ === Object.prototype, false)
    assert.deepEqual(Object.getOwnPropertyDescriptor(row, '__proto__').value, { polluted: true })
    assert.equal(row.polluted, undefined)
    assert.equal({}.polluted, undefined)
    assert.deepEqual(Object.keys(row), ['__proto__', 'constructor'])
  } finally {
    await c.close()
  }
})

test('command and rowCount for writes; many rows keep their order', async () => {
  const c = await connect()
  try {
    await c.query('CREATE TEMP TABLE t_rows (id int4, v text)')
    const ins = await c.query('INSERT INTO t_rows SELECT g, g::text FROM generate_series(1, 1000) g')
    assert.equal(ins.command, 'INSERT')
    assert.equal(ins.rowCount, 1000)
    assert.deepEqual(ins.rows, [])
    const upd = await c.query('WITH x AS (SELECT 1) UPDATE t_rows SET v = v || $1 WHERE id <= $2', ['!', 10])
    assert.equal(upd.command, 'UPDATE')
    assert.equal(upd.rowCount, 10)
    const sel = await c.query('SELECT id, v FROM t_rows ORDER BY id')
    assert.equal(sel.rowCount, 1000)
    assert.deepEqual(sel.rows[9], { id: 10, v: '10!' })
    assert.ok(sel.rows.every((r, i) => r.id === i + 1))
  } finally {
    await c.close()
  }
})
