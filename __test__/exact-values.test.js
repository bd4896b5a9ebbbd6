'use strict'
// Issue 17, "no silent truncation": a value is stored and read back exactly, or rejected with
// ERR_INVALID_PARAMETER. The gaps the property tests found, each checked against the server:
//  - interval microseconds beyond 2^53 (read back as a bigint, sent back unchanged);
//  - Dates and NaN/±Infinity inside json values (as JSON.stringify writes a Date; a number
//    it would write as null is refused, naming where it is);
//  - copyFrom and a timestamptz string without an offset (UTC only in a UTC session).
const test = require('node:test')
const assert = require('node:assert/strict')
const fc = require('fast-check')
const { Client } = require('..')
const { pool, unique } = require('./helpers')

const url = process.env.DATABASE_URL

/** `[value]` or `[undefined, error]`. */
async function attempt(fn) {
  try {
    return [await fn()]
  } catch (e) {
    return [undefined, e]
  }
}

async function collect(iterable) {
  const out = []
  for await (const x of iterable) out.push(x)
  return out
}

// --- interval -----------------------------------------------------------------------------------

const I64_MAX = 2n ** 63n - 1n
const US_PER_HOUR = 3_600_000_000n

/** The server's text of an interval of `us` microseconds only (IntervalStyle postgres). */
function clock(us) {
  const sign = us < 0n ? '-' : ''
  let a = us < 0n ? -us : us
  const frac = a % 1_000_000n
  a /= 1_000_000n
  const two = (n) => String(n).padStart(2, '0')
  return `${sign}${a / 3600n}:${two((a / 60n) % 60n)}:${two(a % 60n)}.${String(frac).padStart(6, '0')}`
}

// [literal, months, days, microseconds (exact)]
const INTERVALS = [
  ['2562047788 hours', 0, 0, 2562047788n * US_PER_HOUR],
  ['-2562047788 hours', 0, 0, -2562047788n * US_PER_HOUR],
  [clock(I64_MAX), 0, 0, I64_MAX],
  [clock(-I64_MAX), 0, 0, -I64_MAX],
  [clock(2n ** 53n + 1n), 0, 0, 2n ** 53n + 1n],
  [clock(-(2n ** 53n) - 3n), 0, 0, -(2n ** 53n) - 3n],
  [`-178000000 years -5 days ${clock(2n ** 62n + 12345n)}`, -2136000000, -5, 2n ** 62n + 12345n],
  [`178000000 years 7 days ${clock(-(2n ** 60n) - 1n)}`, 2136000000, 7, -(2n ** 60n) - 1n],
  // The largest safe integer stays a number; one more is a bigint.
  [clock(2n ** 53n - 1n), 0, 0, 2n ** 53n - 1n],
  [clock(2n ** 53n), 0, 0, 2n ** 53n],
  ['1 day 00:00:01.5', 0, 1, 1_500_000n],
]

/** What ferropg reads: microseconds a number when it is a safe integer, else a bigint. */
function expected(months, days, us) {
  const n = Number(us)
  return { months, days, microseconds: Number.isSafeInteger(n) ? n : us }
}

test('interval: microseconds beyond 2^53 read back exactly as a bigint (binary, simpleQuery, copyOutRows, nested) and go back unchanged', async () => {
  const p = pool({ max: 1 })
  const c = await p.connect()
  const ty = unique('ivpair')
  const range = unique('ivrange')
  const table = unique('iv_exact')
  try {
    await c.query(`CREATE TYPE ${ty} AS (a interval, b int4)`)
    await c.query(`CREATE TYPE ${range} AS RANGE (subtype = interval)`)
    await c.query(`CREATE TABLE ${table} (v interval)`)
    for (const [lit, months, days, us] of INTERVALS) {
      const want = expected(months, days, us)
      const sql = `SELECT $1::interval AS v, $1::interval::text AS t, ARRAY[$1::interval, NULL] AS a, ARRAY[$1::interval, NULL]::text AS at, ROW($1::interval, 7)::${ty} AS r, ${range}($1::interval, NULL) AS g`
      const row = (await c.query(sql, [lit])).rows[0]
      assert.deepStrictEqual(row.v, want, `${lit}: read ${String(row.v.microseconds)} µs`)
      assert.equal(typeof row.v.microseconds, Number.isSafeInteger(Number(us)) ? 'number' : 'bigint', lit)
      assert.deepStrictEqual(row.a, [want, null], `${lit} in an array`)
      assert.deepStrictEqual(row.r, { a: want, b: 7 }, `${lit} in a composite`)
      assert.deepStrictEqual(row.g.lower, want, `${lit} as a range bound`)

      // Sent back as read: the server prints the same interval.
      const back = (await c.query('SELECT $1::interval::text AS t, $2::interval[]::text AS a', [row.v, row.a])).rows[0]
      assert.equal(back.t, row.t, `${lit} sent back`)
      assert.equal(back.a, row.at, `${lit} sent back in an array`)

      // The simple protocol (text results) and binary COPY read it alike.
      const lits = `'${lit}'::interval`
      const [simple] = await c.simpleQuery(`SELECT ${lits} AS v, ARRAY[${lits}] AS a, ROW(${lits}, 7)::${ty} AS r, ${range}(${lits}, NULL) AS g`)
      assert.deepStrictEqual(simple.rows[0], { v: want, a: [want], r: { a: want, b: 7 }, g: { lower: want, upper: null, lowerInc: true, upperInc: false, empty: false } }, `${lit} through simpleQuery`)
      const copied = await collect(c.copyOutRows(`SELECT ${lits} AS v, ARRAY[${lits}] AS a, ROW(${lits}, 7)::${ty} AS r`))
      assert.deepStrictEqual(copied, [{ v: want, a: [want], r: { a: want, b: 7 } }], `${lit} through copyOutRows`)

      // Written by copyFrom and by INSERT from the value read.
      await c.query(`TRUNCATE ${table}`)
      assert.equal(await c.copyFrom(table, [[row.v]]), 1)
      await c.query(`INSERT INTO ${table} VALUES ($1)`, [row.v])
      const stored = (await c.query(`SELECT v::text AS t FROM ${table}`)).rows.map((r) => r.t)
      assert.deepEqual(stored, [row.t, row.t], `${lit} written back`)
    }
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {})
    await c.query(`DROP TYPE IF EXISTS ${ty}, ${range}`).catch(() => {})
    c.release()
    await p.close()
  }
})

test('interval: any int64 microseconds, given as a bigint, read back as itself', async () => {
  const p = pool({ max: 1 })
  try {
    await fc.assert(
      fc.asyncProperty(fc.bigInt(-I64_MAX, I64_MAX), async (us) => {
        const { v, t } = (await p.query('SELECT $1::interval AS v, $1::interval::text AS t', [{ microseconds: us }])).rows[0]
        assert.deepStrictEqual(v, expected(0, 0, us), `${us} µs read as ${String(v.microseconds)}`)
        // Sent back as read, and as text the server parses: the same interval.
        const back = (await p.query('SELECT $1::interval::text AS a, $2::interval::text AS b', [v, clock(us)])).rows[0]
        assert.deepEqual([back.a, back.b], [t, t], `${us} µs`)
      }),
      { seed: 1717, numRuns: 200, examples: [[2n ** 53n + 1n], [-(2n ** 53n) - 1n]] },
    )
  } finally {
    await p.close()
  }
})

// --- json ---------------------------------------------------------------------------------------

const DATES = [
  new Date('0001-01-01T00:00:00.000Z'),
  new Date('9999-12-31T23:59:59.999Z'),
  new Date('+010000-01-01T00:00:00.000Z'),
  new Date('+275760-09-13T00:00:00.000Z'),
  new Date('-000001-06-15T12:30:00.250Z'),
  new Date('0000-01-01T00:00:00.000Z'),
  new Date(-8.64e15),
  new Date(NaN),
]

class Money {
  constructor(cents) {
    this.cents = cents
  }
  toJSON() {
    return { amount: this.cents / 100, at: new Date('+010000-01-01T00:00:00Z') }
  }
}

/** Values holding `d` at every depth the driver treats apart (top, arrays, objects, toJSON). */
const around = (d) => [d, [d], [[1, d]], { d }, [{ a: [d] }], { a: { b: [null, d] } }, { toJSON: () => [d] }, [new Money(150), d]]

test('json/jsonb: a Date at any depth is written as JSON.stringify writes it (years 1, 9999, 10000, 275760, -1, invalid)', async () => {
  const p = pool({ max: 1 })
  const table = unique('json_dates')
  try {
    await p.query(`CREATE TABLE ${table} (i int4, j json, b jsonb)`)
    const values = DATES.flatMap(around)
    for (const v of values) {
      const want = JSON.parse(JSON.stringify(v))
      const r = (await p.query('SELECT $1::json AS j, $1::jsonb AS b', [v])).rows[0]
      assert.deepStrictEqual(r.j, want, `json ${JSON.stringify(v)}`)
      assert.deepStrictEqual(r.b, want, `jsonb ${JSON.stringify(v)}`)
    }
    assert.equal(await p.copyFrom(table, values.map((v, i) => [i, v, v])), values.length)
    const rows = (await p.query(`SELECT i, j, b FROM ${table} ORDER BY i`)).rows
    for (const { i, j, b } of rows) {
      const want = JSON.parse(JSON.stringify(values[i]))
      assert.deepStrictEqual(j, want, `copyFrom json ${JSON.stringify(values[i])}`)
      assert.deepStrictEqual(b, want, `copyFrom jsonb ${JSON.stringify(values[i])}`)
    }
  } finally {
    await p.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {})
    await p.close()
  }
})

test('jsonb: any tree of Dates, numbers, strings, arrays and objects is stored as JSON.parse(JSON.stringify(v))', async () => {
  const p = pool({ max: 1 })
  const leaf = fc.oneof(
    fc.date({ min: new Date(-8.64e15), max: new Date(8.64e15) }),
    fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('+012000-01-01T00:00:00Z') }),
    fc.integer(),
    fc.string({ unit: 'grapheme-ascii', maxLength: 6 }).filter((s) => !s.includes('\0')),
    fc.boolean(),
    fc.constant(null),
  )
  const { tree } = fc.letrec((tie) => ({
    tree: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, fc.array(tie('tree'), { maxLength: 4 }), fc.dictionary(fc.string({ unit: 'grapheme-ascii', maxLength: 4 }), tie('tree'), { maxKeys: 4 })),
  }))
  try {
    await fc.assert(
      fc.asyncProperty(tree, async (v) => {
        const got = (await p.query('SELECT $1::jsonb AS b', [v])).rows[0].b
        assert.deepStrictEqual(got, JSON.parse(JSON.stringify(v)))
      }),
      { seed: 1717, numRuns: 300, examples: [[[new Date('+010000-01-01T00:00:00Z')]]] },
    )
  } finally {
    await p.close()
  }
})

// [value, what, where] for a number JSON.stringify would write as null.
const NON_FINITE = [
  [NaN, 'NaN', ''],
  [{ a: [1, 2, NaN] }, 'NaN', '.a[2]'],
  [[1, { b: Infinity }], 'Infinity', '[1].b'],
  [[[0, -Infinity]], '-Infinity', '[0][1]'],
  [{ 'x y': { z: [0, { w: NaN }] } }, 'NaN', '["x y"].z[1].w'],
  [{ toJSON: () => ({ n: -Infinity }) }, '-Infinity', '.n'],
  [[null, { n: Object(NaN) }], 'NaN', '[1].n'],
  [{ a: null, b: 'null', c: [new Money(Infinity)] }, 'Infinity', '.c[0].amount'],
]

test('json/jsonb: NaN and ±Infinity anywhere inside the value are refused with $n, the type and where; nothing is written', async () => {
  const p = pool({ max: 1 })
  const table = unique('json_nan')
  try {
    await p.query(`CREATE TABLE ${table} (j json, b jsonb)`)
    for (const [v, what, where] of NON_FINITE) {
      for (const type of ['json', 'jsonb']) {
        const [, e] = await attempt(() => p.query(`INSERT INTO ${table} (${type === 'json' ? 'j' : 'b'}) VALUES ($1)`, [v]))
        assert.equal(e?.code, 'ERR_INVALID_PARAMETER', `${type} ${where}: ${e?.code} ${e?.message}`)
        assert.ok(e.message.startsWith(`$1: expected ${type}: ${what}${where ? ` at ${where}` : ''} has no JSON form`), e.message)
      }
      const [, ce] = await attempt(() => p.copyFrom(table, [[{ ok: 1 }, { ok: 2 }], [null, v]]))
      assert.equal(ce?.code, 'ERR_INVALID_PARAMETER', `copyFrom ${where}: ${ce?.code} ${ce?.message}`)
      assert.equal(ce.index, 1)
      assert.ok(ce.message.includes(`column "b": expected jsonb: ${what}${where ? ` at ${where}` : ''} has no JSON form`), ce.message)
      const [, me] = await attempt(() => p.executeMany(`INSERT INTO ${table} (j) VALUES ($1)`, [[{ ok: 3 }], [[v]]]))
      assert.equal(me?.code, 'ERR_INVALID_PARAMETER', `executeMany ${where}: ${me?.message}`)
      assert.ok(me.message.includes(`${what} at [0]${where}`), me.message)
    }
    assert.equal((await p.query(`SELECT count(*)::int4 AS n FROM ${table}`)).rows[0].n, 0)
    // A null of the value, or the text "null", is not mistaken for one.
    const ok = { a: null, b: 'null', c: [null, 'NaN', 1e308] }
    assert.deepStrictEqual((await p.query('SELECT $1::jsonb AS b', [ok])).rows[0].b, ok)
  } finally {
    await p.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {})
    await p.close()
  }
})

// --- copyFrom and TimeZone ------------------------------------------------------------------------

test('copyFrom: a timestamptz string without an offset is UTC only in a UTC session; otherwise the row is refused and nothing is written', async () => {
  const p = pool({ max: 1 })
  const c = await p.connect()
  const table = unique('tz_copy')
  const zoneless = '2020-06-01 10:00:00'
  const count = async () => (await c.query(`SELECT count(*)::int4 AS n FROM ${table}`)).rows[0].n
  try {
    await c.query(`CREATE TABLE ${table} (i int4, at timestamptz, ats timestamptz[], r tstzrange)`)
    // UTC by any of its names: accepted, and the same instant as INSERT stores.
    for (const zone of ['UTC', 'Etc/UTC', 'GMT', 'utc', 'Zulu', 'Universal', 'UCT']) {
      await c.query(`SET TimeZone = '${zone}'`)
      await c.query(`TRUNCATE ${table}`)
      assert.equal(await c.copyFrom(table, [[1, zoneless, [zoneless], { lower: zoneless, upper: null }]]), 1, zone)
      await c.query(`INSERT INTO ${table} VALUES (2, $1, $2, $3)`, [zoneless, [zoneless], { lower: zoneless, upper: null }])
      const rows = (await c.query(`SELECT at, ats::text, r::text FROM ${table} ORDER BY i`)).rows
      assert.deepStrictEqual(rows[0], rows[1], `TimeZone ${zone}`)
      assert.equal(rows[0].at.toISOString(), '2020-06-01T10:00:00.000Z')
    }
    // Another zone: refused (the row's index, the column, the zone), nothing written, and the
    // connection serves on.
    await c.query(`TRUNCATE ${table}`)
    await c.query(`SET TimeZone = 'Europe/Paris'`)
    const good = [0, new Date('2020-06-01T10:00:00Z'), ['2020-06-01T10:00:00Z', '2020-06-01 12:00+02'], { lower: '2020-06-01 10:00:00Z' }]
    const cases = [
      [[3, zoneless, null, null], 'column "at": the timestamptz \'2020-06-01 10:00:00\''],
      [[3, '2020-06-01', null, null], 'column "at": the timestamptz \'2020-06-01\''],
      [[3, null, ['2020-06-01T10:00Z', zoneless], null], 'column "ats": element 1: the timestamptz'],
      [[3, null, null, { lower: '2020-06-01T10:00Z', upper: '2021-01-01T00:00' }], 'column "r": range upper bound: the timestamptz'],
    ]
    for (const [bad, where] of cases) {
      const rows = [good, good, bad, good]
      const [, e] = await attempt(() => c.copyFrom(table, rows))
      assert.equal(e?.code, 'ERR_INVALID_PARAMETER', `${where}: ${e?.code} ${e?.message}`)
      assert.equal(e.index, 2)
      assert.ok(e.message.includes(where), e.message)
      assert.match(e.message, /TimeZone is Europe\/Paris, not UTC.*give an offset .* or a Date/)
      assert.equal(await count(), 0, `${where}: rows were written`)
    }
    // Dates, strings with an offset and ±infinity are unaffected.
    const rows = [good, [1, '2020-06-01T12:00:00+02:00', ['infinity'], { lower: '-infinity', upper: new Date(0) }]]
    assert.equal(await c.copyFrom(table, rows), 2)
    assert.equal(await count(), 2)
    assert.equal((await c.query(`SELECT at FROM ${table} WHERE i = 1`)).rows[0].at.toISOString(), '2020-06-01T10:00:00.000Z')
    // SET LOCAL inside a transaction is seen too, and its end.
    await c.query(`SET TimeZone = 'UTC'`)
    await c.query('BEGIN')
    await c.query(`SET LOCAL TimeZone = 'America/New_York'`)
    const [, te] = await attempt(() => c.copyFrom(table, [[5, zoneless, null, null]]))
    assert.equal(te?.code, 'ERR_INVALID_PARAMETER', te?.message)
    await c.query('ROLLBACK')
    assert.equal(await c.copyFrom(table, [[5, zoneless, null, null]]), 1)
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {})
    c.release()
    await p.close()
  }
})

test('copyFrom: a session started in another TimeZone (options) refuses a zoneless timestamptz; a Client in UTC takes it', async () => {
  const paris = await Client.connect({ connectionString: url, options: { TimeZone: 'Asia/Kathmandu' } })
  const utc = await Client.connect({ connectionString: url, options: { TimeZone: 'Etc/UTC' } })
  const table = unique('tz_opts')
  try {
    await paris.query(`CREATE TABLE ${table} (at timestamptz)`)
    const [, e] = await attempt(() => paris.copyFrom(table, [['2020-01-01T00:00:00']]))
    assert.equal(e?.code, 'ERR_INVALID_PARAMETER', e?.message)
    assert.match(e.message, /TimeZone is Asia\/Kathmandu/)
    assert.equal((await paris.query(`SELECT count(*)::int4 AS n FROM ${table}`)).rows[0].n, 0)
    assert.equal(await utc.copyFrom(table, [['2020-01-01T00:00:00']]), 1)
    assert.equal((await utc.query(`SELECT at FROM ${table}`)).rows[0].at.toISOString(), '2020-01-01T00:00:00.000Z')
  } finally {
    await paris.query(`DROP TABLE IF EXISTS ${table}`).catch(() => {})
    await paris.close()
    await utc.close()
  }
})
