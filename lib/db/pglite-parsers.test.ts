import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDataDir } from './testing/databases';
import { openDb, type Db } from './client';
import { trimArrayParsers } from './pglite-parsers';

// PGlite spreads its instance's parser table for every result (pglite-parsers.ts). The embedded
// database keeps only the parsers that change a value, and every value PGlite parses must read
// exactly as with its full table.

/** One value of every type PGlite parses, and arrays of them. */
const EVERY_PARSED_TYPE = `SELECT 'a'::text AS text, 'b'::varchar AS varchar, 'c'::char(2) AS bpchar,
  1::int2 AS int2, 2::int4 AS int4, 3::oid AS oid, 1.5::float4 AS float4, 2.5::float8 AS float8,
  9007199254740993::int8 AS big, 4::int8 AS int8, '{"a":[1]}'::json AS json, '{"b":2}'::jsonb AS jsonb,
  true AS bool, '2026-11-30'::date AS date, '2026-11-30 01:02:03'::timestamp AS ts,
  '2026-11-30 01:02:03.456+00'::timestamptz AS tstz, '\\x0102'::bytea AS bytea,
  ARRAY['x', 'y,z']::text[] AS texts, ARRAY[1, 2]::int4[] AS ints, ARRAY[3]::int8[] AS int8s,
  ARRAY[1.5]::float8[] AS floats, ARRAY[true, false] AS bools, ARRAY['{"c":3}']::jsonb[] AS jsonbs,
  ARRAY['2026-11-30T00:00:00Z']::timestamptz[] AS tstzs, ARRAY[NULL, 'q']::varchar[] AS varchars`;

describe('the embedded database parser table', () => {
  const tmp = tempDataDir('trellis-parsers-');
  let db: Db;
  let reference: PGlite;

  beforeAll(async () => {
    db = await openDb({ dataDir: tmp.dir });
    // PGlite as it comes, in memory: the full table.
    reference = await PGlite.create();
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await reference?.close();
    tmp.remove();
  });

  it('parses every type PGlite parses, arrays included, exactly as the full table does', async () => {
    const [trimmed] = await db.sql.query(EVERY_PARSED_TYPE);
    const [expected] = (await reference.query(EVERY_PARSED_TYPE)).rows;
    expect(trimmed).toEqual(expected);
    // Parsed, not text: the comparison would also pass if neither side parsed.
    expect(trimmed).toMatchObject({ ints: [1, 2], jsonbs: [{ c: 3 }], bools: [true, false] });
    expect((trimmed as { tstzs: unknown[] }).tstzs[0]).toBeInstanceOf(Date);
  });

  it('keeps a few dozen entries of the ~300 PGlite starts with, and Prisma reads as before', async () => {
    // The instance openDb made, caught as it answers a query.
    const proto = PGlite.prototype as unknown as { query: (...a: unknown[]) => Promise<unknown> };
    const query = proto.query;
    const seen: PGlite[] = [];
    proto.query = function (this: PGlite, ...a: unknown[]) {
      seen.push(this);
      return query.apply(this, a);
    };
    try {
      await db.sql.query('SELECT 1');
    } finally {
      proto.query = query;
    }
    const opened = seen[0];
    expect(Object.keys(opened.parsers).length).toBeLessThan(50);
    const before = Object.keys(reference.parsers).length;
    await trimArrayParsers(reference);
    expect(before).toBeGreaterThan(250);
    expect(Object.keys(reference.parsers)).toEqual(Object.keys(opened.parsers));
    // Prisma passes its own parsers per query; a typed read through it still works.
    const wf = await db.prisma.workflow.create({ data: { name: 'p', latestVersion: 0 } });
    expect((await db.prisma.workflow.findUnique({ where: { id: wf.id } }))?.createdAt).toBeInstanceOf(Date);
  });
});
