'use strict'
// Several hosts against a real primary and its streaming standby (both started here):
// every target_session_attrs value, and a pool that follows a promotion.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const { Client, Pool } = require('..')

let primary
let standby
let admin

before(async () => {
  const { startCluster, startStandby } = await import('../scripts/cluster.mjs')
  primary = await startCluster({ quiet: true, conf: { wal_level: 'replica', wal_keep_size: '64MB' } })
  admin = await Client.connect({ host: primary.sock, port: primary.port, user: 'postgres', database: 'postgres' })
  standby = await startStandby(primary, async (sql) => (await admin.query(sql.replace('SELECT pg_backup_start', 'SELECT 1 FROM pg_backup_start'))).rows)
  // The standby answers read-only sessions once it has replayed to a consistent point.
  const c = await Client.connect({ host: standby.sock, port: standby.port, user: 'postgres', database: 'postgres' })
  try {
    assert.equal((await c.query('SELECT pg_is_in_recovery() AS r')).rows[0].r, true)
  } finally {
    await c.close()
  }
})

after(async () => {
  await admin?.close().catch(() => {})
  await standby?.stop()
  await primary?.stop()
})

/** TCP settings for a list of the two servers (names: 'p' primary, 's' standby). */
function hosts(order, extra = {}) {
  const port = { p: primary.port, s: standby.port }
  return {
    host: order.map(() => '127.0.0.1').join(','),
    port: order.map((h) => port[h]).join(','),
    user: 'postgres',
    password: primary.password,
    database: 'postgres',
    sslmode: 'disable',
    ...extra,
  }
}

async function which(config) {
  const c = await Client.connect(config)
  try {
    return (await c.query('SELECT pg_is_in_recovery() AS r')).rows[0].r ? 's' : 'p'
  } finally {
    await c.close()
  }
}

test('target_session_attrs picks the server, from ParameterStatus', async () => {
  for (const order of [['s', 'p'], ['p', 's']]) {
    assert.equal(await which(hosts(order)), order[0], 'any: the first that accepts')
    assert.equal(await which(hosts(order, { target_session_attrs: 'read-write' })), 'p')
    assert.equal(await which(hosts(order, { target_session_attrs: 'primary' })), 'p')
    assert.equal(await which(hosts(order, { target_session_attrs: 'read-only' })), 's')
    assert.equal(await which(hosts(order, { target_session_attrs: 'standby' })), 's')
    assert.equal(await which(hosts(order, { target_session_attrs: 'prefer-standby' })), 's')
  }
  // prefer-standby without a standby: any server.
  assert.equal(await which(hosts(['p'], { target_session_attrs: 'prefer-standby' })), 'p')
  // Only a standby where a primary is wanted: a clear error.
  await assert.rejects(Client.connect(hosts(['s'], { target_session_attrs: 'read-write' })), (e) => {
    assert.equal(e.code, 'ERR_CONNECTION')
    assert.match(e.message, /is a standby \(in hot standby mode\), not what target_session_attrs=read-write asks for/)
    return true
  })
  // A primary whose sessions default to read-only is read-only, but still the primary.
  const ro = { options: '-c default_transaction_read_only=on' }
  assert.equal(await which(hosts(['p', 's'], { ...ro, target_session_attrs: 'read-only' })), 'p')
  assert.equal(await which(hosts(['p', 's'], { ...ro, target_session_attrs: 'primary' })), 'p')
  await assert.rejects(Client.connect(hosts(['p'], { ...ro, target_session_attrs: 'read-write' })), /read-only sessions/)
  // The URL form.
  const url = `postgres://postgres:${encodeURIComponent(primary.password)}@127.0.0.1:${standby.port},127.0.0.1:${primary.port}/postgres?target_session_attrs=read-write&sslmode=disable`
  assert.equal(await which(url), 'p')
})

test('a pool follows a promotion: zero errors again within 2 s of it', async () => {
  const pool = new Pool({ ...hosts(['p', 's'], { target_session_attrs: 'read-write' }), max: 4, connectTimeoutMillis: 2000 })
  const log = [] // { start, end, ok, code }
  let stopAt = Infinity
  const worker = async () => {
    while (Date.now() < stopAt) {
      const start = Date.now()
      try {
        await pool.query('SELECT 1 AS one')
        log.push({ start, end: Date.now(), ok: true })
      } catch (e) {
        log.push({ start, end: Date.now(), ok: false, code: e.code })
        await new Promise((r) => setTimeout(r, 20))
      }
    }
  }
  const workers = Array.from({ length: 8 }, worker)
  try {
    await new Promise((r) => setTimeout(r, 500))
    // Queries that settled before the stop began ran on a healthy primary (a stop can take
    // long on a loaded machine, so time is measured from its start, not from the promotion).
    const stopping = Date.now()
    await primary.stop()
    standby.promote()
    const promoted = Date.now()
    stopAt = promoted + 3500
    await Promise.all(workers)
    const before = log.filter((l) => l.end < stopping)
    const late = log.filter((l) => l.start >= promoted + 2000)
    assert.ok(before.length > 0 && before.every((l) => l.ok), `queries ran on the primary before it stopped: ${JSON.stringify(before.filter((l) => !l.ok))}`)
    assert.ok(late.length > 0, 'queries ran after the promotion')
    assert.deepEqual(late.filter((l) => !l.ok), [], 'no errors 2 s after the promotion')
    // The errors in between were connection errors, reported as such.
    for (const l of log.filter((l) => !l.ok)) assert.match(l.code, /^ERR_CONNECTION(_CLOSED)?$|^57P01$/, JSON.stringify(l))
    assert.equal(await which(hosts(['p', 's'], { target_session_attrs: 'read-write' })), 'p', 'the promoted standby is the primary now')
  } finally {
    stopAt = 0
    await Promise.all(workers)
    await pool.close()
  }
})
