// What expressions see and the services that evaluate them. Below both lib/nodes (whose nodes call
// the services) and lib/sandbox (which implements them), so neither imports the other for it.

/** Scope that expressions see (DESIGN.md §2). */
export interface ExpressionScope {
  input: unknown;
  steps: Record<string, { output: unknown }>;
  item?: unknown;
  index?: number;
  env: Record<string, string>;
  secrets: Record<string, string>;
}

/** Expressions, templates and code bodies; lib/sandbox's createSandboxServices() makes them. */
export interface ExpressionServices {
  /** Evaluate one JavaScript expression in the sandbox. */
  evaluate(expression: string, scope: ExpressionScope, signal?: AbortSignal): Promise<unknown>;
  /** Run a `code` node body (a function body) in the sandbox. */
  runCode(code: string, scope: ExpressionScope, signal?: AbortSignal): Promise<unknown>;
  /** Render a template: strings with {{ }} inside any JSON value. */
  render(template: unknown, scope: ExpressionScope, signal?: AbortSignal): Promise<unknown>;
}
