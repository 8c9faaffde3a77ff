// A small JSON Schema subset checker for model answers and tool arguments. It covers what output
// schemas and tool parameter schemas use in practice (type, properties, required, enum, const,
// items, additionalProperties, minimum/maximum, minLength/maxLength, minItems/maxItems, anyOf);
// unknown keywords are ignored rather than refused, so a richer schema never blocks a valid answer.

export interface SchemaError {
  /** JSON pointer into the checked value, e.g. /items/0/label ("" is the root). */
  path: string;
  message: string;
}

type Schema = Record<string, unknown>;

const escapePointer = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function matchesType(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  if (t === 'number') return actual === 'number' || actual === 'integer';
  return actual === t;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Schema)[k], (b as Schema)[k]));
}

function check(schema: unknown, value: unknown, path: string, out: SchemaError[]): void {
  if (schema === true || schema === undefined) return;
  if (schema === false) {
    out.push({ path, message: 'no value is allowed here' });
    return;
  }
  if (typeof schema !== 'object' || schema === null) return;
  const s = schema as Schema;

  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => matchesType(value, t))) {
      out.push({ path, message: `expected ${types.join(' or ')}, got ${typeOf(value)}` });
      return; // further keywords would only repeat the same mistake
    }
  }
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, value))) {
    out.push({ path, message: `must be one of ${s.enum.map((e) => JSON.stringify(e)).join(', ')}` });
  }
  if ('const' in s && !deepEqual(s.const, value)) {
    out.push({ path, message: `must be ${JSON.stringify(s.const)}` });
  }
  if (Array.isArray(s.anyOf)) {
    const ok = s.anyOf.some((sub) => {
      const errs: SchemaError[] = [];
      check(sub, value, path, errs);
      return errs.length === 0;
    });
    if (!ok) out.push({ path, message: 'matches none of the allowed shapes (anyOf)' });
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum)
      out.push({ path, message: `must be >= ${s.minimum}` });
    if (typeof s.maximum === 'number' && value > s.maximum)
      out.push({ path, message: `must be <= ${s.maximum}` });
  }
  if (typeof value === 'string') {
    const len = [...value].length;
    if (typeof s.minLength === 'number' && len < s.minLength)
      out.push({ path, message: `must be at least ${s.minLength} characters` });
    if (typeof s.maxLength === 'number' && len > s.maxLength)
      out.push({ path, message: `must be at most ${s.maxLength} characters` });
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems)
      out.push({ path, message: `must hold at least ${s.minItems} items` });
    if (typeof s.maxItems === 'number' && value.length > s.maxItems)
      out.push({ path, message: `must hold at most ${s.maxItems} items` });
    if (s.items !== undefined) value.forEach((item, i) => check(s.items, item, `${path}/${i}`, out));
  }
  if (typeOf(value) === 'object') {
    const obj = value as Schema;
    const props = (s.properties ?? {}) as Record<string, unknown>;
    if (Array.isArray(s.required)) {
      for (const key of s.required as string[]) {
        if (!Object.hasOwn(obj, key))
          out.push({ path: `${path}/${escapePointer(key)}`, message: 'is required' });
      }
    }
    for (const [key, v] of Object.entries(obj)) {
      const p = `${path}/${escapePointer(key)}`;
      if (Object.hasOwn(props, key)) check(props[key], v, p, out);
      else if (s.additionalProperties === false) out.push({ path: p, message: 'is not an allowed property' });
      else if (typeof s.additionalProperties === 'object') check(s.additionalProperties, v, p, out);
    }
  }
}

/** Every problem at once, each with a JSON pointer; [] means valid. */
export function checkJsonSchema(schema: unknown, value: unknown): SchemaError[] {
  const out: SchemaError[] = [];
  check(schema, value, '', out);
  return out;
}

/** Models wrap JSON in code fences or add a sentence around it; take the JSON out. */
export function parseModelJson(text: string): { ok: true; value: unknown } | { ok: false; error: string } {
  let t = text.trim();
  const fence = /^```(?:json)?\s*([\s\S]*?)\s*```$/i.exec(t);
  if (fence) t = fence[1];
  try {
    return { ok: true, value: JSON.parse(t) };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}
