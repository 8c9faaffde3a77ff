'use client';
import { useEffect, useRef, useState } from 'react';
import { labelClass } from './form-styles';
import { pendingFields } from './pending-fields';
import { ReferenceButton, ReferencePicker, useReferences } from './reference-picker';

/** JSON editor that commits on blur and says why when the text does not parse. */
export function JsonField({
  id,
  label,
  value,
  onCommit,
  invalid,
  rows = 4,
  nodeId,
  template,
}: {
  id: string;
  label: string;
  value: unknown;
  onCommit: (v: unknown) => void;
  invalid?: boolean;
  rows?: number;
  /** The step the field belongs to, so invalid text shows as that step's problem. */
  nodeId?: string;
  /** Offer the expression picker (the field holds a template: strings may carry `{{ }}`). */
  template?: boolean;
}) {
  const pretty = value === undefined ? '' : JSON.stringify(value, null, 2);
  // Text that did not parse is kept (pending-fields.ts) and comes back when the field does.
  const [text, setText] = useState(() => pendingFields.get(id)?.text ?? pretty);
  const [err, setErr] = useState<string | null>(() => pendingFields.get(id)?.error ?? null);
  const shown = useRef(pretty);
  useEffect(() => {
    // Only a change of the value from outside (undo, another edit) replaces the text.
    if (shown.current === pretty) return;
    shown.current = pretty;
    setText(pretty);
    setErr(null);
    pendingFields.clear(id);
  }, [pretty, id]);
  const commit = (t: string) => {
    if (t.trim() === '') {
      setErr(null);
      pendingFields.clear(id);
      onCommit(undefined);
      return;
    }
    try {
      const v = JSON.parse(t);
      setErr(null);
      pendingFields.clear(id);
      onCommit(v);
    } catch (e) {
      const error = (e as Error).message;
      setErr(error);
      pendingFields.set({ id, label, text: t, error, nodeId });
    }
  };
  const area = useRef<HTMLTextAreaElement>(null);
  const wrap = useRef<HTMLDivElement>(null);
  const [picking, setPicking] = useState(false);
  const refs = useReferences();
  const canPick = template && refs.groups.length > 0;
  const insert = (path: string) => {
    const el = area.current;
    const start = el?.selectionStart ?? text.length;
    const end = el?.selectionEnd ?? text.length;
    const before = text.slice(0, start);
    // Inside a JSON string the reference joins the string; elsewhere it becomes one.
    const ref = insideJsonString(before) ? `{{ ${path} }}` : JSON.stringify(`{{ ${path} }}`);
    const next = before + ref + text.slice(end);
    setText(next);
    setPicking(false);
    commit(next);
    requestAnimationFrame(() => {
      el?.focus();
      el?.setSelectionRange(start + ref.length, start + ref.length);
    });
  };
  return (
    <div>
      <div className="flex items-end justify-between">
        <label htmlFor={id} className={labelClass}>
          {label} <span className="font-normal text-slate-400">(JSON)</span>
        </label>
        {canPick && (
          <ReferenceButton
            label={label}
            open={picking}
            onToggle={() => setPicking((o) => !o)}
            className="mb-1 px-1 text-[10px]"
          />
        )}
      </div>
      <div ref={wrap}>
        <textarea
          ref={area}
          onKeyDown={(e) => {
            if (e.key === ' ' && e.ctrlKey && canPick) {
              e.preventDefault();
              setPicking(true);
            }
          }}
          id={id}
          rows={rows}
          spellCheck={false}
          aria-invalid={invalid || !!err || undefined}
          className="w-full rounded-md border border-slate-300 px-2 py-1 font-mono text-xs outline-none focus:border-brand-500 focus:ring-2 focus:ring-brand-500/20 aria-[invalid=true]:border-red-400"
          value={text}
          onChange={(e) => setText(e.target.value)}
          onBlur={() => commit(text)}
        />
      </div>
      {picking && (
        <ReferencePicker
          label={label}
          anchor={wrap}
          onPick={insert}
          onClose={() => {
            setPicking(false);
            area.current?.focus();
          }}
        />
      )}
      {err && <p className="mt-1 text-[11px] text-red-600">Not valid JSON (not applied, not saved): {err}</p>}
    </div>
  );
}

/** Is the end of `before` inside a JSON string literal? (Counts unescaped quotes.) */
export function insideJsonString(before: string): boolean {
  let inside = false;
  for (let i = 0; i < before.length; i++) {
    if (before[i] === '\\' && inside) i++;
    else if (before[i] === '"') inside = !inside;
  }
  return inside;
}
