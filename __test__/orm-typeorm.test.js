'use strict'
// TypeORM (type 'postgres', driver: ferropg/pg) against the real server: migrations,
// relations, transactions, and every common type read back.
const test = require('node:test')
const assert = require('node:assert/strict')
const { DataSource, EntitySchema } = require('typeorm')
const pg = require('ferropg/pg')
const { url, unique } = require('./helpers')
const { assertSharedTypes } = require('./orm-helpers')

const schema = unique('typeorm')

const Person = new EntitySchema({
  name: 'Person', tableName: 'person', schema,
  columns: {
    id: { type: Number, primary: true, generated: true },
    name: { type: 'text', unique: true },
    mood: { type: 'enum', enum: ['sad', 'ok', 'happy'], enumName: 'mood', nullable: true },
  },
  relations: { pets: { type: 'one-to-many', target: 'Pet', inverseSide: 'owner' } },
})
const Pet = new EntitySchema({
  name: 'Pet', tableName: 'pet', schema,
  columns: { id: { type: Number, primary: true, generated: true }, name: { type: 'text' } },
  relations: { owner: { type: 'many-to-one', target: 'Person', joinColumn: { name: 'owner_id' }, onDelete: 'CASCADE' } },
})
const Kind = new EntitySchema({
  name: 'Kind', tableName: 'kinds', schema,
  columns: {
    id: { type: Number, primary: true, generated: true },
    i8: { type: 'bigint', nullable: true }, n: { type: 'numeric', precision: 20, scale: 6, nullable: true },
    tz: { type: 'timestamptz', nullable: true }, d: { type: 'date', nullable: true }, iv: { type: 'interval', nullable: true },
    j: { type: 'jsonb', nullable: true }, u: { type: 'uuid', nullable: true }, b: { type: 'bytea', nullable: true },
    arr: { type: 'text', array: true, nullable: true },
    mood: { type: 'enum', enum: ['sad', 'ok', 'happy'], enumName: 'mood', nullable: true },
  },
})

// Migrations as TypeORM runs them (the name ends with the timestamp it orders them by).
class People1700000000000 {
  name = 'People1700000000000'
  async up(q) {
    await q.query(`CREATE TYPE "${schema}"."mood" AS ENUM ('sad', 'ok', 'happy')`)
    await q.query(`CREATE TABLE "${schema}"."person" ("id" SERIAL PRIMARY KEY, "name" text NOT NULL UNIQUE, "mood" "${schema}"."mood")`)
    await q.query(`CREATE TABLE "${schema}"."pet" ("id" SERIAL PRIMARY KEY, "name" text NOT NULL, "owner_id" integer REFERENCES "${schema}"."person"("id") ON DELETE CASCADE)`)
  }
  async down() {}
}
class Kinds1700000001000 {
  name = 'Kinds1700000001000'
  async up(q) {
    await q.query(`CREATE TABLE "${schema}"."kinds" ("id" SERIAL PRIMARY KEY, "i8" bigint, "n" numeric(20,6), "tz" timestamptz,
      "d" date, "iv" interval, "j" jsonb, "u" uuid, "b" bytea, "arr" text[], "mood" "${schema}"."mood")`)
  }
  async down() {}
}

let ds
test.before(async () => {
  ds = new DataSource({
    type: 'postgres', url, driver: pg, entities: [Person, Pet, Kind], migrations: [People1700000000000, Kinds1700000001000],
    migrationsTableName: `${schema}_migrations`, logging: false, poolSize: 4,
  })
  await ds.initialize()
  await ds.query(`CREATE SCHEMA "${schema}"`)
})

test.after(async () => {
  await ds.query(`DROP SCHEMA "${schema}" CASCADE`)
  await ds.query(`DROP TABLE IF EXISTS "${schema}_migrations"`)
  await ds.destroy()
})

test('TypeORM: migrations run through ferropg/pg, once', async () => {
  const ran = await ds.runMigrations({ transaction: 'all' })
  assert.deepEqual(ran.map((m) => m.name), ['People1700000000000', 'Kinds1700000001000'])
  assert.deepEqual(await ds.runMigrations(), [])
})

test('TypeORM: save, find with relations, update, delete', async () => {
  const people = ds.getRepository('Person')
  const pets = ds.getRepository('Pet')
  const ann = await people.save({ name: 'Ann', mood: 'happy' })
  const bob = await people.save({ name: 'Bob', mood: 'ok' })
  await pets.save([{ name: 'Rex', owner: ann }, { name: 'Tom', owner: ann }, { name: 'Kit', owner: bob }])
  const happy = await people.find({ where: { mood: 'happy' }, relations: { pets: true }, order: { pets: { name: 'ASC' } } })
  assert.deepEqual(happy.map((p) => [p.name, p.pets.map((x) => x.name)]), [['Ann', ['Rex', 'Tom']]])
  const updated = await pets.update({ name: 'Rex' }, { name: 'Max' })
  assert.equal(updated.affected, 1)
  const deleted = await people.delete({ id: bob.id })
  assert.equal(deleted.affected, 1)
  const left = await pets.find({ order: { name: 'ASC' } })
  assert.deepEqual(left.map((p) => p.name), ['Max', 'Tom'], 'the cascade removed Bob\'s pet')
  const joined = await ds.createQueryBuilder().select('person.name', 'owner').addSelect('pet.name', 'pet')
    .from('Pet', 'pet').innerJoin('pet.owner', 'person').orderBy('pet.name').getRawMany()
  assert.deepEqual(joined, [{ owner: 'Ann', pet: 'Max' }, { owner: 'Ann', pet: 'Tom' }])
})

test('TypeORM: a transaction commits, one that throws rolls back, a query runner\'s savepoints', async () => {
  const people = ds.getRepository('Person')
  await ds.transaction(async (m) => {
    await m.save('Person', { name: 'Cat' })
  })
  await assert.rejects(ds.transaction(async (m) => {
    await m.save('Person', { name: 'Dan' })
    throw new Error('no')
  }), /no/)
  const qr = ds.createQueryRunner()
  await qr.connect()
  try {
    await qr.startTransaction()
    await qr.manager.save('Person', { name: 'Eve' })
    await qr.startTransaction() // a savepoint
    await qr.manager.save('Person', { name: 'Fay' })
    await qr.rollbackTransaction()
    await qr.commitTransaction()
  } finally {
    await qr.release()
  }
  await assert.rejects(people.save({ name: 'Cat' }), (e) => e.driverError?.code === '23505')
  const names = (await people.find({ order: { name: 'ASC' } })).map((p) => p.name)
  assert.deepEqual(names, ['Ann', 'Cat', 'Eve'])
})

test('TypeORM: every common type is read back equal', async () => {
  const kinds = ds.getRepository('Kind')
  const v = {
    i8: '9007199254740993', n: '12345678901234.123456', tz: new Date('2024-03-04T05:06:07.890Z'), d: '2024-02-29',
    iv: '1 day 02:03:04', j: { a: [1, 'x', null], b: { c: true } }, u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    b: Buffer.from([0, 1, 2, 255]), arr: ['a', 'b "q"', 'c,d'], mood: 'sad',
  }
  const { id } = await kinds.save(v)
  const r = await kinds.findOneByOrFail({ id })
  assert.equal(r.i8, v.i8)
  assert.equal(r.n, v.n)
  assert.equal(r.tz.getTime(), v.tz.getTime())
  assert.equal(r.d, v.d)
  assert.deepEqual({ ...r.iv }, { days: 1, hours: 2, minutes: 3, seconds: 4 })
  assertSharedTypes(r, v)
})

test('TypeORM: stream() reads through pg-query-stream, served by ferropg/pg', async () => {
  const stream = await ds.getRepository('Person').createQueryBuilder('p').select('p.name', 'name').orderBy('p.name').stream()
  const names = []
  for await (const row of stream) names.push(row.name)
  assert.deepEqual(names, ['Ann', 'Cat', 'Eve'])
})
