'use client';
import Link from 'next/link';
import { Button } from '@/components/ui/button';
import { StatusBadge } from '@/components/ui/status-badge';
import { Chevron } from './icons';

// The editor's header: name, version and dirty state, history, layout, and the save/run actions.

export interface EditorToolbarProps {
  name: string;
  onRename(name: string): void;
  version: number;
  dirty: boolean;
  canUndo: boolean;
  canRedo: boolean;
  onUndo(): void;
  onRedo(): void;
  hasSteps: boolean;
  onAutoLayout(): void;
  onAddNote(): void;
  runId: string | null;
  runStatus: string | null;
  onSettings(): void;
  onHistory(): void;
  onExport(): void;
  saving: boolean;
  onSave(): void;
  onRun(): void;
  /** The workflow's on/off switch (active-switch.tsx), shown beside the version. */
  activeSwitch?: React.ReactNode;
}

export function EditorToolbar(p: EditorToolbarProps) {
  return (
    <div
      role="toolbar"
      aria-label="Editor"
      // At 1024 px with a run showing, the row may not fit: it scrolls rather than hide Run.
      className="flex h-12 shrink-0 items-center gap-2 overflow-x-auto border-b border-slate-200 bg-white px-3"
    >
      <Link
        href="/workflows"
        className="rounded p-1 text-slate-400 hover:bg-slate-100 hover:text-slate-700"
        aria-label="Back to workflows"
      >
        <Chevron direction="left" />
      </Link>
      <label htmlFor="workflow-name" className="sr-only">
        Workflow name
      </label>
      <input
        id="workflow-name"
        value={p.name}
        onChange={(e) => p.onRename(e.target.value)}
        className="h-8 w-40 min-w-0 shrink rounded-md border border-transparent px-2 text-sm font-semibold hover:border-slate-200 focus:border-brand-500 focus:outline-none xl:w-64"
      />
      <span
        className="rounded bg-slate-100 px-1.5 py-0.5 text-[11px] font-medium text-slate-600"
        title="Saved version"
      >
        v{p.version}
      </span>
      <span
        className={`text-xs whitespace-nowrap ${p.dirty ? 'text-amber-600' : 'text-slate-400'}`}
        aria-live="polite"
      >
        {p.dirty ? 'Unsaved changes' : 'All changes saved'}
      </span>
      {p.activeSwitch && (
        <>
          <div className="mx-1 h-5 w-px bg-slate-200" />
          {p.activeSwitch}
        </>
      )}
      <div className="mx-2 h-5 w-px bg-slate-200" />
      <Button size="sm" variant="ghost" onClick={p.onUndo} disabled={!p.canUndo} title="Undo (Ctrl+Z)">
        Undo
      </Button>
      <Button size="sm" variant="ghost" onClick={p.onRedo} disabled={!p.canRedo} title="Redo (Ctrl+Shift+Z)">
        Redo
      </Button>
      <Button size="sm" variant="ghost" onClick={p.onAutoLayout} disabled={!p.hasSteps}>
        Auto-layout
      </Button>
      <Button size="sm" variant="ghost" onClick={p.onAddNote}>
        Add note
      </Button>
      <div className="ml-auto flex shrink-0 items-center gap-2">
        {p.runStatus && (
          <span
            className="flex items-center gap-1.5 text-xs text-slate-500"
            aria-label={`Run ${p.runStatus}`}
          >
            Run <StatusBadge status={p.runStatus} />
            {p.runId && (
              <Link href={`/runs/${p.runId}`} className="text-brand-700 hover:underline">
                trace
              </Link>
            )}
          </span>
        )}
        <Button size="sm" variant="ghost" onClick={p.onSettings}>
          Settings
        </Button>
        <Button size="sm" variant="ghost" onClick={p.onHistory}>
          History
        </Button>
        <Button size="sm" variant="ghost" onClick={p.onExport}>
          Export
        </Button>
        <Button size="sm" onClick={p.onSave} disabled={p.saving} title="Save a new version (Ctrl+S)">
          {p.saving ? 'Saving…' : 'Save'}
        </Button>
        <Button size="sm" variant="primary" onClick={p.onRun} disabled={!p.hasSteps}>
          <svg viewBox="0 0 20 20" className="h-3 w-3" fill="currentColor" aria-hidden>
            <path d="M6 4l10 6-10 6z" />
          </svg>
          Run
        </Button>
      </div>
    </div>
  );
}
