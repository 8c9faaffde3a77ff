import pg from 'pg';
import { createTempPostgres } from '@/lib/db/testing/databases';
import type { WorkflowDefinition } from '@/lib/workflow/definition';

// Real Postgres for the queue tests: the shared server, one throwaway database per suite.
// Suites skip (not fail) when the server is unreachable.

export const BASE_POSTGRES_URL = process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/postgres';

export async function postgresReachable(url = BASE_POSTGRES_URL): Promise<boolean> {
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1_000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await c.end().catch(() => {});
  }
}

export const pgAvailable = await postgresReachable();

export function tempQueueDb(area: string) {
  return createTempPostgres(area, BASE_POSTGRES_URL);
}

export function linearWorkflow(steps: number, extra: Partial<WorkflowDefinition> = {}): WorkflowDefinition {
  const nodes: WorkflowDefinition['nodes'] = [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
  ];
  const edges: WorkflowDefinition['edges'] = [];
  let prev = 'start';
  for (let i = 1; i <= steps; i++) {
    const id = `s${i}`;
    nodes.push({ id, type: 'transform', position: { x: 0, y: i * 100 }, config: { value: { i } } });
    edges.push({ id: `e${i}`, source: prev, target: id });
    prev = id;
  }
  return { schemaVersion: 1, name: `linear ${steps}`, nodes, edges, ...extra } as WorkflowDefinition;
}

/**
 * A real HTTP server that holds every request until release(): a run calling it keeps its
 * concurrency slot, so a test can look at the queue while it is full. Counts requests in flight.
 */
export async function gatedServer() {
  const { startLocalServer } = await import('@/lib/net/testing/local-server');
  let holding = true;
  let inFlight = 0;
  let maxInFlight = 0;
  const held: (() => void)[] = [];
  const order: string[] = [];
  const server = await startLocalServer((req, res) => {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    order.push(String((JSON.parse(req.body || '{}') as { n?: unknown }).n));
    const answer = () => {
      inFlight--;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    };
    if (holding) held.push(answer);
    else answer();
  });
  return {
    server,
    /** The `n` of each request body (the run's input.n), in arrival order. */
    order,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    release() {
      holding = false;
      for (const a of held.splice(0)) a();
    },
  };
}

/** trigger → POST to the gated server (one slot held per run until release) → output. */
export function gatedWorkflow(url: string, host: string): WorkflowDefinition {
  return {
    schemaVersion: 1,
    name: 'burst',
    nodes: [
      { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
      {
        id: 'call',
        type: 'http.request',
        position: { x: 0, y: 100 },
        config: {
          method: 'POST',
          url: `${url}/gate`,
          body: { n: '{{ input.n }}' },
          allowHosts: [host],
        },
      },
      { id: 'out', type: 'output', position: { x: 0, y: 200 }, config: { value: '{{ input.n }}' } },
    ],
    edges: [
      { id: 'e1', source: 'start', target: 'call' },
      { id: 'e2', source: 'call', target: 'out' },
    ],
  } as WorkflowDefinition;
}

/** Start rank minus acceptance rank stays under the concurrency: runs start in the order accepted. */
export function maxOrderSkew(acceptedOrder: string[], startedOrder: string[]): number {
  const rank = new Map(acceptedOrder.map((id, i) => [id, i]));
  return Math.max(0, ...startedOrder.map((id, i) => Math.abs((rank.get(id) ?? Infinity) - i)));
}

/** Mean distance between a run's place in `startedOrder` and in `acceptedOrder`. */
export function meanOrderSkew(acceptedOrder: string[], startedOrder: string[]): number {
  const rank = new Map(acceptedOrder.map((id, i) => [id, i]));
  const total = startedOrder.reduce((sum, id, i) => sum + Math.abs((rank.get(id) ?? Infinity) - i), 0);
  return startedOrder.length ? total / startedOrder.length : 0;
}
