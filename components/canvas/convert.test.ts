import { describe, expect, it } from 'vitest';
import triage from '@/lib/workflow/fixtures/valid-triage.json';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { rekey, parseClipboard, CLIPBOARD_KIND } from './clipboard';
import { splitMeta, toDefinition, toFlow, NOTE_PREFIX } from './convert';
import { parseImport } from './workflow-list';

const def: WorkflowDefinition = {
  ...(triage as WorkflowDefinition),
  notes: [{ id: 'n1', text: 'hello', position: { x: 5, y: 6 } }],
};

describe('toFlow / toDefinition', () => {
  it('round-trips a definition (nodes, handles, notes) unchanged', () => {
    const { nodes, edges } = toFlow(def);
    expect(nodes.find((n) => n.id === NOTE_PREFIX + 'n1')?.type).toBe('note');
    const back = toDefinition(splitMeta(def), nodes, edges);
    expect(back).toEqual(def);
  });
  it('labels node cards by name, else id', () => {
    const { nodes } = toFlow(def);
    expect(nodes.find((n) => n.id === 'fetch')?.ariaLabel).toBe('Fetch ticket');
    expect(nodes.find((n) => n.id === 'route')?.ariaLabel).toBe('route');
  });
});

describe('clipboard', () => {
  it('rekeys pasted nodes and rewires only internal edges', () => {
    const nodes = def.nodes.filter((n) => n.id === 'fetch' || n.id === 'route');
    const out = rekey({ nodes, edges: def.edges }, new Set(def.nodes.map((n) => n.id)), { x: 40, y: 40 });
    expect(out.nodes.map((n) => n.id)).toEqual(['fetch_2', 'route_2']);
    expect(out.nodes[0].position).toEqual({ x: 40, y: 160 });
    expect(out.edges).toHaveLength(1);
    expect(out.edges[0]).toMatchObject({ source: 'fetch_2', target: 'route_2' });
  });
  it('ignores foreign clipboard text', () => {
    expect(parseClipboard('hello')).toBeNull();
    expect(parseClipboard(JSON.stringify({ kind: 'other', nodes: [], edges: [] }))).toBeNull();
    expect(parseClipboard(JSON.stringify({ kind: CLIPBOARD_KIND, nodes: [], edges: [] }))).not.toBeNull();
  });
});

describe('parseImport', () => {
  it('accepts a bare definition or an export wrapper', () => {
    expect(parseImport(JSON.stringify(def)).nodes).toHaveLength(def.nodes.length);
    expect(parseImport(JSON.stringify({ name: 'x', definition: def })).name).toBe(def.name);
  });
  it('refuses files that are not workflows', () => {
    expect(() => parseImport('{"hello":1}')).toThrow(/not a Trellis workflow/);
    expect(() => parseImport('not json')).toThrow();
  });
});
