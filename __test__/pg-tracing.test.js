'use strict'
// ferropg/pg publishes on the channel names and context shapes proposed for node-postgres
// (pg:query, pg:connection, pg:pool:connect, pg:pool:release, pg:pool:remove), so that an
// instrumentation written for pg works unchanged; checked against a real server.
const test = require('node:test')
const assert = require('node:assert/strict')
const dc = require('node:diagnostics_channel')
const { AsyncLocalStorage } = require('node:async_hooks')
const pg = require('ferropg/pg')
const { url } = require('./helpers')
const { record } = require('./trace-recorder')

const u = new URL(url)
const target = { database: decodeURIComponent(u.pathname.slice(1)), host: '127.0.0.1', port: Number(u.port), user: decodeURIComponent(u.username) }


test('the pg:* names are exported by ferropg/pg', () => {
  assert.deepEqual({ ...pg.channels }, {
    query: 'pg:query',
    connection: 'pg:connection',
    poolConnect: 'pg:pool:connect',
    poolRelease: 'pg:pool:release',
    poolRemove: 'pg:pool:remove',
  })
})

test('pg:connection and pg:query on a pg Client: the contexts pg instrumentations read', async () => {
  const als = new AsyncLocalStorage()
  const conn = record('pg:connection')
  const query = record('pg:query', als)
  const client = new pg.Client({ connectionString: url })
  try {
    await client.connect()
    assert.deepEqual(conn.kinds(), ['start', 'end', 'asyncStart', 'asyncEnd'])
    assert.deepEqual(conn.events[0][1].connection, { ...target, ssl: false })
    const r = await als.run('caller', () => client.query('SELECT $1::int AS num', [1]))
    assert.deepEqual(query.kinds(), ['start', 'end', 'asyncStart', 'asyncEnd'])
    const ctx = query.events[0][1]
    assert.deepEqual(ctx.query, { text: 'SELECT $1::int AS num', name: undefined })
    assert.deepEqual(ctx.client, { ...target, ssl: false, processID: client.processID })
    assert.equal(ctx.result, r)
    assert.equal(ctx.result.rowCount, 1)
    assert.equal(ctx.result.command, 'SELECT')
    assert.equal(query.events[3][2], 'caller', 'the caller\'s store at asyncEnd')
    await assert.rejects(client.query('SELECT * FROM table_that_does_not_exist'), { code: '42P01' })
    assert.deepEqual(query.kinds().slice(4), ['start', 'end', 'error', 'asyncStart', 'asyncEnd'])
    assert.equal(query.events[4][1].error.code, '42P01')
    // A callback query is traced too.
    await new Promise((resolve, reject) => client.query('SELECT 2', (err) => (err ? reject(err) : resolve())))
    assert.equal(query.events.filter((e) => e[0] === 'asyncEnd').length, 3)
  } finally {
    conn.stop()
    query.stop()
    await client.end()
  }
})

test('pg:pool:connect, pg:pool:release and pg:pool:remove on a pg Pool', async () => {
  const connect = record('pg:pool:connect')
  const released = []
  const removed = []
  const onRelease = (m) => released.push(m)
  const onRemove = (m) => removed.push(m)
  dc.subscribe('pg:pool:release', onRelease)
  dc.subscribe('pg:pool:remove', onRemove)
  const pool = new pg.Pool({ connectionString: url, max: 3 })
  try {
    const a = await pool.connect()
    a.release()
    const b = await pool.connect()
    const err = new Error('drop it')
    b.release(err)
    const starts = connect.events.filter((e) => e[0] === 'start').map((e) => e[1])
    assert.equal(starts.length, 2)
    assert.deepEqual(starts[0].pool, { totalCount: 0, idleCount: 0, waitingCount: 0, maxSize: 3 })
    assert.deepEqual(starts[1].pool, { totalCount: 1, idleCount: 1, waitingCount: 0, maxSize: 3 })
    assert.deepEqual(starts[0].client, { processID: a.processID, reused: false })
    assert.deepEqual(starts[1].client, { processID: a.processID, reused: true })
    assert.deepEqual(released, [{ client: { processID: a.processID }, error: undefined }, { client: { processID: a.processID }, error: err }])
    assert.deepEqual(removed, [{ client: { processID: a.processID } }])
  } finally {
    connect.stop()
    dc.unsubscribe('pg:pool:release', onRelease)
    dc.unsubscribe('pg:pool:remove', onRemove)
    await pool.end()
  }
})
