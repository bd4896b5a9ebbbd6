'use strict'
// pool.stats() as OpenTelemetry metrics through observable instruments (docs/observability.md):
// nothing runs per query; stats() is read once per collection, when the exporter asks.
//
//   const { metrics } = require('@opentelemetry/api')
//   const { observePoolMetrics } = require('./otel-pool-metrics') // this file, copied into your project
//   const stop = observePoolMetrics(pool, metrics.getMeter('my-app'), { 'db.client.connection.pool.name': 'main' })
//
// Instruments (OpenTelemetry's database client connection metrics where one exists):
//   db.client.connection.count            UpDownCounter, by db.client.connection.state (idle, used)
//   db.client.connection.max              UpDownCounter
//   db.client.connection.pending_requests UpDownCounter (callers waiting for a connection)
//   db.client.connection.timeouts         Counter (acquireTimeoutMillis)
//   ferropg.pool.acquired / created / destroyed / abandoned   Counters
//   ferropg.pool.errors                   Counter, by error.type (SQLSTATE or driver code)
//   ferropg.pool.wait_time.bucket         Counter, by le (a bucket bound in ms, or '+Inf'):
//                                         borrows that waited at most le (cumulative, as Prometheus)
//   ferropg.pool.wait_time.sum            Counter (ms)

/** Registers the instruments on `meter` for `pool`; returns a function that removes them. */
function observePoolMetrics(pool, meter, attributes = {}) {
  const count = meter.createObservableUpDownCounter('db.client.connection.count', { description: 'Connections open, by state', unit: '{connection}' })
  const max = meter.createObservableUpDownCounter('db.client.connection.max', { unit: '{connection}' })
  const pending = meter.createObservableUpDownCounter('db.client.connection.pending_requests', { unit: '{request}' })
  const timeouts = meter.createObservableCounter('db.client.connection.timeouts', { unit: '{timeout}' })
  const counters = {
    acquired: meter.createObservableCounter('ferropg.pool.acquired', { unit: '{connection}' }),
    created: meter.createObservableCounter('ferropg.pool.created', { unit: '{connection}' }),
    destroyed: meter.createObservableCounter('ferropg.pool.destroyed', { unit: '{connection}' }),
    abandoned: meter.createObservableCounter('ferropg.pool.abandoned', { unit: '{request}' }),
  }
  const errors = meter.createObservableCounter('ferropg.pool.errors', { unit: '{error}' })
  const buckets = meter.createObservableCounter('ferropg.pool.wait_time.bucket', { unit: '{borrow}' })
  const waitSum = meter.createObservableCounter('ferropg.pool.wait_time.sum', { unit: 'ms' })
  const all = [count, max, pending, timeouts, ...Object.values(counters), errors, buckets, waitSum]
  const callback = (result) => {
    const s = pool.stats()
    result.observe(count, s.idle, { ...attributes, 'db.client.connection.state': 'idle' })
    result.observe(count, s.size - s.idle, { ...attributes, 'db.client.connection.state': 'used' })
    result.observe(max, s.max, attributes)
    result.observe(pending, s.waiting, attributes)
    result.observe(timeouts, s.timedOut, attributes)
    for (const [k, instrument] of Object.entries(counters)) result.observe(instrument, s[k], attributes)
    for (const [code, n] of Object.entries(s.errors)) result.observe(errors, n, { ...attributes, 'error.type': code })
    let cumulative = 0
    s.waitTime.counts.forEach((n, i) => {
      cumulative += n
      const le = i < s.waitTime.boundsMillis.length ? String(s.waitTime.boundsMillis[i]) : '+Inf'
      result.observe(buckets, cumulative, { ...attributes, le })
    })
    result.observe(waitSum, s.waitTime.sumMillis, attributes)
  }
  meter.addBatchObservableCallback(callback, all)
  return () => meter.removeBatchObservableCallback(callback, all)
}

module.exports = { observePoolMetrics }
