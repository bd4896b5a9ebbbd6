// ferropg/kysely: a Kysely dialect on ferropg's own Pool (ferropg's exact types, its statement
// cache, stream() through a server-side cursor).
import type { Dialect } from 'kysely' with { 'resolution-mode': 'import' }
import type { Pool, PoolConfig } from './index'

export interface FerroDialectConfig {
  /** A ferropg Pool, or a function that returns one (the dialect closes it on destroy()). */
  pool?: Pool | (() => Promise<Pool>)
  /** Or the settings of a Pool the dialect makes. */
  connection?: string | PoolConfig
}

export declare class FerroDialect implements Dialect {
  constructor(config?: FerroDialectConfig)
  createDriver(): ReturnType<Dialect['createDriver']>
  createQueryCompiler(): ReturnType<Dialect['createQueryCompiler']>
  createAdapter(): ReturnType<Dialect['createAdapter']>
  createIntrospector(db: Parameters<Dialect['createIntrospector']>[0]): ReturnType<Dialect['createIntrospector']>
}
