import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_DEMO_BODY_BYTES } from './demo-api';
import { startDemoServer } from './demo-server';
import { MAX_REQUEST_BODY_BYTES } from './limits';
import { routeFiles, routeMethods, routePath } from './testing/route-files';
import { closeProcessRuntime } from './testing/route-harness';

// Issue 14.2: every route has a body limit, and a body is refused while it streams in, before it
// is buffered. A streamed body counts the bytes the handler pulled, so "refused early" is measured,
// not assumed.

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'trellis-body-'));
process.env.TRELLIS_DATA_DIR = dataDir;
delete process.env.DATABASE_URL;
const TOKEN = 'body-limits-token-0123456789';
process.env.TRELLIS_API_TOKEN = TOKEN;

const CHUNK = 64 * 1024;

/** An endless body that counts what was read; it stops at `cap` bytes so a bug cannot hang the test. */
function countingStream(cap: number) {
  const chunk = new TextEncoder().encode(`[${'1,'.repeat(CHUNK / 2 - 1)}`.slice(0, CHUNK));
  const seen = { bytes: 0 };
  const stream = new ReadableStream<Uint8Array>({
    pull(c) {
      if (seen.bytes >= cap) return c.close();
      seen.bytes += chunk.length;
      c.enqueue(chunk);
    },
  });
  return { stream, seen };
}

afterAll(async () => {
  await closeProcessRuntime();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('every route with a body refuses one past its limit while streaming', () => {
  const files = routeFiles();
  const checked: string[] = [];
  for (const rf of files) {
    it(`${rf.rel}`, async () => {
      for (const [method, handler] of await routeMethods(rf)) {
        if (method === 'GET') continue;
        const values = Object.fromEntries(rf.params.map((p) => [p.name, p.catchAll ? ['summarize'] : 'x']));
        const url = `http://127.0.0.1:3999${routePath(rf, values)}`;
        const headers = {
          authorization: `Bearer ${TOKEN}`,
          'content-type': 'application/json',
          origin: 'http://127.0.0.1:3999',
        };
        // Declared too large: refused before the handler runs, whatever the route.
        const declared = await handler(
          new Request(url, {
            method,
            headers: { ...headers, 'content-length': String(MAX_REQUEST_BODY_BYTES + 1) },
          }),
          { params: Promise.resolve(values) },
        );
        expect(declared.status, `${method} ${rf.rel} declared`).toBe(413);
        // Streamed without a length: the route either refuses it (413) or never reads it; in both
        // cases it pulled at most its limit plus one chunk.
        const { stream, seen } = countingStream(MAX_REQUEST_BODY_BYTES * 4);
        const res = await handler(
          new Request(url, { method, headers, body: stream, duplex: 'half' } as RequestInit),
          { params: Promise.resolve(values) },
        );
        await res.body?.cancel();
        expect(res.status, `${method} ${rf.rel} streamed`).toBeLessThan(500);
        expect(seen.bytes, `${method} ${rf.rel} read ${seen.bytes} bytes`).toBeLessThanOrEqual(
          MAX_REQUEST_BODY_BYTES + 2 * CHUNK,
        );
        if (seen.bytes > CHUNK * 2) expect(res.status, `${method} ${rf.rel}`).toBe(413);
        checked.push(`${method} ${rf.rel} → ${res.status} after ${seen.bytes} B`);
      }
    }, 60_000);
  }
  afterAll(() => console.info(`[body-limits] ${checked.length} handlers:\n  ${checked.join('\n  ')}`));
});

describe('the public demo API', () => {
  it(`POST /api/demo/summarize and /notify refuse a body over MAX_DEMO_BODY_BYTES (${MAX_DEMO_BODY_BYTES}) after reading at most that`, async () => {
    const rf = routeFiles().find((r) => r.rel.startsWith('demo/'))!;
    const post = (await routeMethods(rf)).find(([m]) => m === 'POST')![1];
    for (const what of ['summarize', 'notify']) {
      const { stream, seen } = countingStream(200 * 1024 * 1024);
      const res = await post(
        new Request(`http://127.0.0.1:3999/api/demo/${what}`, {
          method: 'POST',
          body: stream,
          duplex: 'half',
        } as RequestInit),
        { params: Promise.resolve({ path: [what] }) },
      );
      expect(res.status).toBe(413);
      expect((await res.json()).error.code).toBe('payload_too_large');
      expect(seen.bytes).toBeLessThanOrEqual(MAX_DEMO_BODY_BYTES + 2 * CHUNK);
    }
    // A small body still works.
    const ok = await post(
      new Request('http://127.0.0.1:3999/api/demo/summarize', {
        method: 'POST',
        body: JSON.stringify({ text: 'One. Two. Three.' }),
      }),
      { params: Promise.resolve({ path: ['summarize'] }) },
    );
    expect(await ok.json()).toEqual({ summary: 'One. Two.', words: 3 });
  });

  it('the headless demo server: 12 parallel 50 MB uploads are refused with 413 without the memory to hold them', async () => {
    const demo = await startDemoServer();
    const { port } = new URL(demo.url);
    const UPLOAD = 50 * 1024 * 1024;
    const before = process.memoryUsage().rss;
    let peak = before;
    const sample = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
    const upload = () =>
      new Promise<{ status: number; sent: number }>((resolve, reject) => {
        const chunk = Buffer.alloc(CHUNK, 0x31);
        let sent = 0;
        const req = http.request({ host: '127.0.0.1', port, path: '/notify', method: 'POST' }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode ?? 0, sent }));
        });
        req.on('error', (e) => (sent > 0 ? resolve({ status: -1, sent }) : reject(e)));
        const write = () => {
          while (sent < UPLOAD) {
            sent += CHUNK;
            if (!req.write(chunk)) return void req.once('drain', write);
          }
          req.end();
        };
        write();
      });
    try {
      const results = await Promise.all(Array.from({ length: 12 }, upload));
      for (const r of results) {
        expect(r.status).toBe(413);
        // The server closed the connection instead of draining 50 MB.
        expect(r.sent).toBeLessThan(UPLOAD);
      }
    } finally {
      clearInterval(sample);
      await demo.close();
    }
    // 12 × 50 MB buffered would be 600 MB; the limit keeps the growth to buffers in flight.
    expect(peak - before).toBeLessThan(150 * 1024 * 1024);
  }, 60_000);
});
