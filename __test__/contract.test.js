'use strict'
// What the two sides of the boundary must agree on, checked from the sources: the buffer tags
// (src/core/wire.rs <-> lib/wire.js) and the driver error codes (lib/ <-> index.d.ts; the Rust
// side is checked by `cargo test`).
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const wire = require('../lib/wire')

const root = path.join(__dirname, '..')

test('every buffer tag in src/core/wire.rs has the same value in lib/wire.js', () => {
  const rs = fs.readFileSync(path.join(root, 'src/core/wire.rs'), 'utf8')
  let checked = 0
  for (const mod of ['out', 'inp', 'status']) {
    const body = rs.match(new RegExp(`pub mod ${mod} \\{([\\s\\S]*?)\\n\\}`))[1]
    const consts = [...body.matchAll(/pub const ([A-Z0-9_]+): u8 = (\d+);/g)]
    assert.ok(consts.length > 3, mod)
    for (const [, name, value] of consts) {
      assert.equal(wire[mod][name], Number(value), `${mod}::${name}`)
      checked++
    }
    assert.equal(Object.keys(wire[mod]).length, consts.length, `lib/wire.js ${mod} has no extra tags`)
  }
  assert.ok(checked > 30)
})

test('every driver error code the JS facade raises is in the DriverErrorCode union', () => {
  const dts = fs.readFileSync(path.join(root, 'index.d.ts'), 'utf8')
  const union = dts.slice(dts.indexOf('export type DriverErrorCode'), dts.indexOf('export declare class FerroError'))
  const declared = new Set([...union.matchAll(/'(ERR_[A-Z_]+)'/g)].map((m) => m[1]))
  const used = new Set()
  for (const f of fs.readdirSync(path.join(root, 'lib'), { recursive: true }).filter((f) => f.endsWith('.js'))) {
    const src = fs.readFileSync(path.join(root, 'lib', f), 'utf8')
    for (const m of src.matchAll(/['"`](ERR_[A-Z_]+)['"`]/g)) used.add(m[1])
  }
  assert.ok(used.size > 10)
  for (const code of used) assert.ok(declared.has(code), `${code} is missing from DriverErrorCode`)
})

test('every configuration key lib/config.js accepts is typed in index.d.ts', () => {
  const { SETTING_KEYS } = require('../lib/config')
  const dts = fs.readFileSync(path.join(root, 'index.d.ts'), 'utf8')
  const block = (name) => {
    const at = dts.indexOf(`export interface ${name} `)
    return dts.slice(at, dts.indexOf('\n}\n', at))
  }
  const typed = block('ClientConfig') + block('PoolConfig')
  const special = ['connectionString', 'options', 'types', 'ssl', 'prepare', 'onNotice']
  for (const key of [...SETTING_KEYS, ...special]) {
    assert.match(typed, new RegExp(`\\n\\s+${key}\\?:`), `${key} is missing from ClientConfig/PoolConfig`)
  }
})
