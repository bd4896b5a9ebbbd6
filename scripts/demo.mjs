#!/usr/bin/env node
// `npm run demo`: real queries against DATABASE_URL (or the throwaway server that
// scripts/with-pg.mjs started), printing what each step did.
import { Pool, DatabaseError } from '../index.mjs'

const pool = new Pool({ connectionString: process.env.DATABASE_URL, max: 4 })
const show = (label, value) => console.log(`${label.padEnd(34)} ${typeof value === 'string' ? value : JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `${v}n` : v === Infinity || v === -Infinity ? String(v) : v))}`)

try {
  const { rows: [info] } = await pool.query('SELECT version() AS version, current_user AS "user"')
  show('connected to', info.version.split(',')[0])

  await pool.query('DROP TABLE IF EXISTS demo_orders')
  await pool.query(`CREATE TABLE demo_orders (
    id int8 GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer text NOT NULL,
    amount numeric(12,2) NOT NULL CHECK (amount > 0),
    tags text[] NOT NULL DEFAULT '{}',
    meta jsonb,
    placed_at timestamptz NOT NULL DEFAULT now(),
    ref uuid NOT NULL DEFAULT gen_random_uuid()
  )`)
  show('created table', 'demo_orders')

  const orders = [
    ['ada', '19.99', ['books'], { gift: true }],
    ['grace', '1200.50', ['hardware', 'urgent'], null],
    ['linus', '0.01', [], { note: 'penny test' }],
  ]
  // Concurrent inserts spread over the pool's connections.
  const inserted = await Promise.all(
    orders.map((o) => pool.query('INSERT INTO demo_orders (customer, amount, tags, meta) VALUES ($1, $2, $3, $4) RETURNING id', o)),
  )
  show('inserted ids (int8 -> bigint)', inserted.map((r) => r.rows[0].id))

  const { rows } = await pool.query('SELECT id, customer, amount, tags, meta, placed_at, ref FROM demo_orders WHERE amount >= $1 ORDER BY id', ['1.00'])
  for (const r of rows) {
    show(`  order ${r.id}`, { customer: r.customer, amount: r.amount, tags: r.tags, meta: r.meta, placedIsDate: r.placed_at instanceof Date, ref: r.ref })
  }

  const { rows: [agg] } = await pool.query('SELECT sum(amount) AS total, count(*)::int4 AS n, array_agg(customer ORDER BY customer) AS who FROM demo_orders')
  show('sum(numeric) stays exact', agg)

  const { rows: [t] } = await pool.query(
    "SELECT $1::interval AS iv, int4range(1, 10) AS r, '2024-02-29'::date AS d, 'infinity'::timestamptz AS inf",
    [{ months: 1, days: 2, microseconds: 3_000_000 }],
  )
  show('interval, range, date, infinity', t)

  try {
    await pool.query('INSERT INTO demo_orders (customer, amount) VALUES ($1, $2)', ['bob', '-5'])
  } catch (e) {
    if (!(e instanceof DatabaseError)) throw e
    show('caught DatabaseError', { code: e.code, constraint: e.constraint, table: e.table, message: e.message })
  }
  try {
    await pool.query('SELECT $1::int4', [2 ** 31])
  } catch (e) {
    show('rejected before sending', { code: e.code, message: e.message })
  }

  const c = await pool.connect()
  show('borrowed connection', { processId: c.processId, serverVersion: c.serverVersion })
  c.release()
  show('pool stats', pool.stats())
  await pool.query('DROP TABLE demo_orders')
  show('dropped table', 'demo_orders')
} finally {
  await pool.close()
}
