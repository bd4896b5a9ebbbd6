'use strict'
// Turns the user's configuration into what the native side takes: settings as strings (the
// native side validates them and names the bad key), a connection string, and a password
// function. No I/O here.
const { FerroError } = require('./errors')

const SETTING_KEYS = new Set([
  'host', 'port', 'user', 'password', 'database', 'applicationName', 'connectTimeoutMillis',
  'statementCacheSize', 'transport', 'max', 'idleTimeoutMillis', 'maxLifetimeSeconds', 'acquireTimeoutMillis',
  'healthCheckAfterMillis',
  // libpq's TLS and authentication keys, under their libpq names (see README, "Connecting").
  'sslmode', 'sslMode', 'sslrootcert', 'sslcert', 'sslkey', 'sslcrl', 'sslsni', 'sslnegotiation',
  'ssl_min_protocol_version', 'ssl_max_protocol_version', 'channel_binding', 'channelBinding',
  'require_auth', 'requireAuth',
  // Where the server and the password come from (libpq's names).
  'hostaddr', 'service', 'passfile', 'target_session_attrs', 'targetSessionAttrs', 'load_balance_hosts', 'loadBalanceHosts',
  'keepalives', 'keepalives_idle', 'keepalives_interval', 'keepalives_count', 'tcp_user_timeout',
])

const NUMERIC_KEYS = new Set([
  'port', 'connectTimeoutMillis', 'statementCacheSize', 'max', 'idleTimeoutMillis', 'maxLifetimeSeconds', 'acquireTimeoutMillis',
  'healthCheckAfterMillis', 'keepalives', 'keepalives_idle', 'keepalives_interval', 'keepalives_count', 'tcp_user_timeout',
])

// node-postgres's `ssl` object keys ferropg understands (anything else is refused by name
// rather than ignored: a security setting that silently does nothing is worse than an error).
const SSL_OBJECT_KEYS = new Set(['ca', 'cert', 'key', 'rejectUnauthorized', 'servername', 'checkServerIdentity', 'minVersion', 'maxVersion'])

// PEM text from a string, a Buffer, or an array of them (several CAs).
function pemText(value, key) {
  if (Array.isArray(value)) return value.map((v) => pemText(v, key)).join('\n')
  if (typeof value === 'string') return value
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return Buffer.from(value).toString('utf8')
  throw invalid(`'ssl.${key}' must be PEM text: a string, a Buffer, or an array of them`)
}

/**
 * node-postgres's `ssl` option in libpq's terms: `true` checks the chain against the system's
 * trust store and the host name (verify-full, as Node's TLS does); `{ rejectUnauthorized: false }`
 * encrypts without checking (require); `{ ca }` checks against those CAs and the name
 * (verify-full), or only the chain when `checkServerIdentity` is a function that accepts every
 * name (verify-ca: ferropg does not call it).
 */
function sslSettings(value) {
  if (value === false) return { sslmode: 'disable' }
  if (value === true) return { sslmode: 'verify-full', sslrootcert: 'system' }
  if (typeof value !== 'object' || value === null) throw invalid("'ssl' must be true, false or an object ({ ca, cert, key, rejectUnauthorized, servername })")
  for (const k of Object.keys(value)) {
    if (value[k] !== undefined && !SSL_OBJECT_KEYS.has(k)) throw invalid(`'ssl.${k}' is not supported (ferropg understands ${[...SSL_OBJECT_KEYS].join(', ')})`)
  }
  const out = {}
  const verify = value.rejectUnauthorized !== false
  if (!verify) out.sslmode = 'require'
  else {
    if (value.checkServerIdentity !== undefined && typeof value.checkServerIdentity !== 'function') throw invalid("'ssl.checkServerIdentity' must be a function")
    out.sslmode = value.checkServerIdentity ? 'verify-ca' : 'verify-full'
    if (value.ca !== undefined) out['ssl.ca'] = pemText(value.ca, 'ca')
    else out.sslrootcert = 'system'
    if (out.sslmode === 'verify-ca' && out.sslrootcert === 'system') throw invalid("'ssl.checkServerIdentity' without 'ssl.ca' would accept any certificate the system trusts for any name; give 'ca'")
  }
  if (value.cert !== undefined) out['ssl.cert'] = pemText(value.cert, 'cert')
  if (value.key !== undefined) out['ssl.key'] = pemText(value.key, 'key')
  if (value.servername !== undefined) out['ssl.servername'] = String(value.servername)
  if (value.minVersion !== undefined) out.ssl_min_protocol_version = String(value.minVersion)
  if (value.maxVersion !== undefined) out.ssl_max_protocol_version = String(value.maxVersion)
  return out
}

// libpq's `options` syntax: -c name=value, with spaces and backslashes escaped.
function serverOptions(o) {
  return Object.entries(o)
    .map(([k, v]) => `-c ${k}=${String(v).replace(/[\\ ]/g, (c) => '\\' + c)}`)
    .join(' ')
}

function invalid(message) {
  return new FerroError('ERR_INVALID_CONFIG', message)
}

/**
 * `[settings, connectionString, passwordFunction, onNotice, traceValues]` for the native
 * constructors (onNotice is the user's handler, or null; traceValues: whether tracing contexts
 * carry parameter values, docs/observability.md).
 */
function toNative(config) {
  if (config === undefined || config === null) return [{}, null, null, null, false]
  if (typeof config === 'string') return [{}, config, null, null, false]
  if (typeof config !== 'object') throw invalid(`the configuration must be a string or an object, got ${typeof config}`)
  const settings = {}
  let connectionString = null
  let passwordFn = null
  let onNotice = null
  let ssl = null
  let traceValues = false
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue
    if (key === 'traceValues') {
      if (typeof value !== 'boolean') throw invalid("'traceValues' must be true or false")
      traceValues = value
    } else if (key === 'onNotice') {
      if (typeof value !== 'function') throw invalid("'onNotice' must be a function")
      onNotice = value
    } else if (key === 'connectionString') {
      if (typeof value !== 'string') throw invalid("'connectionString' must be a string")
      connectionString = value
    } else if (key === 'password' && typeof value === 'function') {
      passwordFn = async (target) => {
        const pw = await value(target)
        if (typeof pw !== 'string') throw new TypeError(`the password function returned ${typeof pw}, not a string`)
        return pw
      }
    } else if (key === 'options') {
      if (typeof value === 'string') settings.options = value
      else if (typeof value === 'object' && value !== null) settings.options = serverOptions(value)
      else throw invalid("'options' must be a string or an object of server settings")
    } else if (key === 'types') {
      if (typeof value !== 'object' || value === null) throw invalid("'types' must be an object")
      for (const [t, mode] of Object.entries(value)) {
        if (!['int8', 'numeric', 'date', 'timestamp', 'results'].includes(t)) {
          throw invalid(`'types.${t}' is not a type override (int8, numeric, date, timestamp, results)`)
        }
        settings[`types.${t}`] = String(mode)
      }
    } else if (key === 'prepare') {
      if (typeof value !== 'boolean') throw invalid("'prepare' must be true or false")
      settings.prepare = String(value)
    } else if (key === 'ssl') {
      ssl = sslSettings(value)
    } else if (SETTING_KEYS.has(key)) {
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw invalid(`'${key}' must be a ${NUMERIC_KEYS.has(key) ? 'number' : 'string'}, got ${typeof value}`)
      }
      settings[key] = String(value)
    } else {
      throw invalid(`unknown configuration key '${key}'`)
    }
  }
  // Explicit libpq keys (e.g. `sslmode`) win over what `ssl` implies.
  if (ssl) {
    const explicitMode = settings.sslmode !== undefined || settings.sslMode !== undefined
    for (const [k, v] of Object.entries(ssl)) {
      if (k === 'sslmode' && explicitMode) continue
      if (settings[k] === undefined) settings[k] = v
    }
  }
  return [settings, connectionString, passwordFn, onNotice, traceValues]
}

module.exports = { toNative, SETTING_KEYS }
