'use client';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import type { DefinitionMeta } from './convert';
import { RunDialog } from './run-dialog';
import type { Draft } from './use-draft';
import type { VersionConflict } from './use-save';
import type { PendingField } from './pending-fields';
import { SHORTCUTS } from './use-shortcuts';
import { JsonField } from './json-field';
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
        workflowId={p.workflowId}
        schema={p.meta.inputSchema as JsonSchema | undefined}
        onInferSchema={(schema) =>
          p.editMeta('inputSchema', (m) => ({ ...m, inputSchema: schema as Record<string, unknown> }))
        }
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

/** Leaving with unsaved changes: save and go, go without saving, or stay. */
export function LeaveDialog({
  open,
  saving,
  onSave,
  onDiscard,
  onCancel,
}: {
  open: boolean;
  saving: boolean;
  onSave(): void;
  onDiscard(): void;
  onCancel(): void;
}) {
  return (
    <Dialog
      open={open}
      title="Unsaved changes"
      onClose={onCancel}
      footer={
        <>
          <Button variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
          <Button variant="danger" onClick={onDiscard}>
            Discard
          </Button>
          <Button variant="primary" onClick={onSave} disabled={saving}>
            {saving ? 'Saving…' : 'Save'}
          </Button>
        </>
      }
    >
      <p className="text-sm text-slate-600">
        This workflow has changes that are not saved. Save them as a new version before leaving?
      </p>
    </Dialog>
  );
}

/** A save refused because the workflow moved on (409 version_conflict): whose version wins. */
export function ConflictDialog({
  conflict,
  saving,
  onReload,
  onOverwrite,
  onCancel,
}: {
  conflict: VersionConflict | null;
  saving: boolean;
  onReload(): void;
  onOverwrite(): void;
  onCancel(): void;
}) {
  return (
    <Dialog
      open={conflict !== null}
      title="This workflow changed"
      onClose={onCancel}
      footer={
        <>
          <Button variant="ghost" onClick={onCancel}>
            Cancel
          </Button>
          <Button variant="danger" onClick={onOverwrite} disabled={saving}>
            Overwrite
          </Button>
          <Button variant="primary" onClick={onReload}>
            Reload theirs
          </Button>
        </>
      }
    >
      {conflict && (
        <div className="space-y-2 text-sm text-slate-600">
          <p>
            This workflow changed since you opened it (v{conflict.currentVersion}
            {conflict.note ? `: ${conflict.note}` : ''}).
          </p>
          <p className="text-xs text-slate-500">
            Reload theirs opens v{conflict.currentVersion}; your changes stay in this browser as a draft you
            can restore. Overwrite saves yours on top of it, replacing its changes.
          </p>
        </div>
      )}
    </Dialog>
  );
}

/** A draft a previous session left in this browser (crash, reload, closed tab). */
export function DraftBanner({
  draft,
  onRestore,
  onDiscard,
}: {
  draft: Draft;
  onRestore(): void;
  onDiscard(): void;
}) {
  return (
    <div
      role="region"
      aria-label="Unsaved draft"
      className="flex items-center gap-3 border-b border-amber-200 bg-amber-50 px-3 py-1.5 text-xs text-amber-900"
    >
      <span>
        Unsaved changes from {new Date(draft.savedAt).toLocaleString()} (edited from v{draft.baseVersion})
        were kept in this browser.
      </span>
      <Button size="sm" variant="secondary" onClick={onRestore}>
        Restore draft
      </Button>
      <Button size="sm" variant="ghost" onClick={onDiscard}>
        Discard draft
      </Button>
    </div>
  );
}

/** Save while some JSON field holds text that does not parse: say what will not be saved. */
export function SaveInvalidDialog({
  pending,
  onCancel,
  onSaveAnyway,
}: {
  /** Empty while the dialog is closed. */
  pending: PendingField[];
  onCancel(): void;
  onSaveAnyway(): void;
}) {
  return (
    <Dialog
      open={pending.length > 0}
      title="Save with invalid fields?"
      onClose={onCancel}
      footer={
        <>
          <Button onClick={onCancel}>Cancel</Button>
          <Button variant="danger" onClick={onSaveAnyway}>
            Save without them
          </Button>
        </>
      }
    >
      <p className="text-sm text-slate-600">
        {pending.length === 1 ? 'One field holds' : `${pending.length} fields hold`} text that is not valid
        JSON, so it is not part of the workflow and will not be saved:
      </p>
      <ul className="mt-2 list-disc pl-5 text-xs text-slate-700">
        {pending.map((f) => (
          <li key={f.id}>{f.nodeId ? `${f.nodeId}: ${f.label}` : f.label}</li>
        ))}
      </ul>
    </Dialog>
  );
}

/** The keyboard shortcut sheet (`?`). */
export function ShortcutsDialog({ open, onClose }: { open: boolean; onClose(): void }) {
  return (
    <Dialog open={open} title="Keyboard shortcuts" onClose={onClose}>
      <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1.5 text-xs">
        {SHORTCUTS.map(([keys, does]) => (
          <div key={keys} className="contents">
            <dt>
              <kbd className="rounded border border-slate-300 bg-slate-50 px-1.5 py-0.5 font-mono text-[11px]">
                {keys}
              </kbd>
            </dt>
            <dd className="text-slate-600">{does}</dd>
          </div>
        ))}
      </dl>
    </Dialog>
  );
}
