// A structural diff of two JSON values for the compare view and shadow steps. Arrays compare by
// index (outputs are positional: map results, lists); objects by key. Paths are JSON pointers.

export type DiffKind = 'added' | 'removed' | 'changed';

export interface DiffEntry {
  path: string;
  kind: DiffKind;
  before?: unknown;
  after?: unknown;
}

export interface DiffResult {
  entries: DiffEntry[];
  /** More differences existed than MAX_DIFF_ENTRIES; the list stops there. */
  truncated: boolean;
}

/** A huge output differing everywhere must not build a 100k-row table in the browser. */
export const MAX_DIFF_ENTRIES = 500;

export function escapePointer(segment: string): string {
  return segment.replace(/~/g, '~0').replace(/\//g, '~1');
}

function kindOf(v: unknown): 'array' | 'object' | 'null' | 'primitive' {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v === 'object' ? 'object' : 'primitive';
}

export function jsonEqual(a: unknown, b: unknown): boolean {
  return jsonDiff(a, b, 1).entries.length === 0;
}

export function jsonDiff(a: unknown, b: unknown, maxEntries = MAX_DIFF_ENTRIES): DiffResult {
  const entries: DiffEntry[] = [];
  let truncated = false;
  const push = (e: DiffEntry) => {
    if (entries.length >= maxEntries) truncated = true;
    else entries.push(e);
  };
  const walk = (x: unknown, y: unknown, path: string) => {
    if (truncated) return;
    if (x === undefined && y === undefined) return;
    if (x === undefined) return push({ path, kind: 'added', after: y });
    if (y === undefined) return push({ path, kind: 'removed', before: x });
    const kx = kindOf(x);
    const ky = kindOf(y);
    if (kx !== ky) return push({ path, kind: 'changed', before: x, after: y });
    if (kx === 'array') {
      const xa = x as unknown[];
      const ya = y as unknown[];
      const n = Math.max(xa.length, ya.length);
      for (let i = 0; i < n; i++)
        walk(i < xa.length ? xa[i] : undefined, i < ya.length ? ya[i] : undefined, `${path}/${i}`);
      return;
    }
    if (kx === 'object') {
      const xo = x as Record<string, unknown>;
      const yo = y as Record<string, unknown>;
      const keys = new Set([...Object.keys(xo), ...Object.keys(yo)]);
      for (const k of keys) {
        walk(
          Object.prototype.hasOwnProperty.call(xo, k) ? xo[k] : undefined,
          Object.prototype.hasOwnProperty.call(yo, k) ? yo[k] : undefined,
          `${path}/${escapePointer(k)}`,
        );
      }
      return;
    }
    if (!Object.is(x, y)) push({ path, kind: 'changed', before: x, after: y });
  };
  walk(a, b, '');
  return { entries, truncated };
}
