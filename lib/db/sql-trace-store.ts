import { randomUUID } from 'node:crypto';
import { orderedId } from './ordered-id';
import { groupedCalls } from './grouped-calls';
import {
  TERMINAL_RUN_STATUSES,
  type AgentTurn,
  type ArtifactInfo,
  type ArtifactInput,
  type CreateRun,
  type RunRecord,
  type RunStatus,
  type StepRecord,
  type StepResult,
  type StepStart,
  type StepStatus,
  type TraceStore,
} from '@/lib/engine/trace-store';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { NotFoundError, TrellisError, type SerializedError } from '@/lib/workflow/errors';
import { assertArtifactSize } from '@/lib/workflow/trace';
import type { Db } from './client';
import { jsonText, toTraceJson, type Redactor } from '@/lib/payload';
import { pipelined, type SqlQueryable } from './sql-executor';

// TraceStore on the Trellis database. Step writes are the hot path (two per step), so they are
// batched: startStep hands out an id generated here and queues the insert; finishStep queues an
// update, or merges into the insert when that has not been written yet. A flusher writes each batch
// in one transaction as set-based statements over one JSON parameter (json_to_recordset: the text
// is read once into the rows' columns, where jsonb_to_recordset first built a jsonb of the whole
// batch, 5–15% more per row; issue 21), so a batch of any size is a handful of round trips. On
// PGlite the new steps go as COPY text instead (execWithBlob: a third less CPU per row than
// json_to_recordset, measured; issue 21). Run transitions ride in the batch (written after
// its steps, in the same transaction) and reads flush first, so a reader never sees a run finished
// before its steps. A run that starts where it was created (embedded mode) does not write
// `running` on its own: the start is decided in memory and written with the run's first batch,
// so a short run costs its insert and one transaction (issue 21).
// The class name follows the brief; writes use raw SQL through Db.sql, reads too, because the hot
// path should not pay the ORM and both paths must agree on the JSON encoding (lib/payload).

/** A batch is written after this long, or as soon as it holds MAX_BATCH_ROWS rows. */
export const FLUSH_INTERVAL_MS = 5;
export const MAX_BATCH_ROWS = 1_000;
/**
 * Once this many rows wait to be written, startStep waits for the writer. Without it a run whose
 * steps come faster than the database takes them (the writer hands the loop back between PGlite
 * transactions) queued rows without bound: memory grew, and a cancel, whose transition flushes
 * first, waited seconds while more steps started.
 */
export const MAX_QUEUED_ROWS = 2 * MAX_BATCH_ROWS;
/**
 * Embedded (PGlite) only: rows written per transaction. PGlite runs each statement synchronously on
 * the event loop and holds its lock for the whole transaction, so a 1,000-row batch blocked the
 * process (and queued every API query behind it) for tens of ms; a batch is written as
 * transactions of at most this many rows, with a turn of the event loop between them. Postgres
 * does the work in its own process, so there a batch stays one transaction.
 */
export const EMBEDDED_ROWS_PER_TRANSACTION = 200;
/** Tries of one batch on a transient error (connection lost, serialization, timeout) before its runs fail. */
export const MAX_TRACE_WRITE_ATTEMPTS = 4;
/** Wait before the second try of a batch; doubled for each further one. */
export const TRACE_WRITE_RETRY_MS = 25;

// SQLSTATEs worth another try: serialization/deadlock, connection errors, admin shutdown
// (pg_terminate_backend), query_canceled (statement_timeout).
const TRANSIENT_SQLSTATES = new Set([
  '40001',
  '40P01',
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
  '57P01',
  '57P02',
  '57P03',
  '57014',
]);
const TRANSIENT_SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT']);

/** Whether a failed batch may succeed when written again (the transaction rolled back). */
export function isTransientWriteError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SOCKET_CODES.has(code)))
    return true;
  const message = err instanceof Error ? err.message : String(err);
  return /connection (terminated|ended|closed|reset)|terminating connection|Client has encountered a connection error/i.test(
    message,
  );
}

/** The error a run ends with when rows of its trace could not be written. */
export function traceWriteFailed(cause: unknown): TrellisError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new TrellisError('trace_write_failed', `The run's trace could not be written: ${reason}`, { cause });
}

/**
 * What onRunCreated knows of the run: what the insert was given. On a pipelined session the hook's
 * statements are sent behind the insert before its answer (one round trip less per run).
 */
export type NewRun = Pick<RunRecord, 'id' | 'workflowId' | 'parentRunId' | 'trigger' | 'status'>;

export interface SqlTraceStoreOptions {
  /**
   * Applied to every payload (inputs, outputs, errors, agent turns) before it is stored. Hosts whose
   * engine already masks payloads (hostEngineOptions) leave it out: one redaction pass per payload.
   */
  redact?: Redactor;
  /**
   * Seals the exact copies (Run.executableInput, Step.executableOutput), which may hold a secret's
   * value, before they are stored, and opens them when read. Hosts pass lib/secrets' exactSealer;
   * without one (tests of the store itself) the exact copy is stored as plain JSON text.
   */
  sealExact?: { seal(text: string): string; open(text: string): string };
  flushIntervalMs?: number;
  maxBatchRows?: number;
  /** Rows per transaction; default EMBEDDED_ROWS_PER_TRANSACTION on PGlite, a whole batch on Postgres. */
  rowsPerTransaction?: number;
  maxPayloadBytes?: number;
  /**
   * Runs inside the transaction that inserts a run row, so work tied to the run (the queue's job)
   * commits with it or not at all. Without it createRun is a single statement.
   */
  onRunCreated?: (tx: SqlQueryable, run: NewRun) => Promise<void>;
  /**
   * Runs inside the transaction that writes a run's final status (succeeded, failed, cancelled),
   * after it, so work tied to the end of the run (the web process deleting the job it kept for
   * recovery) commits with it or not at all. Called for every run that ends in a batch. What it
   * returns is called once the transaction is over: with true if it committed, false if it rolled
   * back (the hook runs again with the batch's next try).
   */
  onRunEnded?: (tx: SqlQueryable, runId: string) => Promise<void | AfterTransaction>;
  /**
   * queued → running of a run this store created is decided in memory and written with the run's
   * next batch (deferred start). Sound only where this store is the only writer of run statuses
   * (embedded mode, one process owns the database); default: on for PGlite, off for Postgres.
   */
  deferRunStart?: boolean;
  /** Tests: a smaller MAX_KNOWN_RUNS. */
  maxKnownRuns?: number;
}

type Json = string | null; // JSON text prepared by toTraceJson

interface StepInsert {
  id: string;
  runId: string;
  nodeId: string;
  nodeType: string;
  parentNodeId: string | null;
  itemIndex: number | null;
  attempt: number;
  mode: string;
  status: string;
  input: Json;
  startedAt: string;
  startedMs: number;
  finish?: StepFinish;
}

interface StepFinish {
  runId: string;
  status: string;
  mode: string | null;
  handle: string | null;
  output: Json;
  /** JSON text of the exact output, when the trace copy is not it. */
  executableOutput: string | null;
  shadowOutput: Json;
  error: Json;
  fallbackReason: string | null;
  tokens: number;
  cost: number;
  finishedAt: string;
}

interface TurnInsert {
  id: string;
  runId: string;
  stepId: string;
  seq: number;
  kind: string;
  payload: Json;
  tokens: number;
  latencyMs: number;
  cost: number;
}

/** A status change of a run, written after the batch's steps; `applied` is its compare-and-set result. */
interface RunTransition {
  from: RunStatus[];
  to: RunStatus;
  output: Json | undefined;
  error: Json | undefined;
  applied?: boolean;
}

/** What a batch writes to one run row besides its steps. */
interface RunWrite {
  /** A deferred start (queued → running decided in memory), written now: its time. */
  startedAt?: string;
  transition?: RunTransition;
}

interface Batch {
  inserts: Map<string, StepInsert>;
  updates: Map<string, StepFinish>;
  turns: TurnInsert[];
  runs: Map<string, RunWrite>;
}

const emptyBatch = (): Batch => ({ inserts: new Map(), updates: new Map(), turns: [], runs: new Map() });
const rowsOf = (b: Batch) => b.inserts.size + b.updates.size + b.turns.length + b.runs.size;
/** Runs created here whose start may be deferred, at most; the oldest fall back to a written start. */
export const MAX_DEFERRABLE_RUNS = 10_000;
/**
 * Run ids remembered as existing, at most (a long-lived worker sees runs without end); a run that
 * has dropped out is looked up again, one SELECT, when it writes its next step.
 */
export const MAX_KNOWN_RUNS = 10_000;
/** Run rows written by one statement, at most (createRun calls that arrive while one is written). */
export const MAX_RUNS_PER_INSERT = 100;

/** Adds `id` as the newest member of `set`, dropping the oldest past `max`. */
function remember(set: Set<string>, id: string, max: number): void {
  set.delete(id);
  set.add(id);
  if (set.size > max) set.delete(set.values().next().value!);
}

/** One batch per run, so a run whose rows cannot be written does not take the others down. */
function splitByRun(batch: Batch): Map<string, Batch> {
  const out = new Map<string, Batch>();
  const of = (runId: string) => {
    let b = out.get(runId);
    if (!b) out.set(runId, (b = emptyBatch()));
    return b;
  };
  for (const [id, s] of batch.inserts) of(s.runId).inserts.set(id, s);
  for (const [id, f] of batch.updates) of(f.runId).updates.set(id, f);
  for (const t of batch.turns) of(t.runId).turns.push(t);
  for (const [id, r] of batch.runs) of(id).runs.set(id, r);
  return out;
}

/**
 * A batch as parts of at most `max` rows (plus its run rows), in write order: inserts as queued,
 * then updates (of rows written by earlier batches), then agent turns (whose steps are in this
 * batch or earlier), then the run rows, in the last part.
 */
function chunkBatch(batch: Batch, max: number): Batch[] {
  if (rowsOf(batch) <= max) return [batch];
  const parts: Batch[] = [];
  let part = emptyBatch();
  let n = 0;
  const room = () => {
    if (n < max) return;
    parts.push(part);
    part = emptyBatch();
    n = 0;
  };
  for (const [id, s] of batch.inserts) {
    room();
    part.inserts.set(id, s);
    n++;
  }
  for (const [id, f] of batch.updates) {
    room();
    part.updates.set(id, f);
    n++;
  }
  for (const t of batch.turns) {
    room();
    part.turns.push(t);
    n++;
  }
  // Run rows last: a transition lands with (after) the last of its run's steps.
  for (const [id, r] of batch.runs) part.runs.set(id, r);
  parts.push(part);
  return parts;
}

// JSON text of one recordset row, with payload columns spliced in as already-serialized JSON so
// large payloads are stringified once.
function row(scalars: Record<string, unknown>, payloads: Record<string, Json> = {}): string {
  // One slice of the scalars' text, not one per payload (each re-copied the growing row).
  let s = JSON.stringify(scalars).slice(0, -1);
  for (const k in payloads) s += `,"${k}":${payloads[k] ?? 'null'}`;
  return `${s}}`;
}

const STEP_COLUMNS = `id text, "runId" text, "nodeId" text, "nodeType" text, "parentNodeId" text, "itemIndex" int,
  attempt int, mode text, status text, handle text, input jsonb, output jsonb, "executableOutput" text,
  "shadowOutput" jsonb, error jsonb,
  "fallbackReason" text, "startedAt" timestamptz, "finishedAt" timestamptz, "durationMs" float8, tokens int,
  cost float8`;

/** Work of a transaction's hook that may only happen once the transaction is known to have committed. */
export type AfterTransaction = (committed: boolean) => void;

export class SqlTraceStore implements TraceStore {
  private readonly sql: Db['sql'];
  private readonly redact?: Redactor;
  private readonly seal: (text: string) => string;
  private readonly open: (text: string) => string;
  private readonly interval: number;
  private readonly maxRows: number;
  private readonly rowsPerTransaction: number;
  private readonly maxBytes?: number;
  private readonly onRunCreated?: SqlTraceStoreOptions['onRunCreated'];
  private readonly onRunEnded?: SqlTraceStoreOptions['onRunEnded'];
  private pending = emptyBatch();
  private pendingRows = 0;
  /** Rows of the batch being written that are not written yet. */
  private writingRows = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  /** A write that will take everything pending is queued behind the current one. */
  private writeQueued = false;
  /** Runs that lost trace rows: each ends failed with trace_write_failed, the others go on. */
  private failedRuns = new Map<string, TrellisError>();
  /** Figures for tests and notes: batch tries repeated, batches split, runs failed. */
  readonly writeStats = { retries: 0, splits: 0, failedRuns: 0 };
  /** Runs and steps known to exist (or queued), so a bad id fails at the call, not in a batch. */
  private knownRuns = new Set<string>();
  private readonly maxKnownRuns: number;
  private openSteps = new Map<string, { runId: string; startedMs: number }>();
  private readonly deferStart: boolean;
  /** Runs created here and still queued as far as this store knows (deferRunStart). */
  private queuedHere = new Set<string>();
  /** Runs whose deferred start is not written yet: their row still says `queued`. */
  private unwrittenStarts = new Set<string>();
  /** The last `createdAt` given to a run row written without a hook (nextCreatedAt). */
  private lastCreatedMs = 0;
  /** A run row alone, or with the others created while one is being written (one statement). */
  private readonly insertRunRow = groupedCalls<RunInsert, RunRecord>({
    one: (r) => insertRun(this.sql, r.id, r.run, r.traced, r.executable, r.createdAt),
    many: (rs) => insertRuns(this.sql, rs),
    max: MAX_RUNS_PER_INSERT,
  });

  constructor(db: Pick<Db, 'sql'>, opts: SqlTraceStoreOptions = {}) {
    this.sql = db.sql;
    this.redact = opts.redact;
    this.seal = opts.sealExact ? (t) => opts.sealExact!.seal(t) : (t) => t;
    this.open = opts.sealExact ? (t) => opts.sealExact!.open(t) : (t) => t;
    this.interval = opts.flushIntervalMs ?? FLUSH_INTERVAL_MS;
    this.maxRows = opts.maxBatchRows ?? MAX_BATCH_ROWS;
    this.maxKnownRuns = opts.maxKnownRuns ?? MAX_KNOWN_RUNS;
    this.rowsPerTransaction =
      opts.rowsPerTransaction ?? (db.sql.kind === 'embedded' ? EMBEDDED_ROWS_PER_TRANSACTION : Infinity);
    this.maxBytes = opts.maxPayloadBytes;
    this.onRunCreated = opts.onRunCreated;
    this.onRunEnded = opts.onRunEnded;
    this.deferStart = opts.deferRunStart ?? db.sql.kind === 'embedded';
  }

  /**
   * `createdAt` of a run row, from this process's clock, in the order createRun was called: the
   * column keeps milliseconds, and runs written in one statement (or within one millisecond) must
   * still read back in the order they were accepted (recovery starts queued runs in that order), so
   * a run created in the same millisecond as the previous one gets the next millisecond.
   */
  private nextCreatedAt(): string {
    this.lastCreatedMs = Math.max(Date.now(), this.lastCreatedMs + 1);
    return new Date(this.lastCreatedMs).toISOString();
  }

  private json(v: unknown): Json {
    return toTraceJson(v, { redact: this.redact, maxBytes: this.maxBytes });
  }

  async createRun(run: CreateRun): Promise<RunRecord> {
    const id = randomUUID();
    const traced = this.json('traceInput' in run ? run.traceInput : run.input);
    // The exact input is kept apart only when the trace copy is not it (capped or masked).
    const exact = run.input === undefined ? null : JSON.stringify(run.input);
    const executable = exact === traced || exact === null ? null : this.seal(exact);
    const hook = this.onRunCreated;
    const record = hook
      ? await this.sql.transaction(async (tx) => {
          const inserted = pipelined(tx).ask<RunRow>(...insertRunStatement(id, run, traced, executable));
          // Not pipelined: the insert is answered before the hook sends anything, as before.
          if (!tx.pipelined) await inserted;
          else inserted.catch(() => {}); // awaited below
          await hook(tx, {
            id,
            workflowId: run.workflowId,
            parentRunId: run.parentRunId ?? null,
            trigger: run.trigger,
            status: 'queued',
          }).catch(async (err) => {
            await inserted; // the insert's own failure first: the hook's is only its consequence
            throw err;
          });
          return toRunRecord((await inserted)[0]);
        })
      : await this.insertRunRow({ id, run, traced, executable, createdAt: this.nextCreatedAt() });
    remember(this.knownRuns, id, this.maxKnownRuns);
    if (this.deferStart) remember(this.queuedHere, id, MAX_DEFERRABLE_RUNS);
    return record;
  }

  /**
   * Sends what runs send (its row; a batch that inserts a step and counts it; one that inserts
   * a finished step, finishes the first and ends the run) in one transaction that is rolled back, so the database
   * has planned and cached all of it before the first real run (issue 21, no cold start). Writes
   * nothing and touches none of the store's state.
   */
  async warm(): Promise<void> {
    const rolledBack = new Error('warm-up: rolled back');
    const runId = randomUUID();
    const stepId = orderedId();
    const now = new Date().toISOString();
    const start: StepInsert = {
      id: stepId,
      runId,
      nodeId: 'warm',
      nodeType: 'transform',
      parentNodeId: null,
      itemIndex: null,
      attempt: 1,
      mode: 'workflow',
      status: 'running',
      input: '{}',
      startedAt: now,
      startedMs: Date.parse(now),
    };
    const finish: StepFinish = {
      runId,
      status: 'succeeded',
      mode: null,
      handle: 'out',
      output: '{}',
      executableOutput: null,
      shadowOutput: null,
      error: null,
      fallbackReason: null,
      tokens: 0,
      cost: 0,
      finishedAt: now,
    };
    const end: RunTransition = { from: ['running'], to: 'succeeded', output: '{}', error: undefined };
    await this.sql
      .transaction(async (tx) => {
        const definition = { schemaVersion: 1, name: 'warm-up', nodes: [], edges: [] } as WorkflowDefinition;
        const run = {
          workflowId: null,
          workflowVersionId: null,
          version: null,
          definition,
          input: {},
          trigger: 'warm-up',
        };
        await insertRun(tx, runId, run, '{}', null);
        await writeBatch(tx, {
          ...emptyBatch(),
          inserts: new Map([[stepId, start]]),
          runs: new Map([[runId, { startedAt: now }]]),
        });
        // A short run's last batch: a step inserted finished, one finished, and the run's end.
        const last = orderedId();
        await writeBatch(tx, {
          ...emptyBatch(),
          inserts: new Map([[last, { ...start, id: last, finish }]]),
          updates: new Map([[stepId, finish]]),
          runs: new Map([[runId, { transition: end }]]),
        });
        throw rolledBack;
      })
      .catch((err) => {
        if (err !== rolledBack) throw err;
      });
  }

  /** The caller just saw the run's row (a worker's claim): its first step skips the existence check. */
  runExists(runId: string): void {
    remember(this.knownRuns, runId, this.maxKnownRuns);
  }

  /**
   * This process leased the run in the transaction that created it, so while it holds the lease
   * nobody else starts it (a claim never takes a live lease; the fence refuses anyone else's
   * write): its queued → running is decided in memory and written with its first batch, as in
   * embedded mode (deferRunStart). A cancel meanwhile still wins: the batch starts only a run whose
   * row says `queued`.
   */
  adoptRun(runId: string): void {
    this.runExists(runId);
    remember(this.queuedHere, runId, MAX_DEFERRABLE_RUNS);
  }

  async getRun(runId: string): Promise<RunRecord | null> {
    const rows = await this.sql.query<RunRow>(`SELECT ${RUN_FIELDS} FROM "Run" WHERE id = $1`, [runId]);
    return rows[0] ? toRunRecord(rows[0]) : null;
  }

  async setTraceContext(runId: string, traceparent: string): Promise<void> {
    await this.sql.query(`UPDATE "Run" SET "traceContext" = $2 WHERE id = $1`, [runId, traceparent]);
  }

  async runDefinition(runId: string): Promise<WorkflowDefinition> {
    const rows = await this.sql.query<{ definition: WorkflowDefinition | null }>(
      `SELECT COALESCE(v.definition, r.definition) AS definition
         FROM "Run" r LEFT JOIN "WorkflowVersion" v ON v.id = r."workflowVersionId" WHERE r.id = $1`,
      [runId],
    );
    if (!rows[0]?.definition) throw new NotFoundError(`Run ${runId}`);
    return rows[0].definition;
  }

  async runInput(runId: string): Promise<unknown> {
    const rows = await this.sql.query<{ executableInput: string | null; input: unknown }>(
      `SELECT "executableInput", input FROM "Run" WHERE id = $1`,
      [runId],
    );
    if (!rows[0]) throw new NotFoundError(`Run ${runId}`);
    const { executableInput, input } = rows[0];
    return executableInput === null ? input : JSON.parse(this.open(executableInput));
  }

  async transitionRun(
    runId: string,
    from: RunStatus[],
    to: RunStatus,
    patch?: { output?: unknown; error?: SerializedError | null },
  ): Promise<boolean> {
    const allowed = from.filter((s) => !TERMINAL_RUN_STATUSES.includes(s));
    const deferrable = this.queuedHere.delete(runId);
    if (!allowed.length) {
      await this.flush();
      return false;
    }
    if (deferrable && to === 'running' && allowed.includes('queued') && !this.failedRuns.has(runId)) {
      // Nobody else writes this run's status (deferRunStart): the start is ours. It is written
      // with the run's next batch, and every other transition of the run rides behind it.
      const startedAt = new Date().toISOString();
      this.unwrittenStarts.add(runId);
      // No timer of its own: the run's first step follows at once and arms one, so the start
      // rides with it instead of costing a transaction alone (a flush still writes it).
      this.runWrite(runId, (w) => (w.startedAt = startedAt), false);
      return true;
    }
    for (;;) {
      const pending = this.pending.runs.get(runId)?.transition;
      if (!pending) break;
      // Two transitions of one run in one batch (a cancel racing the end): the first lands first.
      await this.flush();
    }
    if (!this.failedRuns.has(runId)) {
      const transition: RunTransition = {
        from: allowed,
        to,
        output: patch && 'output' in patch ? this.json(patch.output) : undefined,
        error: patch && 'error' in patch ? this.json(patch.error ?? undefined) : undefined,
      };
      this.runWrite(runId, (w) => (w.transition = transition));
      await this.flush();
      if (transition.applied !== undefined) return transition.applied;
      // Not written: the batch that carried it lost this run's rows (failedRuns, below).
    }
    return this.failLostRun(runId, allowed, to);
  }

  /** Whatever the engine asks, a run with a hole in its trace ends failed, and says why. */
  private async failLostRun(runId: string, allowed: RunStatus[], to: RunStatus): Promise<boolean> {
    // Rows queued before the loss was known land (or fail) first: the run ends after them.
    await this.flush();
    const lost = this.failedRuns.get(runId);
    if (!lost) return false;
    const statuses = this.unwrittenStarts.has(runId) ? [...allowed, 'queued'] : allowed;
    const rows = await this.sql.query(
      `UPDATE "Run" SET status = 'failed', "finishedAt" = now(),
          "durationMs" = ROUND(EXTRACT(EPOCH FROM now() - COALESCE("startedAt", "createdAt")) * 1000),
          output = NULL, error = $3::jsonb
        WHERE id = $1 AND status = ANY($2::text[]) RETURNING id`,
      [runId, statuses, this.json(lost.toJSON())],
    );
    if (rows.length === 1) {
      this.failedRuns.delete(runId);
      this.unwrittenStarts.delete(runId);
    }
    return rows.length === 1 && to === 'failed';
  }

  private runWrite(runId: string, set: (w: RunWrite) => void, armTimer = true): void {
    const w = this.pending.runs.get(runId);
    if (w) return set(w);
    const created: RunWrite = {};
    set(created);
    this.pending.runs.set(runId, created);
    if (armTimer) this.queued(1);
    else this.pendingRows++;
  }

  async startStep(step: StepStart): Promise<string> {
    while (this.pendingRows + this.writingRows >= MAX_QUEUED_ROWS) {
      this.startWrite();
      await this.writing;
    }
    this.throwIfFailed(step.runId);
    await this.ensureRun(step.runId);
    const id = orderedId();
    const startedMs = step.startedAt.getTime();
    this.openSteps.set(id, { runId: step.runId, startedMs });
    this.pending.inserts.set(id, {
      id,
      runId: step.runId,
      nodeId: step.nodeId,
      nodeType: step.nodeType,
      parentNodeId: step.parentNodeId ?? null,
      itemIndex: step.itemIndex ?? null,
      attempt: step.attempt,
      mode: step.mode,
      status: 'running',
      input: this.json(step.input),
      startedAt: step.startedAt.toISOString(),
      startedMs,
    });
    this.queued(1);
    return id;
  }

  async finishStep(stepId: string, result: StepResult): Promise<void> {
    const queuedInsert = this.pending.inserts.get(stepId);
    const runId = queuedInsert?.runId ?? this.openSteps.get(stepId)?.runId ?? (await this.ensureStep(stepId));
    this.throwIfFailed(runId);
    const output = this.json(result.output);
    const finish: StepFinish = {
      runId,
      status: result.status,
      mode: result.mode ?? null,
      handle: result.handle ?? null,
      output,
      executableOutput: sealed(exactUnlessSame(result.executableOutput, output), this.seal),
      shadowOutput: this.json(result.shadowOutput),
      error: this.json(result.error ?? undefined),
      fallbackReason: result.fallbackReason ?? null,
      tokens: result.tokens ?? 0,
      cost: result.cost ?? 0,
      finishedAt: result.finishedAt.toISOString(),
    };
    // Looked up again: ensureStep may have waited for a write that took the queued insert.
    const stillQueued = this.pending.inserts.get(stepId);
    if (stillQueued) {
      stillQueued.finish = finish;
    } else {
      this.pending.updates.set(stepId, finish);
      this.queued(1);
    }
    this.openSteps.delete(stepId);
  }

  async decideStep(stepId: string, result: StepResult): Promise<boolean> {
    // Whatever this process queued for the step lands first, so the compare sees the real state.
    await this.flush();
    const rows = await this.sql.query(
      `UPDATE "Step" SET status = $2, handle = $3, output = $4::jsonb, "finishedAt" = $5,
          "durationMs" = GREATEST(0, ROUND(EXTRACT(EPOCH FROM $5::timestamptz - "startedAt") * 1000))
        WHERE id = $1 AND status = 'waiting' RETURNING id`,
      [
        stepId,
        result.status,
        result.handle ?? null,
        this.json(result.output),
        result.finishedAt.toISOString(),
      ],
    );
    return rows.length === 1;
  }

  async listSteps(runId: string, filter?: { status?: StepStatus }): Promise<StepRecord[]> {
    await this.flush();
    const rows = await this.sql.query<StepRow>(
      `SELECT ${STEP_FIELDS}, input, output, "executableOutput", "shadowOutput", error FROM "Step"
        WHERE "runId" = $1 AND ($2::text IS NULL OR status = $2) ORDER BY "startedAt", id`,
      [runId, filter?.status ?? null],
    );
    return rows.map((r) =>
      toStepRecord(r.executableOutput ? { ...r, executableOutput: this.open(r.executableOutput) } : r),
    );
  }

  async appendAgentTurns(stepId: string, turns: AgentTurn[]): Promise<void> {
    const runId =
      this.pending.inserts.get(stepId)?.runId ??
      this.openSteps.get(stepId)?.runId ??
      (await this.ensureStep(stepId));
    this.throwIfFailed(runId);
    for (const t of turns) {
      this.pending.turns.push({
        id: randomUUID(),
        runId,
        stepId,
        seq: t.seq,
        kind: t.kind,
        payload: this.json(t.payload) ?? 'null',
        tokens: t.tokens ?? 0,
        latencyMs: t.latencyMs ?? 0,
        cost: t.cost ?? 0,
      });
    }
    this.queued(turns.length);
  }

  async listAgentTurns(stepId: string): Promise<AgentTurn[]> {
    await this.flush();
    return this.sql.query<AgentTurn>(
      `SELECT seq, kind, payload, tokens, "latencyMs", cost FROM "AgentTurn" WHERE "stepId" = $1 ORDER BY seq, "createdAt"`,
      [stepId],
    );
  }

  async saveArtifact(stepId: string, a: ArtifactInput): Promise<string> {
    assertArtifactSize(a.bytes.byteLength);
    // The artifact row references the step: a step insert still queued is written first.
    if (this.pending.inserts.has(stepId)) await this.flush();
    else await this.ensureStep(stepId);
    const id = randomUUID();
    await this.sql.query(
      `INSERT INTO "StepArtifact" (id, "stepId", kind, mime, size, meta, bytes) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)`,
      [
        id,
        stepId,
        a.kind,
        a.mime,
        a.bytes.byteLength,
        a.meta ? this.json(a.meta) : null,
        Buffer.from(a.bytes),
      ],
    );
    return id;
  }

  async listArtifacts(stepId: string): Promise<ArtifactInfo[]> {
    return this.sql.query<ArtifactInfo>(
      `SELECT id, "stepId", kind, mime, size, meta, "createdAt" FROM "StepArtifact" WHERE "stepId" = $1 ORDER BY "createdAt", id`,
      [stepId],
    );
  }

  async getArtifact(id: string): Promise<(ArtifactInfo & { bytes: Uint8Array }) | null> {
    const rows = await this.sql.query<ArtifactInfo & { bytes: Uint8Array }>(
      `SELECT id, "stepId", kind, mime, size, meta, "createdAt", bytes FROM "StepArtifact" WHERE id = $1`,
      [id],
    );
    return rows[0] ? { ...rows[0], bytes: new Uint8Array(rows[0].bytes) } : null;
  }

  /**
   * Resolves when every write queued before the call has been tried. Rows that could not be written
   * fail their own run (see transitionRun), not the caller: flush serves every run of the process.
   */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pendingRows > 0) this.startWrite();
    await this.writing;
  }

  /** Whether rows of this run's trace were lost (the run will end failed with trace_write_failed). */
  traceLost(runId: string): boolean {
    return this.failedRuns.has(runId);
  }

  /** Flushes and stops the timer; the store must not be used afterwards. */
  async close(): Promise<void> {
    await this.flush();
  }

  private queued(rows: number): void {
    this.pendingRows += rows;
    if (this.pendingRows >= this.maxRows) {
      if (this.timer) clearTimeout(this.timer);
      this.timer = null;
      this.startWrite();
    } else if (!this.timer) {
      this.timer = setTimeout(() => {
        this.timer = null;
        if (this.pendingRows > 0) this.startWrite();
      }, this.interval);
      this.timer.unref?.();
    }
  }

  // Batches are written one after another, in order, so an update never overtakes its insert.
  // The batch is taken when its turn comes, not when it is queued: callers that flush while a
  // write is in flight all join the next one (group commit), so 200 concurrent runs cost a few
  // transactions, not 200 in a row.
  private startWrite(): void {
    if (this.writeQueued) return;
    this.writeQueued = true;
    this.writing = this.writing.then(async () => {
      this.writeQueued = false;
      const batch = this.pending;
      this.pending = emptyBatch();
      this.pendingRows = 0;
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
      if (!rowsOf(batch)) return;
      const parts = chunkBatch(batch, this.rowsPerTransaction);
      this.writingRows = rowsOf(batch);
      try {
        for (let i = 0; i < parts.length; i++) {
          if (i > 0) await new Promise((r) => setImmediate(r));
          await this.writeBatch(parts[i], true);
          this.writingRows -= rowsOf(parts[i]);
        }
      } finally {
        this.writingRows = 0;
      }
    });
  }

  // Each run in a batch learns its own fate: a transient error retries the whole batch (it rolled
  // back), a permanent one splits it per run so only the run whose rows fail is marked failed.
  private async writeBatch(batch: Batch, mayRetry: boolean, maySplit = true): Promise<void> {
    // A run that lost rows in an earlier batch ends failed (failLostRun), not as it asked.
    for (const [runId, w] of batch.runs) if (this.failedRuns.has(runId)) delete w.transition;
    for (let attempt = 1; ; attempt++) {
      try {
        // A transaction run again (a reconnecting executor) calls the hooks again: the earlier
        // try's are told it rolled back.
        const after: AfterTransaction[] = [];
        const settle = (committed: boolean) => {
          for (const f of after.splice(0)) f(committed);
        };
        let applied: Map<RunTransition, boolean>;
        // One statement: no status change, so no onRunEnded hook and nothing to settle.
        if (isOneStatement(batch)) applied = await writeBatch(this.sql, batch);
        else
          try {
            applied = await this.sql.transaction((tx) => {
              settle(false);
              return writeBatch(tx, batch, this.onRunEnded, after);
            });
          } catch (err) {
            settle(false);
            throw err;
          }
        settle(true);
        // Known only now that it committed (a retried batch may have run the statements before).
        for (const [t, ok] of applied) t.applied = ok;
        for (const [runId, w] of batch.runs) if (w.startedAt) this.unwrittenStarts.delete(runId);
        return;
      } catch (err) {
        if (mayRetry && attempt < MAX_TRACE_WRITE_ATTEMPTS && isTransientWriteError(err)) {
          this.writeStats.retries++;
          await new Promise((r) => setTimeout(r, TRACE_WRITE_RETRY_MS * 2 ** (attempt - 1)));
          continue;
        }
        const runs = splitByRun(batch);
        if (maySplit && runs.size > 1) {
          this.writeStats.splits++;
          for (const part of runs.values()) await this.writeBatch(part, mayRetry, false);
          return;
        }
        for (const runId of runs.keys()) {
          if (!this.failedRuns.has(runId)) this.writeStats.failedRuns++;
          this.failedRuns.set(runId, traceWriteFailed(err));
        }
        return;
      }
    }
  }

  private throwIfFailed(runId: string): void {
    const lost = this.failedRuns.get(runId);
    if (lost) throw lost;
  }

  private async ensureRun(runId: string): Promise<void> {
    if (this.knownRuns.has(runId)) return;
    const rows = await this.sql.query(`SELECT 1 FROM "Run" WHERE id = $1`, [runId]);
    if (!rows.length) throw new NotFoundError(`Run ${runId}`);
    remember(this.knownRuns, runId, this.maxKnownRuns);
  }

  /** The run of a step that is neither queued nor open here (written earlier, or by another process). */
  private async ensureStep(stepId: string): Promise<string> {
    const queued = this.pending.inserts.get(stepId);
    if (queued) return queued.runId;
    await this.writing;
    const rows = await this.sql.query<{ runId: string }>(`SELECT "runId" FROM "Step" WHERE id = $1`, [
      stepId,
    ]);
    if (!rows.length) throw new NotFoundError(`Step ${stepId}`);
    return rows[0].runId;
  }
}

interface RunInsert {
  id: string;
  run: CreateRun;
  traced: Json;
  executable: string | null;
  createdAt: string;
}

/**
 * Run rows created while one was being written, in one statement (a burst of webhook calls): what
 * insertRun writes, each row with the `createdAt` it was given. Answers in the order given.
 */
async function insertRuns(q: SqlQueryable, runs: RunInsert[]): Promise<RunRecord[]> {
  const rows = runs.map(({ id, run, traced, executable, createdAt }) =>
    row(
      {
        id,
        workflowId: run.workflowId,
        workflowVersionId: run.workflowVersionId,
        version: run.version,
        trigger: run.trigger,
        parentRunId: run.parentRunId ?? null,
        parentStepId: run.parentStepId ?? null,
        triggerNodeId: run.triggerNodeId ?? null,
        traceContext: run.traceContext ?? null,
        executableInput: executable,
        createdAt,
      },
      { definition: run.workflowVersionId ? null : JSON.stringify(run.definition), input: traced },
    ),
  );
  const written = await q.query<RunRow>(
    `INSERT INTO "Run" (id, "workflowId", "workflowVersionId", version, definition, status, input, trigger, "parentRunId", "parentStepId", "triggerNodeId", "traceContext", "executableInput", "createdAt")
       SELECT id, "workflowId", "workflowVersionId", version, definition, 'queued', input, trigger, "parentRunId", "parentStepId", "triggerNodeId", "traceContext", "executableInput", "createdAt"
       FROM json_to_recordset($1::json) AS x(id text, "workflowId" text, "workflowVersionId" text, version int, trigger text,
         "parentRunId" text, "parentStepId" text, "triggerNodeId" text, "traceContext" text, "executableInput" text, "createdAt" timestamptz, definition jsonb, input jsonb)
       RETURNING ${RUN_FIELDS}`,
    [`[${rows.join(',')}]`],
  );
  const byId = new Map(written.map((r) => [r.id, r]));
  return runs.map((r) => toRunRecord(byId.get(r.id)!));
}

/** The run's row, queued, with its trace copy and (sealed) exact input already prepared. */
async function insertRun(
  q: SqlQueryable,
  id: string,
  run: CreateRun,
  traced: Json,
  executable: string | null,
  /** Null: the database's clock. */
  createdAt: string | null = null,
): Promise<RunRecord> {
  const rows = await q.query<RunRow>(...insertRunStatement(id, run, traced, executable, createdAt));
  return toRunRecord(rows[0]);
}

function insertRunStatement(
  id: string,
  run: CreateRun,
  traced: Json,
  executable: string | null,
  createdAt: string | null = null,
): [string, unknown[]] {
  return [
    `INSERT INTO "Run" (id, "workflowId", "workflowVersionId", version, definition, status, input, trigger, "parentRunId", "parentStepId", "triggerNodeId", "traceContext", "executableInput", "createdAt")
       VALUES ($1, $2, $3, $4, $5::jsonb, 'queued', $6::jsonb, $7, $8, $9, $10, $11, $12, COALESCE($13::timestamptz, now())) RETURNING ${RUN_FIELDS}`,
    [
      id,
      run.workflowId,
      run.workflowVersionId,
      run.version,
      // The definition is not redacted or capped: it is the program, and resume depends on it.
      run.workflowVersionId ? null : JSON.stringify(run.definition),
      traced,
      run.trigger,
      run.parentRunId ?? null,
      run.parentStepId ?? null,
      run.triggerNodeId ?? null,
      run.traceContext ?? null,
      executable,
      createdAt,
    ],
  ];
}

/** Writes one batch in the caller's transaction; answers each run transition's compare-and-set. */
async function writeBatch(
  tx: SqlQueryable,
  batch: Batch,
  onRunEnded?: SqlTraceStoreOptions['onRunEnded'],
  after: AfterTransaction[] = [],
): Promise<Map<RunTransition, boolean>> {
  const applied = new Map<RunTransition, boolean>();
  const oneStatement = isOneStatement(batch);
  // On a pipelined session the statements whose answers are not needed go out without a wait:
  // a short run's last batch (steps, its end) is one round trip before COMMIT, not two.
  const q = pipelined(tx);
  let stepRows = '';
  const runTotals = new Map<string, { steps: number; tokens: number; cost: number }>();
  const total = (runId: string) => {
    let t = runTotals.get(runId);
    if (!t) runTotals.set(runId, (t = { steps: 0, tokens: 0, cost: 0 }));
    return t;
  };
  // Embedded: the rows go as COPY text through one script (copyLine); Postgres: one JSON parameter.
  const copy = tx.execWithBlob ? (script: string, data: string) => tx.execWithBlob!(script, data) : null;
  if (batch.inserts.size) {
    const rows: string[] = [];
    for (const s of batch.inserts.values()) {
      const f = s.finish;
      const t = total(s.runId);
      t.steps += 1;
      if (f) {
        t.tokens += f.tokens;
        t.cost += f.cost;
      }
      const scalars = {
        id: s.id,
        runId: s.runId,
        nodeId: s.nodeId,
        nodeType: s.nodeType,
        parentNodeId: s.parentNodeId,
        itemIndex: s.itemIndex,
        attempt: s.attempt,
        mode: f?.mode ?? s.mode,
        status: f?.status ?? s.status,
        handle: f?.handle ?? null,
        executableOutput: f?.executableOutput ?? null,
        fallbackReason: f?.fallbackReason ?? null,
        startedAt: s.startedAt,
        finishedAt: f?.finishedAt ?? null,
        durationMs: f ? Math.max(0, Math.round(Date.parse(f.finishedAt) - s.startedMs)) : null,
        tokens: f?.tokens ?? 0,
        cost: f?.cost ?? 0,
      };
      const payloads = {
        input: s.input,
        output: f?.output ?? null,
        shadowOutput: f?.shadowOutput ?? null,
        error: f?.error ?? null,
      };
      rows.push(copy ? copyLine(scalars, payloads) : row(scalars, payloads));
    }
    stepRows = copy ? rows.join('') : `[${rows.join(',')}]`;
    if (!oneStatement) {
      if (copy) await copy(COPY_STEPS, stepRows);
      else await q.send(INSERT_STEPS, [stepRows]);
    }
  }
  if (batch.updates.size) {
    const rows: string[] = [];
    for (const [id, f] of batch.updates) {
      rows.push(
        row(
          {
            id,
            mode: f.mode,
            status: f.status,
            handle: f.handle,
            executableOutput: f.executableOutput,
            fallbackReason: f.fallbackReason,
            finishedAt: f.finishedAt,
            tokens: f.tokens,
            cost: f.cost,
          },
          { output: f.output, shadowOutput: f.shadowOutput, error: f.error },
        ),
      );
    }
    const updated = await q.ask<{ runId: string; tokens: number; cost: number }>(
      `UPDATE "Step" s SET status = x.status, mode = COALESCE(x.mode, s.mode), handle = x.handle,
          output = x.output, "executableOutput" = x."executableOutput", "shadowOutput" = x."shadowOutput", error = x.error, "fallbackReason" = x."fallbackReason",
          "finishedAt" = x."finishedAt", tokens = x.tokens, cost = x.cost,
          "durationMs" = GREATEST(0, ROUND(EXTRACT(EPOCH FROM x."finishedAt" - s."startedAt") * 1000))
        FROM json_to_recordset($1::json) AS x(${STEP_COLUMNS})
        WHERE s.id = x.id RETURNING s."runId", x.tokens, x.cost`,
      [`[${rows.join(',')}]`],
    );
    for (const u of updated) {
      const t = total(u.runId);
      t.tokens += u.tokens;
      t.cost += u.cost;
    }
  }
  if (batch.turns.length) {
    const rows = batch.turns.map((t) =>
      row(
        {
          id: t.id,
          stepId: t.stepId,
          seq: t.seq,
          kind: t.kind,
          tokens: t.tokens,
          latencyMs: t.latencyMs,
          cost: t.cost,
        },
        { payload: t.payload },
      ),
    );
    await q.send(
      `INSERT INTO "AgentTurn" (id, "stepId", seq, kind, payload, tokens, "latencyMs", cost)
       SELECT id, "stepId", seq, kind, payload, tokens, "latencyMs", cost
       FROM json_to_recordset($1::json) AS x(id text, "stepId" text, seq int, kind text, payload jsonb, tokens int, "latencyMs" int, cost float8)`,
      [`[${rows.join(',')}]`],
    );
  }
  // Counts and deferred starts of runs without a transition, in one statement; a transition
  // carries its run's own (one statement for the run row either way).
  const plain: string[] = [];
  const add = (
    id: string,
    t: { steps: number; tokens: number; cost: number } | undefined,
    startedAt?: string,
  ) =>
    plain.push(
      JSON.stringify({
        id,
        steps: t?.steps ?? 0,
        tokens: t?.tokens ?? 0,
        cost: t?.cost ?? 0,
        startedAt: startedAt ?? null,
      }),
    );
  for (const [id, t] of runTotals)
    if (!batch.runs.get(id)?.transition) add(id, t, batch.runs.get(id)?.startedAt);
  for (const [id, w] of batch.runs)
    if (!w.transition && !runTotals.has(id) && w.startedAt) add(id, undefined, w.startedAt);
  // Every status change of the batch in one statement (each row its own compare-and-set): a
  // burst's batch carries the final status of many runs, and each statement costs the embedded
  // database a parse and a plan (issue 21).
  const transitions: [string, RunWrite, RunTransition][] = [];
  for (const [id, w] of batch.runs) if (w.transition) transitions.push([id, w, w.transition]);
  if (transitions.length) {
    const rows = transitions.map(([id, w, t]) => {
      const totals = runTotals.get(id);
      return row(
        {
          id,
          // A start still unwritten is part of this change: the row may still say `queued`.
          fromStatuses: w.startedAt ? [...t.from, 'queued'] : t.from,
          toStatus: t.to,
          terminal: TERMINAL_RUN_STATUSES.includes(t.to),
          hasOutput: t.output !== undefined,
          hasError: t.error !== undefined,
          startedAt: w.startedAt ?? null,
          steps: totals?.steps ?? 0,
          tokens: totals?.tokens ?? 0,
          cost: totals?.cost ?? 0,
        },
        { output: t.output ?? null, error: t.error ?? null },
      );
    });
    const changed = await q.ask<{ id: string }>(TRANSITION_RUNS, [`[${rows.join(',')}]`]);
    const ok = new Set(changed.map((r) => r.id));
    for (const [id, w, t] of transitions) {
      applied.set(t, ok.has(id));
      if (ok.has(id) && onRunEnded && TERMINAL_RUN_STATUSES.includes(t.to)) {
        const then = await onRunEnded(tx, id);
        if (then) after.push(then);
      }
      // Refused (someone else finished the run first): its counts and start are still written.
      const totals = runTotals.get(id);
      if (!ok.has(id) && (totals || w.startedAt)) add(id, totals, w.startedAt);
    }
  }
  // Every inserted step counts for its run, so a one-statement batch always has run counts to add.
  if (oneStatement && copy)
    await copy(`${COPY_STEPS}; ${addRunCounts(sqlText(`[${plain.join(',')}]`))}`, stepRows);
  else if (oneStatement)
    await q.send(`WITH steps AS (${INSERT_STEPS}) ${addRunCounts('$2')}`, [stepRows, `[${plain.join(',')}]`]);
  else if (plain.length) await q.send(addRunCounts('$1'), [`[${plain.join(',')}]`]);
  await q.done();
  return applied;
}

/** Status changes of runs, from a JSON array in $1; returns the runs whose compare-and-set held. */
const TRANSITION_RUNS = `UPDATE "Run" SET status = x."toStatus",
    "startedAt" = CASE WHEN x."toStatus" = 'running' OR x."startedAt" IS NOT NULL THEN COALESCE("Run"."startedAt", x."startedAt", now()) ELSE "Run"."startedAt" END,
    "finishedAt" = CASE WHEN x.terminal THEN now() ELSE "Run"."finishedAt" END,
    "durationMs" = CASE WHEN x.terminal THEN ROUND(EXTRACT(EPOCH FROM now() - COALESCE("Run"."startedAt", x."startedAt", "Run"."createdAt")) * 1000) ELSE "Run"."durationMs" END,
    output = CASE WHEN x."hasOutput" THEN x.output ELSE "Run".output END,
    error = CASE WHEN x."hasError" THEN x.error ELSE "Run".error END,
    "stepCount" = "Run"."stepCount" + x.steps, tokens = "Run".tokens + x.tokens, cost = "Run".cost + x.cost
  FROM json_to_recordset($1::json) AS x(id text, "fromStatuses" text[], "toStatus" text, terminal boolean,
    "hasOutput" boolean, "hasError" boolean, output jsonb, error jsonb, "startedAt" timestamptz, steps int, tokens int, cost float8)
  WHERE "Run".id = x.id AND "Run".status = ANY(x."fromStatuses") RETURNING "Run".id`;

const INSERT_STEPS = `INSERT INTO "Step" (id, "runId", "nodeId", "nodeType", "parentNodeId", "itemIndex", attempt, mode, status, handle,
         input, output, "executableOutput", "shadowOutput", error, "fallbackReason", "startedAt", "finishedAt", "durationMs", tokens, cost)
       SELECT id, "runId", "nodeId", "nodeType", "parentNodeId", "itemIndex", attempt, mode, status, handle,
         input, output, "executableOutput", "shadowOutput", error, "fallbackReason", "startedAt", "finishedAt", "durationMs", tokens, cost
       FROM json_to_recordset($1::json) AS x(${STEP_COLUMNS})`;

/** The same rows from COPY text (copyLine), columns in this order. */
const COPY_STEP_COLUMNS = [
  'id',
  'runId',
  'nodeId',
  'nodeType',
  'parentNodeId',
  'itemIndex',
  'attempt',
  'mode',
  'status',
  'handle',
  'executableOutput',
  'fallbackReason',
  'startedAt',
  'finishedAt',
  'durationMs',
  'tokens',
  'cost',
  'input',
  'output',
  'shadowOutput',
  'error',
] as const;
const COPY_STEPS = `COPY "Step" (${COPY_STEP_COLUMNS.map((c) => `"${c}"`).join(', ')}) FROM '/dev/blob'`;

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };
/** A value as a field of COPY's text format: `\N` for null, the four special characters escaped. */
function copyField(v: string | number | null): string {
  if (v === null || (typeof v === 'number' && !Number.isFinite(v))) return '\\N'; // JSON would say null
  const s = String(v);
  return /[\\\n\r\t]/.test(s) ? s.replace(/[\\\n\r\t]/g, (c) => COPY_ESCAPES[c]) : s;
}

/** One COPY text line of a step row: the scalars, then the payloads (JSON text), in COPY_STEP_COLUMNS order. */
function copyLine(scalars: Record<string, string | number | null>, payloads: Record<string, Json>): string {
  let line = '';
  for (let i = 0; i < COPY_STEP_COLUMNS.length; i++) {
    const c = COPY_STEP_COLUMNS[i];
    line += (i ? '\t' : '') + copyField(c in payloads ? payloads[c] : scalars[c]);
  }
  return `${line}\n`;
}

/** A string literal for a script without parameters (standard_conforming_strings: only ' is special). */
const sqlText = (text: string) => `'${text.replaceAll("'", "''")}'`;

/** Step counts, spend and deferred starts of runs, from a JSON array in the parameter `param`. */
const addRunCounts = (param: string) =>
  `UPDATE "Run" r SET "stepCount" = r."stepCount" + x.steps, tokens = r.tokens + x.tokens, cost = r.cost + x.cost,
          status = CASE WHEN x."startedAt" IS NOT NULL AND r.status = 'queued' THEN 'running' ELSE r.status END,
          "startedAt" = CASE WHEN x."startedAt" IS NOT NULL THEN COALESCE(r."startedAt", x."startedAt") ELSE r."startedAt" END
        FROM json_to_recordset(${param}::json) AS x(id text, steps int, tokens int, cost float8, "startedAt" timestamptz) WHERE r.id = x.id`;

/**
 * A batch of new steps and nothing else of consequence (no finished-step updates, agent turns or
 * status changes): one round trip writes it, the steps with their runs' counts (Postgres: a
 * data-modifying WITH; PGlite: a script of COPY and the counts' UPDATE, which commit together),
 * atomic on its own, so it needs no transaction: BEGIN and COMMIT were half the statements of a
 * long run's intermediate batches (issue 21).
 */
export function isOneStatement(batch: Pick<Batch, 'inserts' | 'updates' | 'turns' | 'runs'>): boolean {
  if (!batch.inserts.size || batch.updates.size || batch.turns.length) return false;
  for (const w of batch.runs.values()) if (w.transition) return false;
  return true;
}

const RUN_FIELDS = `id, "workflowId", "workflowVersionId", version, status, input, output, error, trigger,
  "parentRunId", "parentStepId", "triggerNodeId", "traceContext", "createdAt", "startedAt", "finishedAt"`;

interface RunRow {
  id: string;
  workflowId: string | null;
  workflowVersionId: string | null;
  version: number | null;
  status: RunStatus;
  input: unknown;
  output: unknown;
  error: SerializedError | null;
  trigger: string;
  parentRunId: string | null;
  parentStepId: string | null;
  triggerNodeId: string | null;
  traceContext: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

function toRunRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    workflowId: r.workflowId,
    workflowVersionId: r.workflowVersionId,
    version: r.version,
    status: r.status,
    input: r.input,
    output: r.output,
    error: r.error,
    trigger: r.trigger,
    parentRunId: r.parentRunId,
    parentStepId: r.parentStepId,
    triggerNodeId: r.triggerNodeId,
    traceContext: r.traceContext,
    createdAt: new Date(r.createdAt),
    startedAt: r.startedAt && new Date(r.startedAt),
    finishedAt: r.finishedAt && new Date(r.finishedAt),
  };
}

export const STEP_FIELDS = `id, "runId", "nodeId", "nodeType", "parentNodeId", "itemIndex", attempt, mode, status, handle,
  "fallbackReason", "startedAt", "finishedAt", "durationMs", tokens, cost`;

interface StepRow extends Omit<StepRecord, 'startedAt' | 'finishedAt' | 'executableOutput'> {
  startedAt: Date;
  finishedAt: Date | null;
  executableOutput?: string | null;
}

/** JSON text of the exact value, or null when the trace copy is the same text (or it has none). */
function exactUnlessSame(value: unknown, traced: Json): string | null {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = jsonText(value);
  } catch {
    return null; // unserializable: the trace copy's marker is all anyone could keep
  }
  return text === undefined || text === traced ? null : text;
}

const sealed = (text: string | null, seal: (t: string) => string) => (text === null ? null : seal(text));

function toStepRecord({ executableOutput, ...s }: StepRow): StepRecord {
  return {
    ...s,
    ...(executableOutput == null ? {} : { executableOutput: JSON.parse(executableOutput) }),
    mode: s.mode,
    startedAt: new Date(s.startedAt),
    finishedAt: s.finishedAt && new Date(s.finishedAt),
  };
}
