'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError, errorMessage } from '@/components/ui/api';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { TERMINAL_RUN_STATUSES, type RunWithSteps, type VersionRecord } from './types';

/** Step events arrive in bursts (a map fans out); one refetch per window keeps a big run cheap. */
export const EVENT_REFETCH_MS = 400;
export const RUN_POLL_MS = 2000;
/** Steps per request; the API allows up to 5,000. */
export const STEP_PAGE_SIZE = 1000;

// The run and its steps, kept live: GET /api/runs/:id once, then the SSE stream
// (snapshot → step/run events) triggers throttled refetches of the payload-free step list.
// If the stream is unavailable, poll while the run is not finished.
export function useRunTrace(runId: string) {
  const [data, setData] = useState<RunWithSteps | null>(null);
  const [error, setError] = useState<{ message: string; notFound: boolean } | null>(null);
  const [streaming, setStreaming] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const alive = useRef(true);

  const load = useCallback(async () => {
    try {
      // The first page of steps comes with the run so the page paints at once; a 10,000-step run
      // then fills in page by page.
      const first = await api<RunWithSteps & { stepsCursor?: string | null }>(
        `/api/runs/${runId}?stepLimit=${STEP_PAGE_SIZE}`,
      );
      if (!alive.current) return;
      const { stepsCursor, ...r } = first;
      setData(r);
      setError(null);
      let cursor = stepsCursor;
      const steps = [...r.steps];
      while (cursor && alive.current) {
        const page = await api<{ steps: RunWithSteps['steps']; nextCursor: string | null }>(
          `/api/runs/${runId}/steps?limit=${STEP_PAGE_SIZE}&cursor=${encodeURIComponent(cursor)}`,
        );
        steps.push(...page.steps);
        cursor = page.nextCursor;
        if (alive.current) setData({ ...r, steps: [...steps] });
      }
    } catch (e) {
      if (!alive.current) return;
      setError({ message: errorMessage(e), notFound: e instanceof ApiError && e.status === 404 });
    }
  }, [runId]);

  const schedule = useCallback(() => {
    if (timer.current) return;
    timer.current = setTimeout(() => {
      timer.current = null;
      void load();
    }, EVENT_REFETCH_MS);
  }, [load]);

  useEffect(() => {
    alive.current = true;
    setData(null);
    void load();
    return () => {
      alive.current = false;
      if (timer.current) clearTimeout(timer.current);
      timer.current = null;
    };
  }, [load]);

  const status = data?.run.status;
  const finished = status ? TERMINAL_RUN_STATUSES.has(status) : false;
  const loaded = !!data;

  // Opened only once the first read says the run is not finished: a finished run needs no stream.
  useEffect(() => {
    if (!loaded || finished || typeof EventSource === 'undefined') return;
    const es = new EventSource(`/api/runs/${runId}/events`);
    es.onopen = () => setStreaming(true);
    es.addEventListener('snapshot', (ev) => {
      try {
        const snap = JSON.parse((ev as MessageEvent).data) as RunWithSteps & {
          stepsCursor?: string | null;
          resumed?: boolean;
        };
        if (!snap?.run || !Array.isArray(snap.steps)) return;
        // A snapshot is one page (more behind stepsCursor) or, after a reconnect, only what
        // changed: either way the full list comes from the paged refetch, not from the snapshot.
        if (snap.stepsCursor || snap.resumed) {
          setData((cur) => (cur ? { run: { ...cur.run, ...snap.run }, steps: cur.steps } : cur));
          schedule();
        } else setData((cur) => ({ run: { ...cur?.run, ...snap.run }, steps: snap.steps }));
      } catch {
        schedule();
      }
    });
    es.addEventListener('step', schedule);
    es.addEventListener('run', (ev) => {
      schedule();
      try {
        const d = JSON.parse((ev as MessageEvent).data) as { status?: string };
        if (d.status && TERMINAL_RUN_STATUSES.has(d.status)) es.close();
      } catch {
        // The refetch above brings the status anyway.
      }
    });
    es.onerror = () => {
      if (es.readyState === EventSource.CLOSED) setStreaming(false);
    };
    return () => {
      es.close();
      setStreaming(false);
    };
  }, [runId, loaded, finished, schedule]);

  useEffect(() => {
    if (finished || streaming || !data) return;
    const t = setInterval(() => void load(), RUN_POLL_MS);
    return () => clearInterval(t);
  }, [finished, streaming, data, load]);

  return { data, error, reload: load, live: !finished && !!data };
}

export function useDefinition(workflowId: string | null | undefined, version: number | null | undefined) {
  const [def, setDef] = useState<WorkflowDefinition | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!workflowId) return;
    let off = false;
    const path = version
      ? `/api/workflows/${workflowId}/versions/${version}`
      : `/api/workflows/${workflowId}`;
    api<VersionRecord>(path).then(
      (r) => !off && setDef(r.definition),
      (e) => !off && setError(errorMessage(e)),
    );
    return () => {
      off = true;
    };
  }, [workflowId, version]);
  return { definition: def, error };
}
