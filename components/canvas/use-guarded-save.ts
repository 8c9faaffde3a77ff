'use client';
import { useCallback, useMemo, useState } from 'react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { pendingFields, type PendingField } from './pending-fields';
import type { ProblemRow } from './problems-panel';

// Save that warns when some JSON field holds text that will not be saved, and the Problems list
// with those fields in it (they are not in the document, so the server cannot report them).

export function useGuardedSave(
  save: () => Promise<boolean>,
  pending: PendingField[],
  problemRows: ProblemRow[],
  definition: WorkflowDefinition,
) {
  const [confirmSave, setConfirmSave] = useState<null | (() => void)>(null);
  const guardedSave = useCallback(
    (then?: () => void) => {
      if (pendingFields.snapshot().length) {
        setConfirmSave(() => () => {
          pendingFields.reset();
          void save().then((ok) => ok && then?.());
        });
        return;
      }
      void save().then((ok) => ok && then?.());
    },
    [save],
  );
  const allProblems = useMemo(
    () => [
      ...pending.map((f): ProblemRow => ({
        path: '',
        code: 'invalid_json',
        message: `${f.label}: not valid JSON, not applied (${f.error})`,
        nodeId: f.nodeId,
        nodeName: f.nodeId ? definition.nodes.find((n) => n.id === f.nodeId)?.name || f.nodeId : undefined,
        elementId: f.id,
      })),
      ...problemRows,
    ],
    [pending, problemRows, definition.nodes],
  );
  return { guardedSave, confirmSave, setConfirmSave, allProblems };
}
