import { afterAll, describe, expect, it } from 'vitest';
import { MAX_KNOWN_RUNS, SqlTraceStore } from './sql-trace-store';
import { countStatements } from './testing/statement-counter';
import { useEmbeddedDb } from './testing/embedded-db';
import { newRun, stepStart } from './testing/trace-records';

// A worker lives for days and sees runs without end: the ids it remembers as existing are bounded
// (MAX_KNOWN_RUNS), and one that has dropped out costs a lookup, never a wrong answer.

const ctx = useEmbeddedDb('trellis-known-runs-');
const log = countStatements();
afterAll(() => log.uninstall());

const existenceChecks = () => log.statements.filter((s) => s.startsWith('SELECT 1 FROM "Run"')).length;

describe('remembered runs', () => {
  it('keeps at most MAX_KNOWN_RUNS ids; a forgotten run is looked up again and still traced', async () => {
    expect(MAX_KNOWN_RUNS).toBe(10_000);
    const store = new SqlTraceStore(ctx.db, { maxKnownRuns: 2, deferRunStart: false });
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push(await store.createRun(newRun({ input: {} })));
    const step = (runId: string) =>
      store.startStep(
        stepStart(runId, { nodeId: 'a', nodeType: 'transform', input: {}, startedAt: new Date() }),
      );
    log.start();
    await step(runs[2].id); // the newest: remembered
    await step(runs[1].id);
    expect(existenceChecks()).toBe(0);
    await step(runs[0].id); // the oldest, dropped when the third was created: one lookup
    expect(existenceChecks()).toBe(1);
    await step(runs[0].id); // remembered again
    expect(existenceChecks()).toBe(1);
    log.stop();
    await store.flush();
    const [{ n }] = await ctx.db.sql.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "Step" WHERE "runId" = ANY($1::text[])`,
      [runs.map((r) => r.id)],
    );
    expect(n).toBe(4);
    await store.close();
  });
});
