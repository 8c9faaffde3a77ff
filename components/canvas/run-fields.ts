// Turns a value from a past run into the references the expression picker offers: one row per
// field, with the exact path an expression needs (`steps.fetch.output.body.items[0].id`). Keys that
// are not identifiers are bracketed and quoted, so the inserted path always evaluates.

/** How deep the picker walks into a value, and how many rows one value may add. */
export const MAX_FIELD_DEPTH = 4;
export const MAX_FIELDS_PER_VALUE = 60;

export interface FieldRef {
  /** The full expression path to insert. */
  path: string;
  /** The path relative to the value (`body.priority`), what the list shows. */
  label: string;
  /** A short rendering of the value seen in the run. */
  preview: string;
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** `base.key` when key is an identifier, else `base["key"]`. */
export function childPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return IDENT.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`;
}

export function previewOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `array(${v.length})`;
  if (typeof v === 'object') return 'object';
  const s = typeof v === 'string' ? JSON.stringify(v) : String(v);
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

/**
 * The value itself, then its fields depth-first (arrays by their first item). Stops at
 * MAX_FIELD_DEPTH levels and MAX_FIELDS_PER_VALUE rows.
 */
export function fieldRefs(base: string, value: unknown): FieldRef[] {
  const out: FieldRef[] = [{ path: base, label: '(whole value)', preview: previewOf(value) }];
  const walk = (v: unknown, path: string, label: string, depth: number) => {
    if (depth >= MAX_FIELD_DEPTH || v === null || typeof v !== 'object') return;
    const entries: [string | number, unknown][] = Array.isArray(v)
      ? v.length
        ? [[0, v[0]]]
        : []
      : Object.entries(v as Record<string, unknown>);
    for (const [k, child] of entries) {
      if (out.length >= MAX_FIELDS_PER_VALUE) return;
      const p = childPath(path, k);
      const l = typeof k === 'number' ? `${label}[${k}]` : label ? `${label}.${k}` : k;
      out.push({ path: p, label: l, preview: previewOf(child) });
      walk(child, p, l, depth + 1);
    }
  };
  walk(value, base, '', 0);
  return out;
}
