// A typed Kysely app on ferropg/kysely: the schema is a TypeScript interface, and every query's
// result type follows from it. ferropg's exact types come through: int8 ids are bigints, numeric
// prices exact strings, timestamptz Dates.
//
//   DATABASE_URL=postgres://app@localhost/shop node --experimental-strip-types examples/kysely-app.mts
//   (Node 22.6+; on Node 20, compile it with tsc first). `npm run typecheck` type-checks it.
import { Kysely, sql, type Generated } from 'kysely'
import { FerroDialect } from 'ferropg/kysely'

export interface Database {
  author: { id: Generated<bigint>; name: string }
  book: { id: Generated<bigint>; author_id: bigint; title: string; price: string; published_at: Date }
}

export interface Report {
  /** Authors with their number of books and the total of their prices, most books first. */
  totals: { name: string; books: bigint; revenue: string | null }[]
  /** Titles published in 2024 or later, streamed through a server-side cursor. */
  recent: string[]
}

export async function main(databaseUrl: string | undefined = process.env.DATABASE_URL): Promise<Report> {
  const db = new Kysely<Database>({ dialect: new FerroDialect({ connection: databaseUrl }) })
  try {
    await db.schema.createTable('author').ifNotExists()
      .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
      .addColumn('name', 'text', (c) => c.notNull().unique())
      .execute()
    await db.schema.createTable('book').ifNotExists()
      .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
      .addColumn('author_id', 'bigint', (c) => c.notNull().references('author.id'))
      .addColumn('title', 'text', (c) => c.notNull())
      .addColumn('price', 'numeric(8, 2)', (c) => c.notNull())
      .addColumn('published_at', 'timestamptz', (c) => c.notNull())
      .execute()

    // An author and their books, all or nothing.
    await db.transaction().execute(async (trx) => {
      const { id } = await trx.insertInto('author').values({ name: 'Ursula' })
        .onConflict((oc) => oc.column('name').doUpdateSet({ name: 'Ursula' }))
        .returning('id').executeTakeFirstOrThrow()
      await trx.insertInto('book').values([
        { author_id: id, title: 'The Dispossessed', price: '12.90', published_at: new Date('1974-05-01T00:00:00Z') },
        { author_id: id, title: 'Collected Stories', price: '24.50', published_at: new Date('2024-03-01T00:00:00Z') },
      ]).execute()
    })

    const totals = await db.selectFrom('author')
      .leftJoin('book', 'book.author_id', 'author.id')
      .select(['author.name', (eb) => eb.fn.count<bigint>('book.id').as('books'), (eb) => eb.fn.sum<string | null>('book.price').as('revenue')])
      .groupBy('author.name')
      .orderBy('books', 'desc')
      .execute()

    const recent: string[] = []
    const since = new Date('2024-01-01T00:00:00Z')
    for await (const b of db.selectFrom('book').select('title').where('published_at', '>=', since).orderBy('title').stream(100)) {
      recent.push(b.title)
    }
    await sql`SELECT 1`.execute(db) // raw SQL is there too, typed as you declare it
    return { totals, recent }
  } finally {
    await db.destroy()
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const report = await main()
  console.log(JSON.stringify(report, (_, v) => (typeof v === 'bigint' ? String(v) : v), 2))
}
