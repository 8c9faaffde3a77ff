// A large value that arrives as JSON text (a `code` step's result from the sandbox) is needed as
// text again and again on its way through a run: its trace copy, its exact copy, the next step's
// input in the trace and the next sandbox scope. Each was a JSON.stringify of the whole value
// (about 3 ms per 700 KB, fifteen of them for a run of four `code` steps over 10,000 items).
// parseRemembered keeps the text with the value it parsed, and jsonText hands it back. The value
// is deep-frozen, so nothing can make it differ from its text.

/** Texts shorter than this are parsed as they were: remembering costs more than it saves. */
export const REMEMBERED_JSON_MIN_CHARS = 16 * 1024;

const texts = new WeakMap<object, string>();

function deepFreeze(v: unknown): void {
  if (typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) for (let i = 0; i < v.length; i++) deepFreeze(v[i]);
  else for (const k in v) deepFreeze((v as Record<string, unknown>)[k]);
  Object.freeze(v);
}

/**
 * JSON.parse(text). When the text is long and came from JSON.stringify (so that it is exactly
 * what JSON.stringify gives for the value it parses to), the value is deep-frozen and remembers
 * its text. Callers pass only such texts.
 */
export function parseRemembered(text: string): unknown {
  const value: unknown = JSON.parse(text);
  if (text.length >= REMEMBERED_JSON_MIN_CHARS && typeof value === 'object' && value !== null) {
    deepFreeze(value);
    texts.set(value, text);
  }
  return value;
}

/** JSON.stringify(value): the remembered text when parseRemembered made the value. */
export function jsonText(value: unknown): string | undefined {
  if (typeof value === 'object' && value !== null) {
    const text = texts.get(value);
    if (text !== undefined) return text;
  }
  return JSON.stringify(value);
}

/** Whether the value is its own JSON form (parsed by parseRemembered, frozen): no copy needs making. */
export function isRememberedJson(value: unknown): boolean {
  return typeof value === 'object' && value !== null && texts.has(value);
}
