'use strict'
// Nothing lost, nothing doubled (issue 17): 64 writers insert uniquely numbered rows through a
// pool (synchronous_commit on) while 30 faults hit it: backends terminated, connections cut
// with RST by the fault proxy, the server restarted fast and immediately. Afterwards every row
// whose call resolved is in the table, no number is there twice (the table has no unique
// constraint, so a statement run twice would show), and every call settled.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Pool, Client } = require('..')
const { faultProxy } = require('./fault-proxy')

const WRITERS = 64
const FAULTS = ['kill', 'cut', 'kill', 'restart-fast', 'kill', 'cut', 'kill', 'cut', 'restart-immediate', 'kill']
const FAULT_COUNT = 30
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

let cluster, proxy

test.before(async () => {
  const { startCluster } = await import('../scripts/cluster.mjs')
  cluster = await startCluster({ quiet: true })
  proxy = await faultProxy({ host: '127.0.0.1', port: cluster.port })
})

test.after(async () => {
  await proxy?.close()
  await cluster?.stop()
})

// A statement on a connection of its own, straight to the server (retried while it restarts).
async function admin(sql) {
  for (let i = 0; ; i++) {
    try {
      const c = await Client.connect({ connectionString: cluster.url, connectTimeoutMillis: 2000 })
      try {
        return await c.query(sql)
      } finally {
        await c.close()
      }
    } catch (e) {
      if (i >= 50) throw e
      await sleep(100)
    }
  }
}

test('64 writers under 30 faults (kills, RST cuts, fast and immediate restarts): every resolved row is there, none twice, every call settled', { timeout: 120_000 }, async () => {
  await admin('CREATE TABLE ledger (n int4 NOT NULL)')
  const escaped = []
  const onUnhandled = (e) => escaped.push(e)
  process.on('unhandledRejection', onUnhandled)
  const pool = new Pool({
    connectionString: proxy.url(cluster.url),
    max: 8,
    connectTimeoutMillis: 2000,
    applicationName: 'ledger',
    options: { synchronous_commit: 'on' },
  })
  const resolved = new Set()
  const errors = {}
  let next = 0
  let stop = false
  let maxSize = 0
  const writer = async () => {
    while (!stop) {
      const n = next++
      try {
        await pool.query('INSERT INTO ledger (n) VALUES ($1)', [n])
        resolved.add(n)
      } catch (e) {
        errors[e.code] = (errors[e.code] ?? 0) + 1
        // Outcome unknown or not run: nothing to record. Back off while the server is away.
        await sleep(20)
      }
      maxSize = Math.max(maxSize, pool.stats().size)
    }
  }
  try {
    const writers = Array.from({ length: WRITERS }, writer)
    await sleep(300)
    const done = []
    for (let i = 0; i < FAULT_COUNT; i++) {
      const fault = FAULTS[i % FAULTS.length]
      if (fault === 'kill') {
        await admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ledger'")
      } else if (fault === 'cut') {
        proxy.cutNow('rst')
      } else {
        await cluster.restart(fault === 'restart-fast' ? 'fast' : 'immediate')
      }
      done.push(fault)
      await sleep(150)
    }
    // After the last fault the pool serves again within 2 s.
    const healed = Date.now()
    for (;;) {
      try {
        await pool.query('SELECT 1')
        break
      } catch (e) {
        if (Date.now() - healed > 2000) throw new Error(`the pool did not serve again within 2 s: ${e.code} ${e.message}`)
        await sleep(50)
      }
    }
    assert.ok(Date.now() - healed <= 2000)
    stop = true
    // Every call settles (bounded: a writer still waiting after 10 s fails the test).
    let timer
    const late = new Promise((resolve) => (timer = setTimeout(() => resolve('late'), 10_000)))
    const settled = await Promise.race([Promise.all(writers).then(() => 'settled'), late])
    clearTimeout(timer)
    assert.equal(settled, 'settled', 'every writer\'s call settled')

    const doubled = await pool.query('SELECT n, count(*)::int AS c FROM ledger GROUP BY n HAVING count(*) > 1 ORDER BY n LIMIT 10')
    assert.deepEqual(doubled.rows, [], 'no number was inserted twice')
    const present = new Set((await pool.query('SELECT n FROM ledger')).rows.map((r) => r.n))
    const lost = [...resolved].filter((n) => !present.has(n))
    assert.deepEqual(lost.slice(0, 10), [], `${lost.length} resolved rows are missing`)
    assert.ok(maxSize <= 8, `pool size reached ${maxSize}`)
    assert.deepEqual(escaped, [])
    // What the callers saw: only the codes of a lost connection (or of the server being away).
    for (const code of Object.keys(errors)) {
      assert.ok(['ERR_CONNECTION_CLOSED', 'ERR_CONNECTION', '57P03'].includes(code), `unexpected ${code}: ${errors[code]}`)
    }
    assert.equal(done.length, FAULT_COUNT)
    assert.ok(resolved.size > 1000, `only ${resolved.size} rows were written`)
    console.log(`ledger: ${next} calls, ${resolved.size} resolved, ${present.size} rows in the table, failed: ${JSON.stringify(errors)}`)
  } finally {
    stop = true
    process.off('unhandledRejection', onUnhandled)
    await pool.close()
  }
})
