import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresUrl } from '@/lib/db/testing/databases';
import { percentileOf } from '@/lib/workflow/stats';
import {
  measureStarvation,
  openStarvationHost,
  SAMPLE_EVERY_MS,
  type StarvationHost,
  type StarvationMode,
} from '@/lib/server/testing/starvation';

// Issue 14 item 1: one run cannot starve the server. While a 100,000-step run (nested maps,
// 100 × 1,000 items) executes in this process, GET /api/health (the real handler behind a real
// HTTP server on 127.0.0.1) keeps answering, and a cancel takes effect within CANCEL_BOUND_MS (no
// step starts later, nothing runs afterwards). Embedded mode runs the engine in this process;
// server mode runs a queue worker in this process, so both share the event loop with the API.
// Latency figures are the bench's (`npm run bench:starvation`); what is asserted here is that
// health is served again and again while the run goes on: a run that holds the event loop (the
// bug: 25 s per answer) leaves only a sample or two in the window.

const CANCEL_BOUND_MS = 1_000;
const SAMPLE_FOR_MS = 4_000;
/** Answers health must give in SAMPLE_FOR_MS: one a second, some 40× fewer than an idle server's. */
const MIN_HEALTH_ANSWERS = 4;

const modes: StarvationMode[] = ['embedded', ...(postgresUrl ? (['server'] as const) : [])];

describe.each(modes)('a 100,000-step run does not starve the server: %s', (mode) => {
  let host: StarvationHost;

  beforeAll(async () => {
    host = await openStarvationHost(mode, postgresUrl);
  }, 60_000);

  afterAll(async () => {
    await host?.close();
  }, 60_000);

  it(`health answers while it runs, and a cancel is effective within ${CANCEL_BOUND_MS} ms`, async () => {
    const r = await measureStarvation(host, {
      sampleForMs: SAMPLE_FOR_MS,
      settleMs: CANCEL_BOUND_MS + 2_000,
    });
    const ms = r.busy.map((s) => s.ms);
    const p = (q: number) => Math.round(percentileOf(ms, q)!);
    console.log(
      `starvation (${mode}): ${r.busy.length} health answers in ${SAMPLE_FOR_MS} ms (one per ${SAMPLE_EVERY_MS} ms ` +
        `when idle), p50 ${p(50)} ms p99 ${p(99)} ms max ${p(100)} ms; event-loop delay p99 ` +
        `${Math.round(r.loopDelayP99)} ms; ${r.stepsBeforeCancel} steps by the cancel; last step start ` +
        `${r.lastStartAfterCancelMs} ms after it`,
    );
    expect(r.statusBeforeCancel).toBe('running'); // the run was going on while health answered
    expect(r.stepsBeforeCancel).toBeGreaterThan(200);
    expect(r.busy.every((s) => s.status === 200)).toBe(true);
    expect(r.busy.length).toBeGreaterThanOrEqual(MIN_HEALTH_ANSWERS);

    expect(r.cancelAccepted).toBe(true);
    expect(r.lastStartAfterCancelMs).toBeLessThan(CANCEL_BOUND_MS);
    expect(r.stepsLater).toBe(r.stepsSettled); // nothing runs any more
    expect(r.statusAfter).toBe('cancelled');
  }, 120_000);
});
