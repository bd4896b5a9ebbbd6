'use strict'
// A loopback TCP proxy between the driver and PostgreSQL that does to connections what
// production networks do: delays, tiny segments, stalls, resets, half-closes, refusals, black
// holes, and a CancelRequest that never arrives. Tests point the driver at `proxy.url(url)` and
// switch faults on and off while connections are open.
//
//   const proxy = await faultProxy({ host: '127.0.0.1', port: 5432 })
//   const pool = new Pool({ connectionString: proxy.url(process.env.DATABASE_URL) })
//   proxy.cutAfter({ direction: 'toClient', bytes: 50000, how: 'rst' })
//   ...
//   await proxy.close()
//
// Each connection forwards through two one-way pipes (toServer, toClient). A pipe keeps its
// chunks in a queue that one pump drains in order, so that delay, split and stall can hold data
// back without ever reordering it.
const net = require('node:net')

const SSL_REQUEST = 80877103
const GSSENC_REQUEST = 80877104
const CANCEL_REQUEST = 80877102 // 0x04D2162E

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
// One turn of the event loop (its poll phase included): lets the driver, which may read its
// socket on this same thread, see each byte on its own when split is on.
const turn = () => new Promise((r) => setImmediate(r))

function isLoopback(host) {
  return host === 'localhost' || host === '::1' || /^127\./.test(host)
}

async function faultProxy({ host = '127.0.0.1', port = 5432 } = {}) {
  // The proxy only ever talks to this machine: it is a test fixture, not a relay.
  if (!isLoopback(host)) throw new Error(`faultProxy: ${host} is not a loopback address`)

  const settings = {
    delay: 0, // ms each chunk waits, both directions
    split: false, // one byte per write, both directions
    refuse: false, // false, or 'fin' / 'rst': how new connections are closed at once
    blackhole: false, // new connections: accepted, never forwarded, never answered
    swallowCancel: false, // new connections that are a CancelRequest: accepted, never forwarded
  }
  const conns = new Set() // open proxied connections
  const held = new Set() // blackholed or swallowed sockets, kept open until close()
  let cutRule = null // { direction, bytes, how }, applied to every connection
  // What happened, for tests to check that a fault was really applied.
  const stats = {
    connections: 0, // accepted, refused and blackholed ones included
    cancelRequests: 0, // seen (forwarded or swallowed)
    swallowedCancels: 0,
    refused: 0,
    blackholed: 0,
    cuts: 0,
    writes: { toServer: 0, toClient: 0 }, // socket writes the proxy made
    bytes: { toServer: 0, toClient: 0 }, // bytes they carried
  }

  function hold(socket) {
    held.add(socket)
    socket.on('data', () => {}) // read and drop, so the peer's writes never block
    socket.on('error', () => {})
    socket.on('close', () => held.delete(socket))
  }

  /** One proxied connection: the driver's socket, the server's socket and two pipes. */
  function open(client) {
    client.setNoDelay(true) // small writes (split) leave as separate segments
    const upstream = net.connect(port, host)
    upstream.setNoDelay(true)
    const conn = {
      client,
      upstream,
      dead: false,
      swallowCancel: settings.swallowCancel, // decided when the connection is accepted
      stalled: null, // while stalled: { promise, resolve }, what the pumps wait on
      pipes: {},
      unstall() {
        conn.stalled?.resolve()
        conn.stalled = null
      },
      destroy() {
        if (conn.dead) return
        conn.dead = true
        conns.delete(conn)
        client.destroy()
        upstream.destroy()
        conn.unstall()
      },
      /** Ends the connection as `how` says: 'rst' resets the driver's socket, 'fin' closes it. */
      cut(how) {
        if (conn.dead) return
        stats.cuts++
        conn.dead = true
        conns.delete(conn)
        if (how === 'rst') client.resetAndDestroy()
        else client.end() // a FIN after what was already written; 'close' then destroys it
        upstream.destroy()
        conn.unstall()
      },
    }
    conns.add(conn)
    conn.pipes.toServer = pipe(conn, 'toServer', upstream)
    conn.pipes.toClient = pipe(conn, 'toClient', client)

    // The first message(s) the driver sends say what the connection is: a session (a startup
    // message, possibly after an SSLRequest) or a CancelRequest, which swallowCancel drops.
    let sniff = Buffer.alloc(0)
    let sniffing = true
    let swallowed = false
    client.on('data', (d) => {
      if (swallowed) return // read and dropped
      if (!sniffing) return conn.pipes.toServer.push(d)
      sniff = Buffer.concat([sniff, d])
      let forward = 0 // bytes of `sniff` known to be negotiation requests, to pass on
      for (;;) {
        const rest = sniff.subarray(forward)
        if (rest.length < 8) break
        const len = rest.readInt32BE(0)
        const code = rest.readInt32BE(4)
        if (len === 8 && (code === SSL_REQUEST || code === GSSENC_REQUEST)) {
          forward += 8 // answered by one byte; the next message is TLS or plain
          continue
        }
        if (len === 16 && code === CANCEL_REQUEST) {
          stats.cancelRequests++
          if (conn.swallowCancel) {
            // Accepted and never forwarded, as by a firewall that drops it: the server keeps
            // running the statement. The driver's socket stays open until close().
            stats.swallowedCancels++
            swallowed = true
            conn.pipes.toServer.push(sniff.subarray(0, forward))
            conn.dead = true
            conns.delete(conn)
            upstream.destroy()
            held.add(client)
            client.on('close', () => held.delete(client))
            return
          }
        }
        sniffing = false // a startup message, a CancelRequest let through, or TLS
        break
      }
      if (!sniffing) {
        conn.pipes.toServer.push(sniff)
        sniff = null
      } else if (forward > 0) {
        conn.pipes.toServer.push(sniff.subarray(0, forward))
        sniff = sniff.subarray(forward)
      }
    })
    upstream.on('data', (d) => conn.pipes.toClient.push(d))
    // Either side closing or failing ends both (a cut has already chosen how the driver sees
    // it); a swallowed CancelRequest's socket outlives its upstream.
    client.on('close', () => conn.destroy()).on('error', () => conn.destroy())
    upstream.on('close', () => swallowed || conn.destroy()).on('error', () => {})
    return conn
  }

  /** One direction of a connection: a queue of chunks and the pump that writes them to `to`. */
  function pipe(conn, direction, to) {
    const queue = [] // { data, at }: `at` is when the chunk may leave (delay)
    let pumping = false
    let passed = 0 // bytes written this way since the connection opened
    let armedBy = null // the cut rule last seen, and `passed` when it was first seen
    let mark = 0

    // Bytes that may still pass before the cut rule fires, counted from when the rule was set
    // (or from the connection's start, for a connection opened after).
    const room = () => {
      if (!cutRule || cutRule.direction !== direction) return Infinity
      if (armedBy !== cutRule) {
        armedBy = cutRule
        mark = passed
      }
      return cutRule.bytes - (passed - mark)
    }
    const write = (data) =>
      new Promise((resolve) => {
        passed += data.length
        if (to.destroyed) return resolve()
        stats.writes[direction]++
        stats.bytes[direction] += data.length
        if (to.write(data)) resolve()
        else to.once('drain', resolve).once('close', resolve) // backpressure from the reader
      })

    async function pump() {
      if (pumping) return
      pumping = true
      try {
        while (queue.length && !conn.dead) {
          if (conn.stalled) {
            await conn.stalled.promise
            continue
          }
          const wait = queue[0].at - Date.now()
          if (wait > 0) {
            await sleep(wait)
            continue // a stall or a cut may have come meanwhile
          }
          let data = queue.shift().data
          while (data.length && !conn.dead && !conn.stalled) {
            const left = room()
            if (left <= 0) return conn.cut(cutRule.how)
            const n = Math.min(data.length, left, settings.split ? 1 : data.length)
            await write(data.subarray(0, n))
            data = data.subarray(n)
            if (settings.split) await turn()
          }
          if (data.length && !conn.dead) queue.unshift({ data, at: 0 }) // stalled mid-chunk
          if (!conn.dead && room() <= 0) return conn.cut(cutRule.how)
        }
      } finally {
        pumping = false
      }
    }

    return {
      push(data) {
        if (conn.dead || data.length === 0) return
        queue.push({ data, at: Date.now() + settings.delay })
        pump()
      },
      pump,
      get passed() {
        return passed
      },
    }
  }

  const server = net.createServer((socket) => {
    stats.connections++
    if (settings.refuse) {
      stats.refused++
      socket.on('error', () => {})
      if (settings.refuse === 'rst') return socket.resetAndDestroy()
      // A FIN, not the RST that closing with unread input (the driver's first message) sends.
      socket.on('data', () => {})
      socket.end()
      return
    }
    if (settings.blackhole) {
      stats.blackholed++
      return hold(socket)
    }
    open(socket)
  })
  await new Promise((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', resolve))
  const listenPort = server.address().port

  const everyConn = (fn) => {
    for (const c of [...conns]) fn(c)
  }

  const proxy = {
    host: '127.0.0.1',
    port: listenPort,
    stats,
    /** `baseUrl` with its host and port replaced by the proxy's. */
    url(baseUrl) {
      const u = new URL(baseUrl)
      u.hostname = '127.0.0.1'
      u.port = String(listenPort)
      return u.toString()
    },
    /** Connections accepted so far (refused and blackholed ones included). */
    get connections() {
      return stats.connections
    },
    /** Proxied connections open now. */
    get open() {
      return conns.size
    },
    /** Blackholed or swallowed sockets still open (the driver has not given them up). */
    get held() {
      return held.size
    },
    /** Every chunk, both directions, existing and new connections, waits `ms` (order kept). */
    delay(ms) {
      settings.delay = ms
    },
    /** One byte per write with an event-loop turn between writes, both directions. */
    split(on = true) {
      settings.split = on
      everyConn((c) => {
        c.pipes.toServer.pump()
        c.pipes.toClient.pump()
      })
    },
    /**
     * Stops forwarding on the connections open now (their sockets stay open, data is kept
     * and sent on resume()). New connections are not stalled, so a CancelRequest still passes.
     */
    stall() {
      everyConn((c) => {
        if (c.stalled) return
        let resolve
        const promise = new Promise((r) => (resolve = r))
        c.stalled = { promise, resolve }
      })
    },
    resume() {
      everyConn((c) => {
        c.unstall()
        c.pipes.toServer.pump()
        c.pipes.toClient.pump()
      })
    },
    /**
     * Cuts every connection (open now or later) once `bytes` more have passed `direction`
     * (counted from this call, or from a later connection's start). `how`: 'rst' resets the
     * driver's socket (ECONNRESET), 'fin' closes it cleanly mid-stream. null lifts the rule.
     */
    cutAfter(rule) {
      if (!rule) return void (cutRule = null)
      const { direction, bytes, how = 'rst' } = rule
      if (direction !== 'toServer' && direction !== 'toClient') throw new Error(`cutAfter: bad direction ${direction}`)
      cutRule = { direction, bytes, how }
      everyConn((c) => {
        c.pipes.toServer.pump()
        c.pipes.toClient.pump()
      })
    },
    /** Cuts every connection open now. */
    cutNow(how = 'rst') {
      everyConn((c) => c.cut(how))
    },
    /** New connections are closed at once: true or 'fin' with a FIN, 'rst' with a reset. */
    refuse(on = true) {
      settings.refuse = on === true ? 'fin' : on
    },
    /** New connections are accepted and then never forwarded nor answered. */
    blackhole(on = true) {
      settings.blackhole = on
    },
    /** New connections that are a CancelRequest are accepted and never forwarded. */
    swallowCancel(on = true) {
      settings.swallowCancel = on
    },
    /** Lifts every fault (open connections resume; held sockets stay held). */
    heal() {
      Object.assign(settings, { delay: 0, split: false, refuse: false, blackhole: false, swallowCancel: false })
      cutRule = null
      proxy.resume()
    },
    /** Destroys every socket and stops listening. */
    async close() {
      everyConn((c) => c.destroy())
      for (const s of held) s.destroy()
      await new Promise((r) => server.close(r))
    },
  }
  return proxy
}

module.exports = { faultProxy }
