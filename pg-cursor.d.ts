// ferropg/pg-cursor: pg-cursor's Cursor for ferropg/pg clients (a server-side cursor).
import { EventEmitter } from 'node:events'
import type { CustomTypesConfig, QueryResult } from 'pg'

declare namespace Cursor {
  interface CursorQueryConfig {
    rowMode?: 'array'
    types?: CustomTypesConfig
  }
}

/** Pass to `client.query()`, then `read(n)` rows at a time and `close()`. */
declare class Cursor<Row = any> extends EventEmitter {
  constructor(text: string, values?: unknown[], config?: Cursor.CursorQueryConfig)
  /** Submittable's marker (node-postgres's own Client cannot run it). */
  submit(connection?: unknown): void
  read(rowCount: number): Promise<Row[]>
  read(rowCount: number, callback: (err: Error | null, rows: Row[], result: QueryResult) => void): void
  close(): Promise<void>
  close(callback: (err: Error | null) => void): void
}

export = Cursor
