'use client';
import { useEffect, useState } from 'react';
import { api, ApiError, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import type { Graduation } from '@/lib/promotion/graduate';
import { percent } from './format';

// "Propose deterministic step" (issue 16 §5): POST …/nodes/:nodeId/graduation queues a proposal
// (the model writes a code or transform step from the recorded cases, or the agent's fixed tool
// sequence becomes a chain of nodes; either is backtested over them); the panel follows GET
// …/graduation/:gid — queued, asking the model, backtesting n of N — can cancel it, and shows the
// proposal's agreement, config (or chain) and failures. Saving is the owner's separate click
// (…/graduation/accept → a new version).

/** How often a queued or running proposal is read. */
export const GRADUATION_POLL_MS = 400;

interface GraduationJob {
  id: string;
  version: number;
  status: 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  phase: 'queued' | 'model' | 'backtest' | 'done';
  progress: { total: number; done: number };
  proposal: Graduation | null;
  cancelRequested: boolean;
  error: { code: string; message: string } | null;
}

const isRunning = (j: GraduationJob | null) => !!j && (j.status === 'queued' || j.status === 'running');

function progressText(j: GraduationJob): string {
  if (j.cancelRequested) return 'Cancelling…';
  if (j.status === 'queued') return 'Queued: waiting for a worker…';
  if (j.phase === 'model') return `Asking the model for a step (${j.progress.total} recorded cases)…`;
  return `Backtesting the proposed step: ${j.progress.done} of ${j.progress.total} cases`;
}

const REASON_TEXT: Record<NonNullable<Graduation['reason']>, string> = {
  too_few_cases: 'Too few recorded cases',
  invalid_answer: 'The model gave no usable step',
  invalid_config: 'The proposed config is invalid',
  below_threshold: 'Not reproducible enough',
  no_tool_calls: 'The agent called no tools',
  varying_sequence: 'No fixed sequence of tool calls',
  too_many_calls: 'Too many tool calls for a chain',
  unknown_tool: 'A tool the step no longer has',
  not_single_input: 'The step has more than one input',
  arguments_not_derived: 'Tool arguments are not a function of the input',
  output_not_derived: 'The output is not a function of the tool results',
};

type ChainNode = NonNullable<Graduation['chain']>['nodes'][number];

/** One line per node of a proposed chain: its type and what it is given. */
function chainLine(n: ChainNode, names: Record<string, string>): string {
  const c = n.config as Record<string, unknown>;
  if (n.type === 'subworkflow') {
    const id = String(c.workflowId);
    const named = names[id] ? `“${names[id]}” (${id})` : id;
    return `${n.id}: run workflow ${named} with ${JSON.stringify(c.input)}`;
  }
  if (n.type === 'http.request') return `${n.id}: ${String(c.method ?? 'GET')} ${String(c.url)}`;
  if (n.type === 'transform') return `${n.id}: transform → ${JSON.stringify(c.value)}`;
  return `${n.id}: ${n.type} ${JSON.stringify(c)}`;
}

/** The chain's tools in call order: a workflow tool by its workflow's name once that has loaded. */
function toolSequence(chain: NonNullable<Graduation['chain']>, names: Record<string, string>): string {
  // One node per call, in the sequence's order (lib/promotion/chain.ts), then the transform.
  return chain.sequence
    .map((tool, i) => {
      const n = chain.nodes[i];
      const id = n?.type === 'subworkflow' ? String((n.config as Record<string, unknown>).workflowId) : '';
      return names[id] ?? tool;
    })
    .join(' → ');
}

/** The names of the workflows a chain calls, as they load (a chain has at most MAX_CHAIN_CALLS). */
function useWorkflowNames(nodes: ChainNode[] | undefined): Record<string, string> {
  const [names, setNames] = useState<Record<string, string>>({});
  const ids = [
    ...new Set(
      (nodes ?? [])
        .filter((n) => n.type === 'subworkflow')
        .map((n) => String((n.config as Record<string, unknown>).workflowId)),
    ),
  ];
  const key = ids.join(' ');
  useEffect(() => {
    if (!key) return;
    const ctrl = new AbortController();
    for (const id of key.split(' '))
      api<{ name: string }>(`/api/workflows/${encodeURIComponent(id)}`, { signal: ctrl.signal }).then(
        (wf) => setNames((prev) => ({ ...prev, [id]: wf.name })),
        () => {}, // a deleted workflow keeps its id: the accept will say what is wrong with it
      );
    return () => ctrl.abort();
  }, [key]);
  return names;
}

export function GraduationPanel({
  workflowId,
  nodeId,
  onVersionSaved,
}: {
  workflowId: string;
  nodeId: string;
  onVersionSaved?: (version: number) => void;
}) {
  const base = `/api/workflows/${encodeURIComponent(workflowId)}/nodes/${encodeURIComponent(nodeId)}/graduation`;
  const [model, setModel] = useState('');
  const [job, setJob] = useState<GraduationJob | null>(null);
  const proposal = job?.status === 'succeeded' ? job.proposal : null;
  /** The version the proposal was made from: the save is refused if the workflow changed since. */
  const baseVersion = job?.version ?? null;
  const [busy, setBusy] = useState<'propose' | 'save' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<number | null>(null);
  const toolWorkflows = useWorkflowNames(proposal?.chain?.nodes);

  // Follow a queued or running proposal until it ends.
  const running = isRunning(job);
  const jobId = job?.id;
  useEffect(() => {
    if (!running || !jobId) return;
    const ctrl = new AbortController();
    const t = setInterval(() => {
      api<{ graduation: GraduationJob }>(`${base}/${encodeURIComponent(jobId)}`, {
        signal: ctrl.signal,
      }).then(
        (r) => setJob(r.graduation),
        (err: unknown) => {
          if ((err as Error).name !== 'AbortError') setError(errorMessage(err));
        },
      );
    }, GRADUATION_POLL_MS);
    return () => {
      clearInterval(t);
      ctrl.abort();
    };
  }, [base, running, jobId]);

  async function propose() {
    setBusy('propose');
    setError(null);
    setSaved(null);
    setJob(null);
    try {
      const r = await api<{ graduation: GraduationJob }>(base, {
        method: 'POST',
        body: model.trim() ? { model: model.trim() } : {},
      });
      setJob(r.graduation);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  }

  async function cancel() {
    if (!job) return;
    try {
      const r = await api<{ graduation: GraduationJob }>(`${base}/${encodeURIComponent(job.id)}/cancel`, {
        method: 'POST',
        body: {},
      });
      setJob(r.graduation);
    } catch (err) {
      setError(errorMessage(err));
    }
  }

  async function save() {
    if (!proposal?.proposed) return;
    setBusy('save');
    setError(null);
    try {
      const r = await api<{ version: number }>(`${base}/accept`, {
        method: 'POST',
        body: {
          ...(proposal.kind === 'chain' && proposal.chain
            ? {
                chain: {
                  source: proposal.chain.source,
                  calls: proposal.chain.calls,
                  output: proposal.chain.output,
                },
              }
            : { nodeType: proposal.nodeType, config: proposal.config }),
          ...(baseVersion ? { baseVersion } : {}),
        },
      });
      setSaved(r.version);
      setJob(null);
      onVersionSaved?.(r.version);
    } catch (err) {
      if (err instanceof ApiError && err.code === 'version_conflict') {
        const now = (err.details as { currentVersion?: number } | undefined)?.currentVersion;
        setError(
          `The workflow changed since this proposal (version ${baseVersion} → ${now ?? 'newer'}): propose again to check the step as it is now.`,
        );
      } else setError(errorMessage(err));
    } finally {
      setBusy(null);
    }
  }

  return (
    <div className="flex flex-col gap-2" aria-label="Graduation" role="group">
      <p className="text-xs text-slate-500">
        A code or transform step written from the recorded cases — or, when the agent always calls the same
        tools in the same order, a chain of those tool steps — backtested against them; offered only when it
        reproduces at least 95% of them.
      </p>
      <div className="flex flex-wrap items-end gap-2">
        <label className="flex min-w-40 flex-1 flex-col gap-1 text-xs text-slate-600">
          Model (optional)
          <input
            className="h-8 rounded-md border border-slate-300 px-2 text-sm"
            value={model}
            placeholder="server default"
            onChange={(e) => setModel(e.target.value)}
          />
        </label>
        <Button onClick={() => void propose()} disabled={busy !== null || running}>
          {busy === 'propose' || running ? 'Proposing…' : 'Propose deterministic step'}
        </Button>
      </div>
      {job && running && (
        <div className="flex items-center gap-2 text-xs text-slate-600">
          <span role="status" aria-live="polite" aria-label="Proposal progress" className="flex-1">
            {progressText(job)}
          </span>
          {job.phase === 'backtest' && job.progress.total > 0 && (
            <progress
              aria-label="Backtested cases"
              className="h-2 w-24"
              max={job.progress.total}
              value={job.progress.done}
            />
          )}
          <Button onClick={() => void cancel()} disabled={job.cancelRequested}>
            Cancel
          </Button>
        </div>
      )}
      {job?.status === 'cancelled' && (
        <p role="status" className="text-xs text-slate-600">
          Proposal cancelled.
        </p>
      )}
      {job?.status === 'failed' && (
        <p role="alert" className="rounded bg-red-50 px-2 py-1 text-xs text-red-800">
          The proposal failed: {job.error?.message ?? 'unknown error'}
        </p>
      )}
      {error && (
        <p role="alert" className="rounded bg-red-50 px-2 py-1 text-xs text-red-800">
          {error}
        </p>
      )}
      {saved !== null && (
        <p role="status" className="rounded bg-emerald-50 px-2 py-1 text-xs text-emerald-800">
          Saved as version {saved}: the step is now deterministic.
        </p>
      )}
      {proposal && (
        <div
          role="region"
          aria-label="Proposed deterministic step"
          className="flex flex-col gap-2 rounded border border-slate-200 p-2"
        >
          <p role="status" className={proposal.proposed ? 'text-emerald-800' : 'text-amber-800'}>
            {proposal.proposed
              ? proposal.kind === 'chain'
                ? `Agreement ${percent(proposal.agreement)} over ${proposal.cases} recorded agent runs (chain of ${proposal.chain!.nodes.length} steps)`
                : `Agreement ${percent(proposal.agreement)} over ${proposal.cases} recorded cases (${proposal.nodeType} step)`
              : `${REASON_TEXT[proposal.reason!]}: ${proposal.message}`}
          </p>
          {proposal.chain && (
            <>
              <p className="text-xs text-slate-600">
                Tool sequence {toolSequence(proposal.chain, toolWorkflows)} in{' '}
                {percent(proposal.chain.sameSequence)} of the runs; backtested with every tool answered from
                the recorded runs: {proposal.agreed} of {proposal.cases} outputs equal.
              </p>
              <ol
                aria-label="Proposed chain"
                className="flex list-decimal flex-col gap-1 pl-5 font-mono text-[11px] text-slate-800"
              >
                {proposal.chain.nodes.map((n) => (
                  <li key={n.id} className="break-all">
                    {chainLine(n, toolWorkflows)}
                  </li>
                ))}
              </ol>
            </>
          )}
          {proposal.config && (
            <pre
              aria-label="Proposed config"
              className="max-h-48 overflow-auto rounded bg-slate-50 p-2 font-mono text-[11px] whitespace-pre-wrap text-slate-800"
            >
              {typeof proposal.config.code === 'string'
                ? proposal.config.code
                : JSON.stringify(proposal.config, null, 2)}
            </pre>
          )}
          {proposal.failures.length > 0 && (
            <ul aria-label="Disagreements" className="text-xs text-slate-600">
              {proposal.failures.map((f) => (
                <li key={f.type}>
                  {f.type}: {f.count} case(s)
                </li>
              ))}
            </ul>
          )}
          {proposal.proposed && (
            <Button variant="primary" onClick={() => void save()} disabled={busy !== null}>
              {busy === 'save' ? 'Saving…' : 'Save as new version'}
            </Button>
          )}
        </div>
      )}
    </div>
  );
}
