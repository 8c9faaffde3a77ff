import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEngine } from '@/lib/engine/engine';
import { MemoryTraceStore } from '@/lib/engine/memory-trace-store';
import { wf } from '@/lib/engine/testing/harness';
import { startLocalServer, type LocalServer } from './testing/local-server';
import { createSandboxServices } from '@/lib/sandbox';

// SSRF end to end: through the engine, a refused request fails its step with ssrf_blocked and the
// reason written into the trace; the local server never sees it. Permitted explicitly, it passes.

let server: LocalServer;
beforeAll(async () => {
  server = await startLocalServer((_req, res) => res.end('{"ok":true}'));
});
afterAll(() => server.close());

const run = async (config: Record<string, unknown>) => {
  const store = new MemoryTraceStore();
  const engine = createEngine({ store, services: createSandboxServices() });
  const out = await engine.runToCompletion({
    definition: wf(
      [
        { id: 't', type: 'trigger.manual' },
        { id: 'h', type: 'http.request', config: { method: 'GET', ...config } },
      ],
      [['t', 'h']],
    ),
    input: {},
  });
  const steps = await store.listSteps(out.runId);
  return { out, step: steps.find((s) => s.nodeId === 'h')! };
};

describe('SSRF reasons in the trace', () => {
  const port = () => server.port;
  const refused = [
    () => `http://127.0.0.1:${port()}/`,
    () => `http://localhost:${port()}/`,
    () => `http://2130706433:${port()}/`,
    () => `http://x@127.0.0.1:${port()}/`,
    () => 'http://169.254.169.254/latest/meta-data/',
    () => 'http://metadata.google.internal/',
    () => `http://[::ffff:127.0.0.1]:${port()}/`,
    () => 'file:///etc/passwd',
  ];
  it.each(refused.map((u, i) => [i, u] as const))(
    'case %i is refused with ssrf_blocked and a reason',
    async (_i, url) => {
      const before = server.requests.length;
      const { out, step } = await run({ url: url() });
      expect(out.status).toBe('failed');
      expect(step.status).toBe('failed');
      const err = step.error as { code: string; message: string };
      expect(err.code).toBe('ssrf_blocked');
      expect(err.message.length).toBeGreaterThan(10);
      expect(server.requests.length).toBe(before);
    },
  );

  it('is allowed when the node allow-lists the host', async () => {
    const { out, step } = await run({
      url: `http://127.0.0.1:${port()}/`,
      allowHosts: [`127.0.0.1:${port()}`],
    });
    expect(out.status).toBe('succeeded');
    expect((step.output as { status: number }).status).toBe(200);
  });
});
