'use strict'
// ferropg's errors as the kinds Prisma's query engine maps to its own codes (P2002 and so on).
// The mapping follows the server's SQLSTATE and the error's fields (constraint, column, detail);
// an error with no Prisma kind keeps its SQLSTATE (kind 'postgres'), and a driver error with
// none (a parameter ferropg refused, a cancelled call) is rethrown as it is.

/**
 * What Prisma's engine recognises as a driver adapter's error (it checks `name` and `cause`, as
 * @prisma/driver-adapter-utils' isDriverAdapterError does).
 */
class DriverAdapterError extends Error {
  constructor(payload) {
    super(payload.message ?? payload.reason ?? payload.cause ?? payload.kind)
    this.name = 'DriverAdapterError'
    this.cause = payload
  }
}

const keyFields = (detail) => detail?.match(/Key \(([^)]+)\)/)?.[1]?.split(', ')
const quoted = (message) => message.match(/"((?:[^"]|"")*)"/)?.[1]

function constraintOf(e) {
  if (e.column) return { fields: [e.column] }
  if (e.constraint) return { index: e.constraint }
  return undefined
}

function byState(e) {
  switch (e.code) {
    case '22001':
      return { kind: 'LengthMismatch', column: e.column }
    case '22003':
      return { kind: 'ValueOutOfRange', cause: e.message }
    case '22P02':
      return { kind: 'InvalidInputValue', message: e.message }
    case '23505': {
      const fields = keyFields(e.detail)
      return { kind: 'UniqueConstraintViolation', constraint: fields ? { fields } : constraintOf(e), table: e.table }
    }
    case '23502':
      return { kind: 'NullConstraintViolation', constraint: e.column ? { fields: [e.column] } : undefined }
    case '23503':
      return { kind: 'ForeignKeyConstraintViolation', constraint: constraintOf(e) }
    case '23001':
      return { kind: 'RestrictViolation', constraint: constraintOf(e) }
    case '3D000':
      return { kind: 'DatabaseDoesNotExist', db: quoted(e.message) }
    case '28000':
      return { kind: 'DatabaseAccessDenied', db: quoted(e.message) }
    case '28P01':
      return { kind: 'AuthenticationFailed', user: quoted(e.message) }
    case '40001':
    case '40P01':
      return { kind: 'TransactionWriteConflict' }
    case '42P01':
      return { kind: 'TableDoesNotExist', table: quoted(e.message) }
    case '42703':
      return { kind: 'ColumnNotFound', column: quoted(e.message) ?? e.message.match(/^column (\S+) does not exist/)?.[1] }
    case '42P04':
      return { kind: 'DatabaseAlreadyExists', db: quoted(e.message) }
    case '53300':
      return { kind: 'TooManyConnections', cause: e.message }
    default:
      return { kind: 'postgres', code: e.code, severity: e.severity ?? 'ERROR', message: e.message, detail: e.detail, column: e.column, hint: e.hint }
  }
}

const SQLSTATE = /^[0-9A-Z]{5}$/

/** Rethrows `e` as Prisma's kind of error where there is one. */
function rethrow(e) {
  // A server error while connecting (a wrong password, a missing database) is ferropg's
  // ERR_CONNECTION with the server's error as its cause.
  const server = SQLSTATE.test(e?.code) ? e : SQLSTATE.test(e?.cause?.code) ? e.cause : null
  if (server !== null) {
    throw new DriverAdapterError({ ...byState(server), originalCode: server.code, originalMessage: server.message })
  }
  switch (e?.code) {
    case 'ERR_CONNECTION_CLOSED':
      throw new DriverAdapterError({ kind: 'ConnectionClosed' })
    case 'ERR_TLS':
      throw new DriverAdapterError({ kind: 'TlsConnectionError', reason: e.message })
    case 'ERR_CONNECTION':
      throw new DriverAdapterError({ kind: 'DatabaseNotReachable' })
    default:
      throw e
  }
}

module.exports = { DriverAdapterError, rethrow }
