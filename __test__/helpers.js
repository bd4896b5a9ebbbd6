'use strict'
// Shared by the suites: the server comes from DATABASE_URL (scripts/with-pg.mjs sets it).
const net = require('node:net')
const { Client, Pool } = require('..')

const url = process.env.DATABASE_URL
if (!url) throw new Error('DATABASE_URL is not set: run the tests through `npm test` (scripts/with-pg.mjs)')

function connect(extra) {
  return Client.connect(extra ? { connectionString: url, ...extra } : url)
}

function pool(extra) {
  return new Pool({ connectionString: url, ...extra })
}

/** A unique name for objects a test creates. */
function unique(prefix) {
  return `${prefix}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
}

/**
 * A loopback TCP proxy in front of the server that counts frontend messages by type
 * ('P' Parse, 'B' Bind, 'E' Execute, 'S' Sync, ...) and can delay each direction.
 */
async function countingProxy({ delayMillis = 0 } = {}) {
  const target = new URL(url)
  const counts = {}
  const sockets = new Set()
  // Each chunk is passed on after `delayMillis` (timers with one delay fire in order), so a
  // round trip costs 2 x delayMillis: enough to tell pipelined from serial.
  const forward = (to, d) => (proxy.delay ? setTimeout(() => to.destroyed || to.write(d), proxy.delay) : to.write(d))
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port || 5432), target.hostname)
    sockets.add(client).add(upstream)
    let buf = Buffer.alloc(0)
    let started = false
    client.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      for (;;) {
        if (!started) {
          if (buf.length < 8) break
          const n = buf.readInt32BE(0)
          if (buf.length < n) break
          // An SSLRequest (sslmode prefer, the default) comes before the startup message.
          const sslRequest = n === 8 && buf.readInt32BE(4) === 80877103
          buf = buf.subarray(n)
          started = !sslRequest
          continue
        }
        if (buf.length < 5) break
        const n = buf.readInt32BE(1)
        if (buf.length < n + 1) break
        const t = String.fromCharCode(buf[0])
        counts[t] = (counts[t] || 0) + 1
        buf = buf.subarray(n + 1)
      }
      forward(upstream, d)
    })
    upstream.on('data', (d) => forward(client, d))
    const end = () => { client.destroy(); upstream.destroy() }
    client.on('close', end).on('error', end)
    upstream.on('close', end).on('error', end)
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const proxyUrl = new URL(url)
  proxyUrl.hostname = '127.0.0.1'
  proxyUrl.port = String(server.address().port)
  const proxy = {
    delay: delayMillis,
    url: proxyUrl.toString(),
    counts,
    reset() { for (const k of Object.keys(counts)) delete counts[k] },
    close() {
      for (const s of sockets) s.destroy()
      return new Promise((r) => server.close(r))
    },
  }
  return proxy
}

/**
 * How many round trips `work(client)` waits for: it runs twice on fresh connections through
 * the proxy, once undelayed and once with `delay` ms each way, and the difference in time is
 * divided by the round-trip time. Processing time cancels out, so the count does not depend on
 * how fast the machine is.
 */
async function roundTrips(proxy, setup, work, delay = 25) {
  const { Client } = require('..')
  const run = async (ms) => {
    proxy.delay = 0
    const c = await Client.connect(proxy.url)
    try {
      await setup(c)
      proxy.delay = ms
      const t0 = process.hrtime.bigint()
      await work(c)
      return Number(process.hrtime.bigint() - t0) / 1e6
    } finally {
      proxy.delay = 0
      await c.close()
    }
  }
  const base = await run(0)
  const slow = await run(delay)
  return (slow - base) / (2 * delay)
}

/**
 * Node flags for the child processes that measure memory: Node 22+ sizes V8's young
 * generation up to 3 x 32 MiB or more by default (Node 20: 3 x 16 MiB), which shows in RSS for
 * any program that allocates quickly. Pinning Node 20's size makes the figure measure the driver
 * (what it keeps), not V8's choice of nursery.
 */
const MEMORY_FLAGS = ['--max-semi-space-size=16']

/** The state part of `pool.stats()` (its counters left out): `{ size, idle, waiting, max }`. */
function poolState(p) {
  const { size, idle, waiting, max } = p.stats()
  return { size, idle, waiting, max }
}

module.exports = { url, connect, pool, unique, countingProxy, roundTrips, MEMORY_FLAGS, poolState }
