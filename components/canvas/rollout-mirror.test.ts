import { describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { splitMeta, toDefinition, toFlow } from './convert';
import { mirrorNodes, mirrorSnap, rolloutChanges } from './rollout-mirror';

const agent = {
  instructions: 'Label it.',
  tools: [],
  maxSteps: 4,
  maxTokens: 1000,
  timeoutMs: 10_000,
  fallback: 'deterministic' as const,
  shadow: true,
};
const base: WorkflowDefinition = {
  schemaVersion: 1,
  name: 'mirror',
  nodes: [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
    { id: 'a', type: 'transform', position: { x: 0, y: 100 }, config: { value: 1 }, mode: 'agent', agent },
    { id: 'b', type: 'transform', position: { x: 0, y: 200 }, config: { value: 2 }, mode: 'agent', agent },
  ],
  edges: [{ id: 'e', source: 'start', target: 'a' }],
};
const serialise = (def: WorkflowDefinition) => {
  const f = toFlow(def);
  return JSON.stringify(toDefinition(splitMeta(def), f.nodes, f.edges));
};
// The kill switch's version: both agent steps back to the workflow.
const killed: WorkflowDefinition = {
  ...base,
  nodes: base.nodes.map((n) => (n.id === 'start' ? n : { ...n, mode: 'workflow' })),
};

describe('mirroring a server-written rollout change', () => {
  it('finds the steps whose rollout fields changed, and only those', () => {
    const moved = { ...killed, nodes: killed.nodes.map((n) => (n.id === 'b' ? base.nodes[2] : n)) };
    expect([...rolloutChanges(base, moved).keys()]).toEqual(['a']);
    expect(rolloutChanges(base, base).size).toBe(0);
  });

  it('makes the saved snapshot equal to what the editor serialises once the document has the change', () => {
    const changes = rolloutChanges(base, killed);
    const flow = toFlow(base);
    const doc = JSON.stringify(toDefinition(splitMeta(base), mirrorNodes(flow.nodes, changes), flow.edges));
    // A clean editor stays clean: its saved snapshot moves with the document.
    expect(mirrorSnap(serialise(base), changes)).toBe(doc);
    expect(doc).toBe(serialise(killed));
  });

  it('keeps the editor’s own edits elsewhere as unsaved changes', () => {
    const changes = rolloutChanges(base, killed);
    const edited = {
      ...base,
      nodes: base.nodes.map((n) => (n.id === 'a' ? { ...n, config: { value: 9 } } : n)),
    };
    const f = toFlow(edited);
    const doc = JSON.stringify(toDefinition(splitMeta(edited), mirrorNodes(f.nodes, changes), f.edges));
    expect(doc).not.toBe(mirrorSnap(serialise(base), changes));
    expect(JSON.parse(doc).nodes[1]).toMatchObject({ mode: 'workflow', config: { value: 9 } });
  });

  it('takes only the fields the version changed: a graduated step’s type and config, not an edited name', () => {
    const graduated = {
      ...base,
      nodes: base.nodes.map((n) =>
        n.id === 'b'
          ? { ...n, type: 'code', config: { code: 'return 2' }, mode: undefined, agent: undefined }
          : n,
      ),
    };
    const changes = rolloutChanges(base, graduated);
    expect(changes.get('b')).toEqual({
      mode: undefined,
      agent: undefined,
      type: 'code',
      config: { code: 'return 2' },
    });
    const renamed = { ...base, nodes: base.nodes.map((n) => (n.id === 'b' ? { ...n, name: 'Mine' } : n)) };
    const f = toFlow(renamed);
    const step = JSON.parse(
      JSON.stringify(toDefinition(splitMeta(renamed), mirrorNodes(f.nodes, changes), f.edges)),
    ).nodes[2];
    expect(step).toEqual({
      id: 'b',
      type: 'code',
      name: 'Mine',
      position: { x: 0, y: 200 },
      config: { code: 'return 2' },
    });
  });

  it('leaves untouched nodes as the same objects', () => {
    const flow = toFlow(base);
    const out = mirrorNodes(flow.nodes, new Map([['a', { mode: 'workflow' as const, agent }]]));
    expect(out[0]).toBe(flow.nodes[0]);
    expect(out[2]).toBe(flow.nodes[2]);
    expect(out[1]).not.toBe(flow.nodes[1]);
  });
});
