'use client';
import { useCallback } from 'react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { api, errorMessage } from '@/components/ui/api';
import { mirrorNodes, mirrorSnap, rolloutChanges } from './rollout-mirror';
import type { EditorDocument } from './use-editor-history';

// After a Promotion-tab action saved version v on the server (it may change several steps: the
// kill switch demotes them all), the editor takes the rollout fields that version changed. When v
// was derived from the editor's base it becomes the base, and the saved snapshot moves with it:
// no false "Unsaved changes", no false conflict on the next save.

export function useServerVersion(
  workflowId: string,
  doc: Pick<EditorDocument, 'savedSnap' | 'setNodes' | 'markSaved'>,
  adopt: (version: number) => boolean,
  notify: (text: string, tone?: 'ok' | 'error') => void,
) {
  const { savedSnap, setNodes, markSaved } = doc;
  return useCallback(
    async (version: number) => {
      try {
        const saved = await api<{ version: number; definition: WorkflowDefinition }>(
          `/api/workflows/${encodeURIComponent(workflowId)}/versions/${version}`,
        );
        const changes = rolloutChanges(JSON.parse(savedSnap) as WorkflowDefinition, saved.definition);
        setNodes((nodes) => mirrorNodes(nodes, changes));
        if (adopt(version)) markSaved((snap) => mirrorSnap(snap, changes));
      } catch (e) {
        notify(`Could not read version ${version}: ${errorMessage(e)}`, 'error');
      }
    },
    [adopt, markSaved, notify, savedSnap, setNodes, workflowId],
  );
}
