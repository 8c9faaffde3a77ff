import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parse } from 'yaml';

// The Serverless Workflow conformance scenarios (fixtures/serverless-workflow/scenarios.yaml) and
// the local HTTP server their `call: http` tasks talk to; shared by the sw-run and the API suites.

export interface Scenario {
  name: string;
  input: unknown;
  workflow: Record<string, unknown>;
  then: { output?: unknown; error?: Record<string, unknown> };
  /** Files written next to the workflow (local OpenAPI documents), by name. */
  files?: Record<string, unknown>;
}

export function loadScenarios(base: string): Scenario[] {
  const file = path.join(import.meta.dirname, '..', 'fixtures', 'serverless-workflow', 'scenarios.yaml');
  return parse(fs.readFileSync(file, 'utf8').replaceAll('__BASE__', base)) as Scenario[];
}

/** /echo answers what it got; /flaky/<key> fails twice per key, then answers; anything else is 404. */
export async function startScenarioServer(): Promise<{
  base: string;
  hits: string[];
  close(): Promise<void>;
}> {
  const flaky = new Map<string, number>();
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const u = new URL(req.url!, 'http://x');
      hits.push(u.pathname);
      const send = (status: number, v: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(v));
      };
      if (u.pathname === '/echo')
        return send(200, {
          method: req.method,
          query: Object.fromEntries(u.searchParams),
          ...(body ? { body: JSON.parse(body) } : {}),
        });
      if (u.pathname.startsWith('/pets/'))
        return send(200, { pet: u.pathname.split('/')[2], query: Object.fromEntries(u.searchParams) });
      if (u.pathname.startsWith('/flaky/')) {
        const n = (flaky.get(u.pathname) ?? 0) + 1;
        flaky.set(u.pathname, n);
        return n < 3 ? send(503, { error: 'try again' }) : send(200, { ok: true, attempts: n });
      }
      send(404, { error: 'not found' });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    hits,
    close: () => new Promise((r) => server.close(() => r())),
  };
}
