'use strict'
// ferropg/pg's tracing under the channel names and context shapes proposed for node-postgres
// (brianc/node-postgres#3650), so instrumentations written for pg see ferropg/pg's work:
//
//   pg:query         TracingChannel  { query: { text, name }, client: { database, host, port, user,
//                                      processID, ssl } }, and `result` (the Result) once it ends
//   pg:connection    TracingChannel  { connection: { database, host, port, user, ssl } }
//   pg:pool:connect  TracingChannel  { pool: { totalCount, idleCount, waitingCount, maxSize } },
//                                    and `client: { processID, reused }` once one is handed out
//   pg:pool:release  Channel         { client: { processID }, error }
//   pg:pool:remove   Channel         { client: { processID } }
//
// As in lib/tracing.js, nothing is built unless someone subscribes, and no context holds a
// password. (The ferropg:* channels fire too, beneath: ferropg/pg runs on ferropg's Client.)
const dc = require('node:diagnostics_channel')

/** The pg:* channel names. */
const PG_CHANNELS = Object.freeze({
  query: 'pg:query',
  connection: 'pg:connection',
  poolConnect: 'pg:pool:connect',
  poolRelease: 'pg:pool:release',
  poolRemove: 'pg:pool:remove',
})

const queryChannel = dc.tracingChannel(PG_CHANNELS.query)
const connectionChannel = dc.tracingChannel(PG_CHANNELS.connection)
const poolConnectChannel = dc.tracingChannel(PG_CHANNELS.poolConnect)
const poolReleaseChannel = dc.channel(PG_CHANNELS.poolRelease)
const poolRemoveChannel = dc.channel(PG_CHANNELS.poolRemove)

/**
 * What pg says of a client's connection: from the server it reached (`target`, ferropg's
 * `{ host, port, tls, database, user }`) when connected, else from its options.
 */
function describeConnection(options, target, processID) {
  const info = target
    ? { database: target.database, host: target.host, port: target.port, user: target.user, ssl: target.tls === true }
    : {
        database: options.database,
        host: options.host,
        port: options.port === undefined ? undefined : Number(options.port),
        user: typeof options.user === 'string' ? options.user : undefined,
        ssl: Boolean(options.ssl),
      }
  if (processID !== undefined && processID !== null) info.processID = processID
  return info
}

/** `pg:query` around `run()`: `q` is pg's query config (`text`, `name`). */
function traceQuery(q, options, target, processID, run) {
  const ctx = { query: { text: q.text, name: q.name }, client: describeConnection(options, target, processID) }
  return queryChannel.tracePromise(run, ctx)
}

/** `pg:connection` around `run()`; the context's connection is completed from `done()` (a target). */
function traceConnection(options, run, done) {
  const ctx = { connection: describeConnection(options) }
  return connectionChannel.tracePromise(async () => {
    await run()
    const t = done()
    if (t) Object.assign(ctx.connection, describeConnection(options, t))
  }, ctx)
}

/** `pg:pool:connect` around `run()` (a promise of a client); `pool` is ferropg/pg's Pool. */
function tracePoolConnect(pool, run) {
  const ctx = {
    pool: { totalCount: pool.totalCount, idleCount: pool.idleCount, waitingCount: pool.waitingCount, maxSize: pool.options.max },
  }
  return poolConnectChannel.tracePromise(async () => {
    const client = await run()
    ctx.client = { processID: client.processID, reused: (client._poolUseCount ?? 1) > 1 }
    return client
  }, ctx)
}

/** `pg:pool:release` (a client given back, with the error it was released with). */
function publishRelease(client, err) {
  if (poolReleaseChannel.hasSubscribers) poolReleaseChannel.publish({ client: { processID: client.processID }, error: err || undefined })
}

/** `pg:pool:remove` (a client the pool dropped). */
function publishRemove(client) {
  if (poolRemoveChannel.hasSubscribers) poolRemoveChannel.publish({ client: { processID: client.processID } })
}

module.exports = {
  PG_CHANNELS,
  queryChannel,
  connectionChannel,
  poolConnectChannel,
  traceQuery,
  traceConnection,
  tracePoolConnect,
  publishRelease,
  publishRemove,
}
