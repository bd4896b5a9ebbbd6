'use strict'
// Row construction: one function per column set, generated once and cached, that reads the
// row's values in order and returns a plain object literal (or an array). V8 gives every row
// of a result the same hidden class; keys keep column order; spread, Object.keys,
// JSON.stringify and console.log see an ordinary object.
const { FerroError } = require('./errors')

const cache = new Map()
const MAX_CACHED = 512

function duplicates(names) {
  const seen = new Set()
  const dup = new Set()
  for (const n of names) (seen.has(n) ? dup : seen).add(n)
  return [...dup]
}

function generate(names, arrayMode) {
  const parts = names.map((n) =>
    arrayMode
      ? 'v()'
      // A literal "__proto__" key would set the prototype; a computed key defines a property.
      : n === '__proto__' ? `["__proto__"]: v()` : `${JSON.stringify(n)}: v()`,
  )
  const body = arrayMode ? `return [${parts.join(', ')}]` : `return {${parts.join(', ')}}`
  // eslint-disable-next-line no-new-func
  return new Function('v', body)
}

/** A function `(readValue) => row` for these column names. */
function rowBuilder(names, arrayMode) {
  const key = (arrayMode ? 'a\0' : 'o\0') + names.join('\0')
  let b = cache.get(key)
  if (b) return b
  if (!arrayMode) {
    const dup = duplicates(names)
    if (dup.length) {
      throw new FerroError(
        'ERR_DUPLICATE_COLUMN',
        `the result has more than one column named ${dup.map((d) => JSON.stringify(d)).join(', ')}: ` +
          "give them distinct names with AS, or use { rowMode: 'array' }",
      )
    }
  }
  b = generate(names, arrayMode)
  if (cache.size >= MAX_CACHED) cache.clear()
  cache.set(key, b)
  return b
}

module.exports = { rowBuilder }
