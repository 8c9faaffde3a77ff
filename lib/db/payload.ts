import { MAX_TRACE_FIELD_BYTES, TRACE_PREVIEW_CHARS } from '@/lib/engine/limits';

// Trace payloads are stored as JSON text prepared here once: redacted, capped, and made storable.

/** A stored trace field above this many bytes of JSON becomes a TruncatedMarker (the engine's limit). */
export const MAX_PAYLOAD_BYTES = MAX_TRACE_FIELD_BYTES;
export const PAYLOAD_PREVIEW_CHARS = TRACE_PREVIEW_CHARS;

export interface TruncatedMarker {
  $truncated: true;
  /** Size of the original value as JSON, in bytes. */
  bytes: number;
  /** The start of that JSON text. */
  preview: string;
}

export type Redactor = (value: unknown) => unknown;

export function isTruncated(v: unknown): v is TruncatedMarker {
  return typeof v === 'object' && v !== null && (v as TruncatedMarker).$truncated === true;
}

/**
 * JSON text for a jsonb column, or null for SQL NULL (undefined). Never throws: values JSON cannot
 * express (cycles, BigInt) are stored as an error marker rather than failing a whole write batch.
 */
export function toStoredJson(value: unknown, redact?: Redactor, maxBytes = MAX_PAYLOAD_BYTES): string | null {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(redact ? redact(value) : value);
  } catch (err) {
    text = JSON.stringify({
      $unserializable: true,
      reason: err instanceof Error ? err.message : String(err),
    });
  }
  if (text === undefined) return null; // functions, symbols
  text = stripNul(text);
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= maxBytes) return text;
  const marker: TruncatedMarker = { $truncated: true, bytes, preview: text.slice(0, PAYLOAD_PREVIEW_CHARS) };
  return JSON.stringify(marker);
}

// Postgres jsonb rejects \u0000; one such string must not sink a batch of other steps' writes.
function stripNul(json: string): string {
  if (!json.includes('\\u0000')) return json;
  return json.replace(/(\\+)u0000/g, (m, slashes: string) =>
    slashes.length % 2 === 1 ? `${slashes}ufffd` : m,
  );
}
