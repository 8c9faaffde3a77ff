// The shapes a trace field takes when its value cannot be kept as is. No imports: the trace
// viewer (components/) shares these with the stores.

/** A trace field larger than this (JSON bytes) is stored as a TruncatedMarker with a preview. */
export const MAX_TRACE_FIELD_BYTES = 256 * 1024;
/** Characters of a capped payload kept as a preview. */
export const TRACE_PREVIEW_CHARS = 2_000;

/** What a capped trace field holds instead of its value (never silently dropped). */
export interface TruncatedMarker {
  $truncated: true;
  /** Size of the original value as JSON, in bytes. */
  bytes: number;
  /** The start of that JSON text. */
  preview: string;
}

/** What a value JSON cannot express (cycles, BigInt) is stored as, rather than failing a batch. */
export interface UnserializableMarker {
  $unserializable: true;
  reason: string;
}

export type Redactor = (value: unknown) => unknown;

export function isTruncated(v: unknown): v is TruncatedMarker {
  return typeof v === 'object' && v !== null && (v as TruncatedMarker).$truncated === true;
}
