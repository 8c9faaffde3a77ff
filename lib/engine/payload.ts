import { MAX_TRACE_FIELD_BYTES, TRACE_PREVIEW_CHARS } from './limits';

// What happens to a payload on its way into the trace: the engine masks secret values (it knows
// them per run); the store caps a field too large with a visible marker (never silently dropped).

export const REDACTED = '[REDACTED]';

/** Same shape as lib/db's marker, so traces look alike whatever the store. */
export interface TruncatedPayload {
  $truncated: true;
  bytes: number;
  preview: string;
}

export function capPayload(value: unknown, maxBytes = MAX_TRACE_FIELD_BYTES): unknown {
  if (value === undefined || value === null || typeof value !== 'object') {
    if (typeof value !== 'string' || value.length * 3 <= maxBytes) return value;
  }
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    return {
      $truncated: true,
      bytes: -1,
      preview: String(value).slice(0, TRACE_PREVIEW_CHARS),
    } satisfies TruncatedPayload;
  }
  if (json === undefined) return value;
  const bytes = Buffer.byteLength(json);
  if (bytes <= maxBytes) return value;
  return { $truncated: true, bytes, preview: json.slice(0, TRACE_PREVIEW_CHARS) } satisfies TruncatedPayload;
}

/** Replace every occurrence of a secret value inside strings, at any depth. */
export function redactSecretValues(value: unknown, secrets: string[]): unknown {
  const list = secrets.filter((s) => s.length >= 4);
  if (list.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') {
      let out = v;
      for (const s of list) if (out.includes(s)) out = out.split(s).join(REDACTED);
      return out;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value);
}
