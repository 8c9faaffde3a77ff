'use client';
import { useCallback, useState } from 'react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { api, ApiError, errorMessage } from '@/components/ui/api';
import type { Problem } from './types';
import type { EditorDocument } from './use-editor-history';
import { problemsOf } from './use-validation';

// Saving a new version: PUT the settled definition with the version it was edited from
// (`baseVersion`); the server's answer is the new version number, the problems that made it
// refuse (shown in the Problems panel), or 409 version_conflict when someone saved meanwhile
// (another tab, a rollback by the rollout watcher): then `conflict` says what the latest is.

type Notify = (text: string, tone?: 'ok' | 'error') => void;

/** The version that replaced the editor's base, as the 409 answer names it. */
export interface VersionConflict {
  currentVersion: number;
  note: string | null;
}

function conflictOf(e: unknown): VersionConflict | null {
  if (!(e instanceof ApiError) || e.code !== 'version_conflict') return null;
  const d = (e.details ?? {}) as Partial<VersionConflict>;
  return typeof d.currentVersion === 'number'
    ? { currentVersion: d.currentVersion, note: d.note ?? null }
    : null;
}

export function useSave(
  workflowId: string,
  /** The version shown (an older one when the editor opened one from the history). */
  initialVersion: number,
  /** The latest version when the editor loaded: what its edits are based on. */
  initialBase: number,
  doc: EditorDocument,
  notify: Notify,
  showProblems: (ps: Problem[], def: WorkflowDefinition) => void,
) {
  const { definition, dirty, markSaved } = doc;
  const [version, setVersion] = useState(initialVersion);
  const [base, setBase] = useState(initialBase);
  const [saving, setSaving] = useState(false);
  const [conflict, setConflict] = useState<VersionConflict | null>(null);

  const put = useCallback(
    async (baseVersion: number): Promise<boolean> => {
      setSaving(true);
      const snap = JSON.stringify(definition);
      try {
        const r = await api<{ id: string; version: number }>(`/api/workflows/${workflowId}`, {
          method: 'PUT',
          body: { definition, name: definition.name, baseVersion },
        });
        setVersion(r.version);
        setBase(r.version);
        markSaved(snap);
        notify(`Saved version ${r.version}`);
        return true;
      } catch (e) {
        const moved = conflictOf(e);
        if (moved) {
          setConflict(moved);
          notify(`Not saved: version ${moved.currentVersion} was saved since you opened it`, 'error');
          return false;
        }
        const ps = problemsOf(e);
        if (ps) showProblems(ps, definition);
        notify(`Save failed: ${errorMessage(e)}`, 'error');
        return false;
      } finally {
        setSaving(false);
      }
    },
    [definition, markSaved, notify, showProblems, workflowId],
  );

  /** Resolves true when the editor's content is saved (or had nothing to save). */
  const save = useCallback(async (): Promise<boolean> => {
    if (saving) return false;
    if (!dirty) {
      notify('No changes to save');
      return true;
    }
    return put(base);
  }, [base, dirty, notify, put, saving]);

  /** The conflict's "Overwrite": save on top of the version that replaced the base, knowingly. */
  const overwrite = useCallback(async () => {
    if (!conflict || saving) return false;
    setConflict(null);
    return put(conflict.currentVersion);
  }, [conflict, put, saving]);

  /**
   * A version the server wrote for the editor (a Promotion-tab action). It becomes the base only
   * when it was derived from the base itself; otherwise someone else saved in between, and the
   * next save must still meet that version as a conflict.
   */
  const adoptServerVersion = useCallback(
    (v: number) => {
      if (v !== base + 1) return false;
      setBase(v);
      setVersion(v);
      return true;
    },
    [base],
  );

  const exportJson = useCallback(() => {
    const blob = new Blob([JSON.stringify(definition, null, 2)], { type: 'application/json' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${definition.name.replace(/[^\w-]+/g, '-').toLowerCase() || 'workflow'}.json`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }, [definition]);

  return {
    version,
    base,
    saving,
    save,
    exportJson,
    conflict,
    overwrite,
    dismissConflict: useCallback(() => setConflict(null), []),
    adoptServerVersion,
  };
}
