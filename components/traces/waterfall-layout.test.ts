import { describe, expect, it } from 'vitest';
import { axisTicks, layoutWaterfall } from './waterfall-layout';
import type { StepSummary } from './types';

const t0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number) => new Date(t0 + ms).toISOString();
let n = 0;
function step(p: Partial<StepSummary> & { nodeId: string; from: number; to?: number }): StepSummary {
  const { from, to, ...rest } = p;
  return {
    id: `s${++n}`,
    nodeType: 'code',
    attempt: 1,
    mode: 'workflow',
    status: to === undefined ? 'running' : 'succeeded',
    startedAt: at(from),
    finishedAt: to === undefined ? null : at(to),
    ...rest,
  };
}

describe('layoutWaterfall', () => {
  it('puts retries of one node on one row with the backoff gap between them', () => {
    const l = layoutWaterfall(
      [
        step({ nodeId: 'start', from: 0, to: 2 }),
        step({ nodeId: 'fetch', from: 5, to: 20, status: 'failed' }),
        step({ nodeId: 'fetch', from: 120, to: 150, attempt: 2 }),
      ],
      at(0),
    );
    expect(l.rows.map((r) => r.nodeId)).toEqual(['start', 'fetch']);
    expect(l.rows[1].bars.map((b) => [b.start, b.end])).toEqual([
      [5, 20],
      [120, 150],
    ]);
    expect(l.rows[1].gaps).toEqual([{ start: 20, end: 120 }]);
    expect(l.totalMs).toBe(150);
  });

  it('gives parallel branches their own rows and keeps map items under their map', () => {
    const l = layoutWaterfall(
      [
        step({ nodeId: 'a', from: 10, to: 50 }),
        step({ nodeId: 'b', from: 10, to: 40 }),
        step({ nodeId: 'each', from: 60, to: 100 }),
        step({ nodeId: 'body', parentNodeId: 'each', itemIndex: 1, from: 61, to: 90 }),
        step({ nodeId: 'body', parentNodeId: 'each', itemIndex: 0, from: 62, to: 80 }),
        step({ nodeId: 'out', from: 101, to: 102 }),
      ],
      at(0),
    );
    expect(l.rows.map((r) => `${r.nodeId}${r.itemIndex ?? ''}:${r.depth}`)).toEqual([
      'a:0',
      'b:0',
      'each:0',
      'body0:1',
      'body1:1',
      'out:0',
    ]);
  });

  it('grows open bars until now and falls back to the first step as origin', () => {
    const l = layoutWaterfall([step({ nodeId: 'wait', from: 100, status: 'waiting' })], null, t0 + 400);
    expect(l.rows[0].bars[0]).toMatchObject({ start: 0, end: 300, open: true });
    const paused = layoutWaterfall(
      [step({ nodeId: 'ask', from: 10, to: 11, status: 'waiting' })],
      at(0),
      t0 + 500,
    );
    expect(paused.rows[0].bars[0]).toMatchObject({ start: 10, end: 500, open: true });
  });
});

describe('layoutWaterfall ties', () => {
  it('orders steps that started together by the definition order', () => {
    const steps = [step({ nodeId: 'z', from: 5, to: 5 }), step({ nodeId: 'a', from: 5, to: 5 })];
    expect(layoutWaterfall(steps, at(0)).rows.map((r) => r.nodeId)).toEqual(['a', 'z']);
    const order = new Map([
      ['z', 0],
      ['a', 1],
    ]);
    expect(layoutWaterfall(steps, at(0), Date.now(), order).rows.map((r) => r.nodeId)).toEqual(['z', 'a']);
  });
});

describe('axisTicks', () => {
  it('uses 1/2/5 steps', () => {
    expect(axisTicks(1000, 5)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(axisTicks(130, 6)).toEqual([0, 50, 100, 150]);
  });
});
