'use client';
import { useCallback, useEffect, useState } from 'react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { api, errorMessage } from '@/components/ui/api';
import type { LastRunView } from './config-panel';
import { nodeStatusStore, useStatusVersion } from './node-status-store';
import type { Problem } from './types';
import { useRun } from './use-run';
import { problemsOf } from './use-validation';

// Running from the editor: the Run dialog's state, save-then-start, and the selected step's data
// from the run shown on the canvas (for the inspector's "last run" view).

export function useEditorRun(
  workflowId: string,
  definition: WorkflowDefinition,
  dirty: boolean,
  save: () => Promise<boolean>,
  showProblems: (ps: Problem[], def: WorkflowDefinition) => void,
) {
  const { runId, runStatus, failure, dismissFailure, start } = useRun(workflowId);
  const [runOpen, setRunOpen] = useState(false);
  const [runBusy, setRunBusy] = useState(false);
  const [runError, setRunError] = useState<string | null>(null);

  const openRun = useCallback(() => {
    setRunError(null);
    setRunOpen(true);
  }, []);
  const closeRun = useCallback(() => setRunOpen(false), []);

  const startRun = async (input: unknown) => {
    setRunBusy(true);
    setRunError(null);
    try {
      if (dirty) await save();
      await start(
        input,
        definition.nodes.map((n) => n.id),
      );
      setRunOpen(false);
    } catch (e) {
      const ps = problemsOf(e);
      if (ps) showProblems(ps, definition);
      setRunError(ps?.length ? `${errorMessage(e)} (see Problems)` : errorMessage(e));
    } finally {
      setRunBusy(false);
    }
  };

  return {
    runId,
    runStatus,
    failure,
    dismissFailure,
    runOpen,
    openRun,
    closeRun,
    runBusy,
    runError,
    startRun,
  };
}

/** The selected step's input, output and error in the run shown on the canvas. */
export function useLastRun(runId: string | null, selectedId: string | undefined): LastRunView | null {
  const statusVersion = useStatusVersion();
  const [lastRun, setLastRun] = useState<LastRunView | null>(null);
  const selectedStepId = selectedId ? nodeStatusStore.get(selectedId).stepId : undefined;
  useEffect(() => {
    if (!runId || !selectedStepId) {
      setLastRun(null);
      return;
    }
    let live = true;
    setLastRun({ loading: true });
    api<{ step: { status?: string; input?: unknown; output?: unknown; error?: unknown } }>(
      `/api/runs/${runId}/steps/${selectedStepId}`,
    ).then(
      (r) =>
        live &&
        setLastRun({
          status: r.step.status,
          input: r.step.input,
          output: r.step.output,
          error: r.step.error,
        }),
      (e) => live && setLastRun({ error: errorMessage(e) }),
    );
    return () => {
      live = false;
    };
    // statusVersion: refetch when the selected step finishes.
  }, [runId, selectedStepId, statusVersion]);
  return lastRun;
}
