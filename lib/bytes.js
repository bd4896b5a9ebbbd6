'use strict'
// Little-endian numbers read from and written to a Uint8Array by index, for the per-query
// paths (the result reader, the inbox, the parameter writer). Node's Buffer methods
// (`readUInt32LE`, `readDoubleLE`, `writeDoubleLE`...) validate their arguments and, called
// from a hot function, stay calls of their own: ~700 of a W1 query's instructions under
// callgrind (docs/performance.md, session 17). These are small enough for V8 to inline. The
// callers' offsets come from buffers the native side wrote, so no bounds are checked here:
// past the end a read gives NaN or a wrong number rather than throwing.

const f64 = new Float64Array(1)
const f64b = new Uint8Array(f64.buffer)
// A Float64Array holds the platform's byte order; every platform Node supports but s390x is
// little-endian.
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

function u16(b, at) {
  return b[at] | (b[at + 1] << 8)
}

function u32(b, at) {
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16)) + b[at + 3] * 0x1000000
}

function i32(b, at) {
  return b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)
}

function f64le(b, at) {
  f64b[0] = b[at]
  f64b[1] = b[at + 1]
  f64b[2] = b[at + 2]
  f64b[3] = b[at + 3]
  f64b[4] = b[at + 4]
  f64b[5] = b[at + 5]
  f64b[6] = b[at + 6]
  f64b[7] = b[at + 7]
  return f64[0]
}

function putU32(b, at, v) {
  b[at] = v
  b[at + 1] = v >>> 8
  b[at + 2] = v >>> 16
  b[at + 3] = v >>> 24
}

function putF64le(b, at, v) {
  f64[0] = v
  b[at] = f64b[0]
  b[at + 1] = f64b[1]
  b[at + 2] = f64b[2]
  b[at + 3] = f64b[3]
  b[at + 4] = f64b[4]
  b[at + 5] = f64b[5]
  b[at + 6] = f64b[6]
  b[at + 7] = f64b[7]
}

module.exports = littleEndian
  ? { u16, u32, i32, f64: f64le, putU32, putF64: putF64le }
  : {
      u16,
      u32,
      i32,
      f64: (b, at) => b.readDoubleLE(at),
      putU32,
      putF64: (b, at, v) => b.writeDoubleLE(v, at),
    }
