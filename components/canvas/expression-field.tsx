'use client';
import { useRef, useState } from 'react';
import { ReferenceButton, ReferencePicker, useReferences } from './reference-picker';

// A text field for templates (`{{ expr }}` inside strings) and whole expressions. It highlights
// the `{{ }}` parts underneath and offers references (input.*, upstream steps by name, with the
// fields their last run produced) from the ReferencesContext the inspector provides.

const TEMPLATE_RE = /(\{\{[\s\S]*?\}\})/g;

export function Highlighted({ text }: { text: string }) {
  const parts = text.split(TEMPLATE_RE);
  return (
    <>
      {parts.map((p, i) =>
        /^\{\{[\s\S]*\}\}$/.test(p) ? (
          <mark key={i} className="rounded bg-brand-100 px-0.5 text-brand-700">
            {p}
          </mark>
        ) : (
          <span key={i}>{p}</span>
        ),
      )}
    </>
  );
}

export function ExpressionField({
  id,
  label,
  value,
  onChange,
  kind,
  multiline,
  rows = 3,
  invalid,
  placeholder,
}: {
  id: string;
  label: string;
  value: string;
  onChange: (v: string) => void;
  /** `template`: references are inserted as `{{ path }}`; `expression`: bare. */
  kind: 'template' | 'expression' | 'plain';
  multiline?: boolean;
  /** Height of a multiline field (it can be dragged taller). */
  rows?: number;
  invalid?: boolean;
  placeholder?: string;
}) {
  const ref = useRef<HTMLTextAreaElement & HTMLInputElement>(null);
  const [open, setOpen] = useState(false);
  const wrap = useRef<HTMLDivElement>(null);
  const hasRefs = useReferences().groups.length > 0;

  const insert = (path: string) => {
    const el = ref.current;
    const text = kind === 'expression' ? path : `{{ ${path} }}`;
    const start = el?.selectionStart ?? value.length;
    const end = el?.selectionEnd ?? value.length;
    // Typing "{{" then picking a reference should not leave a doubled "{{".
    const before =
      kind !== 'expression' && value.slice(0, start).endsWith('{{')
        ? value.slice(0, start - 2)
        : value.slice(0, start);
    const next = before + text + value.slice(end);
    onChange(next);
    close();
    requestAnimationFrame(() => {
      el?.focus();
      const pos = before.length + text.length;
      el?.setSelectionRange(pos, pos);
    });
  };

  const close = () => {
    setOpen(false);
    ref.current?.focus();
  };

  const common = {
    id,
    ref,
    value,
    placeholder,
    'aria-invalid': invalid || undefined,
    spellCheck: false,
    onChange: (e: React.ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) => {
      onChange(e.target.value);
      if (hasRefs && kind !== 'plain' && e.target.value.slice(0, e.target.selectionStart ?? 0).endsWith('{{'))
        setOpen(true);
    },
    onKeyDown: (e: React.KeyboardEvent) => {
      if (e.key === ' ' && e.ctrlKey && kind !== 'plain' && hasRefs) {
        e.preventDefault();
        setOpen(true);
      }
    },
    className: `w-full rounded-md border bg-white px-2 py-1.5 text-xs outline-none focus:ring-2 ${
      invalid
        ? 'border-red-400 focus:ring-red-500/20'
        : 'border-slate-300 focus:border-brand-500 focus:ring-brand-500/20'
    } ${kind === 'plain' ? '' : 'font-mono'}`,
  };

  return (
    <div className="relative">
      <div ref={wrap} className="flex items-start gap-1">
        {multiline ? (
          <textarea rows={rows} {...common} className={`${common.className} resize-y`} />
        ) : (
          <input type="text" {...common} />
        )}
        {kind !== 'plain' && hasRefs && (
          <ReferenceButton
            label={label}
            open={open}
            onToggle={() => setOpen((o) => !o)}
            className="h-7 shrink-0 rounded-md px-1.5 text-[11px]"
          />
        )}
      </div>
      {kind !== 'plain' && value.includes('{{') && (
        <div
          aria-hidden
          className="mt-1 truncate rounded bg-slate-50 px-2 py-1 font-mono text-[11px] whitespace-pre-wrap text-slate-600"
        >
          <Highlighted text={value} />
        </div>
      )}
      {open && <ReferencePicker label={label} anchor={wrap} onPick={insert} onClose={close} />}
    </div>
  );
}
