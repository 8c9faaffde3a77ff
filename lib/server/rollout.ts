import type { PrismaClient } from '@/lib/db/generated/client';
import * as wfRepo from '@/lib/db/repositories/workflows';
import { insertRolloutEvents } from '@/lib/db/repositories/rollout-events';
import { getNode } from '@/lib/nodes/registry';
import type { RolloutGates, WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
import { rolloutGatesSchema } from '@/lib/workflow/definition';
import {
  DEFAULT_GATES,
  evaluateGates,
  rolloutDecision,
  type RolloutDecision,
  type StepRollout,
} from '@/lib/workflow/gates';
import {
  agentRevision,
  nextStage,
  rolloutKey,
  stageLabel,
  stageOf,
  stagesFor,
  withStage,
  type RolloutEventKind,
  type StageState,
} from '@/lib/workflow/rollout';
import { NotFoundError, TrellisError } from '@/lib/workflow/errors';
import { agentSamples, evidenceModes, gateSample } from './agent-samples';

// Rollout of agent steps (issue 16 §3–4) over the database: what evidence the gates read, the
// one writer of stage changes (a new workflow version + an activity row, in one transaction),
// and the evaluation the watcher runs as runs finish. The rules themselves are pure
// (lib/workflow/rollout.ts, gates.ts); this file only loads and writes.

/** Versions looked back over to find where a step's current stage (and agent revision) began. */
export const MAX_STAGE_SCAN_VERSIONS = 200;
/** Version definitions whose rollout keys are kept in memory (versions are immutable). */
const KEY_CACHE_SIZE = 2_000;

type NodeKeys = Map<string, { key: string; revision: string }>;
const keyCache = new Map<string, NodeKeys>();

function keysOf(definition: WorkflowDefinition): NodeKeys {
  const m: NodeKeys = new Map();
  for (const n of definition.nodes) m.set(n.id, { key: rolloutKey(n), revision: agentRevision(n) });
  return m;
}

/** Rollout keys per node of the newest versions, newest first (definitions read once per version). */
async function versionKeys(
  prisma: PrismaClient,
  workflowId: string,
): Promise<{ id: string; version: number; keys: NodeKeys }[]> {
  const ids = await prisma.workflowVersion.findMany({
    where: { workflowId },
    orderBy: { version: 'desc' },
    take: MAX_STAGE_SCAN_VERSIONS,
    select: { id: true, version: true },
  });
  const missing = ids.filter((v) => !keyCache.has(v.id)).map((v) => v.id);
  if (missing.length) {
    const rows = await prisma.workflowVersion.findMany({
      where: { id: { in: missing } },
      select: { id: true, definition: true },
    });
    for (const r of rows) {
      if (keyCache.size >= KEY_CACHE_SIZE) keyCache.delete(keyCache.keys().next().value!);
      keyCache.set(r.id, keysOf(r.definition as unknown as WorkflowDefinition));
    }
  }
  return ids.map((v) => ({ ...v, keys: keyCache.get(v.id) ?? new Map() }));
}

/** The versions, newest first, over which a node kept the same value of `pick`: its current streak. */
function streak(
  versions: { id: string; keys: NodeKeys }[],
  nodeId: string,
  pick: (k: { key: string; revision: string }) => string,
): string[] {
  const out: string[] = [];
  const first = versions[0]?.keys.get(nodeId);
  if (!first) return out;
  for (const v of versions) {
    const k = v.keys.get(nodeId);
    if (!k || pick(k) !== pick(first)) break;
    out.push(v.id);
  }
  return out;
}

const isRollable = (n: WorkflowNode) => !!getNode(n.type)?.agentCapable;
/** The node's type cannot run its agent beside the deterministic step (no shadow, no canary). */
const runsOnce = (n: Pick<WorkflowNode, 'type'>) => !!getNode(n.type)?.runsOnce;

async function stepRollout(
  prisma: PrismaClient,
  workflowId: string,
  node: WorkflowNode,
  versions: { id: string; keys: NodeKeys }[],
  withCounts: boolean,
): Promise<StepRollout> {
  const gates = rolloutGatesSchema.parse(node.agent?.gates ?? DEFAULT_GATES);
  const stageIds = streak(versions, node.id, (k) => k.key);
  const s = stageOf(node);
  const once = runsOnce(node) ? { atAgentStage: s.stage === 'agent' } : undefined;
  const samples = await agentSamples(prisma, {
    workflowId,
    nodeId: node.id,
    limit: gates.window,
    versionIds: stageIds,
    runsOnce: once,
  });
  const gateSamples = samples.map(gateSample);
  const verdict = evaluateGates(gateSamples, gates);
  const served = { agent: 0, fallback: 0, shadow: 0 };
  for (const g of gateSamples) if (g.mode in served) served[g.mode as keyof typeof served]++;
  // A runs-once step's replays record `workflow` in every stage: only versions where it was at the
  // agent stage hold its evidence.
  const atAgent = (ids: string[]) =>
    ids.filter((id) =>
      versions
        .find((v) => v.id === id)
        ?.keys.get(node.id)
        ?.key.startsWith('agent@'),
    );
  const count = (versionIds?: string[]) =>
    prisma.step.count({
      where: {
        nodeId: node.id,
        parentNodeId: null,
        run: { workflowId, ...(versionIds ? { workflowVersionId: { in: versionIds } } : {}) },
        mode: { in: evidenceModes(once) },
        status: { in: ['succeeded', 'failed'] },
      },
    });
  const revisionIds = streak(versions, node.id, (k) => k.revision);
  const [stage, revision, total] = withCounts
    ? await Promise.all(
        once
          ? [count(stageIds), count(atAgent(revisionIds)), count(atAgent(versions.map((v) => v.id)))]
          : [count(stageIds), count(revisionIds), count()],
      )
    : [verdict.sample, verdict.sample, verdict.sample];
  return {
    nodeId: node.id,
    nodeName: node.name ?? null,
    nodeType: node.type,
    stage: s,
    label: stageLabel(s),
    stages: stagesFor(runsOnce(node)),
    next: nextStage(node, runsOnce(node)),
    gates,
    autoAdvance: !!node.agent?.autoAdvance,
    revision: agentRevision(node),
    verdict,
    decision: rolloutDecision(node, verdict, runsOnce(node)),
    evidence: { stage, revision, total },
    served,
  };
}

/** The rollout state of a workflow's agent-capable steps (or one of them). */
export async function rolloutState(
  prisma: PrismaClient,
  workflowId: string,
  opts: { nodeId?: string } = {},
): Promise<{ workflowId: string; version: number; steps: StepRollout[] }> {
  const wf = await wfRepo.getWorkflow(prisma, workflowId);
  if (!wf) throw new NotFoundError(`Workflow ${workflowId}`);
  let nodes = wf.definition.nodes.filter(isRollable);
  if (opts.nodeId) {
    const node = wf.definition.nodes.find((n) => n.id === opts.nodeId);
    if (!node) throw new NotFoundError(`Node ${opts.nodeId} in workflow ${workflowId}`);
    if (!isRollable(node))
      throw new TrellisError('unprocessable', `Node ${node.id} (${node.type}) cannot run in agent mode`);
    nodes = [node];
  }
  const versions = await versionKeys(prisma, workflowId);
  const steps: StepRollout[] = [];
  for (const n of nodes) steps.push(await stepRollout(prisma, workflowId, n, versions, true));
  return { workflowId, version: wf.version, steps };
}

export interface StageChange {
  /** Stage to move to; absent: keep the stage (a gates or autoAdvance edit). */
  to?: StageState;
  gates?: RolloutGates;
  autoAdvance?: boolean;
  kind: RolloutEventKind;
  reason: string;
  evidence?: unknown;
  actor: string;
  /** Only act if the step is still at this stage (automatic actions decided on a verdict). */
  expectFrom?: StageState;
}

/**
 * The one writer of a step's rollout: version n+1 with the node changed, and its activity row, in
 * one transaction under the workflow's lock. Null when there was nothing to do (the step already
 * moved, or the change changes nothing).
 */
export async function changeRollout(
  prisma: PrismaClient,
  workflowId: string,
  nodeId: string,
  change: StageChange,
): Promise<{ version: number; node: WorkflowNode; from: StageState; to: StageState } | null> {
  let missing: Error | null = null;
  const saved = await wfRepo.deriveWorkflowVersion(
    prisma,
    workflowId,
    ({ definition }) => {
      const index = definition.nodes.findIndex((n) => n.id === nodeId);
      if (index < 0) {
        missing = new NotFoundError(`Node ${nodeId} in workflow ${workflowId}`);
        return null;
      }
      const node = definition.nodes[index];
      if (!isRollable(node)) {
        missing = new TrellisError('unprocessable', `Node ${nodeId} (${node.type}) cannot run in agent mode`);
        return null;
      }
      if (change.to && !stagesFor(runsOnce(node)).includes(change.to.stage)) {
        missing = stageNotSupported(node, change.to);
        return null;
      }
      const from = stageOf(node);
      if (change.expectFrom && stageLabel(change.expectFrom) !== stageLabel(from)) return null;
      let changed = change.to ? withStage(node, change.to, !!getNode(node.type)?.asTool) : node;
      if (change.kind === 'rollback' && changed.agent)
        changed = {
          ...changed,
          agent: { ...changed.agent, rolledBack: rolledBackMark(from, change.reason) },
        };
      if (change.gates !== undefined || change.autoAdvance !== undefined) {
        const agent = { ...(changed.agent ?? { instructions: '', tools: [] }) } as NonNullable<
          WorkflowNode['agent']
        >;
        if (change.gates !== undefined) agent.gates = change.gates;
        if (change.autoAdvance !== undefined) agent.autoAdvance = change.autoAdvance;
        changed = { ...changed, agent };
      }
      if (JSON.stringify(changed) === JSON.stringify(node)) return null;
      const to = stageOf(changed);
      const nodes = definition.nodes.slice();
      nodes[index] = changed;
      const what =
        change.kind === 'gates' ? `gates of ${nodeId}` : `${nodeId}: ${stageLabel(from)} → ${stageLabel(to)}`;
      return {
        definition: { ...definition, nodes },
        note: `${NOTE_PREFIX[change.kind]} ${what}. ${change.reason}`,
        result: { node: changed, from, to },
      };
    },
    (tx, { version, result }) =>
      insertRolloutEvents(tx, [
        {
          workflowId,
          nodeId,
          kind: change.kind,
          fromStage: stageLabel(result.from),
          toStage: stageLabel(result.to),
          version,
          reason: change.reason,
          evidence: change.evidence,
          actor: change.actor,
        },
      ]),
  );
  if (saved === 'not_found') throw new NotFoundError(`Workflow ${workflowId}`);
  if (missing) throw missing;
  return saved && { version: saved.version, ...saved.result };
}

/** 422 stage_not_supported: the type runs its agent only in place of the deterministic step. */
export function stageNotSupported(node: Pick<WorkflowNode, 'id' | 'type'>, to: StageState): TrellisError {
  const allowed = stagesFor(runsOnce(node));
  return new TrellisError(
    'stage_not_supported',
    `Node ${node.id} (${node.type}) cannot be in ${to.stage}: what it does cannot happen twice in one run, so its agent never runs beside the deterministic step; its stages are ${allowed.join(', ')}`,
    { details: { pointer: '/stage', stage: to.stage, allowed } },
  );
}

/** What the canvas shows on a step an automatic action moved back (agent.rolledBack). */
function rolledBackMark(from: StageState, reason: string) {
  return { from: stageLabel(from), reason: reason.slice(0, 2_000), at: new Date().toISOString() };
}

const NOTE_PREFIX: Record<RolloutEventKind, string> = {
  stage: 'Stage change',
  gates: 'Gate change',
  rollback: 'Automatic rollback',
  advance: 'Automatic advance',
  kill_switch: 'Kill switch',
  graduation: 'Graduation',
};

/** Every agent step of the workflow back to `workflow`, in one version. Null: none was serving. */
export async function killSwitch(
  prisma: PrismaClient,
  workflowId: string,
  actor: string,
  reason: string,
): Promise<{ version: number; demoted: { nodeId: string; from: string }[] } | null> {
  const saved = await wfRepo.deriveWorkflowVersion(
    prisma,
    workflowId,
    ({ definition }) => {
      const demoted: { nodeId: string; from: string }[] = [];
      const nodes = definition.nodes.map((n) => {
        const s = stageOf(n);
        if (s.stage === 'workflow' || !isRollable(n)) return n;
        demoted.push({ nodeId: n.id, from: stageLabel(s) });
        const off = withStage(n, { stage: 'workflow' });
        return off.agent ? { ...off, agent: { ...off.agent, rolledBack: rolledBackMark(s, reason) } } : off;
      });
      if (!demoted.length) return null;
      return {
        definition: { ...definition, nodes },
        note: `Kill switch: ${demoted.map((d) => `${d.nodeId} (${d.from})`).join(', ')} → workflow. ${reason}`,
        result: demoted,
      };
    },
    (tx, { version, result }) =>
      insertRolloutEvents(tx, [
        {
          workflowId,
          nodeId: null,
          kind: 'kill_switch',
          fromStage: null,
          toStage: 'workflow',
          version,
          reason,
          evidence: { demoted: result },
          actor,
        },
      ]),
  );
  if (saved === 'not_found') throw new NotFoundError(`Workflow ${workflowId}`);
  return saved && { version: saved.version, demoted: saved.result };
}

/**
 * Read the gates of every watched step of a workflow and act: roll back at once on a failing gate,
 * advance when allowed. Returns what it did (tests and logs read it).
 */
/** The steps whose gates a finished run may move (a canary, an agent stage, a shadow that auto-advances). */
export function watchedNodes(definition: WorkflowDefinition): WorkflowNode[] {
  return definition.nodes.filter((n) => {
    if (!isRollable(n)) return false;
    const { stage } = stageOf(n);
    return stage === 'canary' || stage === 'agent' || (stage === 'shadow' && !!n.agent?.autoAdvance);
  });
}

export async function evaluateRollout(
  prisma: PrismaClient,
  workflowId: string,
): Promise<{ nodeId: string; decision: RolloutDecision; version: number | null }[]> {
  const wf = await wfRepo.getWorkflow(prisma, workflowId);
  if (!wf) return [];
  const watched = watchedNodes(wf.definition);
  if (!watched.length) return [];
  const versions = await versionKeys(prisma, workflowId);
  const acted: { nodeId: string; decision: RolloutDecision; version: number | null }[] = [];
  for (const node of watched) {
    const state = await stepRollout(prisma, workflowId, node, versions, false);
    const d = state.decision;
    if (d.action === 'none') continue;
    const saved = await changeRollout(prisma, workflowId, node.id, {
      to: d.to,
      kind: d.action,
      reason: d.reason,
      evidence: { verdict: state.verdict, served: state.served, revision: state.revision },
      actor: 'system',
      expectFrom: d.from,
    });
    acted.push({ nodeId: node.id, decision: d, version: saved?.version ?? null });
  }
  return acted;
}
