import { TrellisError } from '@/lib/workflow/errors';

// Sandbox failures as values with stable codes (lib/workflow/errors.ts). None is retryable: the same
// expression over the same scope fails the same way.

export interface ExpressionLocation {
  line: number;
  column: number;
}

export class ExpressionSyntaxError extends TrellisError {
  readonly location?: ExpressionLocation;
  constructor(message: string, location?: ExpressionLocation) {
    super('expression_syntax_error', message, { details: location ? { location } : undefined });
    this.location = location;
  }
}

export class ExpressionTimeout extends TrellisError {
  readonly timeoutMs: number;
  constructor(timeoutMs: number) {
    super('expression_timeout', `Expression did not finish within ${timeoutMs} ms`, {
      retryable: false,
      details: { timeoutMs },
    });
    this.timeoutMs = timeoutMs;
  }
}

/** An error raised inside the sandbox (TypeError, a user `throw`, out of memory…); message from inside. */
export class ExpressionError extends TrellisError {
  constructor(message: string, details?: unknown) {
    super('expression_error', message, { details });
  }
}
