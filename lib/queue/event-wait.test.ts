import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EngineEvent } from '@/lib/engine/events';
import type { RunOutcome } from '@/lib/engine/engine';
import { pgPoolExecutor } from '@/lib/db/sql-executor';
import { createEventPublisher, listenRunEvents } from './event-bridge';
import { RECENT_FINISHES_KEPT, RunEventHub } from '@/lib/server/run-events';
import { waitForRunToStop } from './run-queue';
import { pgAvailable, tempQueueDb } from './testing/queue-db';

// Issue 21: a webhook that answers after the run waits on the worker's run.finished. The event is
// sent as soon as the run ends (not after EVENT_FLUSH_MS), and it carries the outcome, so the web
// process does not read the run back unless the event had to be cut to fit a NOTIFY.

function hub() {
  const listeners = new Set<(ev: EngineEvent) => void>();
  return {
    subscribe: (_runId: string, l: (ev: EngineEvent) => void) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    publish: (ev: EngineEvent) => listeners.forEach((l) => l(ev)),
  };
}

describe('waitForRunToStop', () => {
  it('answers with the outcome a run.finished event carries, without reading the run back', async () => {
    const events = hub();
    let reads = 0;
    const read = async (runId: string): Promise<RunOutcome> => (reads++, { runId, status: 'running' });
    const waiting = waitForRunToStop(read, events.subscribe, 'r1', 60_000);
    await new Promise((r) => setTimeout(r, 10));
    events.publish({ type: 'run.finished', runId: 'r1', status: 'succeeded', output: { n: 1 } });
    expect(await waiting).toEqual({ runId: 'r1', status: 'succeeded', output: { n: 1 }, error: null });
    expect(reads).toBe(0); // the database is the backstop after pollMs, not a first look
  });

  it('answers from an outcome that arrived before the caller subscribed, without reading the run', async () => {
    const events = new RunEventHub(RECENT_FINISHES_KEPT);
    let reads = 0;
    const read = async (runId: string): Promise<RunOutcome> => (reads++, { runId, status: 'running' });
    events.publish({ type: 'run.finished', runId: 'early', status: 'failed', error: null });
    const out = await waitForRunToStop(
      read,
      (id, l) => events.subscribe(id, l),
      'early',
      60_000,
      (id) => events.finished(id),
    );
    expect(out).toEqual({ runId: 'early', status: 'failed', output: null, error: null });
    expect(reads).toBe(0);
  });

  it('reads the run after pollMs when no event comes (a lost NOTIFY)', async () => {
    const events = hub();
    let reads = 0;
    const read = async (runId: string): Promise<RunOutcome> => (
      reads++,
      { runId, status: 'succeeded', output: 2 }
    );
    expect(await waitForRunToStop(read, events.subscribe, 'lost', 5)).toEqual({
      runId: 'lost',
      status: 'succeeded',
      output: 2,
    });
    expect(reads).toBe(1);
  });

  it('reads the run when the event was cut to fit a NOTIFY', async () => {
    const events = hub();
    let done = false;
    const read = async (runId: string): Promise<RunOutcome> =>
      done ? { runId, status: 'succeeded', output: 'big' } : { runId, status: 'running' };
    const waiting = waitForRunToStop(read, events.subscribe, 'r2', 60_000);
    await new Promise((r) => setTimeout(r, 10));
    done = true;
    events.publish({
      type: 'run.finished',
      runId: 'r2',
      status: 'succeeded',
      truncated: true,
    } as EngineEvent);
    expect(await waiting).toEqual({ runId: 'r2', status: 'succeeded', output: 'big' });
  });
});

describe('RunEventHub recent outcomes', () => {
  it(`keeps the last ${RECENT_FINISHES_KEPT} final outcomes, not parked ones, and none unless asked`, () => {
    const hub = new RunEventHub(RECENT_FINISHES_KEPT);
    for (let i = 0; i <= RECENT_FINISHES_KEPT; i++)
      hub.publish({ type: 'run.finished', runId: `r${i}`, status: 'succeeded', output: i });
    expect(hub.finished('r0')).toBeUndefined(); // the oldest went first
    expect(hub.finished('r1')).toMatchObject({ status: 'succeeded', output: 1 });
    expect(hub.finished(`r${RECENT_FINISHES_KEPT}`)).toMatchObject({ output: RECENT_FINISHES_KEPT });
    hub.publish({ type: 'run.finished', runId: 'parked', status: 'waiting' });
    expect(hub.finished('parked')).toBeUndefined(); // resumed later: its outcome would go stale
    hub.publish({ type: 'run.finished', runId: 'cut', status: 'succeeded', truncated: true } as EngineEvent);
    expect(hub.finished('cut')).toBeUndefined(); // read back from the store instead
    const embedded = new RunEventHub();
    embedded.publish({ type: 'run.finished', runId: 'x', status: 'succeeded', output: 'big' });
    expect(embedded.finished('x')).toBeUndefined();
  });
});

describe.skipIf(!pgAvailable)('event publisher (Postgres NOTIFY)', () => {
  let tmp: Awaited<ReturnType<typeof tempQueueDb>>;
  let pool: pg.Pool;
  beforeAll(async () => {
    tmp = await tempQueueDb('events');
    pool = new pg.Pool({ connectionString: tmp.url, max: 2 });
  });
  afterAll(async () => {
    await pool?.end();
    await tmp?.drop();
  });

  it('sends run.finished, and what was batched before it, without waiting for the flush timer', async () => {
    const got: EngineEvent[] = [];
    let arrived!: () => void;
    const finished = new Promise<void>((r) => (arrived = r));
    const listener = listenRunEvents(tmp.url, (ev) => {
      got.push(ev);
      if (ev.type === 'run.finished') arrived();
    });
    try {
      await vi.waitFor(async () => {
        // LISTEN is up once a probe notification comes back.
        await pool.query(`SELECT pg_notify('trellis_run_events', '{"type":"probe","runId":"p"}')`);
        expect(got.length).toBeGreaterThan(0);
      });
      got.length = 0;
      const publisher = createEventPublisher(pgPoolExecutor(pool));
      // The flush timer never fires in this test: only sending at run.finished delivers anything.
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      try {
        publisher.publish({
          type: 'run.started',
          runId: 'r',
          parentRunId: null,
          parentStepId: null,
          resumed: false,
        });
        publisher.publish({ type: 'run.finished', runId: 'r', status: 'succeeded', output: 1 });
      } finally {
        vi.useRealTimers();
      }
      await finished;
      // Late probes (vi.waitFor may have sent several) are not the publisher's.
      const types = got.map((e) => e.type as string).filter((t) => t !== 'probe');
      expect(types).toEqual(['run.started', 'run.finished']);
    } finally {
      await listener.close();
    }
  });
});
