'use strict'
// Issue 17, "no silent truncation": a value is stored and read back exactly, or rejected with
// ERR_INVALID_PARAMETER. The gaps the property tests found, each checked against the server:
//  - interval microseconds beyond 2^53 (read back as a bigint, sent back unchanged).
const test = require('node:test')
const assert = require('node:assert/strict')
const fc = require('fast-check')
const { pool, unique } = require('./helpers')

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
