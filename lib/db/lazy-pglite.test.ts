import { describe, expect, it } from 'vitest';
import { importRefusing } from '@/lib/server/testing/import-probe';

// Issue 21 (idle memory): PGlite is ~45 MB of RSS once imported. A server-mode process (web or
// worker) must never import it: openDb loads it for the embedded database only.

describe('server mode does not load PGlite', () => {
  it('the runtime, the queue worker and the database client import without it', () => {
    const r = importRefusing(
      ['lib/db/client.ts', 'lib/server/runtime.ts', 'lib/queue/worker.ts'],
      ['@electric-sql/pglite', 'pglite-prisma-adapter'],
    );
    expect(r.stderr).not.toMatch(/refused import/);
    expect(r.stdout.trim()).toBe('ok');
  }, 60_000);
});
