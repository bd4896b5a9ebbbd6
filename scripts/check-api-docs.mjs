#!/usr/bin/env node
// Checks docs/api.md against index.d.ts, both ways, so that neither drifts from the other.
// What index.d.ts exports, read with the TypeScript compiler API, must be documented:
//   - each exported class, interface and type alias has a heading: `Name`
//   - each method of an exported class or interface has a heading: `Owner.method(...)`
//     (`new Owner(...)` for a public constructor, `Owner[Symbol.asyncDispose]()` for symbols)
//   - each option (a property of an interface named *Config, *Options or TypeOverrides) has a
//     heading: `Owner.option`
//   - each other property (class properties, result fields) is named in a code span (`name`,
//     `{ a, b }`) within its owner's section (from the owner's heading to the next heading of the same or a higher level)
// and each heading naming an API (its first code span, up to the first `(`) names something
// index.d.ts still exports. Usage: node scripts/check-api-docs.mjs [index.d.ts] [docs/api.md]
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const root = path.join(path.dirname(fileURLToPath(import.meta.url)), '..')
const ts = createRequire(import.meta.url)('typescript')

const OPTION_OWNER = /(Config|Options|Overrides)$/

function memberName(m) {
  if (ts.isConstructorDeclaration(m)) return 'constructor'
  const n = m.name
  if (!n) return undefined
  if (ts.isComputedPropertyName(n)) return `[${n.expression.getText()}]`
  return n.text ?? n.getText()
}

/** The documented surface of a .d.ts file: [{ key, kind, owner }]. */
export function surface(dtsText) {
  const sf = ts.createSourceFile('index.d.ts', dtsText, ts.ScriptTarget.Latest, true)
  const items = new Map()
  const add = (key, kind, owner) => { if (!items.has(key)) items.set(key, { key, kind, owner }) }
  for (const st of sf.statements) {
    const exported = st.modifiers?.some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
    if (!exported) continue
    if (ts.isTypeAliasDeclaration(st)) { add(st.name.text, 'type'); continue }
    if (!ts.isClassDeclaration(st) && !ts.isInterfaceDeclaration(st)) continue
    const owner = st.name.text
    add(owner, ts.isClassDeclaration(st) ? 'class' : 'interface')
    for (const m of st.members) {
      const name = memberName(m)
      if (!name) continue
      const hidden = m.modifiers?.some((x) => x.kind === ts.SyntaxKind.PrivateKeyword || x.kind === ts.SyntaxKind.ProtectedKeyword)
      if (hidden) continue
      const sep = name.startsWith('[') ? '' : '.'
      if (name === 'constructor') add(`new ${owner}`, 'method', owner)
      else if (ts.isMethodDeclaration(m) || ts.isMethodSignature(m)) add(`${owner}${sep}${name}`, 'method', owner)
      else if (OPTION_OWNER.test(owner)) add(`${owner}${sep}${name}`, 'option', owner)
      else add(`${owner}${sep}${name}`, 'field', owner)
    }
  }
  return [...items.values()]
}

/** The headings of a markdown file: [{ level, text, key, line }]; `key` from the first code span. */
export function headings(md) {
  const out = []
  let fenced = false
  md.split('\n').forEach((line, i) => {
    if (/^(```|~~~)/.test(line)) fenced = !fenced
    const h = !fenced && /^(#{1,6})\s+(.*)$/.exec(line)
    if (!h) return
    const code = /`([^`]+)`/.exec(h[2])
    const key = code ? code[1].split('(')[0].replace(/<.*$/, '').trim() : undefined
    out.push({ level: h[1].length, text: h[2], key, line: i })
  })
  return out
}

/** Problems found, as strings (empty: the docs match the types). */
export function check(dtsText, md) {
  const api = surface(dtsText)
  const hs = headings(md)
  const lines = md.split('\n')
  const problems = []
  const byKey = new Map(hs.filter((h) => h.key).map((h) => [h.key, h]))
  const known = new Set(api.map((a) => a.key))
  for (const a of api) {
    if (a.kind !== 'field') {
      if (!byKey.has(a.key)) problems.push(`index.d.ts ${a.kind} \`${a.key}\` has no heading in docs/api.md`)
      continue
    }
    const h = byKey.get(a.owner)
    if (!h) continue // reported for the owner
    const next = hs.find((x) => x.line > h.line && x.level <= h.level)
    const section = lines.slice(h.line, next ? next.line : lines.length).join('\n')
    const field = a.key.slice(a.owner.length).replace(/^\./, '')
    // A code span names its identifiers, and itself whole (a dotted attribute name such as
    // `db.query.text`).
    const named = new Set([...section.matchAll(/`([^`]+)`/g)].flatMap((m) => [m[1], ...(m[1].match(/[A-Za-z_$][\w$]*/g) ?? [])]))
    if (!named.has(field) && !byKey.has(a.key)) {
      problems.push(`index.d.ts field \`${a.key}\` is not named in the section of \`${a.owner}\` in docs/api.md`)
    }
  }
  for (const h of hs) {
    if (!h.key || known.has(h.key)) continue
    // Only headings shaped like an API name are checked: `Name`, `Owner.member`, `new Owner`, `Owner[...]`.
    if (/^(new )?[A-Z][A-Za-z]*(\.[A-Za-z_$][\w$]*|\[[^\]]+\])?$/.test(h.key)) {
      problems.push(`docs/api.md heading \`${h.key}\` (line ${h.line + 1}) names nothing index.d.ts exports`)
    }
  }
  return problems
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dts = process.argv[2] ?? path.join(root, 'index.d.ts')
  const doc = process.argv[3] ?? path.join(root, 'docs', 'api.md')
  const problems = check(fs.readFileSync(dts, 'utf8'), fs.readFileSync(doc, 'utf8'))
  for (const p of problems) console.error(p)
  if (problems.length) {
    console.error(`check-api-docs: ${problems.length} problem(s)`)
    process.exit(1)
  }
  console.log(`check-api-docs: docs/api.md covers the ${surface(fs.readFileSync(dts, 'utf8')).length} names of index.d.ts`)
}
