'use client';
import { useState } from 'react';
import { conversationOf, type BubbleRole } from './conversation';
import { CopyButton } from './copy-button';
import { formatCost, formatDuration, formatTokens } from './format';
import { JsonTree } from './json-view';
import type { AgentTurn } from './types';

// Agent turns as a chat: system and user on the left, the assistant on the right, tools and
// errors between. Each bubble can show its turn's raw JSON.

const ROLE: Record<BubbleRole, { label: string; tone: string; align: string }> = {
  system: { label: 'System', tone: 'border-slate-200 bg-slate-50 text-slate-700', align: 'mr-8' },
  user: { label: 'User', tone: 'border-sky-200 bg-sky-50 text-sky-950', align: 'mr-8' },
  assistant: { label: 'Assistant', tone: 'border-indigo-200 bg-indigo-50 text-indigo-950', align: 'ml-8' },
  tool: { label: 'Tool', tone: 'border-teal-200 bg-teal-50/60 text-teal-950', align: 'mx-4' },
  error: { label: 'Error', tone: 'border-red-200 bg-red-50 text-red-900', align: 'mx-4' },
  note: { label: 'Note', tone: 'border-amber-200 bg-amber-50 text-amber-900', align: 'mx-4' },
};

export function ConversationView({ turns }: { turns: AgentTurn[] }) {
  const bubbles = conversationOf(turns);
  const [raw, setRaw] = useState<Set<string>>(new Set());
  const toggle = (k: string) =>
    setRaw((s) => {
      const n = new Set(s);
      if (!n.delete(k)) n.add(k);
      return n;
    });
  return (
    <ol aria-label="Conversation" className="flex flex-col gap-2">
      {bubbles.map((b) => {
        const r = ROLE[b.role];
        const t = b.turn;
        const open = raw.has(b.key);
        return (
          <li
            key={b.key}
            aria-label={`${r.label}${b.title ? `: ${b.title}` : ''}`}
            className={`min-w-0 rounded-xl border px-3 py-2 ${r.tone} ${r.align}`}
          >
            <div className="flex items-center gap-2 text-[11px]">
              <span className="font-semibold tracking-wide uppercase">{r.label}</span>
              {b.title && <span className="min-w-0 truncate font-mono">{b.title}</span>}
              <span className="ml-auto flex shrink-0 gap-2 opacity-70 tabular-nums">
                {t.tokens ? <span>{formatTokens(t.tokens)} tok</span> : null}
                {t.cost ? <span>{formatCost(t.cost)}</span> : null}
                {t.latencyMs ? <span>{formatDuration(t.latencyMs)}</span> : null}
              </span>
              <button
                type="button"
                aria-pressed={open}
                aria-label={`Raw JSON of turn ${t.seq}`}
                onClick={() => toggle(b.key)}
                className="rounded px-1 font-mono text-[10px] opacity-70 hover:bg-white/60 hover:opacity-100"
              >
                {'{ }'}
              </button>
            </div>
            {b.text && (
              <p className="mt-1 max-h-64 overflow-auto text-sm break-words whitespace-pre-wrap">{b.text}</p>
            )}
            {open && (
              <div className="mt-2 rounded-md bg-white/80 p-1">
                <div className="flex justify-end">
                  <CopyButton
                    label={`Copy turn ${t.seq} payload`}
                    text={() => JSON.stringify(t.payload, null, 2) ?? ''}
                  />
                </div>
                <JsonTree label={`Turn ${t.seq} payload`} value={t.payload} openDepth={2} />
              </div>
            )}
          </li>
        );
      })}
    </ol>
  );
}
