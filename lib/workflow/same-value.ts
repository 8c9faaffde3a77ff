// Equality of two JSON values regardless of key order: how a shadow agent's answer is compared
// with the deterministic step's (the engine's evaluation event and the promotion report agree).

export function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

export const sameValue = (a: unknown, b: unknown) => stableJson(a) === stableJson(b);
