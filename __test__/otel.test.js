'use strict'
// examples/otel-tracing.js turns ferropg's channels into OpenTelemetry spans: run against a
// real server with an in-memory exporter, the spans carry the attributes, the nesting and the
// error status the docs promise.
const test = require('node:test')
const assert = require('node:assert/strict')
const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base')
const { SpanKind, SpanStatusCode } = require('@opentelemetry/api')
const { instrument } = require('../examples/otel-tracing')
const { url, pool: makePool, unique } = require('./helpers')

const u = new URL(url)
const DB = decodeURIComponent(u.pathname.slice(1))

test('spans for queries, a transaction with its queries as children, and a failing query', async () => {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  const stop = instrument({ tracer: provider.getTracer('ferropg-test') })
  const p = makePool({ max: 2 })
  const table = unique('otel')
  try {
    await p.query(`CREATE TABLE ${table} (id int)`)
    await p.transaction(async (tx) => {
      await tx.query(`INSERT INTO ${table} VALUES ($1), ($2)`, [1, 2])
    })
    await assert.rejects(p.query(`SELECT * FROM ${table}_missing`), { code: '42P01' })
    const c = await p.connect()
    await c.copyFrom(table, [[3]])
    c.release()

    const spans = exporter.getFinishedSpans()
    const byName = (n) => spans.filter((s) => s.name === n)
    assert.ok(spans.every((s) => s.kind === SpanKind.CLIENT))

    const [insert] = byName(`INSERT ${DB}`)
    assert.ok(insert, `an INSERT span among ${spans.map((s) => s.name)}`)
    assert.equal(insert.attributes['db.system.name'], 'postgresql')
    assert.equal(insert.attributes['db.query.text'], `INSERT INTO ${table} VALUES ($1), ($2)`)
    assert.equal(insert.attributes['server.address'], '127.0.0.1')
    assert.equal(insert.attributes['server.port'], Number(u.port))
    assert.equal(insert.attributes['db.operation.name'], 'INSERT')
    assert.equal(insert.attributes['db.response.returned_rows'], 0)
    assert.equal(insert.attributes['db.query.parameter.0'], undefined, 'no values unless asked')

    const [tx] = byName('transaction')
    assert.ok(tx)
    const parentOf = (s) => s.parentSpanContext?.spanId ?? s.parentSpanId
    const children = spans.filter((s) => parentOf(s) === tx.spanContext().spanId).map((s) => s.attributes['db.query.text'])
    assert.deepEqual(children, ['BEGIN', `INSERT INTO ${table} VALUES ($1), ($2)`, 'COMMIT'])
    assert.equal(insert.spanContext().traceId, tx.spanContext().traceId)

    const failed = spans.find((s) => s.attributes['db.query.text'] === `SELECT * FROM ${table}_missing`)
    assert.equal(failed.status.code, SpanStatusCode.ERROR)
    assert.equal(failed.attributes['db.response.status_code'], '42P01')
    assert.equal(failed.attributes['error.type'], '42P01')
    assert.equal(failed.events[0].name, 'exception')

    const [acquire] = byName('pool acquire')
    assert.ok(acquire, 'pool.connect() made a span')
    const [copy] = byName('COPY')
    assert.equal(copy.attributes['db.collection.name'], table)
  } finally {
    stop()
    await p.query(`DROP TABLE IF EXISTS ${table}`)
    await p.close()
    await provider.shutdown()
  }
})
