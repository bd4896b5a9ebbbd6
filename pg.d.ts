// ferropg/pg: node-postgres's interface over ferropg, typed as node-postgres is by @types/pg
// (a dependency of ferropg), for what ferropg/pg provides. pg's Connection, Query and Events
// classes are not part of it (see the README's compatibility table).
import * as pg from 'pg'

export type {
  ClientConfig, PoolConfig, PoolOptions, QueryConfig, QueryArrayConfig, QueryConfigValues, QueryResult,
  QueryArrayResult, QueryResultBase, QueryResultRow, FieldDef, Notification, CustomTypesConfig, Defaults,
  Submittable, PoolClient,
} from 'pg'
export { Pool, Result, TypeOverrides, DatabaseError, types, defaults, escapeIdentifier, escapeLiteral } from 'pg'

/** node-postgres's Client, with the server's transaction status (ferropg/pg only). */
export declare class Client extends pg.Client {
  /** 'I' (idle), 'T' (in a transaction block) or 'E' (in a failed one), as the server last said; null before connect. */
  getTransactionStatus(): 'I' | 'T' | 'E' | null
}

/** pg-native is not part of ferropg/pg. */
export declare const native: null

/** The pg:* diagnostics channel names ferropg/pg publishes on (docs/observability.md). */
export declare const channels: {
  readonly query: 'pg:query'
  readonly connection: 'pg:connection'
  readonly poolConnect: 'pg:pool:connect'
  readonly poolRelease: 'pg:pool:release'
  readonly poolRemove: 'pg:pool:remove'
}
