#!/usr/bin/env node
// Builds the native addon (release) when it is missing or older than the Rust sources, so
// that `npm test` and `npm run demo` work on a fresh clone.
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const addon = fs.readdirSync(root).find((f) => f.endsWith('.node'))

function newest(p) {
  const st = fs.statSync(p)
  if (!st.isDirectory()) return st.mtimeMs
  return Math.max(0, ...fs.readdirSync(p).map((f) => newest(path.join(p, f))))
}

const sources = Math.max(newest(path.join(root, 'src')), ...['Cargo.toml', 'Cargo.lock', 'build.rs'].map((f) => newest(path.join(root, f))))
if (addon && fs.statSync(path.join(root, addon)).mtimeMs >= sources) process.exit(0)
console.error(addon ? 'build-if-needed: Rust sources changed, rebuilding' : 'build-if-needed: no native addon yet, building (release)')
const r = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
process.exit(r.status ?? 1)
