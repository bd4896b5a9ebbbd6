'use strict'
// ferropg's tracing channels as OpenTelemetry spans (docs/observability.md).
//
//   const { trace } = require('@opentelemetry/api')
//   const { instrument } = require('./otel-tracing') // this file, copied into your project
//   const stop = instrument({ tracer: trace.getTracer('my-app') })
//
// One CLIENT span per operation (query, connect, pool acquire, transaction, COPY, pipeline),
// with the context's OpenTelemetry attributes (its dotted keys) and an error status on failure.
// The span is made when the operation starts, by a store bound to the channel's start event:
// the operation runs inside it, so the queries of a transaction, or the acquire of a
// pool.query with a timeout, become its children. Outside ferropg operations the parent is
// OpenTelemetry's active context (the caller's span, given a context manager).
const dc = require('node:diagnostics_channel')
const { AsyncLocalStorage } = require('node:async_hooks')
const { trace, context: otelContext, SpanKind, SpanStatusCode } = require('@opentelemetry/api')

const NAMES = ['ferropg:query', 'ferropg:connect', 'ferropg:pool:acquire', 'ferropg:transaction', 'ferropg:copy', 'ferropg:pipeline']

// The span name before the operation ends: what kind of operation it is.
const KINDS = {
  'ferropg:query': 'postgresql',
  'ferropg:connect': 'connect',
  'ferropg:pool:acquire': 'pool acquire',
  'ferropg:transaction': 'transaction',
  'ferropg:copy': 'COPY',
  'ferropg:pipeline': 'pipeline',
}

/** The OpenTelemetry attributes of a ferropg tracing context: its dotted keys with primitive values. */
function attributesOf(ctx) {
  const out = {}
  for (const k of Object.keys(ctx)) {
    const v = ctx[k]
    if (k.includes('.') && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')) out[k] = v
  }
  return out
}

/**
 * Subscribes to ferropg's channels and makes spans with `tracer`; returns a function that
 * unsubscribes.
 */
function instrument({ tracer = trace.getTracer('ferropg') } = {}) {
  // The OpenTelemetry context inside each ferropg operation (with its span).
  const als = new AsyncLocalStorage()
  const spans = new WeakMap()
  const undo = []
  for (const name of NAMES) {
    const ch = dc.tracingChannel(name)
    ch.start.bindStore(als, (ctx) => {
      const parent = als.getStore() ?? otelContext.active()
      const span = tracer.startSpan(KINDS[name], { kind: SpanKind.CLIENT, attributes: attributesOf(ctx) }, parent)
      spans.set(ctx, span)
      return trace.setSpan(parent, span)
    })
    const finish = (ctx) => {
      const span = spans.get(ctx)
      if (!span) return
      spans.delete(ctx)
      span.setAttributes(attributesOf(ctx))
      const op = ctx['db.operation.name']
      if (name === 'ferropg:query' && op) span.updateName(ctx['db.namespace'] ? `${op} ${ctx['db.namespace']}` : op)
      if (ctx.error !== undefined) {
        span.recordException(ctx.error)
        span.setStatus({ code: SpanStatusCode.ERROR, message: ctx.error?.message })
      }
      span.end()
    }
    const subs = { start() {}, end() {}, asyncStart() {}, asyncEnd: finish, error() {} }
    ch.subscribe(subs)
    undo.push(() => {
      ch.unsubscribe(subs)
      ch.start.unbindStore(als)
    })
  }
  return () => {
    for (const u of undo) u()
  }
}

module.exports = { instrument, attributesOf }
