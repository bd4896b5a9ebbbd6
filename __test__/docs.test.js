'use strict'
// The reference docs against the code: docs/api.md against index.d.ts (scripts/check-api-docs.mjs),
// docs/errors.md against every ERR_ code the source produces, docs/types.md against the overrides.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const read = (f) => fs.readFileSync(path.join(root, f), 'utf8')
const checker = import('../scripts/check-api-docs.mjs')

test('docs/api.md has a heading for every class, method and option of index.d.ts, and no stale one', async () => {
  const { check, surface } = await checker
  const dts = read('index.d.ts')
  assert.deepEqual(check(dts, read('docs/api.md')), [])
  const names = surface(dts).map((a) => a.key)
  for (const key of ['new Pool', 'Queryable.query', 'ClientConfig.sslmode', 'PoolConfig.max', 'Pipeline.sync', 'Client[Symbol.asyncDispose]']) {
    assert.ok(names.includes(key), `${key} is part of the checked surface`)
  }
})

test('the API docs check fails on drift in either direction', async () => {
  const { check } = await checker
  const dts = read('index.d.ts')
  const md = read('docs/api.md')
  // A new method, a new option, a new class: each needs a heading.
  const grown = dts
    .replace('  stats(): PoolStats', '  drain(): Promise<void>\n  stats(): PoolStats')
    .replace('  max?: number', '  max?: number\n  minIdle?: number')
    .concat('\nexport declare class Cursor { read(n: number): Promise<Row[]> }\n')
  assert.deepEqual(check(grown, md).sort(), [
    'index.d.ts class `Cursor` has no heading in docs/api.md',
    'index.d.ts method `Cursor.read` has no heading in docs/api.md',
    'index.d.ts method `Pool.drain` has no heading in docs/api.md',
    'index.d.ts option `PoolConfig.minIdle` has no heading in docs/api.md',
  ])
  // A removed method leaves a stale heading; a removed field is no longer required.
  const shrunk = dts.replace(/ {2}\/\*\* Cancels what[^\n]*\n {2}cancel\(\): Promise<void>\n/, '')
  assert.notEqual(shrunk, dts)
  assert.deepEqual(check(shrunk, md).map((p) => p.replace(/ \(line \d+\)/, '')), [
    'docs/api.md heading `Client.cancel` names nothing index.d.ts exports',
  ])
  // A field must be named in its owner's section.
  const undocumented = md.replace('`{ channel, payload, processId }`', '`{ channel, payload }`')
  assert.deepEqual(check(dts, undocumented), ['index.d.ts field `Notification.processId` is not named in the section of `Notification` in docs/api.md'])
})

/** Every ERR_ code in the shipped source: lib/, src/ (Rust), the entry points and the loader. */
function sourceCodes() {
  const files = ['index.js', 'binding.js']
  for (const dir of ['lib', 'src']) {
    for (const f of fs.readdirSync(path.join(root, dir), { recursive: true })) {
      if (/\.(js|rs)$/.test(f) && !/_test\.rs$|\/tests\//.test(f)) files.push(path.join(dir, f))
    }
  }
  const codes = new Map()
  for (const f of files) {
    for (const m of read(f).matchAll(/['"`](ERR_[A-Z0-9_]+)['"`]/g)) if (!codes.has(m[1])) codes.set(m[1], f)
  }
  return codes
}

test('docs/errors.md explains every error code the source produces, and only those', () => {
  const doc = read('docs/errors.md')
  const documented = new Set([...doc.matchAll(/^## `(ERR_[A-Z0-9_]+)`$/gm)].map((m) => m[1]))
  const codes = sourceCodes()
  assert.ok(codes.size > 20, `found ${codes.size} codes in the source`)
  for (const [code, file] of codes) assert.ok(documented.has(code), `${code} (${file}) has no heading in docs/errors.md`)
  for (const code of documented) assert.ok(codes.has(code), `docs/errors.md documents ${code}, which the source no longer produces`)
  const dts = read('index.d.ts')
  const union = dts.slice(dts.indexOf('export type DriverErrorCode'), dts.indexOf('export declare class FerroError'))
  for (const m of union.matchAll(/'(ERR_[A-Z_]+)'/g)) assert.ok(documented.has(m[1]), `DriverErrorCode ${m[1]} is in docs/errors.md`)
  // Each entry says when it happens and what to do.
  for (const section of doc.split(/^## /m).slice(1)) {
    assert.match(section, /\*\*When:\*\*/, section.split('\n')[0])
    assert.match(section, /\*\*What to do:\*\*/, section.split('\n')[0])
  }
})

test('docs/types.md covers every type override and its values', () => {
  const doc = read('docs/types.md')
  const dts = read('index.d.ts')
  const block = dts.slice(dts.indexOf('export interface TypeOverrides'), dts.indexOf('\n}\n', dts.indexOf('export interface TypeOverrides')))
  const overrides = [...block.matchAll(/^ {2}(\w+)\?: (.*)$/gm)]
  assert.ok(overrides.length >= 5)
  for (const [, key, values] of overrides) {
    const row = doc.split('\n').find((l) => l.startsWith('| `types.' + key + '` |'))
    assert.ok(row, `types.md has a row for the override ${key}`)
    const listed = row.split('|')[2].match(/'[a-z]+'/g)
    assert.deepEqual([...listed].sort(), values.match(/'[a-z]+'/g).sort(), `the values of ${key}`)
  }
  for (const t of ['int8', 'numeric', 'timestamptz', 'jsonb', 'bytea', 'uuid', 'interval', 'date']) assert.match(doc, new RegExp('^\\|[^|]*`' + t + '`', 'm'), `${t} has a row`)
})

test('the links between the reference docs lead to headings that exist', () => {
  // GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens.
  const slug = (h) => h.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')
  const anchors = (f) => new Set([...read(f).matchAll(/^#{1,6} (.*)$/gm)].map((m) => slug(m[1])))
  let links = 0
  for (const f of ['docs/api.md', 'docs/errors.md', 'docs/types.md', 'docs/platforms.md']) {
    for (const [, target, anchor] of read(f).matchAll(/\]\(([\w.-]*)(?:#([\w-]+))?\)/g)) {
      const file = target ? path.join(path.dirname(f), target) : f
      assert.ok(fs.existsSync(path.join(root, file)), `${f} links to ${file}, which exists`)
      if (anchor) assert.ok(anchors(file).has(anchor), `${f} links to ${file}#${anchor}, a heading there`)
      links++
    }
  }
  assert.ok(links > 20, `${links} links checked`)
})
