'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { u16, u32, i32, f64, putU32, putF64 } = require('../lib/bytes')

test("lib/bytes.js reads and writes exactly what Buffer's little-endian methods do, at any offset", () => {
  const b = Buffer.alloc(64)
  const ints = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x12345678]
  const doubles = [0, -0, 1, -1, 0.1, 1 / 3, 2 ** 53, -(2 ** 53) - 2, Number.MAX_VALUE, Number.MIN_VALUE, 5e-324 * 3, Infinity, -Infinity, NaN, 1700000000123.5]
  for (let at = 0; at < 9; at++) {
    for (const v of ints) {
      b.fill(0xaa)
      putU32(b, at, v)
      assert.equal(b.readUInt32LE(at), v, `putU32 ${v} at ${at}`)
      assert.equal(b[at + 4], 0xaa, 'nothing written past the value')
      assert.equal(u32(b, at), v)
      assert.equal(i32(b, at), b.readInt32LE(at))
      assert.equal(u16(b, at), b.readUInt16LE(at))
    }
    for (const v of doubles) {
      b.fill(0x55)
      putF64(b, at, v)
      assert.ok(Object.is(b.readDoubleLE(at), v), `putF64 ${v} at ${at}`)
      assert.equal(b[at + 8], 0x55, 'nothing written past the value')
      assert.ok(Object.is(f64(b, at), v), `f64 ${v} at ${at}`)
    }
  }
})
