'use client';
import { useCallback, useState } from 'react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { api, errorMessage } from '@/components/ui/api';
import type { Problem } from './types';
import type { EditorDocument } from './use-editor-history';
import { problemsOf } from './use-validation';

// Saving a new version: PUT the settled definition; the server's answer is the new version
// number, or the problems that made it refuse (shown in the Problems panel).

type Notify = (text: string, tone?: 'ok' | 'error') => void;

export function useSave(
  workflowId: string,
  initialVersion: number,
  doc: EditorDocument,
  notify: Notify,
  showProblems: (ps: Problem[], def: WorkflowDefinition) => void,
) {
  const { definition, dirty, markSaved } = doc;
  const [version, setVersion] = useState(initialVersion);
  const [saving, setSaving] = useState(false);

  /** Resolves true when the editor's content is saved (or had nothing to save). */
  const save = useCallback(async (): Promise<boolean> => {
    if (saving) return false;
    if (!dirty) {
      notify('No changes to save');
      return true;
    }
    setSaving(true);
    const snap = JSON.stringify(definition);
    try {
      const r = await api<{ id: string; version: number }>(`/api/workflows/${workflowId}`, {
        method: 'PUT',
        body: { definition, name: definition.name },
      });
      setVersion(r.version);
      markSaved(snap);
      notify(`Saved version ${r.version}`);
      return true;
    } catch (e) {
      const ps = problemsOf(e);
      if (ps) showProblems(ps, definition);
      notify(`Save failed: ${errorMessage(e)}`, 'error');
      return false;
    } finally {
      setSaving(false);
    }
  }, [definition, dirty, markSaved, notify, saving, showProblems, workflowId]);

  const exportJson = useCallback(() => {
    const blob = new Blob([JSON.stringify(definition, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${definition.name.replace(/[^\w-]+/g, '-').toLowerCase() || 'workflow'}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }, [definition]);

  return { version, saving, save, exportJson };
}
