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

test('a large result arrives in parts while it runs: every row, in order, in both row modes', async () => {
  const c = await connect()
  try {
    // ~40 bytes per row in the response: 100k rows cross the 512 KiB part size several times.
    const sql = "SELECT g AS n, repeat('x', g % 7) AS s FROM generate_series(1, 100000) g"
    const r = await c.query(sql)
    assert.equal(r.rows.length, 100000)
    assert.equal(r.rowCount, 100000)
    assert.deepEqual(r.fields.map((f) => f.name), ['n', 's'])
    assert.ok(r.rows.every((row, i) => row.n === i + 1 && row.s === 'x'.repeat((i + 1) % 7)))
    const a = await c.query(sql, [], { rowMode: 'array' })
    assert.ok(a.rows.every((row, i) => row[0] === i + 1 && row.length === 2))
    // The same through pipeline(), interleaved with small results.
    const [p1, p2, p3] = await c.pipeline((p) => [p.query('SELECT 1 AS one'), p.query(sql), p.query('SELECT 2 AS two')])
    assert.equal((await p1).rows[0].one, 1)
    assert.equal((await p2).rows.length, 100000)
    assert.equal((await p3).rows[0].two, 2)
  } finally {
    await c.close()
  }
})

test('a large result that fails after parts were delivered rejects, and the client goes on', async () => {
  const c = await connect()
  try {
    const e = await c.query('SELECT CASE WHEN g = 90000 THEN 1 / 0 ELSE g END AS v FROM generate_series(1, 100000) g').catch((x) => x)
    assert.equal(e.code, '22012')
    const dup = await c.query('SELECT g AS a, g AS a FROM generate_series(1, 100000) g').catch((x) => x)
    assert.equal(dup.code, 'ERR_DUPLICATE_COLUMN')
    assert.equal((await c.query('SELECT 3 AS three')).rows[0].three, 3)
  } finally {
    await c.close()
  }
})

// lib/reader.js reuses the names and row builder of the last column list when the next one is
// byte for byte the same: lists that differ only in a name, a type or the row mode, short (a
// byte loop) and long (Buffer#compare, over 64 bytes), each get their own shape.
test('results alternating between column lists that differ in one byte each keep their own names and types', async () => {
  const c = await connect()
  try {
    const long = (x) => Array.from({ length: 8 }, (_, i) => `1::int4 AS column_number_${i}_${x}`).join(', ')
    for (let round = 0; round < 3; round++) {
      assert.deepEqual((await c.query('SELECT 1::int4 AS a')).rows, [{ a: 1 }])
      assert.deepEqual((await c.query('SELECT 2::int4 AS b')).rows, [{ b: 2 }])
      const t = await c.query('SELECT 3::int8 AS b')
      assert.deepEqual([t.rows, t.fields[0].typeOid], [[{ b: 3n }], 20])
      assert.deepEqual((await c.query('SELECT 2::int4 AS b', [], { rowMode: 'array' })).rows, [[2]])
      const la = await c.query(`SELECT ${long('a')}`)
      const lb = await c.query(`SELECT ${long('b')}`)
      assert.deepEqual([Object.keys(la.rows[0])[7], Object.keys(lb.rows[0])[7]], ['column_number_7_a', 'column_number_7_b'])
      // Each result has fields of its own: changing one leaves the next result's alone.
      la.fields[0].name = 'changed'
      assert.equal((await c.query(`SELECT ${long('a')}`)).fields[0].name, 'column_number_0_a')
    }
    await assert.rejects(c.query('SELECT 1 AS x, 2 AS x'), (e) => e.code === 'ERR_DUPLICATE_COLUMN')
    await assert.rejects(c.query('SELECT 1 AS x, 2 AS x'), (e) => e.code === 'ERR_DUPLICATE_COLUMN')
    assert.deepEqual((await c.query('SELECT 1 AS x, 2 AS x', [], { rowMode: 'array' })).rows, [[1, 2]])
  } finally {
    await c.close()
  }
})

test('strings and JSON of a many-row result read back exactly: ASCII and not, short and long, empty, in arrays and records', async () => {
  // A result of 8 rows or more reads its short ASCII strings from one latin1 copy of the
  // buffer (lib/reader.js): every other byte, and every length around the cut, must still
  // come back as sent.
  const values = ['', 'a', 'row 1', '123456789012', '1234567890123', 'é', 'naïve', 'abcdefghijké', '日本', '\u007f', 'x\u0080', '😀', 'z'.repeat(40), 'w'.repeat(200)]
  const c = await connect()
  try {
    for (const rowMode of [undefined, 'array']) {
      const r = await c.query(
        `SELECT v, ARRAY[v, v || 'a'] AS arr, ROW(v, 1)::record AS rec, length(v) AS n, (g % 7)::numeric(6,2) AS num,
                jsonb_build_object('v', v) AS j, to_json(v) AS js
           FROM unnest($1::text[]) WITH ORDINALITY AS t(v, g)`,
        [values],
        rowMode ? { rowMode } : undefined,
      )
      assert.equal(r.rows.length, values.length)
      r.rows.forEach((row, i) => {
        const [v, arr, num, j, js] = rowMode ? [row[0], row[1], row[4], row[5], row[6]] : [row.v, row.arr, row.num, row.j, row.js]
        assert.equal(v, values[i])
        assert.deepEqual(j, { v: values[i] })
        assert.equal(js, values[i])
        assert.deepEqual(arr, [values[i], values[i] + 'a'])
        assert.equal(num, ((i + 1) % 7).toFixed(2))
      })
    }
  } finally {
    await c.close()
  }
})

test('commands sent as codes or as text, and column lists known by number or read again, alternate exactly', async () => {
  const c = await connect()
  try {
    await c.query('CREATE TEMP TABLE cmd_m (k int4 PRIMARY KEY, v int4)')
    const seen = []
    const run = async (sql, params) => {
      const r = await c.query(sql, params)
      seen.push(`${r.command} ${r.rowCount}`)
      return r
    }
    await run('INSERT INTO cmd_m VALUES (1, 1), (2, 2)')
    await run('BEGIN')
    await run('SET LOCAL work_mem = 8192')
    await run('SAVEPOINT s')
    await run('UPDATE cmd_m SET v = 3 WHERE k = 1')
    await run('ROLLBACK TO SAVEPOINT s')
    await run('DECLARE cur CURSOR FOR SELECT k FROM cmd_m ORDER BY k')
    await run('FETCH 2 FROM cur')
    await run('CLOSE cur')
    await run('MERGE INTO cmd_m USING (SELECT 2 AS k) s ON cmd_m.k = s.k WHEN MATCHED THEN UPDATE SET v = 5')
    await run('DELETE FROM cmd_m WHERE k = 1')
    await run('COMMIT')
    await run('SHOW work_mem')
    await run('BEGIN')
    await run('ROLLBACK')
    await run('SELECT v FROM cmd_m')
    assert.deepEqual(seen, ['INSERT 2', 'BEGIN 0', 'SET 0', 'SAVEPOINT 0', 'UPDATE 1', 'ROLLBACK 0', 'DECLARE 0', 'FETCH 2',
      'CLOSE 0', 'MERGE 1', 'DELETE 1', 'COMMIT 0', 'SHOW 1', 'BEGIN 0', 'ROLLBACK 0', 'SELECT 1'])
    // Two statements with the same columns, one with others, and lists read from a
    // RowDescription of their own (a script, a cursor), in turn.
    const shape = (r) => `${Object.keys(r.rows[0]).join()}=${Object.values(r.rows[0]).join()} [${r.fields.map((f) => `${f.name}:${f.typeOid}`).join()}]`
    const got = []
    for (let i = 0; i < 3; i++) {
      got.push(shape(await c.query('SELECT $1::int4 AS a', [i])))
      got.push(shape(await c.query('SELECT $1::int4 + 10 AS a', [i])))
      got.push(shape(await c.query('SELECT $1::text AS b, 2::int2 AS a', [`t${i}`])))
      got.push(shape((await c.simpleQuery(`SELECT ${i} AS a`))[0]))
      for await (const row of c.cursor('SELECT $1::int8 AS z', [i])) got.push(Object.entries(row).join())
    }
    assert.deepEqual(got, [0, 1, 2].flatMap((i) => [
      `a=${i} [a:23]`, `a=${i + 10} [a:23]`, `b,a=t${i},2 [b:25,a:21]`, `a=${i} [a:23]`, `z,${i}`,
    ]))
  } finally {
    await c.close()
  }
})

test('short strings of a one-row result and the command of each result read back exactly', async () => {
  const c = await connect()
  try {
    // Every length around the short-string path (up to 8 bytes), ASCII and not (2-, 3- and
    // 4-byte UTF-8), a NUL-free control character and DEL, each alone in a one-row result.
    const values = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', 'abcdef', 'abcdefg', 'abcdefgh', 'abcdefghi',
      'é', 'aé', 'éééé', '日本', '日本語', '😀', 'a😀b', '\x01\x7f', 'ÿ', '~~~~~~~~']
    for (const v of values) {
      const r = await c.query('SELECT $1::text AS s, octet_length($1::text) AS n', [v])
      assert.equal(r.rows[0].s, v, JSON.stringify(v))
      assert.equal(r.rows[0].n, Buffer.byteLength(v))
    }
    const [row] = (await c.query("SELECT 'x' AS a, 'éx' AS b, ARRAY['ab', 'ü'] AS c")).rows
    assert.deepEqual(row, { a: 'x', b: 'éx', c: ['ab', 'ü'] })
    // The command is cached by its bytes: alternating commands keep their own.
    await c.query('CREATE TEMP TABLE cmd_t (x int4)')
    const seen = []
    for (const sql of ['INSERT INTO cmd_t VALUES (1)', 'SELECT 1', 'SELECT 2', 'UPDATE cmd_t SET x = 2', 'INSERT INTO cmd_t VALUES (3)', 'DELETE FROM cmd_t', 'SELECT 3']) {
      const r = await c.query(sql)
      seen.push(`${r.command} ${r.rowCount}`)
    }
    assert.deepEqual(seen, ['INSERT 1', 'SELECT 1', 'SELECT 1', 'UPDATE 1', 'INSERT 1', 'DELETE 2', 'SELECT 1'])
  } finally {
    await c.close()
  }
})
