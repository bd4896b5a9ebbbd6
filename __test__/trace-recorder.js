'use strict'
// What the tracing tests subscribe with: every event of a TracingChannel, in order.
const dc = require('node:diagnostics_channel')

/**
 * Subscribes to every event of the TracingChannel `name`; `events` is [kind, ctx, store] in
 * order (the store of `als` when the event fired).
 */
function record(name, als) {
  const ch = dc.tracingChannel(name)
  const events = []
  const on = (kind) => (ctx) => events.push([kind, ctx, als?.getStore()])
  const subs = { start: on('start'), end: on('end'), asyncStart: on('asyncStart'), asyncEnd: on('asyncEnd'), error: on('error') }
  ch.subscribe(subs)
  return { events, kinds: () => events.map((e) => e[0]), stop: () => ch.unsubscribe(subs) }
}

module.exports = { record }
