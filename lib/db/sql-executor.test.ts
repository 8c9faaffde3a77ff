import { PGlite } from '@electric-sql/pglite';
import { afterAll, describe, expect, it } from 'vitest';
import { pgliteExecutor } from './sql-executor';

// A `$n::json` parameter reaches PGlite as UTF-8 bytes in the binary format (json_recv), not as a
// string its JavaScript loop measures and encodes: the text Postgres reads must be the same.

const db = new PGlite();
const sql = pgliteExecutor(db);
afterAll(() => db.close());

describe('pgliteExecutor: json parameters', () => {
  it('arrive as the same text: multi-byte characters, escapes, a large value', async () => {
    const rows = [
      { t: 'é€😀 \\ " \n \u2028', n: 1 },
      { t: 'x'.repeat(300_000), n: 2 },
    ];
    const got = await sql.query<{ t: string; n: number }>(
      'SELECT x.t, x.n FROM json_to_recordset($1::json) AS x(t text, n int) ORDER BY x.n',
      [JSON.stringify(rows)],
    );
    expect(got).toEqual(rows);
  });

  it('serializes a value that is not a string, and leaves jsonb parameters as they were', async () => {
    const [row] = await sql.query<{ a: unknown; b: unknown }>('SELECT $1::json AS a, $2::jsonb AS b', [
      { k: 'é' },
      JSON.stringify({ k: '€' }),
    ]);
    expect(row).toEqual({ a: { k: 'é' }, b: { k: '€' } });
  });
});
