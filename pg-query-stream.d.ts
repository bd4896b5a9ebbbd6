// ferropg/pg-query-stream: pg-query-stream's QueryStream for ferropg/pg clients.
import { Readable } from 'node:stream'
import type { CustomTypesConfig } from 'pg'
import Cursor = require('./pg-cursor')

declare namespace QueryStream {
  interface QueryStreamConfig {
    batchSize?: number
    highWaterMark?: number
    rowMode?: 'array'
    types?: CustomTypesConfig
  }
}

/** An object-mode Readable of rows: pass to `client.query()` and read or pipe it. */
declare class QueryStream extends Readable {
  cursor: Cursor
  constructor(text: string, values?: unknown[], config?: QueryStream.QueryStreamConfig)
  /** Submittable's marker (node-postgres's own Client cannot run it). */
  submit(connection?: unknown): void
}

export = QueryStream
