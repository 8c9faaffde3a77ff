'use client';
import { GRADED, SCORER_LABEL, type ScorerDraft, type ScorerKind } from './scorer-draft';

export { DEFAULT_SCORER_DRAFT, scorerRequest, type ScorerDraft } from './scorer-draft';

// The scorer of a new backtest: every kind the API accepts (lib/promotion/spec.ts scorerSchema).
// Rendered inside the launcher's two-column grid: the kind beside the runs, its fields below.

const input = 'mt-0.5 h-7 w-full rounded-md border border-slate-300 px-2 font-mono text-xs';

export function ScorerPicker({
  value,
  onChange,
  error,
}: {
  value: ScorerDraft;
  onChange: (d: ScorerDraft) => void;
  /** A problem with the scorer, its JSON pointer first (from the form's check or the API). */
  error: string | null;
}) {
  const set = (patch: Partial<ScorerDraft>) => onChange({ ...value, ...patch });
  return (
    <>
      <label className="col-span-2 text-[11px] text-slate-600">
        Scorer
        <select
          aria-label="Scorer"
          value={value.kind}
          onChange={(e) => set({ kind: e.target.value as ScorerKind })}
          className="mt-0.5 h-7 w-full rounded-md border border-slate-300 px-1 text-xs"
        >
          {(Object.keys(SCORER_LABEL) as ScorerKind[]).map((k) => (
            <option key={k} value={k}>
              {SCORER_LABEL[k]}
            </option>
          ))}
        </select>
      </label>
      <div className="col-span-2 space-y-2">
        {value.kind === 'fields' && (
          <label className="block text-[11px] text-slate-600">
            Fields (comma-separated, e.g. label, address/city)
            <input value={value.fields} onChange={(e) => set({ fields: e.target.value })} className={input} />
          </label>
        )}
        {value.kind === 'numeric' && (
          <div className="grid grid-cols-2 items-end gap-2">
            <label className="text-[11px] text-slate-600">
              Tolerance
              <input
                type="number"
                min={0}
                step="any"
                value={value.tolerance}
                onChange={(e) => set({ tolerance: e.target.value })}
                className={input}
              />
            </label>
            <label className="flex h-7 items-center gap-1 text-[11px] text-slate-600">
              <input
                type="checkbox"
                checked={value.relative}
                onChange={(e) => set({ relative: e.target.checked })}
              />
              Relative (× |expected|)
            </label>
          </div>
        )}
        {value.kind === 'code' && (
          <label className="block text-[11px] text-slate-600">
            Scorer function body: (expected, actual, input) → 0..1, run in the sandbox
            <textarea
              value={value.code}
              onChange={(e) => set({ code: e.target.value })}
              rows={4}
              spellCheck={false}
              className="mt-0.5 w-full rounded-md border border-slate-300 px-2 py-1 font-mono text-[11px]"
            />
          </label>
        )}
        {value.kind === 'llm_judge' && (
          <>
            <p className="text-[11px] text-amber-700">
              The judge asks the model once per answered case: its spend counts against the budget.
            </p>
            <label className="block text-[11px] text-slate-600">
              Criteria (optional)
              <textarea
                value={value.criteria}
                onChange={(e) => set({ criteria: e.target.value })}
                rows={2}
                className="mt-0.5 w-full rounded-md border border-slate-300 px-2 py-1 text-xs"
              />
            </label>
            <label className="block text-[11px] text-slate-600">
              Judge model (optional)
              <input
                value={value.judgeModel}
                placeholder="server default"
                onChange={(e) => set({ judgeModel: e.target.value })}
                className={input}
              />
            </label>
          </>
        )}
        {GRADED.includes(value.kind) && (
          <label className="block w-1/2 text-[11px] text-slate-600">
            Pass score (0–1)
            <input
              type="number"
              min={0}
              max={1}
              step="any"
              value={value.passScore}
              onChange={(e) => set({ passScore: e.target.value })}
              className={input}
            />
          </label>
        )}
        {error && (
          <p
            role="alert"
            aria-label="Scorer problem"
            className="rounded-md bg-red-50 px-2 py-1 text-xs text-red-700"
          >
            {error}
          </p>
        )}
      </div>
    </>
  );
}
