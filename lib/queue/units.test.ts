import { describe, expect, it } from 'vitest';
import type { SqlExecutor } from '@/lib/db/sql-executor';
import { decodeEvents, encodeEvent, packEvents } from './event-bridge';
import { workerDatabaseUrl } from './fencing';
import {
  JOB_HEARTBEAT_SECONDS,
  MAX_EVENT_PAYLOAD_BYTES,
  RUN_LEASE_MS,
  SUPERVISE_INTERVAL_SECONDS,
  TAKEOVER_BOUND_MS,
  RETRY_DELAY_SECONDS,
  NOTIFY_POLLING_SECONDS,
  LEASE_RENEW_MS,
  WORKER_IDLE_TRANSACTION_MS,
} from './limits';
import { RECONNECT_ATTEMPTS, isConnectionError, reconnectingExecutor } from './reconnect';
import { MAX_TICKS_PER_LOOK, dueTicks, tickJobId } from './schedules';
import { enqueuesOnCreate } from './run-queue';

describe('schedules', () => {
  it('lists the ticks of a cron in a window, in the time zone given', () => {
    const from = Date.parse('2026-03-01T07:59:30Z');
    const ticks = dueTicks({ cron: '0 9 * * *', timezone: 'Europe/Berlin' }, from, from + 120_000);
    expect(ticks.map((d) => d.toISOString())).toEqual(['2026-03-01T08:00:00.000Z']);
    expect(dueTicks({ cron: '0 9 * * *' }, from, from + 120_000)).toEqual([]);
    expect(dueTicks({ cron: 'not a cron' }, from, from + 1)).toEqual([]);
  });

  it(`keeps at most MAX_TICKS_PER_LOOK (${MAX_TICKS_PER_LOOK}) ticks per look, the newest`, () => {
    const from = Date.parse('2026-03-01T00:00:00Z');
    const ticks = dueTicks({ cron: '* * * * * *' }, from, from + 60_000);
    expect(ticks).toHaveLength(MAX_TICKS_PER_LOOK);
    expect(ticks.at(-1)!.getTime()).toBe(from + 60_000);
  });

  it('derives the same uuid for the same tick, a different one for another', () => {
    const at = new Date('2026-03-01T08:00:00Z');
    const id = tickJobId('wf', 'n', at);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(tickJobId('wf', 'n', new Date(at))).toBe(id);
    expect(tickJobId('wf', 'n', new Date(at.getTime() + 1000))).not.toBe(id);
  });
});

describe('limits', () => {
  it('bounds takeover: heartbeat + supervise + retry + poll fit TAKEOVER_BOUND_MS, and the lease ends first', () => {
    const worst =
      (JOB_HEARTBEAT_SECONDS +
        SUPERVISE_INTERVAL_SECONDS * 2 +
        RETRY_DELAY_SECONDS +
        NOTIFY_POLLING_SECONDS) *
      1000;
    expect(worst).toBeLessThanOrEqual(TAKEOVER_BOUND_MS);
    expect(TAKEOVER_BOUND_MS).toBeLessThanOrEqual(30_000);
    expect(RUN_LEASE_MS).toBeLessThanOrEqual(JOB_HEARTBEAT_SECONDS * 1000);
    expect(LEASE_RENEW_MS * 3).toBeLessThanOrEqual(RUN_LEASE_MS);
    // A paused worker's open transaction is ended before its lease can be taken over.
    expect(WORKER_IDLE_TRANSACTION_MS).toBeLessThan(RUN_LEASE_MS - LEASE_RENEW_MS);
  });
});

describe('event payloads', () => {
  it(`fit MAX_EVENT_PAYLOAD_BYTES (${MAX_EVENT_PAYLOAD_BYTES}) by dropping payload fields`, () => {
    const small = { type: 'run.finished', runId: 'r', status: 'succeeded', output: { a: 1 } } as const;
    expect(JSON.parse(encodeEvent(small as never))).toEqual(small);
    const big = { ...small, output: 'x'.repeat(MAX_EVENT_PAYLOAD_BYTES) };
    const enc = encodeEvent(big as never);
    expect(Buffer.byteLength(enc)).toBeLessThanOrEqual(MAX_EVENT_PAYLOAD_BYTES);
    expect(JSON.parse(enc)).toMatchObject({
      type: 'run.finished',
      runId: 'r',
      status: 'succeeded',
      truncated: true,
    });
  });
});

describe('event packing', () => {
  it(`packs events in order into notifications of at most MAX_EVENT_PAYLOAD_BYTES (${MAX_EVENT_PAYLOAD_BYTES})`, () => {
    const events = Array.from({ length: 500 }, (_, i) => ({
      type: 'step.finished',
      runId: 'r',
      stepId: `s${i}`,
      nodeId: 'x',
      status: 'succeeded',
      // Sizes vary, up to one event that fills a notification alone.
      ...(i === 250 ? { output: 'y'.repeat(MAX_EVENT_PAYLOAD_BYTES - 200) } : { output: 'é'.repeat(i % 40) }),
    }));
    const payloads = packEvents(events.map((e) => encodeEvent(e as never)));
    expect(payloads.length).toBeLessThan(events.length / 10);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_EVENT_PAYLOAD_BYTES);
    expect(payloads.flatMap(decodeEvents)).toEqual(events);
    expect(packEvents([])).toEqual([]);
  });

  it('still reads a notification holding one event', () => {
    const ev = { type: 'run.finished', runId: 'r', status: 'succeeded' };
    expect(decodeEvents(JSON.stringify(ev))).toEqual([ev]);
  });
});

describe('reconnect', () => {
  it(`retries connection errors up to RECONNECT_ATTEMPTS (${RECONNECT_ATTEMPTS}) times, nothing else`, async () => {
    let calls = 0;
    const failing = (err: Error & { code?: string }) =>
      ({
        kind: 'postgres',
        query: async () => {
          calls++;
          throw err;
        },
        exec: async () => {},
        transaction: async () => undefined as never,
      }) as unknown as SqlExecutor;
    const dropped = Object.assign(new Error('terminating connection due to administrator command'), {
      code: '57P01',
    });
    expect(isConnectionError(dropped)).toBe(true);
    await expect(reconnectingExecutor(failing(dropped)).query('x')).rejects.toThrow('terminating');
    expect(calls).toBe(RECONNECT_ATTEMPTS);
    calls = 0;
    const syntax = Object.assign(new Error('syntax error'), { code: '42601' });
    await expect(reconnectingExecutor(failing(syntax)).query('x')).rejects.toThrow('syntax');
    expect(calls).toBe(1);
  }, 20_000);
});

describe('run jobs', () => {
  it('are written with top-level new runs only', () => {
    expect(enqueuesOnCreate({ status: 'queued', parentRunId: null, trigger: 'manual' })).toBe(true);
    expect(enqueuesOnCreate({ status: 'queued', parentRunId: 'p', trigger: 'subworkflow' })).toBe(false);
    expect(enqueuesOnCreate({ status: 'queued', parentRunId: null, trigger: 'rerun:abc' })).toBe(false);
  });

  it('carry the worker id and the idle-transaction timeout as session settings in the worker URL', () => {
    const url = workerDatabaseUrl('postgresql://u@h:5432/db?sslmode=disable', 'host:12:ab');
    expect(new URL(url).searchParams.get('options')).toBe(
      `-c trellis.worker=host:12:ab -c idle_in_transaction_session_timeout=${WORKER_IDLE_TRANSACTION_MS}`,
    );
    expect(new URL(url).searchParams.get('sslmode')).toBe('disable');
    expect(() => workerDatabaseUrl('postgresql://h/db', "x' ; drop")).toThrow();
  });
});
