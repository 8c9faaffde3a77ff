'use client';
import { useState } from 'react';
import { CopyButton } from './copy-button';
import { formatBytes } from './format';
import { isTruncated, type TruncatedMarker } from './types';

// A collapsible JSON tree. Big containers show their first CHILD_PAGE children and a button for
// more, so a 10,000-item output does not freeze the inspector.
const CHILD_PAGE = 100;

function TruncatedBox({ marker }: { marker: TruncatedMarker }) {
  return (
    <div className="my-1 rounded border border-amber-200 bg-amber-50 p-2 text-xs text-amber-900" role="note">
      <div className="font-medium">
        Truncated: {marker.bytes >= 0 ? formatBytes(marker.bytes) : 'unserializable value'} over the trace
        cap; preview:
      </div>
      <pre className="mt-1 max-h-40 overflow-auto font-mono text-[11px] break-all whitespace-pre-wrap text-amber-800">
        {marker.preview}
      </pre>
    </div>
  );
}

function Scalar({ value }: { value: unknown }) {
  if (value === null) return <span className="text-slate-400">null</span>;
  switch (typeof value) {
    case 'string':
      return <span className="break-all whitespace-pre-wrap text-emerald-700">&quot;{value}&quot;</span>;
    case 'number':
      return <span className="text-sky-700">{String(value)}</span>;
    case 'boolean':
      return <span className="text-violet-700">{String(value)}</span>;
    default:
      return <span className="text-slate-400">{String(value)}</span>;
  }
}

function JsonNode({
  name,
  value,
  depth,
  openDepth,
}: {
  name?: string;
  value: unknown;
  depth: number;
  openDepth: number;
}) {
  const [open, setOpen] = useState(depth < openDepth);
  const [limit, setLimit] = useState(CHILD_PAGE);
  const label = name !== undefined ? <span className="text-slate-500">{name}: </span> : null;
  if (isTruncated(value)) {
    return (
      <div>
        {label}
        <TruncatedBox marker={value} />
      </div>
    );
  }
  if (value === null || typeof value !== 'object') {
    return (
      <div className="pl-4">
        {label}
        <Scalar value={value} />
      </div>
    );
  }
  const isArray = Array.isArray(value);
  const entries: [string, unknown][] = isArray
    ? (value as unknown[]).map((v, i) => [String(i), v])
    : Object.entries(value);
  const summary = isArray ? `[${entries.length}]` : `{${entries.length}}`;
  if (entries.length === 0) {
    return (
      <div className="pl-4">
        {label}
        <span className="text-slate-400">{isArray ? '[]' : '{}'}</span>
      </div>
    );
  }
  return (
    <div>
      <button
        type="button"
        onClick={() => setOpen(!open)}
        aria-expanded={open}
        className="flex items-center gap-1 rounded text-left hover:bg-slate-100"
      >
        <svg
          width="12"
          height="12"
          viewBox="0 0 12 12"
          aria-hidden
          className={`text-slate-400 transition-transform ${open ? 'rotate-90' : ''}`}
        >
          <path d="M4 2.5L7.5 6 4 9.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
        </svg>
        {label}
        <span className="text-slate-400">{summary}</span>
      </button>
      {open && (
        <div className="ml-[5px] border-l border-slate-200 pl-2">
          {entries.slice(0, limit).map(([k, v]) => (
            <JsonNode
              key={k}
              name={isArray ? k : JSON.stringify(k).slice(1, -1)}
              value={v}
              depth={depth + 1}
              openDepth={openDepth}
            />
          ))}
          {entries.length > limit && (
            <button
              type="button"
              onClick={() => setLimit(limit + CHILD_PAGE * 10)}
              className="ml-4 text-[11px] font-medium text-brand-700 hover:underline"
            >
              Show more ({entries.length - limit} hidden)
            </button>
          )}
        </div>
      )}
    </div>
  );
}

/** Just the tree, for places that already have a header (agent turns). */
export function JsonTree({
  value,
  label,
  openDepth = 2,
}: {
  value: unknown;
  label: string;
  openDepth?: number;
}) {
  return (
    <div
      aria-label={label}
      role="group"
      className="max-h-80 overflow-auto px-1 font-mono text-[12px] leading-5 text-slate-800"
    >
      <JsonNode value={value} depth={0} openDepth={openDepth} />
    </div>
  );
}

export function JsonView({
  value,
  title,
  openDepth = 2,
  empty = 'No value',
  tone = 'default',
}: {
  value: unknown;
  title: string;
  openDepth?: number;
  empty?: string;
  tone?: 'default' | 'error';
}) {
  const [collapsed, setCollapsed] = useState(false);
  const has = value !== undefined;
  return (
    <section
      aria-label={title}
      className={`rounded-lg border ${tone === 'error' ? 'border-red-200 bg-red-50/40' : 'border-slate-200 bg-white'}`}
    >
      <div className="flex items-center justify-between border-b border-slate-100 px-2.5 py-1">
        <button
          type="button"
          onClick={() => setCollapsed(!collapsed)}
          aria-expanded={!collapsed}
          className="flex items-center gap-1 text-xs font-semibold text-slate-700"
        >
          <svg
            width="12"
            height="12"
            viewBox="0 0 12 12"
            aria-hidden
            className={`text-slate-400 transition-transform ${collapsed ? '' : 'rotate-90'}`}
          >
            <path d="M4 2.5L7.5 6 4 9.5" fill="none" stroke="currentColor" strokeWidth="1.5" />
          </svg>
          {title}
        </button>
        {has && (
          <CopyButton
            label={`Copy ${title.toLowerCase()}`}
            text={() => JSON.stringify(value, null, 2) ?? ''}
          />
        )}
      </div>
      {!collapsed && (
        <div className="max-h-96 overflow-auto px-2 py-1.5 font-mono text-[12px] leading-5 text-slate-800">
          {has ? (
            <JsonNode value={value} depth={0} openDepth={openDepth} />
          ) : (
            <span className="text-slate-400 italic">{empty}</span>
          )}
        </div>
      )}
    </section>
  );
}
