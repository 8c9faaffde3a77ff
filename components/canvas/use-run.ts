'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api } from '@/components/ui/api';
import { nodeStatusStore } from './node-status-store';
import type { RunNodeStatus } from './types';

// Starts a run and lights nodes up from GET /api/runs/:id/events (docs/api.md §Server-Sent Events).
// Status goes to nodeStatusStore, never into React Flow node data.

interface StepEvent {
  stepId?: string;
  id?: string;
  nodeId: string;
  status: string;
  mode?: string;
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
  const esRef = useRef<EventSource | null>(null);

  useEffect(() => () => esRef.current?.close(), []);

  const apply = (s: StepEvent) => {
    nodeStatusStore.setStatus(s.nodeId, toNodeStatus(s.status, s.mode), {
      mode: s.mode,
      stepId: s.stepId ?? s.id,
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
        const done = await api<{ steps: StepEvent[] }>(`/api/runs/${res.runId}`).catch(() => null);
        for (const s of done?.steps ?? []) apply(s);
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

  return { runId, runStatus, start };
}
