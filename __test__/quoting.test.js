'use strict'
// Identifiers ferropg puts into SQL it builds (copyFrom's schema, table and columns, LISTEN
// channels, NOTIFY) are quoted: names with quotes, spaces, semicolons and capitals reach the
// server as the names they are, and none can end the statement early.
const test = require('node:test')
const assert = require('node:assert/strict')
const { pool, unique } = require('./helpers')

const schema = `${unique('Sch')} "q"; x`
const table = 'we"ird; DROP TABLE x --'
const cols = ['Id', 'a b', 'c"d']
const q = (s) => `"${s.replace(/"/g, '""')}"`

test('copyFrom into a schema, table and columns whose names need quoting', async () => {
  const p = pool({ max: 1 })
  try {
    await p.simpleQuery(`CREATE SCHEMA ${q(schema)}; CREATE TABLE ${q(schema)}.${q(table)} (${cols.map((c) => `${q(c)} text`).join(', ')})`)
    const n = await p.copyFrom(table, [['1', 'x', 'y'], ['2', 'z', 'w']], { schema, columns: cols })
    assert.equal(n, 2)
    const r = await p.query(`SELECT * FROM ${q(schema)}.${q(table)} ORDER BY 1`)
    assert.deepEqual(r.rows, [{ Id: '1', 'a b': 'x', 'c"d': 'y' }, { Id: '2', 'a b': 'z', 'c"d': 'w' }])
  } finally {
    await p.simpleQuery(`DROP SCHEMA IF EXISTS ${q(schema)} CASCADE`)
    await p.close()
  }
})

test('LISTEN and NOTIFY on a channel whose name needs quoting', async () => {
  const p = pool({ max: 2 })
  const channel = 'Jobs "x"; SELECT 1'
  try {
    let resolve
    const got = new Promise((r) => (resolve = r))
    await p.listen(channel, resolve)
    await p.notify(channel, 'payload; with "quotes"')
    // An idle listener does not keep the process alive (README): a timer does, bounded.
    let timer
    const n = await Promise.race([got, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no notification within 5 s')), 5000)))])
    clearTimeout(timer)
    assert.deepEqual([n.channel, n.payload], [channel, 'payload; with "quotes"'])
  } finally {
    await p.close()
  }
})
