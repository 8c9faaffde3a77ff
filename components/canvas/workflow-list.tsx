'use client';
import { useCallback, useEffect, useRef, useState } from 'react';
import Link from 'next/link';
import { useRouter } from 'next/navigation';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { api, ApiError, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { ActiveSwitch } from './active-switch';
import { Dialog } from '@/components/ui/dialog';
import { Spinner } from '@/components/ui/spinner';
import { StatusBadge } from '@/components/ui/status-badge';
import { isSignedOut, SignInLink } from '@/components/ui/signed-out';
import { blankDefinition } from './convert';
import { ImportN8nDialog, type ImportFormat } from './import-n8n-dialog';
import type { Example, WorkflowRecord, WorkflowSummary } from './types';

function relativeTime(iso: string): string {
  const s = (Date.now() - new Date(iso).getTime()) / 1000;
  if (!Number.isFinite(s)) return '—';
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return new Date(iso).toLocaleDateString();
}

export function downloadJson(name: string, value: unknown) {
  const blob = new Blob([JSON.stringify(value, null, 2)], { type: 'application/json' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${name.replace(/[^\w-]+/g, '-').toLowerCase() || 'workflow'}.json`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

/** Accepts a bare definition or an export wrapper `{ name, definition }`. */
export function parseImport(text: string): WorkflowDefinition {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const def = (
    raw && typeof raw === 'object' && 'definition' in raw ? raw.definition : raw
  ) as WorkflowDefinition;
  if (!def || typeof def !== 'object' || !Array.isArray(def.nodes) || !Array.isArray(def.edges)) {
    throw new Error('This file is not a Trellis workflow (it needs "nodes" and "edges").');
  }
  return { ...def, schemaVersion: 1, name: def.name || 'Imported workflow' };
}

type Pending = { kind: 'rename' | 'delete'; wf: WorkflowSummary } | null;

export function WorkflowList() {
  const router = useRouter();
  const [rows, setRows] = useState<WorkflowSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [signedOut, setSignedOut] = useState(false);
  const [notice, setNotice] = useState<{ text: string; tone: 'ok' | 'error' } | null>(null);
  const [createOpen, setCreateOpen] = useState(false);
  const [pending, setPending] = useState<Pending>(null);
  const [busy, setBusy] = useState(false);
  const [importFormat, setImportFormat] = useState<ImportFormat | null>(null);
  const fileRef = useRef<HTMLInputElement>(null);

  const refresh = useCallback(() => {
    setError(null);
    api<{ workflows: WorkflowSummary[] }>('/api/workflows').then(
      (r) => setRows(r.workflows),
      (e) => {
        setSignedOut(isSignedOut(e));
        setError(errorMessage(e));
      },
    );
  }, []);
  useEffect(refresh, [refresh]);

  const fail = (e: unknown) => setNotice({ text: errorMessage(e), tone: 'error' });
  const [query, setQuery] = useState('');
  // A workflow still carrying an example's description is shown as that example.
  const [exampleTexts, setExampleTexts] = useState<Set<string>>(new Set());
  useEffect(() => {
    api<{ examples: Example[] }>('/api/examples').then(
      (r) => setExampleTexts(new Set(r.examples.map((e) => e.description).filter(Boolean))),
      () => {},
    );
  }, []);
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const shown =
    rows?.filter((wf) =>
      words.every((w) => `${wf.name} ${wf.description ?? ''}`.toLowerCase().includes(w)),
    ) ?? null;

  const create = async (name: string, definition: WorkflowDefinition, enabled = true) => {
    const r = await api<{ id: string }>('/api/workflows', {
      method: 'POST',
      body: { name, definition: { ...definition, name }, ...(enabled ? {} : { enabled: false }) },
    });
    return r.id;
  };

  const duplicate = async (wf: WorkflowSummary) => {
    try {
      const full = await api<WorkflowRecord>(`/api/workflows/${wf.id}`);
      await create(`${wf.name} (copy)`, full.definition);
      setNotice({ text: `Duplicated “${wf.name}”`, tone: 'ok' });
      refresh();
    } catch (e) {
      fail(e);
    }
  };

  const exportOne = async (wf: WorkflowSummary) => {
    try {
      const full = await api<WorkflowRecord>(`/api/workflows/${wf.id}`);
      downloadJson(wf.name, full.definition);
    } catch (e) {
      fail(e);
    }
  };

  const importFile = async (file: File) => {
    try {
      const def = parseImport(await file.text());
      const id = await create(def.name, def);
      setNotice({ text: `Imported “${def.name}”`, tone: 'ok' });
      refresh();
      return id;
    } catch (e) {
      const problems =
        e instanceof ApiError ? (e.details as { problems?: { message: string }[] })?.problems : undefined;
      fail(problems?.length ? `Import refused: ${problems[0].message}` : e);
    }
  };

  return (
    <div className="mx-auto w-full max-w-6xl p-6">
      <div className="mb-5 flex items-center gap-3">
        <div>
          <h1 className="text-xl font-semibold tracking-tight">Workflows</h1>
          <p className="text-sm text-slate-500">
            Deterministic pipelines first; promote single steps to agents when you trust them.
          </p>
        </div>
        <div className="ml-auto flex gap-2">
          {!!rows?.length && (
            <input
              type="search"
              aria-label="Search workflows"
              placeholder="Search workflows…"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              className="h-8 w-48 rounded-md border border-slate-300 px-2 text-sm outline-none focus:border-brand-500 focus:ring-2 focus:ring-brand-500/20"
            />
          )}
          <input
            ref={fileRef}
            type="file"
            accept="application/json,.json"
            aria-label="Import workflow file"
            className="hidden"
            onChange={(e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f) void importFile(f);
            }}
          />
          <Button onClick={() => fileRef.current?.click()}>Import JSON</Button>
          <Button onClick={() => setImportFormat('n8n')}>Import from n8n</Button>
          <Button onClick={() => setImportFormat('serverless-workflow')}>Import Serverless Workflow</Button>
          <Button variant="primary" onClick={() => setCreateOpen(true)}>
            New workflow
          </Button>
        </div>
      </div>

      <ImportN8nDialog
        open={importFormat !== null}
        format={importFormat ?? 'n8n'}
        onClose={() => setImportFormat(null)}
        onCreate={async (definition) => {
          try {
            const id = await create(definition.name, definition);
            setImportFormat(null);
            router.push(`/workflows/${id}`);
            return id;
          } catch (e) {
            fail(e);
          }
        }}
      />
      {notice && (
        <div
          role={notice.tone === 'error' ? 'alert' : 'status'}
          className={`mb-4 flex items-center justify-between rounded-md px-3 py-2 text-sm ${
            notice.tone === 'error' ? 'bg-red-50 text-red-700' : 'bg-brand-50 text-brand-700'
          }`}
        >
          {notice.text}
          <button
            type="button"
            aria-label="Dismiss"
            className="text-xs opacity-70 hover:opacity-100"
            onClick={() => setNotice(null)}
          >
            Dismiss
          </button>
        </div>
      )}

      <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
        {error ? (
          <div role="alert" className="p-10 text-center">
            <p className="text-sm font-medium text-red-700">
              {signedOut ? 'You are signed out' : 'Could not load workflows'}
            </p>
            <p className="mt-1 text-xs text-slate-500">{error}</p>
            <div className="mt-4 flex justify-center gap-2">
              {signedOut && <SignInLink />}
              <Button size="sm" onClick={refresh}>
                Retry
              </Button>
            </div>
          </div>
        ) : !rows ? (
          <div className="p-10 text-center">
            <Spinner label="Loading workflows" />
          </div>
        ) : rows.length === 0 ? (
          <div className="p-12 text-center">
            <div
              className="mx-auto mb-3 grid h-10 w-10 place-items-center rounded-full bg-brand-50 text-brand-600"
              aria-hidden
            >
              <svg
                viewBox="0 0 20 20"
                className="h-5 w-5"
                fill="none"
                stroke="currentColor"
                strokeWidth="1.6"
              >
                <path d="M3 4h5v4H3zM12 12h5v4h-5zM5.5 8v6h6.5" />
              </svg>
            </div>
            <p className="text-sm font-medium">No workflows yet</p>
            <p className="mt-1 text-xs text-slate-500">
              Start from a blank canvas or one of the examples, or import a JSON file.
            </p>
            <Button className="mt-4" variant="primary" onClick={() => setCreateOpen(true)}>
              Create your first workflow
            </Button>
          </div>
        ) : (
          <table className="w-full text-sm">
            <thead className="bg-slate-50 text-left text-xs text-slate-500">
              <tr>
                <th className="px-4 py-2 font-medium">Name</th>
                <th className="px-4 py-2 font-medium">Active</th>
                <th className="px-4 py-2 font-medium">Version</th>
                <th className="px-4 py-2 font-medium">Last run</th>
                <th className="px-4 py-2 font-medium">Updated</th>
                <th className="px-4 py-2">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {shown?.length === 0 && (
                <tr>
                  <td colSpan={6} className="px-4 py-6 text-center text-sm text-slate-500">
                    No workflow matches “{query}”.
                  </td>
                </tr>
              )}
              {shown?.map((wf) => (
                <tr key={wf.id} className="group border-t border-slate-100 hover:bg-slate-50/60">
                  <td className="px-4 py-2.5">
                    <Link
                      href={`/workflows/${wf.id}`}
                      className="font-medium text-slate-900 hover:text-brand-700 hover:underline"
                    >
                      {wf.name}
                    </Link>
                    {wf.description && exampleTexts.has(wf.description) && (
                      <span className="ml-2 rounded bg-sky-50 px-1.5 py-px text-[10px] font-semibold text-sky-700 ring-1 ring-sky-600/20 ring-inset">
                        Example
                      </span>
                    )}
                    {wf.description && (
                      <p className="mt-0.5 max-w-xs truncate text-xs text-slate-500" title={wf.description}>
                        {wf.description}
                      </p>
                    )}
                  </td>
                  <td className="px-4 py-2.5">
                    <ActiveSwitch
                      workflowId={wf.id}
                      enabled={wf.enabled !== false}
                      label={`Active: ${wf.name}`}
                      compact
                      onChange={(on) =>
                        setRows((rs) => rs?.map((r) => (r.id === wf.id ? { ...r, enabled: on } : r)) ?? rs)
                      }
                    />
                  </td>
                  <td className="px-4 py-2.5 text-slate-600">v{wf.latestVersion}</td>
                  <td className="px-4 py-2.5">
                    {wf.lastRun ? (
                      <Link
                        href={`/runs/${wf.lastRun.id}`}
                        aria-label={`Last run of ${wf.name}: ${wf.lastRun.status}`}
                      >
                        <StatusBadge status={wf.lastRun.status} />
                      </Link>
                    ) : (
                      <span className="text-xs text-slate-400">Never run</span>
                    )}
                  </td>
                  <td
                    className="px-4 py-2.5 whitespace-nowrap text-slate-500"
                    title={new Date(wf.updatedAt).toLocaleString()}
                  >
                    {relativeTime(wf.updatedAt)}
                  </td>
                  <td className="px-4 py-2.5 text-right whitespace-nowrap">
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-label={`Rename ${wf.name}`}
                      onClick={() => setPending({ kind: 'rename', wf })}
                    >
                      Rename
                    </Button>
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-label={`Duplicate ${wf.name}`}
                      onClick={() => void duplicate(wf)}
                    >
                      Duplicate
                    </Button>
                    <Button
                      size="sm"
                      variant="ghost"
                      aria-label={`Export ${wf.name}`}
                      onClick={() => void exportOne(wf)}
                    >
                      Export
                    </Button>
                    <Button
                      size="sm"
                      variant="ghost"
                      className="hover:!bg-red-50 hover:!text-red-700"
                      aria-label={`Delete ${wf.name}`}
                      onClick={() => setPending({ kind: 'delete', wf })}
                    >
                      Delete
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>

      <CreateDialog
        open={createOpen}
        onClose={() => setCreateOpen(false)}
        onCreate={async (name, def, fromExample) => {
          // An example's schedule or webhook must not start firing the moment it is created.
          const id = await create(name, def, !fromExample);
          setCreateOpen(false);
          router.push(`/workflows/${id}`);
        }}
      />

      <RenameDialog
        wf={pending?.kind === 'rename' ? pending.wf : null}
        busy={busy}
        onClose={() => setPending(null)}
        onRename={async (wf, name) => {
          setBusy(true);
          try {
            const full = await api<WorkflowRecord>(`/api/workflows/${wf.id}`);
            await api(`/api/workflows/${wf.id}`, {
              method: 'PUT',
              body: { name, definition: { ...full.definition, name } },
            });
            setPending(null);
            refresh();
          } catch (e) {
            fail(e);
          } finally {
            setBusy(false);
          }
        }}
      />

      <Dialog
        open={pending?.kind === 'delete'}
        title="Delete workflow"
        onClose={() => setPending(null)}
        footer={
          <>
            <Button onClick={() => setPending(null)}>Cancel</Button>
            <Button
              variant="danger"
              disabled={busy}
              onClick={async () => {
                if (!pending) return;
                setBusy(true);
                try {
                  await api(`/api/workflows/${pending.wf.id}`, { method: 'DELETE' });
                  setNotice({ text: `Deleted “${pending.wf.name}”`, tone: 'ok' });
                  setPending(null);
                  refresh();
                } catch (e) {
                  fail(e);
                } finally {
                  setBusy(false);
                }
              }}
            >
              Delete
            </Button>
          </>
        }
      >
        <p>
          Delete <strong>{pending?.wf.name}</strong> and all its versions? Past runs stay in the trace
          history. This cannot be undone.
        </p>
      </Dialog>
    </div>
  );
}

function RenameDialog({
  wf,
  busy,
  onClose,
  onRename,
}: {
  wf: WorkflowSummary | null;
  busy: boolean;
  onClose: () => void;
  onRename: (wf: WorkflowSummary, name: string) => void;
}) {
  const [name, setName] = useState('');
  useEffect(() => setName(wf?.name ?? ''), [wf]);
  return (
    <Dialog
      open={!!wf}
      title="Rename workflow"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button
            variant="primary"
            disabled={busy || !name.trim()}
            onClick={() => wf && onRename(wf, name.trim())}
          >
            Rename
          </Button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (wf && name.trim()) onRename(wf, name.trim());
        }}
      >
        <label htmlFor="rename-name" className="mb-1 block text-xs font-medium text-slate-600">
          New name
        </label>
        <input
          id="rename-name"
          autoFocus
          value={name}
          onChange={(e) => setName(e.target.value)}
          className="h-8 w-full rounded-md border border-slate-300 px-2 text-sm outline-none focus:border-brand-500 focus:ring-2 focus:ring-brand-500/20"
        />
      </form>
    </Dialog>
  );
}

function CreateDialog({
  open,
  onClose,
  onCreate,
}: {
  open: boolean;
  onClose: () => void;
  onCreate: (name: string, def: WorkflowDefinition, fromExample: boolean) => Promise<void>;
}) {
  const [name, setName] = useState('Untitled workflow');
  const [choice, setChoice] = useState<string>('blank');
  const [examples, setExamples] = useState<Example[] | null>(null);
  const [exError, setExError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!open) return;
    setError(null);
    setChoice('blank');
    setName('Untitled workflow');
    api<{ examples: Example[] }>('/api/examples').then(
      (r) => setExamples(r.examples),
      (e) => setExError(errorMessage(e)),
    );
  }, [open]);

  const submit = async () => {
    const ex = examples?.find((x) => x.id === choice);
    const def = ex ? ex.definition : blankDefinition(name);
    setBusy(true);
    setError(null);
    try {
      await onCreate(name.trim() || def.name, def, !!ex);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const option = (id: string, title: string, description: string) => (
    <label
      key={id}
      className={`flex cursor-pointer gap-2 rounded-md border p-2.5 ${choice === id ? 'border-brand-500 bg-brand-50/50' : 'border-slate-200 hover:bg-slate-50'}`}
    >
      <input
        type="radio"
        name="template"
        value={id}
        checked={choice === id}
        className="mt-0.5 accent-brand-600"
        onChange={() => {
          setChoice(id);
          const ex = examples?.find((x) => x.id === id);
          setName(ex ? ex.name : 'Untitled workflow');
        }}
      />
      <span>
        <span className="block text-sm font-medium">{title}</span>
        <span className="block text-xs text-slate-500">{description}</span>
      </span>
    </label>
  );

  return (
    <Dialog
      open={open}
      title="New workflow"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" disabled={busy || !name.trim()} onClick={() => void submit()}>
            {busy ? 'Creating…' : 'Create'}
          </Button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        className="space-y-3"
      >
        <div>
          <label htmlFor="new-name" className="mb-1 block text-xs font-medium text-slate-600">
            Name
          </label>
          <input
            id="new-name"
            value={name}
            onChange={(e) => setName(e.target.value)}
            className="h-8 w-full rounded-md border border-slate-300 px-2 text-sm outline-none focus:border-brand-500 focus:ring-2 focus:ring-brand-500/20"
          />
        </div>
        <fieldset className="space-y-1.5">
          <legend className="mb-1 text-xs font-medium text-slate-600">Start from</legend>
          {option('blank', 'Blank canvas', 'An empty workflow; add a trigger first.')}
          {examples?.map((ex) => option(ex.id, ex.name, ex.description))}
          {!examples && !exError && <Spinner label="Loading examples" />}
          {exError && <p className="text-xs text-slate-400">Examples unavailable: {exError}</p>}
        </fieldset>
        {error && (
          <p role="alert" className="rounded-md bg-red-50 p-2 text-xs text-red-700">
            {error}
          </p>
        )}
        <button type="submit" hidden />
      </form>
    </Dialog>
  );
}
