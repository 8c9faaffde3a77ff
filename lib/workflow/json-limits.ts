import type { Problem } from './errors';
import { MAX_DEFINITION_BYTES, MAX_NESTING_DEPTH, MAX_STRING_LENGTH } from './limits';
import { pointer } from './pointer';

// Checked before zod or any recursive code touches the value: an iterative walk with a byte
// budget, so a 100,000-deep array or a 50 MB string costs a bounded amount of work and can
// neither overflow the stack nor hang the process. Shared references and cycles in a JS
// object graph are charged every time they are reached, so they run out of budget too.

export interface JsonLimits {
  maxBytes: number;
  maxDepth: number;
  maxStringLength: number;
}

export const DEFAULT_JSON_LIMITS: JsonLimits = {
  maxBytes: MAX_DEFINITION_BYTES,
  maxDepth: MAX_NESTING_DEPTH,
  maxStringLength: MAX_STRING_LENGTH,
};

interface Frame {
  value: unknown;
  depth: number;
  parent: Frame | null;
  key: string | number;
}

function framePath(f: Frame | null): string {
  const segs: (string | number)[] = [];
  for (let x = f; x && x.parent; x = x.parent) segs.push(x.key);
  return pointer(...segs.reverse());
}

/** UTF-8 bytes of a JSON string literal, stopping once `budget` is passed. */
function stringBytes(s: string, budget: number): number {
  if (s.length + 2 > budget) return s.length + 2;
  let n = 2;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) n += c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6;
    else if (c === 0x22 || c === 0x5c) n += 2;
    else if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
    if (n > budget) return n;
  }
  return n;
}

export interface JsonLimitResult {
  /** Approximate serialized size, exact for plain JSON without insignificant whitespace. */
  bytes: number;
  problems: Problem[];
  /** True when the value must not be inspected further (too large or too deep). */
  fatal: boolean;
}

export function checkJsonLimits(value: unknown, limits: JsonLimits = DEFAULT_JSON_LIMITS): JsonLimitResult {
  const problems: Problem[] = [];
  let bytes = 0;
  const tooLarge = (): JsonLimitResult => ({
    bytes,
    fatal: true,
    problems: [
      ...problems,
      { path: '', code: 'too_large', message: `definition is larger than ${limits.maxBytes} bytes` },
    ],
  });
  const stack: Frame[] = [{ value, depth: 0, parent: null, key: '' }];
  while (stack.length) {
    const f = stack.pop()!;
    const v = f.value;
    if (typeof v === 'string') {
      bytes += stringBytes(v, limits.maxBytes - bytes + 1);
      if (bytes > limits.maxBytes) return tooLarge();
      if (v.length > limits.maxStringLength && problems.length < 20) {
        problems.push({
          path: framePath(f),
          code: 'string_too_long',
          message: `string is ${v.length} characters long; the limit is ${limits.maxStringLength}`,
        });
      }
      continue;
    }
    if (v === null || typeof v !== 'object') {
      bytes += typeof v === 'number' ? String(v).length : typeof v === 'boolean' ? (v ? 4 : 5) : 4;
      if (bytes > limits.maxBytes) return tooLarge();
      continue;
    }
    if (f.depth >= limits.maxDepth) {
      return {
        bytes,
        fatal: true,
        problems: [
          ...problems,
          {
            path: framePath(f),
            code: 'too_deep',
            message: `nesting is deeper than ${limits.maxDepth} levels`,
          },
        ],
      };
    }
    if (Array.isArray(v)) {
      // Every element costs at least one byte plus a comma: reject huge arrays before pushing.
      if (bytes + v.length * 2 > limits.maxBytes) return tooLarge();
      bytes += 2 + Math.max(0, v.length - 1);
      for (let i = v.length - 1; i >= 0; i--)
        stack.push({ value: v[i], depth: f.depth + 1, parent: f, key: i });
      continue;
    }
    const keys = Object.keys(v);
    bytes += 2 + Math.max(0, keys.length * 4 - 1);
    if (bytes > limits.maxBytes) return tooLarge();
    for (let i = keys.length - 1; i >= 0; i--) {
      const k = keys[i];
      bytes += stringBytes(k, limits.maxBytes - bytes + 3) - 2;
      if (bytes > limits.maxBytes) return tooLarge();
      stack.push({ value: (v as Record<string, unknown>)[k], depth: f.depth + 1, parent: f, key: k });
    }
  }
  return { bytes, problems, fatal: false };
}
