'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const { Client, Pool } = require('..')
const { url, connect, unique } = require('./helpers')

const u = new URL(url)
const base = { host: u.hostname, port: Number(u.port), user: decodeURIComponent(u.username), password: decodeURIComponent(u.password), database: u.pathname.slice(1) }

test('URL, key=value string and object config reach the same server', async () => {
  const kv = `host=${base.host} port=${base.port} user=${base.user} password='${base.password.replace(/'/g, "\\'")}' dbname=${base.database} application_name='kv app'`
  for (const cfg of [url, kv, base, { connectionString: url, applicationName: 'obj app' }]) {
    const c = await Client.connect(cfg)
    try {
      const r = await c.query('SELECT current_user AS u, current_database() AS d, current_setting($1) AS app', ['application_name'])
      assert.equal(r.rows[0].u, base.user)
      assert.equal(r.rows[0].d, base.database)
      if (cfg === kv) assert.equal(r.rows[0].app, 'kv app')
      if (cfg.applicationName) assert.equal(r.rows[0].app, 'obj app')
    } finally {
      await c.close()
    }
  }
})

test('libpq environment variables are the defaults', async () => {
  const saved = { ...process.env }
  try {
    Object.assign(process.env, {
      PGHOST: base.host, PGPORT: String(base.port), PGUSER: base.user, PGPASSWORD: base.password,
      PGDATABASE: base.database, PGAPPNAME: 'from-env', PGCONNECT_TIMEOUT: '5',
    })
    const c = await Client.connect()
    try {
      const r = await c.query("SELECT current_setting('application_name') AS app")
      assert.equal(r.rows[0].app, 'from-env')
    } finally {
      await c.close()
    }
    // Explicit settings win over the environment.
    const c2 = await Client.connect({ applicationName: 'explicit' })
    try {
      assert.equal((await c2.query("SELECT current_setting('application_name') AS a")).rows[0].a, 'explicit')
    } finally {
      await c2.close()
    }
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  }
})

test('unix-socket hosts', async () => {
  const dir = process.env.FERROPG_TEST_SOCKET_DIR
  assert.ok(dir, 'scripts/with-pg.mjs exports FERROPG_TEST_SOCKET_DIR')
  const c = await Client.connect({ ...base, host: dir })
  try {
    const r = await c.query('SELECT inet_server_addr() AS a')
    assert.equal(r.rows[0].a, null) // null over a unix socket
  } finally {
    await c.close()
  }
  const c2 = await Client.connect(`postgres://${base.user}@${encodeURIComponent(dir)}:${base.port}/${base.database}`)
  assert.equal((await c2.query('SELECT 1 AS x')).rows[0].x, 1)
  await c2.close()
})

test('SCRAM-SHA-256 and md5 passwords, as a string or an (async) function', async () => {
  const admin = await connect()
  const scram = unique('scram')
  const md5 = unique('md5')
  try {
    await admin.query(`SET password_encryption = 'scram-sha-256'`)
    await admin.query(`CREATE ROLE ${scram} LOGIN PASSWORD 'sc pw'`)
    await admin.query(`SET password_encryption = 'md5'`)
    await admin.query(`CREATE ROLE ${md5} LOGIN PASSWORD 'md5 pw'`)
    const stored = await admin.query('SELECT rolname, left(rolpassword, 5) AS p FROM pg_authid WHERE rolname = ANY($1) ORDER BY rolname', [[scram, md5]])
    assert.deepEqual(stored.rows.map((r) => r.p).sort(), ['SCRAM', 'md5' + stored.rows.find((r) => r.rolname === md5).p.slice(3)].sort())
    const who = async (cfg) => {
      const c = await Client.connect(cfg)
      try {
        return (await c.query('SELECT current_user AS u')).rows[0].u
      } finally {
        await c.close()
      }
    }
    assert.equal(await who({ ...base, user: scram, password: 'sc pw' }), scram)
    assert.equal(await who({ ...base, user: md5, password: 'md5 pw' }), md5)
    assert.equal(await who({ ...base, user: scram, password: () => 'sc pw' }), scram)
    let calls = 0
    assert.equal(await who({ ...base, user: md5, password: async () => { calls++; return 'md5 pw' } }), md5)
    assert.equal(calls, 1)
    const wrong = await Client.connect({ ...base, user: scram, password: 'not-it-secret' }).catch((e) => e)
    assert.equal(wrong.code, '28P01')
    assert.ok(!wrong.message.includes('not-it-secret'))
    const failing = await Client.connect({ ...base, user: scram, password: async () => { throw new Error('vault down') } }).catch((e) => e)
    assert.equal(failing.code, 'ERR_PASSWORD_FUNCTION')
    // Its own error is not repeated (it may carry a token): ferropg's errors hold no secret.
    assert.doesNotMatch(failing.message, /vault down/)
    // A pool calls the function for each new connection.
    let poolCalls = 0
    const p = new Pool({ ...base, user: md5, password: async () => { poolCalls++; return 'md5 pw' }, max: 2 })
    const [a, b] = await Promise.all([p.connect(), p.connect()])
    a.release()
    b.release()
    await p.close()
    assert.equal(poolCalls, 2)
  } finally {
    await admin.query(`DROP ROLE IF EXISTS ${scram}`)
    await admin.query(`DROP ROLE IF EXISTS ${md5}`)
    await admin.close()
  }
})

test('server settings at startup: options object and libpq options string', async () => {
  const c = await connect({ options: { statement_timeout: '1234', search_path: 'pg_catalog, public' } })
  try {
    const r = await c.query("SELECT current_setting('statement_timeout') AS st, current_setting('search_path') AS sp")
    assert.deepEqual(r.rows[0], { st: '1234ms', sp: 'pg_catalog, public' })
  } finally {
    await c.close()
  }
  const c2 = await Client.connect(`${url}?options=${encodeURIComponent('-c statement_timeout=50')}`)
  try {
    await assert.rejects(c2.query('SELECT pg_sleep(1)'), { code: '57014' })
  } finally {
    await c2.close()
  }
})

test('a bad configuration names the key and the problem, never the password', async () => {
  const cases = [
    [{ ...base, port: 70000 }, /'port'.*70000/],
    [{ ...base, bogus: 1 }, /'bogus'/],
    [`${url}&nope=1`.replace('&', url.includes('?') ? '&' : '?'), /'nope'/],
    [{ ...base, types: { int8: 'float' } }, /'types\.int8'.*'bigint'/],
    [{ ...base, max: 0 }, /'max'/],
    [{ ...base, statementCacheSize: -1 }, /'statementCacheSize'/],
    ['mysql://u:pw@h/db', /postgres:\/\//],
    [`host=x password=supersecret sslmode=sometimes`, /'sslmode'/],
    [{ ...base, password: 'supersecret', connectTimeoutMillis: 'soon' }, /'connectTimeoutMillis'/],
  ]
  for (const [cfg, re] of cases) {
    const e = await Client.connect(cfg).catch((x) => x)
    assert.equal(e.code, 'ERR_INVALID_CONFIG', String(re))
    assert.match(e.message, re)
    assert.ok(!e.message.includes('supersecret') && !e.message.includes(base.password))
    // The Pool constructor checks synchronously.
    if (typeof cfg === 'object') assert.throws(() => new Pool(cfg), (x) => x.code === 'ERR_INVALID_CONFIG' && re.test(x.message))
  }
  const refused = await Client.connect({ ...base, password: 'supersecret', host: '127.0.0.1', port: 1, connectTimeoutMillis: 2000 }).catch((x) => x)
  assert.equal(refused.code, 'ERR_CONNECTION')
  assert.ok(!refused.message.includes('supersecret'))
})
