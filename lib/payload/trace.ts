import { jsonText } from './json-text';
import {
  MAX_TRACE_FIELD_BYTES,
  TRACE_PREVIEW_CHARS,
  type Redactor,
  type TruncatedMarker,
  type UnserializableMarker,
} from './marker';

export interface TraceJsonOptions {
  /** Applied before serializing; callers that already masked the value leave it out. */
  redact?: Redactor;
  maxBytes?: number;
}

/**
 * The trace copy of a value as JSON text, or null for "no value" (undefined, functions). Never
 * throws. Above maxBytes the text is replaced by a TruncatedMarker, so a stored field is bounded.
 */
export function toTraceJson(value: unknown, opts: TraceJsonOptions = {}): string | null {
  if (value === undefined) return null;
  const maxBytes = opts.maxBytes ?? MAX_TRACE_FIELD_BYTES;
  let text: string | undefined;
  try {
    text = jsonText(opts.redact ? opts.redact(value) : value);
  } catch (err) {
    const marker: UnserializableMarker = {
      $unserializable: true,
      reason: err instanceof Error ? err.message : String(err),
    };
    text = JSON.stringify(marker);
  }
  if (text === undefined) return null;
  text = stripNul(text);
  // UTF-8 is at most 3 bytes per UTF-16 unit: short texts skip the byte count.
  const bytes = text.length * 3 <= maxBytes ? text.length : Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return text;
  const marker: TruncatedMarker = { $truncated: true, bytes, preview: text.slice(0, TRACE_PREVIEW_CHARS) };
  return JSON.stringify(marker);
}

/** The trace copy as a value (in-memory stores): what a database would hand back. */
export function toTraceValue(value: unknown, opts: TraceJsonOptions = {}): unknown {
  const text = toTraceJson(value, opts);
  return text === null ? undefined : JSON.parse(text);
}

// Postgres jsonb rejects \u0000; one such string must not sink a batch of other steps' writes.
function stripNul(json: string): string {
  if (!json.includes('\\u0000')) return json;
  return json.replace(/(\\+)u0000/g, (m, slashes: string) =>
    slashes.length % 2 === 1 ? `${slashes}ufffd` : m,
  );
}
