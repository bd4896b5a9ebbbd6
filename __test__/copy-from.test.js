'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Readable } = require('node:stream')
const { execFileSync } = require('node:child_process')
const { connect, pool, unique, MEMORY_FLAGS } = require('./helpers')

// [column type, value given to copyFrom, value read back]
const TYPES = [
  ['int2', -32768, -32768],
  ['int4', 2147483647, 2147483647],
  ['int8', -(2n ** 63n), -(2n ** 63n)],
  ['float4', 1.5, 1.5],
  ['float8', -0, -0],
  ['numeric', '-123456789012345678901234567890.000000000000000001', '-123456789012345678901234567890.000000000000000001'],
  ['numeric', 'NaN', 'NaN'],
  ['numeric', 0.1, '0.1'],
  ['bool', false, false],
  ['text', 'héllo ✓ 𝄞\ttab\nnewline', 'héllo ✓ 𝄞\ttab\nnewline'],
  ['varchar(10)', 'short', 'short'],
  ['bytea', Buffer.from([0, 255, 10]), Buffer.from([0, 255, 10])],
  ['json', { a: [1, null] }, { a: [1, null] }],
  ['jsonb', { b: 'x', a: 1 }, { a: 1, b: 'x' }],
  ['uuid', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['date', '2024-02-29', '2024-02-29'],
  ['date', new Date('2024-03-01T12:00:00Z'), '2024-03-01'],
  ['date', 'infinity', 'infinity'],
  ['time', '23:59:59.999999', '23:59:59.999999'],
  ['timetz', '12:00:00+05:30', '12:00:00+05:30'],
  ['timestamp', new Date('2024-02-29T12:34:56.789Z'), new Date('2024-02-29T12:34:56.789Z')],
  ['timestamp', '2024-02-29 12:34:56', new Date('2024-02-29T12:34:56Z')],
  ['timestamptz', '2024-06-01T12:00:00+02:00', new Date('2024-06-01T10:00:00Z')],
  ['timestamptz', -Infinity, -Infinity],
  ['interval', { months: 14, days: -3, microseconds: 5 }, { months: 14, days: -3, microseconds: 5 }],
  ['int4[]', [[1, 2], [3, null]], [[1, 2], [3, null]]],
  ['text[]', ['a,b', null, '"q"'], ['a,b', null, '"q"']],
  ['int4[]', [], []],
  ['int8range', { lower: 1n, upper: null }, { lower: 1n, upper: null, lowerInc: true, upperInc: false, empty: false }],
  ['int4range', { empty: true }, { lower: null, upper: null, lowerInc: false, upperInc: false, empty: true }],
  ['tstzrange', { lower: new Date(0), upper: new Date(1000), upperInc: true }, { lower: new Date(0), upper: new Date(1000), lowerInc: true, upperInc: true, empty: false }],
]

test('every type of the table is written exactly by binary COPY', async () => {
  const c = await connect()
  const t = unique('t_cf_types')
  const mood = unique('mood')
  try {
    await c.query(`CREATE TYPE ${mood} AS ENUM ('sad', 'happy')`)
    const cols = TYPES.map(([ty], i) => `c${i} ${ty}`).concat(`e ${mood}`, `ea ${mood}[]`)
    await c.query(`CREATE TABLE ${t} (${cols.join(', ')})`)
    const row = [...TYPES.map(([, v]) => v), 'happy', ['sad', null]]
    assert.equal(await c.copyFrom(t, [row, row.map(() => null)]), 2)
    const { rows } = await c.query(`SELECT * FROM ${t}`)
    const expected = {}
    TYPES.forEach(([, , back], i) => (expected[`c${i}`] = back))
    expected.e = 'happy'
    expected.ea = ['sad', null]
    assert.deepStrictEqual(rows[0], expected)
    assert.ok(Object.values(rows[1]).every((v) => v === null))
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${t}`)
    await c.query(`DROP TYPE IF EXISTS ${mood}`)
    await c.close()
  }
})

test('rows as arrays or objects, from arrays, iterables, async iterables and Readables; columns and schema', async () => {
  const c = await connect()
  const schema = unique('Sch')
  const t = 'We"ird Table'
  try {
    await c.query(`CREATE SCHEMA "${schema}"`)
    await c.query(`CREATE TABLE "${schema}"."We""ird Table" (id int4, "Name" text, note text DEFAULT 'default')`)
    const opts = { schema, columns: ['id', 'Name'] }
    assert.equal(await c.copyFrom(t, [[1, 'a'], { id: 2, Name: 'b' }], opts), 2)
    assert.equal(await c.copyFrom(t, new Set([[3, 'c']]), opts), 1)
    assert.equal(await c.copyFrom(t, (async function* () { yield { Name: 'd', id: 4 } })(), opts), 1)
    assert.equal(await c.copyFrom(t, Readable.from([[5, 'e'], { id: 6 }]), opts), 2)
    // Column order is part of the target: here Name comes first.
    assert.equal(await c.copyFrom(t, [['f', 7]], { schema, columns: ['Name', 'id'] }), 1)
    // Without columns: every column, in table order (objects missing a key get NULL).
    assert.equal(await c.copyFrom(t, [{ id: 8, Name: 'g' }], { schema }), 1)
    const r = await c.query(`SELECT id, "Name", note FROM "${schema}"."We""ird Table" ORDER BY id`)
    assert.deepEqual(r.rows.map((x) => [x.id, x.Name, x.note]), [
      [1, 'a', 'default'], [2, 'b', 'default'], [3, 'c', 'default'], [4, 'd', 'default'],
      [5, 'e', 'default'], [6, null, 'default'], [7, 'f', 'default'], [8, 'g', null],
    ])
  } finally {
    await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
    await c.close()
  }
})

test('the column types are looked up once per connection (pg_stat_statements)', async () => {
  const c = await connect()
  const t = unique('t_cf_lookup')
  try {
    await c.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements')
    await c.query(`CREATE TABLE ${t} (a int4, b text)`)
    await c.query('SELECT pg_stat_statements_reset()')
    for (let i = 0; i < 10; i++) await c.copyFrom(t, [[i, 'x']], { columns: ['a', 'b'] })
    const c2 = await connect()
    for (let i = 0; i < 10; i++) await c2.copyFrom(t, [[i, 'y']], { columns: ['a', 'b'] })
    for (let i = 0; i < 3; i++) await c2.copyFrom(t, [['z', i]], { columns: ['b', 'a'] })
    await c2.close()
    const r = await c.query("SELECT query, calls::int4 AS calls FROM pg_stat_statements WHERE query LIKE $1 ORDER BY query", [`SELECT % FROM "${t}" LIMIT %`]) // constants are normalized to $n
    assert.deepEqual(r.rows.map((x) => x.calls), [2, 1]) // (a, b) on two connections; (b, a) once
    assert.equal((await c.query(`SELECT count(*)::int4 AS n FROM ${t}`)).rows[0].n, 23)
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${t}`)
    await c.close()
  }
})

test('a value that does not fit aborts the COPY: row, column and type named, nothing written, connection usable', async () => {
  const c = await connect()
  const t = unique('t_cf_bad')
  try {
    await c.query(`CREATE TABLE ${t} (a int4, b text)`)
    const rows = (function* () {
      for (let i = 0; i < 10_000; i++) yield [i === 5_000 ? 'x' : i, `r${i}`]
    })()
    const e = await c.copyFrom(t, rows).catch((x) => x)
    assert.equal(e.code, 'ERR_INVALID_PARAMETER')
    assert.equal(e.index, 5_000)
    assert.match(e.message, /^row 5000: column "a": expected int4 .*got string 'x'/)
    assert.equal((await c.query(`SELECT count(*)::int4 AS n FROM ${t}`)).rows[0].n, 0)
    // A server-side failure (NOT NULL) aborts the same way.
    await c.query(`ALTER TABLE ${t} ALTER COLUMN b SET NOT NULL`)
    const e2 = await c.copyFrom(t, [[1, 'ok'], [2, null]]).catch((x) => x)
    assert.equal(e2.code, '23502')
    assert.equal((await c.query(`SELECT count(*)::int4 AS n FROM ${t}`)).rows[0].n, 0)
    await assert.rejects(c.copyFrom(t, [[1]]), { code: 'ERR_INVALID_PARAMETER', message: /row 0: has 1 values for 2 columns/ })
    // A range given with other keys is refused (it used to be written as an unbounded range).
    const r = unique('t_cf_range')
    await c.query(`CREATE TABLE ${r} (v int4range)`)
    await assert.rejects(c.copyFrom(r, [[{ from: 1, to: 5 }]]), { code: 'ERR_INVALID_PARAMETER', message: /got an object with key 'from'/ })
    await c.copyFrom(r, [[{ lower: 1, upper: 5 }]])
    assert.equal((await c.query(`SELECT v::text AS v FROM ${r}`)).rows[0].v, '[1,5)')
    await c.query(`DROP TABLE ${r}`)
    await assert.rejects(c.copyFrom(t, [42]), /row 0: expected an array or an object/)
    await assert.rejects(c.copyFrom(t, 42), { code: 'ERR_INVALID_ARGUMENT' })
    assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1)
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${t}`)
    await c.close()
  }
})

test('an aborted signal stops the COPY the same way', async () => {
  const c = await connect()
  const t = unique('t_cf_signal')
  try {
    await c.query(`CREATE TABLE ${t} (a int4)`)
    const ac = new AbortController()
    const rows = (async function* () {
      for (let i = 0; i < 1e9; i++) {
        if (i === 20_000) ac.abort(new Error('user stop'))
        yield [i]
      }
    })()
    const e = await c.copyFrom(t, rows, { signal: ac.signal }).catch((x) => x)
    assert.equal(e.code, 'ERR_QUERY_CANCELLED')
    assert.equal(e.cause.message, 'user stop')
    assert.equal((await c.query(`SELECT count(*)::int4 AS n FROM ${t}`)).rows[0].n, 0)
    await assert.rejects(c.copyFrom(t, [[1]], { signal: AbortSignal.abort() }), { code: 'ERR_QUERY_CANCELLED' })
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${t}`)
    await c.close()
  }
})

// The signal (or timeoutMillis) used to be looked at only when the next row arrived: a source
// that stopped yielding held copyFrom (and its connection) for as long as it waited.
test('signal and timeoutMillis stop a COPY whose source waits for its next row; return() is called', async () => {
  const c = await connect()
  const t = unique('t_cf_stall')
  try {
    await c.query(`CREATE TABLE ${t} (a int4)`)
    for (const how of ['signal', 'timeoutMillis']) {
      let closed = 0
      let given = 0
      // 100 rows, then a next() that never settles.
      const rows = {
        [Symbol.asyncIterator]() {
          return this
        },
        next() {
          return given < 100 ? Promise.resolve({ value: [given++], done: false }) : new Promise(() => {})
        },
        return() {
          closed++
          return Promise.resolve({ done: true })
        },
      }
      const ac = new AbortController()
      const options = how === 'signal' ? { signal: ac.signal } : { timeoutMillis: 200 }
      if (how === 'signal') setTimeout(() => ac.abort(new Error('user stop')), 200)
      const t0 = Date.now()
      const call = c.copyFrom(t, rows, options)
      let timer
      const late = new Promise((resolve) => (timer = setTimeout(() => resolve('still waiting after 3 s'), 3000)))
      const e = await Promise.race([call.then(() => 'resolved', (x) => x), late])
      clearTimeout(timer)
      assert.equal(e?.code, 'ERR_QUERY_CANCELLED', `${how}: ${e?.code ?? e}`)
      assert.ok(Date.now() - t0 < 1500, `${how}: settled after ${Date.now() - t0} ms`)
      assert.equal(given, 100)
      assert.equal(closed, 1, `${how}: return() calls`)
      assert.equal((await c.query(`SELECT count(*)::int4 AS n FROM ${t}`)).rows[0].n, 0)
    }
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${t}`)
    await c.close()
  }
})

test('unsupported column types are refused before the COPY starts', async () => {
  const c = await connect()
  try {
    await c.query('CREATE TEMP TABLE t_cf_point (p point)')
    await assert.rejects(c.copyFrom('t_cf_point', [['(1,2)']]), { code: 'ERR_UNSUPPORTED_TYPE', message: /"p" of type point/ })
    assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1)
  } finally {
    await c.close()
  }
})

test('on a Pool and in a Transaction: the connection goes back clean', async () => {
  const p = pool({ max: 1 })
  const t = unique('t_cf_pool')
  try {
    await p.query(`CREATE TABLE ${t} (a int4 NOT NULL)`)
    assert.equal(await p.copyFrom(t, [[1], [2]]), 2)
    await assert.rejects(p.copyFrom(t, [[3], [null]]), { code: '23502' })
    await p.transaction(async (tx) => {
      await tx.copyFrom(t, [[4]])
      await assert.rejects(tx.copyFrom(t, [['bad']]), { index: 0 })
    }).catch((e) => assert.equal(e.code, '25P02')) // the failed COPY aborted the transaction
    const c = await p.connect()
    await assert.rejects(c.query('SAVEPOINT s'), { code: '25P01' })
    assert.deepEqual((await c.query(`SELECT a FROM ${t} ORDER BY a`)).rows.map((r) => r.a), [1, 2])
    c.release()
  } finally {
    await p.query(`DROP TABLE IF EXISTS ${t}`)
    await p.close()
  }
})

test('1,000,000 rows from an async generator keep RSS growth under 64 MiB', () => {
  // In a fresh process, so that the test runner's own memory does not blur the figure.
  const t = unique('t_cf_mem')
  const script = `
    const { Client } = require(${JSON.stringify(require.resolve('..'))})
    ;(async () => {
      const c = await Client.connect(process.env.DATABASE_URL)
      await c.query('CREATE TABLE ${t} (a int4, b text, c float8, d timestamptz, e jsonb)')
      const base = process.memoryUsage().rss
      let peak = base
      const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20)
      const d = new Date()
      const n = await c.copyFrom('${t}', (async function* () {
        for (let i = 0; i < 1000000; i++) yield [i, 'row ' + i, i / 3, d, { i }]
      })())
      clearInterval(timer)
      const rows = (await c.query('SELECT count(*)::int4 AS n FROM ${t}')).rows[0].n
      await c.query('DROP TABLE ${t}')
      await c.close()
      console.log(JSON.stringify({ n, rows, growthMiB: (peak - base) / 2 ** 20 }))
    })()`
  const out = JSON.parse(execFileSync(process.execPath, [...MEMORY_FLAGS, '-e', script], { encoding: 'utf8' }))
  assert.equal(out.n, 1_000_000)
  assert.equal(out.rows, 1_000_000)
  assert.ok(out.growthMiB < 64, `RSS grew by ${out.growthMiB.toFixed(0)} MiB`)
})

test('copyFrom and executeMany wait for promises among the rows of a sync iterable', async () => {
  const c = await connect()
  try {
    await c.query('CREATE TEMP TABLE t_promised (v int4, s text)')
    await c.copyFrom('t_promised', [[1, 'a'], Promise.resolve([2, 'b']), Promise.resolve({ v: 3, s: 'c' })])
    await c.executeMany('INSERT INTO t_promised VALUES ($1, $2)', [[4, 'd'], Promise.resolve([5, 'e'])])
    const r = await c.query('SELECT v, s FROM t_promised ORDER BY v', [], { rowMode: 'array' })
    assert.deepEqual(r.rows, [[1, 'a'], [2, 'b'], [3, 'c'], [4, 'd'], [5, 'e']])
  } finally {
    await c.close()
  }
})
