// Prompt fragments shared by the model client, the agent loop and the scripted mock server (which
// reads the schema back out of the system prompt to answer in shape).
export const SCHEMA_MARKER = 'Answer with one JSON value only, matching this JSON Schema:';

export function schemaInstruction(schema: Record<string, unknown>): string {
  return `${SCHEMA_MARKER}\n${JSON.stringify(schema)}`;
}

export function extractSchema(text: string): Record<string, unknown> | undefined {
  const i = text.lastIndexOf(SCHEMA_MARKER);
  if (i < 0) return undefined;
  const line = text
    .slice(i + SCHEMA_MARKER.length)
    .trimStart()
    .split('\n')[0];
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
