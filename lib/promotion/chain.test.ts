import { describe, expect, it } from 'vitest';
import { createSandboxServices } from '@/lib/sandbox';
import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
import {
  CHAIN_MIN_SAME_SEQUENCE,
  deriveChain,
  MAX_CHAIN_CALLS,
  MAX_SOURCE_PATHS,
  pathExpression,
  singleSource,
  type ChainCase,
} from './chain';
import { backtestChain, GRADUATION_MIN_CASES, proposeGraduation } from './graduate';

// Detecting and deriving a chain from recorded agent runs, and replaying it, on synthetic cases:
// the agent step `agent` (tools lookup and create, two saved workflows) fed by `start`.

const node = {
  id: 'agent',
  type: 'llm',
  position: { x: 0, y: 100 },
  config: { prompt: 'x' },
  mode: 'agent',
  agent: { instructions: '', tools: ['workflow:lookup', 'workflow:create'] },
} as unknown as WorkflowNode;
const definition = {
  schemaVersion: 1,
  name: 'Support',
  nodes: [{ id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} }, node],
  edges: [{ id: 'e1', source: 'start', target: 'agent' }],
} as WorkflowDefinition;
const sandbox = createSandboxServices();
const signal = new AbortController().signal;

/** Case i: lookup(email) → { id }, create({ customer: id, title }) → { ticket }; answer { ticket, id }. */
function recorded(i: number, opts: { skipLookup?: boolean; title?: string } = {}): ChainCase {
  const input = { email: `u${i}@x.org`, title: opts.title ?? `Issue ${i}` };
  const lookup = { name: 'workflow_lookup', args: { email: input.email }, result: { id: `c${i}` } };
  const create = {
    name: 'workflow_create',
    args: { customer: opts.skipLookup ? 'guest' : `c${i}`, title: input.title, priority: 'high' },
    result: { ticket: `t${i}` },
  };
  const calls = opts.skipLookup ? [create] : [lookup, create];
  return {
    seq: i,
    runId: `run-${i}`,
    stepId: `step-${i}`,
    runVersion: 1,
    input,
    expected: { ticket: `t${i}`, customer: opts.skipLookup ? 'guest' : `c${i}` },
    deterministicMs: null,
    deterministicCost: null,
    recorded: calls,
    calls,
  };
}
const cases = (n: number, varied = 0) =>
  Array.from({ length: n }, (_, i) => recorded(i, { skipLookup: i < varied }));

const noModel = () => Promise.reject(new Error('a chain proposal asks no model'));
const propose = (cs: ChainCase[]) =>
  proposeGraduation({
    cases: [],
    chat: noModel,
    sandbox,
    node,
    signal,
    source: singleSource(definition, node.id),
    chain: { cases: cs, definition },
  });

describe('deriveChain', () => {
  it('the same two calls every time: each argument from the input or the earlier result, constants kept', () => {
    const d = deriveChain({ cases: cases(6), node, definition });
    expect(d).toMatchObject({
      ok: true,
      sameSequence: 1,
      sequence: ['workflow_lookup', 'workflow_create'],
      value: {
        source: 'start',
        calls: [
          { id: 'agent_1', tool: 'workflow:lookup', args: { email: '{{ steps.start.output.email }}' } },
          {
            id: 'agent_2',
            tool: 'workflow:create',
            args: {
              customer: '{{ steps.agent_1.output.id }}',
              title: '{{ steps.start.output.title }}',
              priority: 'high',
            },
          },
        ],
        output: { ticket: '{{ steps.agent_2.output.ticket }}', customer: '{{ steps.agent_1.output.id }}' },
      },
    });
  });

  it(`varying sequences below ${CHAIN_MIN_SAME_SEQUENCE * 100}%: no chain, and the reason names the common one`, async () => {
    const g = await propose(cases(20, 2));
    expect(g).toMatchObject({ proposed: false, kind: 'chain', reason: 'varying_sequence', chain: null });
    expect(g.message).toBe(
      'The tool sequence varies: the most common one (workflow_lookup → workflow_create) is in 18 of 20 cases, below 95%',
    );
  });

  it('one odd case in twenty is within the threshold: derived from the others; the backtest counts the odd one', async () => {
    expect(19 / 20).toBeGreaterThanOrEqual(CHAIN_MIN_SAME_SEQUENCE);
    const g = await propose(cases(20, 1));
    expect(g).toMatchObject({ kind: 'chain', cases: 20, agreed: 19, agreement: 0.95, proposed: true });
    // The odd case's create call has other arguments than the chain renders: not recorded.
    expect(g.failures).toEqual([expect.objectContaining({ type: 'error:unprocessable', count: 1 })]);
    expect(JSON.stringify(g.failures[0].examples[0].actual)).toContain('not_recorded');
  });

  it('an argument that is no function of the input or earlier results: no chain, with the reason', () => {
    const cs = cases(6);
    cs.forEach((c, i) => ((c.calls[1].args as Record<string, unknown>).title = `random ${i * 7919}`));
    expect(deriveChain({ cases: cs, node, definition })).toMatchObject({
      ok: false,
      reason: 'arguments_not_derived',
      message:
        'The arguments of call 2 (workflow_create) are not a function of the input and earlier results',
    });
  });

  it(`more than ${MAX_CHAIN_CALLS} calls, a tool the step lacks, or several inputs: no chain`, () => {
    const long = cases(6).map((c) => ({
      ...c,
      calls: Array.from({ length: MAX_CHAIN_CALLS + 1 }, () => c.calls[0]),
    }));
    expect(deriveChain({ cases: long, node, definition })).toMatchObject({
      ok: false,
      reason: 'too_many_calls',
    });
    const other = cases(6).map((c) => ({ ...c, calls: [{ ...c.calls[0], name: 'http' }] }));
    expect(deriveChain({ cases: other, node, definition })).toMatchObject({
      ok: false,
      reason: 'unknown_tool',
    });
    const twoInputs = {
      ...definition,
      edges: [...definition.edges, { id: 'e2', source: 'other', target: 'agent' }],
    } as WorkflowDefinition;
    expect(deriveChain({ cases: cases(6), node, definition: twoInputs })).toMatchObject({
      ok: false,
      reason: 'not_single_input',
    });
  });

  it(`fewer than ${GRADUATION_MIN_CASES} agent runs: no chain`, async () => {
    expect(await propose(cases(GRADUATION_MIN_CASES - 1))).toMatchObject({
      proposed: false,
      reason: 'too_few_cases',
    });
  });

  it('the replay answers only recorded calls: a chain calling with other arguments scores nothing', async () => {
    const d = deriveChain({ cases: cases(6), node, definition });
    if (!d.ok) throw new Error(d.message);
    const wrong = {
      ...d.value,
      calls: [{ ...d.value.calls[0], args: { email: '{{ steps.start.output.title }}' } }, d.value.calls[1]],
    };
    const bt = await backtestChain({ cases: cases(6), plan: wrong, node, sandbox, signal });
    expect(bt).toMatchObject({ agreed: 0, cases: 6 });
    expect(bt.failures[0].examples[0].actual).toMatchObject({
      error: { message: expect.stringMatching(/^not_recorded/) },
    });
  });

  it(`a value only found past ${MAX_SOURCE_PATHS} paths of its source is not looked for`, () => {
    // The lookup result carries many fields before the id the next call uses (breadth-first order).
    const withPadding = (n: number) =>
      cases(6).map((c, i) => {
        const padded = {
          ...Object.fromEntries(Array.from({ length: n }, (_, k) => [`f${k}`, k])),
          id: `c${i}`,
        };
        const calls = [{ ...c.calls[0], result: padded }, c.calls[1]];
        return { ...c, calls };
      });
    // The result itself is path 1 and its fields follow: the id is path n + 2.
    expect(deriveChain({ cases: withPadding(MAX_SOURCE_PATHS - 2), node, definition }).ok).toBe(true);
    expect(deriveChain({ cases: withPadding(MAX_SOURCE_PATHS - 1), node, definition })).toMatchObject({
      ok: false,
      reason: 'arguments_not_derived',
    });
  });

  it('paths become expressions, quoting what is not an identifier', () => {
    expect(pathExpression('steps.a.output', ['x', 0, 'two words', 'ok'])).toBe(
      'steps.a.output.x[0]["two words"].ok',
    );
  });
});
