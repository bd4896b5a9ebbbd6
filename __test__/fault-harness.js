'use strict'
// Shared by the fault scenarios (faults.test.js, faults-server.test.js): bounds on how long a
// call may take to settle, and what it must settle with.
const assert = require('node:assert/strict')

const SLACK = 1000 // what every bound allows beyond itself
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const show = (v) => JSON.stringify(v?.rows?.slice?.(0, 2) ?? v, (k, x) => (typeof x === 'bigint' ? String(x) : x))

/**
 * Waits for `promise` at most `bound + SLACK` ms. Resolves with its outcome
 * `{ ok, value, error, ms }`; fails the test if it has not settled by then.
 */
async function settles(promise, bound, what) {
  const t0 = Date.now()
  let timer
  const outcome = Promise.resolve(promise).then(
    (value) => ({ ok: true, value, ms: Date.now() - t0 }),
    (error) => ({ ok: false, error, ms: Date.now() - t0 }),
  )
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve(null), bound + SLACK)))
  try {
    const r = await Promise.race([outcome, late])
    if (r === null) assert.fail(`${what}: did not settle within ${bound} ms + ${SLACK} ms`)
    return r
  } finally {
    clearTimeout(timer)
  }
}

/** `settles`, and it must reject with `code` (one of them, given an array), matching `message`. */
async function rejectsWithin(promise, bound, what, code, message) {
  const r = await settles(promise, bound, what)
  assert.ok(!r.ok, `${what}: resolved (${show(r.value)}) instead of rejecting with ${code}`)
  const codes = Array.isArray(code) ? code : [code]
  assert.ok(codes.includes(r.error?.code), `${what}: rejected after ${r.ms} ms with ${r.error?.code}: ${r.error?.message}`)
  if (message) assert.match(r.error.message, message, what)
  return r
}

/** `settles`, and it must resolve. */
async function resolvesWithin(promise, bound, what) {
  const r = await settles(promise, bound, what)
  assert.ok(r.ok, `${what}: rejected after ${r.ms} ms with ${r.error?.code}: ${r.error?.message}`)
  return r.value
}

/**
 * Watches a scenario: an unhandled rejection or uncaught exception while it runs, and any pool
 * pushed to `pools` holding more than `max` connections (sampled every 5 ms). `stop()` ends the
 * watch once rejections of calls still running have settled; `check()` asserts neither happened.
 */
function watch() {
  const escaped = []
  const pools = []
  let overMax = null
  const onUnhandled = (e) => escaped.push(`unhandledRejection: ${e?.code ?? ''} ${e?.stack ?? e}`)
  const onUncaught = (e) => escaped.push(`uncaughtException: ${e?.code ?? ''} ${e?.stack ?? e}`)
  process.on('unhandledRejection', onUnhandled)
  process.on('uncaughtException', onUncaught)
  const sample = () => {
    for (const p of pools) {
      if (p.closed) continue
      const s = p.stats()
      if (s.size > s.max && !overMax) overMax = s
    }
  }
  const sampler = setInterval(sample, 5)
  return {
    pools,
    sample,
    async stop() {
      clearInterval(sampler)
      await sleep(50)
      process.off('unhandledRejection', onUnhandled)
      process.off('uncaughtException', onUncaught)
    },
    check() {
      assert.deepEqual(escaped, [], 'errors escaped to the process')
      assert.equal(overMax, null, `a pool held more connections than max: ${JSON.stringify(overMax)}`)
    },
  }
}

module.exports = { SLACK, sleep, show, settles, rejectsWithin, resolvesWithin, watch }
