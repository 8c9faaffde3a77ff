import { TrellisError } from '@/lib/workflow/errors';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import type { BacktestCaseResult, BacktestRequest, BacktestStatus, RunFilter } from '@/lib/promotion/spec';
import { FINAL_BACKTEST_STATUSES } from '@/lib/promotion/spec';
import type { BacktestRecord, BacktestStore, CasePage, HistoryStep } from '@/lib/promotion/store';
import type { ReportCase } from '@/lib/promotion/report';
import { toTraceJson } from '@/lib/payload';
import type { Db } from './client';
import type { Prisma, PrismaClient } from './generated/client';

// BacktestStore on the Trellis database (Postgres or PGlite): Prisma for reads and row updates,
// raw SQL for the case batches the job writes. A batch's totals move in the same statement, so
// progress never counts a case not stored.

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
    deterministicCost: r.deterministicCost,
    turns: r.turns,
    refusedCalls: r.refusedCalls,
    error: (r.error as BacktestCaseResult['error']) ?? null,
  };
}

export class PrismaBacktestStore implements BacktestStore {
  private readonly prisma: PrismaClient;
  private readonly sql: Db['sql'];
  constructor(db: Pick<Db, 'prisma' | 'sql'>) {
    this.prisma = db.prisma;
    this.sql = db.sql;
  }

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
    const rows: string[] = [];
    for (const c of cases) {
      if (c.agreed) agreed++;
      tokens += c.tokens;
      cost += c.cost;
      // Payloads through the one capper (lib/payload), as JSON text spliced into the row.
      const payloads = {
        input: c.input,
        expected: c.expected,
        actual: c.actual,
        error: c.error ?? undefined,
      };
      let row = JSON.stringify({
        seq: c.seq,
        runId: c.runId,
        stepId: c.stepId,
        runVersion: c.runVersion,
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
        deterministicCost: c.deterministicCost,
        turns: c.turns,
        refusedCalls: c.refusedCalls,
      });
      for (const [k, v] of Object.entries(payloads))
        row = `${row.slice(0, -1)},${JSON.stringify(k)}:${toTraceJson(v) ?? 'null'}}`;
      rows.push(row);
    }
    // One statement: the cases and the totals they add commit together (set-based over one
    // jsonb parameter; Prisma's createMany cost ~2 ms per case on PGlite, this ~0.1 ms).
    await this.sql.query(
      `WITH inserted AS (
         INSERT INTO "BacktestCase" (id, "backtestId", seq, "runId", "stepId", "runVersion", input, expected, actual,
           outcome, score, agreed, "fallbackReason", "diffPaths", "failureType", tokens, cost, "latencyMs", "modelMs",
           "deterministicMs", "deterministicCost", turns, "refusedCalls", error)
         SELECT gen_random_uuid()::text, $1, seq, "runId", "stepId", "runVersion", input, expected, actual,
           outcome, score, agreed, "fallbackReason", "diffPaths", "failureType", tokens, cost, "latencyMs", "modelMs",
           "deterministicMs", "deterministicCost", turns, "refusedCalls", error
         FROM jsonb_to_recordset($2::jsonb) AS x(seq int, "runId" text, "stepId" text, "runVersion" int,
           input jsonb, expected jsonb, actual jsonb, outcome text, score float8, agreed boolean,
           "fallbackReason" text, "diffPaths" jsonb, "failureType" text, tokens int, cost float8,
           "latencyMs" int, "modelMs" int, "deterministicMs" float8, "deterministicCost" float8, turns int, "refusedCalls" int, error jsonb)
         RETURNING 1)
       UPDATE "Backtest" SET done = done + (SELECT count(*) FROM inserted), agreed = agreed + $3,
         tokens = tokens + $4, cost = cost + $5
       WHERE id = $1`,
      [id, `[${rows.join(',')}]`, agreed, tokens, cost],
    );
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
        deterministicCost: true,
        refusedCalls: true,
      },
    });
    return rows.map((r) => ({
      ...r,
      outcome: r.outcome as ReportCase['outcome'],
      diffPaths: (r.diffPaths as string[]) ?? [],
    }));
  }

  async history(
    workflowId: string,
    nodeId: string,
    filter: RunFilter,
    modes: readonly string[] = LABELLED_MODES,
  ): Promise<HistoryStep[]> {
    const rows = await this.prisma.step.findMany({
      where: {
        nodeId,
        parentNodeId: null,
        status: 'succeeded',
        mode: { in: [...modes] },
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
        mode: true,
        cost: true,
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
      cost: r.mode === 'workflow' ? r.cost : null,
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
