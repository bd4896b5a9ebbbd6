'use strict'
// A zone with a half-hour offset and daylight saving time: pg reads and writes Dates in local
// time, and so must ferropg/pg.
process.env.TZ = 'America/St_Johns'
// ferropg/pg beside node-postgres itself: the same documented behaviours (pg's README and docs:
// values and type parsers, parameters, rowMode, multi-statement results, named statements,
// callbacks, events, pool events) run on both, and what they return must be equal.
const test = require('node:test')
const assert = require('node:assert/strict')
const realPg = require('pg')
const ferroPg = require('ferropg/pg')
const { url, unique } = require('./helpers')

const LIBS = { pg: realPg, ferropg: ferroPg }

/** Runs `fn(lib)` on both libraries; returns `{ pg, ferropg }`. */
async function both(fn) {
  const out = {}
  for (const [name, lib] of Object.entries(LIBS)) out[name] = await fn(lib)
  return out
}

async function withClient(lib, fn, config = {}) {
  const c = new lib.Client({ connectionString: url, ...config })
  await c.connect()
  try {
    return await fn(c)
  } finally {
    await c.end()
  }
}

/** The parts of a Result two drivers can share (no driver-private fields). */
const plain = (r) => ({ command: r.command, rowCount: r.rowCount, oid: r.oid, rows: r.rows, fields: r.fields.map((f) => ({ ...f })) })

function same(r, what) {
  assert.deepStrictEqual(r.ferropg, r.pg, what)
}

test('ferropg/pg returns the values pg returns for every common type (its own type parsers)', async () => {
  const sql = `SELECT 1::int2 AS i2, 2::int4 AS i4, 9007199254740993::int8 AS i8, 1.50::numeric AS n,
    1.5::float4 AS f4, 0.1::float8 AS f8, true AS b, 'héllo'::text AS t, 'ab'::varchar AS vc, '\\x00ff'::bytea AS by,
    '{"a":[1,2]}'::json AS j, '{"b":null}'::jsonb AS jb, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS u,
    '2024-02-29'::date AS d, '2024-02-29 13:14:15.123456'::timestamp AS ts, '2024-02-29 13:14:15.5+02'::timestamptz AS tz,
    '13:14:15'::time AS tm, '1 year 2 mons 3 days 04:05:06.7'::interval AS iv, '-1 day'::interval AS iv2,
    '{1,NULL,3}'::int4[] AS ai, '{"a \\"q\\"",NULL,"b,c"}'::text[] AS at, '{{1,2},{3,4}}'::int8[] AS a2,
    ARRAY['2024-01-01'::date] AS ad, ARRAY['{"x":1}'::jsonb] AS aj, '192.168.0.1/24'::inet AS ip, '(1,2)'::point AS p,
    'infinity'::timestamptz AS inf, NULL::int4 AS nul, 'x'::name AS nm, 'a'::"char" AS ch, 12::oid AS o`
  const r = await both((lib) => withClient(lib, async (c) => plain(await c.query(sql))))
  same(r, 'rows and fields')
  assert.equal(r.ferropg.rows[0].i8, '9007199254740993')
  assert.ok(r.ferropg.rows[0].ts instanceof Date)
})

test('parameters are prepared as pg prepares them (Dates in local time, arrays, objects, Buffers, toPostgres)', async () => {
  const values = [
    new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)),
    [1, null, 3],
    [['a"b', 'c\\d'], ['e', null]],
    { nested: { k: [1, 'two'] } },
    Buffer.from([0, 1, 255]),
    { toPostgres: () => '(1,2)' },
    12345678901234567890n,
    true,
    null,
    undefined,
    JSON.stringify({ already: 'json' }),
    '  padded  ',
  ]
  const sql = `SELECT $1::timestamptz::text AS tz, $1::timestamp::text AS ts, $1::date::text AS d, $2::int4[]::text AS a,
    $3::text[]::text AS a2, $4::jsonb::text AS j, $5::bytea::text AS b, $6::point::text AS p, $7::numeric::text AS n,
    $8::bool AS bo, $9::text AS n1, $10::int4 AS n2, $11::jsonb AS j2, $12::text AS s`
  const r = await both((lib) => withClient(lib, async (c) => plain(await c.query(sql, values))))
  same(r, 'the server saw the same values')
  assert.equal(r.ferropg.rows[0].j2.already, 'json')
})

test('rowMode array, multi-statement results, named statements, command/rowCount/oid', async () => {
  const t = unique('pgc')
  const r = await both((lib) => withClient(lib, async (c) => {
    const out = []
    out.push(plain(await c.query({ text: 'SELECT 1 AS a, 2 AS a, $1::text AS b', values: ['x'], rowMode: 'array' })))
    const multi = await c.query(`CREATE TEMP TABLE ${t} (id serial PRIMARY KEY, v text); INSERT INTO ${t} (v) VALUES ('a'), ('b'); SELECT v FROM ${t} ORDER BY id`)
    out.push(multi.map(plain))
    out.push(plain(await c.query({ name: 'upd', text: `UPDATE ${t} SET v = $1 WHERE id = $2`, values: ['z', 1] })))
    out.push(plain(await c.query({ name: 'upd', text: `UPDATE ${t} SET v = $1 WHERE id = $2`, values: ['y', 2] })))
    out.push(plain(await c.query(`DELETE FROM ${t} WHERE id > $1`, [0])))
    for (const s of ['BEGIN', 'SELECT 1', 'COMMIT', `INSERT INTO ${t} (v) VALUES ('c') RETURNING id`, `TRUNCATE ${t}`]) out.push(plain(await c.query(s)))
    out.push(plain(await c.query('SELECT 1 WHERE false')))
    return out
  }))
  // Each library made its own temporary table: table OIDs differ, and must both be set.
  const tables = (x) => JSON.parse(JSON.stringify(x, (k, v) => (k === 'tableID' ? v > 0 : v)))
  assert.deepStrictEqual(tables(r.ferropg), tables(r.pg), 'results')
  assert.equal(r.ferropg[1].length, 3)
  assert.equal(r.ferropg[1][2].fields[0].tableID > 0, true)
})

test('callbacks: connect, query with and without values, end', async () => {
  const r = await both((lib) => new Promise((resolve, reject) => {
    const c = new lib.Client(url)
    const seen = []
    c.connect((err) => {
      if (err) return reject(err)
      c.query('SELECT 1 AS a', (err1, r1) => {
        seen.push([err1, r1.rows])
        c.query('SELECT $1::int AS b', [2], (err2, r2) => {
          seen.push([err2, r2.rows])
          c.query({ text: 'SELECT $1::int AS c', values: [3] }, (err3, r3) => {
            seen.push([err3, r3.rows])
            c.query('SELECT * FROM no_such_table_pgc', (err4) => {
              seen.push(err4.code)
              c.end((err5) => resolve([...seen, err5 ?? null]))
            })
          })
        })
      })
    })
  }))
  same(r, 'callback results')
})

test('errors carry pg\'s fields; a failed query leaves the client usable', async () => {
  const t = unique('pgc_err')
  const r = await both((lib) => withClient(lib, async (c) => {
    await c.query(`CREATE TEMP TABLE ${t} (id int CONSTRAINT ${t}_pk PRIMARY KEY)`)
    await c.query(`INSERT INTO ${t} VALUES (1)`)
    const e = await c.query(`INSERT INTO ${t} VALUES ($1)`, [1]).catch((e) => e)
    const pick = ['name', 'code', 'severity', 'detail', 'table', 'constraint', 'schema', 'routine']
    const fields = Object.fromEntries(pick.map((k) => [k, e[k]]))
    // Each session has its own temporary schema (pg_temp_<n>).
    fields.schema = fields.schema.replace(/^pg_temp_\d+$/, 'pg_temp')
    const after = (await c.query('SELECT 2 AS ok')).rows
    return { fields, message: e.message, isDbError: e instanceof lib.DatabaseError, after }
  }))
  // pg's DatabaseError has name 'error'; ferropg's is 'DatabaseError'.
  assert.equal(r.pg.fields.name, 'error')
  r.pg.fields.name = r.ferropg.fields.name
  same(r, 'error fields')
  assert.equal(r.ferropg.isDbError, true)
})

test('type parsers: per client, per query, and defaults.parseInt8', async () => {
  const r = await both((lib) => withClient(lib, async (c) => {
    c.setTypeParser(1082, (text) => `date:${text}`)
    const a = (await c.query("SELECT '2024-05-06'::date AS d, '2024-05-06 07:08:09'::timestamp AS ts")).rows
    const b = (await c.query({
      text: 'SELECT 7::int4 AS i, 8::int8 AS l',
      types: { getTypeParser: (oid) => (text) => `${oid}=${text}` },
    })).rows
    lib.defaults.parseInt8 = true
    try {
      const d = (await c.query('SELECT 9::int8 AS l, ARRAY[1,2]::int8[] AS la')).rows
      return { a, b, d, parser: c.getTypeParser(1082)('x') }
    } finally {
      lib.defaults.parseInt8 = false
    }
  }))
  same(r, 'parsed values')
  assert.equal(r.ferropg.a[0].d, 'date:2024-05-06')
  assert.equal(r.ferropg.d[0].l, 9)
})

test('events: notification, notice, end; escapeIdentifier and escapeLiteral', async () => {
  const channel = unique('pgc_chan')
  const r = await both((lib) => withClient(lib, async (c) => {
    const got = []
    c.on('notification', (n) => got.push(['notification', n.channel, n.payload, n.processId === c.processID]))
    c.on('notice', (n) => got.push(['notice', n.message, n.severity, n.code]))
    await c.query(`LISTEN ${c.escapeIdentifier(channel)}`)
    await c.query('SELECT pg_notify($1, $2)', [channel, 'hello'])
    await c.query("DO $$ BEGIN RAISE NOTICE 'careful: %', 42; END $$")
    await new Promise((res) => setTimeout(res, 50))
    const tricky = ['plain', 'it\'s', 'back\\slash', 'both \\ \'', 'ünï', '"quoted"']
    got.push(tricky.map((s) => [c.escapeIdentifier(s), c.escapeLiteral(s), lib.escapeLiteral(s)]))
    got.push(c.getTransactionStatus?.() ?? 'n/a')
    return got
  }))
  // pg 8 has no getTransactionStatus(); ferropg/pg adds it.
  assert.equal(r.ferropg.pop(), 'I')
  r.pg.pop()
  same(r, 'events and escaping')
  const ended = await both((lib) => new Promise((resolve, reject) => {
    const c = new lib.Client(url)
    c.on('end', () => resolve('end'))
    c.connect().then(() => c.end(), reject)
  }))
  same(ended, 'end event')
})

test('Pool: counts, events, callbacks, release(true) destroys, pool.query', async () => {
  const r = await both(async (lib) => {
    const pool = new lib.Pool({ connectionString: url, max: 2, idleTimeoutMillis: 1000 })
    const events = []
    for (const ev of ['connect', 'acquire', 'release', 'remove']) pool.on(ev, () => events.push(ev))
    const counts = () => [pool.totalCount, pool.idleCount, pool.waitingCount]
    const log = []
    const a = await pool.connect()
    const b = await new Promise((resolve, reject) => pool.connect((err, client, release) => (err ? reject(err) : resolve({ client, release }))))
    log.push(counts())
    const waiting = pool.connect()
    await new Promise((res) => setImmediate(res))
    log.push(counts())
    a.release()
    const c = await waiting
    log.push(counts())
    b.release(true)
    await new Promise((res) => setTimeout(res, 20))
    log.push(counts())
    c.release()
    log.push((await pool.query('SELECT $1::int AS x', [5])).rows)
    log.push(await new Promise((resolve) => pool.query('SELECT 6 AS y', (err, res) => resolve([err, res.rows]))))
    const failed = await pool.query('SELECT * FROM no_such_table_pgc').catch((e) => e.code)
    log.push(failed)
    await new Promise((res) => setTimeout(res, 20))
    log.push(counts())
    await pool.end()
    log.push(counts(), pool.ended)
    return { log, events }
  })
  same(r, 'pool behaviour')
})

test('ferropg/pg returns a client left inside a transaction to nobody (pg would reuse it)', async () => {
  const pool = new ferroPg.Pool({ connectionString: url, max: 1 })
  try {
    const c = await pool.connect()
    const pid = c.processID
    await c.query('BEGIN')
    c.release()
    const d = await pool.connect()
    assert.notEqual(d.processID, pid, 'a new connection')
    assert.equal((await d.query('SELECT 1 AS one')).rows[0].one, 1)
    assert.equal(d.getTransactionStatus(), 'I')
    d.release()
  } finally {
    await pool.end()
  }
})

test('what ferropg/pg does not do is refused clearly', async () => {
  await assert.rejects(new ferroPg.Client({ connectionString: url, binary: true }).connect(), /binary: true is not supported/)
  await withClient(ferroPg, async (c) => {
    // A Submittable that drives pg's Connection: its 'error' event says so.
    const custom = Object.assign(new (require('node:events'))(), { text: 'SELECT 1', submit() {} })
    const err = await new Promise((resolve) => {
      custom.on('error', resolve)
      assert.equal(c.query(custom), custom)
    })
    assert.equal(err.code, 'ERR_UNSUPPORTED')
    assert.match(err.message, /not other Submittables/)
  })
  await assert.rejects(new ferroPg.Client(url).query('SELECT 1'), /has not been connected/)
})

test('cursors and query streams: pg-cursor and pg-query-stream, and ferropg/pg\'s own', async () => {
  const sql = 'SELECT g AS n, g::int8 AS big, now() - now() AS iv FROM generate_series(1, $1::int) g'
  const run = (Cursor, QueryStream) => async (lib) => withClient(lib, async (c) => {
    const out = []
    const cursor = c.query(new Cursor(sql, [7], { rowMode: 'array' }))
    const ends = []
    cursor.on('end', () => ends.push('end'))
    out.push(await cursor.read(3), await cursor.read(3))
    out.push(await new Promise((resolve, reject) => cursor.read(3, (err, rows) => (err ? reject(err) : resolve(rows)))))
    out.push(await cursor.read(3), ends)
    await cursor.close()
    // Queries issued while a cursor is open wait for it; closing early ends it.
    const early = c.query(new Cursor(sql, [1000]))
    const behind = c.query('SELECT 42 AS after')
    out.push((await early.read(2)).map((r) => r.n))
    await new Promise((resolve, reject) => early.close((err) => (err ? reject(err) : resolve())))
    out.push((await behind).rows)
    const rows = []
    for await (const row of c.query(new QueryStream(sql, [250], { batchSize: 100 }))) rows.push(row.n)
    out.push(rows.length, rows[0], rows[249])
    // A cursor submitted while another is open waits for it to end.
    const first = c.query(new Cursor(sql, [3]))
    const second = c.query(new Cursor(sql, [2]))
    out.push((await first.read(10)).map((r) => r.n))
    await first.close()
    out.push((await second.read(10)).map((r) => r.n))
    await second.close()
    const bad = c.query(new Cursor('SELECT * FROM no_such_table_pgc'))
    out.push(await bad.read(1).catch((e) => e.code))
    out.push((await c.query('SELECT 1 AS ok')).rows, c.getTransactionStatus?.() ?? 'I')
    return out
  })
  const r = {
    pg: await run(require('pg-cursor'), require('pg-query-stream'))(realPg),
    ferropg: await run(require('ferropg/pg-cursor'), require('ferropg/pg-query-stream'))(ferroPg),
  }
  same(r, 'cursor results')
  // pg's own cursor and stream objects (which Knex and TypeORM create) run on ferropg/pg too.
  const adopted = await run(require('pg-cursor'), require('pg-query-stream'))(ferroPg)
  assert.deepStrictEqual(adopted, r.pg)
})
