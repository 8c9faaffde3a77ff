'use client';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import Link from 'next/link';
import { ReactFlowProvider } from '@xyflow/react';
import { api, ApiError, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { Spinner } from '@/components/ui/spinner';
import { isSignedOut, SignInLink } from '@/components/ui/signed-out';
import { ActiveSwitch } from './active-switch';
import { ConfigPanel } from './config-panel';
import { EditorCanvas, type Toast } from './editor-canvas';
import { EditorActionsContext } from './editor-actions';
import {
  DraftBanner,
  EditorDialogs,
  ConflictDialog,
  LeaveDialog,
  SaveInvalidDialog,
  ShortcutsDialog,
} from './editor-dialogs';
import { EditorToolbar } from './editor-toolbar';
import { nodeStatusStore } from './node-status-store';
import { Palette } from './palette';
import { pendingFields, usePendingFields } from './pending-fields';
import { useGuardedSave } from './use-guarded-save';
import { ProblemsPanel, type ProblemRow } from './problems-panel';
import { RunFailureBanner } from './run-failure';
import type { NodeTypeInfo, WorkflowRecord } from './types';
import { useClipboardActions } from './use-clipboard-actions';
import { keepDraft, useDraft } from './use-draft';
import { useEditing } from './use-editing';
import { useEditorHistory } from './use-editor-history';
import { useEditorRun } from './use-editor-run';
import { useInspector } from './use-inspector';
import { useLeaveGuard } from './use-leave-guard';
import { CatalogContext, useNodeTypes } from './use-node-types';
import { useSave } from './use-save';
import { useServerVersion } from './use-server-version';
import { useEditorShortcuts } from './use-shortcuts';
import { useValidation } from './use-validation';

// The workflow editor: loads the workflow, then composes the concerns that live in their own
// hooks (history, validation, editing, clipboard, save, run, inspector, shortcuts) and components
// (toolbar, canvas, dialogs). See README.md in this folder for the data flow.

export function WorkflowEditor({ workflowId, version }: { workflowId: string; version?: number }) {
  const { types, error: typesError, retry } = useNodeTypes();
  const [record, setRecord] = useState<WorkflowRecord | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [signedOut, setSignedOut] = useState(false);

  useEffect(() => {
    let live = true;
    const load = async (): Promise<WorkflowRecord> => {
      const latest = await api<WorkflowRecord>(`/api/workflows/${workflowId}`);
      if (!version || version === latest.version) return latest;
      const old = await api<{ version: number; definition: WorkflowRecord['definition'] }>(
        `/api/workflows/${workflowId}/versions/${version}`,
      );
      return { ...latest, version: old.version, definition: old.definition, latestVersion: latest.version };
    };
    load().then(
      (r) => live && setRecord(r),
      (e) => {
        if (!live) return;
        setSignedOut(isSignedOut(e));
        setError(
          e instanceof ApiError && e.status === 404 ? 'This workflow does not exist.' : errorMessage(e),
        );
      },
    );
    return () => {
      live = false;
    };
  }, [workflowId, version]);

  // The conflict dialog's "Reload theirs": the editor opens the latest version afresh (a new
  // EditorLoaded, keyed by version); the discarded edits wait in the draft store.
  const reloadLatest = useCallback(async () => {
    try {
      setRecord(await api<WorkflowRecord>(`/api/workflows/${workflowId}`));
    } catch (e) {
      setError(errorMessage(e));
    }
  }, [workflowId]);

  if (error || typesError) {
    return (
      <div className="grid flex-1 place-items-center">
        <div
          role="alert"
          className="max-w-sm rounded-lg border border-red-200 bg-white p-6 text-center shadow-sm"
        >
          <p className="text-sm font-medium text-red-700">
            {signedOut ? 'You are signed out' : 'Could not open the editor'}
          </p>
          <p className="mt-1 text-xs text-slate-500">{error ?? typesError}</p>
          <div className="mt-4 flex items-center justify-center gap-3">
            {signedOut && <SignInLink />}
            <Link href="/workflows" className="text-xs font-medium text-slate-600 hover:underline">
              Back to workflows
            </Link>
            {typesError && (
              <Button size="sm" onClick={retry}>
                Retry
              </Button>
            )}
          </div>
        </div>
      </div>
    );
  }
  if (!record || !types) {
    return (
      <div className="grid flex-1 place-items-center">
        <Spinner label="Opening workflow" />
      </div>
    );
  }
  return (
    <ReactFlowProvider>
      <EditorLoaded
        key={`${record.id}@${record.version}`}
        record={record}
        types={types}
        onReload={() => void reloadLatest()}
      />
    </ReactFlowProvider>
  );
}

function EditorLoaded({
  record,
  types,
  onReload,
}: {
  record: WorkflowRecord;
  types: NodeTypeInfo[];
  onReload: () => void;
}) {
  const workflowId = record.id;
  const catalog = useMemo(() => new Map(types.map((t) => [t.type, t])), [types]);
  const paletteSearch = useRef<HTMLInputElement>(null);
  const canvasRef = useRef<HTMLDivElement>(null);
  const [toast, setToast] = useState<Toast | null>(null);
  const notify = useCallback((text: string, tone: 'ok' | 'error' = 'ok') => setToast({ text, tone }), []);
  useEffect(() => {
    if (!toast) return;
    const t = setTimeout(() => setToast(null), 3500);
    return () => clearTimeout(t);
  }, [toast]);

  // The status store is module-wide: a run or problems of the previously open workflow must not
  // light up nodes that happen to share ids here.
  useEffect(() => {
    nodeStatusStore.resetRun([]);
    nodeStatusStore.setProblems(new Map());
    pendingFields.reset();
  }, [workflowId]);

  const doc = useEditorHistory(record, catalog);
  const { definition, meta, editMeta } = doc;
  // Text in a JSON field that does not parse is not in the document yet: still an unsaved change.
  const pending = usePendingFields();
  const dirty = doc.dirty || pending.length > 0;
  const { problemRows, validation, validated, showProblems } = useValidation(
    doc.currentSnap,
    record.definition,
  );
  const focusPalette = useCallback(() => paletteSearch.current?.focus(), []);
  const editing = useEditing(doc, catalog, canvasRef, focusPalette);
  const clipboard = useClipboardActions(doc, notify);
  const saver = useSave(
    workflowId,
    record.version,
    record.latestVersion ?? record.version,
    doc,
    notify,
    showProblems,
  );
  const { version, saving, save, exportJson } = saver;
  const onServerVersion = useServerVersion(workflowId, doc, saver.adoptServerVersion, notify);
  const run = useEditorRun(workflowId, definition, doc.dirty, save, showProblems);
  const inspector = useInspector(
    workflowId,
    doc,
    problemRows,
    validated,
    run.runId,
    run.runStatus,
    editing.updateStep,
  );
  const draft = useDraft(workflowId, doc.savedSnap, doc.currentSnap, doc.dirty, version);
  const { guardedSave, confirmSave, setConfirmSave, allProblems } = useGuardedSave(
    save,
    pending,
    problemRows,
    definition,
  );
  const leave = useLeaveGuard(dirty);
  const [versionsOpen, setVersionsOpen] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const [helpOpen, setHelpOpen] = useState(false);
  const [enabled, setEnabled] = useState(record.enabled !== false);

  useEditorShortcuts({
    save: () => guardedSave(),
    undo: doc.undo,
    redo: doc.redo,
    duplicate: clipboard.duplicate,
    copy: () => void clipboard.copy(),
    paste: () => void clipboard.paste(),
    focusSearch: () => paletteSearch.current?.focus(),
    showHelp: () => setHelpOpen(true),
  });

  // After a failed run the step it stopped at is selected (its error shows in the inspector).
  const { failure } = run;
  const { focusNode } = inspector;
  useEffect(() => {
    if (failure) focusNode(failure.nodeId);
  }, [failure, focusNode]);
  const failedName = failure
    ? (() => {
        const n = definition.nodes.find((x) => x.id === failure.nodeId);
        return n?.name || failure.nodeId;
      })()
    : '';

  // Stable, so the memoized Problems panel does not re-render on every drag frame.
  const { pickProblem: pickDocumentProblem } = inspector;
  const pickProblem = useCallback(
    (p: ProblemRow) => {
      if (!p.elementId) return pickDocumentProblem(p);
      if (p.nodeId) focusNode(p.nodeId);
      const el = p.elementId;
      // The panel mounts on the next render; focus the field once it exists.
      setTimeout(() => document.getElementById(el)?.focus(), 60);
    },
    [focusNode, pickDocumentProblem],
  );

  const { addStep } = editing;
  const onPaletteAdd = useCallback((t: string) => addStep(t), [addStep]);
  const { selectedStep } = inspector;

  return (
    <CatalogContext.Provider value={catalog}>
      <EditorActionsContext.Provider value={editing.actions}>
        <div className="flex min-h-0 flex-1 flex-col">
          <EditorToolbar
            name={meta.name}
            onRename={(name) => editMeta('name', (m) => ({ ...m, name }))}
            version={version}
            dirty={dirty}
            canUndo={doc.canUndo}
            canRedo={doc.canRedo}
            onUndo={doc.undo}
            onRedo={doc.redo}
            hasSteps={definition.nodes.length > 0}
            onAutoLayout={editing.autoLayout}
            onAddNote={editing.addNote}
            runId={run.runId}
            runStatus={run.runStatus}
            onSettings={() => setSettingsOpen(true)}
            onHistory={() => setVersionsOpen(true)}
            onExport={exportJson}
            saving={saving}
            onSave={() => guardedSave()}
            onRun={run.openRun}
            activeSwitch={<ActiveSwitch workflowId={workflowId} enabled={enabled} onChange={setEnabled} />}
          />
          {failure && (
            <RunFailureBanner
              failure={failure}
              stepName={failedName}
              onOpen={() => focusNode(failure.nodeId)}
              onDismiss={run.dismissFailure}
            />
          )}
          {draft.offer && (
            <DraftBanner
              draft={draft.offer}
              onRestore={() => {
                doc.load(draft.offer!.definition, false);
                draft.accept();
                notify('Draft restored; save to keep it');
              }}
              onDiscard={draft.dismiss}
            />
          )}
          <div className="flex min-h-0 flex-1">
            <Palette ref={paletteSearch} types={types} onAdd={onPaletteAdd} />
            <div className="flex min-w-0 flex-1 flex-col">
              <EditorCanvas
                canvasRef={canvasRef}
                initial={doc.initial}
                onConnect={editing.onConnect}
                isValidConnection={editing.isValidConnection}
                onDrop={editing.onDrop}
                toast={toast}
              />
              <ProblemsPanel problems={allProblems} status={validation} onPick={pickProblem} />
            </div>
            {selectedStep && (
              <ConfigPanel
                key={selectedStep.id}
                step={selectedStep.data.step}
                info={catalog.get(selectedStep.data.step.type)}
                onChange={inspector.onStepChange}
                references={inspector.references}
                tab={inspector.tab}
                onTab={inspector.setTab}
                problemPaths={inspector.problemPaths}
                workflows={inspector.workflows}
                lastRun={inspector.lastRun}
                workflowId={workflowId}
                savedVersion={version}
                workflowEnabled={enabled}
                onServerVersion={(v) => void onServerVersion(v)}
              />
            )}
          </div>
        </div>
        <EditorDialogs
          workflowId={workflowId}
          meta={meta}
          editMeta={editMeta}
          definition={definition}
          run={{
            open: run.runOpen,
            onClose: run.closeRun,
            onRun: (input) => void run.startRun(input),
            busy: run.runBusy,
            error: run.runError,
          }}
          versionsOpen={versionsOpen}
          onVersionsClose={() => setVersionsOpen(false)}
          onRestore={(def, v) => {
            doc.load(def, false);
            setVersionsOpen(false);
            notify(`Restored version ${v} into the editor; save to make it the newest version`);
          }}
          settingsOpen={settingsOpen}
          onSettingsClose={() => setSettingsOpen(false)}
        />
        <ShortcutsDialog open={helpOpen} onClose={() => setHelpOpen(false)} />
        <SaveInvalidDialog
          pending={confirmSave ? pending : []}
          onCancel={() => setConfirmSave(null)}
          onSaveAnyway={() => {
            const go = confirmSave;
            setConfirmSave(null);
            go?.();
          }}
        />
        <ConflictDialog
          conflict={saver.conflict}
          saving={saving}
          onReload={() => {
            saver.dismissConflict();
            // Mine are not lost: the draft store keeps them, offered back once theirs is open.
            keepDraft(workflowId, saver.base, definition);
            onReload();
          }}
          onOverwrite={() => void saver.overwrite()}
          onCancel={saver.dismissConflict}
        />
        <LeaveDialog
          open={leave.pending !== null}
          saving={saving}
          onSave={() => {
            const target = leave.pending;
            guardedSave(() => target && leave.go(target));
          }}
          onDiscard={() => {
            draft.forget();
            if (leave.pending) leave.go(leave.pending);
          }}
          onCancel={leave.cancel}
        />
      </EditorActionsContext.Provider>
    </CatalogContext.Provider>
  );
}
