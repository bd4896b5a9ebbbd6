'use strict'
// Parameters as node-postgres prepares them (pg/lib/utils.js `prepareValue`): every value
// becomes its text (or a Buffer, or null), which the server parses for the parameter's type.
// Dates are written in local time with their offset (UTC with defaults.parseInputDatesAsUTC),
// arrays as array literals, objects as JSON unless they have toPostgres().
const { defaults } = require('./types')

const pad = (n, w = 2) => String(n).padStart(w, '0')

function dateToString(date, utc) {
  let year = utc ? date.getUTCFullYear() : date.getFullYear()
  const bc = year < 1
  if (bc) year = Math.abs(year) + 1 // year 0 is 1 BC
  let s = utc
    ? `${pad(year, 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}T${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}.${pad(date.getUTCMilliseconds(), 3)}`
    : `${pad(year, 4)}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`
  if (utc) {
    s += '+00:00'
  } else {
    let offset = -date.getTimezoneOffset()
    const sign = offset < 0 ? '-' : '+'
    offset = Math.abs(offset)
    s += `${sign}${pad(Math.floor(offset / 60))}:${pad(offset % 60)}`
  }
  return bc ? s + ' BC' : s
}

function escapeElement(s) {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"'
}

function arrayString(val) {
  let out = '{'
  for (let i = 0; i < val.length; i++) {
    if (i > 0) out += ','
    let item = val[i]
    if (item == null) {
      out += 'NULL'
    } else if (Array.isArray(item)) {
      out += arrayString(item)
    } else if (ArrayBuffer.isView(item)) {
      if (!Buffer.isBuffer(item)) item = Buffer.from(item.buffer, item.byteOffset, item.byteLength)
      out += '\\\\x' + item.toString('hex')
    } else {
      out += escapeElement(prepareValue(item))
    }
  }
  return out + '}'
}

/** A parameter in node-postgres's form: a string, a Buffer or null. */
function prepareValue(val, seen) {
  if (val == null) return null
  if (typeof val === 'object') {
    if (Buffer.isBuffer(val)) return val
    if (ArrayBuffer.isView(val)) return Buffer.from(val.buffer, val.byteOffset, val.byteLength)
    if (val instanceof Date) return dateToString(val, defaults.parseInputDatesAsUTC)
    if (Array.isArray(val)) return arrayString(val)
    if (typeof val.toPostgres === 'function') {
      seen = seen || []
      if (seen.includes(val)) throw new Error(`circular reference detected while preparing "${val}" for query`)
      seen.push(val)
      return prepareValue(val.toPostgres(prepareValue), seen)
    }
    return JSON.stringify(val)
  }
  return val.toString()
}

function escapeIdentifier(str) {
  return '"' + str.replace(/"/g, '""') + '"'
}

function escapeLiteral(str) {
  let backslash = false
  let out = "'"
  for (const c of str) {
    if (c === "'") out += "''"
    else if (c === '\\') {
      out += '\\\\'
      backslash = true
    } else out += c
  }
  out += "'"
  return backslash ? ' E' + out : out
}

module.exports = { prepareValue, escapeIdentifier, escapeLiteral }
