import { pointer } from '@/lib/workflow/pointer';
import { sameValue } from '@/lib/workflow/same-value';

// Where two JSON values differ, as JSON pointers: the failure explorer groups disagreements by
// these paths ("/label", "/address/city"), so one systematic mistake shows as one failure type.

/** Paths reported per case at most; a wholly different value is one path, not thousands. */
export const MAX_DIFF_PATHS = 20;
/** Depth below which a difference is reported at the containing path. */
export const MAX_DIFF_DEPTH = 8;

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/** Leaf-most JSON pointers where `a` and `b` differ ('' when the roots differ in kind). */
export function diffPaths(a: unknown, b: unknown): string[] {
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, path: (string | number)[]) => {
    if (out.length >= MAX_DIFF_PATHS) return;
    if (sameValue(x, y)) return;
    if (path.length < MAX_DIFF_DEPTH && isObject(x) && isObject(y)) {
      const keys = [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
      for (const k of keys) walk(x[k], y[k], [...path, k]);
      return;
    }
    if (path.length < MAX_DIFF_DEPTH && Array.isArray(x) && Array.isArray(y) && x.length === y.length) {
      for (let i = 0; i < x.length; i++) walk(x[i], y[i], [...path, i]);
      return;
    }
    out.push(pointer(...path));
  };
  walk(a, b, []);
  return out;
}

/** The value at a JSON pointer, or undefined. */
export function valueAt(value: unknown, ptr: string): unknown {
  if (ptr === '') return value;
  let cur = value;
  for (const raw of ptr.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur)) cur = cur[Number(key)];
    else if (isObject(cur)) cur = cur[key];
    else return undefined;
  }
  return cur;
}
