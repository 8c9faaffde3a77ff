import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import validAll from '@/lib/workflow/fixtures/valid-all-nodes.json';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import { evaluateExpression, shutdownSandbox } from '@/lib/sandbox';
import { TrellisError } from '@/lib/workflow/errors';

// Property-based fuzzing of the three places untrusted input enters: definition validation, the
// expression sandbox, and the HTTP route handlers. The properties are "no crash, no hang, no 5xx";
// iteration counts are fixed (and seeded) so the suite stays within seconds and reproduces.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-fuzz-'));
process.env.TRELLIS_DATA_DIR = dataDir;
delete process.env.DATABASE_URL;
const TOKEN = 'fuzz-test-token-0123456789';
process.env.TRELLIS_API_TOKEN = TOKEN;

export const FUZZ_RUNS = { validateRandom: 300, validateMutated: 400, expressions: 200, routeBodies: 40 };
const SEED = 20261128;
const iterations: Record<string, number> = {};
const count = (k: string) => (iterations[k] = (iterations[k] ?? 0) + 1);

type Json = unknown;
const jsonValue = fc.jsonValue({ maxDepth: 4 }) as fc.Arbitrary<Json>;

/** Mutations of a valid definition: replace, delete or duplicate something at a random path. */
function mutate(base: Json, picks: number[], replacement: Json, op: number): Json {
  const copy = structuredClone(base) as Record<string, unknown>;
  let cur: unknown = copy;
  let parent: Record<string, unknown> | unknown[] | null = null;
  let key: string | number = '';
  for (const p of picks) {
    if (cur === null || typeof cur !== 'object') break;
    const keys = Object.keys(cur);
    if (keys.length === 0) break;
    parent = cur as Record<string, unknown>;
    key = Array.isArray(cur) ? p % cur.length : keys[p % keys.length];
    cur = (cur as Record<string, unknown>)[key as string];
  }
  if (!parent) return replacement;
  const obj = parent as Record<string | number, unknown>;
  if (op === 0) obj[key] = replacement;
  else if (op === 1) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete obj[key];
  } else if (op === 2 && Array.isArray(parent)) parent.push(structuredClone(cur));
  else obj[key] = typeof cur === 'string' ? `${cur}{{ ${String(replacement)} }}` : [cur, replacement];
  return copy;
}
const mutatedDefinition = fc
  .tuple(
    fc.array(fc.nat(), { minLength: 1, maxLength: 6 }),
    jsonValue,
    fc.integer({ min: 0, max: 3 }),
    fc.integer({ min: 1, max: 3 }),
  )
  .map(([picks, rep, op, times]) => {
    let d: Json = validAll;
    for (let i = 0; i < times; i++) d = mutate(d, picks.slice(i), rep, (op + i) % 4);
    return d;
  });

describe('fuzz: validate', () => {
  it(`random JSON (${FUZZ_RUNS.validateRandom}) and mutated definitions (${FUZZ_RUNS.validateMutated}) never throw`, () => {
    const check = (d: Json) => {
      count('validate');
      const r = validateDefinition(d);
      expect(typeof r.valid).toBe('boolean');
      expect(Array.isArray(r.problems)).toBe(true);
      if (!r.valid) expect(r.problems.length).toBeGreaterThan(0);
      for (const p of r.problems) expect(typeof p.path).toBe('string');
    };
    fc.assert(fc.property(fc.oneof(jsonValue, fc.anything()), check), {
      numRuns: FUZZ_RUNS.validateRandom,
      seed: SEED,
    });
    fc.assert(fc.property(mutatedDefinition, check), { numRuns: FUZZ_RUNS.validateMutated, seed: SEED });
  });
});

describe('fuzz: expression sandbox', () => {
  afterAll(() => shutdownSandbox());
  const tokens = [
    'input',
    'steps',
    'secrets',
    'env',
    'this',
    'globalThis',
    'constructor',
    'prototype',
    '__proto__',
    'Function',
    'eval',
    'while(1){}',
    'for(;;);',
    '(',
    ')',
    '[',
    ']',
    '{',
    '}',
    '.',
    ',',
    '+',
    '*',
    '=>',
    '=',
    ';',
    '"',
    "'",
    '`',
    '${',
    '1e308',
    '-0',
    'null',
    'undefined',
    'new',
    'Array(1e9)',
    'import(',
    'require',
    'process',
    '...',
    '?.',
    '??',
    'async',
    'await',
    'x',
    '0',
    '"a"',
    'JSON.parse',
    'Symbol',
    'Proxy',
    'Reflect',
    'Error().stack',
    '\\u0000',
  ];
  const expr = fc.oneof(
    fc.string({ maxLength: 60 }),
    fc.array(fc.constantFrom(...tokens), { minLength: 1, maxLength: 12 }).map((t) => t.join(' ')),
  );
  it(`${FUZZ_RUNS.expressions} random expressions: a value or an expression error, within the time limit`, async () => {
    const scope = { input: { a: 1, s: 'x' }, steps: { n: { output: [1, 2] } }, env: {}, secrets: { k: 'v' } };
    await fc.assert(
      fc.asyncProperty(expr, async (e) => {
        count('expressions');
        const t0 = Date.now();
        try {
          await evaluateExpression(e, scope, { timeoutMs: 150 });
        } catch (err) {
          expect(err, String(err)).toBeInstanceOf(TrellisError);
          expect((err as TrellisError).code).toMatch(/^expression_/);
        }
        expect(Date.now() - t0).toBeLessThan(10_000);
      }),
      { numRuns: FUZZ_RUNS.expressions, seed: SEED },
    );
  }, 120_000);
});

type Handler = (r: Request, c: { params: Promise<unknown> }) => Promise<Response>;
const API = path.resolve(import.meta.dirname, '../../app/api');

describe('fuzz: route handlers (authenticated, temp PGlite)', () => {
  const targets: { rel: string; method: string; params: string[] }[] = [
    { rel: 'validate', method: 'POST', params: [] },
    { rel: 'workflows', method: 'POST', params: [] },
    { rel: 'workflows/[id]', method: 'PUT', params: ['id'] },
    { rel: 'workflows/[id]/runs', method: 'POST', params: ['id'] },
    { rel: 'workflows/[id]/versions/[n]', method: 'GET', params: ['id', 'n'] },
    { rel: 'runs', method: 'GET', params: [] },
    { rel: 'runs/[id]/rerun', method: 'POST', params: ['id'] },
    { rel: 'runs/[id]/cancel', method: 'POST', params: ['id'] },
    { rel: 'runs/[id]/approvals/[nodeId]', method: 'POST', params: ['id', 'nodeId'] },
    { rel: 'tokens', method: 'POST', params: [] },
    { rel: 'secrets', method: 'POST', params: [] },
  ];
  let wfId = '';

  beforeAll(async () => {
    const mod = (await import(/* @vite-ignore */ path.join(API, 'workflows', 'route.ts'))) as Record<
      string,
      Handler
    >;
    const res = await mod.POST(
      new Request('http://127.0.0.1/api/workflows', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ name: 'fuzz', definition: validAll }),
      }),
      { params: Promise.resolve({}) },
    );
    expect(res.status).toBe(201);
    wfId = (await res.json()).id;
  }, 120_000);

  afterAll(async () => {
    const { getRuntime } = await import('./runtime');
    const rt = await getRuntime();
    await rt.dispatcher.close?.();
    await rt.store.close();
    await rt.db.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    console.info(`[fuzz] iterations: ${JSON.stringify(iterations)}`);
  });

  const body = fc.oneof(
    jsonValue.map((v) => JSON.stringify(v)),
    mutatedDefinition.map((d) => JSON.stringify({ name: 'm', definition: d, input: d })),
    fc.record({ input: jsonValue, wait: fc.boolean(), version: fc.integer() }).map((v) => JSON.stringify(v)),
    fc
      .record({ name: fc.string({ maxLength: 70 }), value: fc.string({ maxLength: 40 }) })
      .map((v) => JSON.stringify(v)),
    fc
      .record({ approved: fc.anything(), comment: fc.anything() })
      .map((v) => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? 0 : x))),
    fc.string({ maxLength: 200 }),
  );
  const param = fc.oneof(
    fc.constant('WF'),
    fc.uuid(),
    fc.string({ maxLength: 40 }),
    fc.constantFrom('0', '-1', '1e99', '%00', '..'),
  );

  for (const t of targets) {
    it(`${t.method} /api/${t.rel}: ${FUZZ_RUNS.routeBodies} random bodies and params, never 5xx`, async () => {
      const mod = (await import(/* @vite-ignore */ path.join(API, t.rel, 'route.ts'))) as Record<
        string,
        Handler
      >;
      const h = mod[t.method];
      await fc.assert(
        fc.asyncProperty(
          body,
          fc.array(param, { minLength: 2, maxLength: 2 }),
          fc.string({ maxLength: 30 }),
          async (b, ps, q) => {
            count('routes');
            const params = Object.fromEntries(t.params.map((p, i) => [p, ps[i] === 'WF' ? wfId : ps[i]]));
            const req = new Request(
              `http://127.0.0.1/api/${t.rel}?status=${encodeURIComponent(q)}&cursor=${encodeURIComponent(q)}`,
              {
                method: t.method,
                headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
                body: t.method === 'GET' ? undefined : b,
              },
            );
            const res = await h(req, { params: Promise.resolve(params) });
            const text = await res.text();
            expect(
              res.status,
              `${t.method} ${t.rel} ${b.slice(0, 200)} → ${text.slice(0, 300)}`,
            ).toBeLessThan(500);
            if (res.status >= 400) expect(JSON.parse(text).error.code).toBeTypeOf('string');
          },
        ),
        { numRuns: FUZZ_RUNS.routeBodies, seed: SEED },
      );
    }, 60_000);
  }
});
