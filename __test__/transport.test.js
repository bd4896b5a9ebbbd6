'use strict'
// The two transports ('loop': the connection is driven on the JS thread from the event loop;
// 'runtime': on ferropg's thread) must behave the same; only their speed differs.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { Client, Pool } = require('..')
const { url, connect, pool, unique } = require('./helpers')

test("'transport' accepts 'loop' and 'runtime' only", async () => {
  const e = await Client.connect({ connectionString: url, transport: 'threads' }).catch((x) => x)
  assert.equal(e.code, 'ERR_INVALID_CONFIG')
  assert.match(e.message, /'transport' must be 'loop' or 'runtime' \(got 'threads'\)/)
  assert.throws(() => new Pool({ connectionString: url, transport: 'fast' }), (x) => x.code === 'ERR_INVALID_CONFIG' && /'transport'/.test(x.message))
})

/** Everything a connection does, checked on `db` (a client or a pool). */
async function exercise(db, isPool) {
  assert.deepEqual((await db.query('SELECT $1::int4 + 1 AS n, $2::text AS t', [41, 'x'])).rows, [{ n: 42, t: 'x' }])
  // A large result (delivered in parts; on the loop, decoded on the runtime after its first part).
  const big = await db.query('SELECT g, repeat(\'y\', 20) AS pad FROM generate_series(1, 120000) g')
  assert.equal(big.rows.length, 120000)
  assert.equal(big.rows.reduce((s, r) => s + r.g, 0), (120000 * 120001) / 2)
  // An error leaves the connection usable.
  await assert.rejects(db.query('SELECT 1/0'), { code: '22012' })
  const c = isPool ? await db.connect() : db
  try {
    const t = unique('transport')
    await c.query(`CREATE TEMP TABLE ${t} (id int4, name text)`)
    await c.copyFrom(t, Array.from({ length: 5000 }, (_, i) => [i, 'n' + i]))
    const many = await c.executeMany(`INSERT INTO ${t} VALUES ($1, $2) RETURNING id`, [[-1, 'a'], [-2, 'b']], { returning: true })
    assert.deepEqual(many.results.map((r) => r.rows[0].id), [-1, -2])
    const piped = await c.pipeline((p) => [p.query(`SELECT count(*)::int4 AS n FROM ${t}`), p.query('SELECT 2 AS two')])
    assert.equal((await piped[0]).rows[0].n, 5002)
    assert.equal((await piped[1]).rows[0].two, 2)
    let bytes = 0
    for await (const chunk of await c.copyOut(`COPY ${t} TO STDOUT`)) bytes += chunk.length
    assert.ok(bytes > 5000 * 4, String(bytes))
    let rows = 0
    for await (const row of c.cursor(`SELECT id FROM ${t} ORDER BY id`, [], { batchSize: 700 })) rows += row.id === undefined ? 0 : 1
    assert.equal(rows, 5002)
    // Cancelled on the server through a CancelRequest on a new socket.
    await assert.rejects(c.query('SELECT pg_sleep(30)', [], { timeoutMillis: 100 }), { code: 'ERR_QUERY_CANCELLED' })
    assert.equal((await c.query('SELECT 7 AS s')).rows[0].s, 7)
  } finally {
    if (isPool) c.release()
  }
  const got = []
  const channel = unique('chan')
  const sub = await db.listen(channel, (n) => got.push(n.payload))
  await db.query('SELECT pg_notify($1, $2)', [channel, 'hello'])
  for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20))
  assert.deepEqual(got, ['hello'])
  await sub.unlisten()
}

for (const transport of ['loop', 'runtime']) {
  test(`client on transport '${transport}': queries, batches, COPY, cursors, cancel, notifications`, async () => {
    const c = await connect({ transport })
    try {
      await exercise(c, false)
    } finally {
      await c.close()
    }
  })

  test(`pool on transport '${transport}': the same, with 32 concurrent callers on 4 connections`, async () => {
    const p = pool({ transport, max: 4 })
    try {
      await exercise(p, true)
      const sums = await Promise.all(Array.from({ length: 32 }, (_, k) => (async () => {
        let s = 0
        for (let i = 0; i < 50; i++) s += (await p.query('SELECT $1::int4 AS v', [k * 100 + i])).rows[0].v
        return s
      })()))
      assert.deepEqual(sums, Array.from({ length: 32 }, (_, k) => 50 * k * 100 + (49 * 50) / 2))
    } finally {
      await p.close()
    }
  })

  test(`transport '${transport}': an open, idle client and pool do not keep the process alive`, () => {
    const script = `
      const { Client, Pool } = require(${JSON.stringify(require.resolve('..'))})
      const transport = ${JSON.stringify(transport)}
      ;(async () => {
        const c = await Client.connect({ connectionString: process.env.DATABASE_URL, transport })
        const p = new Pool({ connectionString: process.env.DATABASE_URL, transport })
        const a = (await c.query('SELECT 1 AS a')).rows[0].a
        const b = (await p.query('SELECT 2 AS b')).rows[0].b
        console.log('done ' + (a + b))
      })()`
    const t0 = Date.now()
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 })
    assert.equal(out.trim(), 'done 3')
    assert.ok(Date.now() - t0 < 10_000)
  })
}

test("the loop transport over a unix socket and over TCP reaches the same server", async () => {
  const tcp = await connect({ transport: 'loop', host: '127.0.0.1' })
  const hosts = [tcp]
  if (process.env.FERROPG_TEST_SOCKET_DIR) hosts.push(await connect({ transport: 'loop', host: process.env.FERROPG_TEST_SOCKET_DIR }))
  try {
    for (const c of hosts) {
      const r = (await c.query('SELECT pg_backend_pid() AS pid, current_database() AS db')).rows[0]
      assert.equal(r.pid, c.processId)
      assert.equal(r.db, new URL(url).pathname.slice(1) || 'postgres')
    }
  } finally {
    for (const c of hosts) await c.close()
  }
})

// A large result on the loop moves the connection's protocol task to the runtime while it
// streams (driver::Roam) and back when it ends; what runs around it must not notice.
test('loop: statements around a large result keep their order and results while the protocol task moves', async () => {
  const c = await connect({ transport: 'loop' })
  try {
    for (let round = 0; round < 3; round++) {
      const before = c.query('SELECT $1::int4 AS v', [round])
      const big = c.query("SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 60000) g")
      const after = c.query('SELECT $1::int4 + 1 AS v', [round])
      assert.equal((await before).rows[0].v, round)
      const rows = (await big).rows
      assert.equal(rows.length, 60000)
      assert.equal(rows[59999].g, 60000)
      assert.equal((await after).rows[0].v, round + 1)
      // Back on the loop: a serial query afterwards still works.
      assert.equal((await c.query('SELECT 7 AS v')).rows[0].v, 7)
    }
  } finally {
    await c.close()
  }
})

test('loop: a connection lost while its large result streams on the runtime fails that statement, and the process exits cleanly', () => {
  // In a child process: the socket's libuv handle is then closed from the JS thread after the
  // protocol task ended on the runtime; a crash or a hang would show here.
  const script = `
    const { Client } = require(${JSON.stringify(require.resolve('..'))})
    ;(async () => {
      const c = await Client.connect({ connectionString: process.env.DATABASE_URL, transport: 'loop' })
      const admin = await Client.connect({ connectionString: process.env.DATABASE_URL })
      // 100 MB of rows (in parts: the protocol task moves), then the statement sleeps.
      const big = c.query("SELECT g, repeat('x', 500) AS pad FROM generate_series(1, 200000) g UNION ALL SELECT 0, pg_sleep(30)::text")
        .then(() => null, (x) => x)
      await new Promise((r) => setTimeout(r, 1500))
      await admin.query('SELECT pg_terminate_backend($1)', [c.processId])
      const e = await big
      const next = await c.query('SELECT 1').then(() => null, (x) => x)
      await admin.close()
      console.log(e ? e.code : 'no error', next ? next.code : 'no error')
    })()`
  const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(out.trim(), 'ERR_CONNECTION_CLOSED ERR_CONNECTION_CLOSED')
})

test('a connection the server resets (data it never read) fails its statements on both transports instead of hanging', { timeout: 30_000 }, async () => {
  // The backend exits with 4 MB of our request unread, so the kernel answers with a reset
  // (EPOLLERR), which libuv reports after stopping the socket's poll handle.
  const admin = await connect()
  try {
    for (const transport of ['loop', 'runtime']) {
      const c = await connect({ transport })
      const slow = c.query('SELECT pg_sleep(10)').then(() => 'ok', (e) => e.code)
      const big = c.query('SELECT length($1::text) AS n', ['x'.repeat(4 << 20)]).then(() => 'ok', (e) => e.code)
      await new Promise((r) => setTimeout(r, 200))
      await admin.query('SELECT pg_terminate_backend($1)', [c.processId])
      assert.deepEqual(await Promise.all([slow, big]), ['ERR_CONNECTION_CLOSED', 'ERR_CONNECTION_CLOSED'], transport)
      await c.close()
    }
  } finally {
    await admin.close()
  }
})

// A worker thread that ends (terminated, or done) with connections open must not take the
// process down: Node aborts when a worker's loop still has a handle open as it closes, so
// every poll handle ferropg opened on it must be closed by then. Run twice: with the main
// thread loading ferropg too, and with only workers loading it, where the first worker to load
// it (the thread that initialised the allocator) ends while another still uses it and a third
// loads it afterwards (mimalloc v3 crashed there: docs/reliability.md, "Worker threads").
for (const mainLoads of [true, false]) {
  test(`workers terminated with a pool and a client open leave the process running (main thread loads ferropg: ${mainLoads})`, () => {
    const script = `
      ${mainLoads ? `require(${JSON.stringify(require.resolve('..'))})` : ''}
      const { Worker } = require('node:worker_threads')
      const code = \`
        const { parentPort } = require('node:worker_threads')
        const { Pool, Client } = require(${JSON.stringify(require.resolve('..'))})
        ;(async () => {
          const p = new Pool({ connectionString: process.env.DATABASE_URL, max: 2 })
          const c = await Client.connect({ connectionString: process.env.DATABASE_URL })
          const one = async () => (await Promise.all([p.query('SELECT 1 AS n'), p.query('SELECT repeat($1, 5000) AS s', ['x']), c.query('SELECT 3 AS n')])).map((r) => String(r.rows[0].n ?? r.rows[0].s.length))
          parentPort.on('message', async () => parentPort.postMessage((await one()).join()))
          parentPort.postMessage((await one()).join())
        })()\`
      const start = async () => {
        const w = new Worker(code, { eval: true })
        const answer = () => new Promise((resolve, reject) => w.once('message', resolve).once('error', reject))
        const first = await answer()
        return { w, first, again: () => { const a = answer(); w.postMessage('again'); return a } }
      }
      ;(async () => {
        const seen = []
        for (let i = 0; i < 3; i++) {
          const a = await start()
          const b = await start()
          seen.push(a.first, b.first)
          await a.w.terminate()
          const c = await start()
          seen.push(await b.again(), c.first)
          await b.w.terminate()
          await c.w.terminate()
        }
        console.log(seen.length, [...new Set(seen)].join('|'))
      })()`
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 60_000 })
    assert.equal(out.trim(), '12 1,5000,3')
  })
}
