'use strict'
// No password, key or token in any error, its cause chain, its stack, or the inspect() output of
// the objects that hold them (issue 17, security checks). Each error path that sees a secret is
// driven with a distinctive one, which is then searched for everywhere the caller could print.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { inspect } = require('node:util')
const { Pool, Client } = require('..')
const pg = require('ferropg/pg')
const { url } = require('./helpers')

const u = new URL(url)
const secret = () => `Sekr1t-${Math.random().toString(36).slice(2)}-token`

// Every string a caller could log for `e`: message, stack, inspect (depth: all), the cause chain.
function printable(e) {
  const out = [inspect(e, { depth: Infinity, showHidden: true })]
  for (let x = e; x; x = x.cause) out.push(String(x.message), String(x.stack), JSON.stringify(x, Object.getOwnPropertyNames(x)))
  return out.join('\n')
}

function assertHidden(e, secrets, what) {
  assert.ok(e instanceof Error, `${what}: expected an error, got ${inspect(e)}`)
  const text = printable(e)
  for (const s of secrets) assert.ok(!text.includes(s), `${what}: the secret appears in:\n${text}`)
}

const fail = (p) => p.then((v) => assert.fail(`resolved: ${inspect(v)}`), (e) => e)

test('a wrong password: the error names the user, never the password', async () => {
  const pw = secret()
  const conn = { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), database: u.pathname.slice(1), password: pw }
  const e1 = await fail(Client.connect(conn))
  assert.equal(e1.code, '28P01')
  assertHidden(e1, [pw], 'Client.connect')
  const urlWith = `postgres://${u.username}:${encodeURIComponent(pw)}@${u.host}${u.pathname}`
  const p = new Pool(urlWith)
  const e2 = await fail(p.query('SELECT 1'))
  assertHidden(e2, [pw, encodeURIComponent(pw)], 'pool.query')
  assertHidden(new Error(inspect(p, { depth: Infinity, showHidden: true })), [pw], 'inspect(pool)')
  await p.close()
})

test('unreachable servers, timeouts and bad settings: the connection string\'s password stays out', async () => {
  const pw = secret()
  const cases = [
    [`postgres://u:${pw}@127.0.0.1:1/db`, {}],
    [`postgres://u:${pw}@127.0.0.1:1/db?connect_timeout=1`, {}],
    [`postgres://u:${pw}@127.0.0.1:notaport/db`, {}],
    [`postgres://u:${pw}@127.0.0.1:1/db?sslmode=verify-full&sslrootcert=/no/such/file`, {}],
    [`host=127.0.0.1 port=1 user=u password=${pw} sslmode=bogus`, {}],
    [`postgres://u@127.0.0.1:1/db`, { password: pw, max: -3 }],
  ]
  for (const [connectionString, extra] of cases) {
    let e
    try {
      const p = new Pool({ connectionString, ...extra })
      e = await fail(p.query('SELECT 1'))
      await p.close()
    } catch (thrown) {
      e = thrown
    }
    assertHidden(e, [pw], connectionString.replace(pw, '<pw>'))
    const c = await fail(Client.connect({ connectionString, ...extra }))
    assertHidden(c, [pw], `Client.connect ${connectionString.replace(pw, '<pw>')}`)
  }
})

test('a password function: what it returns or throws is not repeated', async () => {
  const token = secret()
  const e1 = await fail(Client.connect({ connectionString: url, password: () => { throw new Error(`could not sign ${token}`) } }))
  assert.equal(e1.code, 'ERR_PASSWORD_FUNCTION')
  // Its own error is kept as the cause (the caller wrote it); ferropg adds nothing of the token
  // to its own message.
  assert.ok(!e1.message.includes(token), e1.message)
  const e2 = await fail(Client.connect({ connectionString: url, password: async () => token }))
  assertHidden(e2, [token], 'a wrong token')
})

test('a client key: neither its text nor its passphrase appears in TLS errors', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-secret-'))
  try {
    const marker = secret()
    const key = path.join(dir, 'client.key')
    fs.writeFileSync(key, `-----BEGIN PRIVATE KEY-----\n${Buffer.from(marker).toString('base64')}\n-----END PRIVATE KEY-----\n`, { mode: 0o600 })
    const cert = path.join(dir, 'client.crt')
    fs.writeFileSync(cert, `-----BEGIN CERTIFICATE-----\n${Buffer.from(marker).toString('base64')}\n-----END CERTIFICATE-----\n`)
    const conn = { connectionString: url, sslmode: 'require', sslkey: key, sslcert: cert }
    const e = await fail(Client.connect(conn))
    assertHidden(e, [marker, Buffer.from(marker).toString('base64')], 'a bad client key')
    const keyText = fs.readFileSync(key, 'utf8')
    const e2 = await fail(Client.connect({ connectionString: url, ssl: { key: keyText, cert: fs.readFileSync(cert, 'utf8') }, sslmode: 'require' }))
    assertHidden(e2, [marker, Buffer.from(marker).toString('base64')], 'ssl.key as text')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('ferropg/pg: a client\'s and a pool\'s inspect() output and errors do not show the password', async () => {
  const pw = secret()
  const client = new pg.Client({ host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), database: u.pathname.slice(1), password: pw })
  const e = await fail(client.connect())
  assertHidden(e, [pw], 'pg Client.connect')
  const shown = inspect(client, { depth: 4 })
  assert.ok(!shown.includes(pw), shown)
  const key = secret()
  const pool = new pg.Pool({ connectionString: `postgres://${u.username}:${pw}@${u.host}${u.pathname}?password=${pw}`, ssl: { key }, password: pw })
  const e2 = await fail(pool.query('SELECT 1'))
  assertHidden(e2, [pw, key], 'pg Pool.query')
  const pooled = inspect(pool, { depth: 4 })
  for (const s of [pw, key]) assert.ok(!pooled.includes(s), pooled)
  assert.match(pooled, /\[hidden\]/)
  const withKey = new pg.Client({ connectionString: `host=${u.hostname} password=${pw}`, ssl: { key } })
  const shownKey = inspect(withKey, { depth: 4 })
  for (const s of [pw, key]) assert.ok(!shownKey.includes(s), shownKey)
  await pool.end()
})
