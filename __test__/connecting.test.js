'use strict'
// Where the password and the server come from, as libpq: the password file, the service file,
// a password function, host lists tried in order with connect_timeout per host, random order,
// and the TCP settings of the sockets (keepalive probes, seen with `ss`).
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const net = require('node:net')
const os = require('node:os')
const path = require('node:path')
const { Client, Pool } = require('..')
const { url } = require('./helpers')

const u = new URL(url)
const base = { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1) }
const noPassword = { ...base, password: undefined }

function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-connecting-'))
}

/** Runs `fn` with environment variables set (and removed afterwards). */
async function withEnv(vars, fn) {
  const saved = {}
  for (const k of Object.keys(vars)) {
    saved[k] = process.env[k]
    if (vars[k] === undefined) delete process.env[k]
    else process.env[k] = vars[k]
  }
  try {
    return await fn()
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k]
      else process.env[k] = v
    }
  }
}

async function currentUser(config) {
  const c = await Client.connect(config)
  try {
    return (await c.query('SELECT current_user AS u')).rows[0].u
  } finally {
    await c.close()
  }
}

/** A loopback port nothing listens on. */
async function closedPort() {
  const s = net.createServer()
  await new Promise((r) => s.listen(0, '127.0.0.1', r))
  const { port } = s.address()
  await new Promise((r) => s.close(r))
  return port
}

test('the password file: first matching line, wildcards and escapes; ignored when others can read it', async () => {
  const dir = tempDir()
  const file = path.join(dir, 'pgpass')
  const esc = (s) => s.replace(/\\/g, '\\\\').replace(/:/g, '\\:')
  fs.writeFileSync(file, [
    '# comment',
    `otherhost:${base.port}:*:*:wrong`,
    `${base.host}:${base.port}:${base.database}:nobody:wrong`,
    `${base.host}:*:*:${esc(base.user)}:${esc(base.password)}`,
    '*:*:*:*:also-wrong',
    '',
  ].join('\n'), { mode: 0o600 })
  try {
    assert.equal(await currentUser({ ...noPassword, passfile: file }), base.user)
    // PGPASSFILE, and PGPASSWORD ranks above the file.
    await withEnv({ PGPASSFILE: file, PGPASSWORD: undefined }, async () => {
      assert.equal(await currentUser(noPassword), base.user)
    })
    await withEnv({ PGPASSFILE: file, PGPASSWORD: 'wrong' }, async () => {
      await assert.rejects(Client.connect(noPassword), { code: '28P01' })
    })
    // A file that group or others can read is ignored, and the error says so.
    fs.chmodSync(file, 0o644)
    await assert.rejects(Client.connect({ ...noPassword, passfile: file }), (e) => {
      assert.match(e.message, /asked for a password and none was given/)
      assert.match(e.message, /group or world access/)
      return true
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('the service file: PGSERVICEFILE, then PGSYSCONFDIR; the string and explicit keys win', async () => {
  const dir = tempDir()
  const userFile = path.join(dir, 'user.conf')
  fs.writeFileSync(userFile, `[app]\nhost=${base.host}\nport=${base.port}\nuser=${base.user}\ndbname=${base.database}\napplication_name=from-service\n`)
  fs.writeFileSync(path.join(dir, 'pg_service.conf'), `[sys]\nhost=${base.host}\nport=${base.port}\nuser=${base.user}\ndbname=${base.database}\n[app]\nport=1\n`)
  try {
    await withEnv({ PGSERVICEFILE: userFile, PGSYSCONFDIR: dir, PGPASSWORD: base.password }, async () => {
      const app = async (config) => {
        const c = await Client.connect(config)
        try {
          return (await c.query("SELECT current_setting('application_name') AS a")).rows[0].a
        } finally {
          await c.close()
        }
      }
      assert.equal(await app('service=app'), 'from-service')
      assert.equal(await app('service=app application_name=from-string'), 'from-string')
      assert.equal(await app({ connectionString: 'service=app', applicationName: 'explicit' }), 'explicit')
      assert.equal(await currentUser('service=sys'), base.user)
      await withEnv({ PGSERVICE: 'app' }, async () => assert.equal(await app({}), 'from-service'))
      await assert.rejects(Client.connect('service=none'), /definition of service "none" not found/)
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a password function is told the host, port, user and database of each new connection', async () => {
  const seen = []
  const pool = new Pool({
    ...base,
    max: 2,
    password: async (target) => {
      seen.push(target)
      return base.password
    },
  })
  try {
    await Promise.all([pool.query('SELECT pg_sleep(0.05)'), pool.query('SELECT pg_sleep(0.05)')])
  } finally {
    await pool.close()
  }
  assert.equal(seen.length, 2)
  for (const t of seen) assert.deepEqual(t, { host: base.host, port: base.port, user: base.user, database: base.database })
})

test('hosts are tried in order; connect_timeout bounds each one', async () => {
  const dead = await closedPort()
  // A listener that accepts and never answers.
  const held = []
  const blackhole = net.createServer((s) => held.push(s))
  await new Promise((r) => blackhole.listen(0, '127.0.0.1', r))
  const hole = blackhole.address().port
  try {
    const hosts = `host=127.0.0.1,127.0.0.1,${base.host} port=${dead},${hole},${base.port}`
    const kv = `${hosts} user=${base.user} dbname=${base.database} connect_timeout=1 sslmode=disable`
    const t0 = Date.now()
    assert.equal(await currentUser({ connectionString: kv, password: base.password }), base.user)
    const took = Date.now() - t0
    assert.ok(took >= 900, `the blackholed host was waited for (${took} ms)`)
    // The URL form with several host:port pairs.
    const multi = `postgres://${encodeURIComponent(base.user)}:${encodeURIComponent(base.password)}@127.0.0.1:${dead},${base.host}:${base.port}/${base.database}`
    assert.equal(await currentUser(multi), base.user)
    // Every host failing: the error names each.
    await assert.rejects(Client.connect({ connectionString: `host=127.0.0.1,127.0.0.1 port=${dead},${hole} connect_timeout=1 user=x sslmode=disable` }), (e) => {
      assert.equal(e.code, 'ERR_CONNECTION')
      assert.match(e.message, new RegExp(`timed out connecting to 127\\.0\\.0\\.1:${hole}`))
      assert.match(e.message, new RegExp(`earlier: 127\\.0\\.0\\.1:${dead}: error connecting`))
      return true
    })
    // hostaddr: the address dialled, host: the name (checked by TLS, matched in .pgpass).
    assert.equal(await currentUser({ connectionString: `host=db.invalid hostaddr=${base.host} port=${base.port} sslmode=disable`, user: base.user, password: base.password, database: base.database }), base.user)
  } finally {
    for (const s of held) s.destroy()
    blackhole.close()
  }
})

test('load_balance_hosts=random spreads new connections over the hosts', async () => {
  // Two entries for the same server, told apart by the port each connection came through.
  const proxies = []
  const hits = [0, 0]
  for (const i of [0, 1]) {
    const p = net.createServer((c) => {
      hits[i]++
      const up = net.connect(base.port, base.host)
      c.pipe(up).pipe(c)
      const end = () => { c.destroy(); up.destroy() }
      c.on('error', end).on('close', end)
      up.on('error', end).on('close', end)
    })
    await new Promise((r) => p.listen(0, '127.0.0.1', r))
    proxies.push(p)
  }
  try {
    const ports = proxies.map((p) => p.address().port).join(',')
    for (let i = 0; i < 24; i++) {
      await currentUser({ connectionString: `host=127.0.0.1,127.0.0.1 port=${ports} load_balance_hosts=random sslmode=disable`, user: base.user, password: base.password, database: base.database })
    }
    // 24 fair coin flips all landing on one side: about 1 in 8 million.
    assert.ok(hits[0] > 0 && hits[1] > 0, `both hosts used: ${hits}`)
    assert.equal(hits[0] + hits[1], 24)
  } finally {
    for (const p of proxies) p.close()
  }
})

test('TCP keepalive probes are on by default and follow keepalives_*', async () => {
  // `ss -to` shows each socket's keepalive timer (time to the next probe); the driver's
  // sockets are the ones to the server's port.
  const nextProbe = () => {
    const out = execFileSync('ss', ['-tnoH', 'state', 'established', `( dport = :${base.port} )`], { encoding: 'utf8' })
    const m = /timer:\(keepalive,([^,]+),/.exec(out)
    if (!m) return null
    const part = (unit) => Number((new RegExp(`([\\d.]+)${unit}`).exec(m[1]) || [0, 0])[1])
    return part('min') * 60 + part('sec') + part('ms') / 1000
  }
  const c = await Client.connect({ ...base, sslmode: 'disable' })
  try {
    const t = nextProbe()
    assert.ok(t !== null && t <= 15, `keepalive on, first probe within 15 s (${t})`)
  } finally {
    await c.close()
  }
  const off = await Client.connect({ ...base, sslmode: 'disable', keepalives: 0 })
  try {
    assert.equal(nextProbe(), null)
  } finally {
    await off.close()
  }
  const slow = await Client.connect({ ...base, sslmode: 'disable', keepalives_idle: 3600 })
  try {
    assert.ok(nextProbe() > 60, 'keepalives_idle=3600 puts the first probe an hour away')
  } finally {
    await slow.close()
  }
})
