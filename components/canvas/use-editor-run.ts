'use client';
import { useCallback, useState } from 'react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { errorMessage } from '@/components/ui/api';
import type { Problem } from './types';
import { useRun } from './use-run';
import { problemsOf } from './use-validation';

// Running from the editor: the Run dialog's state and save-then-start. The run's data for the
// inspector is use-last-run.ts.

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
