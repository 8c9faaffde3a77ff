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
