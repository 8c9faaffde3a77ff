import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TraceStore } from '@/lib/engine/trace-store';
import { openDb, type Db } from './client';
import { MAX_TRACE_FIELD_BYTES as MAX_PAYLOAD_BYTES, toTraceJson as toStoredJson } from '@/lib/payload';
import { SqlTraceStore } from './sql-trace-store';
import { createTempPostgres, postgresUrl, tempDataDir } from './testing/databases';
import { traceStoreContract, type TraceStoreHarness } from './testing/trace-store-contract';

function prismaHarness(db: Db, cleanup: () => Promise<void>): TraceStoreHarness {
  const stores: SqlTraceStore[] = [];
  return {
    store(opts) {
      const s = new SqlTraceStore(db, opts);
      stores.push(s);
      return s;
    },
    capsPayloads: true,
    sharedStorage: true,
    async close() {
      await Promise.allSettled(stores.map((s) => s.close()));
      await db.close();
      await cleanup();
    },
  };
}

traceStoreContract('SqlTraceStore on PGlite', async () => {
  const tmp = tempDataDir();
  return prismaHarness(await openDb({ dataDir: tmp.dir }), async () => tmp.remove());
});

if (postgresUrl) {
  traceStoreContract('SqlTraceStore on Postgres', async () => {
    const pg = await createTempPostgres('tracestore');
    return prismaHarness(await openDb({ databaseUrl: pg.url }), pg.drop);
  });
} else {
  describe.skip('TraceStore contract: SqlTraceStore on Postgres (DATABASE_URL not set)', () => {
    it('skipped', () => {});
  });
}

// The engine's in-memory store is written by another area; run the same contract when it exists.
const memoryStorePath = path.resolve(import.meta.dirname, '../engine/memory-trace-store.ts');
if (fs.existsSync(memoryStorePath)) {
  traceStoreContract('MemoryTraceStore', async () => {
    const mod = (await import('@/lib/engine/memory-trace-store')) as {
      MemoryTraceStore: new () => TraceStore;
    };
    const store = new mod.MemoryTraceStore();
    return { store: () => store, capsPayloads: false, sharedStorage: true, close: async () => {} };
  });
}

describe('payload capping', () => {
  it('MAX_PAYLOAD_BYTES is 256 KiB and a value of exactly that size is stored whole', () => {
    expect(MAX_PAYLOAD_BYTES).toBe(256 * 1024);
    const exact = 'a'.repeat(MAX_PAYLOAD_BYTES - 2); // plus the two quotes
    expect(toStoredJson(exact)).toBe(JSON.stringify(exact));
    const over = JSON.parse(toStoredJson(exact + 'a')!);
    expect(over).toMatchObject({ $truncated: true, bytes: MAX_PAYLOAD_BYTES + 1 });
  });

  it('keeps NUL characters storable and leaves escaped backslashes alone', () => {
    expect(JSON.parse(toStoredJson('a\u0000b')!)).toBe('a\ufffdb');
    expect(JSON.parse(toStoredJson('a\\u0000b')!)).toBe('a\\u0000b');
  });

  it('stores values JSON cannot express as a marker instead of failing', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(JSON.parse(toStoredJson(cyclic)!)).toMatchObject({ $unserializable: true });
    expect(toStoredJson(undefined)).toBeNull();
  });
});
