// ferropg/prisma: Prisma's driver adapter on ferropg's own Pool (statement cache, pipelining of
// concurrent queries, connections returned to the pool only when the server reports them idle,
// errors mapped from the server's SQLSTATE to Prisma's kinds).
import type { SqlDriverAdapter, SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'
import type { PoolConfig } from './index'

export interface PrismaFerroOptions {
  /** The schema Prisma's queries use by default (as `?schema=` in Prisma's own URLs). */
  schema?: string
}

/**
 * Prisma's adapter factory: `new PrismaClient({ adapter: new PrismaFerro(process.env.DATABASE_URL) })`.
 * It makes its own ferropg Pool from `config` (results read as text, which Prisma's engine parses).
 */
export declare class PrismaFerro implements SqlMigrationAwareDriverAdapterFactory {
  constructor(config: string | PoolConfig, options?: PrismaFerroOptions)
  readonly provider: 'postgres'
  readonly adapterName: 'ferropg'
  connect(): Promise<SqlDriverAdapter>
  /** A fresh database for Prisma's migration diffing; disposing the adapter drops it. */
  connectToShadowDb(): Promise<SqlDriverAdapter>
}

/** The error Prisma's engine maps to its own codes; `cause` is the mapped kind. */
export declare class DriverAdapterError extends Error {
  name: 'DriverAdapterError'
  cause: { kind: string; originalCode?: string; originalMessage?: string; [key: string]: unknown }
}
