'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Client, PipelineAbortedError, DatabaseError } = require('..')
const { connect, pool, countingProxy, roundTrips, unique } = require('./helpers')

async function withTable(fn) {
  const c = await connect()
  const t = unique('t_pipe')
  try {
    await c.query(`CREATE TABLE ${t} (id serial PRIMARY KEY, s text)`)
    return await fn(c, t)
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${t}`)
    await c.close()
  }
}

const rows = async (c, t) => (await c.query(`SELECT id, s FROM ${t} ORDER BY id`)).rows
const outcome = (p) => p.then((r) => r.rowCount, (e) => (e instanceof PipelineAbortedError ? 'aborted' : e.code))

test("DESIGN.md's example: one, missing table, three, sync, four -> exactly (2, 'four')", () =>
  withTable(async (c, t) => {
    const seen = {}
    await c.pipeline(async (p) => {
      const one = p.query(`INSERT INTO ${t} (s) VALUES ('one')`)
      const two = p.query(`INSERT INTO missing_table_${process.pid} (s) VALUES ('two')`)
      const three = p.query(`INSERT INTO ${t} (s) VALUES ('three')`)
      seen.sync = await p.sync().then(() => 'ok', (e) => e.code)
      seen.one = await outcome(one)
      seen.two = await two.catch((e) => e)
      seen.three = await outcome(three)
      p.query(`INSERT INTO ${t} (s) VALUES ('four')`)
    })
    assert.equal(seen.sync, '42P01')
    assert.equal(seen.one, 1) // it ran, then the segment was rolled back
    assert.ok(seen.two instanceof DatabaseError)
    assert.equal(seen.two.code, '42P01')
    assert.equal(seen.three, 'aborted')
    assert.deepEqual(await rows(c, t), [{ id: 2, s: 'four' }])
  }))

test('promises settle in send order with their results', () =>
  withTable(async (c, t) => {
    const order = []
    const r = await c.pipeline(async (p) => {
      const ps = []
      for (let i = 0; i < 50; i++) {
        ps.push(p.query(`INSERT INTO ${t} (s) VALUES ($1) RETURNING id`, [`v${i}`]).then((x) => (order.push(i), x.rows[0].id)))
      }
      return Promise.all(ps)
    })
    assert.deepEqual(order, Array.from({ length: 50 }, (_, i) => i))
    assert.deepEqual(r, Array.from({ length: 50 }, (_, i) => i + 1))
    assert.equal((await rows(c, t)).length, 50) // leaving the block synced (committed)
  }))

test('an error in the first statement aborts the segment; the next segment runs', () =>
  withTable(async (c, t) => {
    const got = await c.pipeline(async (p) => {
      const a = outcome(p.query('SELECT 1/0'))
      const b = outcome(p.query(`INSERT INTO ${t} (s) VALUES ('b')`))
      const s1 = await p.sync().then(() => 'ok', (e) => e.code)
      const d = outcome(p.query(`INSERT INTO ${t} (s) VALUES ('d')`))
      return [await a, await b, s1, await d]
    })
    assert.deepEqual(got, ['22012', 'aborted', '22012', 1])
    assert.deepEqual((await rows(c, t)).map((r) => r.s), ['d'])
  }))

test('an error in the last statement rolls back the segment and rejects the block', () =>
  withTable(async (c, t) => {
    let a
    const e = await c
      .pipeline(async (p) => {
        a = outcome(p.query(`INSERT INTO ${t} (s) VALUES ('a')`))
        p.query(`INSERT INTO ${t} (id, s) VALUES (1, 'dup')`)
      })
      .catch((x) => x)
    assert.equal(await a, 1)
    assert.equal(e.code, '23505') // leaving the block synced and reported the error
    assert.deepEqual(await rows(c, t), [])
    assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1)
  }))

test('inside an explicit transaction an error leaves the transaction aborted', () =>
  withTable(async (c, t) => {
    await c.query('BEGIN')
    await c.query(`INSERT INTO ${t} (s) VALUES ('outer')`)
    const got = await c
      .pipeline(async (p) => {
        const a = outcome(p.query(`INSERT INTO ${t} (s) VALUES ('a')`))
        const b = outcome(p.query('SELECT 1/0'))
        const d = outcome(p.query(`INSERT INTO ${t} (s) VALUES ('d')`))
        const s = await p.sync().then(() => 'ok', (x) => x.code)
        const after = outcome(p.query('SELECT 1'))
        return [await a, await b, await d, s, await after]
      })
      .catch((x) => x)
    // After the sync the transaction is still aborted: the next statement fails with 25P02,
    // and so does the block's final sync.
    assert.equal(got.code, '25P02')
    await assert.rejects(c.query('SELECT 1'), { code: '25P02' })
    await c.query('ROLLBACK')
    assert.deepEqual(await rows(c, t), [])
  }))

test('explicit transaction: a successful pipeline adds no COMMIT of its own', () =>
  withTable(async (c, t) => {
    await c.query('BEGIN')
    await c.pipeline(async (p) => {
      p.query(`INSERT INTO ${t} (s) VALUES ('a')`)
      p.query(`INSERT INTO ${t} (s) VALUES ('b')`)
    })
    await c.query('ROLLBACK')
    assert.deepEqual(await rows(c, t), [])
  }))

test('a statement that cannot run in a transaction block fails clearly; the next segment runs', () =>
  withTable(async (c, t) => {
    const got = await c.pipeline(async (p) => {
      const v = outcome(p.query(`VACUUM ${t}`))
      const s = await p.sync().then(() => 'ok', (e) => e.code)
      const a = outcome(p.query(`INSERT INTO ${t} (s) VALUES ('after')`))
      return [await v, s, await a]
    })
    assert.deepEqual(got, ['25001', '25001', 1])
    await c.query(`VACUUM ${t}`) // fine outside a pipeline
  }))

test('nested pipeline() syncs when it exits; client.query inside joins the pipeline', () =>
  withTable(async (c, t) => {
    await c.pipeline(async (p) => {
      p.query(`INSERT INTO ${t} (s) VALUES ('outer')`)
      const inner = await c
        .pipeline(async (q) => {
          assert.equal(q, p)
          q.query('SELECT 1/0')
        })
        .catch((e) => e.code)
      assert.equal(inner, '22012') // the nested block's sync rejected
      const r = await c.query(`INSERT INTO ${t} (s) VALUES ('joined') RETURNING s`)
      assert.equal(r.rows[0].s, 'joined')
    })
    assert.deepEqual((await rows(c, t)).map((r) => r.s), ['joined'])
  }))

test('executeMany inside a pipeline belongs to the segment', () =>
  withTable(async (c, t) => {
    await c.pipeline(async (p) => {
      const m = p.executeMany(`INSERT INTO ${t} (s) VALUES ($1)`, [['x'], ['y']])
      await p.sync()
      assert.deepEqual(await m, { rowCount: 2 })
      const bad = p.executeMany(`INSERT INTO ${t} (id, s) VALUES ($1, $2)`, [[100, 'a'], [1, 'dup']])
      const after = outcome(p.query(`INSERT INTO ${t} (s) VALUES ('z')`))
      assert.equal((await bad.catch((e) => e)).index, 1)
      assert.equal(await after, 'aborted')
      await assert.rejects(p.sync(), { code: '23505' })
    })
    assert.deepEqual((await rows(c, t)).map((r) => r.s), ['x', 'y'])
  }))

test('COPY and cursors are refused inside a pipeline; the block ends cleanly', async () => {
  const c = await connect()
  try {
    await c.pipeline(async (p) => {
      assert.throws(() => p.copyFrom('t', []), { code: 'ERR_PIPELINE_UNSUPPORTED', message: /COPY cannot run inside a pipeline/ })
      assert.throws(() => p.copyIn('COPY t FROM STDIN'), { code: 'ERR_PIPELINE_UNSUPPORTED' })
      assert.throws(() => p.copyOut('COPY t TO STDOUT'), { code: 'ERR_PIPELINE_UNSUPPORTED' })
      assert.throws(() => p.cursor('SELECT 1'), { code: 'ERR_PIPELINE_UNSUPPORTED', message: /cursor/ })
    })
    let saved
    await c.pipeline((p) => { saved = p })
    await assert.rejects(saved.query('SELECT 1'), { code: 'ERR_PIPELINE_CLOSED' })
  } finally {
    await c.close()
  }
})

test('on the wire: the statements of one tick share one Sync; COMMIT follows their results', async () => {
  const proxy = await countingProxy()
  try {
    const trips = await roundTrips(
      proxy,
      (c) => c.query('SELECT $1::int4 AS x', [0]),
      async (c) => {
        proxy.reset()
        // Not awaiting inside the block: BEGIN and the statements leave as one batch.
        const pending = await c.pipeline((p) => Array.from({ length: 200 }, (_, i) => p.query('SELECT $1::int4 AS x', [i])))
        const r = await Promise.all(pending)
        assert.equal(r[199].rows[0].x, 199)
        assert.equal(proxy.counts.E, 201, 'BEGIN and the 200 statements')
        assert.equal(proxy.counts.S, 2, "one Sync for BEGIN's preparation (first use on a connection), one for the batch")
        assert.equal(proxy.counts.Q, 1, 'COMMIT')
      },
    )
    // BEGIN's preparation, the batch, COMMIT: 3 (an extra one would read 4; timer noise adds a little).
    assert.ok(trips < 3.5, `200 statements: ${trips.toFixed(2)} round trips`)
  } finally {
    await proxy.close()
  }
})

test('Pool.pipeline runs on one connection and returns it clean', async () => {
  const p = pool({ max: 1 })
  try {
    const e = await p.pipeline(async (pl) => { pl.query('SELECT 1/0') }).catch((x) => x)
    assert.equal(e.code, '22012')
    const c = await p.connect()
    await assert.rejects(c.query('SAVEPOINT s'), { code: '25P01' }) // not in a transaction
    c.release()
  } finally {
    await p.close()
  }
})

test('a parameter that does not fit its type fails the segment before it is sent: nothing of the segment remains', () =>
  withTable(async (c, t) => {
    const ins = `INSERT INTO ${t} (s) VALUES ($1) RETURNING id`
    // The statement is cached first, so the bad value is found on the native side, in the batch.
    await c.query(`INSERT INTO ${t} (s) VALUES ($1)`, ['warm-up'])
    await c.query(`TRUNCATE ${t} RESTART IDENTITY`)
    const seen = {}
    const e = await c.pipeline(async (p) => {
      const one = p.query(ins, ['one'])
      const bad = p.query(`SELECT $1::int4 AS x`, [{ not: 'a number' }])
      const three = p.query(ins, ['three'])
      seen.one = await outcome(one)
      seen.bad = await bad.catch((x) => x)
      seen.three = await outcome(three)
    }).catch((x) => x)
    assert.equal(seen.one, 1) // it ran; the segment's end rolled it back
    assert.equal(seen.bad.code, 'ERR_INVALID_PARAMETER')
    assert.match(seen.bad.message, /\$1/)
    assert.equal(seen.three, 'aborted')
    assert.equal(e, seen.bad, 'the block rejects with the first error')
    assert.deepEqual(await rows(c, t), [])
    // Not left inside the segment's transaction.
    assert.equal(await c.query('SAVEPOINT probe').then(() => 'in a transaction', (x) => x.code), '25P01')
  }))

test('a value JavaScript cannot encode fails the segment too, and later statements are not sent', () =>
  withTable(async (c, t) => {
    const ins = `INSERT INTO ${t} (s) VALUES ($1)`
    const seen = {}
    await c.pipeline(async (p) => {
      await p.query(ins, ['one']) // sent and answered in a batch of its own
      seen.bad = await p.query(ins, [() => 'a function']).catch((x) => x)
      seen.later = await outcome(p.query(ins, ['later']))
      seen.sync = await p.sync().then(() => 'ok', (x) => x.code)
      await p.query(ins, ['next segment'])
    })
    assert.equal(seen.bad.code, 'ERR_INVALID_PARAMETER')
    assert.equal(seen.later, 'aborted')
    assert.equal(seen.sync, 'ERR_INVALID_PARAMETER')
    assert.deepEqual((await rows(c, t)).map((r) => r.s), ['next segment'])
  }))

test('inside a transaction, a refused parameter fails the pipeline but leaves the transaction usable', () =>
  withTable(async (c, t) => {
    await c.transaction(async (tx) => {
      const e = await tx.pipeline(async (p) => {
        p.query(`INSERT INTO ${t} (s) VALUES ($1)`, ['kept'])
        p.query('SELECT $1::int4', ['not a number'])
      }).catch((x) => x)
      assert.equal(e.code, 'ERR_INVALID_PARAMETER')
      // Nothing reached the server with the bad value: the transaction is not aborted.
      assert.equal((await tx.query(`SELECT count(*)::int4 AS n FROM ${t}`)).rows[0].n, 1)
    })
    assert.deepEqual((await rows(c, t)).map((r) => r.s), ['kept'])
  }))

test('statements that need preparing split a batch without changing order or results', () =>
  withTable(async (c, t) => {
    const got = await c.pipeline((p) => [
      p.query(`INSERT INTO ${t} (s) VALUES ('a') RETURNING id`),
      p.query(`SELECT count(*)::int4 AS n FROM ${t}`), // new text: prepared after the INSERT ran
      p.query(`INSERT INTO ${t} (s) VALUES ($1) RETURNING id`, ['b']),
      p.query(`SELECT count(*)::int4 AS n FROM ${t}`), // cached by now
      p.query(`SELECT string_agg(s, ',' ORDER BY id) AS s FROM ${t}`),
    ])
    const r = await Promise.all(got)
    assert.deepEqual(r.map((x) => x.rows[0]), [{ id: 1 }, { n: 1 }, { id: 2 }, { n: 2 }, { s: 'a,b' }])
    assert.equal(r[0].command, 'INSERT')
    assert.equal(r[1].command, 'SELECT')
  }))

test('5,000 statements in one tick leave with one Sync; results match', async () => {
  const proxy = await countingProxy()
  try {
    const c = await Client.connect(proxy.url)
    try {
      await c.query('SELECT $1::int4 + 1 AS y', [0])
      await c.pipeline((p) => p.query('SELECT 1')) // BEGIN prepared
      await c.query('SELECT 1')
      proxy.reset()
      const ps = await c.pipeline((p) => Array.from({ length: 5000 }, (_, i) => p.query('SELECT $1::int4 + 1 AS y', [i])))
      const r = await Promise.all(ps)
      assert.equal(r.reduce((s, x) => s + x.rows[0].y, 0), (5000 * 5001) / 2)
      assert.equal(proxy.counts.B, 5001)
      assert.equal(proxy.counts.S, 1)
      assert.equal(proxy.counts.Q, 1, 'COMMIT')
    } finally {
      await c.close()
    }
  } finally {
    await proxy.close()
  }
})

// Runs `fn(c, release)` on a fresh client while another connection holds advisory lock `key`;
// `release()` lets it go.
async function whileLocked(key, fn) {
  const c = await connect()
  const other = await connect()
  try {
    await other.query('SELECT pg_advisory_lock($1::int8)', [key])
    return await fn(c, () => other.query('SELECT pg_advisory_unlock($1::int8)', [key]))
  } finally {
    await other.close()
    await c.close()
  }
}

test("a long batch's answers settle while the server still runs the rest, in queue order", { timeout: 60_000 }, async () => {
  // Statement 1,001 of the second tick waits for a lock this test releases only once the first
  // statements of that tick have settled: answered all at once at the end, they never would.
  const key = 424200 + (process.pid % 1000)
  await whileLocked(key, async (c, release) => {
    const order = []
    const track = (ps, from) => ps.forEach((q, k) => q.then(() => order.push(from + k), () => order.push(-1)))
    const out = await c.pipeline(async (p) => {
      const head = Array.from({ length: 5 }, (_, i) => p.query('SELECT $1::int4 AS i', [i]))
      track(head, 0)
      await null // the first tick's batch goes out on its own
      const ps = Array.from({ length: 1000 }, (_, i) => p.query('SELECT $1::int4 AS i', [i + 5]))
      ps.push(p.query('SELECT pg_advisory_lock($1::int8) IS NULL AS waited', [key]))
      ps.push(p.query('SELECT pg_advisory_unlock($1::int8) AS released', [key]))
      track(ps, 5)
      await ps[0]
      const settledEarly = order.length
      await release()
      return { settledEarly, all: await Promise.all([...head, ...ps]) }
    })
    assert.ok(out.settledEarly >= 6, `settled before the lock was released: ${out.settledEarly}`)
    assert.ok(out.settledEarly < 1005, 'the statements behind the lock had not run')
    assert.deepEqual(order, Array.from({ length: 1007 }, (_, i) => i))
    assert.deepEqual(out.all.slice(0, 1005).map((r) => r.rows[0].i), Array.from({ length: 1005 }, (_, i) => i))
    assert.deepEqual(out.all[1005].rows, [{ waited: false }])
    assert.deepEqual(out.all[1006].rows, [{ released: true }])
  })
})

test("a later segment's answers that come ahead wait for the segment before it: promises settle in queue order", async () => {
  // The first segment's last statement waits for a lock; once it is released, its answers and
  // the next segment's first ones arrive together.
  const key = 434300 + (process.pid % 1000)
  await whileLocked(key, async (c, release) => {
    const order = []
    const all = await c.pipeline(async (p) => {
      const first = [p.query('SELECT 1 AS i'), p.query('SELECT pg_advisory_lock($1::int8) IS NULL AS i', [key]), p.query('SELECT pg_advisory_unlock($1::int8) AS i', [key])]
      const synced = p.sync()
      const second = Array.from({ length: 700 }, (_, i) => p.query('SELECT $1::int4 AS i', [i]))
      const ps = [...first, ...second]
      ps.forEach((q, k) => q.then(() => order.push(k)))
      await null
      await release()
      await synced
      return Promise.all(ps)
    })
    assert.equal(all.length, 703)
    assert.deepEqual(all.slice(3).map((r) => r.rows[0].i), Array.from({ length: 700 }, (_, i) => i))
    assert.deepEqual(order, Array.from({ length: 703 }, (_, k) => k))
  })
})

test('a failure after answers went ahead: those before it resolve, it rejects, the rest are aborted', () =>
  withTable(async (c, t) => {
    let ps
    const err = await c
      .pipeline((p) => {
        ps = Array.from({ length: 1200 }, (_, i) => p.query(`INSERT INTO ${t} (s) SELECT $1::text WHERE 1 / ($2::int4 - 700) IS NOT NULL`, [`v${i}`, i]))
      })
      .catch((e) => e)
    assert.equal(err.code, '22012')
    const got = await Promise.all(ps.map(outcome))
    assert.deepEqual(got.slice(0, 700), Array(700).fill(1))
    assert.equal(got[700], '22012')
    assert.deepEqual(got.slice(701), Array(499).fill('aborted'))
    assert.deepEqual(await rows(c, t), []) // the segment rolled back
  }))

test('large results in one batch arrive in parts, each to its own statement, between small ones', () =>
  withTable(async (c) => {
    // Each large result is several 512 KiB parts (src/core/batch.rs: BATCH_PART with its index).
    const big = 'SELECT g AS i, repeat(chr(97 + g % 26), 40) AS s FROM generate_series(1, $1::int4) g'
    const ps = await c.pipeline((p) => [
      p.query('SELECT 1 AS one'),
      p.query(big, [40000]),
      p.query('SELECT $1::text AS mid', ['m']),
      p.query('SELECT g::int8 AS n FROM generate_series(1, 70000) g', [], { rowMode: 'array' }),
      p.query(big, [30000]),
    ])
    const [one, a, mid, b, c2] = await Promise.all(ps)
    assert.deepEqual(one.rows, [{ one: 1 }])
    assert.deepEqual(mid.rows, [{ mid: 'm' }])
    assert.equal(a.rows.length, 40000)
    assert.equal(a.rowCount, 40000)
    assert.ok(a.rows.every((r, k) => r.i === k + 1 && r.s === String.fromCharCode(97 + ((k + 1) % 26)).repeat(40)))
    assert.equal(b.rows.length, 70000)
    assert.ok(b.rows.every((r, k) => r.length === 1 && r[0] === BigInt(k + 1)))
    assert.equal(c2.rows.length, 30000)
    assert.deepEqual(c2.rows[29999], { i: 30000, s: String.fromCharCode(97 + (30000 % 26)).repeat(40) })
    assert.deepEqual(c2.fields.map((f) => f.name), ['i', 's'])
  }))

test('a statement repeating the SQL before it is sent without its text and answers like the first', () =>
  withTable(async (c, t) => {
    const ins = `INSERT INTO ${t} (s) VALUES ($1) RETURNING id, s`
    const cnt = `SELECT count(*)::int4 AS n, $1::int4 AS tag FROM ${t}`
    let ps
    const block = c.pipeline((p) => (ps = [
      p.query(ins, ['a']), // prepared on first use
      p.query(ins, ['b']), // a repeat
      p.query(cnt, [10]), // new text: prepared after the two INSERTs ran
      p.query(cnt, [11]), // a repeat of a statement prepared mid-batch
      p.query(ins, ['c']), // the first text again, not a repeat of the one before
      p.query(cnt, [12]),
      p.query(cnt, [{ not: 'a number' }]), // a repeat whose parameter does not fit: refused natively
      p.query(ins, ['d']),
    ]))
    await assert.rejects(block, { code: 'ERR_INVALID_PARAMETER' })
    assert.deepEqual(await Promise.all(ps.map(outcome2)), [
      { id: 1, s: 'a' }, { id: 2, s: 'b' }, { n: 2, tag: 10 }, { n: 2, tag: 11 }, { id: 3, s: 'c' }, { n: 3, tag: 12 },
      'ERR_INVALID_PARAMETER', 'aborted',
    ])
    assert.deepEqual(await rows(c, t), [], 'the segment rolled back')
  }))

const outcome2 = (p) => p.then((r) => r.rows[0], (e) => (e instanceof PipelineAbortedError ? 'aborted' : e.code))

test('statements whose promises nobody awaits reject without an unhandled rejection', async () => {
  let unhandled = 0
  const count = () => unhandled++
  process.on('unhandledRejection', count)
  const c = await connect()
  try {
    const e = await c.pipeline((p) => {
      p.query('SELECT 1')
      p.query('SELECT no_such_column')
      p.query('SELECT 2')
      p.query('SELECT $1::int4', [{ not: 'a number' }])
    }).catch((x) => x)
    assert.equal(e.code, '42703')
    await c.query('SELECT 1')
    await new Promise((r) => setTimeout(r, 50))
    assert.equal(unhandled, 0)
  } finally {
    process.off('unhandledRejection', count)
    await c.close()
  }
})
