'use strict'
// node-postgres's client options as ferropg's configuration (see the README's compatibility
// table). Options ferropg has no use for are ignored, as pg ignores unknown ones.
const { FerroError } = require('../errors')

const SERVER_SETTINGS = ['statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout']

function unsupported(message) {
  return new FerroError('ERR_INVALID_CONFIG', message)
}

/** ferropg's configuration for a pg Client's options (text results: pg parses the values). */
function toFerro(c) {
  if (c.binary) throw unsupported('ferropg/pg returns text results only (binary: true is not supported); the types are parsed as pg parses them')
  if (c.client_encoding && !/^utf-?8$/i.test(c.client_encoding)) {
    throw unsupported(`client_encoding '${c.client_encoding}' is not supported: ferropg talks UTF8 to the server`)
  }
  const out = { types: { results: 'text' } }
  if (c.connectionString) out.connectionString = c.connectionString
  for (const k of ['host', 'user', 'database', 'password', 'ssl']) if (c[k] !== undefined && c[k] !== null) out[k] = c[k]
  if (c.port !== undefined && c.port !== null) out.port = Number(c.port)
  const app = c.application_name ?? c.fallback_application_name
  if (app !== undefined) out.applicationName = String(app)
  if (c.connectionTimeoutMillis) out.connectTimeoutMillis = c.connectionTimeoutMillis
  if (c.keepAlive !== undefined) out.keepalives = c.keepAlive ? 1 : 0
  if (c.keepAliveInitialDelayMillis) out.keepalives_idle = Math.max(1, Math.round(c.keepAliveInitialDelayMillis / 1000))
  const options = []
  if (typeof c.options === 'string' && c.options !== '') options.push(c.options)
  for (const k of SERVER_SETTINGS) {
    if (typeof c[k] === 'number') options.push(`-c ${k}=${c[k]}`)
  }
  if (options.length) out.options = options.join(' ')
  return out
}

const HIDDEN = '[hidden]'

// A connection string with its password replaced: the URL's userinfo, and `password=` in a
// key=value string or a URL's query.
function hideInString(s) {
  return String(s)
    .replace(/^([a-z][\w+.-]*:\/\/[^:@/]*:)[^@/]*@/i, `$1${HIDDEN}@`)
    .replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+)/gi, `$1${HIDDEN}`)
}

/**
 * What inspect() shows of client or pool options: the password, the connection string's
 * password and TLS private material hidden (pg would print them; ferropg prints no secret).
 */
function redacted(o) {
  if (o === null || typeof o !== 'object') return o
  const out = { ...o }
  if (o.password !== undefined && Object.prototype.propertyIsEnumerable.call(o, 'password')) out.password = HIDDEN
  if (typeof o.connectionString === 'string') out.connectionString = hideInString(o.connectionString)
  if (o.ssl && typeof o.ssl === 'object') {
    out.ssl = { ...o.ssl }
    for (const k of ['key', 'passphrase', 'pfx']) if (o.ssl[k] !== undefined) out.ssl[k] = HIDDEN
  }
  return out
}

module.exports = { toFerro, redacted }
