import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// Issue 21 (idle memory): Prisma's "fast" query compiler held ~50 MB more than the "small" one in
// every process after its first query, for no CPU a run could see (a run's query shapes are
// planned once and cached). The generated client is what runs: it must load the small build. A
// client generated before schema.prisma said so (stale lib/db/generated) fails here too.
const generated = path.join(import.meta.dirname, 'generated', 'internal', 'class.ts');

describe('the generated Prisma client', () => {
  it('loads the small query compiler, not the fast one', () => {
    const src = fs.readFileSync(generated, 'utf8');
    expect(src).toContain('@prisma/client/runtime/query_compiler_small_bg.postgresql.mjs');
    expect(src).not.toContain('query_compiler_fast_bg');
  });
});
