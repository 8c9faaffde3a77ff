'use client';
import { useEffect, useState } from 'react';
import { ExpressionField } from './expression-field';
import { inputClass, labelClass } from './form-styles';
import { JsonField } from './json-field';
import type { JsonSchema } from './types';

// A form generated from a node type's config JSON Schema (exported from the registry's zod
// schema, so the form and validation never disagree). Scalars get real controls; shapes the
// generator does not know (objects, templates that are not strings) get a JSON editor.

export const fieldId = (nodeId: string, path: string) => `field-${nodeId}-${path.replace(/\//g, '-')}`;

const LONG_TEXT = new Set(['prompt', 'system', 'message', 'code', 'instructions', 'expression']);
const EXPRESSION_KEYS = new Set(['expression', 'items', 'code']);

export { inputClass, labelClass };

function humanize(key: string): string {
  return key.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

/** The first branch of a union that is not `null` (zod optional/nullable exports). */
export function resolve(schema: JsonSchema | undefined): JsonSchema {
  if (!schema) return {};
  const alts = schema.anyOf ?? schema.oneOf;
  if (alts && alts.length) {
    const nonNull = alts.filter((a) => a.type !== 'null');
    if (nonNull.length === 1)
      return { ...nonNull[0], description: schema.description ?? nonNull[0].description };
    if (nonNull.every((a) => a.const !== undefined))
      return { type: 'string', enum: nonNull.map((a) => a.const) };
    return schema;
  }
  return schema;
}

const typeOf = (s: JsonSchema): string | undefined =>
  Array.isArray(s.type) ? s.type.find((t) => t !== 'null') : s.type;

export interface FieldContext {
  nodeId: string;
  expressionFields: Set<string>;
  problemPaths: Map<string, string>;
}

export function SchemaFields({
  schema,
  value,
  onChange,
  ctx,
  basePath,
}: {
  schema: JsonSchema;
  value: Record<string, unknown>;
  onChange: (next: Record<string, unknown>) => void;
  ctx: FieldContext;
  basePath: string;
}) {
  const props = schema.properties ?? {};
  const keys = Object.keys(props);
  if (!keys.length && schema.properties) {
    return <p className="text-xs text-slate-400">This node has no settings.</p>;
  }
  if (!keys.length) {
    return (
      <JsonField
        id={fieldId(ctx.nodeId, basePath)}
        nodeId={ctx.nodeId}
        label="Config (JSON)"
        value={value}
        onCommit={(v) => onChange((v ?? {}) as Record<string, unknown>)}
      />
    );
  }
  return (
    <div className="space-y-3">
      {keys.map((key) => (
        <Field
          key={key}
          name={key}
          schema={resolve(props[key])}
          required={schema.required?.includes(key) ?? false}
          value={value[key]}
          path={`${basePath}/${key}`}
          ctx={ctx}
          onChange={(v) => {
            const next = { ...value };
            if (v === undefined) delete next[key];
            else next[key] = v;
            onChange(next);
          }}
        />
      ))}
    </div>
  );
}

function Field({
  name,
  schema,
  required,
  value,
  path,
  ctx,
  onChange,
}: {
  name: string;
  schema: JsonSchema;
  required: boolean;
  value: unknown;
  path: string;
  ctx: FieldContext;
  onChange: (v: unknown) => void;
}) {
  const id = fieldId(ctx.nodeId, path);
  const label = schema.title ?? humanize(name);
  const problem = ctx.problemPaths.get(path);
  const t = typeOf(schema);
  const labelEl = (
    <label htmlFor={id} className={labelClass}>
      {label}
      {required && <span className="text-red-500"> *</span>}
    </label>
  );
  const help = (problem || schema.description) && (
    <p className={`mt-1 text-[11px] ${problem ? 'text-red-600' : 'text-slate-400'}`}>
      {problem ?? schema.description}
    </p>
  );

  if (schema.enum) {
    return (
      <div>
        {labelEl}
        <select
          id={id}
          aria-invalid={!!problem}
          className={inputClass}
          value={value === undefined ? '' : String(value)}
          onChange={(e) => {
            const raw = e.target.value;
            onChange(raw === '' ? undefined : (schema.enum!.find((x) => String(x) === raw) ?? raw));
          }}
        >
          {!required && <option value="">(default)</option>}
          {schema.enum.map((o) => (
            <option key={String(o)} value={String(o)}>
              {String(o)}
            </option>
          ))}
        </select>
        {help}
      </div>
    );
  }
  if (t === 'boolean') {
    return (
      <div>
        <label className="flex items-center gap-2 text-xs text-slate-700">
          <input
            id={id}
            type="checkbox"
            checked={value === true}
            onChange={(e) => onChange(e.target.checked)}
            className="accent-brand-600"
          />
          {label}
        </label>
        {help}
      </div>
    );
  }
  if (t === 'number' || t === 'integer') {
    return (
      <div>
        {labelEl}
        <NumberInput
          id={id}
          value={value}
          invalid={!!problem}
          min={schema.minimum}
          max={schema.maximum}
          onChange={onChange}
        />
        {help}
      </div>
    );
  }
  if (t === 'string') {
    const isExpr = ctx.expressionFields.has(name) || EXPRESSION_KEYS.has(name);
    return (
      <div>
        {labelEl}
        <ExpressionField
          id={id}
          label={label}
          value={typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value)}
          onChange={(v) => onChange(v === '' && !required ? undefined : v)}
          kind={
            isExpr
              ? 'expression'
              : name === 'method' || name === 'model' || name === 'workflowId'
                ? 'plain'
                : 'template'
          }
          multiline={LONG_TEXT.has(name)}
          invalid={!!problem}
        />
        {help}
      </div>
    );
  }
  if (t === 'object' && schema.properties && isFlatObject(schema)) {
    // A small nested object (a browser action's target, a viewport): its own fields, so each
    // problem lands on the field it names.
    return (
      <fieldset className="rounded-md border border-slate-200 p-2" aria-label={label}>
        <legend className={labelClass}>{label}</legend>
        <SchemaFields
          schema={schema}
          value={(value ?? {}) as Record<string, unknown>}
          ctx={ctx}
          basePath={path}
          onChange={(v) => onChange(Object.keys(v).length ? v : undefined)}
        />
        {help}
      </fieldset>
    );
  }
  if (t === 'array' && variantsOf(schema.items)) {
    return (
      <VariantList
        label={label}
        path={path}
        variants={variantsOf(schema.items)!}
        rows={Array.isArray(value) ? (value as Record<string, unknown>[]) : []}
        ctx={ctx}
        help={help}
        onChange={onChange}
      />
    );
  }
  if (t === 'array') {
    const item = resolve(schema.items);
    if (typeOf(item) === 'string' && !item.enum) {
      return (
        <div>
          {labelEl}
          <LinesField
            id={id}
            value={Array.isArray(value) ? (value as string[]) : []}
            onChange={(v) => onChange(v.length ? v : undefined)}
          />
          <p className="mt-1 text-[11px] text-slate-400">One per line.</p>
          {help}
        </div>
      );
    }
    if (typeOf(item) === 'object' && item.properties) {
      const rows = Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
      return (
        <fieldset>
          <legend className={labelClass}>{label}</legend>
          <div className="space-y-2">
            {rows.map((row, i) => (
              <div key={i} className="rounded-md border border-slate-200 bg-slate-50 p-2">
                <SchemaFields
                  schema={item}
                  value={row ?? {}}
                  ctx={ctx}
                  basePath={`${path}/${i}`}
                  onChange={(r) => onChange(rows.map((x, j) => (j === i ? r : x)))}
                />
                <button
                  type="button"
                  aria-label={`Remove ${label} ${i + 1}`}
                  className="mt-2 text-[11px] text-red-600 hover:underline"
                  onClick={() => onChange(rows.filter((_, j) => j !== i))}
                >
                  Remove
                </button>
              </div>
            ))}
          </div>
          <button
            type="button"
            className="mt-2 text-xs font-medium text-brand-700 hover:underline"
            onClick={() => onChange([...rows, newRow(item, rows.length)])}
          >
            + Add {label.replace(/s$/, '').toLowerCase()}
          </button>
          {help}
        </fieldset>
      );
    }
  }
  return (
    <div>
      <JsonField
        id={id}
        label={label}
        value={value}
        invalid={!!problem}
        onCommit={onChange}
        nodeId={ctx.nodeId}
        template
      />
      {help}
    </div>
  );
}

/** Objects whose fields are scalars or such objects again (not a graph body of arrays). */
function isFlatObject(schema: JsonSchema, depth = 0): boolean {
  if (depth > 2) return false;
  return Object.values(schema.properties ?? {}).every((p) => {
    const r = resolve(p);
    const t = typeOf(r);
    if (t === 'object') return !!r.properties && isFlatObject(r, depth + 1);
    return t !== 'array' && t !== undefined;
  });
}

/** A list of tagged variants (a browser step's actions): each variant by its `type` constant. */
function variantsOf(items: JsonSchema | undefined): Map<string, JsonSchema> | null {
  const alts = items?.oneOf ?? items?.anyOf;
  if (!alts?.length) return null;
  const out = new Map<string, JsonSchema>();
  for (const a of alts) {
    const tag = a.properties?.type?.const;
    if (typeof tag !== 'string') return null;
    out.set(tag, a);
  }
  return out;
}

function VariantList({
  label,
  path,
  variants,
  rows,
  ctx,
  help,
  onChange,
}: {
  label: string;
  path: string;
  variants: Map<string, JsonSchema>;
  rows: Record<string, unknown>[];
  ctx: FieldContext;
  help: React.ReactNode;
  onChange: (v: unknown) => void;
}) {
  const tags = [...variants.keys()];
  const noun = label.replace(/s$/, '').toLowerCase();
  const set = (i: number, row: Record<string, unknown>) => onChange(rows.map((x, j) => (j === i ? row : x)));
  const move = (i: number, by: number) => {
    const next = [...rows];
    const [row] = next.splice(i, 1);
    next.splice(i + by, 0, row);
    onChange(next);
  };
  return (
    <fieldset>
      <legend className={labelClass}>{label}</legend>
      {rows.length === 0 && <p className="text-[11px] text-slate-400">No {label.toLowerCase()} yet.</p>}
      <ol className="space-y-2">
        {rows.map((row, i) => {
          const tag = String(row?.type ?? '');
          const variant = variants.get(tag);
          const { type: _t, ...fields } = variant?.properties ?? {};
          const problem = ctx.problemPaths.get(`${path}/${i}`);
          return (
            <li
              key={i}
              aria-label={`${humanize(noun)} ${i + 1}: ${tag}`}
              className="rounded-md border border-slate-200 bg-slate-50 p-2"
            >
              <div className="mb-2 flex items-center gap-1">
                <span className="w-5 text-[11px] font-medium text-slate-500 tabular-nums">{i + 1}</span>
                <select
                  aria-label={`${humanize(noun)} ${i + 1} type`}
                  className={`${inputClass} w-auto`}
                  value={tag}
                  onChange={(e) => {
                    const next = variants.get(e.target.value);
                    // Fields the new kind also has (a target) are kept.
                    const kept = Object.fromEntries(
                      Object.entries(row).filter(([k]) => k !== 'type' && next?.properties?.[k]),
                    );
                    set(i, { type: e.target.value, ...kept });
                  }}
                >
                  {!variant && <option value={tag}>{tag || '(choose)'}</option>}
                  {tags.map((t) => (
                    <option key={t} value={t}>
                      {t}
                    </option>
                  ))}
                </select>
                <span className="ml-auto" />
                <button
                  type="button"
                  aria-label={`Move ${noun} ${i + 1} up`}
                  disabled={i === 0}
                  className="rounded px-1 text-xs text-slate-500 hover:bg-slate-200 disabled:opacity-30"
                  onClick={() => move(i, -1)}
                >
                  ↑
                </button>
                <button
                  type="button"
                  aria-label={`Move ${noun} ${i + 1} down`}
                  disabled={i === rows.length - 1}
                  className="rounded px-1 text-xs text-slate-500 hover:bg-slate-200 disabled:opacity-30"
                  onClick={() => move(i, 1)}
                >
                  ↓
                </button>
                <button
                  type="button"
                  aria-label={`Remove ${noun} ${i + 1}`}
                  className="rounded px-1 text-[11px] text-red-600 hover:bg-red-50"
                  onClick={() => onChange(rows.filter((_, j) => j !== i))}
                >
                  Remove
                </button>
              </div>
              {problem && <p className="mb-1 text-[11px] text-red-600">{problem}</p>}
              {variant && (
                <SchemaFields
                  schema={{
                    ...variant,
                    properties: fields,
                    required: variant.required?.filter((k) => k !== 'type'),
                  }}
                  value={row}
                  ctx={ctx}
                  basePath={`${path}/${i}`}
                  onChange={(r) => set(i, { type: tag, ...r })}
                />
              )}
            </li>
          );
        })}
      </ol>
      <button
        type="button"
        className="mt-2 text-xs font-medium text-brand-700 hover:underline"
        onClick={() => onChange([...rows, { type: tags[0] }])}
      >
        + Add {noun}
      </button>
      {help}
    </fieldset>
  );
}

function newRow(item: JsonSchema, index: number): Record<string, unknown> {
  const row: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(item.properties ?? {})) {
    if (k === 'id') row[k] = `case${index + 1}`;
    else if (typeOf(resolve(s)) === 'string') row[k] = '';
  }
  return row;
}

function NumberInput({
  id,
  value,
  onChange,
  invalid,
  min,
  max,
  label,
}: {
  id: string;
  value: unknown;
  onChange: (v: number | undefined) => void;
  invalid?: boolean;
  min?: number;
  max?: number;
  label?: string;
}) {
  return (
    <input
      id={id}
      type="number"
      aria-label={label}
      aria-invalid={invalid || undefined}
      className={inputClass}
      min={min}
      max={max}
      value={typeof value === 'number' ? value : ''}
      onChange={(e) => onChange(e.target.value === '' ? undefined : Number(e.target.value))}
    />
  );
}
export { NumberInput };

function LinesField({
  id,
  value,
  onChange,
}: {
  id: string;
  value: string[];
  onChange: (v: string[]) => void;
}) {
  const [text, setText] = useState(value.join('\n'));
  useEffect(() => setText(value.join('\n')), [value]);
  return (
    <textarea
      id={id}
      rows={2}
      className="w-full rounded-md border border-slate-300 px-2 py-1 font-mono text-xs outline-none focus:border-brand-500"
      value={text}
      onChange={(e) => setText(e.target.value)}
      onBlur={() =>
        onChange(
          text
            .split('\n')
            .map((l) => l.trim())
            .filter(Boolean),
        )
      }
    />
  );
}
