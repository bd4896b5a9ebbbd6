'use strict'
// MikroORM 7 (@mikro-orm/postgresql, its pool connecting with ferropg/pg's Client:
// `driverOptions: { Client }`) against the real server: its schema generator, relations,
// transactions, every common type (with MikroORM's own type parsers), and em.stream().
const test = require('node:test')
const assert = require('node:assert/strict')
const pg = require('ferropg/pg')
const { url, unique } = require('./helpers')
const { countingClient, assertSharedTypes } = require('./orm-helpers')

const schema = unique('mikro')
let orm, Person, Pet, Kind
const counting = countingClient(pg)

test.before(async () => {
  // MikroORM 7 is ESM only.
  const { MikroORM, PostgreSqlDriver } = await import('@mikro-orm/postgresql')
  const { EntitySchema } = await import('@mikro-orm/core')
  Person = new EntitySchema({
    name: 'Person', tableName: 'person', schema,
    properties: {
      id: { type: 'number', primary: true, autoincrement: true },
      name: { type: 'string', unique: true },
      mood: { enum: true, items: ['sad', 'ok', 'happy'], nullable: true },
      pets: { kind: '1:m', entity: () => Pet, mappedBy: 'owner' },
    },
  })
  Pet = new EntitySchema({
    name: 'Pet', tableName: 'pet', schema,
    properties: {
      id: { type: 'number', primary: true, autoincrement: true },
      name: { type: 'string' },
      owner: { kind: 'm:1', entity: () => Person, deleteRule: 'cascade' },
    },
  })
  Kind = new EntitySchema({
    name: 'Kind', tableName: 'kinds', schema,
    properties: {
      id: { type: 'number', primary: true, autoincrement: true },
      i8: { type: 'bigint', nullable: true },
      n: { type: 'decimal', precision: 20, scale: 6, nullable: true },
      tz: { type: 'datetime', columnType: 'timestamptz', nullable: true },
      d: { type: 'date', nullable: true },
      iv: { type: 'interval', nullable: true },
      j: { type: 'json', nullable: true },
      u: { type: 'uuid', nullable: true },
      b: { type: 'blob', nullable: true },
      arr: { type: 'string[]', nullable: true },
    },
  })
  orm = await MikroORM.init({
    driver: PostgreSqlDriver, clientUrl: url, entities: [Person, Pet, Kind], debug: false,
    // Merged into the options of the pg-pool MikroORM makes (with its type parsers): that pool
    // then connects with ferropg/pg's Client.
    driverOptions: { Client: counting.Client },
  })
  await orm.schema.create()
})

test.after(async () => {
  await orm.schema.drop({ dropMigrationsTable: true })
  await orm.em.getConnection().execute(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`)
  await orm.close(true)
})

test('MikroORM: the schema generator created the tables through ferropg/pg', async () => {
  const rows = await orm.em.getConnection().execute('SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = ? ORDER BY 1', [schema])
  assert.deepEqual(rows.map((r) => r.t), ['kinds', 'person', 'pet'])
  assert.ok(counting.opened >= 1, 'MikroORM connected through ferropg/pg')
})

test('MikroORM: create and flush with relations, find with populate, update, remove with cascade', async () => {
  const em = orm.em.fork()
  const ann = em.create(Person, { name: 'Ann', mood: 'happy' })
  const bob = em.create(Person, { name: 'Bob', mood: 'ok' })
  em.create(Pet, { name: 'Rex', owner: ann })
  em.create(Pet, { name: 'Tom', owner: ann })
  em.create(Pet, { name: 'Kit', owner: bob })
  await em.flush()
  const happy = await orm.em.fork().find(Person, { mood: 'happy' }, { populate: ['pets'], orderBy: { pets: { name: 'asc' } } })
  assert.deepEqual(happy.map((p) => [p.name, p.pets.getItems().map((x) => x.name)]), [['Ann', ['Rex', 'Tom']]])
  const em2 = orm.em.fork()
  const rex = await em2.findOneOrFail(Pet, { name: 'Rex' })
  rex.name = 'Max'
  await em2.flush()
  await orm.em.fork().nativeDelete(Person, { name: 'Bob' })
  const left = await orm.em.fork().find(Pet, {}, { orderBy: { name: 'asc' } })
  assert.deepEqual(left.map((p) => p.name), ['Max', 'Tom'], 'the cascade removed Bob\'s pet')
})

test('MikroORM: a transaction commits, one that throws rolls back, a duplicate is refused', async () => {
  await orm.em.fork().transactional(async (em) => {
    em.create(Person, { name: 'Cat' })
  })
  await assert.rejects(orm.em.fork().transactional(async (em) => {
    em.create(Person, { name: 'Dan' })
    await em.flush()
    throw new Error('no')
  }), /no/)
  await assert.rejects((async () => {
    const em = orm.em.fork()
    em.create(Person, { name: 'Cat' })
    await em.flush()
  })(), (e) => e.name === 'UniqueConstraintViolationException' && e.code === '23505')
  const names = (await orm.em.fork().find(Person, {}, { orderBy: { name: 'asc' } })).map((p) => p.name)
  assert.deepEqual(names, ['Ann', 'Cat'])
})

test('MikroORM: every common type is read back equal; em.stream() reads through a cursor', async () => {
  const v = {
    i8: 9007199254740993n, n: '12345678901234.123456', tz: new Date('2024-03-04T05:06:07.890Z'), d: '2024-02-29',
    iv: '1 day 02:03:04', j: { a: [1, 'x', null], b: { c: true } }, u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    b: Buffer.from([0, 1, 2, 255]), arr: ['a', 'b "q"', 'c,d'],
  }
  const em = orm.em.fork()
  const k = em.create(Kind, v)
  await em.flush()
  const r = await orm.em.fork().findOneOrFail(Kind, { id: k.id })
  assert.equal(r.i8, v.i8)
  assert.equal(r.n, v.n)
  assert.equal(r.tz.getTime(), v.tz.getTime())
  assert.equal(r.d, v.d)
  // MikroORM's own parser (postgres-interval) read the server's text.
  assert.deepEqual([r.iv.days, r.iv.hours, r.iv.minutes, r.iv.seconds], [1, 2, 3, 4])
  assertSharedTypes(r, v)
  const streamed = []
  for await (const p of orm.em.fork().stream(Person, { orderBy: { name: 'asc' } })) streamed.push(p.name)
  assert.deepEqual(streamed, ['Ann', 'Cat'])
})
