#!/usr/bin/env node
// ORMs on pg and on ferropg/pg (`npm run bench:orm`; `npm run bench` runs it after the suite):
// the same Kysely and Drizzle queries through each driver's Pool with default settings, each
// ORM x driver x workload in a fresh process, REPS repetitions, medians:
//   pk      a select by primary key, one at a time (2,000)
//   join    a join returning 1,000 rows (100 times)
//   insert  a bulk insert of 10,000 rows in one statement (3 times)
//   node scripts/with-pg.mjs node benchmark/orm.mjs                 (REPS, default 5)
//   node benchmark/orm.mjs --child <kysely|drizzle> <pg|ferropg> <pk|join|insert>
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const url = process.env.DATABASE_URL
const N = { pk: 2000, join: 100, insert: 3 }
const PEOPLE = 1000
const INSERT_ROWS = 10_000

async function prepare(pg) {
  const pool = new pg.Pool({ connectionString: url, max: 1 })
  await pool.query(`DROP TABLE IF EXISTS orm_pet, orm_person, orm_ins;
    CREATE TABLE orm_person (id serial PRIMARY KEY, name text NOT NULL, age int4 NOT NULL);
    CREATE TABLE orm_pet (id serial PRIMARY KEY, owner_id int4 NOT NULL REFERENCES orm_person(id), name text NOT NULL);
    CREATE TABLE orm_ins (id serial PRIMARY KEY, name text NOT NULL, age int4 NOT NULL, score float8 NOT NULL);
    INSERT INTO orm_person (name, age) SELECT 'person ' || g, 20 + g % 50 FROM generate_series(1, ${PEOPLE}) g;
    INSERT INTO orm_pet (owner_id, name) SELECT g, 'pet ' || g FROM generate_series(1, ${PEOPLE}) g;
    ANALYZE orm_person; ANALYZE orm_pet`)
  await pool.end()
}

async function orm(name, pool) {
  if (name === 'kysely') {
    const { Kysely, PostgresDialect } = await import('kysely')
    const db = new Kysely({ dialect: new PostgresDialect({ pool }) })
    return {
      pk: (id) => db.selectFrom('orm_person').selectAll().where('id', '=', id).executeTakeFirst(),
      join: () => db.selectFrom('orm_pet').innerJoin('orm_person', 'orm_person.id', 'orm_pet.owner_id')
        .select(['orm_person.name as owner', 'orm_person.age', 'orm_pet.name as pet']).execute(),
      insert: (rows) => db.insertInto('orm_ins').values(rows).execute(),
      close: () => db.destroy(),
    }
  }
  const { drizzle } = await import('drizzle-orm/node-postgres')
  const { eq } = await import('drizzle-orm')
  const p = await import('drizzle-orm/pg-core')
  const person = p.pgTable('orm_person', { id: p.serial('id').primaryKey(), name: p.text('name').notNull(), age: p.integer('age').notNull() })
  const pet = p.pgTable('orm_pet', { id: p.serial('id').primaryKey(), ownerId: p.integer('owner_id').notNull(), name: p.text('name').notNull() })
  const ins = p.pgTable('orm_ins', { id: p.serial('id').primaryKey(), name: p.text('name').notNull(), age: p.integer('age').notNull(), score: p.doublePrecision('score').notNull() })
  const db = drizzle({ client: pool })
  return {
    pk: (id) => db.select().from(person).where(eq(person.id, id)),
    join: () => db.select({ owner: person.name, age: person.age, pet: pet.name }).from(pet).innerJoin(person, eq(person.id, pet.ownerId)),
    insert: (rows) => db.insert(ins).values(rows),
    close: () => pool.end(),
  }
}

async function child(ormName, driver, w) {
  const pg = driver === 'pg' ? require('pg') : require('ferropg/pg')
  const o = await orm(ormName, new pg.Pool({ connectionString: url }))
  const rows = Array.from({ length: INSERT_ROWS }, (_, i) => ({ name: 'n' + i, age: i % 90, score: i / 3 }))
  const once = async (i) => {
    if (w === 'pk') return o.pk(1 + (i % PEOPLE))
    if (w === 'join') {
      const r = await o.join()
      if (r.length !== PEOPLE) throw new Error(`join returned ${r.length} rows`)
      return r
    }
    return o.insert(rows)
  }
  for (let i = 0; i < Math.min(200, N[w]); i++) await once(i) // warm-up
  const cpu = process.cpuUsage()
  const t = performance.now()
  for (let i = 0; i < N[w]; i++) await once(i)
  const ms = performance.now() - t
  const used = process.cpuUsage(cpu)
  await o.close()
  console.log(JSON.stringify({ ms, cpuMs: (used.user + used.system) / 1000 }))
}

if (process.argv[2] === '--child') {
  await child(process.argv[3], process.argv[4], process.argv[5])
  process.exit(0)
}

const REPS = Number(process.env.REPS || 5)
await prepare(require('pg'))
const self = fileURLToPath(import.meta.url)
const median = (xs) => xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const label = { pk: 'select by primary key (per query)', join: 'join, 1,000 rows (per query)', insert: 'bulk insert, 10,000 rows (per statement)' }
let md = '| ORM | workload | pg | ferropg/pg | ferropg/pg vs pg | client CPU pg / ferropg/pg |\n|---|---|---|---|---|---|\n'
for (const ormName of ['kysely', 'drizzle']) {
  for (const w of ['pk', 'join', 'insert']) {
    const got = { pg: [], ferropg: [] }
    for (let rep = 0; rep < REPS; rep++) {
      for (const driver of ['pg', 'ferropg']) {
        const r = spawnSync(process.execPath, [self, '--child', ormName, driver, w], { encoding: 'utf8', timeout: 300_000 })
        const line = (r.stdout || '').trim().split('\n').pop()
        if (r.status !== 0 || !line?.startsWith('{')) throw new Error(`${ormName} ${driver} ${w}: exit ${r.status}: ${(r.stderr || '').slice(-500)}`)
        got[driver].push(JSON.parse(line))
        process.stderr.write(`rep ${rep + 1}/${REPS} ${ormName} ${driver} ${w}: ${got[driver].at(-1).ms.toFixed(1)} ms\n`)
      }
    }
    const per = (d, k) => median(got[d].map((r) => r[k])) / N[w]
    const fmt = (ms) => (ms >= 1 ? `${ms.toFixed(2)} ms` : `${(ms * 1000).toFixed(0)} µs`)
    md += `| ${ormName} | ${label[w]} | ${fmt(per('pg', 'ms'))} | ${fmt(per('ferropg', 'ms'))} | ${(per('pg', 'ms') / per('ferropg', 'ms')).toFixed(2)}x | ${fmt(per('pg', 'cpuMs'))} / ${fmt(per('ferropg', 'cpuMs'))} |\n`
  }
}
const cleanup = new (require('pg').Pool)({ connectionString: url, max: 1 })
await cleanup.query('DROP TABLE IF EXISTS orm_pet, orm_person, orm_ins')
await cleanup.end()
console.log(md)
