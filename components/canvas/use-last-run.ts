'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, errorMessage } from '@/components/ui/api';
import { nodeStatusStore, useStatusVersion } from './node-status-store';

// The run the editor shows data from: the one started in this editor, else the workflow's latest
// run (so opening the editor the next day still has real fields to pick). Step payloads are
// fetched one step at a time (the list endpoints are payload-free) and kept once the step is over.

export interface LastRunInfo {
  id: string;
  status: string;
  createdAt?: string;
  version?: number | null;
  input?: unknown;
}

export interface LastRunView {
  run?: LastRunInfo;
  status?: string;
  input?: unknown;
  output?: unknown;
  error?: unknown;
  loading?: boolean;
  /** The selected step did not run in that run (a new node, an untaken branch). */
  notRun?: boolean;
  /** The run was started in this editor (its failure is explained above the tabs). */
  fromSession?: boolean;
}

interface StepRow {
  id: string;
  nodeId: string;
  status: string;
  parentNodeId?: string | null;
}
interface StepPayload {
  status?: string;
  input?: unknown;
  output?: unknown;
  error?: unknown;
}

const DONE = new Set(['succeeded', 'failed', 'skipped', 'cancelled']);

export function useLastRunData(workflowId: string, sessionRunId: string | null, runStatus: string | null) {
  const [latestId, setLatestId] = useState<string | null>(null);
  const runId = sessionRunId ?? latestId;
  const [run, setRun] = useState<LastRunInfo | undefined>();
  const [stepIds, setStepIds] = useState<Map<string, string>>(new Map());
  const cache = useRef(new Map<string, StepPayload>());

  useEffect(() => {
    let live = true;
    api<{ runs: { id: string }[] }>(`/api/runs?workflowId=${encodeURIComponent(workflowId)}&limit=1`).then(
      (r) => live && setLatestId(r.runs[0]?.id ?? null),
      () => live && setLatestId(null),
    );
    return () => {
      live = false;
    };
  }, [workflowId]);

  // The run's header and its top-level steps by node (the last attempt wins). Refetched when the
  // session's run changes status, not on every step event.
  useEffect(() => {
    if (!runId) return;
    let live = true;
    api<{
      run: LastRunInfo;
      steps: StepRow[];
    }>(`/api/runs/${runId}?stepLimit=5000`).then(
      (r) => {
        if (!live) return;
        setRun(r.run);
        const m = new Map<string, string>();
        for (const s of r.steps) if (!s.parentNodeId) m.set(s.nodeId, s.id);
        setStepIds(m);
      },
      () => live && setRun(undefined),
    );
    return () => {
      live = false;
    };
  }, [runId, runStatus]);

  const stepIdOf = useCallback(
    (nodeId: string) =>
      (sessionRunId ? nodeStatusStore.get(nodeId).stepId : undefined) ?? stepIds.get(nodeId),
    [sessionRunId, stepIds],
  );

  const payload = useCallback(
    async (stepId: string): Promise<StepPayload> => {
      const hit = cache.current.get(stepId);
      if (hit) return hit;
      const r = await api<{ step: StepPayload }>(`/api/runs/${runId}/steps/${stepId}`);
      if (r.step.status && DONE.has(r.step.status)) cache.current.set(stepId, r.step);
      return r.step;
    },
    [runId],
  );

  /** Outputs of the given nodes in that run (nodes that did not run are left out). */
  const outputsOf = useCallback(
    async (nodeIds: string[]): Promise<Map<string, unknown>> => {
      const out = new Map<string, unknown>();
      await Promise.all(
        nodeIds.map(async (n) => {
          const sid = stepIdOf(n);
          if (!sid) return;
          const p = await payload(sid).catch(() => null);
          if (p && p.status === 'succeeded') out.set(n, p.output);
        }),
      );
      return out;
    },
    [stepIdOf, payload],
  );

  return { runId, run, stepIdOf, payload, outputsOf, fromSession: !!sessionRunId };
}

export type LastRunData = ReturnType<typeof useLastRunData>;

/** The selected step's input, output and error in that run. */
export function useSelectedStepRun(data: LastRunData, selectedId: string | undefined): LastRunView | null {
  const statusVersion = useStatusVersion();
  const [view, setView] = useState<LastRunView | null>(null);
  const { runId, run, stepIdOf, payload, fromSession } = data;
  const stepId = selectedId ? stepIdOf(selectedId) : undefined;
  useEffect(() => {
    if (!runId || !selectedId) {
      setView(null);
      return;
    }
    if (!stepId) {
      setView({ run, notRun: true, fromSession });
      return;
    }
    let live = true;
    setView({ run, loading: true, fromSession });
    payload(stepId).then(
      (s) =>
        live &&
        setView({ run, fromSession, status: s.status, input: s.input, output: s.output, error: s.error }),
      (e) => live && setView({ run, fromSession, error: errorMessage(e) }),
    );
    return () => {
      live = false;
    };
    // statusVersion: refetch when the selected step of a live run finishes.
  }, [runId, run, selectedId, stepId, payload, fromSession, statusVersion]);
  return view;
}
