import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { WorkflowDefinition, WorkflowNode } from '@/lib/workflow/definition';
import { TrellisError } from '@/lib/workflow/errors';
import { defineNode, done, type Clock, type NodeDefinition } from '@/lib/nodes/define-node';
import { getNode } from '@/lib/nodes/registry';
import type { NodeLookup } from '../executor';
import { MemoryTraceStore } from '../memory-trace-store';
import type { TraceStore } from '../trace-store';

// Helpers shared by the engine's tests and bench: definition builders, stores, and a probe node
// (the one test-only node type) that records what the engine did to it.

type NodeSpec = Partial<WorkflowNode> & { id: string; type: string };

/** Edges as [source, target] or [source, target, sourceHandle]. */
export function wf(nodes: NodeSpec[], edges: [string, string, string?][], name = 'test'): WorkflowDefinition {
  return {
    schemaVersion: 1,
    name,
    nodes: nodes.map((n) => ({ position: { x: 0, y: 0 }, config: {}, ...n })),
    edges: edges.map(([source, target, sourceHandle], i) => ({
      id: `e${i}`,
      source,
      target,
      ...(sourceHandle ? { sourceHandle } : {}),
    })),
  };
}

/** trigger → a constant transform → output `{ ok: true }`: a run that needs nothing but its host. */
export const okRun = (): WorkflowDefinition =>
  wf(
    [
      { id: 't', type: 'trigger.manual' },
      { id: 'x', type: 'transform', config: { value: { ok: true } } },
      { id: 'out', type: 'output', config: { value: '{{ steps.x.output }}' } },
    ],
    [
      ['t', 'x'],
      ['x', 'out'],
    ],
  );

export interface ProbeCall {
  nodeId: string;
  attempt: number;
  itemIndex?: number;
  input: unknown;
  startedAt: number;
  aborted?: unknown;
}

/** Observations of probe nodes, per test. */
export class ProbeLog {
  calls: ProbeCall[] = [];
  running = 0;
  maxRunning = 0;
  /** Probes with `block: true` wait on this until a test releases them. */
  gates = new Map<string, () => void>();
  count(nodeId: string) {
    return this.calls.filter((c) => c.nodeId === nodeId).length;
  }
}

const probeConfig = z.object({
  /** Fail the first N attempts with a (retryable unless `fatal`) error. */
  failTimes: z.number().int().default(0),
  fatal: z.boolean().default(false),
  /** Sleep this long (real time, abortable) before answering. */
  sleepMs: z.number().int().default(0),
  /** Hang until the signal aborts (or forever when ignoreSignal). */
  hang: z.boolean().default(false),
  /** Hang only on attempts up to this number (a crash that a retry gets past). */
  hangAttempts: z.number().int().optional(),
  ignoreSignal: z.boolean().default(false),
  /** Output: this value, or the input when absent. */
  value: z.unknown().optional(),
  handle: z.string().optional(),
});

export function probeNode(log: ProbeLog): NodeDefinition {
  return defineNode({
    type: 'test.probe',
    label: 'Probe',
    group: 'Test',
    icon: 'bug',
    description: 'Test-only node that records calls.',
    config: probeConfig,
    defaultConfig: {},
    async run({ node, config, input, attempt, itemIndex, signal }) {
      const call: ProbeCall = { nodeId: node.id, attempt, itemIndex, input, startedAt: Date.now() };
      log.calls.push(call);
      log.running++;
      log.maxRunning = Math.max(log.maxRunning, log.running);
      try {
        if (config.hang && (config.hangAttempts === undefined || attempt <= config.hangAttempts)) {
          await new Promise<void>((resolve, reject) => {
            if (!config.ignoreSignal)
              signal.addEventListener('abort', () => {
                call.aborted = signal.reason;
                reject(new Error('aborted'));
              });
          });
        }
        if (config.sleepMs) {
          await new Promise<void>((resolve, reject) => {
            const t = setTimeout(resolve, config.sleepMs);
            signal.addEventListener('abort', () => {
              clearTimeout(t);
              call.aborted = signal.reason;
              reject(new Error('aborted'));
            });
          });
        }
        if (attempt <= config.failTimes) {
          throw new TrellisError('http_error', `probe ${node.id} failed attempt ${attempt}`, {
            retryable: !config.fatal,
          });
        }
        return done(config.value === undefined ? input : config.value, config.handle);
      } finally {
        log.running--;
      }
    },
  }) as unknown as NodeDefinition;
}

/** The real registry plus the probe. */
export function nodesWithProbe(log: ProbeLog): NodeLookup {
  const probe = probeNode(log);
  return { getNode: (t) => (t === probe.type ? probe : getNode(t)) };
}

/** A clock whose sleeps return at once and move time forward. */
export class FakeClock implements Clock {
  constructor(public t = 1_700_000_000_000) {}
  now() {
    return this.t;
  }
  async sleep(ms: number, signal?: AbortSignal) {
    if (signal?.aborted) throw signal.reason;
    this.t += ms;
  }
  advance(ms: number) {
    this.t += ms;
  }
}

export interface StoreHandle {
  store: TraceStore;
  close(): Promise<void>;
}

export type StoreFactory = { name: string; open(): Promise<StoreHandle> };

export const memoryStore: StoreFactory = {
  name: 'memory',
  async open() {
    return { store: new MemoryTraceStore(), close: async () => {} };
  },
};

/** SqlTraceStore on a fresh PGlite database in a temp folder (null when lib/db is not there). */
export const pgliteStore: StoreFactory = {
  name: 'pglite',
  async open() {
    const { openDb } = await import('@/lib/db/client');
    const { SqlTraceStore } = await import('@/lib/db/sql-trace-store');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-engine-'));
    const db = await openDb({ dataDir: dir });
    const store = new SqlTraceStore(db);
    return {
      store,
      async close() {
        await store.flush().catch(() => {});
        await db.close();
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  },
};

/** SqlTraceStore on a throwaway database of the Postgres at DATABASE_URL. */
export const postgresStore: StoreFactory = {
  name: 'postgres',
  async open() {
    const { openDb } = await import('@/lib/db/client');
    const { SqlTraceStore } = await import('@/lib/db/sql-trace-store');
    const { createTempPostgres } = await import('@/lib/db/testing/databases');
    const pgDb = await createTempPostgres('engine');
    const db = await openDb({ databaseUrl: pgDb.url, poolSize: 4 });
    const store = new SqlTraceStore(db);
    return {
      store,
      async close() {
        await store.flush().catch(() => {});
        await db.close();
        await pgDb.drop();
      },
    };
  },
};

/** Every store the engine suites run on: Postgres too when DATABASE_URL is set (CI). */
export const engineStores: StoreFactory[] = [
  memoryStore,
  pgliteStore,
  ...(process.env.DATABASE_URL ? [postgresStore] : []),
];
