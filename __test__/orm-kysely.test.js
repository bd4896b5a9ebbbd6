'use strict'
// Kysely against the real server, twice: PostgresDialect on ferropg/pg's Pool, and ferropg's own
// dialect (ferropg/kysely, ferropg's exact types): a migration, relations, transactions,
// savepoints, every common type read back, and stream().
const test = require('node:test')
const assert = require('node:assert/strict')
const { Kysely, PostgresDialect, sql } = require('kysely')
// Kysely 0.29 exports the migrator from a subpath.
const { Migrator } = require('kysely/migration')
const pg = require('ferropg/pg')
const Cursor = require('ferropg/pg-cursor')
const { FerroDialect } = require('ferropg/kysely')
const { Pool } = require('ferropg')
const { url, unique } = require('./helpers')
const { assertSharedTypes } = require('./orm-helpers')

for (const variant of ['ferropg/pg', 'ferropg/kysely']) {
const schema = unique('kysely')
const exact = variant === 'ferropg/kysely'
const dialect = () => exact
  ? new FerroDialect({ pool: new Pool({ connectionString: url, max: 4 }) })
  : new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 4 }), cursor: Cursor })

const migrations = {
  '001_people': {
    async up(db) {
      await sql`CREATE TYPE ${sql.id(schema, 'mood')} AS ENUM ('sad', 'ok', 'happy')`.execute(db)
      await db.schema.withSchema(schema).createTable('person')
        .addColumn('id', 'serial', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('mood', sql`${sql.id(schema, 'mood')}`)
        .execute()
      await db.schema.withSchema(schema).createTable('pet')
        .addColumn('id', 'serial', (c) => c.primaryKey())
        .addColumn('owner_id', 'integer', (c) => c.notNull().references(`${schema}.person.id`).onDelete('cascade'))
        .addColumn('name', 'text', (c) => c.notNull())
        .execute()
    },
  },
  '002_values': {
    async up(db) {
      await db.schema.withSchema(schema).createTable('kinds')
        .addColumn('id', 'serial', (c) => c.primaryKey())
        .addColumn('i8', 'int8').addColumn('n', 'numeric(20, 6)').addColumn('tz', 'timestamptz')
        .addColumn('d', 'date').addColumn('iv', sql`interval`).addColumn('j', 'jsonb').addColumn('u', 'uuid')
        .addColumn('b', 'bytea').addColumn('arr', sql`text[]`).addColumn('mood', sql`${sql.id(schema, 'mood')}`)
        .execute()
    },
  },
}

let db
test.before(async () => {
  db = new Kysely({ dialect: dialect() })
  await sql`CREATE SCHEMA ${sql.id(schema)}`.execute(db)
})

test.after(async () => {
  await sql`DROP SCHEMA ${sql.id(schema)} CASCADE`.execute(db)
  await db.destroy()
})

test(`Kysely on ${variant}: migrations`, async () => {
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations }, migrationTableSchema: schema })
  const { error, results } = await migrator.migrateToLatest()
  assert.equal(error, undefined)
  assert.deepEqual(results.map((r) => [r.migrationName, r.status]), [['001_people', 'Success'], ['002_values', 'Success']])
  const again = await migrator.migrateToLatest()
  assert.deepEqual(again.results, [])
})

test(`Kysely on ${variant}: insert, select with a join, update, delete`, async () => {
  const s = db.withSchema(schema)
  const [ann] = await s.insertInto('person').values({ name: 'Ann', mood: 'happy' }).returning(['id']).execute()
  const [bob] = await s.insertInto('person').values({ name: 'Bob', mood: 'ok' }).returning(['id']).execute()
  const inserted = await s.insertInto('pet').values([
    { owner_id: ann.id, name: 'Rex' }, { owner_id: ann.id, name: 'Tom' }, { owner_id: bob.id, name: 'Kit' },
  ]).executeTakeFirst()
  assert.equal(inserted.numInsertedOrUpdatedRows, 3n)
  const rows = await s.selectFrom('pet').innerJoin('person', 'person.id', 'pet.owner_id')
    .select(['person.name as owner', 'pet.name as pet']).where('person.mood', '=', 'happy').orderBy('pet.name').execute()
  assert.deepEqual(rows, [{ owner: 'Ann', pet: 'Rex' }, { owner: 'Ann', pet: 'Tom' }])
  const updated = await s.updateTable('pet').set({ name: 'Max' }).where('name', '=', 'Rex').executeTakeFirst()
  assert.equal(updated.numUpdatedRows, 1n)
  const deleted = await s.deleteFrom('person').where('id', '=', bob.id).executeTakeFirst()
  assert.equal(deleted.numDeletedRows, 1n)
  const left = await s.selectFrom('pet').select(['name']).orderBy('name').execute()
  assert.deepEqual(left.map((r) => r.name), ['Max', 'Tom'], 'the cascade removed Bob\'s pet')
  const count = await s.selectFrom('person').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()
  assert.equal(count.n, exact ? 1n : '1', 'count(*) is int8: a bigint in ferropg, a string in pg')
})

test(`Kysely on ${variant}: a transaction commits, one that throws rolls back, savepoints nest`, async () => {
  const s = () => db.withSchema(schema)
  await db.transaction().execute(async (trx) => {
    await trx.withSchema(schema).insertInto('person').values({ name: 'Cat' }).execute()
  })
  await assert.rejects(db.transaction().execute(async (trx) => {
    await trx.withSchema(schema).insertInto('person').values({ name: 'Dan' }).execute()
    throw new Error('no')
  }), /no/)
  await assert.rejects(db.transaction().execute(async (trx) => {
    await trx.withSchema(schema).insertInto('person').values({ name: 'Cat' }).execute()
  }), (e) => e.code === '23505' && e instanceof pg.DatabaseError)
  await assert.rejects(db.transaction().execute(async (trx) => {
    await sql`SELECT 1/0`.execute(trx).catch(() => {})
  }), (e) => e.name === 'AbortedTransactionError' || /aborted/i.test(e.message), 'a commit the server turns into ROLLBACK is reported')
  const trx = await db.startTransaction().execute()
  await trx.withSchema(schema).insertInto('person').values({ name: 'Eve' }).execute()
  const sp = await trx.savepoint('inner').execute()
  await sp.withSchema(schema).insertInto('person').values({ name: 'Fay' }).execute()
  await sp.rollbackToSavepoint('inner').execute()
  await trx.commit().execute()
  const names = (await s().selectFrom('person').select('name').orderBy('name').execute()).map((r) => r.name)
  assert.deepEqual(names, ['Ann', 'Cat', 'Eve'])
})

test(`Kysely on ${variant}: every common type is read back equal`, async () => {
  const s = db.withSchema(schema)
  const tz = new Date('2024-03-04T05:06:07.890Z')
  const v = {
    i8: '9007199254740993', n: '12345678901234.123456', tz, d: '2024-02-29', iv: '1 day 02:03:04',
    j: JSON.stringify({ a: [1, 'x', null], b: { c: true } }), u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    b: Buffer.from([0, 1, 2, 255]), arr: ['a', 'b "q"', null, 'c,d'], mood: 'sad',
  }
  const { id } = await s.insertInto('kinds').values(v).returning('id').executeTakeFirstOrThrow()
  const r = await s.selectFrom('kinds').selectAll().where('id', '=', id).executeTakeFirstOrThrow()
  assert.equal(r.i8, exact ? BigInt(v.i8) : v.i8)
  assert.equal(r.n, v.n)
  assert.equal(r.tz.getTime(), tz.getTime())
  if (exact) {
    assert.equal(r.d, '2024-02-29')
    assert.deepEqual(r.iv, { months: 0, days: 1, microseconds: 7_384_000_000 })
  } else {
    // pg reads a date as a Date at local midnight.
    assert.deepEqual([r.d.getFullYear(), r.d.getMonth(), r.d.getDate()], [2024, 1, 29])
    assert.deepEqual({ ...r.iv }, { days: 1, hours: 2, minutes: 3, seconds: 4 })
  }
  assertSharedTypes(r, v)
})

test(`Kysely on ${variant}: stream() reads through a server-side cursor, in chunks`, async () => {
  const seen = []
  for await (const row of db.selectFrom(sql`generate_series(1, 1000)`.as('g')).select(sql`g::int`.as('n')).stream(64)) {
    seen.push(row.n)
    if (seen.length === 700) break
  }
  assert.equal(seen.length, 700)
  assert.equal(seen[699], 700)
  // Breaking out closed the cursor and gave the connection back clean.
  // (The unnamed portal of this very query is listed too, on the extended protocol.)
  const r = await sql`SELECT count(*)::int AS open FROM pg_cursors WHERE name <> ''`.execute(db)
  assert.equal(r.rows[0].open, 0)
})

// Whether a statement tagged `marker` still runs on the server, polled for up to 2 s.
async function stillRunning(marker) {
  const until = Date.now() + 2000
  for (;;) {
    const r = await sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE ${'%' + marker + '%'} AND pid <> pg_backend_pid()`.execute(db)
    if (r.rows[0].n === 0 || Date.now() > until) return r.rows[0].n > 0
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

for (const strategy of ['cancel query', 'kill session']) {
  test(`Kysely on ${variant}: an aborted query with inflightQueryAbortStrategy '${strategy}' stops on the server; the pool serves again`, async () => {
    const marker = `${schema}_${strategy.replace(' ', '_')}`
    const ac = new AbortController()
    const running = sql`SELECT pg_sleep(30) /* ${sql.raw(marker)} */`.execute(db, { signal: ac.signal, inflightQueryAbortStrategy: strategy })
    // Abort once the server runs it.
    const until = Date.now() + 5000
    while (Date.now() < until) {
      const r = await sql`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND query LIKE ${'%' + marker + '%'} AND pid <> pg_backend_pid()`.execute(db)
      if (r.rows[0].n > 0) break
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    ac.abort(new Error('caller gave up'))
    await assert.rejects(running, /caller gave up/)
    assert.equal(await stillRunning(marker), false, 'the statement no longer runs')
    const r = await sql`SELECT 41 + 1 AS n`.execute(db)
    assert.equal(Number(r.rows[0].n), 42)
  })
}

test(`Kysely on ${variant}: aborting a stream() ends it and closes its cursor`, async () => {
  const ac = new AbortController()
  let n = 0
  await assert.rejects(async () => {
    for await (const row of db.selectFrom(sql`generate_series(1, 1000000)`.as('g')).select(sql`g::int`.as('n')).stream({ chunkSize: 100, signal: ac.signal })) {
      n = row.n
      if (n === 150) ac.abort(new Error('enough'))
    }
  }, /enough/)
  // Kysely checks the signal between chunks: the chunk under way is read to its end.
  assert.ok(n >= 150 && n <= 200, `stopped at ${n}`)
  const r = await sql`SELECT count(*)::int AS open FROM pg_cursors WHERE name <> ''`.execute(db)
  assert.equal(r.rows[0].open, 0)
})
}
