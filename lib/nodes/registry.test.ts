import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineNode, done } from './define-node';
import { createRegistry, getNode, nodeRegistry } from './registry';

const DESIGN_TYPES = [
  // second release: one task of an imported Serverless Workflow document (DESIGN.md §2 table)
  'sw.task',
  // issue 17: deterministic web actions an interface agent can heal (DESIGN.md §2 table)
  'browser',
  'trigger.manual',
  'trigger.webhook',
  'trigger.schedule',
  'http.request',
  'transform',
  'code',
  'condition',
  'switch',
  'map',
  'merge',
  'delay',
  'llm',
  'approval',
  'subworkflow',
  'output',
];
const REQUIRES_CHOICE: Record<string, string[]> = { subworkflow: ['workflowId'] };
const GROUPS = ['Triggers', 'Logic', 'Data', 'Flow', 'AI', 'Output'];

describe('node registry', () => {
  it('lists exactly the node types of DESIGN.md §2', () => {
    expect(nodeRegistry.types().sort()).toEqual([...DESIGN_TYPES].sort());
  });

  it('throws at start-up on a duplicate type', () => {
    const a = defineNode({
      type: 'dup',
      label: 'Dup',
      group: 'Data',
      icon: 'x',
      description: 'd',
      config: z.object({}),
      defaultConfig: {},
      run: async () => done(null),
    });
    expect(() => createRegistry([a, a])).toThrow(/registered twice/);
  });

  it('getNode returns the full definition with run()', () => {
    expect(typeof getNode('delay')?.run).toBe('function');
    expect(getNode('nope')).toBeUndefined();
    expect(nodeRegistry.get('delay')).toBe(getNode('delay'));
  });

  for (const type of DESIGN_TYPES) {
    it(`${type}: metadata is complete and its default config is valid`, () => {
      const def = getNode(type)!;
      expect(def.label).toBeTruthy();
      expect(def.description).toBeTruthy();
      expect(def.icon).toMatch(/^[a-z-]+$/);
      expect(GROUPS).toContain(def.group);
      // Fields a person must choose (which saved workflow to call) start empty, and say so.
      const mustChoose = REQUIRES_CHOICE[type] ?? [];
      const parsed = def.config.safeParse(def.defaultConfig);
      expect((parsed.error?.issues ?? []).map((i) => i.path.join('.'))).toEqual(mustChoose);
      if (mustChoose.length) return;
      expect(def.hasInput).toBe(!def.isTrigger);
      expect(Array.isArray(def.outputs(parsed.data as Record<string, unknown>))).toBe(true);
      if (def.agentCapable) {
        const tool = def.asTool!(parsed.data as never);
        expect(tool.description).toBeTruthy();
        expect(tool.parameters).toMatchObject({ type: 'object' });
      }
    });
  }

  it('marks triggers, outputs and agent-capable types as DESIGN.md says', () => {
    expect(
      nodeRegistry
        .list()
        .filter((s) => s.isTrigger)
        .map((s) => s.type),
    ).toEqual(['trigger.manual', 'trigger.webhook', 'trigger.schedule']);
    expect(
      nodeRegistry
        .list()
        .filter((s) => s.agentCapable)
        .map((s) => s.type)
        .sort(),
    ).toEqual(['browser', 'code', 'condition', 'http.request', 'llm', 'switch', 'transform']);
    expect(getNode('condition')!.outputs({ expression: 'x' })).toEqual(['true', 'false']);
    expect(getNode('switch')!.outputs({ cases: [{ id: 'a', expression: '1' }] })).toEqual(['a', 'default']);
    expect(getNode('approval')!.outputs({})).toEqual(['approved', 'rejected']);
    expect(getNode('output')!.outputs({ value: 1 })).toEqual([]);
    expect(getNode('merge')!.outputs({ mode: 'all' })).toEqual(['out']);
    expect(getNode('condition')!.expressionFields).toEqual(['expression']);
    expect(getNode('switch')!.expressionFields).toEqual(['cases[].expression']);
    expect(getNode('map')!.expressionFields).toEqual(['items']);
  });

  it('describes config fields for the editor forms', () => {
    for (const def of nodeRegistry.list()) {
      const schema = z.toJSONSchema(def.config, { io: 'input', unrepresentable: 'any' }) as {
        properties?: Record<string, { description?: string }>;
      };
      for (const [field, prop] of Object.entries(schema.properties ?? {})) {
        expect(prop.description, `${def.type}.${field}`).toBeTruthy();
      }
    }
  });
});
