import type { Graduation } from './graduate';
import type { RunFilter } from './spec';

// Storage of graduation proposals as the job and the API see them; lib/db implements it
// (lib/db/graduation-store.ts). A proposal is a queued job like a backtest: the model call and the
// backtest of its candidate run in a worker (or the embedded host), the record carries progress.

export const GRADUATION_STATUSES = ['queued', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type GraduationStatus = (typeof GRADUATION_STATUSES)[number];
export const FINAL_GRADUATION_STATUSES: readonly GraduationStatus[] = ['succeeded', 'failed', 'cancelled'];

/** Where a running proposal is: waiting for the model's answer, or backtesting its candidate. */
export const GRADUATION_PHASES = ['queued', 'model', 'backtest', 'done'] as const;
export type GraduationPhase = (typeof GRADUATION_PHASES)[number];

export interface GraduationRequest {
  runs: RunFilter;
  model?: string;
}

export interface GraduationRecord {
  id: string;
  workflowId: string;
  nodeId: string;
  version: number;
  status: GraduationStatus;
  phase: GraduationPhase;
  request: GraduationRequest;
  /** Recorded cases; 0 until the job loaded them. */
  total: number;
  /** Cases the candidate has been backtested on so far. */
  done: number;
  /** The proposal, once the job succeeded (which includes "no proposal, because …"). */
  result: Graduation | null;
  cancelRequested: boolean;
  error: { code: string; message: string } | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

export interface GraduationStore {
  create(g: {
    workflowId: string;
    nodeId: string;
    version: number;
    request: GraduationRequest;
  }): Promise<GraduationRecord>;
  get(id: string): Promise<GraduationRecord | null>;
  /** queued → running (phase model); false when another process took it or it was cancelled. */
  claim(id: string, total: number): Promise<boolean>;
  progress(id: string, p: { phase: GraduationPhase; done: number }): Promise<void>;
  /** Ends a proposal that is not yet final; false when it already was. */
  finish(
    id: string,
    status: GraduationStatus,
    end: { result?: Graduation; error?: { code: string; message: string } },
  ): Promise<boolean>;
  /** Marks a cancel request; a queued proposal is cancelled at once. */
  requestCancel(id: string): Promise<GraduationRecord | null>;
  /** Proposals left queued or running (the embedded host's restart). */
  unfinished(): Promise<Pick<GraduationRecord, 'id' | 'status'>[]>;
}
