import type { WorkflowDefinition } from '@/lib/workflow/definition';
import type { AgentTurn } from '@/lib/workflow/trace';
import type { ReportCase } from './report';
import type { BacktestCaseResult, BacktestRequest, BacktestStatus, RunFilter } from './spec';

// Storage of backtests, as the job and the API see it; lib/db implements it on SQL
// (lib/db/backtest-store.ts). The pure core never touches it.

export interface BacktestRecord {
  id: string;
  workflowId: string;
  nodeId: string;
  version: number;
  status: BacktestStatus;
  request: BacktestRequest;
  /** Cases selected from history; 0 until the job has loaded them. */
  total: number;
  done: number;
  agreed: number;
  tokens: number;
  cost: number;
  cancelRequested: boolean;
  error: { code: string; message: string } | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** One recorded step of the node, with what replay needs. */
export interface HistoryStep {
  runId: string;
  stepId: string;
  runVersion: number | null;
  input: unknown;
  output: unknown;
  handle: string | null;
  durationMs: number | null;
  /** The step's recorded cost when it ran in workflow mode (else agent spend is mixed in: null). */
  cost: number | null;
  turns: Pick<AgentTurn, 'kind' | 'payload'>[];
}

export interface CasePage {
  items: BacktestCaseResult[];
  nextCursor: string | null;
}

export interface BacktestStore {
  create(b: {
    workflowId: string;
    nodeId: string;
    version: number;
    request: BacktestRequest;
  }): Promise<BacktestRecord>;
  get(id: string): Promise<BacktestRecord | null>;
  list(workflowId: string, opts: { nodeId?: string; limit: number }): Promise<BacktestRecord[]>;
  /** queued → running; false when another process took it or it was cancelled. */
  claim(id: string, total: number): Promise<boolean>;
  /** Stores finished cases and adds them to the totals, in one transaction. */
  appendCases(id: string, cases: BacktestCaseResult[]): Promise<void>;
  /** Ends a backtest that is not yet final; false when it already was. */
  finish(id: string, status: BacktestStatus, error?: { code: string; message: string }): Promise<boolean>;
  /** Marks a cancel request; a queued backtest is cancelled at once. */
  requestCancel(id: string): Promise<BacktestRecord | null>;
  listCases(
    id: string,
    opts: { cursor?: string; limit: number; failureType?: string; agreed?: boolean },
  ): Promise<CasePage>;
  /** Every case, for the report (payloads included: transitions read expected and actual). */
  reportCases(id: string): Promise<ReportCase[]>;
  /**
   * The node's recorded steps, newest first, that succeeded in one of `modes` — by default the
   * modes whose output is the deterministic step's (the label exists); graduating a chain reads
   * the `agent` ones (the agent's output and its tool calls).
   */
  history(
    workflowId: string,
    nodeId: string,
    filter: RunFilter,
    modes?: readonly string[],
  ): Promise<HistoryStep[]>;
  /** Definitions of these versions of the workflow. */
  definitions(workflowId: string, versions: number[]): Promise<Map<number, WorkflowDefinition>>;
}
