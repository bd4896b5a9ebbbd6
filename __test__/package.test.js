'use strict'
// `npm pack` produces a package that, installed into an empty project, loads from CommonJS
// and ESM and runs a query.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

test('the packed package installs elsewhere and runs a query (require and import)', () => {
  const root = path.join(__dirname, '..')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-pack-'))
  try {
    const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root, encoding: 'utf8' })
    const tgz = path.join(dir, out.trim().split('\n').pop())
    const files = execFileSync('tar', ['tzf', tgz], { encoding: 'utf8' })
    assert.match(files, /package\/index\.d\.ts/)
    assert.match(files, /package\/.*\.node/)
    assert.doesNotMatch(files, /package\/src\//)
    const app = path.join(dir, 'app')
    fs.mkdirSync(app)
    fs.writeFileSync(path.join(app, 'package.json'), '{"name":"app","version":"1.0.0","private":true}')
    execFileSync('npm', ['install', '--silent', '--no-audit', '--no-fund', '--prefer-offline', tgz], { cwd: app, stdio: 'pipe' })
    const cjs = execFileSync(process.execPath, ['-e', `
      const { Pool } = require('ferropg')
      const p = new Pool(process.env.DATABASE_URL)
      p.query('SELECT $1::int4 + 1 AS n', [41]).then(r => { console.log(r.rows[0].n); return p.close() })`], { cwd: app, encoding: 'utf8' })
    assert.equal(cjs.trim(), '42')
    // The node-postgres interface (a subpath export, with its dependency installed).
    const pgApi = execFileSync(process.execPath, ['-e', `
      const pg = require('ferropg/pg')
      const p = new pg.Pool({ connectionString: process.env.DATABASE_URL })
      p.query('SELECT $1::int8 + 1 AS n', [41]).then(r => { console.log(typeof r.rows[0].n, r.rows[0].n); return p.end() })`], { cwd: app, encoding: 'utf8' })
    assert.equal(pgApi.trim(), 'string 42')
    fs.writeFileSync(path.join(app, 'm.mjs'), `
      import { Client, DatabaseError } from 'ferropg'
      const c = await Client.connect(process.env.DATABASE_URL)
      const e = await c.query('SELECT 1/0').catch((x) => x)
      console.log(e instanceof DatabaseError, e.code)
      await c.close()`)
    const esm = execFileSync(process.execPath, ['m.mjs'], { cwd: app, encoding: 'utf8' })
    assert.equal(esm.trim(), 'true 22012')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
