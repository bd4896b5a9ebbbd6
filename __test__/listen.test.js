'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { connect, pool, unique } = require('./helpers')

const settle = (ms = 100) => new Promise((r) => setTimeout(r, ms))

async function waitFor(cond, ms = 5000) {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting')
    await settle(20)
  }
}

test('pool.listen / notify: payloads arrive; odd channel names are quoted safely; unlisten stops', async () => {
  const p = pool()
  try {
    const channel = `${unique('ch')} "quoted"; DROP TABLE x; --`
    const got = []
    const sub = await p.listen(channel, (n) => got.push(n))
    assert.equal(sub.channel, channel)
    await p.notify(channel, 'one')
    await p.query('SELECT pg_notify($1, $2)', [channel, 'two'])
    await waitFor(() => got.length === 2)
    assert.deepEqual(got.map((n) => n.payload), ['one', 'two'])
    assert.equal(got[0].channel, channel)
    assert.equal(typeof got[0].processId, 'number')
    await sub.unlisten()
    await p.notify(channel, 'three')
    await settle()
    assert.equal(got.length, 2)
    await assert.rejects(p.listen('', () => {}), { code: 'ERR_INVALID_ARGUMENT' })
  } finally {
    await p.close()
  }
})

test('a lost listener connection reconnects with backoff, re-LISTENs and calls onReconnect', async () => {
  const p = pool()
  const admin = await connect()
  try {
    const channel = unique('ch_re')
    const got = []
    let reconnects = 0
    await p.listen(channel, (n) => got.push(n.payload), { onReconnect: () => reconnects++ })
    const killed = await admin.query(
      "SELECT count(pg_terminate_backend(pid))::int4 AS n FROM pg_stat_activity WHERE query = $1",
      [`LISTEN "${channel}"`],
    )
    assert.equal(killed.rows[0].n, 1)
    await waitFor(() => reconnects === 1)
    await p.notify(channel, 'after')
    await waitFor(() => got.includes('after'))
  } finally {
    await admin.close()
    await p.close()
  }
})

test('an idle listener does not keep the process alive after close()', () => {
  const script = `
    const { Pool } = require(${JSON.stringify(require.resolve('..'))})
    const p = new Pool(process.env.DATABASE_URL)
    p.listen('idle_channel', () => {}).then(() => p.close()).then(() => console.log('closed'))`
  const t0 = Date.now()
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(out.trim(), 'closed')
  assert.ok(Date.now() - t0 < 10_000)
})

test('server notices reach onNotice (pool and client)', async () => {
  const poolNotices = []
  const p = pool({ onNotice: (n) => poolNotices.push(n) })
  const clientNotices = []
  const c = await connect({ onNotice: (n) => clientNotices.push(n) })
  try {
    await p.query("DO $$ BEGIN RAISE NOTICE 'from the pool %', 1; END $$")
    await c.query("DO $$ BEGIN RAISE WARNING 'from the client' USING HINT = 'a hint'; END $$")
    await waitFor(() => poolNotices.length === 1 && clientNotices.length === 1)
    assert.equal(poolNotices[0].message, 'from the pool 1')
    assert.equal(poolNotices[0].severity, 'NOTICE')
    assert.equal(poolNotices[0].name, 'Notice')
    assert.equal(clientNotices[0].severity, 'WARNING')
    assert.equal(clientNotices[0].hint, 'a hint')
    assert.throws(() => pool({ onNotice: 'no' }), { code: 'ERR_INVALID_CONFIG' })
  } finally {
    await p.close()
    await c.close()
  }
})

test('client.listen works on the client\'s own connection', async () => {
  const c = await connect()
  const other = await connect()
  try {
    const channel = unique('ch_client')
    const got = []
    const sub = await c.listen(channel, (n) => got.push(n.payload))
    await other.notify(channel, 'hi')
    await waitFor(() => got.length === 1)
    assert.deepEqual(got, ['hi'])
    await sub.unlisten()
  } finally {
    await c.close()
    await other.close()
  }
})
