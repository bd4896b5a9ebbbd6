'use strict'
// The requests waiting for their responses, by request id: each one's resolve function and
// the accumulator its early rows go to (`reader.partial()`, or undefined).
//
// Why not a Map: request ids are consecutive and most requests are answered in the order they
// were made, while a Map that fills and empties on every serial query reallocates its hash
// table each time (V8 shrinks it on the delete that empties it and grows it on the next set:
// ~2k instructions per query of W1 under callgrind). Here a request lives in a ring slot
// chosen by its id; one whose slot is still held by an older request that has not been
// answered (more than RING outstanding, or a long-running one) goes to an overflow Map.

const RING = 4096 // a power of two
const MASK = RING - 1

const ids = new Uint32Array(RING)
const fns = new Array(RING).fill(undefined)
const accs = new Array(RING).fill(undefined)
const overflow = new Map() // id -> [fn, acc]
let count = 0

/** Records request `id` (a u32): `fn` receives its response, `acc` its early rows. */
function add(id, fn, acc) {
  const k = id & MASK
  if (fns[k] === undefined) {
    ids[k] = id
    fns[k] = fn
    accs[k] = acc
  } else {
    overflow.set(id, [fn, acc])
  }
  count++
}

/** The accumulator of request `id`, if it is waiting and has one. */
function accOf(id) {
  const k = id & MASK
  if (fns[k] !== undefined && ids[k] === id) return accs[k]
  return overflow.get(id)?.[1]
}

/** Removes request `id` and returns its function (undefined when it is not waiting). */
function take(id) {
  const k = id & MASK
  if (fns[k] !== undefined && ids[k] === id) {
    const fn = fns[k]
    fns[k] = undefined
    accs[k] = undefined
    count--
    return fn
  }
  const e = overflow.get(id)
  if (e === undefined) return undefined
  overflow.delete(id)
  count--
  return e[0]
}

/** Replaces the function of request `id`, if it is waiting, and drops its accumulator. */
function replace(id, fn) {
  const k = id & MASK
  if (fns[k] !== undefined && ids[k] === id) {
    fns[k] = fn
    accs[k] = undefined
    return
  }
  const e = overflow.get(id)
  if (e !== undefined) overflow.set(id, [fn, undefined])
}

/** How many requests are waiting. */
function size() {
  return count
}

module.exports = { add, accOf, take, replace, size }
