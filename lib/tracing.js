'use strict'
// Tracing through node:diagnostics_channel TracingChannels (docs/observability.md). Every call
// site checks `channel.hasSubscribers` first and builds nothing when no one listens; only then
// does it build a context object with OpenTelemetry's database attribute names (dotted keys)
// and a few camelCase extras, and run the operation through `tracePromise`, which publishes
// start/end around the call and asyncStart/asyncEnd (or error) when it settles, in the
// caller's async context. Contexts are built from the host, port, database and user of a
// connection, never from its configuration: no password can reach a subscriber.
const dc = require('node:diagnostics_channel')
const { AsyncResource } = require('node:async_hooks')
const { performance } = require('node:perf_hooks')

/** The channel names (also exported as `channels` from 'ferropg'). */
const CHANNELS = Object.freeze({
  query: 'ferropg:query',
  connect: 'ferropg:connect',
  poolAcquire: 'ferropg:pool:acquire',
  transaction: 'ferropg:transaction',
  copy: 'ferropg:copy',
  pipeline: 'ferropg:pipeline',
})

const queryChannel = dc.tracingChannel(CHANNELS.query)
const connectChannel = dc.tracingChannel(CHANNELS.connect)
const acquireChannel = dc.tracingChannel(CHANNELS.poolAcquire)
const transactionChannel = dc.tracingChannel(CHANNELS.transaction)
const copyChannel = dc.tracingChannel(CHANNELS.copy)
const pipelineChannel = dc.tracingChannel(CHANNELS.pipeline)

const SQLSTATE = /^[0-9A-Z]{5}$/

/** The attributes every context starts with: where the operation runs (no password, ever). */
function baseContext(target) {
  return {
    'db.system.name': 'postgresql',
    'db.namespace': target?.database,
    'server.address': target?.host,
    'server.port': target?.port,
    user: target?.user,
  }
}

/** Records a failure on `ctx`: `error.type` (SQLSTATE or driver code), and the SQLSTATE. */
function describeError(ctx, err) {
  const code = err?.code
  ctx['error.type'] = typeof code === 'string' && code !== '' ? code : (err?.name ?? '_OTHER')
  if (typeof code === 'string' && SQLSTATE.test(code)) ctx['db.response.status_code'] = code
}

// A parameter value as OpenTelemetry wants an attribute: a string.
function show(v) {
  if (v === null || v === undefined) return 'NULL'
  if (typeof v === 'string') return v
  if (Buffer.isBuffer(v)) return `\\x${v.toString('hex')}`
  if (v instanceof Date) return v.toISOString()
  if (typeof v === 'object') {
    try {
      return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x))
    } catch {
      return String(v)
    }
  }
  return String(v)
}

/**
 * The start context of a query (`ferropg:query`): its text and number of parameters, their
 * values only when `traceValues` is set (`db.query.parameter.<i>`, and the raw `values`). One
 * literal with the end's fields declared (undefined until then): the object keeps one shape.
 */
function queryContext(target, sql, params, traceValues, processId) {
  const values = Array.isArray(params) ? params : params?.values
  const ctx = {
    'db.system.name': 'postgresql',
    'db.namespace': target.database,
    'server.address': target.host,
    'server.port': target.port,
    user: target.user,
    'db.query.text': sql,
    parameterCount: Array.isArray(values) ? values.length : 0,
    processId,
    cacheHit: undefined,
    statementName: undefined,
    command: undefined,
    rowCount: undefined,
    'db.operation.name': undefined,
    'db.response.returned_rows': undefined,
    result: undefined,
    error: undefined,
  }
  if (traceValues && Array.isArray(values)) {
    ctx.values = values.slice()
    for (let i = 0; i < values.length; i++) ctx[`db.query.parameter.${i}`] = show(values[i])
  }
  return ctx
}

// What the server said of a query, written on its context before asyncStart.
function describeResult(ctx, r) {
  if (Array.isArray(r)) {
    // simpleQuery: one result per statement.
    let rows = 0
    let count = 0
    for (const one of r) {
      rows += one.rows.length
      count += one.rowCount
    }
    ctx.statements = r.length
    ctx.command = r.length > 0 ? r[r.length - 1].command : ''
    ctx.rowCount = count
    ctx['db.response.returned_rows'] = rows
  } else {
    ctx.command = r.command
    ctx.rowCount = r.rowCount
    ctx['db.response.returned_rows'] = r.rows.length
  }
  if (ctx.command) ctx['db.operation.name'] = ctx.command
}

// A failure on `ctx` (`error`, `error.type`, the SQLSTATE), published on `ch`'s error channel.
function publishError(ch, ctx, e) {
  ctx.error = e
  describeError(ctx, e)
  ch.error.publish(ctx)
}

// Calls `fn()` where a TracingChannel's start event has been published: `end` follows the call,
// and a synchronous throw is published as `error` first (tracePromise's order).
function callPublishing(ch, ctx, fn) {
  try {
    return fn()
  } catch (e) {
    publishError(ch, ctx, e)
    throw e
  } finally {
    ch.end.publish(ctx)
  }
}

// The body of a traced query, inside the start channel's stores: the events of tracePromise,
// published by hand so that the result's facts are on the context before asyncStart with no
// promise of its own in between (the hot path with a subscriber: W1/W2 in benchmark/tracing.mjs).
function startQuery(ctx, run) {
  const ch = queryChannel
  return callPublishing(ch, ctx, run).then(
    (r) => {
      describeResult(ctx, r)
      ctx.result = r
      ch.asyncStart.publish(ctx)
      ch.asyncEnd.publish(ctx)
      return r
    },
    (e) => {
      publishError(ch, ctx, e)
      ch.asyncStart.publish(ctx)
      ch.asyncEnd.publish(ctx)
      throw e
    },
  )
}

/**
 * Runs a query (`run()`, a promise of a result) traced on `ferropg:query` with `ctx`: the
 * events and async context of `TracingChannel.tracePromise` (start and end around the call,
 * error, asyncStart and asyncEnd when it settles, stores bound to start active throughout).
 */
function traceQuery(ctx, run) {
  const start = queryChannel.start
  // Node's active channels keep their bound stores in `_stores` (a SafeMap): with none bound,
  // runStores only publishes and calls, which is done here without its closure, rest array
  // and iterator (W2: 1,400 instructions per query, docs/observability.md). Any other shape
  // (another Node) takes runStores.
  const stores = start._stores
  if (stores !== undefined && stores !== null && stores.size === 0) {
    start.publish(ctx)
    return startQuery(ctx, run)
  }
  return start.runStores(ctx, startQuery, undefined, ctx, run)
}

// Runs `run()`, timing it and recording a failure on `ctx`; `after(value)` adds facts.
async function timed(ctx, run, after) {
  const started = performance.now()
  try {
    const v = await run()
    ctx.durationMillis = performance.now() - started
    if (after) after(v)
    return v
  } catch (e) {
    ctx.durationMillis = performance.now() - started
    describeError(ctx, e)
    throw e
  }
}

/**
 * `ferropg:connect` around `run()` (a promise of a Client). The start context holds what the
 * configuration says when it is an object or a URL; the end fills in the server reached.
 */
function traceConnect(config, run) {
  const ctx = baseContext(configTarget(config))
  return connectChannel.tracePromise(timed, ctx, undefined, ctx, run, (client) => {
    const t = client._traceTarget
    Object.assign(ctx, baseContext(t))
    ctx.tls = t.tls
    ctx.processId = client.processId
    ctx.serverVersion = client.serverVersion
  })
}

// Host, port, database and user from a configuration object or URL, read before connecting.
function configTarget(config) {
  if (typeof config === 'string') {
    if (!/^postgres(ql)?:\/\//.test(config)) return undefined
    try {
      const u = new URL(config)
      return {
        host: u.hostname ? decodeURIComponent(u.hostname) : undefined,
        port: u.port ? Number(u.port) : undefined,
        database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
        user: u.username ? decodeURIComponent(u.username) : undefined,
      }
    } catch {
      return undefined
    }
  }
  if (config === null || typeof config !== 'object') return undefined
  const str = (v) => (typeof v === 'string' ? v : undefined)
  return { host: str(config.host), port: config.port === undefined ? undefined : Number(config.port), database: str(config.database), user: str(config.user) }
}

/**
 * `ferropg:pool:acquire` around `run()` (a promise of a PoolClient): the pool's state when the
 * wait began (`poolSize`, `idle`, `waiting`, `max`), and the wait (`waitMillis`) and the
 * connection (`processId`) when it ends.
 */
function traceAcquire(target, stats, run) {
  const ctx = baseContext(target)
  ctx.poolSize = stats.size
  ctx.idle = stats.idle
  ctx.waiting = stats.waiting
  ctx.max = stats.max
  return acquireChannel.tracePromise(timed, ctx, undefined, ctx, run, (client) => {
    ctx.waitMillis = ctx.durationMillis
    ctx.processId = client.processId
  })
}

/**
 * `ferropg:transaction` around `run()`: the options, the savepoint of a nested one, and the
 * `outcome` ('commit' or 'rollback').
 */
function traceTransaction(target, processId, options, savepoint, run) {
  const ctx = baseContext(target)
  ctx.processId = processId
  ctx.isolationLevel = options?.isolationLevel
  ctx.readOnly = options?.readOnly
  ctx.deferrable = options?.deferrable
  ctx.savepoint = savepoint
  return transactionChannel.tracePromise(
    async () => {
      try {
        const v = await run()
        ctx.outcome = 'commit'
        return v
      } catch (e) {
        ctx.outcome = 'rollback'
        describeError(ctx, e)
        throw e
      }
    },
    ctx,
  )
}

/** The start context of a COPY (`ferropg:copy`). */
function copyContext(target, processId, kind, sql, table) {
  const ctx = baseContext(target)
  ctx.processId = processId
  ctx['db.operation.name'] = 'COPY'
  ctx.kind = kind
  ctx.direction = kind === 'copyOut' ? 'out' : 'in'
  if (sql !== undefined) ctx['db.query.text'] = sql
  if (table !== undefined) ctx['db.collection.name'] = table
  return ctx
}

/** `ferropg:copy` around copyFrom's `run()` (a promise of the row count). */
function traceCopyFrom(ctx, run) {
  return copyChannel.tracePromise(timed, ctx, undefined, ctx, run, (n) => {
    ctx.rowCount = n
  })
}

/**
 * `ferropg:copy` around a COPY stream (copyIn, copyOut): start/end around opening it;
 * asyncStart/asyncEnd (or error) when the stream closes, in the caller's async context;
 * `rowCount` for a finished copyIn, `aborted` when it closed before its end.
 */
function traceCopyStream(ctx, open) {
  const ch = copyChannel
  return ch.start.runStores(ctx, () => {
    const started = performance.now()
    const settle = AsyncResource.bind((err) => {
      ctx.durationMillis = performance.now() - started
      if (err) {
        publishError(ch, ctx, err)
      }
      ch.asyncStart.publish(ctx)
      ch.asyncEnd.publish(ctx)
    })
    return callPublishing(ch, ctx, open).then(
      (stream) => {
        let finished = false
        stream.once(ctx.direction === 'in' ? 'finish' : 'end', () => (finished = true))
        stream.once('close', () => {
          if (stream.rowCount !== undefined) ctx.rowCount = stream.rowCount
          if (!finished && !stream.errored) ctx.aborted = true
          settle(stream.errored ?? undefined)
        })
        return stream
      },
      (e) => {
        settle(e)
        throw e
      },
    )
  })
}

/**
 * `ferropg:pipeline` around a pipeline block: `run(make)` runs it on the pipeline `make(native)`
 * returns, which counts its statements and segments for the end context (`statements`,
 * `segments`, `db.operation.batch.size`).
 */
function tracePipeline(target, processId, Counting, run) {
  const ctx = baseContext(target)
  ctx.processId = processId
  let p = null
  const make = (native) => (p = new Counting(native))
  return pipelineChannel.tracePromise(
    async () => {
      try {
        return await run(make)
      } catch (e) {
        describeError(ctx, e)
        throw e
      } finally {
        ctx.statements = p?.statements ?? 0
        ctx.segments = p?.segments ?? 0
        ctx['db.operation.batch.size'] = ctx.statements
      }
    },
    ctx,
  )
}

module.exports = {
  CHANNELS,
  queryChannel,
  connectChannel,
  acquireChannel,
  transactionChannel,
  copyChannel,
  pipelineChannel,
  baseContext,
  describeError,
  queryContext,
  traceQuery,
  traceConnect,
  traceAcquire,
  traceTransaction,
  copyContext,
  traceCopyFrom,
  traceCopyStream,
  tracePipeline,
}
