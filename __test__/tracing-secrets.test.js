'use strict'
// No password in any tracing context (docs/observability.md): every ferropg:* and pg:* channel
// subscribed while connections are opened with the password in the URL, in the config object
// and from a password function; every context is searched for it, deeply.
const test = require('node:test')
const assert = require('node:assert/strict')
const dc = require('node:diagnostics_channel')
const { inspect } = require('node:util')
const { Pool, Client, channels } = require('..')
const pg = require('ferropg/pg')
const { url } = require('./helpers')

const u = new URL(url)
const password = decodeURIComponent(u.password)

test('no tracing context holds the password, however it was given', async () => {
  assert.ok(password.length >= 8, 'the test server has a password to look for')
  const contexts = []
  const undo = []
  for (const name of [...Object.values(channels), pg.channels.query, pg.channels.connection, pg.channels.poolConnect]) {
    const ch = dc.tracingChannel(name)
    const on = (ctx) => contexts.push([name, ctx])
    const subs = { start: on, end: on, asyncStart: on, asyncEnd: on, error: on }
    ch.subscribe(subs)
    undo.push(() => ch.unsubscribe(subs))
  }
  for (const name of [pg.channels.poolRelease, pg.channels.poolRemove]) {
    const on = (msg) => contexts.push([name, msg])
    dc.subscribe(name, on)
    undo.push(() => dc.unsubscribe(name, on))
  }
  const asObject = { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), database: u.pathname.slice(1) }
  try {
    const c1 = await Client.connect(url)
    await c1.transaction((tx) => tx.query('SELECT 1'))
    await c1.close()
    const c2 = await Client.connect({ ...asObject, password })
    await c2.pipeline((p) => p.query('SELECT 1'))
    await c2.close()
    await Client.connect({ ...asObject, password: 'wrong-' + password }).catch(() => {})
    const pool = new Pool({ ...asObject, password: async () => password, traceValues: true })
    await pool.query('SELECT $1::text', ['not a secret'])
    const pc = await pool.connect()
    await pc.copyFrom('pg_temp.none', []).catch(() => {})
    pc.release()
    await pool.close()
    const pgPool = new pg.Pool({ connectionString: url })
    await pgPool.query('SELECT 1')
    await pgPool.end()
    const pgClient = new pg.Client({ ...asObject, password })
    await pgClient.connect()
    await pgClient.query('SELECT 1')
    await pgClient.end()
  } finally {
    for (const f of undo) f()
  }
  const seen = new Set(contexts.map((c) => c[0]))
  for (const name of ['ferropg:query', 'ferropg:connect', 'ferropg:pool:acquire', 'ferropg:transaction', 'ferropg:copy', 'ferropg:pipeline', 'pg:query', 'pg:connection', 'pg:pool:connect', 'pg:pool:release']) {
    assert.ok(seen.has(name), `${name} published`)
  }
  for (const [name, ctx] of contexts) {
    // The context without what TracingChannel adds from the operation itself (its result, a Client).
    const { result, ...own } = ctx
    const text = inspect(own, { depth: Infinity, showHidden: true }) + JSON.stringify(own, (_k, v) => (typeof v === 'bigint' ? String(v) : v))
    assert.ok(!text.includes(password), `${name}: the password appears in ${text}`)
    if (result !== undefined && !(result instanceof Client) && !(result instanceof pg.Client)) {
      assert.ok(!inspect(result, { depth: Infinity }).includes(password), `${name}: the password appears in the result`)
    }
  }
})
