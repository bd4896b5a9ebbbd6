'use strict'
// Tracing through node:diagnostics_channel (docs/observability.md): every ferropg:* channel
// subscribed and its events checked with the values a real server gives; the caller's async
// context seen at the end of the operation; a failing subscriber leaves the query alone.
const test = require('node:test')
const assert = require('node:assert/strict')
const dc = require('node:diagnostics_channel')
const { AsyncLocalStorage } = require('node:async_hooks')
const { Readable } = require('node:stream')
const { pipeline: pump } = require('node:stream/promises')
const { channels, Client, DatabaseError } = require('..')
const { url, connect, pool: makePool, unique } = require('./helpers')
const { record } = require('./trace-recorder')

const u = new URL(url)
const PORT = Number(u.port)
const DB = decodeURIComponent(u.pathname.slice(1))
const USER = decodeURIComponent(u.username)


function checkWhere(ctx) {
  assert.equal(ctx['db.system.name'], 'postgresql')
  assert.equal(ctx['db.namespace'], DB)
  assert.equal(ctx['server.address'], '127.0.0.1')
  assert.equal(ctx['server.port'], PORT)
  assert.equal(ctx.user, USER)
}

test('the channel names', () => {
  assert.deepEqual({ ...channels }, {
    query: 'ferropg:query',
    connect: 'ferropg:connect',
    poolAcquire: 'ferropg:pool:acquire',
    transaction: 'ferropg:transaction',
    copy: 'ferropg:copy',
    pipeline: 'ferropg:pipeline',
  })
})

test('ferropg:query on a client: start, end, asyncStart, asyncEnd with the server facts', async () => {
  const c = await connect()
  const rec = record('ferropg:query')
  try {
    const r = await c.query('SELECT $1::int AS n, $2::text AS t FROM generate_series(1, 3)', [7, 'secret-value'])
    assert.deepEqual(rec.kinds(), ['start', 'end', 'asyncStart', 'asyncEnd'])
    const ctx = rec.events[0][1]
    assert.ok(rec.events.every((e) => e[1] === ctx), 'one context for the whole operation')
    checkWhere(ctx)
    assert.equal(ctx['db.query.text'], 'SELECT $1::int AS n, $2::text AS t FROM generate_series(1, 3)')
    assert.equal(ctx.parameterCount, 2)
    assert.equal(ctx.processId, c.processId)
    assert.equal(ctx.values, undefined, 'values only when asked')
    assert.ok(!JSON.stringify({ ...ctx, result: undefined }).includes('secret-value'))
    assert.equal(ctx.result, r)
    assert.equal(ctx.command, 'SELECT')
    assert.equal(ctx['db.operation.name'], 'SELECT')
    assert.equal(ctx.rowCount, 3)
    assert.equal(ctx['db.response.returned_rows'], 3)
  } finally {
    rec.stop()
    await c.close()
  }
})

test('ferropg:query on a client: cacheHit and the statement\'s name, as the connection\'s cache says', async () => {
  const named = await connect()
  const unnamed = await connect({ prepare: false })
  const rec = record('ferropg:query')
  try {
    const sql = 'SELECT $1::int4 + 1 AS n'
    for (const c of [named, unnamed]) {
      await c.query(sql, [1])
      await c.query(sql, [2])
      await c.query('SELECT 2 AS other')
    }
    const seen = rec.events.filter((e) => e[0] === 'start').map((e) => [e[1].cacheHit, e[1].statementName])
    assert.equal(seen.length, 6)
    // First use: not prepared yet; then the name the server knows it by.
    assert.deepEqual(seen[0], [false, undefined])
    assert.equal(seen[1][0], true)
    assert.match(seen[1][1], /^\S+$/)
    assert.deepEqual(seen[2], [false, undefined])
    // prepare: false: described once, then sent as the unnamed statement.
    assert.deepEqual(seen.slice(3), [[false, undefined], [true, ''], [false, undefined]])
    // The pool chooses its connection natively: not reported.
    const p = makePool({ max: 1 })
    try {
      await p.query(sql, [3])
      await p.query(sql, [4])
      const last = rec.events.filter((e) => e[0] === 'start').pop()[1]
      assert.equal(last.cacheHit, undefined)
      assert.equal(last.statementName, undefined)
    } finally {
      await p.close()
    }
  } finally {
    rec.stop()
    await named.close()
    await unnamed.close()
  }
})

test('ferropg:query: a server error publishes error with its SQLSTATE, and the caller still gets it', async () => {
  const c = await connect()
  const rec = record('ferropg:query')
  try {
    const table = unique('missing')
    await assert.rejects(c.query(`SELECT * FROM ${table}`), (e) => e instanceof DatabaseError && e.code === '42P01')
    assert.deepEqual(rec.kinds(), ['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    const ctx = rec.events[0][1]
    assert.ok(ctx.error instanceof DatabaseError)
    assert.equal(ctx['error.type'], '42P01')
    assert.equal(ctx['db.response.status_code'], '42P01')
    assert.equal(ctx.rowCount, undefined)
    // A driver error (no SQLSTATE): its code, no status code.
    await assert.rejects(c.query('SELECT $1::int', [1.5]), { code: 'ERR_INVALID_PARAMETER' })
    const ctx2 = rec.events[5][1]
    assert.equal(ctx2['error.type'], 'ERR_INVALID_PARAMETER')
    assert.equal(ctx2['db.response.status_code'], undefined)
  } finally {
    rec.stop()
    await c.close()
  }
})

test('ferropg:query on a pool: one operation per call, with or without timeoutMillis; values when traceValues is set', async () => {
  const p = makePool({ max: 2, traceValues: true })
  const rec = record('ferropg:query')
  try {
    const when = new Date('2024-01-02T03:04:05.000Z')
    await p.query('SELECT $1::int AS a, $2::text AS b, $3::bytea AS c, $4::timestamptz AS d, $5::int8 AS e, $6::int AS f', [1, 'x', Buffer.from([1, 255]), when, 5n, null])
    await p.query('SELECT 2', [], { timeoutMillis: 60000 })
    assert.equal(rec.events.filter((e) => e[0] === 'start').length, 2, 'no nested query events')
    const ctx = rec.events[0][1]
    checkWhere(ctx)
    assert.equal(ctx.processId, undefined, 'pool.query does not know its connection')
    assert.deepEqual(ctx.values, [1, 'x', Buffer.from([1, 255]), when, 5n, null])
    assert.equal(ctx['db.query.parameter.0'], '1')
    assert.equal(ctx['db.query.parameter.1'], 'x')
    assert.equal(ctx['db.query.parameter.2'], '\\x01ff')
    assert.equal(ctx['db.query.parameter.3'], '2024-01-02T03:04:05.000Z')
    assert.equal(ctx['db.query.parameter.4'], '5')
    assert.equal(ctx['db.query.parameter.5'], 'NULL')
    const timed = rec.events[4][1]
    assert.equal(timed['db.query.text'], 'SELECT 2')
    assert.equal(timed.rowCount, 1)
    assert.equal(timed.values.length, 0)
  } finally {
    rec.stop()
    await p.close()
  }
})

test('ferropg:query on simpleQuery: the script, its statements and rows', async () => {
  const c = await connect()
  const rec = record('ferropg:query')
  try {
    await c.simpleQuery('CREATE TEMP TABLE tq (v int); INSERT INTO tq VALUES (1), (2); SELECT v FROM tq')
    const ctx = rec.events[0][1]
    assert.equal(ctx.statements, 3)
    assert.equal(ctx.command, 'SELECT')
    assert.equal(ctx['db.response.returned_rows'], 2)
    assert.equal(ctx.parameterCount, 0)
  } finally {
    rec.stop()
    await c.close()
  }
})

test('the caller\'s AsyncLocalStorage store is seen at end, asyncEnd and error, on clients and pools', async () => {
  const als = new AsyncLocalStorage()
  const c = await connect()
  const p = makePool({ max: 1 })
  const rec = record('ferropg:query', als)
  try {
    await als.run({ id: 'client' }, () => c.query('SELECT 1'))
    await als.run({ id: 'pool' }, () => p.query('SELECT 1'))
    await als.run({ id: 'failing' }, () => p.query('SELECT 1/0').catch((e) => e))
    await als.run({ id: 'tx' }, () => p.transaction((tx) => tx.query('SELECT 1')))
    const seen = (kind) => rec.events.filter((e) => e[0] === kind).map((e) => e[2]?.id)
    assert.deepEqual(seen('asyncEnd'), ['client', 'pool', 'failing', 'tx', 'tx', 'tx'])
    assert.deepEqual(seen('end'), ['client', 'pool', 'failing', 'tx', 'tx', 'tx'])
    assert.deepEqual(seen('error'), ['failing'])
    assert.deepEqual(rec.events.filter((e) => e[0] === 'start').map((e) => e[1]['db.query.text']), ['SELECT 1', 'SELECT 1', 'SELECT 1/0', 'BEGIN', 'SELECT 1', 'COMMIT'])
  } finally {
    rec.stop()
    await c.close()
    await p.close()
  }
})

test('a store bound to the start channel is active while the query runs (tracePromise\'s bindStore)', async () => {
  const spans = new AsyncLocalStorage()
  const ch = dc.tracingChannel('ferropg:query')
  ch.start.bindStore(spans, (ctx) => ({ sql: ctx['db.query.text'] }))
  const seen = []
  const subs = { start() {}, end() {}, asyncStart() {}, asyncEnd: () => seen.push(spans.getStore()?.sql), error() {} }
  ch.subscribe(subs)
  const c = await connect()
  try {
    await c.query('SELECT 42')
    assert.deepEqual(seen, ['SELECT 42'])
  } finally {
    ch.unsubscribe(subs)
    ch.start.unbindStore(spans)
    await c.close()
  }
})

test('ferropg:connect: the server reached, TLS or not, the version and the duration; a refused login', async () => {
  const rec = record('ferropg:connect')
  let c
  try {
    c = await Client.connect(url)
    assert.deepEqual(rec.kinds(), ['start', 'end', 'asyncStart', 'asyncEnd'])
    const ctx = rec.events[0][1]
    checkWhere(ctx)
    const { rows } = await c.query('SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false) AS ssl')
    assert.equal(ctx.tls, rows[0].ssl)
    assert.equal(ctx.serverVersion, c.serverVersion)
    assert.equal(ctx.processId, c.processId)
    assert.equal(typeof ctx.durationMillis, 'number')
    assert.ok(ctx.durationMillis >= 0)
    assert.equal(ctx.result, c)
    const bad = new URL(url)
    bad.password = 'not-the-password'
    await assert.rejects(Client.connect(bad.href), { code: '28P01' })
    const failed = rec.events[4][1]
    assert.deepEqual(rec.kinds().slice(4), ['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    assert.equal(failed['db.response.status_code'], '28P01')
    assert.equal(failed['server.address'], '127.0.0.1', 'read from the URL before connecting')
    assert.equal(failed['server.port'], PORT)
  } finally {
    rec.stop()
    await c?.close()
  }
})

test('ferropg:pool:acquire: the pool before the wait, the wait and the connection after it', async () => {
  const p = makePool({ max: 2 })
  const rec = record('ferropg:pool:acquire')
  try {
    const a = await p.connect()
    const b = await p.connect()
    const waiting = p.connect()
    a.release()
    const c = await waiting
    assert.equal(rec.events.filter((e) => e[0] === 'asyncEnd').length, 3)
    const [first, , third] = rec.events.filter((e) => e[0] === 'start').map((e) => e[1])
    checkWhere(first)
    assert.deepEqual([first.poolSize, first.idle, first.waiting, first.max], [0, 0, 0, 2])
    assert.deepEqual([third.poolSize, third.idle, third.max], [2, 0, 2])
    assert.equal(first.processId, a.processId)
    assert.equal(third.processId, c.processId)
    assert.equal(c.processId, a.processId, 'the released connection went to the waiter')
    assert.equal(typeof third.waitMillis, 'number')
    b.release()
    c.release()
  } finally {
    rec.stop()
    await p.close()
  }
})

test('ferropg:transaction: commit, rollback with the error, and a savepoint inside', async () => {
  const p = makePool({ max: 1 })
  const rec = record('ferropg:transaction')
  try {
    const got = await p.transaction(async (tx) => {
      await tx.transaction(async (sp) => sp.query('SELECT 1'))
      await tx.transaction(async () => {
        throw new Error('inner')
      }).catch(() => {})
      return 'done'
    }, { isolationLevel: 'serializable', readOnly: true })
    assert.equal(got, 'done')
    await assert.rejects(p.transaction(async (tx) => tx.query('SELECT 1/0')), { code: '22012' })
    const starts = rec.events.filter((e) => e[0] === 'start').map((e) => e[1])
    assert.equal(starts.length, 4)
    const [outer, sp1, sp2, failed] = starts
    checkWhere(outer)
    assert.equal(outer.isolationLevel, 'serializable')
    assert.equal(outer.readOnly, true)
    assert.equal(outer.savepoint, undefined)
    assert.equal(outer.outcome, 'commit')
    assert.equal(outer.result, 'done')
    assert.equal(sp1.savepoint, 'ferropg_sp_1_1')
    assert.equal(sp1.outcome, 'commit')
    assert.equal(sp2.savepoint, 'ferropg_sp_1_2')
    assert.equal(sp2.outcome, 'rollback')
    assert.equal(sp2.error.message, 'inner')
    assert.equal(failed.outcome, 'rollback')
    assert.equal(failed['db.response.status_code'], '22012')
    assert.equal(typeof outer.processId, 'number')
  } finally {
    rec.stop()
    await p.close()
  }
})

test('ferropg:copy: copyFrom, copyIn and copyOut with their row counts', async () => {
  const c = await connect()
  const table = unique('copy_traced')
  await c.query(`CREATE TABLE ${table} (id int, name text)`)
  const rec = record('ferropg:copy')
  try {
    assert.equal(await c.copyFrom(table, [[1, 'a'], [2, 'b'], [3, 'c']]), 3)
    const sink = await c.copyIn(`COPY ${table} FROM STDIN (FORMAT csv)`)
    await pump(Readable.from(['4,d\n5,e\n']), sink)
    const chunks = []
    for await (const chunk of await c.copyOut(`COPY ${table} TO STDOUT`)) chunks.push(chunk)
    assert.equal(Buffer.concat(chunks).toString().split('\n').filter(Boolean).length, 5)
    const sink2 = await c.copyIn(`COPY ${table} FROM STDIN (FORMAT csv)`)
    sink2.destroy(new Error('changed my mind'))
    await new Promise((r) => sink2.once('close', r))
    await new Promise((r) => setImmediate(r))
    const starts = rec.events.filter((e) => e[0] === 'start').map((e) => e[1])
    assert.deepEqual(starts.map((s) => s.kind), ['copyFrom', 'copyIn', 'copyOut', 'copyIn'])
    const [from, into, out, aborted] = starts
    checkWhere(from)
    assert.equal(from['db.operation.name'], 'COPY')
    assert.equal(from['db.collection.name'], table)
    assert.equal(from.rowCount, 3)
    assert.equal(into['db.query.text'], `COPY ${table} FROM STDIN (FORMAT csv)`)
    assert.equal(into.rowCount, 2)
    assert.equal(into.direction, 'in')
    assert.equal(out.direction, 'out')
    assert.equal(out.error, undefined)
    assert.equal(aborted.error.message, 'changed my mind')
    assert.equal(rec.events.filter((e) => e[0] === 'asyncEnd').length, 4, 'each COPY ends once')
    assert.deepEqual(rec.events.filter((e) => e[0] === 'error').map((e) => e[1]), [aborted])
  } finally {
    rec.stop()
    await c.query(`DROP TABLE ${table}`)
    await c.close()
  }
})

test('ferropg:pipeline: statements and segments of a block', async () => {
  const p = makePool({ max: 1 })
  const rec = record('ferropg:pipeline')
  try {
    const out = await p.pipeline(async (pl) => {
      const a = pl.query('SELECT 1 AS n')
      const b = pl.query('SELECT 2 AS n')
      await pl.sync()
      const c = pl.query('SELECT 3 AS n')
      return [(await a).rows[0].n, (await b).rows[0].n, (await c).rows[0].n]
    })
    assert.deepEqual(out, [1, 2, 3])
    assert.deepEqual(rec.kinds(), ['start', 'end', 'asyncStart', 'asyncEnd'])
    const ctx = rec.events[0][1]
    checkWhere(ctx)
    assert.equal(ctx.statements, 3)
    assert.equal(ctx.segments, 2)
    assert.equal(ctx['db.operation.batch.size'], 3)
    assert.deepEqual(ctx.result, [1, 2, 3])
  } finally {
    rec.stop()
    await p.close()
  }
})

test('a subscriber that throws does not break the query (the error goes to uncaughtException)', async () => {
  const thrown = []
  process.setUncaughtExceptionCaptureCallback((e) => thrown.push(e.message))
  const ch = dc.tracingChannel('ferropg:query')
  const boom = (what) => () => {
    throw new Error(`subscriber ${what}`)
  }
  const subs = { start: boom('start'), end: boom('end'), asyncStart: boom('asyncStart'), asyncEnd: boom('asyncEnd'), error: boom('error') }
  ch.subscribe(subs)
  const p = makePool({ max: 1 })
  try {
    const r = await p.query('SELECT 5 AS n')
    assert.equal(r.rows[0].n, 5)
    await assert.rejects(p.query('SELECT 1/0'), { code: '22012' })
    await new Promise((r) => setImmediate(r))
    assert.deepEqual(thrown.sort(), [
      'subscriber asyncEnd', 'subscriber asyncEnd', 'subscriber asyncStart', 'subscriber asyncStart',
      'subscriber end', 'subscriber end', 'subscriber error', 'subscriber start', 'subscriber start',
    ])
  } finally {
    ch.unsubscribe(subs)
    process.setUncaughtExceptionCaptureCallback(null)
    await p.close()
  }
})

test('nothing is published without subscribers, and unsubscribing stops the events', async () => {
  const c = await connect()
  const rec = record('ferropg:query')
  rec.stop()
  await c.query('SELECT 1')
  await c.close()
  assert.equal(rec.events.length, 0)
  assert.equal(dc.tracingChannel('ferropg:query').hasSubscribers, false)
})

test('traceValues must be a boolean, and is off by default', async () => {
  const { Pool } = require('..')
  assert.throws(() => new Pool({ connectionString: url, traceValues: 'yes' }), { code: 'ERR_INVALID_CONFIG', message: /'traceValues' must be true or false/ })
  const c = await connect()
  const rec = record('ferropg:query')
  try {
    await c.query('SELECT $1::text', ['hidden'])
    const ctx = rec.events[0][1]
    assert.equal(ctx.values, undefined)
    assert.equal(ctx['db.query.parameter.0'], undefined)
    assert.equal(ctx.parameterCount, 1)
  } finally {
    rec.stop()
    await c.close()
  }
})
