import type { NodeServices } from '@/lib/nodes/define-node';
import { toSerializedError } from '@/lib/workflow/errors';
import { pollCancel } from './cancel-poll';
import { singleSource } from './chain';
import { proposeGraduation } from './graduate';
import type { GraduationPhase, GraduationStatus, GraduationStore } from './graduation-store';
import { INTERRUPTED, loadCases, loadChainCases } from './job';
import type { BacktestStore } from './store';

// One graduation proposal from its stored request to its end, as a queued job (issue 16 §1: the
// model call and the backtest run in the queue, cancellable, with progress): load the step's
// cases, ask the model, backtest the candidate, write progress as it goes, poll for a cancel
// request. The host (embedded or a worker) supplies the model, the sandbox and the stores.

/** The longest a backtested case waits before the progress row shows it. */
export const GRADUATION_PROGRESS_MS = 250;

export interface GraduationJobDeps {
  store: GraduationStore;
  /** History and definitions (the cases are a backtest's). */
  cases: BacktestStore;
  chat: NonNullable<NodeServices['chat']>;
  sandbox: Pick<NodeServices, 'evaluate' | 'render' | 'runCode'>;
  /** The host stopping (shutdown): the proposal ends failed as interrupted. */
  signal?: AbortSignal;
}

/** Run a queued proposal to its end; returns its final status (or null if another host had it). */
export async function executeGraduation(
  id: string,
  deps: GraduationJobDeps,
): Promise<GraduationStatus | null> {
  const { store } = deps;
  const rec = await store.get(id);
  if (!rec || rec.status !== 'queued') return null;
  const fail = async (err: unknown): Promise<GraduationStatus> => {
    const e = toSerializedError(err);
    await store.finish(id, 'failed', { error: { code: String(e.code), message: e.message } });
    return 'failed';
  };
  let cases;
  let chainCases;
  let definition;
  try {
    cases = await loadCases(deps.cases, rec);
    chainCases = await loadChainCases(deps.cases, rec);
    definition = (await deps.cases.definitions(rec.workflowId, [rec.version])).get(rec.version)!;
  } catch (err) {
    return fail(err);
  }
  const node = definition.nodes.find((n) => n.id === rec.nodeId)!;
  // A step whose agent called tools is graduated as a chain over its agent runs (graduate.ts).
  const chained = chainCases.some((c) => c.calls.length > 0);
  if (!(await store.claim(id, chained ? chainCases.length : cases.length))) return null;

  const ac = new AbortController();
  const signal = deps.signal ? AbortSignal.any([ac.signal, deps.signal]) : ac.signal;
  const stopPolling = pollCancel(ac, async () => !!(await store.get(id))?.cancelRequested, 'Graduation');
  // Progress rows are written one after the other and at most every GRADUATION_PROGRESS_MS.
  let latest: { phase: GraduationPhase; done: number } = { phase: 'model', done: 0 };
  let written = '';
  let writing = Promise.resolve();
  let timer: NodeJS.Timeout | null = null;
  const write = () => {
    timer = null;
    const key = `${latest.phase}:${latest.done}`;
    if (key === written) return writing;
    written = key;
    const p = { ...latest };
    writing = writing.then(() => store.progress(id, p)).catch(() => {});
    return writing;
  };
  let status: GraduationStatus;
  try {
    const result = await proposeGraduation({
      cases,
      chat: deps.chat,
      ...(rec.request.model ? { model: rec.request.model } : {}),
      sandbox: deps.sandbox,
      node,
      source: singleSource(definition, node.id),
      chain: { cases: chainCases, definition },
      signal,
      onProgress: (p) => {
        latest = p;
        // A phase change shows at once; cases in a phase are batched.
        if (p.done === 0) void write();
        else timer ??= setTimeout(() => void write(), GRADUATION_PROGRESS_MS);
      },
    });
    if (timer) clearTimeout(timer);
    await write();
    status = 'succeeded';
    await store.finish(id, status, { result });
  } catch (err) {
    if (timer) clearTimeout(timer);
    await writing;
    if (ac.signal.aborted) {
      status = 'cancelled';
      await store.finish(id, status, {});
    } else if (deps.signal?.aborted) {
      // The host stopping is not the owner cancelling: the proposal was interrupted.
      status = 'failed';
      await store.finish(id, status, { error: { code: 'internal_error', message: INTERRUPTED } });
    } else status = await fail(err);
  } finally {
    await stopPolling();
  }
  return status;
}
