import type { ExpressionScope, NodeRunContext, NodeServices } from '@/lib/nodes/define-node';
import type { WorkflowNode } from '@/lib/workflow/definition';

// Minimal run context for node tests of lib/nodes/http-request and lib/nodes/llm. The template
// renderer resolves plain dotted references only (the real one lives in the sandbox), which is
// all these tests need.

function lookupPath(scope: ExpressionScope, path: string): unknown {
  let cur: unknown = scope;
  for (const part of path.split('.')) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

export async function renderPlain(template: unknown, scope: ExpressionScope): Promise<unknown> {
  if (typeof template === 'string') {
    const whole = /^\{\{\s*([\w.]+)\s*\}\}$/.exec(template);
    if (whole) return lookupPath(scope, whole[1]);
    return template.replace(/\{\{\s*([\w.]+)\s*\}\}/g, (_, p: string) => {
      const v = lookupPath(scope, p);
      return typeof v === 'string' ? v : JSON.stringify(v);
    });
  }
  if (Array.isArray(template)) return Promise.all(template.map((t) => renderPlain(t, scope)));
  if (template && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(template)) out[k] = await renderPlain(v, scope);
    return out;
  }
  return template;
}

export function nodeContext<C>(
  config: C,
  opts: {
    input?: unknown;
    node?: Partial<WorkflowNode>;
    services?: Partial<NodeServices>;
    signal?: AbortSignal;
    runId?: string;
    itemIndex?: number;
    attempt?: number;
  } = {},
): NodeRunContext<C> {
  const scope: ExpressionScope = { input: opts.input ?? {}, steps: {}, env: {}, secrets: {} };
  const unused = () => Promise.reject(new Error('not available in this test'));
  return {
    runId: opts.runId ?? 'run_1',
    node: { id: 'n1', type: 'test', position: { x: 0, y: 0 }, config: {}, ...opts.node } as WorkflowNode,
    config,
    input: scope.input,
    scope,
    signal: opts.signal ?? new AbortController().signal,
    clock: { now: () => Date.now(), sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
    attempt: opts.attempt ?? 1,
    itemIndex: opts.itemIndex,
    services: { evaluate: unused, runCode: unused, render: (t, s) => renderPlain(t, s), ...opts.services },
  };
}
