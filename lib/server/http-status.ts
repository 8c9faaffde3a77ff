import type { ErrorCode } from '@/lib/workflow/errors';

// One exhaustive table: adding an ErrorCode without a status fails the typecheck.
export const statusFor: Record<ErrorCode, number> = {
  validation_error: 400,
  not_found: 404,
  conflict: 409,
  version_conflict: 409,
  unauthorized: 401,
  forbidden: 403,
  misdirected_request: 421,
  payload_too_large: 413,
  rate_limited: 429,
  unprocessable: 422,
  node_timeout: 504,
  node_error: 500,
  http_error: 502,
  ssrf_blocked: 403,
  expression_syntax_error: 400,
  expression_timeout: 422,
  expression_error: 422,
  run_cancelled: 409,
  workflow_disabled: 409,
  workflow_invalid: 422,
  run_too_large: 422,
  agent_budget_exceeded: 422,
  no_model_configured: 503,
  model_error: 502,
  /** The run's trace could not be written (storage fault); the run ended failed. */
  trace_write_failed: 503,
  browser_target_missing: 422,
  browser_unavailable: 503,
  internal_error: 500,
};
