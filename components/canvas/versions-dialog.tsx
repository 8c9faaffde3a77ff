'use client';
import { useEffect, useState } from 'react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { api, errorMessage } from '@/components/ui/api';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { Spinner } from '@/components/ui/spinner';
import { diffDefinitions, type DefinitionDiff } from './diff';

interface VersionRow {
  version: number;
  createdAt: string;
}

const fmt = (v: unknown) => (v === undefined ? '—' : JSON.stringify(v));

export function DiffView({ diff }: { diff: DefinitionDiff }) {
  const empty =
    !diff.added.length &&
    !diff.removed.length &&
    !diff.changed.length &&
    !diff.edgesAdded.length &&
    !diff.edgesRemoved.length &&
    !diff.metaChanged.length;
  if (empty) return <p className="text-xs text-slate-500">No differences (positions are ignored).</p>;
  return (
    <div className="space-y-3 text-xs" aria-label="Version diff">
      {diff.metaChanged.length > 0 && <p>Workflow settings changed: {diff.metaChanged.join(', ')}</p>}
      {diff.added.length > 0 && (
        <div>
          <h4 className="font-semibold text-brand-700">Nodes added ({diff.added.length})</h4>
          <ul className="ml-4 list-disc">
            {diff.added.map((n) => (
              <li key={n.id}>
                {n.name || n.id} <span className="text-slate-400">({n.type})</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {diff.removed.length > 0 && (
        <div>
          <h4 className="font-semibold text-red-700">Nodes removed ({diff.removed.length})</h4>
          <ul className="ml-4 list-disc">
            {diff.removed.map((n) => (
              <li key={n.id}>
                {n.name || n.id} <span className="text-slate-400">({n.type})</span>
              </li>
            ))}
          </ul>
        </div>
      )}
      {diff.changed.length > 0 && (
        <div>
          <h4 className="font-semibold text-amber-700">Nodes changed ({diff.changed.length})</h4>
          <ul className="space-y-1">
            {diff.changed.map((c) => (
              <li key={c.id} className="rounded-md border border-slate-200 p-2">
                <div className="font-medium">{c.name}</div>
                {c.fields.map((f) => (
                  <div key={f.path} className="mt-1 grid grid-cols-[8rem_1fr] gap-2 font-mono text-[11px]">
                    <span className="text-slate-500">{f.path}</span>
                    <span>
                      <del className="bg-red-50 text-red-700">{fmt(f.before)}</del>{' '}
                      <ins className="bg-brand-50 text-brand-700 no-underline">{fmt(f.after)}</ins>
                    </span>
                  </div>
                ))}
              </li>
            ))}
          </ul>
        </div>
      )}
      {(diff.edgesAdded.length > 0 || diff.edgesRemoved.length > 0) && (
        <div>
          <h4 className="font-semibold">Connections</h4>
          <ul className="ml-4 list-disc font-mono text-[11px]">
            {diff.edgesAdded.map((e) => (
              <li key={'+' + e} className="text-brand-700">
                + {e}
              </li>
            ))}
            {diff.edgesRemoved.map((e) => (
              <li key={'-' + e} className="text-red-700">
                − {e}
              </li>
            ))}
          </ul>
        </div>
      )}
    </div>
  );
}

export function VersionsDialog({
  open,
  workflowId,
  current,
  onClose,
  onRestore,
}: {
  open: boolean;
  workflowId: string;
  current: WorkflowDefinition;
  onClose: () => void;
  onRestore: (def: WorkflowDefinition, version: number) => void;
}) {
  const [versions, setVersions] = useState<VersionRow[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [picked, setPicked] = useState<number[]>([]);
  const [diff, setDiff] = useState<{ label: string; diff: DefinitionDiff } | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (!open) return;
    setVersions(null);
    setError(null);
    setPicked([]);
    setDiff(null);
    api<{ versions: VersionRow[] }>(`/api/workflows/${workflowId}/versions`).then(
      (r) => setVersions(r.versions),
      (e) => setError(errorMessage(e)),
    );
  }, [open, workflowId]);

  const fetchDef = (n: number) =>
    api<{ definition: WorkflowDefinition }>(`/api/workflows/${workflowId}/versions/${n}`).then(
      (r) => r.definition,
    );

  const compare = async (a: number, b: number | 'current') => {
    setBusy(true);
    try {
      const [da, db] = await Promise.all([fetchDef(a), b === 'current' ? current : fetchDef(b)]);
      setDiff({ label: `v${a} → ${b === 'current' ? 'editor' : 'v' + b}`, diff: diffDefinitions(da, db) });
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog open={open} title="Version history" onClose={onClose} wide>
      {error && (
        <p role="alert" className="mb-2 rounded-md bg-red-50 p-2 text-xs text-red-700">
          {error}
        </p>
      )}
      {!versions && !error && <Spinner label="Loading versions" />}
      {versions && versions.length === 0 && <p className="text-xs text-slate-500">No saved versions yet.</p>}
      {versions && versions.length > 0 && (
        <>
          <table className="w-full text-xs">
            <thead>
              <tr className="text-left text-slate-500">
                <th className="w-8 pb-1 font-medium">
                  <span className="sr-only">Compare</span>
                </th>
                <th className="pb-1 font-medium">Version</th>
                <th className="pb-1 font-medium">Saved</th>
                <th className="pb-1 font-medium">
                  <span className="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {versions.map((v) => (
                <tr key={v.version} className="border-t border-slate-100">
                  <td className="py-1.5">
                    <input
                      type="checkbox"
                      aria-label={`Compare version ${v.version}`}
                      checked={picked.includes(v.version)}
                      onChange={(e) =>
                        setPicked((p) =>
                          e.target.checked ? [...p, v.version].slice(-2) : p.filter((x) => x !== v.version),
                        )
                      }
                    />
                  </td>
                  <td className="py-1.5 font-medium">v{v.version}</td>
                  <td className="py-1.5 text-slate-500">{new Date(v.createdAt).toLocaleString()}</td>
                  <td className="py-1.5 text-right">
                    <Button
                      size="sm"
                      variant="ghost"
                      onClick={() => compare(v.version, 'current')}
                      aria-label={`Compare version ${v.version} with the editor`}
                    >
                      Diff with editor
                    </Button>
                    <Button
                      size="sm"
                      onClick={async () => {
                        try {
                          onRestore(await fetchDef(v.version), v.version);
                        } catch (e) {
                          setError(errorMessage(e));
                        }
                      }}
                      aria-label={`Restore version ${v.version}`}
                    >
                      Restore
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <div className="mt-3 flex items-center gap-2">
            <Button
              size="sm"
              variant="primary"
              disabled={picked.length !== 2 || busy}
              onClick={() => {
                const [a, b] = [...picked].sort((x, y) => x - y);
                void compare(a, b);
              }}
            >
              Compare selected
            </Button>
            <span className="text-[11px] text-slate-400">Tick two versions to compare them.</span>
          </div>
        </>
      )}
      {diff && (
        <div className="mt-4 border-t border-slate-100 pt-3">
          <h3 className="mb-2 text-xs font-semibold">Changes {diff.label}</h3>
          <DiffView diff={diff.diff} />
        </div>
      )}
    </Dialog>
  );
}
