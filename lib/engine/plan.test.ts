import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  compileGraph,
  plan,
  recoverState,
  runOutput,
  selectRoots,
  stepInput,
  type NodeState,
} from './plan';
import { wf } from './testing/harness';
import type { StepRecord } from './trace-store';

const diamond = wf(
  [
    { id: 't', type: 'trigger.manual' },
    { id: 'c', type: 'condition' },
    { id: 'a', type: 'transform' },
    { id: 'b', type: 'transform' },
    { id: 'b2', type: 'transform' },
    { id: 'm', type: 'merge' },
    { id: 'o', type: 'output' },
  ],
  [
    ['t', 'c'],
    ['c', 'a', 'true'],
    ['c', 'b', 'false'],
    ['b', 'b2'],
    ['a', 'm'],
    ['b2', 'm'],
    ['m', 'o'],
  ],
);

const ok = (output: unknown, handle = 'out', seq = 0): NodeState => ({
  status: 'succeeded',
  output,
  handle,
  seq,
});

describe('plan', () => {
  const g = compileGraph(diamond);

  it('starts at the roots of a fresh graph', () => {
    expect(plan(g, new Map())).toEqual({ start: ['t'], skip: [] });
  });

  it('skips the branch a condition did not take, up to the merge', () => {
    const state = new Map([
      ['t', ok(1)],
      ['c', ok(1, 'true')],
    ]);
    expect(plan(g, state, { changed: ['c'] })).toEqual({ start: ['a'], skip: ['b', 'b2'] });
  });

  it('merge (all) waits for every incoming edge, then runs with the active ones keyed by source', () => {
    const state = new Map<string, NodeState>([
      ['t', ok(1)],
      ['c', ok(1, 'true')],
      ['a', ok('A')],
    ]);
    expect(plan(g, state, { changed: ['a'] }).start).toEqual([]);
    state.set('b', { status: 'skipped' });
    state.set('b2', { status: 'skipped' });
    expect(plan(g, state, { changed: ['b2'] }).start).toEqual(['m']);
    expect(stepInput(g, state, 'm', null)).toEqual({ a: 'A' });
  });

  it('merge (any) starts on the first active edge and takes the first output to arrive', () => {
    const any = compileGraph({
      ...diamond,
      nodes: diamond.nodes.map((n) => (n.id === 'm' ? { ...n, config: { mode: 'any' } } : n)),
    });
    const state = new Map<string, NodeState>([
      ['t', ok(1)],
      ['c', ok(1, 'true')],
      ['a', ok('A', 'out', 5)],
    ]);
    expect(plan(any, state, { changed: ['a'] }).start).toEqual(['m']);
    state.set('b2', ok('B', 'out', 3));
    expect(stepInput(any, state, 'm', null)).toBe('B');
  });

  it('a merge whose incoming edges are all inactive is skipped too', () => {
    const state = new Map<string, NodeState>([['t', { status: 'skipped' }]]);
    const d = plan(g, state, { changed: ['t'] });
    expect(new Set(d.skip)).toEqual(new Set(['c', 'a', 'b', 'b2', 'm', 'o']));
  });

  it('gives several upstream outputs keyed by node id, one as is', () => {
    const g2 = compileGraph(
      wf(
        [
          { id: 't', type: 'trigger.manual' },
          { id: 'x', type: 'transform' },
          { id: 'y', type: 'transform' },
          { id: 'z', type: 'transform' },
        ],
        [
          ['t', 'x'],
          ['t', 'y'],
          ['x', 'z'],
          ['y', 'z'],
        ],
      ),
    );
    const state = new Map([
      ['t', ok(0)],
      ['x', ok('X')],
      ['y', ok('Y')],
    ]);
    expect(stepInput(g2, state, 'x', 'in')).toBe(0);
    expect(stepInput(g2, state, 'z', null)).toEqual({ x: 'X', y: 'Y' });
  });

  it('picks the trigger node matching the run trigger, else every root', () => {
    const g3 = compileGraph(
      wf(
        [
          { id: 'm', type: 'trigger.manual' },
          { id: 'w', type: 'trigger.webhook' },
          { id: 'x', type: 'transform' },
        ],
        [
          ['m', 'x'],
          ['w', 'x'],
        ],
      ),
    );
    expect(plan(g3, new Map(), { roots: selectRoots(g3, 'webhook') })).toEqual({ start: ['w'], skip: ['m'] });
    expect(selectRoots(g3, 'subworkflow')).toBeNull();
  });

  it('rejects cycles', () => {
    expect(() =>
      compileGraph(
        wf(
          [
            { id: 'a', type: 'x' },
            { id: 'b', type: 'x' },
          ],
          [
            ['a', 'b'],
            ['b', 'a'],
          ],
        ),
      ),
    ).toThrow(/cycle/);
  });

  it('run output: one output node as is, several keyed by id, none null', () => {
    const g4 = compileGraph(
      wf(
        [
          { id: 'o1', type: 'output' },
          { id: 'o2', type: 'output' },
        ],
        [],
      ),
    );
    expect(runOutput(g4, new Map())).toBeNull();
    expect(runOutput(g4, new Map([['o1', ok(1)]]))).toBe(1);
    expect(
      runOutput(
        g4,
        new Map([
          ['o1', ok(1)],
          ['o2', ok(2)],
        ]),
      ),
    ).toEqual({ o1: 1, o2: 2 });
  });
});

describe('backoffDelay', () => {
  const policy = { maxAttempts: 5, backoffMs: 100, factor: 2 };
  it('grows exponentially and is jittered over [0, cap]', () => {
    expect([1, 2, 3].map((a) => backoffDelay(policy, a, () => 1))).toEqual([100, 200, 400]);
    expect(backoffDelay(policy, 3, () => 0)).toBe(0);
    expect(backoffDelay(policy, 2, () => 0.5)).toBe(100);
  });
  it('respects maxBackoffMs', () => {
    expect(backoffDelay({ ...policy, maxBackoffMs: 150 }, 4, () => 1)).toBe(150);
  });
});

describe('recoverState', () => {
  const g = compileGraph(diamond);
  const row = (
    nodeId: string,
    status: StepRecord['status'],
    attempt = 1,
    extra: Partial<StepRecord> = {},
  ): StepRecord => ({
    id: `${nodeId}-${attempt}`,
    runId: 'r',
    nodeId,
    nodeType: 'x',
    attempt,
    mode: 'workflow',
    input: null,
    startedAt: new Date(attempt),
    finishedAt: status === 'running' ? null : new Date(attempt + 1),
    status,
    ...extra,
  });

  it('takes the latest attempt per node, by node id', () => {
    const r = recoverState(
      g,
      [
        row('t', 'succeeded', 1, { output: 1 }),
        row('c', 'failed', 1),
        row('c', 'succeeded', 2, { output: 2, handle: 'true' }),
      ],
      { parentNodeId: null, itemIndex: null },
    );
    expect(r.state.get('c')).toMatchObject({ status: 'succeeded', output: 2, handle: 'true' });
  });

  it('marks running steps for a new attempt and keeps handled failures as settled', () => {
    const r = recoverState(
      g,
      [
        row('t', 'succeeded'),
        row('c', 'running', 2),
        row('a', 'failed', 1, { handle: 'out', output: { code: 'x' } }),
      ],
      { parentNodeId: null, itemIndex: null },
    );
    expect(r.retry.get('c')).toMatchObject({ nextAttempt: 3 });
    expect(r.state.get('a')).toMatchObject({ status: 'succeeded', handle: 'out' });
  });

  it('ignores map item steps of other frames', () => {
    const r = recoverState(g, [row('t', 'succeeded', 1, { parentNodeId: 'm', itemIndex: 0 })], {
      parentNodeId: null,
      itemIndex: null,
    });
    expect(r.state.size).toBe(0);
  });
});
