'use strict'
// TLS against a real PostgreSQL started here for the purpose: TLS-only over TCP (pg_hba.conf
// rejects plain TCP), a server certificate for `localhost` only, signed by a CA made for this
// run. Every sslmode, the refusals (name mismatch, untrusted CA, expired, revoked, no TLS),
// client certificates (`cert` authentication), channel binding, require_auth, node-postgres's
// `ssl` object, ~/.postgresql defaults, and CancelRequests over TLS, on both transports.
const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const net = require('node:net')
const tls = require('node:tls')
const os = require('node:os')
const path = require('node:path')
const { Client, Pool } = require('..')
const { makeCertificates } = require('./tls-fixtures')

let certs
let cluster

const HBA = [
  'local all all trust',
  'hostnossl all all 127.0.0.1/32 reject',
  'hostssl all certuser 127.0.0.1/32 cert',
  'hostssl all md5user 127.0.0.1/32 md5',
  'hostssl all all 127.0.0.1/32 scram-sha-256',
  '',
].join('\n')

before(async () => {
  certs = makeCertificates()
  const { startCluster } = await import('../scripts/cluster.mjs')
  const files = {}
  for (const f of ['server.crt', 'server.key', 'expired.crt', 'expired.key', 'ca.crt']) files[f] = certs.read(f)
  cluster = await startCluster({
    quiet: true,
    authHost: 'scram-sha-256',
    files,
    hba: HBA,
    conf: { ssl: 'on', ssl_cert_file: 'server.crt', ssl_key_file: 'server.key', ssl_ca_file: 'ca.crt' },
  })
  const admin = await Client.connect({ host: cluster.sock, port: cluster.port, user: 'postgres', database: 'postgres' })
  try {
    await admin.query('CREATE ROLE certuser LOGIN')
    await admin.query("SET password_encryption = 'md5'")
    await admin.query("CREATE ROLE md5user LOGIN PASSWORD 'md5-secret'")
  } finally {
    await admin.close()
  }
})

after(async () => {
  await cluster?.stop()
  certs?.remove()
})

/** Settings for the TLS cluster over TCP as `postgres` (SCRAM), plus `extra`. */
function cfg(extra = {}) {
  return { host: 'localhost', port: cluster.port, user: 'postgres', password: cluster.password, database: 'postgres', ...extra }
}

/** Whether the session runs over TLS, as the server reports it. */
async function sslInUse(client) {
  const r = await client.query('SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()')
  return r.rows[0]
}

async function connected(config, check) {
  const c = await Client.connect(config)
  try {
    return await (check ? check(c) : sslInUse(c))
  } finally {
    await c.close()
  }
}

async function refused(config, code, pattern) {
  await assert.rejects(Client.connect(config), (e) => {
    assert.equal(e.code, code, `${e.code}: ${e.message}`)
    assert.match(e.message, pattern)
    assert.ok(!e.message.includes(cluster.password), 'the password must not appear in the error')
    return true
  })
}

for (const transport of ['loop', 'runtime']) {
  test(`every sslmode with libpq's meaning (${transport})`, async () => {
    const t = { transport }
    // disable: plain TCP, which this server rejects in pg_hba.conf.
    await refused(cfg({ ...t, sslmode: 'disable' }), '28000', /no encryption/)
    // allow: plain first; the server refuses it, so TLS.
    assert.equal((await connected(cfg({ ...t, sslmode: 'allow' }))).ssl, true)
    // prefer (the default): TLS when the server offers it.
    assert.equal((await connected(cfg(t))).ssl, true)
    assert.equal((await connected(cfg({ ...t, sslmode: 'prefer' }))).ssl, true)
    // prefer with a wrong password: TLS is refused, then plain TCP too (pg_hba.conf); the error
    // reported is the one that explains (the password), not the plain attempt's.
    await refused(cfg({ ...t, password: 'wrong' }), '28P01', /password authentication failed/)
    // require: encrypted, nothing checked (no root certificate given, none in ~/.postgresql).
    const home = process.env.HOME
    process.env.HOME = os.tmpdir()
    try {
      assert.equal((await connected(cfg({ ...t, sslmode: 'require', host: '127.0.0.1' }))).ssl, true)
    } finally {
      process.env.HOME = home
    }
    // verify-ca: the chain is checked, the name is not (127.0.0.1 is not in the certificate).
    const ca = certs.file('ca.crt')
    assert.equal((await connected(cfg({ ...t, sslmode: 'verify-ca', sslrootcert: ca, host: '127.0.0.1' }))).ssl, true)
    // verify-full: the chain and the name.
    const full = await connected(cfg({ ...t, sslmode: 'verify-full', sslrootcert: ca }))
    assert.equal(full.ssl, true)
    assert.match(full.version, /^TLSv1\.[23]$/)
    await refused(cfg({ ...t, sslmode: 'verify-full', sslrootcert: ca, host: '127.0.0.1' }), 'ERR_TLS', /does not match the host name "127\.0\.0\.1"/)
    // An untrusted CA fails verify-ca, and require too once a root certificate is given
    // (libpq: require with a root certificate behaves as verify-ca).
    const other = certs.file('other-ca.crt')
    await refused(cfg({ ...t, sslmode: 'verify-ca', sslrootcert: other }), 'ERR_TLS', /not trusted.*other-ca\.crt/)
    await refused(cfg({ ...t, sslmode: 'require', sslrootcert: other }), 'ERR_TLS', /not trusted/)
    // verify-* without any root certificate is refused before connecting, with libpq's advice.
    await refused(cfg({ ...t, sslmode: 'verify-full', sslrootcert: path.join(certs.dir, 'missing.crt') }), 'ERR_TLS', /does not exist.*sslrootcert=system/)
  })
}

test('the same settings from a connection string and from PG* variables', async () => {
  const url = `postgres://postgres:${encodeURIComponent(cluster.password)}@localhost:${cluster.port}/postgres?sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.file('ca.crt'))}`
  assert.equal((await connected(url)).ssl, true)
  const saved = { ...process.env }
  try {
    process.env.PGSSLMODE = 'verify-full'
    process.env.PGSSLROOTCERT = certs.file('other-ca.crt')
    await refused(cfg(), 'ERR_TLS', /not trusted/)
    process.env.PGSSLROOTCERT = certs.file('ca.crt')
    assert.equal((await connected(cfg())).ssl, true)
    process.env.PGSSLMODE = 'bogus'
    await refused(cfg(), 'ERR_INVALID_CONFIG', /'PGSSLMODE' must be one of disable, allow, prefer, require, verify-ca, verify-full/)
  } finally {
    for (const k of ['PGSSLMODE', 'PGSSLROOTCERT']) {
      if (saved[k] === undefined) delete process.env[k]
      else process.env[k] = saved[k]
    }
  }
})

test('an expired server certificate and a revoked one are refused', async () => {
  const ca = certs.file('ca.crt')
  // The revocation list names the server's certificate.
  await refused(cfg({ sslmode: 'verify-full', sslrootcert: ca, sslcrl: certs.file('revoked.crl') }), 'ERR_TLS', /revoked/)
  // Switch the server to the expired certificate (new connections use it after a reload).
  const admin = await Client.connect({ host: cluster.sock, port: cluster.port, user: 'postgres', database: 'postgres' })
  try {
    await admin.query("ALTER SYSTEM SET ssl_cert_file = 'expired.crt'")
    await admin.query("ALTER SYSTEM SET ssl_key_file = 'expired.key'")
    await admin.query('SELECT pg_reload_conf()')
    await new Promise((r) => setTimeout(r, 300))
    await refused(cfg({ sslmode: 'verify-full', sslrootcert: ca }), 'ERR_TLS', /expired/)
    // require checks nothing: an expired certificate still encrypts.
    const home = process.env.HOME
    process.env.HOME = os.tmpdir()
    try {
      assert.equal((await connected(cfg({ sslmode: 'require' }))).ssl, true)
    } finally {
      process.env.HOME = home
    }
  } finally {
    await admin.query('ALTER SYSTEM RESET ssl_cert_file')
    await admin.query('ALTER SYSTEM RESET ssl_key_file')
    await admin.query('SELECT pg_reload_conf()')
    await admin.close()
    await new Promise((r) => setTimeout(r, 300))
  }
  assert.equal((await connected(cfg({ sslmode: 'verify-full', sslrootcert: ca }))).ssl, true)
})

test('a server that does not speak TLS: require refuses, prefer goes on without', async () => {
  // A listener that answers the SSLRequest with 'N' and records what it was sent.
  const seen = []
  const server = net.createServer((s) => {
    s.once('data', (d) => {
      seen.push(d.readInt32BE(4))
      s.write('N')
      setTimeout(() => s.destroy(), 50)
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const port = server.address().port
  try {
    await assert.rejects(Client.connect(cfg({ host: '127.0.0.1', port, sslmode: 'require' })), (e) => {
      assert.equal(e.code, 'ERR_TLS')
      assert.match(e.message, /does not support TLS, which sslmode=require requires/)
      return true
    })
    assert.deepEqual(seen, [80877103], 'the driver sent an SSLRequest first')
  } finally {
    server.close()
  }
})

test('client certificates: cert authentication, key permissions, ~/.postgresql defaults', async () => {
  const t = cfg({ user: 'certuser', password: undefined, sslmode: 'verify-full', sslrootcert: certs.file('ca.crt') })
  // Without a certificate the server refuses the role.
  const home = process.env.HOME
  process.env.HOME = os.tmpdir()
  try {
    await refused(t, '28000', /certificate/)
  } finally {
    process.env.HOME = home
  }
  const withCert = { ...t, sslcert: certs.file('client.crt'), sslkey: certs.file('client.key') }
  assert.equal(await connected(withCert, async (c) => (await c.query('SELECT current_user AS u')).rows[0].u), 'certuser')
  // A key others can read is refused, as libpq does, before connecting.
  const loose = path.join(certs.dir, 'loose.key')
  fs.copyFileSync(certs.file('client.key'), loose)
  fs.chmodSync(loose, 0o644)
  await refused({ ...withCert, sslkey: loose }, 'ERR_TLS', /group or world access.*0600/)
  // A certificate without its key.
  await refused({ ...withCert, sslkey: path.join(certs.dir, 'none.key') }, 'ERR_TLS', /not private key file/)
  // libpq's defaults: ~/.postgresql/root.crt, postgresql.crt and postgresql.key.
  const fakeHome = fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-home-'))
  const dot = path.join(fakeHome, '.postgresql')
  fs.mkdirSync(dot)
  fs.copyFileSync(certs.file('ca.crt'), path.join(dot, 'root.crt'))
  fs.copyFileSync(certs.file('client.crt'), path.join(dot, 'postgresql.crt'))
  fs.copyFileSync(certs.file('client.key'), path.join(dot, 'postgresql.key'))
  fs.chmodSync(path.join(dot, 'postgresql.key'), 0o600)
  process.env.HOME = fakeHome
  try {
    const u = await connected({ ...t, sslrootcert: undefined }, async (c) => (await c.query('SELECT current_user AS u')).rows[0].u)
    assert.equal(u, 'certuser')
    // require with ~/.postgresql/root.crt present checks the chain (libpq: as verify-ca).
    fs.copyFileSync(certs.file('other-ca.crt'), path.join(dot, 'root.crt'))
    await refused(cfg({ sslmode: 'require' }), 'ERR_TLS', /not trusted.*root\.crt/)
  } finally {
    process.env.HOME = home
    fs.rmSync(fakeHome, { recursive: true, force: true })
  }
})

test("node-postgres's ssl object: CA, client certificate and key as text or Buffers", async () => {
  const ssl = { ca: fs.readFileSync(certs.file('ca.crt')), cert: certs.read('client.crt'), key: fs.readFileSync(certs.file('client.key')) }
  const u = await connected({ ...cfg({ user: 'certuser', password: undefined }), ssl }, async (c) => (await c.query('SELECT current_user AS u')).rows[0].u)
  assert.equal(u, 'certuser')
  // rejectUnauthorized: false encrypts without checking anything (sslmode=require).
  assert.equal((await connected({ ...cfg({ host: '127.0.0.1' }), ssl: { rejectUnauthorized: false } })).ssl, true)
  // With a CA, the name is checked; a checkServerIdentity that accepts any name means verify-ca.
  await refused({ ...cfg({ host: '127.0.0.1' }), ssl: { ca: certs.read('ca.crt') } }, 'ERR_TLS', /does not match/)
  assert.equal((await connected({ ...cfg({ host: '127.0.0.1' }), ssl: { ca: certs.read('ca.crt'), checkServerIdentity: () => undefined } })).ssl, true)
  // servername: the name sent and checked instead of the host.
  assert.equal((await connected({ ...cfg({ host: '127.0.0.1' }), ssl: { ca: certs.read('ca.crt'), servername: 'localhost' } })).ssl, true)
  // ssl: true checks against the system's trust store, which does not hold this run's CA.
  await refused({ ...cfg(), ssl: true }, 'ERR_TLS', /not trusted.*system/)
  // Anything else in the object is refused by name rather than ignored.
  await assert.rejects(Client.connect({ ...cfg(), ssl: { ciphers: 'x' } }), /'ssl\.ciphers' is not supported/)
})

test('channel binding (SCRAM-SHA-256-PLUS) and require_auth', async () => {
  const ca = certs.file('ca.crt')
  const tls = cfg({ sslmode: 'verify-full', sslrootcert: ca })
  // require: SCRAM-SHA-256-PLUS over TLS, bound to the server's certificate.
  assert.equal((await connected({ ...tls, channel_binding: 'require' })).ssl, true)
  // require on a connection without TLS (the unix socket, trust): refused.
  await refused({ host: cluster.sock, port: cluster.port, user: 'postgres', database: 'postgres', channel_binding: 'require' }, 'ERR_CONNECTION', /channel binding/)
  // require when the server asks for an MD5 password: refused before the password is sent.
  await refused({ ...tls, user: 'md5user', password: 'md5-secret', channel_binding: 'require' }, 'ERR_CONNECTION', /channel binding/)
  assert.equal((await connected({ ...tls, user: 'md5user', password: 'md5-secret' })).ssl, true)
  // require with sslmode=disable cannot work: refused as a configuration error.
  await refused({ ...tls, sslmode: 'disable', channel_binding: 'require' }, 'ERR_INVALID_CONFIG', /channel_binding=require needs TLS/)
  // require_auth: the methods the server may use.
  assert.equal((await connected({ ...tls, require_auth: 'scram-sha-256' })).ssl, true)
  await refused({ ...tls, require_auth: 'md5' }, 'ERR_CONNECTION', /require_auth refused the connection: the server asked for SCRAM-SHA-256/)
  await refused({ ...tls, require_auth: '!scram-sha-256' }, 'ERR_CONNECTION', /require_auth/)
  await refused({ ...tls, user: 'md5user', password: 'md5-secret', require_auth: 'scram-sha-256,password' }, 'ERR_CONNECTION', /asked for an MD5 password/)
  await refused({ ...tls, user: 'certuser', password: undefined, sslcert: certs.file('client.crt'), sslkey: certs.file('client.key'), require_auth: 'scram-sha-256' }, 'ERR_CONNECTION', /without asking for credentials/)
  assert.equal((await connected({ ...tls, user: 'certuser', password: undefined, sslcert: certs.file('client.crt'), sslkey: certs.file('client.key'), require_auth: 'none' })).ssl, true)
  await assert.rejects(Client.connect({ ...tls, require_auth: 'md5,!password' }), /mixes required and negated/)
})

test('sslnegotiation=direct: TLS from the first byte (PostgreSQL 17+)', async () => {
  const major = Number(/\(PostgreSQL\) (\d+)/.exec(cluster.version)[1])
  const direct = cfg({ sslmode: 'verify-full', sslrootcert: certs.file('ca.crt'), sslnegotiation: 'direct' })
  if (major >= 17) {
    assert.equal((await connected(direct)).ssl, true)
  } else {
    // An older server reads the TLS ClientHello as a startup packet and closes the connection.
    await assert.rejects(Client.connect(direct), (e) => e.code === 'ERR_TLS' || e.code === 'ERR_CONNECTION')
  }
  await assert.rejects(Client.connect({ ...direct, sslmode: 'prefer' }), /sslnegotiation=direct' needs sslmode require/)
})

test('a CancelRequest goes over TLS too, and a pool runs over TLS on both transports', async () => {
  // A proxy that records the first request code of every connection through it.
  const first = []
  const server = net.createServer((c) => {
    const up = net.connect(cluster.port, '127.0.0.1')
    c.once('data', (d) => first.push(d.readInt32BE(4)))
    c.pipe(up).pipe(c)
    const end = () => { c.destroy(); up.destroy() }
    c.on('error', end).on('close', end)
    up.on('error', end).on('close', end)
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  try {
    const c = await Client.connect(cfg({ port: server.address().port, sslmode: 'verify-full', sslrootcert: certs.file('ca.crt') }))
    try {
      await assert.rejects(c.query('SELECT pg_sleep(30)', [], { timeoutMillis: 200 }), { code: 'ERR_QUERY_CANCELLED' })
      assert.equal((await c.query('SELECT 1 AS one')).rows[0].one, 1)
    } finally {
      await c.close()
    }
    // Two connections (the session and its CancelRequest), each opened with an SSLRequest.
    assert.deepEqual(first, [80877103, 80877103])
  } finally {
    server.close()
  }
  for (const transport of ['loop', 'runtime']) {
    const pool = new Pool({ ...cfg({ sslmode: 'verify-full', sslrootcert: certs.file('ca.crt'), transport }), max: 4 })
    try {
      const results = await Promise.all(Array.from({ length: 40 }, (_, i) => pool.query('SELECT $1::int AS i, ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()', [i])))
      results.forEach((r, i) => assert.deepEqual(r.rows[0], { i, ssl: true }))
      // A large result (which moves the loop transport's protocol task while it streams).
      const big = await pool.query('SELECT g, repeat($1, 100) AS pad FROM generate_series(1, 50000) g', ['x'])
      assert.equal(big.rows.length, 50000)
      assert.equal(big.rows[49999].g, 50000)
    } finally {
      await pool.close()
    }
  }
})

test('SNI (sslsni) and ALPN as a TLS server sees them', async () => {
  // A TLS server (Node's OpenSSL) that answers the SSLRequest, records the ClientHello's server
  // name and ALPN protocol, then closes: what the client sends is all this test looks at.
  const seen = []
  const server = net.createServer((raw) => {
    raw.once('data', () => {
      raw.write('S')
      const s = new tls.TLSSocket(raw, {
        isServer: true,
        cert: certs.read('server.crt'),
        key: certs.read('server.key'),
        ALPNProtocols: ['postgresql'],
        SNICallback: (name, cb) => cb(null, null),
      })
      s.on('secure', () => {
        seen.push({ sni: s.servername || null, alpn: s.alpnProtocol || null })
        s.destroy()
      })
      s.on('error', () => {})
    })
  })
  await new Promise((r) => server.listen(0, '127.0.0.1', r))
  const port = server.address().port
  const attempt = (extra) => Client.connect({ ...cfg({ port, sslmode: 'verify-full', sslrootcert: certs.file('ca.crt') }), ...extra }).then((c) => c.close(), () => {})
  try {
    await attempt({})
    await attempt({ sslsni: '0' })
    await attempt({ host: '127.0.0.1', sslmode: 'require', sslrootcert: undefined })
    assert.deepEqual(seen, [
      { sni: 'localhost', alpn: 'postgresql' },
      { sni: null, alpn: 'postgresql' },
      // An IP address is never sent as SNI.
      { sni: null, alpn: 'postgresql' },
    ])
  } finally {
    server.close()
  }
})
