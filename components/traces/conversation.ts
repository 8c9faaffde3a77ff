import { validationMessage } from './fallback-reason';
import type { AgentTurn } from './types';

// Agent turns (lib/agent/agent-loop.ts records them) read as a conversation. A `request` turn
// carries only the messages new since the previous request: its system and user messages become
// bubbles, while the assistant and tool messages it repeats are already bubbles of their own (the
// `response`, `tool_call` and `tool_result` turns), so they are not shown twice.

export type BubbleRole = 'system' | 'user' | 'assistant' | 'tool' | 'error' | 'note';

export interface Bubble {
  key: string;
  role: BubbleRole;
  /** The heading beside the role ("get_customer", "Answer rejected"). */
  title?: string;
  text: string;
  /** The turn this bubble came from (for its raw payload, tokens, latency). */
  turn: AgentTurn;
}

const asText = (v: unknown): string =>
  typeof v === 'string' ? v : v === undefined || v === null ? '' : JSON.stringify(v, null, 2);

/** `content` of a chat message: a string, or parts of which the text ones are joined. */
function contentText(content: unknown): string {
  if (Array.isArray(content))
    return content
      .map((p) =>
        p && typeof p === 'object' && 'text' in p ? String((p as { text: unknown }).text) : asText(p),
      )
      .join('\n');
  return asText(content);
}

/** Tool arguments arrive as a JSON string; shown pretty when they parse. */
function prettyArgs(raw: unknown): string {
  if (typeof raw !== 'string') return asText(raw);
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

export function conversationOf(turns: AgentTurn[]): Bubble[] {
  const out: Bubble[] = [];
  turns.forEach((t, i) => {
    const p = (t.payload ?? {}) as Record<string, unknown>;
    const key = `${t.seq}-${i}`;
    switch (t.kind) {
      case 'request': {
        const messages = Array.isArray(p.messages) ? (p.messages as Record<string, unknown>[]) : [];
        messages.forEach((m, j) => {
          if (m.role === 'system' || m.role === 'developer' || m.role === 'user')
            out.push({
              key: `${key}-${j}`,
              role: m.role === 'user' ? 'user' : 'system',
              text: contentText(m.content),
              turn: t,
            });
        });
        break;
      }
      case 'response': {
        const m = (p.message ?? {}) as Record<string, unknown>;
        const calls = Array.isArray(m.tool_calls) ? (m.tool_calls as { function?: { name?: string } }[]) : [];
        const text = contentText(m.content);
        out.push({
          key,
          role: 'assistant',
          title: calls.length ? `calls ${calls.map((c) => c.function?.name ?? '?').join(', ')}` : undefined,
          text: text || (calls.length ? '' : '(no content)'),
          turn: t,
        });
        break;
      }
      case 'tool_call':
        out.push({
          key,
          role: 'tool',
          title: `${asText(p.name)} ← arguments`,
          text: prettyArgs(p.arguments),
          turn: t,
        });
        break;
      case 'tool_result':
        out.push({
          key,
          role: p.error !== undefined ? 'error' : 'tool',
          title: `${asText(p.name)} → ${p.error !== undefined ? 'error' : 'result'}`,
          text: prettyArgs(p.error ?? p.result),
          turn: t,
        });
        break;
      case 'validation_error':
        out.push({
          key,
          role: 'error',
          title: 'Answer rejected',
          text: validationMessage(t.payload),
          turn: t,
        });
        break;
      default:
        // The closing summary note is the AgentSummary line; other notes say why something happened.
        if (p.summary !== undefined) break;
        out.push({ key, role: 'note', text: asText(p.message ?? p.fallback ?? t.payload), turn: t });
    }
  });
  return out;
}
