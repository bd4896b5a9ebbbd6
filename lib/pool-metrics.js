'use strict'
// pool.stats(): the native pool's counters (src/core/pool_metrics.rs), read in one call and
// shaped here. Nothing is counted on the JS side, so pool.query pays nothing for them.

/**
 * `{ size, idle, waiting, max }` as before, then the counters since the pool was made:
 * `acquired` (borrows that got a connection), `created` and `destroyed` (connections opened and
 * closed by the pool), `timedOut` (borrows ended by acquireTimeoutMillis), `abandoned` (waits
 * the caller gave up: a signal, a timeoutMillis), `errors` (failed borrows by error code), and
 * `waitTime`: the wait of every borrow in fixed buckets (`boundsMillis[i]` is bucket i's
 * inclusive upper bound; `counts` has one more entry, for waits above the last bound), with
 * their `count` and `sumMillis`. See docs/observability.md.
 */
function shapeStats(s) {
  let count = 0
  for (const c of s.waitCounts) count += c
  return {
    size: s.size,
    idle: s.idle,
    waiting: s.waiting,
    max: s.max,
    acquired: s.acquired,
    created: s.created,
    destroyed: s.destroyed,
    timedOut: s.timedOut,
    abandoned: s.abandoned,
    errors: { ...s.errors },
    waitTime: { boundsMillis: s.waitBoundsMillis, counts: s.waitCounts, count, sumMillis: s.waitSumMillis },
  }
}

module.exports = { shapeStats }
