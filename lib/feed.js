'use strict'
// Walks the rows of copyFrom / the parameter sets of executeMany.

/**
 * Hands each item of `items` to `add` until `stopped()`; awaits `flush()` whenever `add`
 * returns true. An array or other sync iterable is walked without an await per item (for await
 * would cost a promise and a microtask for each); as with for await, a promise among the items
 * is waited for.
 */
async function feed(items, stopped, add, flush) {
  if (typeof items[Symbol.asyncIterator] === 'function') {
    for await (const item of items) {
      if (stopped()) break
      if (add(item)) await flush()
    }
    return
  }
  for (const item of items) {
    if (stopped()) break
    if (add(typeof item?.then === 'function' ? await item : item)) await flush()
  }
}

module.exports = { feed }
