import { MemoryTraceStore } from '@/lib/engine/memory-trace-store';
import { createEngine } from '@/lib/engine/engine';
import type { SqlTraceStore } from '@/lib/db/sql-trace-store';
import { createSandboxServices } from '@/lib/sandbox';
import type { WorkflowDefinition } from '@/lib/workflow/definition';
import { assertRunnable } from './definition-input';
import { json, readJson } from './route';

// Issue 21 (no cold start): what the first run after start paid for and later runs did not —
// validating a definition (zod builds its parsers on first use), parsing and evaluating an
// expression, the engine's own code, the database's plans and caches for a run's statements,
// undici's Request and Response — is done once before the process says it is ready. Nothing of it
// is kept: the run goes to a store in memory and the database work is rolled back.

/** webhook → transform with an expression → output: the path of the first expression after start. */
export const WARM_UP_DEFINITION = {
  schemaVersion: 1,
  name: 'warm-up',
  nodes: [
    { id: 'hook', type: 'trigger.webhook', position: { x: 0, y: 0 }, config: {} },
    { id: 't', type: 'transform', position: { x: 0, y: 100 }, config: { value: '{{ input.n + 1 }}' } },
    {
      id: 'out',
      type: 'output',
      position: { x: 0, y: 200 },
      config: { value: { v: '{{ steps.t.output }}' } },
    },
  ],
  edges: [
    { id: 'a', source: 'hook', target: 't' },
    { id: 'b', source: 't', target: 'out' },
  ],
} as const satisfies WorkflowDefinition;

/**
 * Where runs are accepted (the web process, both modes): a webhook body read, a definition
 * validated, an answer written, and the run's statements on the host's trace store.
 */
export async function warmAcceptPath(store: SqlTraceStore): Promise<void> {
  const body = JSON.stringify({ n: 41 });
  const req = new Request('http://127.0.0.1/api/hooks/warm-up', {
    method: 'POST',
    body,
    headers: { 'content-type': 'application/json', 'content-length': String(body.length) },
  });
  await readJson(req);
  assertRunnable(structuredClone(WARM_UP_DEFINITION));
  await json({ ok: true }).text();
  await store.warm();
}

/**
 * Where runs execute (the embedded web process, a worker): the warm-up workflow once, on an engine
 * with a store in memory and the sandbox, reading the host's stored secrets with `secrets` as a
 * run does. Answers its output (41 + 1 in `v`).
 */
export async function warmExecutePath(
  opts: { secrets?: () => Promise<Record<string, string>> } = {},
): Promise<unknown> {
  const engine = createEngine({
    store: new MemoryTraceStore(),
    services: createSandboxServices(),
    secrets: opts.secrets,
  });
  const outcome = await engine.runToCompletion({
    definition: assertRunnable(structuredClone(WARM_UP_DEFINITION)),
    input: { n: 41 },
    trigger: 'webhook',
    triggerNodeId: 'hook',
  });
  if (outcome.status !== 'succeeded') throw new Error(`The warm-up run ended ${outcome.status}`);
  return outcome.output;
}

/** How long /api/health waits for the webhook route's warm-up request before answering anyway. */
export const WARM_ROUTE_TIMEOUT_MS = 5_000;
const ROUTE_KEY = Symbol.for('trellis.warm-webhook-route');

/**
 * The webhook route, once per process, through this server itself: Next.js loads a route's modules
 * on its first request (next.config.js, preloadEntriesOnStart), so without this the first webhook
 * call after "ready" paid for loading them, and for the database's first reading of a webhook's
 * workflow. A POST for a workflow id that cannot exist answers 401 and starts nothing. Only under
 * `next start`, which publishes the address it listens on; a failure leaves the route cold, no more.
 */
export function warmWebhookRoute(origin = process.env.__NEXT_PRIVATE_ORIGIN): Promise<void> {
  const g = globalThis as { [ROUTE_KEY]?: Promise<void> };
  if (!origin) return Promise.resolve();
  g[ROUTE_KEY] ??= fetch(`${origin}/api/hooks/00000000-0000-0000-0000-000000000000`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(WARM_ROUTE_TIMEOUT_MS),
  })
    .then((res) => res.arrayBuffer())
    .then(
      () => undefined,
      () => undefined,
    );
  return g[ROUTE_KEY];
}
