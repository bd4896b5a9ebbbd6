'use strict'
// A LISTEN worker: jobs are rows of a table; whoever adds one sends NOTIFY on the channel
// `jobs`, and the worker runs it at once. The notification is only a wake-up call: the table
// is the truth, so jobs added while no worker listened (or while the listener connection was
// being reopened) are picked up at start and on `onReconnect`, and several workers can share
// the table (FOR UPDATE SKIP LOCKED gives each job to one of them).
//
//   DATABASE_URL=postgres://app@localhost/app node examples/listen-worker.js
//   psql -c "WITH j AS (INSERT INTO jobs (task) VALUES ('hello') RETURNING id) SELECT pg_notify('jobs', id::text) FROM j"
//
// SIGTERM or SIGINT: stop listening, finish the job in hand, close the pool.
const { Pool } = require('ferropg')

const SCHEMA = `CREATE TABLE IF NOT EXISTS jobs (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  task text NOT NULL,
  result text,
  done_at timestamptz)`

/** What a job does; here: upper-case its text. */
const perform = async (task) => task.toUpperCase()

/** Runs every pending job, one transaction each; resolves with the ids done. */
async function drain(pool, log) {
  const done = []
  for (;;) {
    const id = await pool.transaction(async (tx) => {
      const { rows } = await tx.query('SELECT id, task FROM jobs WHERE done_at IS NULL ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED')
      if (rows.length === 0) return undefined
      const result = await perform(rows[0].task)
      await tx.query('UPDATE jobs SET result = $1, done_at = now() WHERE id = $2', [result, rows[0].id])
      return rows[0].id
    })
    if (id === undefined) return done
    log(`done ${id}`)
    done.push(id)
  }
}

/** Starts the worker; resolves with `{ pool, stop }`. */
async function start({ databaseUrl = process.env.DATABASE_URL, log = console.log } = {}) {
  const pool = new Pool({ connectionString: databaseUrl, applicationName: 'listen-worker-example', max: 2 })
  await pool.query(SCHEMA)
  // One drain at a time; a notification during a drain asks for one more pass.
  let running = Promise.resolve()
  let again = false
  let idle = true
  const wake = () => {
    if (!idle) {
      again = true
      return
    }
    idle = false
    running = (async () => {
      do {
        again = false
        await drain(pool, log)
      } while (again)
    })()
      .catch((e) => console.error('worker:', e))
      .finally(() => { idle = true })
  }
  const sub = await pool.listen('jobs', wake, { onReconnect: wake })
  wake() // jobs added before we listened
  // A pass every 30 s catches a job whose notification was lost, and keeps the process alive
  // (an idle listener does not: a program that only listens would exit).
  const sweep = setInterval(wake, 30_000)
  const stop = async () => {
    clearInterval(sweep)
    await sub.unlisten()
    await running
    await pool.close()
  }
  return { pool, stop }
}

if (require.main === module) {
  start().then(({ stop }) => {
    console.log('listening on channel jobs')
    const shutdown = () => {
      setTimeout(() => process.exit(1), 10_000).unref()
      stop().then(() => console.log('stopped'), (e) => { console.error(e); process.exitCode = 1 })
    }
    process.once('SIGTERM', shutdown)
    process.once('SIGINT', shutdown)
  }, (e) => { console.error(e); process.exit(1) })
}

module.exports = { start, drain }
