// The six workloads of the suite: their SQL, sizes and the checksum every run must reproduce.
// benchmark/asyncpg_child.py and examples/pgref.rs restate these constants (they cannot import
// them); the suite compares every run's checksum with `expected()` below, so a drift shows up as
// a failed run, not as a fast one.
import { createHash } from 'node:crypto'

/**
 * The benchmarks' connection settings (BENCH_CONN for the children): the cluster's unix socket
 * when scripts/with-pg.mjs started one, else DATABASE_URL's host.
 */
export function benchConn() {
  const url = new URL(process.env.DATABASE_URL)
  return {
    host: process.env.FERROPG_TEST_SOCKET_DIR || decodeURIComponent(url.hostname),
    port: Number(url.port || 5432),
    user: decodeURIComponent(url.username),
    password: decodeURIComponent(url.password),
    database: decodeURIComponent(url.pathname.slice(1)) || 'postgres',
  }
}

export const W1_N = 20_000

// benchmark/tls.mjs: connections opened, queried once and closed, one after another.
export const C_N = 200
export const W1_SQL = 'SELECT $1::int4 AS x'

export const W2_N = 100_000
export const W2_POOL = 8
export const W2_CALLERS = 64
export const W2_SQL = 'SELECT $1::int4 AS a, $2::text AS b'

export const W3_ROWS = 200_000
export const W3_SQL = `SELECT g AS i4, g::int8 * 3 AS i8, g / 7.0::float8 AS f8, 'row ' || g AS t,
  g % 2 = 0 AS b, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' AS ts,
  (g * 1.25)::numeric(12,2) AS n, jsonb_build_object('k', g, 's', 'x') AS j, md5(g::text)::uuid AS u
  FROM generate_series(1, ${W3_ROWS}) g`
export const W3_EPOCH = 1704067200 // 2024-01-01T00:00:00Z in seconds

export const W4_ROWS = 200_000
export const W4_TABLE = 'bench_w4'
export const W4_CREATE = `CREATE TABLE ${W4_TABLE} (id int4, name text, score float8, created timestamptz, payload jsonb)`
export const W4_CHECK_SQL = `SELECT (count(*) + sum(id) + sum(length(name)) + sum((payload->>'k')::int8)
  + sum(floor(score)) + sum(extract(epoch FROM created)::int8 - ${W3_EPOCH}))::int8 AS c FROM ${W4_TABLE}`
/** Row i of W4 as an array (id, name, score, created, payload). */
export const w4Row = (i) => [i, 'name ' + i, i / 4, new Date((W3_EPOCH + i) * 1000), { k: i }]

export const W5_N = 5_000
export const W5_TABLE = 'bench_w5'
export const W5_CREATE = `CREATE TABLE ${W5_TABLE} (id serial PRIMARY KEY, a int4 NOT NULL, b text NOT NULL)`
export const W5_SQL = `INSERT INTO ${W5_TABLE} (a, b) VALUES ($1, $2) RETURNING id`

export const W6_ROWS = 1_000_000
export const W6_SQL = `COPY (SELECT g, 'row ' || g, g * 1.5 FROM generate_series(1, ${W6_ROWS}) g) TO STDOUT`

/** W3's per-row checksum term, from decoded values. */
export function w3Term(i4, i8, f8, t, b, tsMillis, n, jk, u) {
  return i4 + Number(i8) + Math.floor(f8) + t.length + (b ? 1 : 0) + (tsMillis / 1000 - W3_EPOCH) +
    Math.round(Number(n) * 100) + Number(jk) + (parseInt(u.slice(0, 8), 16) % 1000)
}

/** The checksum each workload must produce, computed here without the database. */
export function expected(w) {
  let c = 0
  switch (w) {
    case 'W1':
      return (W1_N * (W1_N - 1)) / 2
    case 'W2':
      for (let i = 0; i < W2_N; i++) c += i + ('t' + i).length
      return c
    case 'W3':
      for (let g = 1; g <= W3_ROWS; g++) {
        const u = createHash('md5').update(String(g)).digest('hex')
        c += w3Term(g, g * 3, g / 7, 'row ' + g, g % 2 === 0, (W3_EPOCH + g) * 1000, (g * 1.25).toFixed(2), g, u)
      }
      return c
    case 'W4':
      for (let i = 0; i < W4_ROWS; i++) c += 1 + i + ('name ' + i).length + i + Math.floor(i / 4) + i
      return c
    case 'W5':
      return (W5_N * (W5_N + 1)) / 2
    case 'W6':
      for (let g = 1; g <= W6_ROWS; g++) c += `${g}\trow ${g}\t${(g * 1.5).toFixed(1)}\n`.length
      return c
  }
  throw new Error(`unknown workload ${w}`)
}
