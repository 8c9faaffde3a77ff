import { TrellisError } from '@/lib/workflow/errors';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import type { BacktestCaseResult, BacktestRequest, BacktestStatus, RunFilter } from '@/lib/promotion/spec';
import { FINAL_BACKTEST_STATUSES } from '@/lib/promotion/spec';
import type { BacktestRecord, BacktestStore, CasePage, HistoryStep } from '@/lib/promotion/store';
import type { ReportCase } from '@/lib/promotion/report';
import type { Prisma, PrismaClient } from './generated/client';

// BacktestStore on Prisma (Postgres or PGlite). Cases are written in batches by the job; the
// backtest's totals move in the same transaction, so progress never counts a case not stored.

/** Modes whose recorded output is the deterministic step's: the free label. */
const LABELLED_MODES = ['workflow', 'shadow', 'fallback'];

type Row = Prisma.BacktestGetPayload<object>;

function toRecord(r: Row): BacktestRecord {
  return {
    ...r,
    status: r.status as BacktestStatus,
    request: r.request as unknown as BacktestRequest,
    error: (r.error as BacktestRecord['error']) ?? null,
  };
}

const json = (v: unknown): Prisma.InputJsonValue => (v ?? null) as Prisma.InputJsonValue;

function encodeCursor(seq: number): string {
  return Buffer.from(`seq:${seq}`).toString('base64url');
}
function decodeCursor(cursor: string): number {
  const m = /^seq:(\d{1,9})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!m)
    throw new TrellisError('validation_error', 'Invalid cursor', {
      details: { problems: [{ path: '/cursor', code: 'invalid_cursor', message: 'Invalid cursor' }] },
    });
  return Number(m[1]);
}

type CaseRow = Prisma.BacktestCaseGetPayload<object>;
function toCase(r: CaseRow): BacktestCaseResult {
  return {
    seq: r.seq,
    runId: r.runId,
    stepId: r.stepId,
    runVersion: r.runVersion,
    input: r.input,
    expected: r.expected,
    actual: r.actual,
    outcome: r.outcome as BacktestCaseResult['outcome'],
    score: r.score,
    agreed: r.agreed,
    fallbackReason: r.fallbackReason,
    diffPaths: (r.diffPaths as string[]) ?? [],
    failureType: r.failureType,
    tokens: r.tokens,
    cost: r.cost,
    latencyMs: r.latencyMs,
    modelMs: r.modelMs,
    deterministicMs: r.deterministicMs,
    turns: r.turns,
    refusedCalls: r.refusedCalls,
    error: (r.error as BacktestCaseResult['error']) ?? null,
  };
}

export class PrismaBacktestStore implements BacktestStore {
  constructor(private readonly prisma: PrismaClient) {}

  async create(b: { workflowId: string; nodeId: string; version: number; request: BacktestRequest }) {
    const row = await this.prisma.backtest.create({
      data: { ...b, status: 'queued', request: json(b.request) },
    });
    return toRecord(row);
  }

  async get(id: string) {
    const row = await this.prisma.backtest.findUnique({ where: { id } });
    return row ? toRecord(row) : null;
  }

  async list(workflowId: string, opts: { nodeId?: string; limit: number }) {
    const rows = await this.prisma.backtest.findMany({
      where: { workflowId, ...(opts.nodeId ? { nodeId: opts.nodeId } : {}) },
      orderBy: [{ createdAt: 'desc' }, { id: 'desc' }],
      take: opts.limit,
    });
    return rows.map(toRecord);
  }

  async claim(id: string, total: number) {
    const r = await this.prisma.backtest.updateMany({
      where: { id, status: 'queued', cancelRequested: false },
      data: { status: 'running', total, startedAt: new Date() },
    });
    return r.count === 1;
  }

  async appendCases(id: string, cases: BacktestCaseResult[]) {
    if (!cases.length) return;
    let agreed = 0;
    let tokens = 0;
    let cost = 0;
    for (const c of cases) {
      if (c.agreed) agreed++;
      tokens += c.tokens;
      cost += c.cost;
    }
    await this.prisma.$transaction([
      this.prisma.backtestCase.createMany({
        data: cases.map((c) => ({
          backtestId: id,
          seq: c.seq,
          runId: c.runId,
          stepId: c.stepId,
          runVersion: c.runVersion,
          input: json(c.input),
          expected: json(c.expected),
          actual: json(c.actual),
          outcome: c.outcome,
          score: c.score,
          agreed: c.agreed,
          fallbackReason: c.fallbackReason,
          diffPaths: c.diffPaths,
          failureType: c.failureType,
          tokens: c.tokens,
          cost: c.cost,
          latencyMs: c.latencyMs,
          modelMs: c.modelMs,
          deterministicMs: c.deterministicMs,
          turns: c.turns,
          refusedCalls: c.refusedCalls,
          ...(c.error ? { error: json(c.error) } : {}),
        })),
      }),
      this.prisma.backtest.update({
        where: { id },
        data: {
          done: { increment: cases.length },
          agreed: { increment: agreed },
          tokens: { increment: tokens },
          cost: { increment: cost },
        },
      }),
    ]);
  }

  async finish(id: string, status: BacktestStatus, error?: { code: string; message: string }) {
    const r = await this.prisma.backtest.updateMany({
      where: { id, status: { notIn: [...FINAL_BACKTEST_STATUSES] } },
      data: { status, finishedAt: new Date(), ...(error ? { error: json(error) } : {}) },
    });
    return r.count === 1;
  }

  async requestCancel(id: string) {
    await this.prisma.backtest.updateMany({
      where: { id, status: { notIn: [...FINAL_BACKTEST_STATUSES] } },
      data: { cancelRequested: true },
    });
    // Nobody runs a queued backtest yet: it ends here.
    await this.prisma.backtest.updateMany({
      where: { id, status: 'queued' },
      data: { status: 'cancelled', finishedAt: new Date() },
    });
    return this.get(id);
  }

  async listCases(
    id: string,
    opts: { cursor?: string; limit: number; failureType?: string; agreed?: boolean },
  ): Promise<CasePage> {
    const after = opts.cursor === undefined ? -1 : decodeCursor(opts.cursor);
    const rows = await this.prisma.backtestCase.findMany({
      where: {
        backtestId: id,
        seq: { gt: after },
        ...(opts.failureType !== undefined ? { failureType: opts.failureType } : {}),
        ...(opts.agreed !== undefined ? { agreed: opts.agreed } : {}),
      },
      orderBy: { seq: 'asc' },
      take: opts.limit + 1,
    });
    const items = rows.slice(0, opts.limit).map(toCase);
    return {
      items,
      nextCursor: rows.length > opts.limit ? encodeCursor(items[items.length - 1].seq) : null,
    };
  }

  async reportCases(id: string): Promise<ReportCase[]> {
    const rows = await this.prisma.backtestCase.findMany({
      where: { backtestId: id },
      orderBy: { seq: 'asc' },
      select: {
        seq: true,
        runId: true,
        stepId: true,
        expected: true,
        actual: true,
        outcome: true,
        score: true,
        agreed: true,
        fallbackReason: true,
        diffPaths: true,
        failureType: true,
        tokens: true,
        cost: true,
        latencyMs: true,
        modelMs: true,
        deterministicMs: true,
        refusedCalls: true,
      },
    });
    return rows.map((r) => ({
      ...r,
      outcome: r.outcome as ReportCase['outcome'],
      diffPaths: (r.diffPaths as string[]) ?? [],
    }));
  }

  async history(workflowId: string, nodeId: string, filter: RunFilter): Promise<HistoryStep[]> {
    const rows = await this.prisma.step.findMany({
      where: {
        nodeId,
        parentNodeId: null,
        status: 'succeeded',
        mode: { in: LABELLED_MODES },
        run: {
          workflowId,
          parentRunId: null,
          ...(filter.versions ? { version: { in: filter.versions } } : {}),
          ...(filter.status ? { status: { in: filter.status } } : {}),
          ...(filter.from || filter.to
            ? {
                createdAt: {
                  ...(filter.from ? { gte: new Date(filter.from) } : {}),
                  ...(filter.to ? { lt: new Date(filter.to) } : {}),
                },
              }
            : {}),
        },
      },
      orderBy: [{ startedAt: 'desc' }, { id: 'desc' }],
      take: filter.limit,
      select: {
        id: true,
        runId: true,
        input: true,
        output: true,
        handle: true,
        durationMs: true,
        run: { select: { version: true } },
        agentTurns: {
          where: { kind: { in: ['tool_call', 'tool_result'] } },
          orderBy: { seq: 'asc' },
          select: { kind: true, payload: true },
        },
      },
    });
    return rows.map((r) => ({
      runId: r.runId,
      stepId: r.id,
      runVersion: r.run.version,
      input: r.input,
      output: r.output,
      handle: r.handle,
      durationMs: r.durationMs,
      turns: r.agentTurns.map((t) => ({
        kind: t.kind as HistoryStep['turns'][number]['kind'],
        payload: t.payload,
      })),
    }));
  }

  async definitions(workflowId: string, versions: number[]) {
    const rows = await this.prisma.workflowVersion.findMany({
      where: { workflowId, version: { in: versions } },
      select: { version: true, definition: true },
    });
    return new Map(rows.map((r) => [r.version, r.definition as unknown as WorkflowDefinition]));
  }
}
