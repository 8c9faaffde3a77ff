'use client';
import { useCallback, useEffect, useMemo, useState } from 'react';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { upstreamOf } from './graph';
import type { RefGroup, ReferenceSource } from './reference-picker';
import { childPath, fieldRefs } from './run-fields';
import type { JsonSchema } from './types';
import type { LastRunData } from './use-last-run';

// What the expression picker offers for the selected step: the run input (schema fields and the
// fields of the last run's input) and each upstream step, nearest first and by its name, with the
// fields its output had in the last run. Outputs are fetched only once a picker opens.

/** Upstream steps the picker lists (nearest first); a 1,000-step chain does not fetch 1,000 outputs. */
export const MAX_PICKER_STEPS = 25;

export function useReferenceSource(
  selectedId: string | undefined,
  definition: WorkflowDefinition,
  runData: LastRunData,
): ReferenceSource {
  const { nodes, edges, inputSchema } = definition;
  const upstream = useMemo(
    () => (selectedId ? upstreamOf(edges, selectedId).slice(0, MAX_PICKER_STEPS) : []),
    [edges, selectedId],
  );
  const [requested, setRequested] = useState(false);
  const [outputs, setOutputs] = useState<Map<string, unknown> | null>(null);
  const [loading, setLoading] = useState(false);
  const { runId, run, outputsOf } = runData;

  // A new selection or a new run: fetch again on the next opening.
  useEffect(() => {
    setRequested(false);
    setOutputs(null);
  }, [selectedId, runId, run]);

  useEffect(() => {
    if (!requested || !runId || !upstream.length) return;
    let live = true;
    setLoading(true);
    outputsOf(upstream).then(
      (m) => live && (setOutputs(m), setLoading(false)),
      () => live && setLoading(false),
    );
    return () => {
      live = false;
    };
  }, [requested, runId, upstream, outputsOf]);

  const request = useCallback(() => setRequested(true), []);

  const groups = useMemo((): RefGroup[] => {
    if (!selectedId) return [];
    const props = Object.keys(((inputSchema as JsonSchema | undefined)?.properties ?? {}) as object);
    const inputItems = new Map<string, RefGroup['items'][number]>();
    for (const r of run && run.input !== undefined ? fieldRefs('input', run.input) : [])
      inputItems.set(r.path, {
        path: r.path,
        label: r.label === '(whole value)' ? 'input' : r.label,
        preview: r.preview,
      });
    for (const p of props) {
      const path = childPath('input', p);
      if (!inputItems.has(path)) inputItems.set(path, { path, label: p });
    }
    if (!inputItems.has('input')) inputItems.set('input', { path: 'input', label: 'input' });
    const byId = new Map(nodes.map((n) => [n.id, n]));
    const stepGroups = upstream.map((id): RefGroup => {
      const base = `${childPath('steps', id)}.output`;
      const node = byId.get(id);
      const label = node?.name ? `${node.name} (${id})` : id;
      if (outputs?.has(id)) {
        const refs = fieldRefs(base, outputs.get(id));
        return {
          label,
          items: refs.map((r) => ({
            ...r,
            label:
              r.label === '(whole value)'
                ? 'output'
                : `output${r.label.startsWith('[') ? '' : '.'}${r.label}`,
          })),
        };
      }
      return { label, items: [{ path: base, label: 'output' }] };
    });
    return [{ label: 'Run input', items: [...inputItems.values()] }, ...stepGroups];
  }, [selectedId, inputSchema, run, nodes, upstream, outputs]);

  return useMemo(() => ({ groups, loading, request }), [groups, loading, request]);
}
