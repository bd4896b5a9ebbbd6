// Type-checked by `npm run typecheck`: ferropg/pg as code written for node-postgres uses it.
import pg, { Pool, Client, types, type QueryResult, type PoolClient } from 'ferropg/pg'
import Cursor = require('ferropg/pg-cursor')
import QueryStream = require('ferropg/pg-query-stream')
import { Kysely } from 'kysely'
import { FerroDialect } from 'ferropg/kysely'
import { Pool as FerroPool } from 'ferropg'
import { PrismaFerro, DriverAdapterError } from 'ferropg/prisma'
import type { SqlMigrationAwareDriverAdapterFactory } from '@prisma/driver-adapter-utils'

interface Database {
  t: { id: number; name: string }
}

async function kysely(): Promise<string[]> {
  const db = new Kysely<Database>({ dialect: new FerroDialect({ pool: new FerroPool({ max: 4 }) }) })
  const rows = await db.selectFrom('t').select(['name']).where('id', '=', 1).execute()
  const other = new Kysely<Database>({ dialect: new FerroDialect({ connection: 'postgres://localhost/db' }) })
  await other.destroy()
  return rows.map((r) => r.name)
}
void kysely

async function prisma(): Promise<number> {
  const factory: SqlMigrationAwareDriverAdapterFactory = new PrismaFerro({ connectionString: 'postgres://localhost/db', max: 4 }, { schema: 'public' })
  const adapter = await factory.connect()
  try {
    const rs = await adapter.queryRaw({ sql: 'SELECT $1::int4 AS n', args: [1], argTypes: [{ scalarType: 'int', arity: 'scalar' }] })
    return rs.rows.length
  } catch (e) {
    if (e instanceof DriverAdapterError) return e.cause.kind.length
    throw e
  } finally {
    await adapter.dispose()
  }
}
void prisma

interface Row {
  id: number
  name: string
}

async function main(): Promise<void> {
  types.setTypeParser(20, (v: string) => BigInt(v))
  const pool = new Pool({ connectionString: 'postgres://localhost/db', max: 4, idleTimeoutMillis: 1000 })
  pool.on('connect', (c: PoolClient) => void c.query('SET search_path TO public'))
  const r: QueryResult<Row> = await pool.query<Row>('SELECT id, name FROM t WHERE id = $1', [1])
  const name: string = r.rows[0].name
  const client: PoolClient = await pool.connect()
  const arr = await client.query({ text: 'SELECT 1', rowMode: 'array' })
  const first: unknown = arr.rows[0][0]
  client.release()
  const c = new Client('postgres://localhost/db')
  await c.connect()
  const status: 'I' | 'T' | 'E' | null = c.getTransactionStatus()
  const cursor = new Cursor<Row>('SELECT id, name FROM t', [], { rowMode: 'array' })
  const firstRows: Row[] = await c.query(cursor).read(10)
  await cursor.close()
  const stream = new QueryStream('SELECT 1', [], { batchSize: 50 })
  for await (const row of c.query(stream)) void row
  void firstRows
  c.query('SELECT 1', (err: Error | null, res: QueryResult) => void [err, res.rowCount])
  await c.end()
  const total: number = pool.totalCount + pool.idleCount + pool.waitingCount
  await pool.end()
  void [name, first, status, total, pg.escapeLiteral("it's")]
}
void main

// The pg:* tracing channel names (docs/observability.md).
const pgQueryChannel: 'pg:query' = pg.channels.query
const pgRemoveChannel: 'pg:pool:remove' = pg.channels.poolRemove
void pgQueryChannel, pgRemoveChannel
