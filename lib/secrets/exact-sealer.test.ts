import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';
import { useEmbeddedDb } from '@/lib/db/testing/embedded-db';
import { SecretRedactor } from '@/lib/payload';
import { exactSealer } from './exact-sealer';

const KEY = randomBytes(32);
const SECRET = 'sk-exact-Qv8/Wr+e5 p@ss';

describe('exactSealer', () => {
  it('round-trips, and the sealed text shows nothing of the value', () => {
    const s = exactSealer(() => KEY);
    const text = JSON.stringify({ token: SECRET });
    const sealed = s.seal(text);
    expect(sealed).not.toContain('sk-exact');
    expect(s.open(sealed)).toBe(text);
  });

  it('reads an unsealed copy (written before sealing, or without a key) as it is', () => {
    expect(exactSealer(() => KEY).open('{"a":1}')).toBe('{"a":1}');
    const none = exactSealer(() => null);
    expect(none.seal('"x"')).toBe('"x"');
    expect(() => none.open(exactSealer(() => KEY).seal('"x"'))).toThrow(/TRELLIS_SECRET_KEY|key/i);
  });

  it('refuses a sealed copy under another key instead of returning garbage', () => {
    const sealed = exactSealer(() => KEY).seal('"x"');
    expect(() => exactSealer(() => randomBytes(32)).open(sealed)).toThrow();
  });
});

describe('a trace store with the sealer', () => {
  const ctx = useEmbeddedDb();

  it('stores the exact input and output sealed, and the engine still reads them exactly', async () => {
    const redactor = new SecretRedactor();
    redactor.remember([SECRET]);
    const store = new SqlTraceStore(ctx.db, { redact: redactor.redact, sealExact: exactSealer(() => KEY) });
    const run = await store.createRun({
      workflowId: null,
      workflowVersionId: null,
      version: null,
      definition: { schemaVersion: 1, name: 'sealed', nodes: [], edges: [] },
      input: { token: SECRET },
      trigger: 'manual',
    });
    const stepId = await store.startStep({
      runId: run.id,
      nodeId: 'n',
      nodeType: 'code',
      attempt: 1,
      mode: 'workflow',
      input: null,
      startedAt: new Date(),
    });
    await store.finishStep(stepId, {
      status: 'succeeded',
      output: { token: SECRET },
      executableOutput: { token: SECRET },
      finishedAt: new Date(),
    });
    await store.flush();

    expect(await store.runInput(run.id)).toEqual({ token: SECRET });
    expect((await store.listSteps(run.id))[0].executableOutput).toEqual({ token: SECRET });
    const rows = await ctx.db.sql.query<{ row: string }>(
      `SELECT row_to_json(t)::text AS row FROM "Run" t UNION ALL SELECT row_to_json(s)::text FROM "Step" s`,
    );
    const dump = rows.map((r) => r.row).join('\n');
    expect(dump).toContain('[REDACTED]');
    expect(dump).not.toContain('sk-exact');
    await store.close();
  });
});
