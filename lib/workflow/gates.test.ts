import { describe, expect, it } from 'vitest';
import { definitionSchema, type WorkflowNode } from './definition';
import { describeGate, evaluateGates, rolloutDecision, type GateSample } from './gates';
import { MAX_CANARY_PERCENT, MAX_GATE_WINDOW, MIN_CANARY_PERCENT } from './limits';
import {
  agentRevision,
  nextStage,
  rollbackTarget,
  rolloutKey,
  stageOf,
  stagesFor,
  withStage,
} from './rollout';

const ok = (over: Partial<GateSample> = {}): GateSample => ({
  mode: 'agent',
  agreed: null,
  fallbackReason: null,
  agentMs: 100,
  agentCostUsd: 0.001,
  ...over,
});
const fellBack = ok({ mode: 'fallback', fallbackReason: 'model_error', agentMs: 5 });

const node = (
  agent: Partial<NonNullable<WorkflowNode['agent']>> = {},
  mode: 'agent' | 'workflow' = 'agent',
) =>
  ({
    id: 'n',
    type: 'llm',
    position: { x: 0, y: 0 },
    config: { prompt: 'x' },
    mode,
    agent: {
      instructions: 'i',
      tools: [],
      maxSteps: 6,
      maxTokens: 8000,
      timeoutMs: 1000,
      fallback: 'deterministic',
      shadow: false,
      ...agent,
    },
  }) as WorkflowNode;

describe('rollout stages', () => {
  it('definitions saved before stages keep their meaning', () => {
    expect(stageOf({ mode: undefined })).toEqual({ stage: 'workflow' });
    expect(stageOf(node({ shadow: true }))).toEqual({ stage: 'shadow' });
    expect(stageOf(node())).toEqual({ stage: 'agent' });
    expect(stageOf(node({ canaryPercent: 25 }))).toEqual({ stage: 'canary', canaryPercent: 25 });
    // shadow wins over a leftover canary share: the deterministic output serves.
    expect(stageOf(node({ shadow: true, canaryPercent: 25 }))).toEqual({ stage: 'shadow' });
    expect(stageOf(node({}, 'workflow'))).toEqual({ stage: 'workflow' });
  });

  it('withStage writes one consistent encoding and keeps the agent settings', () => {
    const n = node({ instructions: 'keep me', gates: { minSample: 5, window: 10, maxFallbackRate: 0.1 } });
    const canary = withStage(n, { stage: 'canary', canaryPercent: 30 });
    expect(stageOf(canary)).toEqual({ stage: 'canary', canaryPercent: 30 });
    expect(canary.agent!.instructions).toBe('keep me');
    const shadow = withStage(canary, { stage: 'shadow' });
    expect(shadow.agent!.canaryPercent).toBeUndefined();
    expect(stageOf(shadow).stage).toBe('shadow');
    const off = withStage(shadow, { stage: 'workflow' });
    expect(off.mode).toBe('workflow');
    expect(off.agent!.gates).toEqual(n.agent!.gates);
    expect(stageOf(withStage(off, { stage: 'agent' }))).toEqual({ stage: 'agent' });
    const marked = {
      ...off,
      agent: { ...off.agent!, rolledBack: { from: 'agent', reason: 'r', at: 'now' } },
    };
    expect(withStage(marked, { stage: 'shadow' }).agent!.rolledBack).toBeUndefined();
    expect(agentRevision(marked)).toBe(agentRevision(off));
    const fresh = withStage({ mode: 'workflow' as const, agent: undefined }, { stage: 'shadow' }, true);
    expect(fresh.agent).toMatchObject({ tools: ['self'], shadow: true });
  });

  it('stages advance workflow → shadow → canary → agent', () => {
    expect(nextStage(node({}, 'workflow'))).toEqual({ stage: 'shadow' });
    expect(nextStage(node({ shadow: true }))).toEqual({ stage: 'canary', canaryPercent: 10 });
    expect(nextStage(node({ canaryPercent: 10 }))).toEqual({ stage: 'agent' });
    expect(nextStage(node())).toBeNull();
  });

  it('the agent revision ignores stage and gates, and changes with the instructions', () => {
    const a = node({ instructions: 'one' });
    expect(agentRevision(withStage(a, { stage: 'canary', canaryPercent: 5 }))).toBe(agentRevision(a));
    expect(agentRevision({ ...a, agent: { ...a.agent!, gates: { minSample: 1, window: 1 } } })).toBe(
      agentRevision(a),
    );
    expect(agentRevision(node({ instructions: 'two' }))).not.toBe(agentRevision(a));
    expect(rolloutKey(withStage(a, { stage: 'shadow' }))).not.toBe(rolloutKey(a));
  });

  it('canary share and gate window are bounded by named limits', () => {
    const def = (agent: Record<string, unknown>) => ({
      schemaVersion: 1,
      name: 'x',
      nodes: [{ id: 'n', type: 'llm', config: {}, mode: 'agent', agent }],
      edges: [],
    });
    const paths = (agent: Record<string, unknown>) =>
      definitionSchema.safeParse(def(agent)).error?.issues.map((i) => i.path.join('/'));
    expect(paths({ canaryPercent: MIN_CANARY_PERCENT })).toBeUndefined();
    expect(paths({ canaryPercent: MAX_CANARY_PERCENT })).toBeUndefined();
    expect(paths({ canaryPercent: MAX_CANARY_PERCENT + 1 })).toEqual(['nodes/0/agent/canaryPercent']);
    expect(paths({ canaryPercent: MIN_CANARY_PERCENT - 1 })).toEqual(['nodes/0/agent/canaryPercent']);
    expect(paths({ gates: { window: MAX_GATE_WINDOW } })).toBeUndefined();
    expect(paths({ gates: { window: MAX_GATE_WINDOW + 1 } })).toEqual(['nodes/0/agent/gates/window']);
    expect(paths({ gates: { maxFallbackRate: 1.5 } })).toEqual(['nodes/0/agent/gates/maxFallbackRate']);
  });
});

describe('gates over a sliding window', () => {
  const gates = {
    minSample: 10,
    window: 20,
    maxFallbackRate: 0.1,
    minAgreement: 0.9,
    maxP95LatencyMs: 500,
    maxCostPerRunUsd: 0.01,
  };

  it('below the minimum sample nothing decides', () => {
    const v = evaluateGates(Array(9).fill(fellBack), gates);
    expect(v.status).toBe('insufficient');
    expect(rolloutDecision(node({ canaryPercent: 10, gates }), v).action).toBe('none');
  });

  it('only the newest `window` steps count: old failures slide out', () => {
    const samples = [...Array(20).fill(ok({ agreed: true })), ...Array(20).fill(fellBack)];
    const v = evaluateGates(samples, gates);
    expect(v.sample).toBe(20);
    expect(v.status).toBe('pass');
    const fr = v.gates.find((g) => g.gate === 'fallbackRate')!;
    expect(fr).toMatchObject({ value: 0, status: 'pass', over: 20 });
  });

  it('each gate fails on its own threshold', () => {
    const base = Array<GateSample>(20).fill(ok({ agreed: true }));
    const failing = (samples: GateSample[]) =>
      evaluateGates(samples, gates)
        .gates.filter((g) => g.status === 'fail')
        .map((g) => g.gate);
    expect(failing(base)).toEqual([]);
    expect(failing([...Array(3).fill(fellBack), ...base])).toEqual(['fallbackRate']);
    expect(failing([...Array(3).fill(ok({ agreed: false })), ...base])).toEqual(['agreement']);
    // p95 by nearest rank: 2 slow of 20 is the top 10%, so the 95th percentile is slow.
    expect(failing([...Array(2).fill(ok({ agentMs: 900, agreed: true })), ...base])).toEqual([
      'p95LatencyMs',
    ]);
    expect(failing([ok({ agentMs: 900, agreed: true }), ...base])).toEqual([]);
    expect(failing([...Array(5).fill(ok({ agentCostUsd: 0.05, agreed: true })), ...base])).toEqual([
      'costPerRunUsd',
    ]);
  });

  it('a gate without cases has no data: it neither passes nor rolls back', () => {
    const v = evaluateGates(Array(20).fill(ok()), gates);
    expect(v.gates.find((g) => g.gate === 'agreement')!.status).toBe('no_data');
    expect(v.status).toBe('no_data');
    expect(rolloutDecision(node({ canaryPercent: 10, gates, autoAdvance: true }), v).action).toBe('none');
  });

  it('a failing gate rolls canary and agent back to shadow, with the reason in words', () => {
    const v = evaluateGates([...Array(5).fill(fellBack), ...Array(15).fill(ok({ agreed: true }))], gates);
    for (const n of [node({ canaryPercent: 10, gates }), node({ gates })]) {
      const d = rolloutDecision(n, v);
      expect(d).toMatchObject({ action: 'rollback', to: { stage: 'shadow' } });
      expect(d.reason).toContain('fallback rate 25% > 10% (20 steps)');
    }
    // Shadow and workflow serve the deterministic output already: nothing to roll back.
    expect(rolloutDecision(node({ shadow: true, gates }), v).action).toBe('none');
  });

  it('passing gates advance only with autoAdvance, and never past agent', () => {
    const v = evaluateGates(Array(20).fill(ok({ agreed: true })), gates);
    expect(rolloutDecision(node({ shadow: true, gates }), v).action).toBe('none');
    expect(rolloutDecision(node({ shadow: true, gates, autoAdvance: true }), v)).toMatchObject({
      action: 'advance',
      to: { stage: 'canary', canaryPercent: 10 },
    });
    expect(rolloutDecision(node({ canaryPercent: 10, gates, autoAdvance: true }), v)).toMatchObject({
      action: 'advance',
      to: { stage: 'agent' },
    });
    expect(rolloutDecision(node({ gates, autoAdvance: true }), v).action).toBe('none');
  });

  it('describes a passing gate with its bound', () => {
    const v = evaluateGates(Array(20).fill(ok({ agreed: true })), gates);
    expect(v.gates.map(describeGate)).toContain('agreement 100% ≥ 90% (20 steps)');
  });
  it('a type whose effects cannot happen twice: workflow → agent, and a rollback lands in workflow', () => {
    expect(stagesFor()).toEqual(['workflow', 'shadow', 'canary', 'agent']);
    expect(stagesFor(true)).toEqual(['workflow', 'agent']);
    expect(nextStage(node({}, 'workflow'), true)).toEqual({ stage: 'agent' });
    expect(nextStage(node(), true)).toBeNull();
    expect(rollbackTarget(node(), true)).toEqual({ stage: 'workflow' });
    expect(rollbackTarget(node())).toEqual({ stage: 'shadow' });
    const gates = { minSample: 2, window: 2, maxFallbackRate: 0 };
    const failing = evaluateGates([fellBack, fellBack], gates);
    expect(rolloutDecision(node({ gates }), failing, true)).toMatchObject({
      action: 'rollback',
      to: { stage: 'workflow' },
    });
  });
});
