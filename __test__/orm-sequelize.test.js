'use strict'
// Sequelize 6 (dialectModule: ferropg/pg) against the real server: a migration through its
// QueryInterface, associations, transactions, and every common type read back.
const test = require('node:test')
const assert = require('node:assert/strict')
const { Sequelize, DataTypes, Op } = require('sequelize')
const pg = require('ferropg/pg')
const { url, unique } = require('./helpers')
const { assertSharedTypes } = require('./orm-helpers')

const schema = unique('sqlz')
let sequelize, Person, Pet, Kind

test.before(async () => {
  sequelize = new Sequelize(url, { dialect: 'postgres', dialectModule: pg, logging: false, pool: { max: 4 } })
  await sequelize.createSchema(schema)
  Person = sequelize.define('person', {
    name: { type: DataTypes.TEXT, allowNull: false, unique: true },
    mood: DataTypes.ENUM('sad', 'ok', 'happy'),
  }, { schema, timestamps: false, tableName: 'person' })
  Pet = sequelize.define('pet', { name: { type: DataTypes.TEXT, allowNull: false } }, { schema, timestamps: false, tableName: 'pet' })
  Person.hasMany(Pet, { foreignKey: 'ownerId', onDelete: 'CASCADE' })
  Pet.belongsTo(Person, { foreignKey: 'ownerId' })
  Kind = sequelize.define('kinds', {
    i8: DataTypes.BIGINT, n: DataTypes.DECIMAL(20, 6), tz: DataTypes.DATE, d: DataTypes.DATEONLY, j: DataTypes.JSONB,
    u: DataTypes.UUID, b: DataTypes.BLOB, arr: DataTypes.ARRAY(DataTypes.TEXT), mood: DataTypes.ENUM('sad', 'ok', 'happy'),
  }, { schema, timestamps: false, tableName: 'kinds' })
})

test.after(async () => {
  await sequelize.dropSchema(schema)
  await sequelize.close()
})

test('Sequelize: a migration (QueryInterface) and sync run through ferropg/pg', async () => {
  const qi = sequelize.getQueryInterface()
  await qi.createTable({ tableName: 'notes', schema }, {
    id: { type: DataTypes.INTEGER, primaryKey: true, autoIncrement: true },
    body: { type: DataTypes.TEXT, allowNull: false },
  })
  await qi.addColumn({ tableName: 'notes', schema }, 'tags', DataTypes.ARRAY(DataTypes.TEXT))
  const described = await qi.describeTable({ tableName: 'notes', schema })
  assert.deepEqual(Object.keys(described).sort(), ['body', 'id', 'tags'])
  await sequelize.sync()
  const tables = await sequelize.query('SELECT table_name::text AS name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
    { bind: [schema], type: Sequelize.QueryTypes.SELECT })
  assert.deepEqual(tables.map((t) => t.name), ['kinds', 'notes', 'person', 'pet'])
})

test('Sequelize: create, find with include, update, destroy', async () => {
  const ann = await Person.create({ name: 'Ann', mood: 'happy' })
  const bob = await Person.create({ name: 'Bob', mood: 'ok' })
  await Pet.bulkCreate([{ name: 'Rex', ownerId: ann.id }, { name: 'Tom', ownerId: ann.id }, { name: 'Kit', ownerId: bob.id }])
  const happy = await Person.findAll({ where: { mood: 'happy' }, include: Pet, order: [[Pet, 'name', 'ASC']] })
  assert.deepEqual(happy.map((p) => [p.name, p.pets.map((x) => x.name)]), [['Ann', ['Rex', 'Tom']]])
  const [updated] = await Pet.update({ name: 'Max' }, { where: { name: 'Rex' } })
  assert.equal(updated, 1)
  assert.equal(await Person.destroy({ where: { id: bob.id } }), 1)
  const left = await Pet.findAll({ order: [['name', 'ASC']] })
  assert.deepEqual(left.map((p) => p.name), ['Max', 'Tom'], 'the cascade removed Bob\'s pet')
  assert.equal(await Person.count({ where: { name: { [Op.like]: 'A%' } } }), 1)
})

test('Sequelize: a managed transaction commits, one that throws rolls back', async () => {
  await sequelize.transaction(async (t) => {
    await Person.create({ name: 'Cat' }, { transaction: t })
  })
  await assert.rejects(sequelize.transaction(async (t) => {
    await Person.create({ name: 'Dan' }, { transaction: t })
    throw new Error('no')
  }), /no/)
  await assert.rejects(Person.create({ name: 'Cat' }), (e) => e.name === 'SequelizeUniqueConstraintError' && e.parent.code === '23505')
  const t = await sequelize.transaction()
  await Person.create({ name: 'Eve' }, { transaction: t })
  await t.commit()
  const names = (await Person.findAll({ order: [['name', 'ASC']] })).map((p) => p.name)
  assert.deepEqual(names, ['Ann', 'Cat', 'Eve'])
})

test('Sequelize: every common type is read back equal', async () => {
  const v = {
    i8: '9007199254740993', n: '12345678901234.123456', tz: new Date('2024-03-04T05:06:07.890Z'), d: '2024-02-29',
    j: { a: [1, 'x', null], b: { c: true } }, u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
    b: Buffer.from([0, 1, 2, 255]), arr: ['a', 'b "q"', 'c,d'], mood: 'sad',
  }
  const { id } = await Kind.create(v)
  const r = (await Kind.findByPk(id)).get({ plain: true })
  assert.equal(r.i8, v.i8)
  assert.equal(r.n, v.n)
  assert.equal(r.tz.getTime(), v.tz.getTime())
  assert.equal(r.d, v.d)
  assertSharedTypes(r, v)
  const [[{ iv }]] = await sequelize.query("SELECT '1 day 02:03:04'::interval AS iv")
  assert.deepEqual({ ...iv }, { days: 1, hours: 2, minutes: 3, seconds: 4 })
})
