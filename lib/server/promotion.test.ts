import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
import { openDb, type Db } from '@/lib/db/client';
import { SqlTraceStore } from '@/lib/db/sql-trace-store';
import { tempDataDir } from '@/lib/db/testing/databases';
import * as wfRepo from '@/lib/db/repositories/workflows';
import { startMockLlmServer, type MockLlmServer } from '@/lib/agent/testing/mock-llm-server';
import { createChatClient } from '@/lib/agent/model-client';
import { DEFAULT_PRICES } from '@/lib/agent/pricing';
import { createEngine } from '@/lib/engine/engine';
import {
  DEFAULT_PROMOTION_WINDOW,
  MAX_PROMOTION_WINDOW,
  MIN_SAMPLES_FOR_RECOMMENDATION,
  PROMOTE_MIN_AGREEMENT,
  applyAction,
  changeMode,
  promotionReport,
  recommend,
  summarize,
  type AgentStepSample,
} from './promotion';
import {
  MAX_PRICE_ENTRIES,
  MODEL_PRICES_KEY,
  agentOptions,
  loadPriceTable,
  priceTableSchema,
  resetPriceTable,
  savePriceTable,
} from './model-prices';
import { modelStatus } from './settings';
import { createSandboxServices } from '@/lib/sandbox';

const LABEL_SCHEMA = {
  type: 'object',
  properties: { label: { enum: ['billing', 'bug', 'other'] }, ticket: { type: 'string' } },
  required: ['label'],
};

function definition(agentModel: string): WorkflowDefinition {
  return {
    schemaVersion: 1,
    name: 'Promote me',
    nodes: [
      { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'label',
        type: 'llm',
        position: { x: 0, y: 100 },
        config: { model: 'scenario:echo', prompt: 'Classify: {{ input.text }}', outputSchema: LABEL_SCHEMA },
        mode: 'agent',
        agent: {
          instructions: 'Label it',
          tools: [],
          maxSteps: 3,
          maxTokens: 100_000,
          timeoutMs: 10_000,
          fallback: 'deterministic',
          shadow: true,
          model: agentModel,
        },
      },
    ],
    edges: [{ id: 'e1', source: 'start', target: 'label' }],
  };
}

const sample = (over: Partial<AgentStepSample>): AgentStepSample => ({
  mode: 'shadow',
  status: 'succeeded',
  output: { label: 'billing', ticket: 'T-1' },
  shadowOutput: { label: 'billing', ticket: 'T-1' },
  handle: 'out',
  fallbackReason: null,
  durationMs: 50,
  cost: 0.002,
  summary: {
    mode: 'shadow',
    outcome: 'ok',
    agentMs: 40,
    deterministicMs: 10,
    agentTokens: 100,
    agentCost: 0.002,
    modelCalls: 1,
  },
  ...over,
});

const shadowNode = {
  id: 'label',
  type: 'llm',
  mode: 'agent' as const,
  agent: { shadow: true },
} as WorkflowNode;

describe('summarize (pure)', () => {
  it('exact and per-field agreement, fallback rate by reason, latency and cost deltas', () => {
    const r = summarize(shadowNode, [
      sample({}),
      sample({ shadowOutput: { label: 'bug', ticket: 'T-1' } }),
      sample({ shadowOutput: null, fallbackReason: 'invalid_output' }),
      sample({ mode: 'fallback', shadowOutput: null, fallbackReason: 'timeout' }),
    ]);
    expect(r.count).toBe(4);
    expect(r.byMode).toEqual({ agent: 0, shadow: 3, fallback: 1 });
    expect(r.agreement).toEqual({ compared: 2, exactMatchRate: 0.5, fields: { label: 0.5, ticket: 1 } });
    expect(r.fallback).toEqual({ rate: 0.5, byReason: { invalid_output: 0.25, timeout: 0.25 } });
    expect(r.latency).toEqual({ agentMs: 40, deterministicMs: 10, deltaMs: 30 });
    expect(r.cost.agentUsd).toBe(0.002);
    expect(r.cost.deterministicUsd).toBe(0);
    expect(r.cost.deltaUsd).toBe(0.002);
  });

  it('compares the branch taken for condition/switch steps', () => {
    const r = summarize({ ...shadowNode, type: 'condition' }, [
      sample({ output: { any: 'input' }, handle: 'true', shadowOutput: { branch: 'true' } }),
      sample({ output: { any: 'input' }, handle: 'false', shadowOutput: { branch: 'true' } }),
    ]);
    expect(r.agreement.exactMatchRate).toBe(0.5);
  });

  it('workflow-mode steps of the node are the deterministic latency baseline', () => {
    const r = summarize(
      { ...shadowNode, mode: 'agent', agent: undefined } as WorkflowNode,
      [sample({ mode: 'agent', summary: { ...sample({}).summary!, deterministicMs: undefined } })],
      [
        { durationMs: 4, cost: 0 },
        { durationMs: 6, cost: 0 },
      ],
    );
    expect(r.latency).toEqual({ agentMs: 40, deterministicMs: 5, deltaMs: 35 });
  });
});

describe('summarize: agents that never reached a model', () => {
  it('do not count toward agent latency or cost', () => {
    const base = sample({}).summary!;
    const r = summarize(shadowNode, [
      sample({
        shadowOutput: null,
        fallbackReason: 'no_model_configured',
        summary: { ...base, modelCalls: 0, agentMs: 500 },
      }),
    ]);
    expect(r.latency).toEqual({ agentMs: null, deterministicMs: 10, deltaMs: null });
    expect(r.fallback.byReason).toEqual({ no_model_configured: 1 });
  });
});

describe('recommend', () => {
  const shadow = { mode: 'agent' as const, shadow: true };
  it(`asks for ${MIN_SAMPLES_FOR_RECOMMENDATION} compared runs before recommending`, () => {
    expect(recommend(shadow, 4, MIN_SAMPLES_FOR_RECOMMENDATION - 1, 1, 0).action).toBe('collect_more');
    expect(recommend(shadow, 5, MIN_SAMPLES_FOR_RECOMMENDATION, 1, 0).action).toBe('promote');
  });
  it(`promotes at ${PROMOTE_MIN_AGREEMENT} agreement, demotes a shadow agent that disagrees or falls back`, () => {
    expect(recommend(shadow, 10, 10, PROMOTE_MIN_AGREEMENT, 0.1).action).toBe('promote');
    expect(recommend(shadow, 10, 10, 0.3, 0).action).toBe('demote');
    expect(recommend(shadow, 10, 10, 0.95, 0.5).action).toBe('demote');
    expect(recommend(shadow, 10, 10, 0.7, 0.1).action).toBe('keep');
    // Over the fallback gate the advice is Demote, never Keep (issue 20 §7).
    expect(recommend(shadow, 10, 10, 0.7, 0.2).action).toBe('demote');
    expect(recommend(shadow, 10, 10, 0.95, 0.2, 0.25).action).toBe('promote');
    expect(recommend({ mode: 'agent', shadow: false }, 10, 0, null, 0.2).action).toBe('demote');
    expect(recommend({ mode: 'agent', shadow: false }, 10, 0, null, 0.2, 0.25).action).toBe('keep');
  });
  it('suggests shadow for a deterministic step, demotion for a live agent that keeps falling back', () => {
    expect(recommend({ mode: 'workflow', shadow: false }, 0, 0, null, null).action).toBe('shadow');
    expect(recommend({ mode: 'agent', shadow: false }, 10, 0, null, 0.5).action).toBe('demote');
    expect(recommend({ mode: 'agent', shadow: false }, 10, 0, null, 0).action).toBe('keep');
  });
});

describe('applyAction', () => {
  const plain = {
    id: 'x',
    type: 'transform',
    position: { x: 0, y: 0 },
    config: { value: 1 },
  } as WorkflowNode;
  it('promote/shadow/demote change only mode and agent.shadow', () => {
    expect(applyAction(plain, 'promote')).toMatchObject({
      mode: 'agent',
      agent: { tools: ['self'], shadow: false },
    });
    expect(applyAction(plain, 'shadow')).toMatchObject({ mode: 'agent', agent: { shadow: true } });
    const demoted = applyAction(applyAction(plain, 'shadow'), 'demote');
    expect(demoted).toMatchObject({ mode: 'workflow', agent: { shadow: false }, config: { value: 1 } });
  });
});

describe('promotion report and mode changes on PGlite, with runs through the real SDK', () => {
  let db: Db;
  let store: SqlTraceStore;
  let mock: MockLlmServer;
  const tmp = tempDataDir('trellis-promotion-');
  beforeAll(async () => {
    [db, mock] = await Promise.all([openDb({ dataDir: tmp.dir }), startMockLlmServer()]);
    store = new SqlTraceStore(db);
  });
  afterAll(async () => {
    await store?.close();
    await db?.close();
    await mock?.close();
    tmp.remove();
  });

  async function runIt(workflowId: string, times: number) {
    const engine = createEngine({
      store,
      services: {
        ...createSandboxServices(),
        chat: createChatClient({ env: { OPENAI_BASE_URL: mock.baseURL, OPENAI_API_KEY: 'm' } }),
      },
      agent: {
        ...agentOptions(db),
        model: { baseURL: mock.baseURL, apiKey: 'm', defaultModel: 'scenario:echo' },
      },
    });
    for (let i = 0; i < times; i++) {
      const wf = (await wfRepo.getWorkflow(db.prisma, workflowId))!;
      const out = await engine.runToCompletion({
        definition: wf.definition,
        workflowId,
        versionId: wf.versionId,
        version: wf.version,
        input: { text: 'billing: I was charged twice' },
      });
      expect(out.status).toBe('succeeded');
    }
  }

  it('shadow runs that agree recommend promotion; promote saves a new version with mode agent', async () => {
    const { id } = await wfRepo.createWorkflow(db.prisma, {
      name: 'p',
      definition: definition('scenario:echo'),
    });
    await runIt(id, MIN_SAMPLES_FOR_RECOMMENDATION);
    const report = await promotionReport(db.prisma, id, { nodeId: 'label' });
    expect(report.limit).toBe(DEFAULT_PROMOTION_WINDOW);
    const step = report.steps[0];
    expect(step.count).toBe(MIN_SAMPLES_FOR_RECOMMENDATION);
    expect(step.byMode.shadow).toBe(MIN_SAMPLES_FOR_RECOMMENDATION);
    expect(step.agreement.exactMatchRate).toBe(1);
    expect(step.agreement.fields.label).toBe(1);
    expect(step.fallback.rate).toBe(0);
    expect(step.latency.agentMs).not.toBeNull();
    expect(step.latency.deterministicMs).not.toBeNull();
    expect(step.recommendation.action).toBe('promote');

    const saved = await changeMode(db.prisma, id, 'label', 'promote');
    expect(saved.version).toBe(2);
    const wf = await wfRepo.getWorkflow(db.prisma, id);
    const node = wf!.definition.nodes.find((n) => n.id === 'label')!;
    expect(node.mode).toBe('agent');
    expect(node.agent?.shadow).toBe(false);
    expect(node.agent?.model).toBe('scenario:echo'); // settings kept
  });

  it('fallbacks are counted by reason; limit bounds the window', async () => {
    const { id } = await wfRepo.createWorkflow(db.prisma, {
      name: 'q',
      definition: definition('scenario:malformed-json'),
    });
    await runIt(id, 3);
    const report = await promotionReport(db.prisma, id, { limit: 2 });
    const step = report.steps.find((s) => s.nodeId === 'label')!;
    expect(step.count).toBe(2);
    expect(step.fallback).toEqual({ rate: 1, byReason: { invalid_output: 1 } });
    expect(step.agreement.compared).toBe(0);
    await changeMode(db.prisma, id, 'label', 'demote');
    const after = await promotionReport(db.prisma, id, { nodeId: 'label' });
    expect(after.steps[0].current).toEqual({ mode: 'workflow', shadow: false });
    expect(after.steps[0].recommendation.action).toBe('shadow');
  });

  it('unknown workflow or node → not_found; a node that cannot be an agent → unprocessable', async () => {
    const { id } = await wfRepo.createWorkflow(db.prisma, {
      name: 'r',
      definition: definition('scenario:echo'),
    });
    await expect(promotionReport(db.prisma, 'nope')).rejects.toMatchObject({ code: 'not_found' });
    await expect(promotionReport(db.prisma, id, { nodeId: 'ghost' })).rejects.toMatchObject({
      code: 'not_found',
    });
    await expect(changeMode(db.prisma, id, 'start', 'promote')).rejects.toMatchObject({
      code: 'unprocessable',
    });
    expect(MAX_PROMOTION_WINDOW).toBeGreaterThan(DEFAULT_PROMOTION_WINDOW);
  });

  it('the price table in Settings is what agent steps are charged with', async () => {
    expect(await loadPriceTable(db.prisma)).toEqual({ prices: DEFAULT_PRICES, isDefault: true });
    await savePriceTable(db.prisma, { 'scenario:echo': { inputPerMTok: 1000, outputPerMTok: 0 } });
    const { id } = await wfRepo.createWorkflow(db.prisma, {
      name: 's',
      definition: definition('scenario:echo'),
    });
    await runIt(id, 1);
    const step = await db.prisma.step.findFirstOrThrow({
      where: { nodeId: 'label', run: { workflowId: id } },
    });
    expect(step.cost).toBeGreaterThanOrEqual(0.01); // ≥ 10 prompt tokens at $0.001 each
    expect(step.fallbackReason).toBeNull();
    await db.prisma.setting.update({ where: { key: MODEL_PRICES_KEY }, data: { value: { broken: 1 } } });
    expect((await loadPriceTable(db.prisma)).isDefault).toBe(true);
    await resetPriceTable(db.prisma);
    expect((await loadPriceTable(db.prisma)).isDefault).toBe(true);
  });
});

describe('settings', () => {
  it('model status says whether a model is configured, never the key', () => {
    expect(modelStatus({})).toEqual({
      configured: false,
      baseURL: null,
      apiKeySet: false,
      defaultModel: null,
    });
    const s = modelStatus({
      OPENAI_API_KEY: 'sk-abc123secret',
      OPENAI_BASE_URL: 'http://u:pw@llm.local:11434/v1',
    });
    expect(s.configured).toBe(true);
    expect(s.apiKeySet).toBe(true);
    expect(s.baseURL).toBe('http://llm.local:11434/v1');
    expect(JSON.stringify(s)).not.toMatch(/sk-abc123secret|pw@/);
  });

  it(`the price table holds at most MAX_PRICE_ENTRIES (${MAX_PRICE_ENTRIES}) models, prices ≥ 0`, () => {
    const many = Object.fromEntries(
      Array.from({ length: MAX_PRICE_ENTRIES + 1 }, (_, i) => [
        `m${i}`,
        { inputPerMTok: 1, outputPerMTok: 1 },
      ]),
    );
    expect(priceTableSchema.safeParse(many).success).toBe(false);
    expect(priceTableSchema.safeParse({ m: { inputPerMTok: -1, outputPerMTok: 1 } }).success).toBe(false);
    expect(priceTableSchema.safeParse({ m: { inputPerMTok: 0.1, outputPerMTok: 1 } }).success).toBe(true);
  });
});
