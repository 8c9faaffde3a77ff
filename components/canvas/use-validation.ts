'use client';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { api, ApiError } from '@/components/ui/api';
import { nodeIdForPath } from './graph';
import { nodeStatusStore } from './node-status-store';
import type { ProblemRow } from './problems-panel';
import type { Problem } from './types';

// The server's validate() is the one source of truth (it knows every node schema); the editor
// asks it, debounced, after every settled change and maps each problem to its node.

const VALIDATE_DEBOUNCE_MS = 350;

/** Problems a failed save or run start returned, with paths relative to the definition. */
export function problemsOf(e: unknown): Problem[] | undefined {
  const ps =
    e instanceof ApiError ? (e.details as { problems?: Problem[] } | undefined)?.problems : undefined;
  return ps?.map((p) => ({ ...p, path: p.path.replace(/^\/definition(?=\/|$)/, '') }));
}

export function useValidation(currentSnap: string, initial: WorkflowDefinition) {
  const [problems, setProblems] = useState<Problem[]>([]);
  const [validated, setValidated] = useState<WorkflowDefinition>(initial);
  const [validation, setValidation] = useState<'ok' | 'checking' | 'unavailable'>('checking');

  useEffect(() => {
    const ctrl = new AbortController();
    const def = JSON.parse(currentSnap) as WorkflowDefinition;
    const t = setTimeout(() => {
      setValidation('checking');
      api<{ valid: boolean; problems: Problem[] }>('/api/validate', {
        method: 'POST',
        body: def,
        signal: ctrl.signal,
      }).then(
        (r) => {
          setProblems(r.problems ?? []);
          setValidated(def);
          setValidation('ok');
        },
        (e) => {
          if ((e as Error).name === 'AbortError') return;
          // A 400 with problems is still an answer.
          const ps =
            (e instanceof ApiError && (e.details as { problems?: Problem[] } | undefined)?.problems) || null;
          if (ps) {
            setProblems(ps);
            setValidated(def);
            setValidation('ok');
          } else setValidation('unavailable');
        },
      );
    }, VALIDATE_DEBOUNCE_MS);
    return () => {
      clearTimeout(t);
      ctrl.abort();
    };
  }, [currentSnap]);

  /** Show problems the server returned elsewhere (a rejected save or run) against `def`. */
  const showProblems = useCallback((ps: Problem[], def: WorkflowDefinition) => {
    setProblems(ps);
    setValidated(def);
  }, []);

  const validatedNodes = validated.nodes;
  const problemRows: ProblemRow[] = useMemo(
    () =>
      problems.map((p) => {
        const nodeId = nodeIdForPath(p.path, validatedNodes);
        const n = validatedNodes.find((x) => x.id === nodeId);
        return { ...p, nodeId, nodeName: n ? n.name || n.id : undefined };
      }),
    [problems, validatedNodes],
  );
  useEffect(() => {
    const counts = new Map<string, number>();
    const withErrors = new Set<string>();
    for (const p of problemRows) {
      if (!p.nodeId) continue;
      counts.set(p.nodeId, (counts.get(p.nodeId) ?? 0) + 1);
      if (p.severity !== 'warning') withErrors.add(p.nodeId);
    }
    nodeStatusStore.setProblems(counts, new Set([...counts.keys()].filter((id) => !withErrors.has(id))));
  }, [problemRows]);

  return { problemRows, validation, validated, showProblems };
}
