import type { PGlite } from '@electric-sql/pglite';

// PGlite copies its instance's parser table into a new object for every result it parses
// (`{ ...this.parsers, ...options.parsers }`). At open it adds a parser for every array type of
// the catalog (~300, keyed by OIDs up to the 10,000s: information_schema's and every table's row
// types), and spreading that sparse table took ~0.1–0.3 ms per statement, a tenth of a short
// run's embedded cost (issue 21). An array parser only turns its element strings into values when
// the element type has a parser of its own; for every other array the elements stay strings. So
// the table keeps PGlite's scalar parsers and the arrays of those types: every value parses as
// before, except an array of an unparsed type (uuid[], an enum array, a row type's array), which
// no Trellis query returns, and which would read as its text '{…}' instead of a list of strings.

/** The instance's parser table with only the entries that turn a value into something else. */
export async function trimArrayParsers(client: PGlite): Promise<void> {
  // Loaded here, not at the top: a server-mode process never loads PGlite (client.ts).
  const { types } = await import('@electric-sql/pglite');
  const scalar = Object.keys(types.parsers).map(Number).filter(Number.isInteger);
  const arrays = await client.query<{ typarray: number }>(
    `SELECT typarray::int AS typarray FROM pg_catalog.pg_type WHERE oid = ANY($1::oid[]) AND typarray <> 0`,
    [scalar],
  );
  const keep = new Set([...scalar, ...arrays.rows.map((r) => r.typarray)]);
  const trimmed: Record<number, (x: string, typeId?: number) => unknown> = {};
  for (const oid of keep) if (client.parsers[oid]) trimmed[oid] = client.parsers[oid];
  client.parsers = trimmed;
}
