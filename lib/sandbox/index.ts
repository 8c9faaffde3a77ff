import type { ExpressionScope, ExpressionServices } from '@/lib/workflow/expression-scope';
import { RunCancelled, TrellisError } from '@/lib/workflow/errors';
import {
  analyzeCodeCached,
  analyzeExpressionCached,
  expressionWrapper,
  type ScopeNeeds,
  type ScopeRoot,
} from './analyze';
import { ExpressionError, ExpressionSyntaxError, ExpressionTimeout } from './errors';
import { clampTimeout, CODE_TIMEOUT_MS, DEFAULT_EXPRESSION_TIMEOUT_MS } from './limits';
import { SandboxPool, type WorkerResult } from './pool';
import { NOT_PLAIN, readReference } from './reference';
import { splitTemplate, stringForm, type TemplatePart } from './template';

// Public face of the sandbox (README.md). Plain references are answered on the host from own
// properties; everything else crosses to a QuickJS worker as JSON and comes back as JSON.

export { ExpressionError, ExpressionSyntaxError, ExpressionTimeout } from './errors';
export * from './limits';

export interface SandboxOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

let pool: SandboxPool | undefined;

function sandboxPool(): SandboxPool {
  return (pool ??= new SandboxPool());
}

/** Starts the worker threads ahead of the first evaluation (server start, tests, bench). */
export function warmSandbox(): Promise<void> {
  return sandboxPool().warm();
}

/** Stops the worker threads (tests, CLI). The next evaluation starts a new pool. */
export async function shutdownSandbox(): Promise<void> {
  const p = pool;
  pool = undefined;
  await p?.shutdown();
}

function timeoutOf(opts: SandboxOptions | undefined, fallback: number): number {
  return clampTimeout(opts?.timeoutMs ?? fallback);
}

function checkSignal(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason instanceof TrellisError ? signal.reason : new RunCancelled();
}

const hasOwn = Object.prototype.hasOwnProperty;

function mergeNeeds(all: ScopeNeeds[]): ScopeNeeds {
  const roots = new Set<ScopeRoot>();
  let stepIds: Set<string> | undefined = new Set();
  for (const n of all) {
    for (const r of n.roots) roots.add(r);
    if (n.roots.includes('steps')) {
      if (!n.stepIds) stepIds = undefined;
      else if (stepIds) for (const id of n.stepIds) stepIds.add(id);
    }
  }
  return { roots: [...roots], stepIds: stepIds ? [...stepIds] : undefined };
}

/** JSON of only the scope the sources mention; secrets never enter unless named. */
function serializeScope(scope: ExpressionScope, needs: ScopeNeeds): string {
  const picked: Record<string, unknown> = Object.create(null);
  const source = scope as unknown as Record<string, unknown>;
  for (const root of needs.roots) {
    if (root === 'steps' && needs.stepIds && scope.steps) {
      const steps: Record<string, unknown> = Object.create(null);
      for (const id of needs.stepIds) if (hasOwn.call(scope.steps, id)) steps[id] = scope.steps[id];
      picked.steps = steps;
    } else picked[root] = source[root];
  }
  try {
    return JSON.stringify(picked);
  } catch (err) {
    throw new ExpressionError(`The scope cannot cross into the sandbox as JSON: ${(err as Error).message}`);
  }
}

function unwrap(r: WorkerResult, timeoutMs: number): unknown {
  if (r.ok) return r.json === undefined ? undefined : JSON.parse(r.json);
  if (r.kind === 'timeout') throw new ExpressionTimeout(timeoutMs);
  if (r.kind === 'syntax') throw new ExpressionSyntaxError(r.message);
  throw new ExpressionError(r.message);
}

async function inSandbox(
  wrappers: string[],
  needs: ScopeNeeds,
  scope: ExpressionScope,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<WorkerResult[]> {
  return sandboxPool().run({ sources: wrappers, scope: serializeScope(scope, needs), timeoutMs, signal });
}

function referenceNeeds(root: ScopeRoot, path: (string | number)[]): ScopeNeeds {
  const first = path[0];
  return { roots: [root], stepIds: root === 'steps' && typeof first === 'string' ? [first] : undefined };
}

interface Planned {
  value?: unknown;
  wrapper?: string;
  needs?: ScopeNeeds;
}

/** Fast path where possible, else the wrapper to send. Throws syntax errors. */
function plan(expr: string, scope: ExpressionScope): Planned {
  const a = analyzeExpressionCached(expr);
  if (a.kind === 'sandbox') return { wrapper: a.wrapper, needs: a.needs };
  const value = readReference(scope, a.root, a.path);
  if (value !== NOT_PLAIN) return { value };
  return { wrapper: expressionWrapper(expr), needs: referenceNeeds(a.root, a.path) };
}

export async function evaluateExpression(
  expr: string,
  scope: ExpressionScope,
  opts?: SandboxOptions,
): Promise<unknown> {
  checkSignal(opts?.signal);
  const p = plan(expr, scope);
  if (p.wrapper === undefined) return p.value;
  const timeoutMs = timeoutOf(opts, DEFAULT_EXPRESSION_TIMEOUT_MS);
  const [r] = await inSandbox([p.wrapper], p.needs!, scope, timeoutMs, opts?.signal);
  return unwrap(r, timeoutMs);
}

/** Runs a `code` node body (a function body, `await` allowed) and returns its `return` value. */
export async function runCode(body: string, scope: ExpressionScope, opts?: SandboxOptions): Promise<unknown> {
  checkSignal(opts?.signal);
  const a = analyzeCodeCached(body);
  const timeoutMs = timeoutOf(opts, CODE_TIMEOUT_MS);
  const [r] = await inSandbox([a.wrapper], a.needs, scope, timeoutMs, opts?.signal);
  return unwrap(r, timeoutMs);
}

/**
 * Renders a template: any JSON value whose strings may hold `{{ expr }}`. A string that is exactly one
 * `{{ expr }}` yields the raw value; otherwise each `{{ }}` is replaced by its string form. All
 * expressions that need the sandbox go in one worker call under one deadline.
 */
export async function renderTemplate(
  template: unknown,
  scope: ExpressionScope,
  opts?: SandboxOptions,
): Promise<unknown> {
  checkSignal(opts?.signal);
  const planned: Planned[] = [];
  // First pass: split strings, plan every expression (fast path answered now, syntax errors thrown now).
  const prepare = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const parts = splitTemplate(v);
      if (!parts) return v;
      return parts.map((part) =>
        part.expr === undefined ? part : { ...part, slot: planned.push(plan(part.expr, scope)) - 1 },
      );
    }
    if (Array.isArray(v)) return v.map(prepare);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(v)) out[k] = prepare(child);
      return out;
    }
    return v;
  };
  const prepared = prepare(template);

  const pending = planned.filter((p) => p.wrapper !== undefined);
  if (pending.length) {
    const timeoutMs = timeoutOf(opts, DEFAULT_EXPRESSION_TIMEOUT_MS);
    const results = await inSandbox(
      pending.map((p) => p.wrapper!),
      mergeNeeds(pending.map((p) => p.needs!)),
      scope,
      timeoutMs,
      opts?.signal,
    );
    pending.forEach((p, i) => {
      p.value = unwrap(results[i], timeoutMs);
    });
  }

  const build = (v: unknown, original: unknown): unknown => {
    if (typeof original === 'string') {
      if (v === original) return v;
      const parts = v as Array<TemplatePart & { slot?: number }>;
      if (parts.length === 1 && parts[0].slot !== undefined) return planned[parts[0].slot].value;
      return parts
        .map((part) => (part.slot === undefined ? part.text : stringForm(planned[part.slot].value)))
        .join('');
    }
    if (Array.isArray(original)) return (v as unknown[]).map((child, i) => build(child, original[i]));
    if (v !== original && v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(v))
        out[k] = build(child, (original as Record<string, unknown>)[k]);
      return out;
    }
    return v;
  };
  return build(prepared, template);
}

export interface SandboxServicesOptions {
  expressionTimeoutMs?: number;
  codeTimeoutMs?: number;
}

/** The three sandbox methods of NodeServices (lib/workflow/expression-scope.ts). */
export function createSandboxServices(opts: SandboxServicesOptions = {}): ExpressionServices {
  const expr = opts.expressionTimeoutMs ?? DEFAULT_EXPRESSION_TIMEOUT_MS;
  const code = opts.codeTimeoutMs ?? CODE_TIMEOUT_MS;
  return {
    evaluate: (expression, scope, signal) =>
      evaluateExpression(expression, scope, { timeoutMs: expr, signal }),
    runCode: (body, scope, signal) => runCode(body, scope, { timeoutMs: code, signal }),
    render: (template, scope, signal) => renderTemplate(template, scope, { timeoutMs: expr, signal }),
  };
}
