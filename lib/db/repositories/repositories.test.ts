import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { openDb, type Db } from '../client';
import { SqlTraceStore } from '../sql-trace-store';
import { PrismaWorkflowSource } from '../prisma-workflow-source';
import { tempDataDir } from '../testing/databases';
import {
  DEFAULT_RUN_PAGE_SIZE,
  MAX_RUN_PAGE_SIZE,
  decodeRunCursor,
  getRunWithSteps,
  getStep,
  listRuns,
  listSteps,
  MAX_STEP_PAGE_SIZE,
} from './runs';
import {
  createWorkflow,
  deleteWorkflow,
  getVersion,
  getWorkflow,
  listVersions,
  listWorkflows,
  saveWorkflowVersion,
} from './workflows';

const def = (name: string): WorkflowDefinition => ({
  schemaVersion: 1,
  name,
  nodes: [{ id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} }],
  edges: [],
});

let db: Db;
let store: SqlTraceStore;
const tmp = tempDataDir();
beforeAll(async () => {
  db = await openDb({ dataDir: tmp.dir });
  store = new SqlTraceStore(db);
});
afterAll(async () => {
  await store?.close();
  await db?.close();
  tmp.remove();
});

async function startRun(workflowId: string, version: number) {
  const v = await getVersion(db.prisma, workflowId, version);
  return store.createRun({
    workflowId,
    workflowVersionId: v!.id,
    version,
    definition: v!.definition,
    input: { n: 1 },
    trigger: 'manual',
  });
}

describe('workflows repository', () => {
  it('creates version 1, saves immutable versions and reads any of them', async () => {
    const { id, version } = await createWorkflow(db.prisma, { name: 'Triage', definition: def('v1') });
    expect(version).toBe(1);
    expect(await saveWorkflowVersion(db.prisma, id, { definition: def('v2'), name: 'Triage 2' })).toEqual({
      id,
      version: 2,
    });
    const latest = await getWorkflow(db.prisma, id);
    expect(latest).toMatchObject({ id, name: 'Triage 2', version: 2, definition: def('v2') });
    expect((await listVersions(db.prisma, id)).map((v) => v.version)).toEqual([2, 1]);
    expect((await getVersion(db.prisma, id, 1))?.definition).toEqual(def('v1'));
    expect(await getVersion(db.prisma, id, 3)).toBeNull();
    expect(
      await saveWorkflowVersion(db.prisma, '00000000-0000-0000-0000-000000000000', { definition: def('x') }),
    ).toBeNull();
  });

  it('serves the latest version of a live workflow to the engine (WorkflowSource)', async () => {
    const source = new PrismaWorkflowSource(db.prisma);
    const { id } = await createWorkflow(db.prisma, { name: 'Child', definition: def('v1') });
    await saveWorkflowVersion(db.prisma, id, { definition: def('v2') });
    const v2 = await getVersion(db.prisma, id, 2);
    expect(await source.getLatest(id)).toEqual({
      definition: def('v2'),
      workflowId: id,
      versionId: v2!.id,
      version: 2,
      enabled: true,
    });
    await deleteWorkflow(db.prisma, id);
    expect(await source.getLatest(id)).toBeNull();
  });

  it('gives concurrent saves distinct version numbers', async () => {
    const { id } = await createWorkflow(db.prisma, { name: 'Busy', definition: def('v1') });
    const saved = await Promise.all(
      [2, 3, 4, 5].map((i) => saveWorkflowVersion(db.prisma, id, { definition: def(`v${i}`) })),
    );
    expect(saved.map((s) => s!.version).sort()).toEqual([2, 3, 4, 5]);
    expect((await getWorkflow(db.prisma, id))?.version).toBe(5);
  });

  it('lists workflows with their latest version and last run status', async () => {
    const { id } = await createWorkflow(db.prisma, { name: 'Listed', definition: def('v1') });
    const run = await startRun(id, 1);
    await store.transitionRun(run.id, ['queued'], 'failed');
    const item = (await listWorkflows(db.prisma)).find((w) => w.id === id);
    expect(item).toMatchObject({
      name: 'Listed',
      latestVersion: 1,
      description: null,
      lastRun: { id: run.id, status: 'failed' },
    });
  });

  it("lists the latest version's description, not an older one", async () => {
    const { id } = await createWorkflow(db.prisma, {
      name: 'Described',
      definition: { ...def('v1'), description: 'first words' },
    });
    await saveWorkflowVersion(db.prisma, id, { definition: { ...def('v2'), description: 'latest words' } });
    expect((await listWorkflows(db.prisma)).find((w) => w.id === id)?.description).toBe('latest words');
  });

  it('soft delete hides the workflow and keeps its runs; hard delete cascades', async () => {
    const soft = await createWorkflow(db.prisma, { name: 'Soft', definition: def('v1') });
    const softRun = await startRun(soft.id, 1);
    expect(await deleteWorkflow(db.prisma, soft.id)).toBe(true);
    expect(await getWorkflow(db.prisma, soft.id)).toBeNull();
    expect((await listWorkflows(db.prisma)).some((w) => w.id === soft.id)).toBe(false);
    expect(await getRunWithSteps(db.prisma, softRun.id)).not.toBeNull();
    expect(await deleteWorkflow(db.prisma, soft.id)).toBe(false);

    const hard = await createWorkflow(db.prisma, { name: 'Hard', definition: def('v1') });
    const hardRun = await startRun(hard.id, 1);
    const stepId = await store.startStep({
      runId: hardRun.id,
      nodeId: 'start',
      nodeType: 'trigger.manual',
      attempt: 1,
      mode: 'workflow',
      input: {},
      startedAt: new Date(),
    });
    await store.appendAgentTurns(stepId, [{ seq: 0, kind: 'note', payload: 'x' }]);
    await store.flush();
    expect(await deleteWorkflow(db.prisma, hard.id, { hard: true })).toBe(true);
    expect(await getRunWithSteps(db.prisma, hardRun.id)).toBeNull();
    expect(await db.prisma.step.count({ where: { id: stepId } })).toBe(0);
    expect(await db.prisma.agentTurn.count({ where: { stepId } })).toBe(0);
  });
});

describe('runs repository', () => {
  it('pages newest first over (createdAt, id) without gaps or repeats, with filters', async () => {
    const { id } = await createWorkflow(db.prisma, { name: 'Paged', definition: def('v1') });
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await startRun(id, 1);
      if (i % 2) await store.transitionRun(r.id, ['queued'], 'cancelled');
      created.push(r.id);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listRuns(db.prisma, { workflowId: id, cursor, limit: 3 });
      seen.push(...page.items.map((r) => r.id));
      cursor = page.nextCursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(7);
    const all = await db.prisma.run.findMany({
      where: { workflowId: id },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
    });
    expect(seen).toEqual(all.map((r) => r.id));
    const cancelled = await listRuns(db.prisma, { workflowId: id, status: 'cancelled' });
    expect(cancelled.items).toHaveLength(3);
    expect(cancelled.items[0]).toMatchObject({ status: 'cancelled', workflow: { name: 'Paged' } });
    expect(cancelled.items[0]).not.toHaveProperty('input');
  });

  it('filters by text in the input or output and by time range, paging the matches', async () => {
    const { id } = await createWorkflow(db.prisma, { name: 'Search', definition: def('v1') });
    const v = await getVersion(db.prisma, id, 1);
    const made: string[] = [];
    for (const customer of ['Ada', 'Linus', 'ada lovelace', 'Grace', '100%_ada']) {
      const r = await store.createRun({
        workflowId: id,
        workflowVersionId: v!.id,
        version: 1,
        definition: v!.definition,
        input: { customer },
        trigger: 'manual',
      });
      made.push(r.id);
    }
    await store.transitionRun(made[3], ['queued'], 'succeeded', { output: { note: 'ADA was here' } });
    const first = await listRuns(db.prisma, { workflowId: id, q: 'ada', limit: 2 });
    expect(first.items).toHaveLength(2);
    const second = await listRuns(db.prisma, {
      workflowId: id,
      q: 'ada',
      limit: 2,
      cursor: first.nextCursor!,
    });
    const ids = [...first.items, ...second.items].map((r) => r.id);
    expect(new Set(ids)).toEqual(new Set([made[0], made[2], made[3], made[4]]));
    expect(second.nextCursor).toBeNull();
    // LIKE wildcards in the query are literal text.
    expect((await listRuns(db.prisma, { workflowId: id, q: '%_a' })).items.map((r) => r.id)).toEqual([
      made[4],
    ]);
    expect((await listRuns(db.prisma, { workflowId: id, q: 'nobody' })).items).toEqual([]);
    const future = new Date(Date.now() + 60_000);
    expect((await listRuns(db.prisma, { workflowId: id, from: future })).items).toEqual([]);
    expect((await listRuns(db.prisma, { workflowId: id, to: future })).items).toHaveLength(5);
  });

  it('clamps the page size and rejects a malformed cursor', async () => {
    expect(DEFAULT_RUN_PAGE_SIZE).toBe(50);
    expect(MAX_RUN_PAGE_SIZE).toBe(200);
    const { id } = await createWorkflow(db.prisma, { name: 'Clamp', definition: def('v1') });
    await startRun(id, 1);
    await startRun(id, 1);
    expect((await listRuns(db.prisma, { workflowId: id, limit: 0 })).items).toHaveLength(1);
    expect((await listRuns(db.prisma, { workflowId: id, limit: 10_000 })).items).toHaveLength(2);
    expect(() => decodeRunCursor('not-a-cursor')).toThrow(/Invalid cursor/);
    await expect(listRuns(db.prisma, { cursor: 'garbage' })).rejects.toThrow(/Invalid cursor/);
  });

  it("pages a run's steps in start order, the first page with the run", async () => {
    const { id } = await createWorkflow(db.prisma, { name: 'Step pages', definition: def('v1') });
    const run = await startRun(id, 1);
    const t0 = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      // Two steps share a start instant: the id breaks the tie, so no page repeats or skips one.
      const startedAt = new Date(t0 + Math.floor(i / 2) * 10);
      ids.push(
        await store.startStep({
          runId: run.id,
          nodeId: `n${i}`,
          nodeType: 'transform',
          attempt: 1,
          mode: 'workflow',
          input: i,
          startedAt,
        }),
      );
    }
    await store.flush();
    const expected = (
      await db.prisma.step.findMany({
        where: { runId: run.id },
        orderBy: [{ startedAt: 'asc' }, { id: 'asc' }],
      })
    ).map((s) => s.id);
    expect(new Set(expected)).toEqual(new Set(ids));

    const first = await getRunWithSteps(db.prisma, run.id, { stepLimit: 2 });
    expect(first!.steps.map((s) => s.id)).toEqual(expected.slice(0, 2));
    expect(first!.stepsCursor).toBeTruthy();
    const seen = first!.steps.map((s) => s.id);
    let cursor = first!.stepsCursor;
    while (cursor) {
      const page = await listSteps(db.prisma, run.id, { cursor, limit: 2 });
      seen.push(...page.steps.map((s) => s.id));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual(expected);
    expect((await getRunWithSteps(db.prisma, run.id))!.steps).toHaveLength(5);
    expect((await getRunWithSteps(db.prisma, run.id, { stepLimit: 10 }))!.stepsCursor).toBeNull();
    expect(MAX_STEP_PAGE_SIZE).toBe(5_000);
    expect((await listSteps(db.prisma, run.id, { limit: 1e9 })).steps).toHaveLength(5);
  });

  it('returns a run with payload-free steps, and one step with payloads and agent turns', async () => {
    const { id } = await createWorkflow(db.prisma, { name: 'Detail', definition: def('v1') });
    const run = await startRun(id, 1);
    const stepId = await store.startStep({
      runId: run.id,
      nodeId: 'classify',
      nodeType: 'llm',
      attempt: 1,
      mode: 'agent',
      input: { text: 'hi' },
      startedAt: new Date(),
    });
    await store.appendAgentTurns(stepId, [
      { seq: 1, kind: 'response', payload: { content: 'bug' } },
      { seq: 0, kind: 'request', payload: { messages: [] } },
    ]);
    await store.finishStep(stepId, {
      status: 'succeeded',
      output: { label: 'bug' },
      tokens: 9,
      cost: 0.02,
      finishedAt: new Date(),
    });
    await store.transitionRun(run.id, ['queued'], 'succeeded', { output: { label: 'bug' } });

    const detail = await getRunWithSteps(db.prisma, run.id);
    expect(detail).toMatchObject({ status: 'succeeded', output: { label: 'bug' }, stepCount: 1, tokens: 9 });
    expect(detail!.cost).toBeCloseTo(0.02);
    expect(detail!.steps).toHaveLength(1);
    expect(detail!.steps[0]).toMatchObject({ id: stepId, status: 'succeeded', mode: 'agent' });
    expect(detail!.steps[0]).not.toHaveProperty('input');
    expect(detail!.steps[0]).not.toHaveProperty('output');

    const step = await getStep(db.prisma, run.id, stepId);
    expect(step).toMatchObject({ input: { text: 'hi' }, output: { label: 'bug' } });
    expect(step!.agentTurns.map((t) => t.kind)).toEqual(['request', 'response']);
    expect(await getStep(db.prisma, '00000000-0000-0000-0000-000000000000', stepId)).toBeNull();
  });
});
