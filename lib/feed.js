'use strict'
// Walks the rows of copyFrom / the parameter sets of executeMany.

const INTERRUPTED = Symbol('interrupted')

/**
 * Ends a feed's wait for its next item (see `feed`). A fresh promise per wait, rather than one
 * long-lived promise raced at every item, whose reactions would pile up until it settled.
 */
class Interrupt {
  #wake = null

  /** Ends the wait in progress, if any (the feed's `stopped()` must say true from now on). */
  fire() {
    const wake = this.#wake
    this.#wake = null
    wake?.()
  }

  /** Settles as `promise` does, or with INTERRUPTED when `fire()` comes first. */
  race(promise) {
    return new Promise((resolve, reject) => {
      this.#wake = () => resolve(INTERRUPTED)
      promise.then(resolve, reject)
    })
  }
}

/**
 * Hands each item of `items` to `add` until `stopped()`; awaits `flush()` whenever `add`
 * returns true. An array or other sync iterable is walked without an await per item (for await
 * would cost a promise and a microtask for each); as with for await, a promise among the items
 * is waited for. With an `interrupt`, its `fire()` ends the walk even while it waits for an
 * item: the iterator's `return()` is then called without waiting for the item it was asked for
 * (a source that never yields again must not hold the caller).
 */
async function feed(items, stopped, add, flush, interrupt) {
  if (typeof items[Symbol.asyncIterator] === 'function') {
    if (!interrupt) {
      for await (const item of items) {
        if (stopped()) break
        if (add(item)) await flush()
      }
      return
    }
    return walkAsync(items[Symbol.asyncIterator](), stopped, add, flush, interrupt)
  }
  for (const item of items) {
    if (stopped()) break
    let v = item
    if (typeof item?.then === 'function') {
      v = await (interrupt ? interrupt.race(Promise.resolve(item)) : item)
      if (v === INTERRUPTED || stopped()) break
    }
    if (add(v)) await flush()
  }
}

/** `for await` over `it`, each wait for an item ended by `interrupt.fire()`. */
async function walkAsync(it, stopped, add, flush, interrupt) {
  let ended = false // the iterator finished or threw: no return()
  let waiting = false // a next() is still unanswered
  let failed = false
  try {
    while (!stopped()) {
      let r
      try {
        r = await interrupt.race(Promise.resolve(it.next()))
      } catch (e) {
        ended = true
        throw e
      }
      if (r === INTERRUPTED) {
        waiting = true
        return
      }
      if (r.done) {
        ended = true
        return
      }
      if (stopped()) return
      if (add(r.value)) await flush()
    }
  } catch (e) {
    failed = true
    throw e
  } finally {
    if (!ended && typeof it.return === 'function') {
      const closing = Promise.resolve().then(() => it.return())
      // An async generator runs return() only after the pending next() settles: not waited
      // for then. After a throw, its own error is ignored (as for await does).
      if (waiting) closing.catch(() => {})
      else if (failed) await closing.catch(() => {})
      else await closing
    }
  }
}

module.exports = { feed, Interrupt }
