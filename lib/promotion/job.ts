import type { WorkflowNode } from '@/lib/workflow/definition';
import { NotFoundError, TrellisError, toSerializedError } from '@/lib/workflow/errors';
import { getNode } from '@/lib/nodes/registry';
import type { NodeServices } from '@/lib/nodes/define-node';
import type { ModelConfig } from '@/lib/agent/model-client';
import type { PriceTable } from '@/lib/agent/pricing';
import type { WorkflowToolInfo } from '@/lib/agent/types';
import { agentCandidate, expectedAnswer } from './agent-candidate';
import { pollCancel } from './cancel-poll';
import { executedCalls, recordedCalls } from './replay';
import type { ChainCase } from './chain';
import { BacktestBudget, runBacktest, type BacktestCase, type Candidate } from './runner';
import type { ScorerDeps } from './scorers';
import type { BacktestCaseResult, BacktestRequest, BacktestStatus } from './spec';
import type { BacktestRecord, BacktestStore } from './store';

// One backtest from its stored request to its final status: load the node and its history, build
// the cases, replay them (runner.ts), write results in batches, poll for a cancel request. The
// host (embedded dispatcher or a queue worker) supplies the model, the sandbox and the store.

/** Cases written per batch, and the longest a finished case waits before it is stored. */
export const CASE_BATCH = 25;
export const CASE_FLUSH_MS = 250;

/** Error message of a backtest whose host stopped under it (it cannot resume: spend and answers are gone). */
export const INTERRUPTED = 'interrupted: the process replaying it stopped';

export interface BacktestJobDeps {
  store: BacktestStore;
  model: ModelConfig | null;
  prices?: PriceTable;
  scorers: ScorerDeps;
  resolveWorkflow?: (workflowId: string) => Promise<WorkflowToolInfo | null>;
  /** Services that really run read-only tools under the `read_only` policy. */
  live?: NodeServices;
  /** The host stopping (shutdown): the backtest ends cancelled. */
  signal?: AbortSignal;
  /** Replaces the agent (graduation backtests a proposed deterministic step). */
  candidate?: Candidate;
}

/** The node a backtest replays: its saved config, in agent mode, with the request's agent overrides. */
export function replayedNode(node: WorkflowNode, request: Pick<BacktestRequest, 'agent'>): WorkflowNode {
  const hasSelf = !!getNode(node.type)?.asTool;
  const base = node.agent ?? { instructions: '', tools: hasSelf ? ['self'] : [] };
  return {
    ...node,
    mode: 'agent',
    agent: { ...base, ...(request.agent ?? {}), shadow: false } as WorkflowNode['agent'],
  };
}

/** The cases of a backtest from its node's recorded history. */
export async function loadCases(
  store: BacktestStore,
  rec: Pick<BacktestRecord, 'workflowId' | 'nodeId' | 'version'> & { request: Pick<BacktestRequest, 'runs'> },
): Promise<BacktestCase[]> {
  const defs = await store.definitions(rec.workflowId, [rec.version]);
  const node = defs.get(rec.version)?.nodes.find((n) => n.id === rec.nodeId);
  if (!node) throw new NotFoundError(`Node ${rec.nodeId} in version ${rec.version}`);
  const def = getNode(node.type);
  if (!def?.agentCapable)
    throw new TrellisError('unprocessable', `Node ${node.id} (${node.type}) cannot run in agent mode`);
  const history = await store.history(rec.workflowId, rec.nodeId, rec.request.runs);
  const versions = [...new Set(history.map((h) => h.runVersion).filter((v): v is number => v !== null))];
  const byVersion = await store.definitions(rec.workflowId, versions);
  return history.map((h, seq) => {
    // The node as it was when that run recorded it: its config is what `self` was called with.
    const runNode =
      (h.runVersion !== null
        ? byVersion.get(h.runVersion)?.nodes.find((n) => n.id === rec.nodeId)
        : undefined) ?? node;
    const runDef = getNode(runNode.type) ?? def;
    return {
      seq,
      runId: h.runId,
      stepId: h.stepId,
      runVersion: h.runVersion,
      input: h.input,
      expected: expectedAnswer(runDef, runNode.config, h.output, h.handle),
      deterministicMs: h.durationMs,
      deterministicCost: h.cost,
      recorded: recordedCalls({
        def: runDef,
        node: runNode,
        output: h.output,
        handle: h.handle,
        turns: h.turns,
      }),
    };
  });
}

/**
 * The step's recorded agent-mode runs as chain cases (graduating a fixed sequence of tool calls):
 * the input, the agent's answer as the expected output, and its executed tool calls in order.
 */
export async function loadChainCases(
  store: BacktestStore,
  rec: Pick<BacktestRecord, 'workflowId' | 'nodeId'> & { request: Pick<BacktestRequest, 'runs'> },
): Promise<ChainCase[]> {
  const history = await store.history(rec.workflowId, rec.nodeId, rec.request.runs, ['agent']);
  return history.map((h, seq) => {
    const calls = executedCalls(h.turns, null);
    return {
      seq,
      runId: h.runId,
      stepId: h.stepId,
      runVersion: h.runVersion,
      input: h.input,
      expected: h.output,
      deterministicMs: null,
      deterministicCost: null,
      recorded: calls,
      calls,
    };
  });
}

/** Run a queued backtest to its end; returns the final status (or null if another host had it). */
export async function executeBacktest(id: string, deps: BacktestJobDeps): Promise<BacktestStatus | null> {
  const { store } = deps;
  const rec = await store.get(id);
  if (!rec || rec.status !== 'queued') return null;
  let cases: BacktestCase[];
  let candidate: Candidate;
  const budget = new BacktestBudget(rec.request.budgetUsd);
  try {
    cases = await loadCases(store, rec);
    const defs = await store.definitions(rec.workflowId, [rec.version]);
    const node = replayedNode(
      defs.get(rec.version)!.nodes.find((n) => n.id === rec.nodeId)!,
      rec.request,
    );
    candidate =
      deps.candidate ??
      agentCandidate({
        def: getNode(node.type)!,
        node,
        model: deps.model,
        ...(deps.prices ? { prices: deps.prices } : {}),
        budget,
        tools: rec.request.tools,
        ...(deps.resolveWorkflow ? { resolveWorkflow: deps.resolveWorkflow } : {}),
        ...(deps.live ? { live: deps.live } : {}),
      });
  } catch (err) {
    const e = toSerializedError(err);
    await store.finish(id, 'failed', { code: String(e.code), message: e.message });
    return 'failed';
  }
  if (!(await store.claim(id, cases.length))) return null;

  const ac = new AbortController();
  const signals = deps.signal ? AbortSignal.any([ac.signal, deps.signal]) : ac.signal;
  const stopPolling = pollCancel(ac, async () => !!(await store.get(id))?.cancelRequested, 'Backtest');

  let buffer: BacktestCaseResult[] = [];
  let writing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    const batch = buffer;
    buffer = [];
    // Batches are written one after the other, so totals and cases stay in order.
    writing = writing.then(() => store.appendCases(id, batch));
    return writing;
  };
  let status: BacktestStatus;
  let error: { code: string; message: string } | undefined;
  try {
    status = await runBacktest({
      cases,
      candidate,
      scorer: rec.request.scorer,
      passScore: rec.request.passScore,
      deps: deps.scorers,
      concurrency: rec.request.concurrency,
      budget,
      signal: signals,
      onCase: async (r) => {
        buffer.push(r);
        if (buffer.length >= CASE_BATCH) await flush();
        else timer ??= setTimeout(() => void flush().catch(() => {}), CASE_FLUSH_MS);
      },
    });
    await flush();
  } catch (err) {
    const e = toSerializedError(err);
    status = 'failed';
    error = { code: String(e.code), message: e.message };
    await flush().catch(() => {});
  } finally {
    if (timer) clearTimeout(timer);
  }
  await stopPolling();
  // The host stopping is not the owner cancelling: say the backtest was interrupted.
  if (status === 'cancelled' && deps.signal?.aborted && !ac.signal.aborted) {
    status = 'failed';
    error = { code: 'internal_error', message: INTERRUPTED };
  }
  await store.finish(id, status, error);
  return status;
}
