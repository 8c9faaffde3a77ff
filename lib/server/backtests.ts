import { z } from 'zod';
import { PrismaBacktestStore } from '@/lib/db/backtest-store';
import * as wfRepo from '@/lib/db/repositories/workflows';
import { getNode } from '@/lib/nodes/registry';
import { buildReport, compareBacktests, type BacktestReport } from '@/lib/promotion/report';
import {
  backtestRequestSchema,
  DEFAULT_CASES_PAGE,
  FINAL_BACKTEST_STATUSES,
  MAX_CASES_PAGE,
  type BacktestRequest,
  type BacktestRequestInput,
} from '@/lib/promotion/spec';
import type { BacktestRecord, BacktestStore } from '@/lib/promotion/store';
import { NotFoundError, TrellisError, ValidationError } from '@/lib/workflow/errors';
import { json, parseWith, readJson, type RouteContext } from './route';
import { getRuntime, type Runtime } from './runtime';

// Backtests over HTTP (issue 16 §7): start one, read it with its report, page its cases, cancel
// it, compare two. The replay itself is lib/promotion/job.ts; this file builds its host services
// (model, prices, sandbox, store) and decides who executes it (this process, or a worker).

/** Backtests listed per workflow at most. */
export const MAX_BACKTEST_LIST = 100;

type Params = { id: string };
type BacktestParams = { id: string; bid: string };

export function backtestView(b: BacktestRecord) {
  return {
    id: b.id,
    workflowId: b.workflowId,
    nodeId: b.nodeId,
    version: b.version,
    status: b.status,
    request: b.request,
    progress: { total: b.total, done: b.done },
    agreed: b.agreed,
    tokens: b.tokens,
    costUsd: b.cost,
    cancelRequested: b.cancelRequested,
    error: b.error,
    createdAt: b.createdAt.toISOString(),
    startedAt: b.startedAt?.toISOString() ?? null,
    finishedAt: b.finishedAt?.toISOString() ?? null,
  };
}

/** Validate a request against the workflow (node exists, agent-capable, version saved) and store it queued. */
export async function createBacktest(
  db: Pick<Runtime['db'], 'prisma'>,
  store: BacktestStore,
  workflowId: string,
  input: BacktestRequestInput | unknown,
): Promise<BacktestRecord> {
  const request: BacktestRequest = parseWith(backtestRequestSchema, input);
  const wf = await wfRepo.getWorkflow(db.prisma, workflowId);
  if (!wf) throw new NotFoundError(`Workflow ${workflowId}`);
  const version = request.version ?? wf.version;
  const def =
    version === wf.version
      ? wf.definition
      : (await wfRepo.getVersion(db.prisma, workflowId, version))?.definition;
  if (!def)
    throw new ValidationError([
      { path: '/version', code: 'not_found', message: `Workflow ${workflowId} has no version ${version}` },
    ]);
  const node = def.nodes.find((n) => n.id === request.nodeId);
  if (!node)
    throw new ValidationError([
      { path: '/nodeId', code: 'not_found', message: `No node ${request.nodeId} in version ${version}` },
    ]);
  if (!getNode(node.type)?.agentCapable)
    throw new ValidationError([
      {
        path: '/nodeId',
        code: 'not_agent_capable',
        message: `Node ${node.id} (${node.type}) cannot run in agent mode`,
      },
    ]);
  return store.create({ workflowId, nodeId: node.id, version, request });
}

async function ownBacktest(store: BacktestStore, workflowId: string, bid: string): Promise<BacktestRecord> {
  const b = await store.get(bid);
  if (!b || b.workflowId !== workflowId) throw new NotFoundError(`Backtest ${bid}`);
  return b;
}

export async function backtestWithReport(
  store: BacktestStore,
  b: BacktestRecord,
): Promise<{ backtest: ReturnType<typeof backtestView>; report: BacktestReport }> {
  return { backtest: backtestView(b), report: buildReport(await store.reportCases(b.id)) };
}

async function host() {
  const rt = await getRuntime();
  return { rt, store: new PrismaBacktestStore(rt.db) };
}

export async function postBacktest({ req, params }: RouteContext<Params>) {
  const body = await readJson(req);
  const { rt, store } = await host();
  const b = await createBacktest(rt.db, store, params.id, body);
  await rt.backtests.start(b.id);
  return json({ backtest: backtestView(b) }, 202);
}

export const listQuery = z.object({
  nodeId: z.string().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_BACKTEST_LIST).default(20),
});

export async function listBacktests({ req, params }: RouteContext<Params>) {
  const q = parseWith(listQuery, Object.fromEntries(new URL(req.url).searchParams));
  const { rt, store } = await host();
  if (!(await wfRepo.getWorkflow(rt.db.prisma, params.id))) throw new NotFoundError(`Workflow ${params.id}`);
  const list = await store.list(params.id, { limit: q.limit, ...(q.nodeId ? { nodeId: q.nodeId } : {}) });
  return json({ backtests: list.map(backtestView) });
}

export async function getBacktest({ params }: RouteContext<BacktestParams>) {
  const { store } = await host();
  return json(await backtestWithReport(store, await ownBacktest(store, params.id, params.bid)));
}

export const casesQuery = z.object({
  cursor: z.string().min(1).max(100).optional(),
  limit: z.coerce.number().int().min(1).max(MAX_CASES_PAGE).default(DEFAULT_CASES_PAGE),
  failureType: z.string().min(1).max(2000).optional(),
  agreed: z.enum(['true', 'false']).optional(),
});

export async function getBacktestCases({ req, params }: RouteContext<BacktestParams>) {
  const q = parseWith(casesQuery, Object.fromEntries(new URL(req.url).searchParams));
  const { store } = await host();
  await ownBacktest(store, params.id, params.bid);
  const page = await store.listCases(params.bid, {
    limit: q.limit,
    ...(q.cursor ? { cursor: q.cursor } : {}),
    ...(q.failureType ? { failureType: q.failureType } : {}),
    ...(q.agreed ? { agreed: q.agreed === 'true' } : {}),
  });
  return json(page);
}

export async function cancelBacktest({ params }: RouteContext<BacktestParams>) {
  const { store } = await host();
  const before = await ownBacktest(store, params.id, params.bid);
  if (FINAL_BACKTEST_STATUSES.includes(before.status))
    throw new TrellisError('conflict', `Backtest ${params.bid} already ended (${before.status})`);
  const b = await store.requestCancel(params.bid);
  if (!b) throw new NotFoundError(`Backtest ${params.bid}`);
  return json({ backtest: backtestView(b) });
}

export const compareQuery = z.object({ a: z.string().min(1).max(100), b: z.string().min(1).max(100) });

export async function compareBacktestsRoute({ req, params }: RouteContext<Params>) {
  const q = parseWith(compareQuery, Object.fromEntries(new URL(req.url).searchParams));
  const { store } = await host();
  const [a, b] = await Promise.all([ownBacktest(store, params.id, q.a), ownBacktest(store, params.id, q.b)]);
  const [ca, cb] = await Promise.all([store.reportCases(a.id), store.reportCases(b.id)]);
  const ra = buildReport(ca);
  const rb = buildReport(cb);
  return json({
    a: { backtest: backtestView(a), report: ra },
    b: { backtest: backtestView(b), report: rb },
    comparison: compareBacktests({ report: ra, cases: ca }, { report: rb, cases: cb }),
  });
}
