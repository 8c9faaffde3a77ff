'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '@/components/ui/api';
import { nodeStatusStore } from './node-status-store';
import { readRunSteps, type StepEvent } from './run-steps';
import type { RunNodeStatus } from './types';

// Starts a run and lights nodes up from GET /api/runs/:id/events (docs/api.md §Server-Sent Events).
// Status goes to nodeStatusStore, never into React Flow node data.

/** The step a failed run stopped at, with its error: what the editor selects and explains. */
export interface RunFailure {
  nodeId: string;
  stepId?: string;
  code?: string;
  message: string;
}

export const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

export function toNodeStatus(status: string, mode?: string): RunNodeStatus {
  if (status === 'succeeded' && mode === 'fallback') return 'fallback';
  if (status === 'pending') return 'queued';
  if (['queued', 'running', 'succeeded', 'failed', 'skipped', 'waiting'].includes(status))
    return status as RunNodeStatus;
  return 'queued';
}

export function useRun(workflowId: string) {
  const [runId, setRunId] = useState<string | null>(null);
  const [runStatus, setRunStatus] = useState<string | null>(null);
  const [failure, setFailure] = useState<RunFailure | null>(null);
  const esRef = useRef<EventSource | null>(null);

  useEffect(() => () => esRef.current?.close(), []);

  const apply = (s: StepEvent) => {
    nodeStatusStore.setStatus(s.nodeId, toNodeStatus(s.status, s.mode), {
      mode: s.mode,
      stepId: s.stepId ?? s.id,
      error: s.error?.message,
    });
  };

  const start = useCallback(
    async (input: unknown, nodeIds: string[]) => {
      esRef.current?.close();
      const res = await api<{ runId: string }>(`/api/workflows/${workflowId}/runs`, {
        method: 'POST',
        body: { input },
      });
      nodeStatusStore.resetRun(nodeIds, 'queued');
      setFailure(null);
      setRunId(res.runId);
      setRunStatus('running');
      const es = new EventSource(`/api/runs/${res.runId}/events`);
      esRef.current = es;
      let finished = false;
      // Once the run is over, the stored trace is the truth: events from before the stream opened
      // may never have reached this page.
      const finish = async () => {
        if (finished) return;
        finished = true;
        es.close();
        // Every page: a node that ran after a long map is far past the first one.
        const topLevelFailed: StepEvent[] = [];
        const run = await readRunSteps(
          api,
          res.runId,
          (steps) => {
            for (const s of steps) {
              apply(s);
              if (!s.parentNodeId && s.status === 'failed') topLevelFailed.push(s);
            }
          },
          () => esRef.current === es || esRef.current === null,
        ).catch(() => undefined);
        // The step the run stopped at: the last top-level step still failed at the end.
        const failed = topLevelFailed.filter((s) => nodeStatusStore.get(s.nodeId).status === 'failed');
        const last = failed[failed.length - 1];
        if (run?.status === 'failed' && last) {
          const stepId = last.stepId ?? last.id;
          const detail = stepId
            ? await api<{ step: { error?: { code?: string; message?: string } } }>(
                `/api/runs/${res.runId}/steps/${stepId}`,
              ).catch(() => null)
            : null;
          const error = detail?.step.error;
          const message = error?.message ?? nodeStatusStore.get(last.nodeId).error ?? 'The step failed';
          nodeStatusStore.setStatus(last.nodeId, 'failed', { error: message });
          setFailure({ nodeId: last.nodeId, stepId, code: error?.code, message });
        }
        // Steps never reached (an untaken branch, a failure upstream) stop pretending to be queued.
        for (const id of nodeIds)
          if (nodeStatusStore.get(id).status === 'queued') nodeStatusStore.setStatus(id, 'skipped');
      };
      es.addEventListener('snapshot', (ev) => {
        const data = JSON.parse((ev as MessageEvent).data) as {
          run?: { status?: string };
          steps?: StepEvent[];
        };
        for (const s of data.steps ?? []) apply(s);
        if (data.run?.status) setRunStatus(data.run.status);
        // A run that ended before the stream opened sends no `run` event.
        if (data.run?.status && TERMINAL.has(data.run.status)) void finish();
      });
      es.addEventListener('step', (ev) => apply(JSON.parse((ev as MessageEvent).data) as StepEvent));
      es.addEventListener('run', (ev) => {
        const data = JSON.parse((ev as MessageEvent).data) as { status: string };
        setRunStatus(data.status);
        if (TERMINAL.has(data.status)) void finish();
      });
      es.onerror = () => {
        // EventSource reconnects by itself; once the run is over the server ends the stream.
        if (es.readyState === EventSource.CLOSED) esRef.current = null;
      };
      return res.runId;
    },
    [workflowId],
  );

  return { runId, runStatus, failure, dismissFailure: () => setFailure(null), start };
}
