'use strict'
// Turns the user's configuration into what the native side takes: settings as strings (the
// native side validates them and names the bad key), a connection string, and a password
// function. No I/O here.
const { FerroError } = require('./errors')

const SETTING_KEYS = new Set([
  'host', 'port', 'user', 'password', 'database', 'applicationName', 'connectTimeoutMillis',
  'statementCacheSize', 'transport', 'max', 'idleTimeoutMillis', 'maxLifetimeSeconds', 'acquireTimeoutMillis',
])

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
 * `[settings, connectionString, passwordFunction, onNotice]` for the native constructors
 * (onNotice is the user's handler, or null).
 */
function toNative(config) {
  if (config === undefined || config === null) return [{}, null, null, null]
  if (typeof config === 'string') return [{}, config, null, null]
  if (typeof config !== 'object') throw invalid(`the configuration must be a string or an object, got ${typeof config}`)
  const settings = {}
  let connectionString = null
  let passwordFn = null
  let onNotice = null
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue
    if (key === 'onNotice') {
      if (typeof value !== 'function') throw invalid("'onNotice' must be a function")
      onNotice = value
    } else if (key === 'connectionString') {
      if (typeof value !== 'string') throw invalid("'connectionString' must be a string")
      connectionString = value
    } else if (key === 'password' && typeof value === 'function') {
      passwordFn = async () => {
        const pw = await value()
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
        if (!['int8', 'numeric', 'date', 'timestamp'].includes(t)) {
          throw invalid(`'types.${t}' is not a type override (int8, numeric, date, timestamp)`)
        }
        settings[`types.${t}`] = String(mode)
      }
    } else if (key === 'ssl') {
      if (value === false) settings.sslmode = 'disable'
      else throw invalid("'ssl' is not supported by this version of ferropg yet (TLS); use ssl: false or omit it")
    } else if (SETTING_KEYS.has(key)) {
      if (typeof value !== 'string' && typeof value !== 'number') {
        throw invalid(`'${key}' must be a ${key === 'host' || key === 'user' || key === 'database' || key === 'applicationName' ? 'string' : 'number'}, got ${typeof value}`)
      }
      settings[key] = String(value)
    } else {
      throw invalid(`unknown configuration key '${key}'`)
    }
  }
  return [settings, connectionString, passwordFn, onNotice]
}

module.exports = { toNative }
