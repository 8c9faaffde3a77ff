import { parse, type Node, type Options } from 'acorn';
import { ExpressionSyntaxError } from './errors';
import { EXPRESSION_CACHE_SIZE } from './limits';

// Host-side look at an expression or code body before it goes anywhere near the sandbox:
//  - a plain reference (`steps.a.output.b[0]`) becomes a path for the own-property fast path;
//  - anything else is syntax-checked with acorn, so a body cannot close the wrapper function it is
//    placed in, and so syntax errors carry a location;
//  - the scope roots it mentions are listed, so only those are serialized into the sandbox (secrets
//    enter only when referenced, and a big `steps` is sent only for the steps named).

export const SCOPE_ROOTS = ['input', 'steps', 'item', 'index', 'env', 'secrets'] as const;
export type ScopeRoot = (typeof SCOPE_ROOTS)[number];
const ROOT_SET: ReadonlySet<string> = new Set(SCOPE_ROOTS);
const PARAMS = SCOPE_ROOTS.join(', ');

export type PathKey = string | number;

/** What the scope serializer must send: each root wanted, and for `steps` possibly only some ids. */
export interface ScopeNeeds {
  roots: ScopeRoot[];
  /** Step ids mentioned as `steps.x` / `steps['x']`; undefined means every step. */
  stepIds?: string[];
}

export type Analysis =
  | { kind: 'reference'; root: ScopeRoot; path: PathKey[] }
  | { kind: 'sandbox'; wrapper: string; needs: ScopeNeeds };

const REFERENCE =
  /^\s*(input|steps|item|index|env|secrets)((?:\s*\.\s*[A-Za-z_$][\w$]*|\s*\[\s*(?:\d+|'[^'\\\n]*'|"[^"\\\n]*")\s*\])*)\s*$/;
const SEGMENT = /\.\s*([A-Za-z_$][\w$]*)|\[\s*(\d+|'[^'\\\n]*'|"[^"\\\n]*")\s*\]/g;

/** Parses a plain reference into root + keys, or returns undefined when it is anything else. */
export function parseReference(expr: string): { root: ScopeRoot; path: PathKey[] } | undefined {
  const m = REFERENCE.exec(expr);
  if (!m) return undefined;
  const path: PathKey[] = [];
  for (const seg of m[2].matchAll(SEGMENT)) {
    if (seg[1] !== undefined) path.push(seg[1]);
    else {
      const raw = seg[2];
      path.push(raw[0] === "'" || raw[0] === '"' ? raw.slice(1, -1) : Number(raw));
    }
  }
  // Huge numeric literals lose precision; let the sandbox handle them.
  if (path.some((k) => typeof k === 'number' && !Number.isSafeInteger(k))) return undefined;
  return { root: m[1] as ScopeRoot, path };
}

const ACORN: Options = { ecmaVersion: 'latest', sourceType: 'script', locations: true, preserveParens: true };

function syntaxError(source: string, err: unknown, columnShift: number): ExpressionSyntaxError {
  const e = err as SyntaxError & { loc?: { line: number; column: number } };
  const lines = source.split('\n');
  let loc = e.loc
    ? { line: e.loc.line, column: e.loc.line === 1 ? e.loc.column + columnShift : e.loc.column }
    : undefined;
  // An error in the wrapper's closing text means the source ended too early: point at its end.
  if (loc && loc.line > lines.length) loc = { line: lines.length, column: lines[lines.length - 1].length };
  const message = e.message.replace(/\s*\(\d+:\d+\)$/, '');
  return new ExpressionSyntaxError(
    loc ? `${message} (line ${loc.line}, column ${loc.column + 1})` : message,
    loc,
  );
}

/** Free uses of scope roots, and which step ids are read, by walking the AST. */
function scopeNeeds(ast: Node): ScopeNeeds {
  const roots = new Set<ScopeRoot>();
  const stepIds = new Set<string>();
  let allSteps = false;
  const visit = (node: unknown, parent: Record<string, unknown> | undefined, key: string): void => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      for (const child of node) visit(child, parent, key);
      return;
    }
    const n = node as Record<string, unknown> & { type?: string };
    if (n.type === 'Identifier' && ROOT_SET.has(n.name as string)) {
      // `x.input` and `{ input: 1 }` name a property, not the scope root.
      const isProperty =
        (parent?.type === 'MemberExpression' && key === 'property' && !parent.computed) ||
        (parent?.type === 'Property' && key === 'key' && !parent.computed) ||
        (parent?.type === 'MethodDefinition' && key === 'key' && !parent.computed);
      if (!isProperty) {
        roots.add(n.name as ScopeRoot);
        if (n.name === 'steps') {
          const prop = parent?.type === 'MemberExpression' && key === 'object' ? parent.property : undefined;
          const p = prop as { type?: string; name?: string; value?: unknown } | undefined;
          if (p && !parent!.computed && p.type === 'Identifier') stepIds.add(p.name!);
          else if (p && parent!.computed && p.type === 'Literal' && typeof p.value === 'string')
            stepIds.add(p.value);
          else allSteps = true;
        }
      }
    }
    for (const k in n) {
      if (k === 'type' || k === 'loc' || k === 'start' || k === 'end') continue;
      const v = n[k];
      if (v && typeof v === 'object') visit(v, n, k);
    }
  };
  visit(ast, undefined, '');
  return { roots: [...roots], stepIds: allSteps ? undefined : [...stepIds] };
}

/** Wrapper of an expression: one line, so QuickJS positions stay close to the user's. */
export function expressionWrapper(expr: string): string {
  return `(function (${PARAMS}) { 'use strict'; return (${expr}\n); })`;
}

/** Wrapper of a code body: async, so `await` works; strict, so undeclared assignments fail loudly. */
export function codeWrapper(body: string): string {
  return `(async function (${PARAMS}) { 'use strict';\n${body}\n})`;
}

export function analyzeExpression(expr: string): Analysis {
  const ref = parseReference(expr);
  if (ref) return { kind: 'reference', ...ref };
  const wrapped = `(${expr}\n)`;
  let program: Node;
  try {
    program = parse(wrapped, ACORN);
  } catch (err) {
    throw syntaxError(expr, err, -1);
  }
  // The one statement must be the whole parenthesized text, or `a), (b` would pass as an expression.
  const body = (program as unknown as { body: Array<{ type: string; expression?: Node }> }).body;
  const only = body.length === 1 && body[0].type === 'ExpressionStatement' ? body[0].expression : undefined;
  if (!only || only.type !== 'ParenthesizedExpression' || only.start !== 0 || only.end !== wrapped.length) {
    throw new ExpressionSyntaxError('Expected a single expression');
  }
  return { kind: 'sandbox', wrapper: expressionWrapper(expr), needs: scopeNeeds(program) };
}

export function analyzeCode(body: string): Extract<Analysis, { kind: 'sandbox' }> {
  let program: Node;
  try {
    program = parse(body, { ...ACORN, allowReturnOutsideFunction: true, allowAwaitOutsideFunction: true });
  } catch (err) {
    throw syntaxError(body, err, 0);
  }
  return { kind: 'sandbox', wrapper: codeWrapper(body), needs: scopeNeeds(program) };
}

// Expressions repeat (every item of a map, every run of a workflow): remember each analysis,
// including syntax errors. Cleared wholesale when full; entries are cheap to recompute.
const cache = new Map<string, Analysis | ExpressionSyntaxError>();

function cached<T extends Analysis>(key: string, compute: () => T): T {
  let hit = cache.get(key);
  if (hit === undefined) {
    try {
      hit = compute();
    } catch (err) {
      if (!(err instanceof ExpressionSyntaxError)) throw err;
      hit = err;
    }
    if (cache.size >= EXPRESSION_CACHE_SIZE) cache.clear();
    cache.set(key, hit);
  }
  if (hit instanceof ExpressionSyntaxError) throw new ExpressionSyntaxError(hit.message, hit.location);
  return hit as T;
}

export function analyzeExpressionCached(expr: string): Analysis {
  return cached('e' + expr, () => analyzeExpression(expr));
}

export function analyzeCodeCached(body: string): Extract<Analysis, { kind: 'sandbox' }> {
  return cached('c' + body, () => analyzeCode(body));
}

/** Cache entries right now (for the limit's test). */
export function analysisCacheSize(): number {
  return cache.size;
}
