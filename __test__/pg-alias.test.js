'use strict'
// A whole dependency tree on ferropg: `pg` installed as the ferropg-pg package (packages/pg,
// what `"pg": "npm:ferropg-pg@..."` with `overrides` gives) in an empty project, with
// drizzle-kit (its own CLI: generate, migrate, push) and pg-cursor, which require 'pg' and
// pg's internals themselves. Both packages (and ferropg's binary package) are packed here; the
// others come from npm's cache.
const test = require('node:test')
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { url, unique, pool: makePool } = require('./helpers')
const { packPlatformPackage } = require('./platform-package')

const root = path.join(__dirname, '..')
const version = (name) => JSON.parse(fs.readFileSync(path.join(root, 'node_modules', name, 'package.json'), 'utf8')).version
const schema = unique('kit')
let dir, app

function pack(from) {
  const out = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: from, encoding: 'utf8' })
  return path.join(dir, out.trim().split('\n').pop())
}

const run = (args) => execFileSync(path.join(app, 'node_modules', '.bin', args[0]), args.slice(1), {
  cwd: app, encoding: 'utf8', stdio: 'pipe', env: { ...process.env, DATABASE_URL: url },
})

const SCHEMA = (extra) => `
const { pgSchema, serial, text, integer, jsonb, timestamp } = require('drizzle-orm/pg-core')
const s = exports.kit = pgSchema(${JSON.stringify(schema)})
exports.person = s.table('person', { id: serial('id').primaryKey(), name: text('name').notNull().unique(), at: timestamp('at', { withTimezone: true }).defaultNow() })
exports.pet = s.table('pet', { id: serial('id').primaryKey(), ownerId: integer('owner_id').notNull().references(() => exports.person.id), tags: jsonb('tags')${extra} })
`

test.before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-alias-'))
  const ferropg = pack(root)
  const alias = pack(path.join(root, 'packages', 'pg'))
  const binary = packPlatformPackage(dir) // the main package carries no binary
  app = path.join(dir, 'app')
  fs.mkdirSync(app)
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({
    name: 'app', version: '1.0.0', private: true,
    dependencies: {
      ferropg: `file:${ferropg}`,
      [binary.name]: `file:${binary.tgz}`,
      pg: `file:${alias}`,
      'pg-cursor': version('pg-cursor'),
      'drizzle-orm': version('drizzle-orm'),
      'drizzle-kit': version('drizzle-kit'),
    },
    // Every `pg` in the tree, and ferropg-pg's own dependency, resolve to these.
    overrides: { pg: '$pg', ferropg: '$ferropg' },
  }))
  execFileSync('npm', ['install', '--silent', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: app, stdio: 'pipe' })
  fs.writeFileSync(path.join(app, 'schema.js'), SCHEMA(''))
  fs.writeFileSync(path.join(app, 'drizzle.config.js'), `module.exports = ${JSON.stringify({
    dialect: 'postgresql', schema: './schema.js', out: './drizzle', schemaFilter: [schema], migrations: { schema: `${schema}_m` },
  })}; module.exports.dbCredentials = { url: process.env.DATABASE_URL }\n`)
})

test.after(async () => {
  const p = makePool()
  try {
    await p.simpleQuery(`DROP SCHEMA IF EXISTS "${schema}" CASCADE; DROP SCHEMA IF EXISTS "${schema}_m" CASCADE`)
  } finally {
    await p.close()
    if (dir) fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('the only pg in the tree is ferropg\'s', () => {
  const found = []
  const walk = (d) => {
    for (const name of fs.readdirSync(d)) {
      const p = path.join(d, name)
      if (name === 'pg' && path.basename(d) !== '@types') found.push(JSON.parse(fs.readFileSync(path.join(p, 'package.json'), 'utf8')).name)
      if (name.startsWith('@') || name === 'node_modules') walk(p)
      else if (fs.existsSync(path.join(p, 'node_modules'))) walk(path.join(p, 'node_modules'))
    }
  }
  walk(path.join(app, 'node_modules'))
  assert.deepEqual(found, ['ferropg-pg'])
  const out = execFileSync(process.execPath, ['-e', "const pg = require('pg'); console.log(pg.Client === require('ferropg/pg').Client)"], { cwd: app, encoding: 'utf8' })
  assert.equal(out.trim(), 'true')
})

test('drizzle-kit generate, migrate and push run through the alias', async () => {
  run(['drizzle-kit', 'generate'])
  const files = fs.readdirSync(path.join(app, 'drizzle')).filter((f) => f.endsWith('.sql'))
  assert.equal(files.length, 1)
  assert.match(run(['drizzle-kit', 'migrate']), /Using 'pg' driver/)
  const p = makePool()
  try {
    const tables = await p.query('SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1', [schema])
    assert.deepEqual(tables.rows.map((r) => r.table_name), ['person', 'pet'])
    const applied = await p.query(`SELECT count(*)::int AS n FROM "${schema}_m".__drizzle_migrations`)
    assert.equal(applied.rows[0].n, 1)
    // push compares the schema file with what it reads from the server: nothing, then a column.
    assert.match(run(['drizzle-kit', 'push', '--force']), /No changes detected/)
    fs.writeFileSync(path.join(app, 'schema.js'), SCHEMA(", nick: text('nick'), age: integer('age').default(3)"))
    assert.match(run(['drizzle-kit', 'push', '--force']), /Changes applied/)
    const cols = await p.query("SELECT column_name, column_default FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'pet' ORDER BY ordinal_position", [schema])
    assert.deepEqual(cols.rows.map((r) => r.column_name), ['id', 'owner_id', 'tags', 'nick', 'age'])
    assert.equal(cols.rows[4].column_default, '3')
  } finally {
    await p.close()
  }
})

test('pg-cursor (pg\'s own package, requiring pg\'s internals) reads through the alias', () => {
  const out = execFileSync(process.execPath, ['-e', `
    const Cursor = require('pg-cursor')
    const pg = require('pg')
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL })
    ;(async () => {
      const c = await pool.connect()
      const cursor = c.query(new Cursor('SELECT g FROM generate_series(1, $1::int) g', [5]))
      const first = await cursor.read(3)
      const rest = await cursor.read(10)
      await cursor.close()
      c.release()
      await pool.end()
      console.log(JSON.stringify([first, rest]))
    })()`], { cwd: app, encoding: 'utf8', env: { ...process.env, DATABASE_URL: url } })
  assert.deepEqual(JSON.parse(out), [[{ g: 1 }, { g: 2 }, { g: 3 }], [{ g: 4 }, { g: 5 }]])
})
