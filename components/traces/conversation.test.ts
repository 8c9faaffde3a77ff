import { describe, expect, it } from 'vitest';
import { conversationOf } from './conversation';
import type { AgentTurn } from './types';

const turn = (seq: number, kind: string, payload: unknown): AgentTurn => ({ seq, kind, payload });

describe('conversationOf', () => {
  it('reads a tool-using run as system, user, assistant, tool, assistant without repeats', () => {
    const turns = [
      turn(1, 'request', {
        messages: [
          { role: 'system', content: 'Label the ticket.' },
          { role: 'user', content: 'My invoice is wrong' },
        ],
      }),
      turn(2, 'response', {
        message: { content: null, tool_calls: [{ function: { name: 'self', arguments: '{}' } }] },
      }),
      turn(3, 'tool_call', { id: 'c1', name: 'self', arguments: '{"text":"x"}' }),
      turn(4, 'tool_result', { id: 'c1', name: 'self', result: '{"label":"billing"}' }),
      // The second request repeats the assistant and tool messages: not shown again.
      turn(5, 'request', {
        messages: [
          { role: 'assistant', content: null, tool_calls: [] },
          { role: 'tool', tool_call_id: 'c1', content: '{"label":"billing"}' },
        ],
      }),
      turn(6, 'response', { message: { content: '{"label":"billing"}' } }),
      turn(7, 'note', { summary: { mode: 'agent', outcome: 'ok' } }),
    ];
    const bubbles = conversationOf(turns);
    expect(bubbles.map((b) => [b.role, b.title ?? '', b.text])).toEqual([
      ['system', '', 'Label the ticket.'],
      ['user', '', 'My invoice is wrong'],
      ['assistant', 'calls self', ''],
      ['tool', 'self ← arguments', '{\n  "text": "x"\n}'],
      ['tool', 'self → result', '{\n  "label": "billing"\n}'],
      ['assistant', '', '{"label":"billing"}'],
    ]);
  });

  it('shows rejected answers, failed tools, repair prompts and notes', () => {
    const bubbles = conversationOf([
      turn(1, 'tool_result', { name: 'http', error: 'host not allowed' }),
      turn(2, 'validation_error', { errors: [{ path: '/label', message: 'must be one of billing, other' }] }),
      turn(3, 'request', { messages: [{ role: 'user', content: [{ type: 'text', text: 'Reply again' }] }] }),
      turn(4, 'note', { fallback: 'timeout', message: 'no answer within 100 ms' }),
    ]);
    expect(bubbles.map((b) => b.role)).toEqual(['error', 'error', 'user', 'note']);
    expect(bubbles[1].text).toContain('must be one of');
    expect(bubbles[2].text).toBe('Reply again');
    expect(bubbles[3].text).toBe('no answer within 100 ms');
  });
});
