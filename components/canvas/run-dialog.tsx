'use client';
import { useEffect, useState } from 'react';
import { Button } from '@/components/ui/button';
import { Dialog } from '@/components/ui/dialog';
import { inferSchema, recentInputs, rememberInput } from './run-inputs';
import { inputClass, labelClass } from './schema-form';
import type { JsonSchema } from './types';

const short = (v: unknown) => {
  const t = JSON.stringify(v) ?? '';
  return t.length > 60 ? `${t.slice(0, 59)}…` : t;
};

/** Input form from the workflow's inputSchema; a JSON textarea when the schema is absent or complex. */
export function RunDialog({
  open,
  workflowId,
  schema,
  onClose,
  onRun,
  onInferSchema,
  busy,
  error,
}: {
  open: boolean;
  workflowId: string;
  schema: JsonSchema | undefined;
  onClose: () => void;
  onRun: (input: unknown) => void;
  /** Writes the workflow's inputSchema (an unsaved change in the editor). */
  onInferSchema: (schema: JsonSchema) => void;
  busy: boolean;
  error: string | null;
}) {
  const props = schema?.properties ?? {};
  const simple =
    Object.keys(props).length > 0 &&
    Object.values(props).every(
      (p) => ['string', 'number', 'integer', 'boolean'].includes(String(p.type)) || p.enum,
    );
  const [values, setValues] = useState<Record<string, string | boolean>>({});
  const [json, setJson] = useState('{}');
  const [jsonErr, setJsonErr] = useState<string | null>(null);
  const [recent, setRecent] = useState<unknown[]>([]);

  /** Put a remembered input into the form (or the JSON box). */
  const fill = (input: unknown) => {
    setJson(JSON.stringify(input ?? {}, null, 2));
    const obj = input && typeof input === 'object' && !Array.isArray(input) ? input : {};
    setValues(
      Object.fromEntries(
        Object.entries(obj as Record<string, unknown>)
          .filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v))
          .map(([k, v]) => [k, typeof v === 'boolean' ? v : String(v)]),
      ),
    );
  };
  // Each time the dialog opens it starts from the last input this workflow ran with.
  useEffect(() => {
    if (!open) return;
    const r = recentInputs(workflowId);
    setRecent(r);
    setJsonErr(null);
    if (r.length) fill(r[0]);
  }, [open, workflowId]);

  const run = (input: unknown) => {
    rememberInput(workflowId, input);
    onRun(input);
  };
  const inferFromJson = () => {
    try {
      const value = json.trim() ? JSON.parse(json) : {};
      setJsonErr(null);
      onInferSchema(inferSchema(value));
      fill(value);
    } catch (e) {
      setJsonErr((e as Error).message);
    }
  };

  const submit = () => {
    if (!simple) {
      try {
        const input = json.trim() ? JSON.parse(json) : {};
        setJsonErr(null);
        run(input);
      } catch (e) {
        setJsonErr((e as Error).message);
      }
      return;
    }
    const input: Record<string, unknown> = {};
    for (const [k, p] of Object.entries(props)) {
      const v = values[k];
      if (v === undefined || v === '') continue;
      input[k] = p.type === 'number' || p.type === 'integer' ? Number(v) : v;
    }
    run(input);
  };

  return (
    <Dialog
      open={open}
      title="Run workflow"
      onClose={onClose}
      footer={
        <>
          <Button onClick={onClose}>Cancel</Button>
          <Button variant="primary" onClick={submit} disabled={busy}>
            {busy ? 'Starting…' : 'Start run'}
          </Button>
        </>
      }
    >
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
        className="space-y-3"
      >
        {recent.length > 1 && (
          <div>
            <label htmlFor="run-recent" className={labelClass}>
              Recent inputs
            </label>
            <select
              id="run-recent"
              className={inputClass}
              defaultValue="0"
              onChange={(e) => fill(recent[Number(e.target.value)])}
            >
              {recent.map((r, i) => (
                <option key={i} value={i}>
                  {i === 0 ? 'Last: ' : ''}
                  {short(r)}
                </option>
              ))}
            </select>
          </div>
        )}
        {simple ? (
          Object.entries(props).map(([k, p]) => (
            <div key={k}>
              {p.type === 'boolean' ? (
                <label className="flex items-center gap-2 text-xs">
                  <input
                    type="checkbox"
                    checked={values[k] === true}
                    onChange={(e) => setValues({ ...values, [k]: e.target.checked })}
                  />
                  {p.title ?? k}
                </label>
              ) : (
                <>
                  <label htmlFor={`run-input-${k}`} className={labelClass}>
                    {p.title ?? k}
                    {schema?.required?.includes(k) && <span className="text-red-500"> *</span>}
                  </label>
                  {p.enum ? (
                    <select
                      id={`run-input-${k}`}
                      className={inputClass}
                      value={String(values[k] ?? '')}
                      onChange={(e) => setValues({ ...values, [k]: e.target.value })}
                    >
                      <option value="" />
                      {p.enum.map((o) => (
                        <option key={String(o)}>{String(o)}</option>
                      ))}
                    </select>
                  ) : (
                    <input
                      id={`run-input-${k}`}
                      type={p.type === 'string' ? 'text' : 'number'}
                      className={inputClass}
                      value={String(values[k] ?? '')}
                      onChange={(e) => setValues({ ...values, [k]: e.target.value })}
                    />
                  )}
                  {p.description && <p className="mt-1 text-[11px] text-slate-400">{p.description}</p>}
                </>
              )}
            </div>
          ))
        ) : (
          <div>
            <label htmlFor="run-input-json" className={labelClass}>
              Input (JSON)
            </label>
            <textarea
              id="run-input-json"
              rows={8}
              spellCheck={false}
              className="w-full rounded-md border border-slate-300 p-2 font-mono text-xs"
              value={json}
              onChange={(e) => setJson(e.target.value)}
            />
            {jsonErr && <p className="mt-1 text-xs text-red-600">Not valid JSON: {jsonErr}</p>}
            <div className="mt-2 flex items-center gap-2">
              <Button size="sm" variant="ghost" onClick={inferFromJson}>
                Infer input schema from this input
              </Button>
              <span className="text-[11px] text-slate-400">the Run form is built from it</span>
            </div>
          </div>
        )}
        {error && (
          <p role="alert" className="rounded-md bg-red-50 p-2 text-xs text-red-700">
            {error}
          </p>
        )}
        <button type="submit" hidden />
      </form>
    </Dialog>
  );
}
