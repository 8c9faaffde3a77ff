import { describe, expect, it } from 'vitest';
import { attemptsOf, nodeOutcomes } from './node-outcomes';
import type { StepSummary } from './types';

const s = (p: Partial<StepSummary> & { id: string; nodeId: string }): StepSummary => ({
  nodeType: 'code',
  attempt: 1,
  mode: 'workflow',
  status: 'succeeded',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: '2026-01-01T00:00:00.010Z',
  ...p,
});

describe('nodeOutcomes', () => {
  const steps = [
    s({ id: '1', nodeId: 'fetch', status: 'failed' }),
    s({ id: '2', nodeId: 'fetch', attempt: 2, startedAt: '2026-01-01T00:00:01.000Z' }),
    s({ id: '3', nodeId: 'classify', mode: 'fallback' }),
    s({ id: '4', nodeId: 'each' }),
    s({ id: '5', nodeId: 'body', parentNodeId: 'each', itemIndex: 0 }),
    s({ id: '6', nodeId: 'body', parentNodeId: 'each', itemIndex: 1, status: 'failed' }),
  ];
  it('takes the latest attempt, counts attempts and refines by mode', () => {
    const o = nodeOutcomes(steps);
    expect(o.get('fetch')).toMatchObject({ outcome: 'succeeded', attempts: 2, lastStepId: '2' });
    expect(o.get('classify')?.outcome).toBe('fallback');
    expect(o.get('each')).toMatchObject({ items: 2, failedItems: 1 });
    expect(o.has('body')).toBe(false);
  });
  it('lists the attempts of one node in order', () => {
    expect(attemptsOf(steps, steps[1]).map((x) => x.id)).toEqual(['1', '2']);
    expect(attemptsOf(steps, steps[5]).map((x) => x.id)).toEqual(['6']);
  });
});
