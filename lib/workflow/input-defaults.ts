// A run started without some inputs gets the `default`s its workflow's inputSchema declares for
// top-level properties, as a form pre-filled from the schema would; given values always win.
export function applyInputDefaults(
  inputSchema: Record<string, unknown> | undefined,
  input: unknown,
): unknown {
  const props = inputSchema?.properties;
  if (!props || typeof props !== 'object') return input;
  if (input !== undefined && (input === null || typeof input !== 'object' || Array.isArray(input)))
    return input;
  const out: Record<string, unknown> = { ...((input as Record<string, unknown> | undefined) ?? {}) };
  for (const [key, spec] of Object.entries(props as Record<string, unknown>)) {
    if (out[key] !== undefined || !spec || typeof spec !== 'object' || !('default' in spec)) continue;
    out[key] = structuredClone((spec as { default: unknown }).default);
  }
  return out;
}
