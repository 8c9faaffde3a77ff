'use client';
import { Dialog } from '@/components/ui/dialog';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import type { DefinitionMeta } from './convert';
import { RunDialog } from './run-dialog';
import { JsonField } from './schema-form';
import type { JsonSchema } from './types';
import { VersionsDialog } from './versions-dialog';

// The editor's dialogs: run input, version history, and the workflow's own settings.

export function WorkflowSettingsDialog({
  open,
  onClose,
  meta,
  editMeta,
}: {
  open: boolean;
  onClose(): void;
  meta: DefinitionMeta;
  editMeta(field: string, update: (m: DefinitionMeta) => DefinitionMeta): void;
}) {
  return (
    <Dialog open={open} title="Workflow settings" onClose={onClose}>
      <div className="space-y-3">
        <div>
          <label htmlFor="workflow-description" className="mb-1 block text-[11px] font-medium text-slate-600">
            Description
          </label>
          <textarea
            id="workflow-description"
            rows={2}
            className="w-full rounded-md border border-slate-300 px-2 py-1 text-xs"
            value={meta.description ?? ''}
            onChange={(e) => {
              const description = e.target.value || undefined;
              editMeta('description', (m) => ({ ...m, description }));
            }}
          />
        </div>
        <JsonField
          id="workflow-input-schema"
          label="Input schema"
          rows={8}
          value={meta.inputSchema}
          onCommit={(v) =>
            editMeta('inputSchema', (m) => ({
              ...m,
              inputSchema: (v ?? undefined) as Record<string, unknown> | undefined,
            }))
          }
        />
        <p className="text-[11px] text-slate-400">
          A JSON Schema for the run input; the Run dialog builds its form from it.
        </p>
      </div>
    </Dialog>
  );
}

export interface EditorDialogsProps {
  workflowId: string;
  meta: DefinitionMeta;
  editMeta(field: string, update: (m: DefinitionMeta) => DefinitionMeta): void;
  definition: WorkflowDefinition;
  run: {
    open: boolean;
    onClose(): void;
    onRun(input: unknown): void;
    busy: boolean;
    error: string | null;
  };
  versionsOpen: boolean;
  onVersionsClose(): void;
  onRestore(def: WorkflowDefinition, version: number): void;
  settingsOpen: boolean;
  onSettingsClose(): void;
}

export function EditorDialogs(p: EditorDialogsProps) {
  return (
    <>
      <RunDialog
        open={p.run.open}
        schema={p.meta.inputSchema as JsonSchema | undefined}
        onClose={p.run.onClose}
        onRun={p.run.onRun}
        busy={p.run.busy}
        error={p.run.error}
      />
      <VersionsDialog
        open={p.versionsOpen}
        workflowId={p.workflowId}
        current={p.definition}
        onClose={p.onVersionsClose}
        onRestore={p.onRestore}
      />
      <WorkflowSettingsDialog
        open={p.settingsOpen}
        onClose={p.onSettingsClose}
        meta={p.meta}
        editMeta={p.editMeta}
      />
    </>
  );
}
