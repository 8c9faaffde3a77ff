import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import validAll from '@/lib/workflow/fixtures/valid-all-nodes.json';
import { validateDefinition } from '@/lib/nodes/validate-definition';
import { evaluateExpression, shutdownSandbox } from '@/lib/sandbox';
import { TrellisError } from '@/lib/workflow/errors';
import { routeFiles, routeMethods, routePath } from './testing/route-files';
import { closeProcessRuntime } from './testing/route-harness';

// Property-based fuzzing of the three places untrusted input enters: definition validation, the
// expression sandbox, and the HTTP route handlers. The properties are "no crash, no hang, no 5xx";
// iteration counts are fixed (and seeded) so the suite stays within seconds and reproduces.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-fuzz-'));
process.env.TRELLIS_DATA_DIR = dataDir;
delete process.env.DATABASE_URL;
const TOKEN = 'fuzz-test-token-0123456789';
process.env.TRELLIS_API_TOKEN = TOKEN;

export const FUZZ_RUNS = {
  validateRandom: 300,
  validateMutated: 400,
  expressions: 200,
  routeBodies: 40,
  hostile: 25,
};
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
  }, 120_000); // ~20 s on a loaded 2-core box: the default 30 s was too close
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

// File level: the route suites below share one runtime, closed after the last of them.
afterAll(async () => {
  await closeProcessRuntime();
  fs.rmSync(dataDir, { recursive: true, force: true });
  console.info(`[fuzz] iterations: ${JSON.stringify(iterations)}`);
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

// ---- every route × hostile input classes (issues 14.7, 12.11) ----

/** 100,000 levels of nesting: parses fine, then overflows every recursive walk after it. */
const DEEP_JSON = `${'['.repeat(100_000)}${']'.repeat(100_000)}`;
const INT4_OVER = ['2147483648', '99999999999', '1e99', '-2147483649', '9007199254740993'];
const BAD_DATES = [
  '+275760-09-13T00:00:00.000Z',
  '-271821-04-20T00:00:00.000Z',
  '10000-01-01',
  '0000-00-00',
  '99999999999999',
  'Infinity',
];
const cursorOf = (s: string) => Buffer.from(s).toString('base64url');
const RESERVED = ['__proto__', 'constructor', 'prototype'];
const hostileParam = fc.oneof(
  fc.constant('WF'),
  fc.constant('RUN'),
  fc.constantFrom('a\u0000b', '\u0000', ...RESERVED, ...INT4_OVER, '..', '%', 'x'.repeat(5000), '💥'),
);
const hostileQueryValue = fc.oneof(
  fc.constantFrom(...INT4_OVER, ...BAD_DATES, ...RESERVED, 'a\u0000b', ''),
  fc.constantFrom(...BAD_DATES).map((d) => cursorOf(`${d}|x`)),
  fc.constant(cursorOf('2026-01-01T00:00:00.000Z|a\u0000b')),
);
const hostileDefinition = (id: string) => ({
  ...validAll,
  nodes: [
    ...(validAll as { nodes: { id: string }[] }).nodes,
    { id, type: 'transform', config: { value: 1 } },
  ],
});
const hostileBody = fc.oneof(
  fc.constant(DEEP_JSON),
  fc.constant(`{"input":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`),
  fc.constantFrom('a\u0000b', 'x').map((n) => JSON.stringify({ name: n, value: 'v', definition: validAll })),
  fc
    .constantFrom(...RESERVED)
    .map((k) => JSON.stringify({ name: k, value: 'v', definition: hostileDefinition(k) })),
  fc.constantFrom(...RESERVED).map((k) => `{"${k}":{"inputPerMTok":1,"outputPerMTok":1}}`),
  fc.constantFrom(...RESERVED).map((k) => `{"prices":{"${k}":{"inputPerMTok":1,"outputPerMTok":1}}}`),
  fc.constant('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}'),
  fc
    .constantFrom(2 ** 31, 2 ** 53, 1e308, -1)
    .map((v) => JSON.stringify({ version: v, input: {}, limit: v })),
  fc.constant(JSON.stringify({ input: { s: 'nul\u0000inside' } })),
  fc.constant(JSON.stringify({ fromNodeId: '__proto__' })),
  fc.constant(JSON.stringify({ approved: true, comment: 'a\u0000' })),
);
const COOKIES = [
  'trellis_session=%E0%A4%A',
  'trellis_session=%',
  'trellis_session=trs_%00',
  `trellis_session=${'x'.repeat(8000)}`,
  'trellis_session',
];

describe('fuzz: every route, hostile input classes (temp PGlite)', () => {
  const files = routeFiles();
  const seen: string[] = [];
  let wfId = '';
  let runId = '';
  const errorLines: string[] = [];

  beforeAll(async () => {
    const rf = files.find((f) => f.rel === 'workflows')!;
    const post = (await routeMethods(rf)).find(([m]) => m === 'POST')![1];
    const def = {
      schemaVersion: 1,
      name: 'hostile',
      nodes: [{ id: 't', type: 'trigger.manual', config: {} }],
      edges: [],
    };
    const res = await post(
      new Request('http://127.0.0.1/api/workflows', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ name: 'hostile', definition: def }),
      }),
      { params: Promise.resolve({}) },
    );
    wfId = (await res.json()).id;
    const runs = (await routeMethods(files.find((f) => f.rel === 'workflows/[id]/runs')!)).find(
      ([m]) => m === 'POST',
    )![1];
    const started = await runs(
      new Request(`http://127.0.0.1/api/workflows/${wfId}/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ wait: true }),
      }),
      { params: Promise.resolve({ id: wfId }) },
    );
    runId = (await started.json()).run.id;
    expect(runId).toBeTruthy();
  }, 120_000);

  it('covers every route file', () => {
    expect(files.length).toBeGreaterThanOrEqual(25);
  });

  for (const rf of files) {
    it(`${rf.rel}: ${FUZZ_RUNS.hostile} hostile requests per method, never 5xx`, async () => {
      const origError = console.error;
      console.error = (...a: unknown[]) => void errorLines.push(a.map(String).join(' '));
      try {
        for (const [method, handler] of await routeMethods(rf)) {
          await fc.assert(
            fc.asyncProperty(
              fc.array(hostileParam, { minLength: 3, maxLength: 3 }),
              hostileQueryValue,
              hostileBody,
              fc.oneof(fc.constant(null), fc.constantFrom(...COOKIES)),
              async (ps, qv, body, cookie) => {
                count('hostile');
                const values: Record<string, string | string[]> = {};
                rf.params.forEach((p, i) => {
                  const v = ps[i] === 'WF' ? wfId : ps[i] === 'RUN' ? runId : ps[i];
                  values[p.name] = p.catchAll ? [v] : v;
                });
                const qs = [
                  'stepLimit',
                  'limit',
                  'cursor',
                  'from',
                  'to',
                  'q',
                  'status',
                  'version',
                  'workflowId',
                ]
                  .map((k) => `${k}=${encodeURIComponent(qv)}`)
                  .join('&');
                const headers: Record<string, string> = {
                  'content-type': 'application/json',
                  origin: 'http://127.0.0.1',
                };
                // With a malformed cookie and no token the caller is a stranger: 401, never 500.
                if (cookie) headers.cookie = cookie;
                else headers.authorization = `Bearer ${TOKEN}`;
                const req = new Request(`http://127.0.0.1${routePath(rf, values)}?${qs}`, {
                  method,
                  headers,
                  body: method === 'GET' || method === 'DELETE' ? undefined : body,
                });
                const res = await handler(req, { params: Promise.resolve(values) });
                const ctype = res.headers.get('content-type') ?? '';
                const text = ctype.includes('event-stream')
                  ? (await res.body?.cancel(), '')
                  : await res.text();
                expect(
                  res.status,
                  `${method} ${rf.rel} ${JSON.stringify(values).slice(0, 200)} ?${qv.slice(0, 60)} ${body.slice(0, 120)} cookie=${cookie} → ${text.slice(0, 300)}`,
                ).toBeLessThan(500);
                // The demo API answers in its own small format ({ error: string }), as examples expect.
                if (res.status >= 400 && ctype.includes('json') && !rf.rel.startsWith('demo/'))
                  expect(JSON.parse(text).error.code).toBeTypeOf('string');
              },
            ),
            { numRuns: FUZZ_RUNS.hostile, seed: SEED },
          );
          seen.push(`${method} ${rf.rel}`);
        }
      } finally {
        console.error = origError;
      }
      // Nothing reached the generic 500 path, so nothing was logged as an unhandled error.
      expect(errorLines.filter((l) => l.includes('unhandled error'))).toEqual([]);
    }, 120_000);
  }

  it('no prototype was polluted by any request', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted')).toBe(false);
  });

  afterAll(() =>
    console.info(`[fuzz] hostile classes over ${seen.length} handlers in ${files.length} route files`),
  );
});

describe('12.11: a 100,000-deep JSON run input and webhook body', () => {
  it('POST /api/workflows/:id/runs and POST /api/hooks/:id answer 422 too_deep, and the server keeps answering', async () => {
    const files = routeFiles();
    const handler = async (rel: string, m: string) =>
      (await routeMethods(files.find((f) => f.rel === rel)!)).find(([x]) => x === m)![1];
    const wfPost = await handler('workflows', 'POST');
    const def = {
      schemaVersion: 1,
      name: 'deep',
      nodes: [{ id: 'w', type: 'trigger.webhook', config: {} }],
      edges: [],
    };
    const created = await wfPost(
      new Request('http://127.0.0.1/api/workflows', {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: JSON.stringify({ definition: def }),
      }),
      { params: Promise.resolve({}) },
    );
    const id = (await created.json()).id as string;
    const info = await (
      await (
        await handler('workflows/[id]', 'GET')
      )(
        new Request(`http://127.0.0.1/api/workflows/${id}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        }),
        {
          params: Promise.resolve({ id }),
        },
      )
    ).json();
    const run = await (
      await handler('workflows/[id]/runs', 'POST')
    )(
      new Request(`http://127.0.0.1/api/workflows/${id}/runs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}` },
        body: `{"input":${DEEP_JSON}}`,
      }),
      { params: Promise.resolve({ id }) },
    );
    expect(run.status).toBe(422);
    const runErr = (await run.json()).error;
    expect(runErr.code).toBe('unprocessable');
    expect(runErr.details.problems[0].code).toBe('too_deep');
    const hook = await (
      await handler('hooks/[workflowId]', 'POST')
    )(
      new Request(`http://127.0.0.1/api/hooks/${id}`, {
        method: 'POST',
        headers: { 'x-trellis-webhook-secret': info.webhook.secret },
        body: DEEP_JSON,
      }),
      { params: Promise.resolve({ workflowId: id }) },
    );
    expect(hook.status).toBe(422);
    expect((await hook.json()).error.details.problems[0].code).toBe('too_deep');
    const health = await (
      await handler('health', 'GET')
    )(new Request('http://127.0.0.1/api/health'), {
      params: Promise.resolve({}),
    });
    expect(health.status).toBe(200);
  }, 60_000);
});

describe('unauthenticated failures log one line', () => {
  it('an unexpected error in a public route is one log line without a stack', async () => {
    const { route } = await import('./route');
    const h = route.public(() => {
      throw new TypeError('boom\n    at secretFrame (file.ts:1:1)');
    });
    const lines: unknown[][] = [];
    const orig = console.error;
    console.error = (...a: unknown[]) => void lines.push(a);
    try {
      for (let i = 0; i < 3; i++) {
        const res = await h(new Request('http://127.0.0.1/api/x', { method: 'POST' }), {
          params: Promise.resolve({}),
        });
        expect(res.status).toBe(500);
      }
    } finally {
      console.error = orig;
    }
    expect(lines).toHaveLength(3);
    for (const l of lines) {
      expect(l).toHaveLength(1);
      expect(typeof l[0]).toBe('string');
      expect(l[0] as string).not.toMatch(/\n|\bat\s+\S+\s+\(/);
    }
  });
});
