import { isRememberedJson } from '@/lib/payload';
import type { ExpressionScope } from '@/lib/workflow/expression-scope';
import type { PathKey, ScopeRoot } from './analyze';
import { ExpressionError } from './errors';

// The fast path for plain references (`steps.a.output.b[0].c`): reads own properties only, never
// walks a prototype, and answers exactly what the sandbox would answer for the JSON of the scope.
// When the walk meets anything that is not plain JSON data (a Date, a class instance, an object
// with toJSON), it gives up (returns NOT_PLAIN) and the caller asks the sandbox instead.

export const NOT_PLAIN: unique symbol = Symbol('not plain');

const hasOwn = Object.prototype.hasOwnProperty;
const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function isPlainContainer(v: object): boolean {
  if (Array.isArray(v)) return true;
  const proto = Object.getPrototypeOf(v);
  return (proto === Object.prototype || proto === null) && !hasOwn.call(v, 'toJSON');
}

function describe(v: unknown): string {
  return v === null ? 'null' : 'undefined';
}

/** The value's JSON form: what the sandbox would have seen after the scope crossed as JSON. */
function asJson(v: unknown): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'bigint':
      throw new ExpressionError('TypeError: BigInt cannot be serialized to JSON');
    default: {
      if (v === null) return null;
      // Parsed from its JSON text and frozen: already what the JSON round trip would give.
      if (isRememberedJson(v)) return v;
      const text = JSON.stringify(v);
      return text === undefined ? undefined : JSON.parse(text);
    }
  }
}

export function readReference(scope: ExpressionScope, root: ScopeRoot, path: PathKey[]): unknown {
  let cur: unknown = (scope as unknown as Record<string, unknown>)[root];
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    if (cur === null || cur === undefined) {
      throw new ExpressionError(`TypeError: cannot read property '${String(key)}' of ${describe(cur)}`);
    }
    if (typeof cur === 'object') {
      if (!isPlainContainer(cur)) return NOT_PLAIN;
    } else if (typeof cur === 'function') {
      // A host function never crosses into the sandbox: there it is undefined.
      throw new ExpressionError(`TypeError: cannot read property '${String(key)}' of undefined`);
    } else if (typeof cur === 'number' && !Number.isFinite(cur)) {
      // JSON turned NaN/Infinity into null.
      throw new ExpressionError(`TypeError: cannot read property '${String(key)}' of null`);
    } else if (typeof cur !== 'string') {
      // Numbers and booleans have no own properties; the sandbox's inherited methods become
      // undefined in the JSON result anyway.
      cur = undefined;
      continue;
    }
    if (Array.isArray(cur)) {
      // JSON keeps only an array's elements: holes, undefined and functions become null.
      const index = typeof key === 'number' ? key : /^(0|[1-9]\d*)$/.test(key) ? Number(key) : undefined;
      if (index === undefined) {
        cur = key === 'length' ? cur.length : undefined;
      } else {
        const v: unknown = index < cur.length ? cur[index] : undefined;
        cur =
          index < cur.length && (v === undefined || typeof v === 'function' || typeof v === 'symbol')
            ? null
            : v;
      }
      continue;
    }
    const own = !(typeof key === 'string' && FORBIDDEN.has(key)) && hasOwn.call(cur, key);
    // A missing key reads as undefined; reading further from it throws, as in the sandbox.
    cur = own ? (cur as Record<PathKey, unknown>)[key] : undefined;
  }
  return asJson(cur);
}
