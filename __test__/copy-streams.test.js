'use strict'
// copyIn / copyOut: node streams over COPY with backpressure.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { pipeline } = require('node:stream/promises')
const { Readable, Writable } = require('node:stream')
const { execFileSync } = require('node:child_process')
const { connect, pool, unique, MEMORY_FLAGS } = require('./helpers')

async function withTable(fn) {
  const c = await connect()
  const t = unique('t_copy')
  try {
    await c.query(`CREATE TABLE ${t} (a int4, b text)`)
    return await fn(c, t)
  } finally {
    await c.query(`DROP TABLE IF EXISTS ${t}`)
    await c.close()
  }
}

const rows = async (c, t) => (await c.query(`SELECT a, b FROM ${t} ORDER BY a`)).rows

test('stream.pipeline(fs.createReadStream(csv), copyIn) loads the file; rowCount on finish', () =>
  withTable(async (c, t) => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-csv-')), 'data.csv')
    fs.writeFileSync(file, Array.from({ length: 50_000 }, (_, i) => `${i},"row ${i}, quoted"`).join('\n') + '\n')
    try {
      const w = await c.copyIn(`COPY ${t} FROM STDIN (FORMAT csv)`)
      await pipeline(fs.createReadStream(file, { highWaterMark: 4096 }), w)
      assert.equal(w.rowCount, 50_000)
      assert.equal(await w.done, 50_000)
      const r = await c.query(`SELECT count(*)::int4 AS n, max(b) AS m FROM ${t}`)
      assert.deepEqual(r.rows[0], { n: 50_000, m: 'row 9999, quoted' })
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true })
    }
  }))

test('text and binary formats round-trip through copyOut and copyIn', () =>
  withTable(async (c, t) => {
    await c.query(`INSERT INTO ${t} SELECT g, CASE WHEN g % 3 = 0 THEN NULL ELSE E'tab\\there ' || g END FROM generate_series(1, 1000) g`)
    for (const format of ['text', 'binary']) {
      const t2 = unique('t_copy2')
      await c.query(`CREATE TEMP TABLE ${t2} (a int4, b text)`)
      const out = await c.copyOut(`COPY ${t} TO STDOUT (FORMAT ${format})`)
      // A second COPY on the same connection waits for the first: read it out first.
      const chunks = []
      for await (const ch of out) chunks.push(ch)
      const inp = await c.copyIn(`COPY ${t2} FROM STDIN (FORMAT ${format})`)
      await pipeline(Readable.from(chunks), inp)
      assert.equal(inp.rowCount, 1000, format)
      assert.deepEqual(await rows(c, t2), await rows(c, t), format)
    }
  }))

test('destroy(err) aborts the COPY: nothing is written, the connection stays usable', () =>
  withTable(async (c, t) => {
    const w = await c.copyIn(`COPY ${t} FROM STDIN (FORMAT csv)`)
    const errors = []
    w.on('error', (e) => errors.push(e.message))
    w.write('1,a\n2,b\n')
    await new Promise((r) => setTimeout(r, 20))
    w.destroy(new Error('upstream failed'))
    await new Promise((r) => w.on('close', r))
    assert.deepEqual(errors, ['upstream failed'])
    await assert.rejects(w.done, /upstream failed/)
    assert.deepEqual(await rows(c, t), [])
    assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1)
  }))

test('bad data fails the pipeline with the server error and writes nothing', () =>
  withTable(async (c, t) => {
    const w = await c.copyIn(`COPY ${t} FROM STDIN (FORMAT csv)`)
    const e = await pipeline(Readable.from(['1,a\n', 'x,b\n']), w).catch((x) => x)
    assert.equal(e.code, '22P02')
    assert.deepEqual(await rows(c, t), [])
    assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1)
    await assert.rejects(c.copyIn(42), { code: 'ERR_INVALID_ARGUMENT' })
  }))

test('a COPY FROM STDIN that cannot start reports the error and leaves the connection usable', async () => {
  const p = pool({ max: 1 })
  try {
    const c = await p.connect()
    const pid = c.processId
    await assert.rejects(c.copyIn(`COPY nowhere_${process.pid} FROM STDIN`), { code: '42P01' })
    await assert.rejects(c.copyIn('SELECT 1'), { code: 'ERR_INVALID_ARGUMENT' })
    assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1)
    assert.equal(c.transactionStatus, 'idle')
    c.release()
    // The same connection is handed out again: nothing about it was broken.
    assert.equal((await p.query('SELECT pg_backend_pid() AS pid')).rows[0].pid, pid)
    await assert.rejects(p.copyIn(`COPY nowhere_${process.pid} FROM STDIN`), { code: '42P01' })
    assert.equal((await p.query('SELECT 1 AS ok')).rows[0].ok, 1)
  } finally {
    await p.close()
  }
})

test('copyIn honours backpressure: a write waits until the connection has taken the data', () =>
  withTable(async (c, t) => {
    const w = await c.copyIn(`COPY ${t} FROM STDIN`)
    const line = 'x'.repeat(1000)
    let refused = 0
    for (let i = 0; i < 2000; i++) {
      if (!w.write(`${i}\t${line}\n`)) {
        refused++
        await new Promise((r) => w.once('drain', r))
      }
    }
    w.end()
    await new Promise((r, j) => w.on('finish', r).on('error', j))
    assert.ok(refused > 0, 'write() returned false at least once')
    assert.equal(w.rowCount, 2000)
  }))

test('copyOut: a slow consumer over 10,000,000 rows keeps memory bounded (backpressure)', () => {
  // In a fresh process with Node 20's nursery size (helpers.MEMORY_FLAGS), so that the figure
  // measures what the driver keeps, not the test runner or V8's choice of young generation.
  const script = `
    const { Client } = require(${JSON.stringify(require.resolve('..'))})
    const { pipeline } = require('node:stream/promises')
    const { Writable } = require('node:stream')
    ;(async () => {
      const c = await Client.connect(process.env.DATABASE_URL)
      const out = await c.copyOut('COPY (SELECT g FROM generate_series(1, 10000000) g) TO STDOUT')
      let lines = 0
      const before = process.memoryUsage().rss
      let peak = before
      await pipeline(
        out,
        new Writable({
          highWaterMark: 16 * 1024,
          write(chunk, _e, cb) {
            for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++
            peak = Math.max(peak, process.memoryUsage().rss)
            setTimeout(cb, 1) // a slow consumer
          },
        }),
      )
      await c.close()
      console.log(JSON.stringify({ lines, growthMiB: (peak - before) / 2 ** 20 }))
    })()`
  const out = JSON.parse(execFileSync(process.execPath, [...MEMORY_FLAGS, '-e', script], { encoding: 'utf8' }))
  assert.equal(out.lines, 10_000_000)
  // The table is ~75 MiB of text: buffering it would show here.
  assert.ok(out.growthMiB < 48, `RSS grew ${out.growthMiB.toFixed(0)} MiB`)
})

test('destroying copyOut early cancels the COPY and leaves the connection usable', async () => {
  const c = await connect()
  try {
    const out = await c.copyOut('COPY (SELECT g FROM generate_series(1, 50000000) g) TO STDOUT')
    const t0 = Date.now()
    for await (const chunk of out) {
      assert.ok(chunk.length > 0)
      break
    }
    assert.ok(Date.now() - t0 < 10_000)
    assert.equal((await c.query('SELECT 2 AS ok')).rows[0].ok, 2)
  } finally {
    await c.close()
  }
})

test('on a Pool each COPY holds one connection and releases it clean', async () => {
  const p = pool({ max: 1 })
  const t = unique('t_copy_pool')
  try {
    await p.query(`CREATE TABLE ${t} (a int4, b text)`)
    const w = await p.copyIn(`COPY ${t} FROM STDIN (FORMAT csv)`)
    assert.equal(p.stats().idle, 0)
    await pipeline(Readable.from(['1,a\n']), w)
    await new Promise((r) => setImmediate(r))
    assert.equal(p.stats().idle, 1)
    const out = await p.copyOut(`COPY ${t} TO STDOUT (FORMAT csv)`)
    const chunks = []
    for await (const ch of out) chunks.push(ch)
    assert.equal(Buffer.concat(chunks).toString(), '1,a\n')
    await new Promise((r) => setImmediate(r))
    assert.equal(p.stats().idle, 1)
    const c = await p.connect()
    await assert.rejects(c.query('SAVEPOINT s'), { code: '25P01' })
    c.release()
  } finally {
    await p.query(`DROP TABLE IF EXISTS ${t}`)
    await p.close()
  }
})

test('COPY inside a transaction: an aborted copyIn rolls back only itself', () =>
  withTable(async (c, t) => {
    await c.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${t} VALUES (0, 'kept')`)
      const w = await tx.copyIn(`COPY ${t} FROM STDIN (FORMAT csv)`)
      await pipeline(Readable.from(['1,a\n']), w)
    })
    assert.deepEqual((await rows(c, t)).map((r) => r.a), [0, 1])
  }))

test('copyOutRows decodes binary COPY output into rows with the query type mapping', async () => {
  const c = await connect({ options: { TimeZone: 'UTC' } })
  try {
    const sql = "SELECT g AS i, g::int8 AS b, 'x' || g AS t, timestamptz '2024-01-01' + g * interval '1 s' AS ts, " +
      "(g * 1.5)::numeric(10,2) AS n, NULL::int4 AS z, ARRAY[g, NULL] AS arr, jsonb_build_object('g', g) AS j FROM generate_series(1, 20000) g"
    const viaQuery = (await c.query(sql)).rows
    const viaCopy = []
    for await (const row of c.copyOutRows(sql)) viaCopy.push(row)
    assert.equal(viaCopy.length, 20_000)
    assert.deepStrictEqual(viaCopy, viaQuery)
    const arrays = []
    for await (const row of c.copyOutRows('SELECT 1 AS a, 2 AS a', { rowMode: 'array' })) arrays.push(row)
    assert.deepEqual(arrays, [[1, 2]])
  } finally {
    await c.close()
  }
})

test('copyOutRows: leaving early cancels the COPY; errors reject the loop; the connection stays usable', async () => {
  const c = await connect()
  try {
    let seen = 0
    for await (const row of c.copyOutRows('SELECT g FROM generate_series(1, 50000000) g')) {
      seen = row.g
      break
    }
    assert.equal(seen, 1)
    assert.equal((await c.query('SELECT 1 AS ok')).rows[0].ok, 1)
    const e = await (async () => {
      for await (const row of c.copyOutRows(`SELECT * FROM nowhere_${process.pid}`)) assert.fail(String(row))
    })().catch((x) => x)
    assert.equal(e.code, '42P01')
    const e2 = await (async () => {
      for await (const row of c.copyOutRows('SELECT 1 / (g - 3) AS x FROM generate_series(1, 5) g')) assert.ok(row)
    })().catch((x) => x)
    assert.equal(e2.code, '22012')
    assert.equal((await c.query('SELECT 2 AS ok')).rows[0].ok, 2)
    const p = pool({ max: 1 })
    let n = 0
    for await (const row of p.copyOutRows('SELECT g FROM generate_series(1, 3) g')) n += row.g
    assert.equal(n, 6)
    assert.equal(p.stats().idle, 1)
    await p.close()
  } finally {
    await c.close()
  }
})

test('copyOut starts through the one response reader: a refused COPY or a non-COPY statement leaves the connection usable', async () => {
  const c = await connect()
  try {
    await assert.rejects(c.copyOut('COPY ferropg_no_such_table TO STDOUT'), { code: '42P01' })
    await assert.rejects(c.copyOut('SELECT 1'), { code: 'ERR_INVALID_ARGUMENT' })
    assert.equal(c.transactionStatus, 'idle')
    const chunks = []
    for await (const chunk of await c.copyOut('COPY (SELECT g FROM generate_series(1, 3) g) TO STDOUT')) chunks.push(chunk)
    assert.equal(Buffer.concat(chunks).toString(), '1\n2\n3\n')
    assert.equal((await c.query('SELECT 4 AS v')).rows[0].v, 4)
  } finally {
    await c.close()
  }
})

test('a query made on the client while its copyIn is open waits for the COPY to end instead of landing in it', () =>
  withTable(async (c, t) => {
    const w = await c.copyIn(`COPY ${t} FROM STDIN (FORMAT csv)`)
    const during = c.query('SELECT 42 AS v') // sent only once the COPY has ended
    await new Promise((r) => w.write('1,one\n', r))
    await new Promise((r) => setTimeout(r, 50))
    await new Promise((r) => w.end('2,two\n', r))
    await w.done
    assert.equal(w.rowCount, 2)
    assert.equal((await during).rows[0].v, 42)
    assert.deepEqual((await rows(c, t)).map((r) => ({ ...r })), [{ a: 1, b: 'one' }, { a: 2, b: 'two' }])
  }))

// Bounded: without the watch the stream would wait for a write that never comes.
test('a copyIn whose writer pauses learns at once that the server ended the COPY: a lost backend, a bad row', { timeout: 30_000 }, async () => {
  const admin = await connect()
  const p = pool({ max: 1 })
  const t = unique('t_copy_pause')
  try {
    await admin.query(`CREATE TABLE ${t} (n int4)`)
    // The backend is terminated while nothing is being written: the stream fails without a
    // further write, and the pool serves again on a new connection.
    const c = await p.connect()
    const pid = c.processId
    const lost = await c.copyIn(`COPY ${t} FROM STDIN`)
    await new Promise((resolve, reject) => lost.write('1\n2\n', (e) => (e ? reject(e) : resolve())))
    const failed = new Promise((resolve) => lost.once('error', resolve))
    await admin.query('SELECT pg_terminate_backend($1)', [pid])
    const err = await failed
    assert.ok(['57P01', 'ERR_CONNECTION_CLOSED'].includes(err.code), err.code)
    await assert.rejects(lost.done, (e) => e === err)
    c.release()
    assert.equal((await p.query('SELECT 1 AS one')).rows[0].one, 1)
    // A row the server refuses fails the stream as soon as the server reads it, with its error,
    // before end(); nothing of the COPY remains.
    const c2 = await p.connect()
    const bad = await c2.copyIn(`COPY ${t} FROM STDIN`)
    const badErr = new Promise((resolve) => bad.once('error', resolve))
    bad.write('3\nnot a number\n')
    const e2 = await badErr
    assert.equal(e2.code, '22P02')
    c2.release()
    assert.equal((await admin.query(`SELECT count(*)::int4 AS n FROM ${t}`)).rows[0].n, 0)
    assert.equal((await p.query('SELECT 2 AS two')).rows[0].two, 2)
  } finally {
    await admin.query(`DROP TABLE IF EXISTS ${t}`)
    await p.close()
    await admin.close()
  }
})
