'use strict'
// Drizzle (drizzle-orm/node-postgres) on ferropg/pg's Pool, against the real server: its
// migrator applying a migration folder in drizzle-kit's layout, relations, transactions, and
// every common type read back.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const pg = require('ferropg/pg')
const { url, unique } = require('./helpers')
const { assertSharedTypes } = require('./orm-helpers')

const schema = unique('drizzle')
let d, o, pool, db, tables, dir

test.before(async () => {
  d = await import('drizzle-orm/node-postgres')
  o = await import('drizzle-orm')
  const p = await import('drizzle-orm/pg-core')
  const { migrate } = await import('drizzle-orm/node-postgres/migrator')
  const s = p.pgSchema(schema)
  const mood = s.enum('mood', ['sad', 'ok', 'happy'])
  const bytea = p.customType({ dataType: () => 'bytea' })
  const person = s.table('person', {
    id: p.serial('id').primaryKey(),
    name: p.text('name').notNull().unique(),
    mood: mood('mood'),
  })
  const pet = s.table('pet', {
    id: p.serial('id').primaryKey(),
    ownerId: p.integer('owner_id').notNull().references(() => person.id, { onDelete: 'cascade' }),
    name: p.text('name').notNull(),
  })
  const kinds = s.table('kinds', {
    id: p.serial('id').primaryKey(),
    i8: p.bigint('i8', { mode: 'bigint' }),
    n: p.numeric('n', { precision: 20, scale: 6 }),
    tz: p.timestamp('tz', { withTimezone: true, mode: 'date' }),
    d: p.date('d', { mode: 'string' }),
    iv: p.interval('iv'),
    j: p.jsonb('j'),
    u: p.uuid('u'),
    b: bytea('b'),
    arr: p.text('arr').array(),
    mood: mood('mood'),
  })
  const personRelations = o.relations(person, ({ many }) => ({ pets: many(pet) }))
  const petRelations = o.relations(pet, ({ one }) => ({ owner: one(person, { fields: [pet.ownerId], references: [person.id] }) }))
  tables = { person, pet, kinds, personRelations, petRelations }

  // A migration folder as drizzle-kit generates it: a journal and one SQL file per migration.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferropg-drizzle-'))
  fs.mkdirSync(path.join(dir, 'meta'))
  const q = (n) => `"${schema}"."${n}"`
  const sql0 = [
    `CREATE SCHEMA "${schema}";`,
    `CREATE TYPE ${q('mood')} AS ENUM('sad', 'ok', 'happy');`,
    `CREATE TABLE ${q('person')} ("id" serial PRIMARY KEY NOT NULL, "name" text NOT NULL, "mood" ${q('mood')}, CONSTRAINT "person_name_unique" UNIQUE("name"));`,
    `CREATE TABLE ${q('pet')} ("id" serial PRIMARY KEY NOT NULL, "owner_id" integer NOT NULL, "name" text NOT NULL);`,
    `ALTER TABLE ${q('pet')} ADD CONSTRAINT "pet_owner_id_person_id_fk" FOREIGN KEY ("owner_id") REFERENCES ${q('person')}("id") ON DELETE cascade ON UPDATE no action;`,
  ].join('\n--> statement-breakpoint\n')
  const sql1 = `CREATE TABLE ${q('kinds')} ("id" serial PRIMARY KEY NOT NULL, "i8" bigint, "n" numeric(20, 6), "tz" timestamp with time zone, "d" date, "iv" interval, "j" jsonb, "u" uuid, "b" bytea, "arr" text[], "mood" ${q('mood')});`
  fs.writeFileSync(path.join(dir, '0000_people.sql'), sql0)
  fs.writeFileSync(path.join(dir, '0001_kinds.sql'), sql1)
  fs.writeFileSync(path.join(dir, 'meta', '_journal.json'), JSON.stringify({
    version: '7', dialect: 'postgresql',
    entries: [
      { idx: 0, version: '7', when: 1700000000000, tag: '0000_people', breakpoints: true },
      { idx: 1, version: '7', when: 1700000001000, tag: '0001_kinds', breakpoints: true },
    ],
  }))
  pool = new pg.Pool({ connectionString: url, max: 4 })
  db = d.drizzle({ client: pool, schema: tables })
  await migrate(db, { migrationsFolder: dir, migrationsSchema: `${schema}_m`, migrationsTable: 'migrations' })
})

test.after(async () => {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}", "${schema}_m" CASCADE`)
  await pool.end()
  fs.rmSync(dir, { recursive: true, force: true })
})

test('Drizzle: the migrator applied the folder once, through ferropg/pg', async () => {
  const { migrate } = await import('drizzle-orm/node-postgres/migrator')
  await migrate(db, { migrationsFolder: dir, migrationsSchema: `${schema}_m`, migrationsTable: 'migrations' })
  const applied = await pool.query(`SELECT count(*)::int AS n FROM "${schema}_m".migrations`)
  assert.equal(applied.rows[0].n, 2)
})

test('Drizzle: insert, select with a join and with relations, update, delete', async () => {
  const { person, pet } = tables
  const [ann] = await db.insert(person).values({ name: 'Ann', mood: 'happy' }).returning({ id: person.id })
  const [bob] = await db.insert(person).values({ name: 'Bob', mood: 'ok' }).returning({ id: person.id })
  await db.insert(pet).values([{ ownerId: ann.id, name: 'Rex' }, { ownerId: ann.id, name: 'Tom' }, { ownerId: bob.id, name: 'Kit' }])
  const joined = await db.select({ owner: person.name, pet: pet.name }).from(pet)
    .innerJoin(person, o.eq(person.id, pet.ownerId)).where(o.eq(person.mood, 'happy')).orderBy(pet.name)
  assert.deepEqual(joined, [{ owner: 'Ann', pet: 'Rex' }, { owner: 'Ann', pet: 'Tom' }])
  const withPets = await db.query.person.findMany({ with: { pets: { orderBy: (p, { asc }) => [asc(p.name)] } }, orderBy: (p, { asc }) => [asc(p.name)] })
  assert.deepEqual(withPets.map((p) => [p.name, p.pets.map((x) => x.name)]), [['Ann', ['Rex', 'Tom']], ['Bob', ['Kit']]])
  const updated = await db.update(pet).set({ name: 'Max' }).where(o.eq(pet.name, 'Rex')).returning()
  assert.deepEqual(updated.map((p) => p.name), ['Max'])
  const deleted = await db.delete(person).where(o.eq(person.id, bob.id))
  assert.equal(deleted.rowCount, 1)
  const left = await db.select({ name: pet.name }).from(pet).orderBy(pet.name)
  assert.deepEqual(left.map((r) => r.name), ['Max', 'Tom'], 'the cascade removed Bob\'s pet')
})

test('Drizzle: a transaction commits, one that throws rolls back, a nested one is a savepoint', async () => {
  const { person } = tables
  await db.transaction(async (tx) => {
    await tx.insert(person).values({ name: 'Cat' })
  })
  await assert.rejects(db.transaction(async (tx) => {
    await tx.insert(person).values({ name: 'Dan' })
    throw new Error('no')
  }), /no/)
  await db.transaction(async (tx) => {
    await tx.insert(person).values({ name: 'Eve' })
    await assert.rejects(tx.transaction(async (inner) => {
      await inner.insert(person).values({ name: 'Fay' })
      inner.rollback()
    }))
  })
  await assert.rejects(db.insert(person).values({ name: 'Cat' }), (e) => (e.cause ?? e).code === '23505')
  const names = (await db.select({ name: person.name }).from(person).orderBy(person.name)).map((r) => r.name)
  assert.deepEqual(names, ['Ann', 'Cat', 'Eve'])
})

test('Drizzle: every common type is read back equal (with Drizzle\'s own parsers)', async () => {
  const { kinds } = tables
  const v = {
    i8: 9007199254740993n, n: '12345678901234.123456', tz: new Date('2024-03-04T05:06:07.890Z'), d: '2024-02-29',
    iv: '1 day 02:03:04', j: { a: [1, 'x', null], b: { c: true } }, u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    b: '\\x000102ff', arr: ['a', 'b "q"', 'c,d'], mood: 'sad',
  }
  const [{ id }] = await db.insert(kinds).values(v).returning({ id: kinds.id })
  const [r] = await db.select().from(kinds).where(o.eq(kinds.id, id))
  assert.equal(r.i8, v.i8)
  assert.equal(r.n, v.n)
  assert.equal(r.tz.getTime(), v.tz.getTime())
  assert.equal(r.d, v.d)
  assert.equal(r.iv, '1 day 02:03:04', 'Drizzle reads intervals as the server\'s text')
  assertSharedTypes(r, { ...v, b: Buffer.from([0, 1, 2, 255]) })
})
