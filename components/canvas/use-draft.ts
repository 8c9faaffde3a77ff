'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';

// Unsaved work survives a crash or reload: while the editor is dirty the current definition is
// kept in localStorage (debounced), removed on save or discard, and offered back on the next open
// when it differs from what was loaded.

/** How long after the last change the draft is written (typing must not write every keystroke). */
export const DRAFT_WRITE_DEBOUNCE_MS = 400;
const key = (workflowId: string) => `trellis.draft.${workflowId}`;

export interface Draft {
  /** The saved version the draft was edited from. */
  baseVersion: number;
  savedAt: string;
  definition: WorkflowDefinition;
}

export function readDraft(workflowId: string): Draft | null {
  try {
    const raw = localStorage.getItem(key(workflowId));
    const d = raw ? (JSON.parse(raw) as Draft) : null;
    return d && d.definition && Array.isArray(d.definition.nodes) ? d : null;
  } catch {
    return null;
  }
}

/** Keeps `definition` as the draft now (edits about to be replaced by another version). */
export function keepDraft(workflowId: string, baseVersion: number, definition: WorkflowDefinition) {
  try {
    const draft: Draft = { baseVersion, savedAt: new Date().toISOString(), definition };
    localStorage.setItem(key(workflowId), JSON.stringify(draft));
  } catch {
    // quota or disabled storage: nothing to keep them in
  }
}

export function clearDraft(workflowId: string) {
  try {
    localStorage.removeItem(key(workflowId));
  } catch {
    // storage disabled: nothing was kept
  }
}

export function useDraft(
  workflowId: string,
  loadedSnap: string,
  currentSnap: string,
  dirty: boolean,
  version: number,
) {
  // Read once on open: what a previous session left behind.
  const [offer, setOffer] = useState<Draft | null>(() => {
    const d = readDraft(workflowId);
    return d && JSON.stringify(d.definition) !== loadedSnap ? d : null;
  });

  // Set once the user discards on leaving: a write still waiting in its debounce must not bring
  // the draft back.
  const forgotten = useRef(false);
  useEffect(() => {
    // While a draft is on offer, keep it: editing first must not overwrite what may be restored.
    if (offer || forgotten.current) return;
    if (!dirty) {
      clearDraft(workflowId);
      return;
    }
    const t = setTimeout(() => {
      if (forgotten.current) return;
      // Quota or disabled storage writes nothing: the beforeunload prompt still guards a reload.
      keepDraft(workflowId, version, JSON.parse(currentSnap) as WorkflowDefinition);
    }, DRAFT_WRITE_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [currentSnap, dirty, offer, version, workflowId]);

  const dismiss = useCallback(() => {
    clearDraft(workflowId);
    setOffer(null);
  }, [workflowId]);
  const accept = useCallback(() => setOffer(null), []);
  /** Leaving without saving: drop the draft and write no more. */
  const forget = useCallback(() => {
    forgotten.current = true;
    clearDraft(workflowId);
  }, [workflowId]);

  return { offer, dismiss, accept, forget };
}
