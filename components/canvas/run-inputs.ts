import type { JsonSchema } from './types';

// Run inputs remembered per workflow in this browser (newest first), and a JSON Schema inferred
// from one of them for the workflow's inputSchema.

/** How many recent inputs the Run dialog offers. */
export const RECENT_INPUTS_MAX = 5;
/** An input larger than this (serialised) is run but not remembered: localStorage is small. */
export const RECENT_INPUT_MAX_CHARS = 20_000;

const key = (workflowId: string) => `trellis.runInputs.${workflowId}`;

export function recentInputs(workflowId: string): unknown[] {
  try {
    const v = JSON.parse(localStorage.getItem(key(workflowId)) ?? '[]') as unknown;
    return Array.isArray(v) ? v.slice(0, RECENT_INPUTS_MAX) : [];
  } catch {
    return [];
  }
}

export function rememberInput(workflowId: string, input: unknown): void {
  const text = JSON.stringify(input);
  if (text === undefined || text.length > RECENT_INPUT_MAX_CHARS) return;
  const rest = recentInputs(workflowId).filter((v) => JSON.stringify(v) !== text);
  try {
    localStorage.setItem(key(workflowId), JSON.stringify([input, ...rest].slice(0, RECENT_INPUTS_MAX)));
  } catch {
    // storage full or disabled: nothing remembered
  }
}

/** The shape of a value as a JSON Schema: types, object properties, array items (from the first). */
export function inferSchema(value: unknown): JsonSchema {
  if (value === null || value === undefined) return {};
  if (Array.isArray(value))
    return value.length ? { type: 'array', items: inferSchema(value[0]) } : { type: 'array' };
  switch (typeof value) {
    case 'boolean':
      return { type: 'boolean' };
    case 'number':
      return { type: Number.isInteger(value) ? 'integer' : 'number' };
    case 'string':
      return { type: 'string' };
    case 'object':
      return {
        type: 'object',
        properties: Object.fromEntries(
          Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, inferSchema(v)]),
        ),
      };
    default:
      return {};
  }
}
