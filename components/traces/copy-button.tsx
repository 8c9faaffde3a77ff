'use client';
import { useState } from 'react';

export function CopyButton({ text, label }: { text: () => string; label: string }) {
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      aria-label={label}
      title={label}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text());
          setDone(true);
          setTimeout(() => setDone(false), 1200);
        } catch {
          // Clipboard needs a secure context; nothing useful to do on plain http besides not crashing.
        }
      }}
      className="inline-flex h-6 items-center gap-1 rounded px-1.5 text-[11px] font-medium text-slate-500 hover:bg-slate-100 hover:text-slate-800"
    >
      <svg
        width="12"
        height="12"
        viewBox="0 0 16 16"
        aria-hidden
        fill="none"
        stroke="currentColor"
        strokeWidth="1.5"
      >
        {done ? <path d="M3 8.5l3 3 7-7" /> : <path d="M5 5V3h8v8h-2M3 5h8v8H3z" />}
      </svg>
      {done ? 'Copied' : 'Copy'}
    </button>
  );
}
