import { describe, expect, it } from 'vitest';
import { TrellisError } from '@/lib/workflow/errors';
import { approval } from './approval';
import { code } from './code';
import { condition } from './condition';
import type { Clock, ExpressionScope, NodeDefinition, NodeRunContext, NodeServices } from './define-node';
import { delay, INLINE_DELAY_MAX_MS } from './delay';
import { map } from './map';
import { merge } from './merge';
import { output } from './output';
import { subworkflow } from './subworkflow';
import { switchNode } from './switch';
import { transform } from './transform';
import { triggerManual } from './trigger-manual';
import { triggerSchedule } from './trigger-schedule';
import { triggerWebhook } from './trigger-webhook';

// Nodes reach the sandbox only through ctx.services; these tests stand in a tiny evaluator that
// resolves dotted references against the scope, which is all the node logic needs to be checked.
const lookup = (expr: string, scope: ExpressionScope): unknown =>
  expr
    .trim()
    .split('.')
    .reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], scope as unknown);

function makeServices(extra: Partial<NodeServices> = {}): NodeServices & { calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    async evaluate(expression, scope) {
      calls.push(`evaluate:${expression}`);
      if (expression === 'true') return true;
      if (expression === 'false') return false;
      return lookup(expression, scope);
    },
    async runCode(body, scope) {
      calls.push(`runCode:${body}`);
      return { ran: body, input: scope.input };
    },
    async render(template, scope) {
      calls.push('render');
      if (typeof template === 'string') {
        const whole = /^\{\{(.*)\}\}$/.exec(template);
        if (whole) return lookup(whole[1], scope);
        return template.replace(/\{\{(.*?)\}\}/g, (_, e: string) => String(lookup(e, scope)));
      }
      return template;
    },
    ...extra,
  };
}

function fakeClock(now = 1_000_000): Clock & { slept: number[] } {
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    async sleep(ms, signal) {
      if (signal?.aborted) throw new Error('aborted');
      slept.push(ms);
    },
  };
}

function ctx<C>(
  def: NodeDefinition,
  config: C,
  opts: { input?: unknown; services?: NodeServices; clock?: Clock; scope?: Partial<ExpressionScope> } = {},
): NodeRunContext<C> {
  return {
    runId: 'run1',
    node: { id: 'n', type: def.type, position: { x: 0, y: 0 }, config: config as Record<string, unknown> },
    config,
    input: opts.input,
    scope: {
      input: { who: 'ada' },
      steps: { a: { output: { items: [1, 2, 3], n: 5 } } },
      env: {},
      secrets: {},
      ...opts.scope,
    },
    signal: new AbortController().signal,
    clock: opts.clock ?? fakeClock(),
    attempt: 1,
    services: opts.services ?? makeServices(),
  };
}

const run = <C>(def: NodeDefinition, config: C, opts?: Parameters<typeof ctx>[2]) =>
  def.run(ctx(def, def.config.parse(config), opts) as never);

describe('node run()', () => {
  it('triggers output the run input; schedule outputs { firedAt }', async () => {
    expect(await run(triggerManual, {})).toEqual({ kind: 'done', output: { who: 'ada' } });
    expect(await run(triggerWebhook, {})).toEqual({ kind: 'done', output: { who: 'ada' } });
    const fired = await run(
      triggerSchedule,
      { cron: '* * * * *' },
      { clock: fakeClock(Date.UTC(2030, 0, 2)) },
    );
    expect(fired).toEqual({ kind: 'done', output: { firedAt: '2030-01-02T00:00:00.000Z' } });
    const given = await run(
      triggerSchedule,
      { cron: '* * * * *' },
      { scope: { input: { firedAt: '2031-05-05T10:00:00.000Z' } } },
    );
    expect(given).toMatchObject({ output: { firedAt: '2031-05-05T10:00:00.000Z' } });
  });

  it('transform and output render their value template', async () => {
    expect(await run(transform, { value: '{{ steps.a.output.n }}' })).toEqual({ kind: 'done', output: 5 });
    expect(await run(output, { value: 'hi {{ input.who }}' })).toEqual({ kind: 'done', output: 'hi ada' });
  });

  it('code runs its body through services.runCode', async () => {
    const services = makeServices();
    expect(await run(code, { code: 'return 1;' }, { services })).toEqual({
      kind: 'done',
      output: { ran: 'return 1;', input: { who: 'ada' } },
    });
    expect(services.calls).toEqual(['runCode:return 1;']);
  });

  it("code labels its own throw as the code's failure, with the thrown message", async () => {
    const { runCode } = await import('@/lib/sandbox');
    const services = makeServices({ runCode: (body, scope) => runCode(body, scope) });
    const err = await run(code, { code: "throw new Error('boom')" }, { services }).catch((e) => e);
    expect(err).toBeInstanceOf(TrellisError);
    expect((err as TrellisError).code).toBe('node_error');
    expect((err as TrellisError).message).toBe('The code threw: Error: boom');
    expect((err as TrellisError).details).toMatchObject({ thrownBy: 'code' });
    // Not a code error: a syntax error keeps its own code.
    const syntax = await run(code, { code: 'return (' }, { services }).catch((e) => e);
    expect((syntax as TrellisError).code).toBe('expression_syntax_error');
  });

  it('condition passes its input on through true or false', async () => {
    expect(await run(condition, { expression: 'true' }, { input: 7 })).toEqual({
      kind: 'done',
      output: 7,
      handle: 'true',
    });
    expect(await run(condition, { expression: 'steps.a.output.missing' }, { input: 7 })).toEqual({
      kind: 'done',
      output: 7,
      handle: 'false',
    });
  });

  it('switch takes the first true case, else default', async () => {
    const services = makeServices();
    const cases = [
      { id: 'no', expression: 'false' },
      { id: 'yes', expression: 'true' },
      { id: 'also', expression: 'true' },
    ];
    expect(await run(switchNode, { cases }, { input: 'x', services })).toEqual({
      kind: 'done',
      output: 'x',
      handle: 'yes',
    });
    expect(services.calls).toEqual(['evaluate:false', 'evaluate:true']);
    expect(await run(switchNode, { cases: [cases[0]] }, { input: 'x' })).toEqual({
      kind: 'done',
      output: 'x',
      handle: 'default',
    });
  });

  it('merge outputs the input the scheduler assembled', async () => {
    expect(await run(merge, { mode: 'all' }, { input: { a: 1, b: 2 } })).toEqual({
      kind: 'done',
      output: { a: 1, b: 2 },
    });
  });

  it(`delay sleeps inline up to INLINE_DELAY_MAX_MS (${INLINE_DELAY_MAX_MS}), parks the run beyond`, async () => {
    const clock = fakeClock(5_000);
    expect(await run(delay, { ms: INLINE_DELAY_MAX_MS }, { input: 'i', clock })).toEqual({
      kind: 'done',
      output: 'i',
    });
    expect(clock.slept).toEqual([INLINE_DELAY_MAX_MS]);
    expect(await run(delay, { ms: INLINE_DELAY_MAX_MS + 1 }, { input: 'i', clock })).toEqual({
      kind: 'wait',
      reason: 'delay',
      until: 5_000 + INLINE_DELAY_MAX_MS + 1,
      output: 'i',
    });
    expect(clock.slept).toHaveLength(1);
  });

  it('delay passes the cancellation signal to the clock', async () => {
    const def = delay;
    const c = ctx(def, { ms: 10 });
    const ac = new AbortController();
    ac.abort();
    await expect(def.run({ ...c, signal: ac.signal } as never)).rejects.toThrow(/aborted/);
  });

  it('approval waits, with its rendered message', async () => {
    expect(await run(approval, { message: 'Approve {{ input.who }}?' })).toEqual({
      kind: 'wait',
      reason: 'approval',
      output: { message: 'Approve ada?' },
    });
  });

  it('map evaluates items and hands the body to services.runBody', async () => {
    const seen: unknown[] = [];
    const services = makeServices({
      async runBody(args) {
        seen.push(args);
        return args.items.map((i) => (i as number) * 10);
      },
    });
    const body = {
      nodes: [{ id: 'o', type: 'output', position: { x: 0, y: 0 }, config: { value: '{{ item }}' } }],
      edges: [],
    };
    expect(await run(map, { items: 'steps.a.output.items', body, concurrency: 2 }, { services })).toEqual({
      kind: 'done',
      output: [10, 20, 30],
    });
    expect(seen).toEqual([expect.objectContaining({ body, items: [1, 2, 3], concurrency: 2 })]);
    await run(map, { items: 'steps.a.output.items', workflowId: 'wf_9' }, { services });
    expect(seen[1]).toMatchObject({ body: { workflowId: 'wf_9' }, concurrency: 4 });
  });

  it('map fails clearly on non-arrays and without runBody', async () => {
    const services = makeServices({ runBody: async () => [] });
    await expect(run(map, { items: 'steps.a.output.n', workflowId: 'w' }, { services })).rejects.toThrow(
      /must evaluate to an array/,
    );
    const err = await run(map, { items: 'steps.a.output.items', workflowId: 'w' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TrellisError);
    expect((err as Error).message).toMatch(/runBody/);
  });

  it('subworkflow renders its input and runs the child', async () => {
    const services = makeServices({ runChild: async (a) => ({ child: a.workflowId, got: a.input }) });
    expect(await run(subworkflow, { workflowId: 'wf_2', input: '{{ input }}' }, { services })).toEqual({
      kind: 'done',
      output: { child: 'wf_2', got: { who: 'ada' } },
    });
    await expect(run(subworkflow, { workflowId: 'wf_2', input: 1 })).rejects.toThrow(/runChild/);
  });
});
