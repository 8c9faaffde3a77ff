import type { AgentTurn } from './types';

// Fallback codes (lib/agent) in words for the agent view. Unknown codes still show, verbatim.

export const FALLBACK_REASONS: Record<string, string> = {
  no_model_configured:
    'No model is configured (set OPENAI_API_KEY or OPENAI_BASE_URL), so the deterministic step ran.',
  invalid_output: "The agent's answer did not match the step's output schema.",
  max_steps: 'The agent used all of its allowed steps without a valid answer.',
  budget: 'The agent hit its token or cost budget.',
  timeout: 'The agent ran out of time.',
  tool_error: 'A tool the agent called failed.',
  model_error: 'The model endpoint returned an error.',
};

export function fallbackSentence(code: string | null | undefined): string | null {
  if (!code) return null;
  return FALLBACK_REASONS[code] ?? `The agent fell back (${code}).`;
}

/** The most specific words a validation_error turn carries ("/label must be one of …"). */
export function validationMessage(payload: unknown): string {
  if (typeof payload === 'string') return payload;
  if (payload && typeof payload === 'object') {
    const p = payload as Record<string, unknown>;
    const list = (p.errors ?? p.problems ?? p.issues) as unknown;
    if (Array.isArray(list) && list.length) {
      return list
        .map((e) => {
          if (typeof e === 'string') return e;
          const o = e as Record<string, unknown>;
          const path = (o.path ?? o.instancePath ?? o.pointer) as unknown;
          const msg = (o.message ?? o.msg ?? JSON.stringify(o)) as string;
          return path !== undefined && path !== ''
            ? `${Array.isArray(path) ? '/' + path.join('/') : String(path)} ${msg}`
            : msg;
        })
        .join('; ');
    }
    if (typeof p.message === 'string') return p.message;
    if (typeof p.error === 'string') return p.error;
  }
  return JSON.stringify(payload);
}

export function lastValidationError(turns: AgentTurn[]): string | null {
  for (let i = turns.length - 1; i >= 0; i--)
    if (turns[i].kind === 'validation_error') return validationMessage(turns[i].payload);
  return null;
}

/** "output failed schema: /label must be one of …" when a validation error explains the code. */
export function fallbackExplanation(code: string | null | undefined, turns: AgentTurn[]): string | null {
  const sentence = fallbackSentence(code);
  const validation = lastValidationError(turns);
  if (!sentence) return validation ? `Output failed schema: ${validation}` : null;
  return validation && (code === 'invalid_output' || code === 'max_steps')
    ? `${sentence} Last error: ${validation}`
    : sentence;
}
