// Errors are values with stable snake_case codes. Retry, fallback and the HTTP layer decide on
// the code, never on the message. Every code is listed here so the HTTP status table in
// lib/server can be exhaustive (a new code cannot ship unmapped).
export const ERROR_CODES = [
  'validation_error',
  'not_found',
  'conflict',
  /** A save based on a version that is no longer the latest (optimistic concurrency). */
  'version_conflict',
  'unauthorized',
  'forbidden',
  'misdirected_request',
  'payload_too_large',
  'rate_limited',
  'unprocessable',
  'node_timeout',
  'node_error',
  'http_error',
  'ssrf_blocked',
  'expression_syntax_error',
  'expression_timeout',
  'expression_error',
  'run_cancelled',
  'workflow_disabled',
  'workflow_invalid',
  'run_too_large',
  'agent_budget_exceeded',
  'no_model_configured',
  'model_error',
  'trace_write_failed',
  'browser_target_missing',
  'browser_unavailable',
  /** A rollout stage the step's node type cannot take (shadow or canary of a browser step). */
  'stage_not_supported',
  'internal_error',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class TrellisError extends Error {
  readonly code: ErrorCode;
  readonly details?: unknown;
  /** Whether retrying the same operation may succeed (network blips, 5xx, timeouts). */
  readonly retryable: boolean;
  constructor(
    code: ErrorCode,
    message: string,
    opts: { details?: unknown; retryable?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = opts.details;
    this.retryable = opts.retryable ?? false;
  }
  toJSON(): SerializedError {
    return {
      code: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }
}

export interface SerializedError {
  code: ErrorCode | string;
  message: string;
  details?: unknown;
}

export interface Problem {
  /** JSON pointer into the definition, e.g. /nodes/3/config/url */
  path: string;
  code: string;
  message: string;
  /** "warning": shown on the canvas, does not make the definition invalid. Absent: an error. */
  severity?: 'warning';
}

export class ValidationError extends TrellisError {
  readonly problems: Problem[];
  constructor(problems: Problem[], message = 'Validation failed') {
    super(
      'validation_error',
      problems.length ? `${message}: ${problems[0].path || '/'} ${problems[0].message}` : message,
      {
        details: { problems },
      },
    );
    this.problems = problems;
  }
}

export class NotFoundError extends TrellisError {
  constructor(what: string) {
    super('not_found', `${what} not found`);
  }
}

export class NodeTimeout extends TrellisError {
  constructor(nodeId: string, ms: number) {
    super('node_timeout', `Node ${nodeId} timed out after ${ms} ms`, { retryable: true });
  }
}

export class RunCancelled extends TrellisError {
  constructor() {
    super('run_cancelled', 'Run was cancelled');
  }
}

export class AgentBudgetExceeded extends TrellisError {
  constructor(message: string, details?: unknown) {
    super('agent_budget_exceeded', message, { details });
  }
}

/** Turn anything thrown into a serializable error value. */
export function toSerializedError(err: unknown): SerializedError {
  if (err instanceof TrellisError) return err.toJSON();
  if (err instanceof Error) return { code: 'node_error', message: err.message };
  return { code: 'node_error', message: String(err) };
}

export function isRetryable(err: unknown): boolean {
  return err instanceof TrellisError ? err.retryable : false;
}
