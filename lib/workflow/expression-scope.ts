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

/** What a node asks the sandbox for, as data, so a map can ask it for many items at once. */
export type SandboxCall =
  | { kind: 'expression'; expression: string }
  | { kind: 'code'; code: string }
  | { kind: 'render'; template: unknown };

/** One scope's answer from evaluateMany: the value, or what the single call would have thrown. */
export type SandboxOutcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** The parts of a scope a call can read: these roots, and of `steps` only these ids. */
export interface ScopeReads {
  roots: string[];
  stepIds: string[];
}

/** Expressions, templates and code bodies; lib/sandbox's createSandboxServices() makes them. */
export interface ExpressionServices {
  /** Evaluate one JavaScript expression in the sandbox. */
  evaluate(expression: string, scope: ExpressionScope, signal?: AbortSignal): Promise<unknown>;
  /** Run a `code` node body (a function body) in the sandbox. */
  runCode(code: string, scope: ExpressionScope, signal?: AbortSignal): Promise<unknown>;
  /** Render a template: strings with {{ }} inside any JSON value. */
  render(template: unknown, scope: ExpressionScope, signal?: AbortSignal): Promise<unknown>;
  /**
   * What the call reads, when evaluating it for many scopes at once is worth it (it needs the
   * sandbox, parses, and names every step it reads); otherwise null.
   */
  batchable?(call: SandboxCall): ScopeReads | null;
  /**
   * The call against many scopes in as few sandbox messages as possible, each scope under its own
   * deadline. An entry is undefined where the scope was not evaluated (its message failed as a
   * whole): the caller evaluates that one alone.
   */
  evaluateMany?(
    call: SandboxCall,
    scopes: ExpressionScope[],
    signal?: AbortSignal,
  ): Promise<(SandboxOutcome | undefined)[]>;
}
