import type { WorkflowNode } from '@/lib/workflow/definition';
import { TrellisError } from '@/lib/workflow/errors';
import type { NodeDefinition, NodeServices } from '@/lib/nodes/define-node';
import { isBranching } from './agent-candidate';
import { NOT_RECORDED } from './replay';
import type { Candidate } from './runner';
import { savedStepScope } from './step-input';

// A deterministic step as a backtest candidate: graduation (issue 16 §5) proposes a `transform` or
// `code` config for an agent step and backtests it against the same history before offering it.
// It runs the node's own run() on each recorded input with the sandbox only: no fetch, no child
// runs, no waits, no secrets or env in scope.

const refused = (what: string) =>
  new TrellisError('unprocessable', `${NOT_RECORDED}: ${what} does not run during a backtest`, {
    details: { reason: NOT_RECORDED },
  });

export function stepCandidate(args: {
  def: NodeDefinition;
  node: WorkflowNode;
  /** The sandbox (evaluate, render, runCode); anything with an outside effect is refused. */
  sandbox: Pick<NodeServices, 'evaluate' | 'render' | 'runCode'>;
  /**
   * The step's one upstream node: expressions then see the recorded input as its output, as a
   * saved step does (step-input.ts). Without it `input` in the scope is the recorded input.
   */
  source?: string;
}): Candidate {
  const { def, node } = args;
  const config = (node.config ?? {}) as Record<string, unknown>;
  const parsed = def.config.safeParse(config);
  if (!parsed.success) throw new TrellisError('validation_error', `${node.id}: ${parsed.error.message}`);
  const branching = isBranching(def, config);
  const services: NodeServices = {
    evaluate: args.sandbox.evaluate,
    render: args.sandbox.render,
    runCode: args.sandbox.runCode,
    fetch: () => Promise.reject(refused('fetch')),
    runChild: () => Promise.reject(refused('a child run')),
    runBody: () => Promise.reject(refused('a map body')),
    chat: () => Promise.reject(refused('a model call')),
  };
  return async (c, signal) => {
    const res = await def.run({
      runId: 'backtest',
      node,
      config: parsed.data,
      input: c.input,
      scope: args.source
        ? savedStepScope(args.source, c.input)
        : { input: c.input, steps: {}, env: {}, secrets: {} },
      signal,
      attempt: 1,
      clock: { now: () => Date.now(), sleep: () => Promise.reject(refused('a wait')) },
      services,
    });
    if (res.kind !== 'done') throw refused('a waiting step');
    const output = branching ? { branch: res.handle ?? 'out' } : res.output;
    return { outcome: 'ok', output, tokens: 0, cost: 0, modelMs: 0, turns: 0, refusedCalls: 0 };
  };
}
