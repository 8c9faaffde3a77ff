import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { largeDefinition } from '@/lib/workflow/fixtures/large-definition';
import { MAX_NODES } from '@/lib/workflow/limits';
import { PROBLEM_CODES } from '@/lib/workflow/validate';
import { validateDefinition } from './validate-definition';

const FIXTURES = path.join(import.meta.dirname, '..', 'workflow', 'fixtures');
const load = (rel: string): unknown => JSON.parse(readFileSync(path.join(FIXTURES, rel), 'utf8'));
const expected = load('invalid/expected.json') as Record<string, { code: string; path: string }[]>;

const base = () => ({
  schemaVersion: 1,
  name: 'x',
  nodes: [
    { id: 'start', type: 'trigger.manual', config: {} } as Record<string, unknown>,
    { id: 'a', type: 'transform', config: { value: 1 } } as Record<string, unknown>,
  ],
  edges: [{ id: 'e1', source: 'start', target: 'a' } as Record<string, unknown>],
});

describe('validateDefinition with the node registry', () => {
  for (const file of readdirSync(FIXTURES).filter((f) => f.startsWith('valid-'))) {
    it(`accepts fixture ${file}`, () => {
      expect(validateDefinition(load(file))).toEqual({ valid: true, problems: [] });
    });
  }

  it('has an expectation for every invalid fixture', () => {
    const files = readdirSync(path.join(FIXTURES, 'invalid')).filter((f) => f !== 'expected.json');
    expect(files.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [name, problems] of Object.entries(expected)) {
    it(`reports exactly the problems of fixture invalid/${name}`, () => {
      const r = validateDefinition(load(`invalid/${name}.json`));
      expect(r.valid).toBe(false);
      expect(r.problems.map(({ code, path }) => ({ code, path }))).toEqual(expect.arrayContaining(problems));
      expect(r.problems).toHaveLength(problems.length);
      for (const p of r.problems) expect(p.message.length).toBeGreaterThan(5);
    });
  }

  it('covers every problem code with a fixture (limit codes are tested in lib/workflow)', () => {
    const inFixtures = new Set(Object.values(expected).flatMap((ps) => ps.map((p) => p.code)));
    const limitCodes = [
      'too_large',
      'too_deep',
      'string_too_long',
      'too_many_nodes',
      'too_many_edges',
      'too_many_problems',
      'run_too_large', // the step cap: lib/server/run-limits.test.ts
      'http_tool_without_hosts', // a warning (fixtures are invalid definitions): tested below
      'stage_not_supported', // a warning too: tested below
    ];
    const missing = PROBLEM_CODES.filter(
      (c) => !inFixtures.has(c) && !limitCodes.includes(c) && c !== 'internal_error',
    );
    expect(missing).toEqual([]);
  });

  it('warns on the canvas when the agent has the HTTP tool but no allowed hosts', () => {
    const warn = (node: Record<string, unknown>) => {
      const def = base();
      def.nodes[1] = { ...def.nodes[1], ...node };
      return validateDefinition(def).problems.filter((p) => p.code === 'http_tool_without_hosts');
    };
    const agent = { mode: 'agent', agent: { tools: ['self', 'http'] } };
    const found = warn(agent);
    expect(found).toEqual([
      expect.objectContaining({ path: '/nodes/1/agent/allowHosts', severity: 'warning' }),
    ]);
    const def = base();
    def.nodes[1] = { ...def.nodes[1], ...agent };
    expect(validateDefinition(def).valid).toBe(true); // a warning: saving and running stay allowed
    expect(warn({ mode: 'agent', agent: { tools: ['http'], allowHosts: ['api.example.com'] } })).toEqual([]);
    expect(warn({ mode: 'agent', agent: { tools: ['self'] } })).toEqual([]);
  });

  it('warns when a browser step still carries a shadow or canary stage (it has neither)', () => {
    const browserAt = (agent: Record<string, unknown>) => {
      const def = base();
      def.nodes[1] = {
        id: 'a',
        type: 'browser',
        config: { startUrl: 'https://shop.example/p', actions: [{ type: 'screenshot' }] },
        mode: 'agent',
        agent: { instructions: 'Buy it', ...agent },
      };
      return validateDefinition(def);
    };
    const shadow = browserAt({ shadow: true });
    expect(shadow.problems).toEqual([
      expect.objectContaining({
        code: 'stage_not_supported',
        path: '/nodes/1/agent/shadow',
        severity: 'warning',
      }),
    ]);
    expect(shadow.valid).toBe(true); // it still runs (as at the workflow stage)
    expect(browserAt({ canaryPercent: 10 }).problems).toEqual([
      expect.objectContaining({ code: 'stage_not_supported', path: '/nodes/1/agent/canaryPercent' }),
    ]);
    expect(browserAt({}).problems).toEqual([]);
    // A step that does have these stages is not warned.
    const def = base();
    def.nodes[1] = {
      ...def.nodes[1],
      mode: 'agent',
      agent: { tools: ['self'], shadow: true, canaryPercent: 10 },
    };
    expect(validateDefinition(def).problems).toEqual([]);
  });

  it('points into the config for config errors, per type', () => {
    const def = base();
    def.nodes.push(
      {
        id: 'sw',
        type: 'switch',
        config: {
          cases: [
            { id: 'default', expression: 'true' },
            { id: 'b', expression: '' },
          ],
        },
      },
      { id: 'cron', type: 'trigger.schedule', config: { cron: 'every tuesday', timezone: 'Mars/Olympus' } },
    );
    def.edges.push({ id: 'e2', source: 'a', target: 'sw' });
    const r = validateDefinition(def);
    expect(r.problems.map(({ code, path }) => `${code} ${path}`).sort()).toEqual([
      'invalid_config /nodes/2/config/cases/0/id',
      'invalid_config /nodes/2/config/cases/1/expression',
      'invalid_config /nodes/3/config/cron',
      'invalid_config /nodes/3/config/timezone',
    ]);
  });

  it('derives switch handles from its cases and adds error when onError is branch', () => {
    const def = base();
    def.nodes.push(
      { id: 'sw', type: 'switch', config: { cases: [{ id: 'big', expression: 'input > 3' }] } },
      { id: 'x', type: 'output', config: { value: 1 } },
      { id: 'y', type: 'output', config: { value: 2 } },
      { id: 'z', type: 'output', config: { value: 3 } },
    );
    def.edges.push(
      { id: 'e2', source: 'a', target: 'sw' },
      { id: 'e3', source: 'sw', sourceHandle: 'big', target: 'x' },
      { id: 'e4', source: 'sw', sourceHandle: 'default', target: 'y' },
      { id: 'e5', source: 'sw', sourceHandle: 'error', target: 'z' },
    );
    expect(validateDefinition(def).problems.map((p) => `${p.code} ${p.path}`)).toEqual([
      'unknown_handle /edges/4/sourceHandle',
    ]);
    def.nodes[2].onError = 'branch';
    expect(validateDefinition(def).valid).toBe(true);
  });

  it('rejects edges out of an output node (it has no outputs)', () => {
    const def = base();
    def.nodes.push(
      { id: 'o', type: 'output', config: { value: 1 } },
      { id: 'p', type: 'transform', config: { value: 1 } },
    );
    def.edges.push({ id: 'e2', source: 'a', target: 'o' }, { id: 'e3', source: 'o', target: 'p' });
    expect(validateDefinition(def).problems).toEqual([
      expect.objectContaining({
        code: 'unknown_handle',
        path: '/edges/2/source',
        message: expect.stringContaining('no outputs'),
      }),
    ]);
  });

  it('checks expressions in whole-value fields, switch cases, map items and code bodies', () => {
    const def = base();
    def.nodes.push(
      { id: 'c', type: 'condition', config: { expression: 'steps.a.output ===' } },
      { id: 's', type: 'switch', config: { cases: [{ id: 'x', expression: 'steps.later.output' }] } },
      { id: 'm', type: 'map', config: { items: 'steps.a.output.', workflowId: 'wf_1' } },
      { id: 'k', type: 'code', config: { code: 'return {{ nope' } },
      { id: 'later', type: 'transform', config: { value: 1 } },
    );
    def.edges.push(
      { id: 'e2', source: 'a', target: 'c' },
      { id: 'e3', source: 'c', sourceHandle: 'true', target: 's' },
      { id: 'e4', source: 'a', target: 'm' },
      { id: 'e5', source: 'a', target: 'k' },
      { id: 'e6', source: 'a', target: 'later' },
    );
    const r = validateDefinition(def);
    expect(r.problems.map((p) => `${p.code} ${p.path}`)).toEqual([
      'expression_syntax /nodes/2/config/expression',
      'step_not_upstream /nodes/3/config/cases/0/expression',
      'expression_syntax /nodes/4/config/items',
      'expression_syntax /nodes/5/config/code',
    ]);
    expect(r.problems[0].message).toMatch(/at character 18/);
  });

  it('lets map bodies read item, their own upstream steps and steps upstream of the map, nothing else', () => {
    const def = base();
    def.nodes.push(
      {
        id: 'm',
        type: 'map',
        config: {
          items: 'steps.a.output',
          body: {
            nodes: [
              {
                id: 'x',
                type: 'transform',
                config: {
                  value: '{{ item }} {{ steps.a.output }} {{ steps.y.output }} {{ steps.after.output }}',
                },
              },
              { id: 'y', type: 'output', config: { value: '{{ steps.x.output }}' } },
            ],
            edges: [{ id: 'b1', source: 'x', target: 'y' }],
          },
        },
      },
      { id: 'after', type: 'output', config: { value: '{{ steps.m.output }}' } },
    );
    def.edges.push({ id: 'e2', source: 'a', target: 'm' }, { id: 'e3', source: 'm', target: 'after' });
    expect(validateDefinition(def).problems.map((p) => `${p.code} ${p.path}`)).toEqual([
      'step_not_upstream /nodes/2/config/body/nodes/0/config/value',
      'step_not_upstream /nodes/2/config/body/nodes/0/config/value',
    ]);
  });

  it('requires exactly one of a map body or workflowId', () => {
    const def = base();
    def.nodes.push({ id: 'm', type: 'map', config: { items: 'input' } });
    def.edges.push({ id: 'e2', source: 'a', target: 'm' });
    expect(validateDefinition(def).problems.map((p) => `${p.code} ${p.path}`)).toEqual([
      'invalid_config /nodes/2/config/body',
    ]);
  });

  it('accepts agent mode only on agent-capable types, with known tools', () => {
    const def = base();
    def.nodes[1].mode = 'agent';
    def.nodes[1].agent = {
      tools: ['self', 'http', 'workflow:abc', 'workflow:', 'rm -rf'],
      maxSteps: 3,
      allowHosts: ['api.example.com'],
    };
    expect(validateDefinition(def).problems.map((p) => `${p.code} ${p.path}`)).toEqual([
      'unknown_agent_tool /nodes/1/agent/tools/3',
      'unknown_agent_tool /nodes/1/agent/tools/4',
    ]);
  });

  it(`accepts a ${MAX_NODES}-node definition`, () => {
    expect(validateDefinition(largeDefinition(MAX_NODES))).toEqual({ valid: true, problems: [] });
  });

  it('a prompt reading secrets is an error, and only a warning with allowSecretsInPrompt', () => {
    const def = load('invalid/secret-in-prompt.json') as { nodes: { config: Record<string, unknown> }[] };
    const r = validateDefinition(def);
    const byPath = new Map(r.problems.map((p) => [p.path, p]));
    expect(byPath.get('/nodes/1/config/prompt')?.severity).toBeUndefined();
    expect(byPath.get('/nodes/2/agent/instructions')?.severity).toBeUndefined();
    expect(byPath.get('/nodes/3/config/prompt')?.severity).toBe('warning');
    // Allowed on every node: the canvas still shows the warnings, the workflow is valid.
    def.nodes[1].config.allowSecretsInPrompt = true;
    (def.nodes[2] as unknown as { agent: Record<string, unknown> }).agent.allowSecretsInPrompt = true;
    const allowed = validateDefinition(def);
    expect(allowed.valid).toBe(true);
    expect(allowed.problems.map((p) => [p.code, p.severity])).toEqual([
      ['secret_in_prompt', 'warning'],
      ['secret_in_prompt', 'warning'],
      ['secret_in_prompt', 'warning'],
    ]);
    // A prompt without secrets, or reading only input, is no problem at all.
    def.nodes[1].config.prompt = 'Summarize {{ input.secrets }} and {{ input.secretsOfTheSea }}';
    expect(validateDefinition(def).problems).toHaveLength(2);
  });
});
