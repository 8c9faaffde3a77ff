'use client';
import { useRef, useState } from 'react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { api, ApiError, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';

// "Import from n8n" and "Import Serverless Workflow": the server translates (POST
// /api/import/n8n or /api/import/serverless-workflow) and answers a report; the owner reads what
// was mapped, approximated or left as a placeholder before saving anything.

export type ImportFormat = 'n8n' | 'serverless-workflow';
type Status = 'mapped' | 'approximated' | 'placeholder' | 'dropped' | 'unsupported';
interface Entry {
  node: string;
  n8nType: string;
  status: Status;
  trellisId?: string;
  trellisType?: string;
  reasons: string[];
}
interface ImportAnswer {
  definition: WorkflowDefinition;
  report: { entries: Entry[]; summary: Partial<Record<Status, number>> };
  problems: { path: string; message: string }[];
}

const TONE: Record<Status, string> = {
  mapped: 'bg-emerald-50 text-emerald-800 ring-emerald-200',
  approximated: 'bg-amber-50 text-amber-800 ring-amber-200',
  placeholder: 'bg-red-50 text-red-800 ring-red-200',
  dropped: 'bg-slate-100 text-slate-700 ring-slate-200',
  unsupported: 'bg-red-50 text-red-800 ring-red-200',
};
const ICON: Record<Status, string> = {
  mapped: '✓',
  approximated: '≈',
  placeholder: '!',
  dropped: '–',
  unsupported: '!',
};

const FORMATS: Record<
  ImportFormat,
  { title: string; path: string; help: string; fileLabel: string; textLabel: string }
> = {
  n8n: {
    title: 'Import from n8n',
    path: '/api/import/n8n',
    help: 'Choose an n8n workflow export, or paste its JSON. Nodes, positions, names and sticky notes are carried over; AI nodes become agent steps in shadow mode. Nothing is saved until you create the workflow.',
    fileLabel: 'n8n workflow file',
    textLabel: 'n8n workflow JSON',
  },
  'serverless-workflow': {
    title: 'Import Serverless Workflow',
    path: '/api/import/serverless-workflow',
    help: 'Choose a CNCF Serverless Workflow 1.0 document (YAML or JSON), or paste it. Each top-level task becomes one step; its expressions stay jq. Nothing is saved until you create the workflow.',
    fileLabel: 'Serverless Workflow file',
    textLabel: 'Serverless Workflow document (YAML or JSON)',
  },
};

/** The Serverless Workflow report speaks of tasks; shown in the same table as n8n's nodes. */
function normalize(format: ImportFormat, a: ImportAnswer & { report: { entries: unknown[] } }): ImportAnswer {
  if (format === 'n8n') return a;
  const entries = (
    a.report.entries as { task: string; kind: string; status: Status; trellisId: string; reasons: string[] }[]
  ).map((e) => ({
    node: e.task,
    n8nType: e.kind,
    status: e.status,
    trellisId: e.trellisId,
    trellisType: 'sw.task',
    reasons: e.reasons,
  }));
  const summary: Partial<Record<Status, number>> = {};
  for (const e of entries) summary[e.status] = (summary[e.status] ?? 0) + 1;
  return { ...a, report: { entries, summary } };
}

export function ImportN8nDialog({
  open,
  onClose,
  onCreate,
  format = 'n8n',
}: {
  open: boolean;
  format?: ImportFormat;
  onClose: () => void;
  /** Saves the definition; resolves to the new workflow's id. */
  onCreate: (definition: WorkflowDefinition) => Promise<string | undefined>;
}) {
  const [text, setText] = useState('');
  const [answer, setAnswer] = useState<ImportAnswer | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const fileRef = useRef<HTMLInputElement>(null);

  const reset = () => {
    setText('');
    setAnswer(null);
    setError(null);
  };
  const close = () => {
    reset();
    onClose();
  };

  const translate = async (source: string) => {
    setError(null);
    setAnswer(null);
    let parsed: unknown;
    try {
      parsed = format === 'n8n' ? JSON.parse(source) : undefined;
    } catch {
      if (format === 'n8n') {
        setError('This is not JSON. In n8n, open the workflow, then … → Download, and choose that file.');
        return;
      }
    }
    setBusy(true);
    try {
      const body = format === 'n8n' ? parsed : { source };
      setAnswer(normalize(format, await api<ImportAnswer>(FORMATS[format].path, { method: 'POST', body })));
    } catch (e) {
      const problems =
        e instanceof ApiError ? (e.details as { problems?: ImportAnswer['problems'] })?.problems : undefined;
      setError(problems?.length ? `${e instanceof Error ? e.message : ''}` : errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  const create = async () => {
    if (!answer) return;
    setBusy(true);
    try {
      const id = await onCreate(answer.definition);
      if (id) reset();
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={open}
      title={FORMATS[format].title}
      onClose={close}
      wide
      footer={
        answer ? (
          <>
            <Button onClick={() => setAnswer(null)}>Back</Button>
            <Button variant="primary" disabled={busy} onClick={() => void create()}>
              Create workflow
            </Button>
          </>
        ) : (
          <>
            <Button onClick={close}>Cancel</Button>
            <Button variant="primary" disabled={busy || !text.trim()} onClick={() => void translate(text)}>
              Import
            </Button>
          </>
        )
      }
    >
      {!answer ? (
        <div className="space-y-3">
          <p className="text-slate-600">
            Choose an n8n workflow export, or paste its JSON. Nodes, positions, names and sticky notes are
            carried over; AI nodes become agent steps in shadow mode. Nothing is saved until you create the
            workflow.
          </p>
          <input
            ref={fileRef}
            type="file"
            accept={
              format === 'n8n'
                ? 'application/json,.json'
                : '.yaml,.yml,.json,application/json,application/yaml'
            }
            aria-label={FORMATS[format].fileLabel}
            className="hidden"
            onChange={async (e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (!f) return;
              const content = await f.text();
              setText(content);
              void translate(content);
            }}
          />
          <Button onClick={() => fileRef.current?.click()}>Choose file…</Button>
          <label className="block">
            <span className="mb-1 block text-xs font-medium text-slate-600">{FORMATS[format].textLabel}</span>
            <textarea
              value={text}
              onChange={(e) => setText(e.target.value)}
              rows={8}
              spellCheck={false}
              placeholder={
                format === 'n8n'
                  ? '{ "name": "…", "nodes": [ … ], "connections": { … } }'
                  : 'document:\n  dsl: 1.0.0\n  …\ndo:\n  - …'
              }
              className="w-full rounded-md border border-slate-300 p-2 font-mono text-xs focus:border-brand-500 focus:outline-none"
            />
          </label>
          {busy && <p className="text-xs text-slate-500">Translating…</p>}
          {error && (
            <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-red-700">
              {error}
            </p>
          )}
        </div>
      ) : (
        <ImportReportView answer={answer} />
      )}
    </Dialog>
  );
}

function ImportReportView({ answer }: { answer: ImportAnswer }) {
  const { summary, entries } = answer.report;
  return (
    <div className="space-y-3">
      <p className="font-medium">“{answer.definition.name}”</p>
      <ul aria-label="Import summary" className="flex flex-wrap gap-2">
        {(Object.keys(summary) as Status[]).map((s) => (
          <li key={s} className={`rounded-full px-2 py-0.5 text-xs ring-1 ${TONE[s]}`}>
            <span aria-hidden>{ICON[s]} </span>
            {summary[s] ?? 0} {s}
          </li>
        ))}
      </ul>
      {(summary.placeholder ?? 0) + (summary.unsupported ?? 0) > 0 && (
        <p className="rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-900">
          Placeholder steps stop a run where they stand: replace each before the first real run. Their notes
          keep the original n8n parameters.
        </p>
      )}
      <table className="w-full text-left text-xs" aria-label="Import report">
        <thead className="text-slate-500">
          <tr>
            <th className="py-1 pr-2 font-medium">Source</th>
            <th className="py-1 pr-2 font-medium">Result</th>
            <th className="py-1 font-medium">Why</th>
          </tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.node} className="border-t border-slate-100 align-top">
              <td className="py-1.5 pr-2">
                <div className="font-medium text-slate-800">{e.node}</div>
                <div className="text-slate-400">{e.n8nType.replace(/^.*\./, '')}</div>
              </td>
              <td className="py-1.5 pr-2">
                <span className={`rounded px-1.5 py-0.5 ring-1 ${TONE[e.status]}`}>
                  <span aria-hidden>{ICON[e.status]} </span>
                  {e.status}
                </span>
                {e.trellisType && <div className="mt-1 text-slate-400">→ {e.trellisType}</div>}
              </td>
              <td className="py-1.5 text-slate-600">{e.reasons.length ? e.reasons.join(' · ') : '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
