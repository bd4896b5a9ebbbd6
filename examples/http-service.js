'use strict'
// An HTTP service on ferropg: accounts, and transfers between them in a transaction.
//
//   DATABASE_URL=postgres://app@localhost/bank PORT=3000 node examples/http-service.js
//
//   POST /accounts   {"owner":"ada","balance":"100.00"}      -> 201 {"id":"1"}
//   GET  /accounts/1                                          -> 200 {"id":"1","owner":"ada","balance":"100.00"}
//   POST /transfers  {"from":"1","to":"2","amount":"30.50"}  -> 200 {"from":{...},"to":{...}}
//                    (409 when the balance would go negative; 404 for an unknown account)
//
// SIGTERM or SIGINT: stop accepting connections, let requests in flight finish, close the pool.
const http = require('node:http')
const { Pool, DatabaseError } = require('ferropg')

const SCHEMA = `CREATE TABLE IF NOT EXISTS accounts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  owner text NOT NULL,
  balance numeric(12, 2) NOT NULL CHECK (balance >= 0))`
const MONEY = /^\d{1,10}(\.\d{1,2})?$/

class HttpError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

// int8 ids arrive as bigint and numeric as exact strings: JSON gets both as strings.
const json = (body) => JSON.stringify(body, (_, v) => (typeof v === 'bigint' ? String(v) : v))

async function readJson(req) {
  let text = ''
  for await (const chunk of req) {
    text += chunk
    if (text.length > 64 * 1024) throw new HttpError(413, 'body too large')
  }
  try {
    return JSON.parse(text)
  } catch {
    throw new HttpError(400, 'the body is not JSON')
  }
}

function money(v, name) {
  if (typeof v !== 'string' || !MONEY.test(v)) throw new HttpError(400, `${name} must be a decimal string like "12.50"`)
  return v
}

function id(v) {
  if (!/^\d{1,18}$/.test(String(v))) throw new HttpError(400, 'an account id is a positive integer')
  return BigInt(v)
}

async function transfer(pool, { from, to, amount }) {
  const [a, b] = [id(from), id(to)]
  if (a === b) throw new HttpError(400, 'from and to are the same account')
  money(amount, 'amount')
  return pool.transaction(async (tx) => {
    // Lock both rows in id order, so that two opposite transfers cannot deadlock.
    const locked = await tx.query('SELECT id FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE', [[a, b]])
    if (locked.rowCount !== 2) throw new HttpError(404, 'no such account')
    const update = 'UPDATE accounts SET balance = balance + $1 WHERE id = $2 RETURNING id, owner, balance'
    const debit = await tx.query(update, [`-${amount}`, a]) // fails the CHECK when it would go negative
    const credit = await tx.query(update, [amount, b])
    return { from: debit.rows[0], to: credit.rows[0] }
  })
}

async function route(pool, req) {
  const url = new URL(req.url, 'http://localhost')
  const account = /^\/accounts\/([^/]+)$/.exec(url.pathname)
  if (req.method === 'POST' && url.pathname === '/accounts') {
    const { owner, balance = '0' } = await readJson(req)
    if (typeof owner !== 'string' || owner === '') throw new HttpError(400, 'owner is required')
    const { rows } = await pool.query('INSERT INTO accounts (owner, balance) VALUES ($1, $2) RETURNING id', [owner, money(balance, 'balance')])
    return [201, rows[0]]
  }
  if (req.method === 'GET' && account) {
    const { rows } = await pool.query('SELECT id, owner, balance FROM accounts WHERE id = $1', [id(account[1])])
    if (rows.length === 0) throw new HttpError(404, 'no such account')
    return [200, rows[0]]
  }
  if (req.method === 'POST' && url.pathname === '/transfers') return [200, await transfer(pool, await readJson(req))]
  throw new HttpError(404, 'not found')
}

/** Starts the service; resolves with `{ server, pool, url, stop }`. */
async function start({ databaseUrl = process.env.DATABASE_URL, port = 3000, host = '127.0.0.1' } = {}) {
  const pool = new Pool({ connectionString: databaseUrl, applicationName: 'http-service-example', max: 10 })
  await pool.query(SCHEMA)
  const server = http.createServer(async (req, res) => {
    let status, body
    try {
      ;[status, body] = await route(pool, req)
    } catch (e) {
      if (e instanceof HttpError) [status, body] = [e.status, { error: e.message }]
      else if (e instanceof DatabaseError && e.code === '23514') [status, body] = [409, { error: 'insufficient funds' }]
      else {
        console.error(e)
        ;[status, body] = [500, { error: 'internal error' }]
      }
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(json(body))
  })
  await new Promise((resolve) => server.listen(port, host, resolve))
  const stop = async () => {
    const closed = new Promise((resolve) => server.close(resolve)) // waits for requests in flight
    server.closeIdleConnections()
    await closed
    await pool.close()
  }
  return { server, pool, url: `http://${host}:${server.address().port}`, stop }
}

if (require.main === module) {
  start({ port: Number(process.env.PORT ?? 3000) }).then(({ url, stop }) => {
    console.log(`listening on ${url}`)
    const shutdown = () => {
      setTimeout(() => process.exit(1), 10_000).unref() // a hung request must not keep us forever
      stop().then(() => console.log('closed'), (e) => { console.error(e); process.exitCode = 1 })
    }
    process.once('SIGTERM', shutdown)
    process.once('SIGINT', shutdown)
  }, (e) => { console.error(e); process.exit(1) })
}

module.exports = { start }
