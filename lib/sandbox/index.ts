import type {
  ExpressionScope,
  ExpressionServices,
  SandboxCall,
  SandboxOutcome,
  ScopeReads,
} from '@/lib/workflow/expression-scope';
import { jsonText, parseRemembered } from '@/lib/payload';
import { RunCancelled, TrellisError } from '@/lib/workflow/errors';
import {
  analyzeCodeCached,
  analyzeExpressionCached,
  expressionWrapper,
  type Analysis,
  type ScopeNeeds,
  type ScopeRoot,
} from './analyze';
import { ExpressionError, ExpressionSyntaxError, ExpressionTimeout } from './errors';
import {
  clampTimeout,
  CODE_TIMEOUT_MS,
  DEFAULT_EXPRESSION_TIMEOUT_MS,
  MAX_BATCH_SCOPE_BYTES,
  SANDBOX_BATCH_TASKS,
} from './limits';
import { SandboxPool, type PoolStats, type SandboxTask, type WorkerResult } from './pool';
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

/**
 * JSON.stringify of a plain object, its members written one by one through `member`, so that a
 * member that remembers its JSON text (a `code` step's output, lib/payload json-text.ts) is spliced
 * in rather than serialized again. Anything else is left to JSON.stringify as a whole.
 */
function objectJson(value: unknown, member: (v: unknown) => string | undefined): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return jsonText(value);
  const proto = Object.getPrototypeOf(value);
  if ((proto !== Object.prototype && proto !== null) || 'toJSON' in value) return jsonText(value);
  const parts: string[] = [];
  for (const k of Object.keys(value)) {
    const text = member((value as Record<string, unknown>)[k]);
    if (text !== undefined) parts.push(`${JSON.stringify(k)}:${text}`);
  }
  return `{${parts.join(',')}}`;
}

/** A step's record ({ output }), then each step of `steps`: written by objectJson. */
const recordJson = (record: unknown) => objectJson(record, jsonText);
const stepsJson = (steps: unknown) => objectJson(steps, recordJson);

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
    // The same text as JSON.stringify(picked).
    return objectJson(picked, (v) => (v === picked.steps ? stepsJson(v) : jsonText(v)))!;
  } catch (err) {
    throw new ExpressionError(`The scope cannot cross into the sandbox as JSON: ${(err as Error).message}`);
  }
}

function unwrap(r: WorkerResult, timeoutMs: number): unknown {
  if (r.ok) return r.json === undefined ? undefined : parseRemembered(r.json);
  if (r.kind === 'timeout') throw new ExpressionTimeout(timeoutMs);
  if (r.kind === 'syntax') throw new ExpressionSyntaxError(r.message);
  throw new ExpressionError(r.message);
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

/** A template's shape, its `{{ }}` strings split into parts that point at `exprs` by slot. */
interface CompiledTemplate {
  shape: unknown;
  exprs: string[];
}

type Slotted = TemplatePart & { slot?: number };

// Templates are config values, the same object for every item and run: split them once.
const compiledTemplates = new WeakMap<object, CompiledTemplate>();

function compileTemplate(template: unknown): CompiledTemplate {
  const cacheable = typeof template === 'object' && template !== null;
  const hit = cacheable ? compiledTemplates.get(template) : undefined;
  if (hit) return hit;
  const exprs: string[] = [];
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      const parts = splitTemplate(v);
      if (!parts) return v;
      return parts.map((part): Slotted =>
        part.expr === undefined ? part : { ...part, slot: exprs.push(part.expr) - 1 },
      );
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(v)) out[k] = walk(child);
      return out;
    }
    return v;
  };
  const compiled = { shape: walk(template), exprs };
  if (cacheable) compiledTemplates.set(template, compiled);
  return compiled;
}

/** The rendered value: a string that is exactly one `{{ }}` yields the raw value. */
function buildTemplate(shape: unknown, original: unknown, values: unknown[]): unknown {
  if (typeof original === 'string') {
    if (shape === original) return shape;
    const parts = shape as Slotted[];
    if (parts.length === 1 && parts[0].slot !== undefined) return values[parts[0].slot];
    return parts
      .map((part) => (part.slot === undefined ? part.text : stringForm(values[part.slot])))
      .join('');
  }
  if (Array.isArray(original))
    return (shape as unknown[]).map((child, i) => buildTemplate(child, original[i], values));
  if (shape !== original && shape && typeof shape === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, child] of Object.entries(shape))
      out[k] = buildTemplate(child, (original as Record<string, unknown>)[k], values);
    return out;
  }
  return shape;
}

/**
 * One call against one scope, planned: the value when the host answers it alone, else the
 * wrappers to run in the sandbox under one deadline, what of the scope they need, and how their
 * results become the value. Throws syntax errors (and plain-reference errors) now.
 */
type CallPlan =
  | { done: true; value: unknown }
  | {
      done: false;
      wrappers: string[];
      needs: ScopeNeeds;
      finish(results: WorkerResult[], timeoutMs: number): unknown;
    };

function planCall(call: SandboxCall, scope: ExpressionScope, template?: CompiledTemplate): CallPlan {
  if (call.kind === 'code') {
    const a = analyzeCodeCached(call.code);
    return { done: false, wrappers: [a.wrapper], needs: a.needs, finish: (r, t) => unwrap(r[0], t) };
  }
  if (call.kind === 'expression') {
    const p = plan(call.expression, scope);
    if (p.wrapper === undefined) return { done: true, value: p.value };
    return { done: false, wrappers: [p.wrapper], needs: p.needs!, finish: (r, t) => unwrap(r[0], t) };
  }
  const compiled = template ?? compileTemplate(call.template);
  const planned = compiled.exprs.map((e) => plan(e, scope));
  const values = planned.map((p) => p.value);
  const pending = planned.flatMap((p, slot) => (p.wrapper === undefined ? [] : [{ ...p, slot }]));
  const build = () => buildTemplate(compiled.shape, call.template, values);
  if (!pending.length) return { done: true, value: build() };
  return {
    done: false,
    wrappers: pending.map((p) => p.wrapper!),
    needs: mergeNeeds(pending.map((p) => p.needs!)),
    finish(results, timeoutMs) {
      pending.forEach((p, i) => (values[p.slot] = unwrap(results[i], timeoutMs)));
      return build();
    },
  };
}

const allOf = (n: number) => Array.from({ length: n }, (_, i) => i);

/** One call, one scope: every wrapper it needs goes in one message under one deadline. */
async function evaluateCall(
  call: SandboxCall,
  scope: ExpressionScope,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<unknown> {
  checkSignal(signal);
  const p = planCall(call, scope);
  if (p.done) return p.value;
  const [results] = await sandboxPool().run({
    sources: p.wrappers,
    tasks: [{ scope: serializeScope(scope, p.needs), sources: allOf(p.wrappers.length) }],
    timeoutMs,
    signal,
  });
  return p.finish(results, timeoutMs);
}

export async function evaluateExpression(
  expr: string,
  scope: ExpressionScope,
  opts?: SandboxOptions,
): Promise<unknown> {
  const timeoutMs = timeoutOf(opts, DEFAULT_EXPRESSION_TIMEOUT_MS);
  return evaluateCall({ kind: 'expression', expression: expr }, scope, timeoutMs, opts?.signal);
}

/** Runs a `code` node body (a function body, `await` allowed) and returns its `return` value. */
export async function runCode(body: string, scope: ExpressionScope, opts?: SandboxOptions): Promise<unknown> {
  return evaluateCall({ kind: 'code', code: body }, scope, timeoutOf(opts, CODE_TIMEOUT_MS), opts?.signal);
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
  const timeoutMs = timeoutOf(opts, DEFAULT_EXPRESSION_TIMEOUT_MS);
  return evaluateCall({ kind: 'render', template }, scope, timeoutMs, opts?.signal);
}

function readsOf(a: Analysis): ScopeNeeds {
  return a.kind === 'sandbox' ? a.needs : referenceNeeds(a.root, a.path);
}

/**
 * What a call reads, when it is worth evaluating for many scopes at once: something in it needs the
 * sandbox, it parses, and every step it reads is named (else null).
 */
export function batchable(call: SandboxCall): ScopeReads | null {
  let analyses: Analysis[];
  try {
    if (call.kind === 'code') analyses = [analyzeCodeCached(call.code)];
    else if (call.kind === 'expression') analyses = [analyzeExpressionCached(call.expression)];
    else analyses = compileTemplate(call.template).exprs.map((e) => analyzeExpressionCached(e));
  } catch {
    return null; // a syntax error: each step reports it on its own
  }
  if (!analyses.some((a) => a.kind === 'sandbox')) return null;
  const needs = mergeNeeds(analyses.map(readsOf));
  if (needs.roots.includes('steps') && !needs.stepIds) return null;
  return { roots: needs.roots, stepIds: needs.stepIds ?? [] };
}

/**
 * One call against many scopes (a map's items): each scope is a task with its own deadline, up to
 * SANDBOX_BATCH_TASKS tasks (and MAX_BATCH_SCOPE_BYTES of scope) per message, the messages spread
 * over the pool's workers. A scope's outcome is exactly what the single call would return or
 * throw; a message that fails as a whole (a worker stopped by the watchdog, or crashed) leaves its
 * scopes undefined, for the caller to evaluate alone. A cancel rejects.
 */
export async function evaluateMany(
  call: SandboxCall,
  scopes: ExpressionScope[],
  opts?: SandboxOptions,
): Promise<(SandboxOutcome | undefined)[]> {
  checkSignal(opts?.signal);
  const timeoutMs = timeoutOf(opts, call.kind === 'code' ? CODE_TIMEOUT_MS : DEFAULT_EXPRESSION_TIMEOUT_MS);
  const template = call.kind === 'render' ? compileTemplate(call.template) : undefined;
  const out = new Array<SandboxOutcome | undefined>(scopes.length);
  const sources: string[] = [];
  const sourceIndex = new Map<string, number>();
  const sourceOf = (w: string) => {
    let i = sourceIndex.get(w);
    if (i === undefined) sourceIndex.set(w, (i = sources.push(w) - 1));
    return i;
  };
  type Pending = { at: number; task: SandboxTask; finish: (r: WorkerResult[], t: number) => unknown };
  const messages: Pending[][] = [];
  let current: Pending[] = [];
  let bytes = 0;
  scopes.forEach((scope, at) => {
    let p: CallPlan;
    let task: SandboxTask;
    try {
      p = planCall(call, scope, template);
      if (p.done) return void (out[at] = { ok: true, value: p.value });
      task = { scope: serializeScope(scope, p.needs), sources: p.wrappers.map(sourceOf) };
    } catch (error) {
      return void (out[at] = { ok: false, error });
    }
    const full = current.length >= SANDBOX_BATCH_TASKS || bytes + task.scope.length > MAX_BATCH_SCOPE_BYTES;
    if (current.length && full) {
      messages.push(current);
      current = [];
      bytes = 0;
    }
    current.push({ at, task, finish: p.finish });
    bytes += task.scope.length;
  });
  if (current.length) messages.push(current);
  const pool = sandboxPool();
  const signal = opts?.signal;
  await Promise.all(
    messages.map(async (group) => {
      let results: WorkerResult[][];
      try {
        results = await pool.run({ sources, tasks: group.map((g) => g.task), timeoutMs, signal });
      } catch (err) {
        if (signal?.aborted) throw err;
        return; // not evaluated: the caller runs these alone, each under its own watchdog
      }
      group.forEach((g, k) => {
        try {
          out[g.at] = { ok: true, value: g.finish(results[k], timeoutMs) };
        } catch (error) {
          out[g.at] = { ok: false, error };
        }
      });
    }),
  );
  return out;
}

/** Messages and tasks the pool has sent (tests, benches): a map's items share messages. */
export function sandboxStats(): PoolStats {
  return { ...sandboxPool().stats };
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
    batchable,
    evaluateMany: (call, scopes, signal) =>
      evaluateMany(call, scopes, { timeoutMs: call.kind === 'code' ? code : expr, signal }),
  };
}
