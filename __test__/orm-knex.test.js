'use strict'
// Knex (its PostgreSQL client, given ferropg/pg as its driver) against the real server:
// migrations, relations, transactions, every common type; and Knex over a ferropg/pg Pool
// (`connectionPool`).
const test = require('node:test')
const assert = require('node:assert/strict')
const knexFactory = require('knex')
const PgClient = require('knex/lib/dialects/postgres')
const pg = require('ferropg/pg')
const { url, unique } = require('./helpers')
const { assertSharedTypes } = require('./orm-helpers')

/** Knex's PostgreSQL client with ferropg/pg in place of pg. */
class FerroKnexClient extends PgClient {
  _driver() {
    return pg
  }
}

const schema = unique('knex')
const migrations = {
  '001_people': {
    async up(k) {
      await k.raw(`CREATE TYPE ?? AS ENUM ('sad', 'ok', 'happy')`, [`${schema}.mood`])
      await k.schema.withSchema(schema).createTable('person', (t) => {
        t.increments('id')
        t.text('name').notNullable().unique()
        t.specificType('mood', `"${schema}".mood`)
      })
      await k.schema.withSchema(schema).createTable('pet', (t) => {
        t.increments('id')
        t.integer('owner_id').notNullable().references('id').inTable(`${schema}.person`).onDelete('CASCADE')
        t.text('name').notNullable()
      })
    },
    async down() {},
  },
  '002_values': {
    async up(k) {
      await k.schema.withSchema(schema).createTable('kinds', (t) => {
        t.increments('id')
        t.bigInteger('i8')
        t.decimal('n', 20, 6)
        t.timestamp('tz', { useTz: true })
        t.date('d')
        t.specificType('iv', 'interval')
        t.jsonb('j')
        t.uuid('u')
        t.binary('b')
        t.specificType('arr', 'text[]')
        t.specificType('mood', `"${schema}".mood`)
      })
    },
    async down() {},
  },
}
const migrationSource = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (m) => m,
  getMigration: async (m) => migrations[m],
}

let knex
test.before(async () => {
  knex = knexFactory({ client: FerroKnexClient, connection: url, pool: { min: 0, max: 4 } })
  await knex.raw('CREATE SCHEMA ??', [schema])
})

test.after(async () => {
  await knex.raw('DROP SCHEMA ?? CASCADE', [schema])
  await knex.destroy()
})

test('Knex: migrations run through ferropg/pg', async () => {
  const opts = { migrationSource, schemaName: schema, tableName: 'knex_migrations' }
  const [batch, done] = await knex.migrate.latest(opts)
  assert.equal(batch, 1)
  assert.deepEqual(done, ['001_people', '002_values'])
  const [, again] = await knex.migrate.latest(opts)
  assert.deepEqual(again, [])
})

test('Knex: insert, select with a join, update, delete', async () => {
  const t = (n) => knex.withSchema(schema).table(n)
  const [ann] = await t('person').insert({ name: 'Ann', mood: 'happy' }).returning('id')
  const [bob] = await t('person').insert({ name: 'Bob', mood: 'ok' }).returning('id')
  await t('pet').insert([{ owner_id: ann.id, name: 'Rex' }, { owner_id: ann.id, name: 'Tom' }, { owner_id: bob.id, name: 'Kit' }])
  const rows = await knex.withSchema(schema).select('person.name as owner', 'pet.name as pet').from('pet')
    .join('person', 'person.id', 'pet.owner_id').where('person.mood', 'happy').orderBy('pet.name')
  assert.deepEqual(rows, [{ owner: 'Ann', pet: 'Rex' }, { owner: 'Ann', pet: 'Tom' }])
  assert.equal(await t('pet').where({ name: 'Rex' }).update({ name: 'Max' }), 1)
  assert.equal(await t('person').where({ id: bob.id }).del(), 1)
  assert.deepEqual(await t('pet').orderBy('name').pluck('name'), ['Max', 'Tom'])
  const [{ count }] = await t('person').count()
  assert.equal(count, '1', 'count(*) is int8: a string, as with pg')
  const first = await t('person').first('name')
  assert.deepEqual(first, { name: 'Ann' })
})

test('Knex: a transaction commits, one that throws rolls back, a nested one is a savepoint', async () => {
  const t = (k, n) => k.withSchema(schema).table(n)
  await knex.transaction(async (trx) => {
    await t(trx, 'person').insert({ name: 'Cat' })
  })
  await assert.rejects(knex.transaction(async (trx) => {
    await t(trx, 'person').insert({ name: 'Dan' })
    throw new Error('no')
  }), /no/)
  await knex.transaction(async (trx) => {
    await t(trx, 'person').insert({ name: 'Eve' })
    await assert.rejects(trx.transaction(async (inner) => {
      await t(inner, 'person').insert({ name: 'Fay' })
      await t(inner, 'person').insert({ name: 'Fay' })
    }), (e) => e.code === '23505')
  })
  assert.deepEqual(await t(knex, 'person').orderBy('name').pluck('name'), ['Ann', 'Cat', 'Eve'])
})

test('Knex: every common type is read back equal', async () => {
  const t = knex.withSchema(schema).table('kinds')
  const tz = new Date('2024-03-04T05:06:07.890Z')
  const v = {
    i8: '9007199254740993', n: '12345678901234.123456', tz, d: '2024-02-29', iv: '1 day 02:03:04',
    j: JSON.stringify({ a: [1, 'x', null], b: { c: true } }), u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    b: Buffer.from([0, 1, 2, 255]), arr: ['a', 'b "q"', null, 'c,d'], mood: 'sad',
  }
  const [{ id }] = await t.clone().insert(v).returning('id')
  const r = await t.clone().where({ id }).first()
  assert.equal(r.i8, v.i8)
  assert.equal(r.n, v.n)
  assert.equal(r.tz.getTime(), tz.getTime())
  assert.deepEqual([r.d.getFullYear(), r.d.getMonth(), r.d.getDate()], [2024, 1, 29])
  assert.deepEqual({ ...r.iv }, { days: 1, hours: 2, minutes: 3, seconds: 4 })
  assertSharedTypes(r, v)
})

test('Knex: stream() reads through pg-query-stream, served by ferropg/pg', async () => {
  const names = []
  const stream = knex.withSchema(schema).table('person').orderBy('name').select('name').stream({ batchSize: 2 })
  for await (const row of stream) names.push(row.name)
  assert.deepEqual(names, ['Ann', 'Cat', 'Eve'])
})

test('Knex over a ferropg/pg Pool (connectionPool)', async () => {
  const pool = new pg.Pool({ connectionString: url, max: 2 })
  const k = knexFactory({ client: FerroKnexClient, connectionPool: pool })
  try {
    const rows = await k.withSchema(schema).table('person').orderBy('name').pluck('name')
    assert.deepEqual(rows, ['Ann', 'Cat', 'Eve'])
    await k.transaction(async (trx) => {
      assert.equal((await trx.raw('SELECT 1 AS one')).rows[0].one, 1)
    })
  } finally {
    await k.destroy()
  }
})
