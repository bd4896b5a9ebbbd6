'use strict'
// Values between Prisma's query engine and the server, for ferropg/prisma. Results are read as
// the server's text (`types.results: 'text'`): Prisma's engine wants int8, numeric, dates and
// JSON as strings, and the server's own text is both exact and the cheapest source of them.
// Each column is converted to what the engine expects for its ColumnType (the contract
// @prisma/driver-adapter-utils defines). Parameters are sent as text the server parses, as
// @prisma/adapter-pg sends them, with datetimes written in UTC.
const { parse: parseArray } = require('postgres-array')
const pgTypes = require('pg-types')
const { prepareValue } = require('../pg/values')

// Prisma's ColumnTypeEnum (@prisma/driver-adapter-utils): part of the adapter contract.
const C = {
  Int32: 0, Int64: 1, Float: 2, Double: 3, Numeric: 4, Boolean: 5, Character: 6, Text: 7,
  Date: 8, Time: 9, DateTime: 10, Json: 11, Bytes: 13, Uuid: 15,
  Int32Array: 64, Int64Array: 65, FloatArray: 66, DoubleArray: 67, NumericArray: 68,
  BooleanArray: 69, CharacterArray: 70, TextArray: 71, DateArray: 72, TimeArray: 73,
  DateTimeArray: 74, JsonArray: 75, BytesArray: 77, UuidArray: 78,
}

const same = (s) => s
const toInt = (s) => Number(s)
const toFloat = (s) => parseFloat(s)
const toBool = (s) => s === 't'
const toBytes = pgTypes.getTypeParser(17, 'text')
// money prints with the locale's currency symbol and grouping ('-$1,234.50').
const toMoney = (s) => s.replace(/[^0-9.-]/g, '')
const timestamp = (s) => (s.length > 10 && s.charCodeAt(10) === 32 ? `${s.slice(0, 10)}T${s.slice(11)}+00:00` : s)

// timestamptz prints in the session's TimeZone: converted to UTC, fraction digits kept.
const TZ = /^(\d{4,})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(\.\d+)?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/
const pad = (n, w = 2) => String(n).padStart(w, '0')
function timestamptz(s) {
  const m = TZ.exec(s)
  if (m === null) return s // infinity, -infinity, BC
  const offset = (m[8] === '-' ? -1 : 1) * (Number(m[9]) * 3600 + Number(m[10] ?? 0) * 60 + Number(m[11] ?? 0))
  if (offset === 0) return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}+00:00`
  const d = new Date(0)
  d.setUTCFullYear(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  d.setUTCHours(Number(m[4]), Number(m[5]), Number(m[6]) - offset)
  const date = `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
  return `${date}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${m[7] ?? ''}+00:00`
}

// timetz: the time in UTC (Prisma's engine reads a Time as UTC), fraction digits kept.
const TIMETZ = /^(\d\d):(\d\d):(\d\d)(\.\d+)?([+-])(\d\d)(?::(\d\d))?(?::(\d\d))?$/
function timetz(s) {
  const m = TIMETZ.exec(s)
  if (m === null) return s
  const offset = (m[5] === '-' ? -1 : 1) * (Number(m[6]) * 3600 + Number(m[7] ?? 0) * 60 + Number(m[8] ?? 0))
  const t = (((Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]) - offset) % 86400) + 86400) % 86400
  return `${pad(Math.floor(t / 3600))}:${pad(Math.floor(t / 60) % 60)}:${pad(t % 60)}${m[4] ?? ''}`
}

const list = (element) => (s) => parseArray(s, element)

// type OID -> [Prisma column type, text -> value]; a type not listed is Text (enums, domains
// over text, extension types, intervals, ranges: the server's text).
const COLUMNS = new Map([
  [21, [C.Int32, toInt]], [23, [C.Int32, toInt]],
  [20, [C.Int64, same]], [26, [C.Int64, same]],
  [700, [C.Float, toFloat]], [701, [C.Double, toFloat]],
  [1700, [C.Numeric, same]], [790, [C.Numeric, toMoney]],
  [16, [C.Boolean, toBool]], [18, [C.Character, same]],
  [1082, [C.Date, same]], [1083, [C.Time, same]], [1266, [C.Time, timetz]],
  [1114, [C.DateTime, timestamp]], [1184, [C.DateTime, timestamptz]],
  [114, [C.Json, same]], [3802, [C.Json, same]],
  [17, [C.Bytes, toBytes]], [2950, [C.Uuid, same]],
  [1005, [C.Int32Array, list(toInt)]], [1007, [C.Int32Array, list(toInt)]],
  [1016, [C.Int64Array, list(same)]], [1028, [C.Int64Array, list(same)]],
  [1021, [C.FloatArray, list(toFloat)]], [1022, [C.DoubleArray, list(toFloat)]],
  [1231, [C.NumericArray, list(same)]], [791, [C.NumericArray, list(toMoney)]],
  [1000, [C.BooleanArray, list(toBool)]], [1002, [C.CharacterArray, list(same)]],
  [1009, [C.TextArray, list(same)]], [1014, [C.TextArray, list(same)]], [1015, [C.TextArray, list(same)]],
  [1003, [C.TextArray, list(same)]], [1561, [C.TextArray, list(same)]], [1563, [C.TextArray, list(same)]],
  [1041, [C.TextArray, list(same)]], [651, [C.TextArray, list(same)]], [143, [C.TextArray, list(same)]],
  [1182, [C.DateArray, list(same)]], [1183, [C.TimeArray, list(same)]], [1270, [C.TimeArray, list(timetz)]],
  [1115, [C.DateTimeArray, list(timestamp)]], [1185, [C.DateTimeArray, list(timestamptz)]],
  [199, [C.JsonArray, list(same)]], [3807, [C.JsonArray, list(same)]],
  [1001, [C.BytesArray, list(toBytes)]], [2951, [C.UuidArray, list(same)]],
])
const TEXT = [C.Text, same]

/** A ferropg result (text values, array rows) as Prisma's SqlResultSet; converts rows in place. */
function resultSet(result) {
  const { fields, rows } = result
  const columnNames = new Array(fields.length)
  const columnTypes = new Array(fields.length)
  for (let c = 0; c < fields.length; c++) {
    const [type, convert] = COLUMNS.get(fields[c].typeOid) ?? TEXT
    columnNames[c] = fields[c].name
    columnTypes[c] = type
    if (convert === same) continue
    for (let r = 0; r < rows.length; r++) {
      const v = rows[r][c]
      if (v !== null) rows[r][c] = convert(v)
    }
  }
  return { columnNames, columnTypes, rows }
}

function utcDate(d) {
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`
}
function utcTime(d) {
  const ms = d.getUTCMilliseconds()
  return `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}${ms ? `.${pad(ms, 3)}` : ''}`
}

// One scalar argument in the form the server parses. A datetime carries its UTC offset, so the
// session's TimeZone does not matter (a timestamp without time zone ignores it).
function scalar(arg, type) {
  if (arg === null || arg === undefined) return null
  if (typeof arg === 'string' && type.scalarType === 'datetime') arg = new Date(arg)
  if (arg instanceof Date) {
    switch (type.dbType) {
      case 'DATE':
        return utcDate(arg)
      case 'TIME':
        return utcTime(arg)
      case 'TIMETZ':
        return `${utcTime(arg)}+00`
      default:
        return `${utcDate(arg)} ${utcTime(arg)}+00`
    }
  }
  if (typeof arg === 'string' && type.scalarType === 'bytes') return Buffer.from(arg, 'base64')
  return arg
}

/** Prisma's arguments as text parameters (strings, Buffers, null). */
function parameters(args, argTypes) {
  const out = new Array(args.length)
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    const type = argTypes[i] ?? { scalarType: 'unknown', arity: 'scalar' }
    out[i] = prepareValue(Array.isArray(arg) && type.arity === 'list' ? arg.map((v) => scalar(v, type)) : scalar(arg, type))
  }
  return out
}

module.exports = { resultSet, parameters }
