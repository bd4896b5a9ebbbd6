'use strict'
// Every type of the default table: edge values go in as parameters, come back as the expected
// JS values, and the server's own text for the value matches.
const test = require('node:test')
const assert = require('node:assert/strict')
const { connect, unique } = require('./helpers')

// [type, parameter, expected JS value, expected server text (::text) or undefined to skip]
const CASES = [
  ['int2', -32768, -32768, '-32768'],
  ['int2', 32767, 32767, '32767'],
  ['int4', -2147483648, -2147483648, '-2147483648'],
  ['int4', '42', 42, '42'],
  ['int8', -(2n ** 63n), -(2n ** 63n), '-9223372036854775808'],
  ['int8', 2n ** 63n - 1n, 2n ** 63n - 1n, '9223372036854775807'],
  ['int8', 12, 12n, '12'],
  ['oid', 4294967295, 4294967295, '4294967295'],
  ['float4', 1.5, 1.5, '1.5'],
  ['float4', 0.1, Math.fround(0.1), '0.1'],
  ['float8', 0.1, 0.1, '0.1'],
  ['float8', 5e-324, 5e-324, '5e-324'],
  ['float8', 1.7976931348623157e308, 1.7976931348623157e308, '1.7976931348623157e+308'],
  ['float8', -0, -0, '-0'],
  ['float8', Infinity, Infinity, 'Infinity'],
  ['float8', -Infinity, -Infinity, '-Infinity'],
  ['float8', NaN, NaN, 'NaN'],
  ['numeric', '123456789012345678901234567890.000000000000000001', '123456789012345678901234567890.000000000000000001', '123456789012345678901234567890.000000000000000001'],
  ['numeric', '-0.0001', '-0.0001', '-0.0001'],
  ['numeric', '1e-20', '0.00000000000000000001', '0.00000000000000000001'],
  ['numeric', 0, '0', '0'],
  ['numeric', 10n ** 30n, '1000000000000000000000000000000', '1000000000000000000000000000000'],
  ['numeric', 'NaN', 'NaN', 'NaN'],
  ['numeric', 'Infinity', 'Infinity', 'Infinity'],
  ['numeric', '-1.50', '-1.50', '-1.50'],
  ['bool', true, true, 'true'],
  ['bool', false, false, 'false'],
  ['text', '', '', ''],
  ['text', 'héllo ✓ 𝄞 \'"\\', 'héllo ✓ 𝄞 \'"\\', 'héllo ✓ 𝄞 \'"\\'],
  ['text', 'x'.repeat(100_000), 'x'.repeat(100_000), 'x'.repeat(100_000)],
  // Around the length below which lib/params.js copies ASCII by hand (24), with a non-ASCII
  // character first, last, or just past it.
  ['text', 'a'.repeat(23), 'a'.repeat(23), 'a'.repeat(23)],
  ['text', 'a'.repeat(24), 'a'.repeat(24), 'a'.repeat(24)],
  ['text', 'a'.repeat(22) + 'é', 'a'.repeat(22) + 'é', 'a'.repeat(22) + 'é'],
  ['text', 'é' + 'a'.repeat(22), 'é' + 'a'.repeat(22), 'é' + 'a'.repeat(22)],
  ['text', 'a'.repeat(21) + '𝄞', 'a'.repeat(21) + '𝄞', 'a'.repeat(21) + '𝄞'],
  ['text', '\x7f~', '\x7f~', '\x7f~'],
  ['varchar(5)', 'abc', 'abc', 'abc'],
  ['char(4)', 'ab', 'ab  ', 'ab'],
  ['name', 'pg_class', 'pg_class', 'pg_class'],
  ['bytea', Buffer.from([0, 1, 127, 128, 255]), Buffer.from([0, 1, 127, 128, 255]), '\\x00017f80ff'],
  ['bytea', Buffer.alloc(0), Buffer.alloc(0), '\\x'],
  ['bytea', new Uint8Array([9, 10]), Buffer.from([9, 10]), '\\x090a'],
  ['json', { a: [1, 'x', null], b: { c: true } }, { a: [1, 'x', null], b: { c: true } }, '{"a":[1,"x",null],"b":{"c":true}}'],
  ['jsonb', { b: 1.5, a: 'é' }, { a: 'é', b: 1.5 }, '{"a": "é", "b": 1.5}'],
  ['jsonb', [1, [2, { x: null }]], [1, [2, { x: null }]], '[1, [2, {"x": null}]]'],
  ['jsonb', 'a string', 'a string', '"a string"'],
  ['jsonb', 42, 42, '42'],
  ['uuid', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'],
  ['date', '2024-02-29', '2024-02-29', '2024-02-29'],
  ['date', new Date('2024-02-29T23:59:59Z'), '2024-02-29', '2024-02-29'],
  ['date', '4713-01-01 BC', '4713-01-01 BC', '4713-01-01 BC'],
  ['date', 'infinity', 'infinity', 'infinity'],
  ['date', -Infinity, '-infinity', '-infinity'],
  ['time', '00:00:00', '00:00:00', '00:00:00'],
  ['time', '23:59:59.999999', '23:59:59.999999', '23:59:59.999999'],
  ['time', '24:00:00', '24:00:00', '24:00:00'],
  ['timetz', '12:34:56.5+05:30', '12:34:56.5+05:30', '12:34:56.5+05:30'],
  ['timetz', '01:02:03-08', '01:02:03-08', '01:02:03-08'],
  ['timestamp', new Date('2024-02-29T12:34:56.789Z'), new Date('2024-02-29T12:34:56.789Z'), '2024-02-29 12:34:56.789'],
  ['timestamp', new Date(-1), new Date(-1), '1969-12-31 23:59:59.999'],
  ['timestamp', 'infinity', Infinity, 'infinity'],
  ['timestamptz', new Date('2000-01-01T00:00:00Z'), new Date('2000-01-01T00:00:00Z'), '2000-01-01 00:00:00+00'],
  ['timestamptz', '2024-06-01 12:00:00+02', new Date('2024-06-01T10:00:00Z'), '2024-06-01 10:00:00+00'],
  ['timestamptz', -Infinity, -Infinity, '-infinity'],
  ['interval', { months: 14, days: 3, microseconds: 4000005 }, { months: 14, days: 3, microseconds: 4000005 }, '1 year 2 mons 3 days 00:00:04.000005'],
  ['interval', '-1 day -00:00:01', { months: 0, days: -1, microseconds: -1000000 }, '-1 days -00:00:01'],
  ['int4[]', [[1, 2], [3, null]], [[1, 2], [3, null]], '{{1,2},{3,NULL}}'],
  ['int4[]', [], [], '{}'],
  ['text[]', ['a,b', 'NULL', null, '"q"', 'back\\slash', ''], ['a,b', 'NULL', null, '"q"', 'back\\slash', ''], '{"a,b","NULL",NULL,"\\"q\\"","back\\\\slash",""}'],
  ['int8[]', [1n, -(2n ** 63n)], [1n, -(2n ** 63n)], '{1,-9223372036854775808}'],
  ['float8[]', [0.1, -Infinity, NaN], [0.1, -Infinity, NaN], '{0.1,-Infinity,NaN}'],
  ['numeric[]', ['1.10', 'NaN'], ['1.10', 'NaN'], '{1.10,NaN}'],
  ['bool[]', [[true], [false]], [[true], [false]], '{{t},{f}}'],
  ['uuid[]', ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'], ['a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'], '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}'],
  ['date[]', ['2020-01-01', null], ['2020-01-01', null], '{2020-01-01,NULL}'],
  ['timestamptz[]', [new Date(0)], [new Date(0)], '{"1970-01-01 00:00:00+00"}'],
  ['bytea[]', [Buffer.from([1, 2])], [Buffer.from([1, 2])], '{"\\\\x0102"}'],
  ['jsonb[]', [{ a: 1 }, null], [{ a: 1 }, null], '{"{\\"a\\": 1}",NULL}'],
  ['interval[]', [{ months: 1, days: 0, microseconds: 0 }], [{ months: 1, days: 0, microseconds: 0 }], '{"1 mon"}'],
  ['int4range', { lower: 1, upper: 5 }, { lower: 1, upper: 5, lowerInc: true, upperInc: false, empty: false }, '[1,5)'],
  ['int4range', { lower: 1, upper: 5, lowerInc: false, upperInc: true }, { lower: 2, upper: 6, lowerInc: true, upperInc: false, empty: false }, '[2,6)'],
  ['int8range', { lower: null, upper: 10n }, { lower: null, upper: 10n, lowerInc: false, upperInc: false, empty: false }, '(,10)'],
  ['numrange', '[1.5,2.5]', { lower: '1.5', upper: '2.5', lowerInc: true, upperInc: true, empty: false }, '[1.5,2.5]'],
  ['tstzrange', { lower: new Date(0), upper: null }, { lower: new Date(0), upper: null, lowerInc: true, upperInc: false, empty: false }, '["1970-01-01 00:00:00+00",)'],
  ['daterange', { empty: true }, { lower: null, upper: null, lowerInc: false, upperInc: false, empty: true }, 'empty'],
  ['inet', '192.168.0.1', '192.168.0.1', '192.168.0.1/32'], // inet::text shows the mask; inet output does not,
  ['cidr', '10.0.0.0/8', '10.0.0.0/8', '10.0.0.0/8'],
  ['macaddr', '08:00:2b:01:02:03', '08:00:2b:01:02:03', '08:00:2b:01:02:03'],
  ['varbit', '10110', '10110', '10110'],
  ['point', '(1,2.5)', '(1,2.5)', '(1,2.5)'],
  ['point', '(0.00001,1e15)', '(1e-05,1e+15)', '(1e-05,1e+15)'],
  ['lseg', '[(1,2),(3,4)]', '[(1,2),(3,4)]', '[(1,2),(3,4)]'],
  ['box', '(1,2),(3,4)', '(3,4),(1,2)', '(3,4),(1,2)'],
  ['path', '[(1,2),(3,4)]', '[(1,2),(3,4)]', '[(1,2),(3,4)]'],
  ['path', '((1,2),(3,4),(5,-6))', '((1,2),(3,4),(5,-6))', '((1,2),(3,4),(5,-6))'],
  ['polygon', '((0,0),(1,1),(1,0))', '((0,0),(1,1),(1,0))', '((0,0),(1,1),(1,0))'],
  ['line', '{1,-1,0}', '{1,-1,0}', '{1,-1,0}'],
  ['circle', '<(1,2),0.5>', '<(1,2),0.5>', '<(1,2),0.5>'],
  ['money', '1234.56', '$1,234.56', '$1,234.56'],
  ['money', '-0.05', '-$0.05', '-$0.05'],
  ['tsvector', "fat:2,3A cat:1 'it''s'", "'cat':1 'fat':2,3A 'it''s'", "'cat':1 'fat':2,3A 'it''s'"],
  ['tsquery', "fat & (rat | !cat)", "'fat' & ( 'rat' | !'cat' )", "'fat' & ( 'rat' | !'cat' )"],
  ['tsquery', "(a | b) <-> c & sup:*AB", "( 'a' | 'b' ) <-> 'c' & 'sup':*AB", "( 'a' | 'b' ) <-> 'c' & 'sup':*AB"],
  ['tsquery', 'a <2> !b', "'a' <2> !'b'", "'a' <2> !'b'"],
  ['pg_lsn', '16/B374D848', '16/B374D848', '16/B374D848'],
  ['tid', '(7,3)', '(7,3)', '(7,3)'],
  ['xid8', '42', '42', '42'],
  ['jsonpath', '$.a[*] ? (@ > 1)', '$."a"[*]?(@ > 1)', '$."a"[*]?(@ > 1)'],
  ['pg_snapshot', '10:20:10,14,15', '10:20:10,14,15', '10:20:10,14,15'],
]

test('every type round-trips as a parameter and matches the server text', async () => {
  const c = await connect({ options: { TimeZone: 'UTC', DateStyle: 'ISO' } })
  try {
    for (const [type, param, expected, text] of CASES) {
      const label = `${type} ${typeof param === 'bigint' ? param + 'n' : String(param).slice(0, 40)}`
      const r = await c.query(`SELECT $1::${type} AS v, $1::${type}::text AS t`, [param])
      assert.deepStrictEqual(r.rows[0].v, expected, label)
      if (text !== undefined) assert.equal(r.rows[0].t, text, label)
      // And back again: the decoded value is itself a valid parameter of the type.
      const back = await c.query(`SELECT $1::${type}::text AS t`, [r.rows[0].v])
      assert.equal(back.rows[0].t, r.rows[0].t, `${label} (decoded value sent back)`)
    }
  } finally {
    await c.close()
  }
})

test('extension types: citext, hstore, ltree come back as the server text', async () => {
  const c = await connect()
  const schema = unique('ext')
  try {
    await c.query(`CREATE SCHEMA ${schema}`)
    for (const ext of ['citext', 'hstore', 'ltree']) await c.query(`CREATE EXTENSION ${ext} SCHEMA ${schema}`)
    const r = await c.query(
      `SELECT $1::${schema}.citext AS ci, $2::${schema}.hstore AS h, $3::${schema}.ltree AS l, ` +
        `$2::${schema}.hstore::text AS ht, ARRAY['a.b', 'c']::${schema}.ltree[] AS la`,
      ['MiXeD', 'a=>1, "b c"=>NULL', 'top.mid.leaf'],
    )
    assert.deepStrictEqual(r.rows[0], { ci: 'MiXeD', h: r.rows[0].ht, ht: '"a"=>"1", "b c"=>NULL', l: 'top.mid.leaf', la: ['a.b', 'c'] })
  } finally {
    await c.query(`DROP SCHEMA ${schema} CASCADE`)
    await c.close()
  }
})

test('NULL of every type is null', async () => {
  const c = await connect()
  try {
    const types = [...new Set(CASES.map((x) => x[0]))]
    const r = await c.query(`SELECT ${types.map((t, i) => `NULL::${t} AS c${i}`).join(', ')}`)
    assert.ok(Object.values(r.rows[0]).every((v) => v === null))
    const p = await c.query('SELECT $1::int4 AS a, $2::text AS b', [null, undefined])
    assert.deepEqual(p.rows[0], { a: null, b: null })
  } finally {
    await c.close()
  }
})

test('the types overrides change how values reach JS', async () => {
  const c = await connect({
    options: { TimeZone: 'UTC' },
    types: { int8: 'string', numeric: 'number', date: 'date', timestamp: 'string' },
  })
  try {
    const r = await c.query(
      "SELECT 9223372036854775807::int8 AS i, 1.25::numeric AS n, 'NaN'::numeric AS nan, '2024-02-29'::date AS d, " +
        "'2024-02-29 01:02:03.456789'::timestamp AS ts, '2024-02-29 01:02:03.000001+00'::timestamptz AS tz, " +
        "'infinity'::date AS dinf",
    )
    assert.deepStrictEqual(r.rows[0], {
      i: '9223372036854775807',
      n: 1.25,
      nan: NaN,
      d: new Date('2024-02-29T00:00:00Z'),
      ts: '2024-02-29 01:02:03.456789',
      tz: '2024-02-29 01:02:03.000001+00',
      dinf: Infinity,
    })
    const n = await connect({ types: { int8: 'number' } })
    try {
      assert.equal((await n.query('SELECT 42::int8 AS x')).rows[0].x, 42)
      await assert.rejects(n.query('SELECT 9007199254740993::int8 AS x'), /does not fit a JS number/)
    } finally {
      await n.close()
    }
  } finally {
    await c.close()
  }
})

test("types.results 'text': every value is the server's text, on every path that returns rows", async () => {
  const c = await connect({ options: { TimeZone: 'UTC' }, types: { results: 'text', int8: 'number' } })
  const sql = "SELECT 1::int8 AS i, true AS b, '2024-02-29 01:02:03+00'::timestamptz AS tz, '{1,NULL}'::int4[] AS a, " +
    "'\\x01ff'::bytea AS by, '{\"k\": 1}'::jsonb AS j, NULL::int4 AS n, $1::int4 AS p"
  const text = { i: '1', b: 't', tz: '2024-02-29 01:02:03+00', a: '{1,NULL}', by: '\\x01ff', j: '{"k": 1}', n: null, p: '7' }
  try {
    assert.deepStrictEqual({ ...(await c.query(sql, [7])).rows[0] }, text)
    const [script] = await c.simpleQuery(sql.replace('$1::int4', "'7'::int4"))
    assert.deepStrictEqual({ ...script.rows[0] }, text)
    const many = await c.executeMany('SELECT $1::int8 AS x, $2::bool AS y', [[1, true], [2, false]], { returning: true })
    assert.deepStrictEqual(many.results.map((r) => ({ ...r.rows[0] })), [{ x: '1', y: 't' }, { x: '2', y: 'f' }])
    const piped = await c.pipeline((p) => Promise.all([p.query('SELECT 2::int8 AS x'), p.query("SELECT 'a'::text AS y")]))
    assert.deepStrictEqual(piped.map((r) => ({ ...r.rows[0] })), [{ x: '2' }, { y: 'a' }])
    const seen = []
    await c.transaction(async (tx) => {
      for await (const row of tx.cursor('SELECT g::int8 AS g FROM generate_series(1, 3) g', [], { batchSize: 2 })) seen.push(row.g)
    })
    assert.deepStrictEqual(seen, ['1', '2', '3'])
  } finally {
    await c.close()
  }
  await assert.rejects(connect({ types: { results: 'binary' } }), /'types.results' must be one of 'values', 'text'/)
})

test('enums, domains, composites and arrays of them', async () => {
  const c = await connect()
  const mood = unique('mood')
  const dom = unique('posint')
  const comp = unique('pair')
  try {
    await c.query(`CREATE TYPE ${mood} AS ENUM ('sad', 'happy')`)
    await c.query(`CREATE DOMAIN ${dom} AS int4 CHECK (VALUE > 0)`)
    await c.query(`CREATE TYPE ${comp} AS (a int4, b text)`)
    const r = await c.query(`SELECT $1::${mood} AS m, $2::${mood}[] AS ms, $3::${dom} AS d, ROW(1, 'x')::${comp} AS p`, [
      'happy',
      ['sad', null, 'happy'],
      7,
    ])
    assert.deepStrictEqual(r.rows[0], { m: 'happy', ms: ['sad', null, 'happy'], d: 7, p: { a: 1, b: 'x' } })
    await assert.rejects(c.query(`SELECT $1::${dom}`, [1.5]), (e) => e.code === 'ERR_INVALID_PARAMETER' && /int4/.test(e.message))
    await assert.rejects(c.query(`SELECT $1::${mood}`, ['angry']), (e) => e.code === '22P02')
  } finally {
    await c.query(`DROP TYPE IF EXISTS ${comp}; `.slice(0, -2)).catch(() => {})
    await c.query(`DROP DOMAIN IF EXISTS ${dom}`).catch(() => {})
    await c.query(`DROP TYPE IF EXISTS ${mood}`).catch(() => {})
    await c.close()
  }
})

test('values that do not fit are rejected before anything runs, naming $n, type and value', async () => {
  const c = await connect()
  try {
    await c.query('CREATE TEMP TABLE t_fit (a int4, b uuid, c int8)')
    const bad = [
      [[1.5, null, null], /\$1: expected int4.*number 1\.5/],
      [[2 ** 31, null, null], /\$1: expected int4.*number 2147483648/],
      [[1, 'abc', null], /\$2: expected uuid, got string 'abc'/],
      [[1, null, 2n ** 63n], /\$3: expected int8.*bigint 9223372036854775808n/],
      [[1, null, 2 ** 63], /\$3: expected int8/],
      [['x', null, null], /\$1: expected int4.*string 'x'/],
      [[true, null, null], /\$1: expected int4.*boolean true/],
      [[1, null, 1.5], /\$3: expected int8.*number 1\.5/],
    ]
    for (const [params, re] of bad) {
      await assert.rejects(c.query('INSERT INTO t_fit VALUES ($1, $2, $3)', params), (e) => {
        assert.equal(e.code, 'ERR_INVALID_PARAMETER')
        assert.match(e.message, re)
        return true
      })
    }
    await assert.rejects(c.query('SELECT $1::text', ['a\0b']), /NUL/)
    await assert.rejects(c.query('SELECT $1::int4', [1, 2]), /expects 1 parameter, got 2/)
    await assert.rejects(c.query('SELECT $1::int4', [() => 1]), /\$1: a function cannot be sent/)
    await assert.rejects(c.query('SELECT $1::jsonb', [{ big: 1n }]), /\$1: expected jsonb/)
    await assert.rejects(c.query('SELECT $1::float4', [1e300]), /float4/)
    // An object read field by field (interval, range) must have only those fields, however
    // many keys it has (nine keys used to pass as a zero interval).
    const many = Object.fromEntries('abcdefghi'.split('').map((k) => [k, 1]))
    for (const [sql, value, key] of [
      ['SELECT $1::interval', { months: 1, day: 2 }, 'day'],
      ['SELECT $1::interval', many, 'a'],
      ['SELECT $1::int4range', { from: 1, to: 2 }, 'from'],
    ]) {
      await assert.rejects(c.query(sql, [value]), (e) => e.code === 'ERR_INVALID_PARAMETER' && e.message.includes(`got an object with key '${key}'`))
    }
    assert.equal((await c.query('SELECT count(*)::int4 AS n FROM t_fit')).rows[0].n, 0)
  } finally {
    await c.close()
  }
})
