'use strict'
// A server that asks for an absurd SCRAM iteration count (issue 17: SCRAM iteration count
// capped). The count is the server's choice, made before it has proved anything, and the
// hashing runs on the thread that drives the connection (the JS thread on the loop transport).
// The cap is postgres-protocol's (0.6.12, pinned: at most 100,000, 24x PostgreSQL's default
// of 4096, as pgjdbc caps it); these tests hold it in place through every way ferropg
// connects. A fake server on loopback plays the server's side up to the client's proof.
const test = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const { Client, Pool } = require('..')

const msg = (type, body) => {
  const b = Buffer.alloc(5 + body.length)
  b.write(type, 0, 'latin1')
  b.writeInt32BE(body.length + 4, 1)
  body.copy(b, 5)
  return b
}
const auth = (code, data) => {
  const head = Buffer.alloc(4)
  head.writeInt32BE(code)
  return msg('R', Buffer.concat([head, data]))
}
const fatal = (code, text) => msg('E', Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${text}\0\0`))

/**
 * Asks for SCRAM-SHA-256, answers the client's first message with `iterations`, and records
 * what the client sent: whether it computed and sent a proof.
 */
async function scramServer(iterations) {
  const seen = { proof: null, initial: null }
  const server = net.createServer((s) => {
    let buf = Buffer.alloc(0)
    let started = false
    s.on('error', () => {})
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d])
      for (;;) {
        if (!started) {
          if (buf.length < 8 || buf.length < buf.readInt32BE(0)) return
          const code = buf.readInt32BE(4)
          buf = buf.subarray(buf.readInt32BE(0))
          if (code === 80877103) {
            s.write('N') // no TLS
            continue
          }
          started = true
          s.write(auth(10, Buffer.from('SCRAM-SHA-256\0\0')))
          continue
        }
        if (buf.length < 5 || buf.length < buf.readInt32BE(1) + 1) return
        const type = String.fromCharCode(buf[0])
        const body = buf.subarray(5, buf.readInt32BE(1) + 1)
        buf = buf.subarray(buf.readInt32BE(1) + 1)
        if (type !== 'p') continue
        if (seen.initial === null) {
          // SASLInitialResponse: mechanism, int32 length, "n,,n=,r=<client nonce>".
          const data = body.subarray(body.indexOf(0) + 5).toString()
          seen.initial = data
          const nonce = /r=([^,]+)/.exec(data)[1]
          const salt = Buffer.from('0123456789abcdef').toString('base64')
          s.write(auth(11, Buffer.from(`r=${nonce}server,s=${salt},i=${iterations}`)))
        } else {
          seen.proof = body.toString()
          s.end(fatal('28P01', 'password authentication failed for user "fake"'))
        }
      }
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const config = { host: '127.0.0.1', port: server.address().port, user: 'fake', database: 'fake', password: 'secret-pw', sslmode: 'disable' }
  return { seen, config, close: () => new Promise((r) => server.close(r)) }
}

/** Settles `p` or fails the test after `ms`. */
async function within(p, ms, what) {
  let timer
  const bound = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} had not settled after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p.then((v) => ({ ok: true, v }), (e) => ({ ok: false, e })), bound])
  } finally {
    clearTimeout(timer)
  }
}

for (const n of [2147483647, 100001]) test(`a SCRAM server asking for ${n} iterations is refused before any is computed`, async () => {
  const fake = await scramServer(n)
  try {
    for (const [what, connect] of [
      ['Client.connect (loop transport)', () => Client.connect(fake.config)],
      ['Client.connect (runtime transport)', () => Client.connect({ ...fake.config, transport: 'runtime' })],
      ['pool.query', async () => {
        const p = new Pool({ ...fake.config, max: 1 })
        try {
          return await p.query('SELECT 1')
        } finally {
          await p.close()
        }
      }],
    ]) {
      fake.seen.initial = null
      // Computing 2^31-1 of them would take minutes (~0.25 us each).
      const r = await within(connect(), 5000, what)
      assert.equal(r.ok, false, `${what} succeeded`)
      assert.equal(r.e.code, 'ERR_CONNECTION', `${what}: ${r.e.code} ${r.e.message}`)
      assert.match(r.e.message, /SCRAM iteration count exceeds the maximum allowed/)
      assert.doesNotMatch(r.e.message, /secret-pw/)
      assert.ok(fake.seen.initial, `${what}: the client never started SCRAM`)
      assert.equal(fake.seen.proof, null, `${what}: the client computed and sent a proof`)
    }
  } finally {
    await fake.close()
  }
})

test('a SCRAM server asking for 100,000 iterations or fewer gets a proof', async () => {
  for (const n of [4096, 100000]) {
    const fake = await scramServer(n)
    try {
      const r = await within(Client.connect(fake.config), 30000, `Client.connect (i=${n})`)
      assert.equal(r.ok, false)
      // The fake server cannot check the proof; it refuses it as a real one would a wrong one.
      assert.equal(r.e.code, '28P01', `${r.e.code}: ${r.e.message}`)
      assert.match(fake.seen.proof ?? '', /^c=biws,r=[^,]+server,p=[A-Za-z0-9+/=]+$/, `i=${n}: no proof was sent`)
    } finally {
      await fake.close()
    }
  }
})
