'use strict'
// Shared by the ORM suites (__test__/orm-*.test.js).
const assert = require('node:assert/strict')

/**
 * A subclass of `pg.Client` (ferropg/pg's) that counts the connections made with it, so that a
 * test can tell a library really connected through it.
 */
function countingClient(pg) {
  const counter = { opened: 0 }
  counter.Client = class extends pg.Client {
    constructor(config) {
      super(config)
      counter.opened++
    }
  }
  return counter
}

/** The jsonb, uuid, bytea, text[] and enum values every suite reads back (`v`: what it wrote). */
function assertSharedTypes(r, v) {
  assert.deepEqual(r.j, typeof v.j === 'string' ? JSON.parse(v.j) : v.j)
  assert.equal(r.u, v.u)
  assert.deepEqual(Buffer.from(r.b), Buffer.from(v.b))
  assert.deepEqual(r.arr, v.arr)
  if (v.mood !== undefined) assert.equal(r.mood, v.mood)
}

module.exports = { countingClient, assertSharedTypes }
