import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { WorkflowDefinition } from '@/lib/workflow/definition';

// Pieces of the durable suite: worker processes (tsx, each in its own process group so kill -9
// takes the whole tree) and a recording HTTP server that counts requests per Idempotency-Key.

const root = path.resolve(import.meta.dirname, '../..');
const tsxCli = createRequire(import.meta.url).resolve('tsx/cli');

export interface WorkerProc {
  id: string;
  child: ChildProcess;
  output: string[];
  ready: Promise<void>;
  exited: Promise<number | null>;
}

export function spawnWorker(
  databaseUrl: string,
  id: string,
  concurrency = 3,
  env: Record<string, string> = {},
): WorkerProc {
  const child = spawn(
    process.execPath,
    [
      tsxCli,
      path.join(root, 'tests/durable/worker-entry.ts'),
      'worker',
      '--concurrency',
      String(concurrency),
    ],
    {
      cwd: root,
      detached: true,
      // stdin: tests/durable/die-with-parent.ts.
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        TRELLIS_WORKER_ID: id,
        TRELLIS_HTTP_ALLOW_PRIVATE: '1',
        // The schedule test fires every second; the default minimum interval is a minute.
        TRELLIS_SCHEDULE_MIN_INTERVAL_SECONDS: '1',
        ...env,
      },
    },
  );
  const output: string[] = [];
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (b: Buffer) => {
      output.push(b.toString());
      if (output.join('').includes('waiting for runs')) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (b: Buffer) => output.push(b.toString()));
    child.once('exit', (code) =>
      reject(new Error(`worker ${id} exited (${code}) before ready: ${output.join('')}`)),
    );
  });
  ready.catch(() => {});
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { id, child, output, ready, exited };
}

export function killGroup(w: WorkerProc, signal: NodeJS.Signals = 'SIGKILL'): void {
  try {
    process.kill(-w.child.pid!, signal);
  } catch {
    // already gone
  }
}

export interface RecordingServer {
  url: string;
  /** Requests per Idempotency-Key (non-GET). */
  byKey: Map<string, number>;
  total(): number;
  close(): Promise<void>;
}

export async function recordingServer(delayMs: () => number): Promise<RecordingServer> {
  const byKey = new Map<string, number>();
  let total = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      total++;
      const key = req.headers['idempotency-key'];
      if (req.method !== 'GET' && typeof key === 'string') byKey.set(key, (byKey.get(key) ?? 0) + 1);
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, key: key ?? null }));
      }, delayMs());
    });
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    byKey,
    total: () => total,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** trigger + `steps` nodes: every other one a POST to the recording server, the rest transforms. */
export function recordingWorkflow(url: string, steps = 19): WorkflowDefinition {
  const nodes: WorkflowDefinition['nodes'] = [
    { id: 'start', type: 'trigger.manual', position: { x: 0, y: 0 }, config: {} },
  ];
  const edges: WorkflowDefinition['edges'] = [];
  let prev = 'start';
  for (let i = 1; i <= steps; i++) {
    const id = `n${i}`;
    nodes.push(
      i % 2
        ? {
            id,
            type: 'http.request',
            position: { x: 0, y: i * 80 },
            config: { method: 'POST', url: `${url}/rec`, body: { i } },
          }
        : {
            id,
            type: 'transform',
            position: { x: 0, y: i * 80 },
            config: { value: { i, prev: `{{ steps.${prev}.output }}` } },
          },
    );
    edges.push({ id: `e${i}`, source: prev, target: id });
    prev = id;
  }
  return { schemaVersion: 1, name: 'recording', nodes, edges } as WorkflowDefinition;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
