import { describe, expect, it } from 'vitest';
import triage from '@/lib/workflow/fixtures/valid-triage.json';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { diffDefinitions } from './diff';

const base = triage as WorkflowDefinition;

describe('diffDefinitions', () => {
  it('finds nothing between a definition and itself, even moved', () => {
    const moved = { ...base, nodes: base.nodes.map((n) => ({ ...n, position: { x: 999, y: 1 } })) };
    const d = diffDefinitions(base, moved);
    expect(d.added).toEqual([]);
    expect(d.removed).toEqual([]);
    expect(d.changed).toEqual([]);
  });

  it('reports added, removed and changed nodes with config field paths', () => {
    const next: WorkflowDefinition = {
      ...base,
      nodes: [
        ...base.nodes
          .filter((n) => n.id !== 'route')
          .map((n) =>
            n.id === 'fetch' ? { ...n, config: { ...n.config, method: 'POST' }, timeoutMs: 5000 } : n,
          ),
        { id: 'done', type: 'output', position: { x: 0, y: 0 }, config: { value: 1 } },
      ],
      edges: base.edges.filter((e) => e.source !== 'route' && e.target !== 'route'),
    };
    const d = diffDefinitions(base, next);
    expect(d.added.map((n) => n.id)).toEqual(['done']);
    expect(d.removed.map((n) => n.id)).toEqual(['route']);
    expect(d.changed).toHaveLength(1);
    expect(d.changed[0].fields.map((f) => f.path).sort()).toEqual(['config.method', 'timeoutMs']);
    expect(d.changed[0].fields.find((f) => f.path === 'config.method')).toMatchObject({
      before: 'GET',
      after: 'POST',
    });
    expect(d.edgesRemoved).toHaveLength(2);
  });
});
