// Type-checked by `npm run typecheck` (tsc --noEmit): the public types as users write them.
import { Pool, Client, DatabaseError, FerroError, channels, type QueryResult, type PoolConfig, type DriverErrorCode, type Interval, type PoolStats, type QueryTraceContext } from 'ferropg'
import { tracingChannel } from 'node:diagnostics_channel'

interface User {
  id: number
  name: string
}

async function main(): Promise<void> {
  const config: PoolConfig = { host: '/var/run/postgresql', max: 4, types: { int8: 'string' }, password: async () => 'pw', onNotice: (n) => void n.message }
  const pool = new Pool(config)
  const r: QueryResult<User> = await pool.query<User>('SELECT id, name FROM users WHERE id = $1', [1])
  const name: string = r.rows[0].name
  const arr = await pool.query<[number, string]>('SELECT 1, $1::text', ['x'], { rowMode: 'array' })
  const first: number = arr.rows[0][0]
  const iv = await pool.query<{ v: Interval }>("SELECT interval '2562047788 hours' AS v")
  const us: number | bigint = iv.rows[0].v.microseconds
  await pool.query('SELECT $1::interval', [{ months: 0, days: 0, microseconds: 2n ** 60n } satisfies Interval])
  void us
  const c = await pool.connect()
  const status: 'idle' | 'inTransaction' | 'inError' = c.transactionStatus
  const script = await c.simpleQuery('CREATE TEMP TABLE t (v int); INSERT INTO t VALUES (1); SELECT v FROM t')
  const command: string = script[2].command
  const scripted: QueryResult[] = await pool.simpleQuery('SELECT 1', { rowMode: 'array' })
  void status, command, scripted
  c.release()
  const tls: PoolConfig = { host: 'db.example.com', sslmode: 'verify-full', sslrootcert: 'system', channel_binding: 'require', require_auth: 'scram-sha-256' }
  const pgShaped: PoolConfig = { ssl: { ca: [Buffer.from('pem'), 'pem'], cert: 'c', key: Buffer.from('k'), servername: 'db' } }
  const iam: PoolConfig = { host: 'a,b', target_session_attrs: 'read-write', load_balance_hosts: 'random', keepalives_idle: 30, prepare: false, password: async ({ host, port, user }) => `${host}:${port}:${user}` }
  void tls, pgShaped, iam
  const client = await Client.connect('postgres://localhost/db')
  const pid: number = client.processId
  try {
    await client.query('SELECT 1/0')
  } catch (e) {
    if (e instanceof DatabaseError) {
      const code: string = e.code
      const detail: string | undefined = e.detail
      void code, detail
    } else if (e instanceof FerroError) {
      if (e.code === 'ERR_QUERY_CANCELLED') void e.cause
      const known: DriverErrorCode | string = e.code
      void known
    }
  }
  const many = await pool.executeMany<{ id: number }>('INSERT INTO t VALUES ($1) RETURNING id', [[1], [2]], { returning: true })
  const firstId: number | undefined = many.results?.[0].rows[0].id
  async function* gen(): AsyncGenerator<[number]> { yield [1] }
  const streamed: number = (await client.executeMany('INSERT INTO t VALUES ($1)', gen())).rowCount
  const fromPipe: number = await client.pipeline(async (p) => {
    const r = p.query<{ n: number }>('SELECT 1 AS n')
    await p.sync()
    return (await r).rows[0].n
  })
  const total: number = await pool.transaction(async (tx) => {
    await tx.executeMany('INSERT INTO t VALUES ($1)', [[1]])
    return tx.transaction(async (inner) => (await inner.query<{ n: number }>('SELECT 1 AS n')).rows[0].n)
  }, { isolationLevel: 'serializable', readOnly: false })
  const copiedRows: number = await pool.copyFrom('t', [[1, 'a'], { id: 2, name: 'b' }], { columns: ['id', 'name'], signal: AbortSignal.timeout(1000) })
  for await (const row of pool.copyOutRows<{ id: number }>('SELECT id FROM t')) {
    const id: number = row.id
    void id
  }
  for await (const row of pool.cursor<{ id: number }>('SELECT id FROM t WHERE x > $1', [1], { batchSize: 500, timeoutMillis: 5000 })) {
    void row.id
  }
  await pool.query('SELECT pg_sleep(1)', [], { signal: AbortSignal.timeout(100) })
  const borrowed = await pool.connect({ signal: AbortSignal.timeout(1000) })
  await borrowed.cancel()
  borrowed.release()
  const sub = await pool.listen('jobs', (n) => void n.payload.length, { onReconnect: () => {} })
  await pool.notify('jobs', 'x')
  await sub.unlisten()
  void copiedRows
  const sink = await pool.copyIn('COPY t FROM STDIN (FORMAT csv)')
  sink.end('1\n')
  const copied: number | undefined = sink.rowCount
  for await (const chunk of await client.copyOut('COPY t TO STDOUT')) {
    const b: Buffer = chunk
    void b
  }
  void firstId, streamed, fromPipe, total, copied
  await client.close()
  const s: number = pool.stats().waiting
  const stats: PoolStats = pool.stats()
  const slow: number = stats.waitTime.counts[stats.waitTime.counts.length - 1] + (stats.errors['ERR_POOL_TIMEOUT'] ?? 0) + stats.created - stats.destroyed
  void slow
  const traced = new Pool({ traceValues: true })
  void traced
  const name0: 'ferropg:query' = channels.query
  tracingChannel<unknown, QueryTraceContext>(name0).subscribe({
    start(ctx) {
      const text: string = ctx['db.query.text']
      const n: number = ctx.parameterCount
      void text, n
    },
    end() {},
    asyncStart() {},
    asyncEnd(ctx) {
      const rows: number | undefined = ctx['db.response.returned_rows']
      void rows
    },
    error(ctx) {
      const code: string | undefined = ctx['db.response.status_code']
      void code
    },
  })
  await pool.close()
  void name, first, pid, s
}
void main
